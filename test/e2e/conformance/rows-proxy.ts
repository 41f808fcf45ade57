import assert from 'node:assert/strict';
import { eventually } from '../http-client.ts';
import { get, parseRawResponse, proxyV1, proxyV2, rawExchange, rawGet, ROUTE_WAIT, routed } from './clients.ts';
import { BOTH, rendered, sha1 } from './row-helpers.ts';
import type { PlaneSupport, Row, RowContext } from './types.ts';

/** Section 1.3: environment variables of the proxy container (berth's own process and Docker: rows-engine.ts). */

const NGINX_CONFIG_ONLY = (what: string): PlaneSupport => ({
  unsupported: `${what} exists only in the nginx config; the Node data plane accepts the setting and ignores it`,
  expect: { kind: 'ignored', host: '' },
});

/** PROXY protocol v1 and v2 from a claimed client; a connection without the header is closed unanswered. */
async function proxyProtocol(ctx: RowContext, host: string): Promise<void> {
  for (const header of [proxyV1('198.51.100.7', 40000, '203.0.113.1', 8443), proxyV2('198.51.100.7', 40000, '203.0.113.1', 8443)]) {
    const seen = await eventually(async () => {
      const res = parseRawResponse((await rawExchange(ctx.proxy.port, Buffer.concat([Buffer.from(header), Buffer.from(rawGet(host))]))).data);
      assert.equal(res.status, 200, `with a PROXY header: status ${res.status}: ${res.body.slice(0, 200)}`);
      return JSON.parse(res.body) as { headers: Record<string, string> };
    }, ROUTE_WAIT);
    assert.equal(seen.headers['x-forwarded-for'], '198.51.100.7', 'X-Forwarded-For is $proxy_protocol_addr');
    assert.equal(seen.headers['x-forwarded-port'], '8443', 'X-Forwarded-Port is $proxy_protocol_server_port');
  }
  const plain = await rawExchange(ctx.proxy.port, rawGet(host));
  assert.deepEqual([plain.closed, plain.data], [true, ''], 'a request without a PROXY header is closed without a response');
}

export const PROXY_ROWS: readonly Row[] = [
  {
    id: 'default-host',
    section: '1.3',
    setting: 'DEFAULT_HOST',
    nginxProxy: 'That host\'s server is `default_server`: requests for unknown hosts reach it instead of the 503 fallback',
    planes: BOTH,
    scenario: (n) => ({
      proxyEnv: { DEFAULT_HOST: n.domain },
      containers: [{ key: 'app', env: { VIRTUAL_HOST: n.domain, NAME: 'default' } }],
      requests: [
        { host: n.domain, expect: { status: 200, echo: { name: 'default' } } },
        { host: n.host('unknown'), expect: { status: 200, echo: { name: 'default' } } },
      ],
    }),
  },
  {
    id: 'trust-downstream-proxy-true',
    section: '1.3',
    setting: 'TRUST_DOWNSTREAM_PROXY=true (default)',
    nginxProxy: 'Client X-Forwarded-Proto/Host/Port pass through; X-Forwarded-For is appended to',
    planes: BOTH,
    scenario: (n) => ({
      containers: [{ key: 'app', env: { VIRTUAL_HOST: n.domain } }],
      requests: [
        {
          host: n.domain,
          headers: { 'x-forwarded-for': '203.0.113.9', 'x-forwarded-proto': 'https', 'x-forwarded-host': 'front.example', 'x-forwarded-port': '8443' },
          expect: {
            status: 200,
            echoHeaders: { 'x-forwarded-for': '203.0.113.9, 127.0.0.1', 'x-forwarded-proto': 'https', 'x-forwarded-host': 'front.example', 'x-forwarded-port': '8443', 'x-forwarded-ssl': 'on', 'x-real-ip': '127.0.0.1' },
          },
        },
      ],
    }),
  },
  {
    id: 'trust-downstream-proxy-false',
    section: '1.3',
    setting: 'TRUST_DOWNSTREAM_PROXY=false',
    nginxProxy: 'X-Forwarded-Proto/Host/Port are overwritten with $scheme/$host/$server_port; X-Forwarded-For is $remote_addr',
    planes: BOTH,
    scenario: (n) => ({
      proxyEnv: { TRUST_DOWNSTREAM_PROXY: 'false' },
      containers: [{ key: 'app', env: { VIRTUAL_HOST: n.domain } }],
      check: async (ctx) => {
        const headers = { 'x-forwarded-for': '203.0.113.9', 'x-forwarded-proto': 'https', 'x-forwarded-host': 'front.example', 'x-forwarded-port': '8443' };
        const seen = (await routed(ctx, n.domain, '/', { headers })).headers;
        assert.deepEqual(
          [seen['x-forwarded-for'], seen['x-forwarded-proto'], seen['x-forwarded-host'], seen['x-forwarded-port'], seen['x-forwarded-ssl']],
          ['127.0.0.1', 'http', n.domain, String(ctx.proxy.port), 'off'],
        );
      },
    }),
  },
  {
    id: 'enable-ipv6',
    section: '1.3',
    setting: 'ENABLE_IPV6=true',
    nginxProxy: '`listen [::]:<port>` twins: clients reach the proxy over IPv6',
    planes: BOTH,
    scenario: (n) => ({
      proxyEnv: { ENABLE_IPV6: 'true' },
      containers: [{ key: 'app', env: { VIRTUAL_HOST: n.domain } }],
      requests: [
        { host: n.domain, address: '::1', expect: { status: 200, echoHeaders: { 'x-real-ip': '::1', 'x-forwarded-for': '::1' } } },
        { host: n.domain, expect: { status: 200 } },
      ],
    }),
  },
  {
    id: 'enable-ipv6-off-by-default',
    section: '1.3',
    setting: 'ENABLE_IPV6 unset',
    nginxProxy: 'No IPv6 listener: a client connecting to [::1] is refused',
    planes: BOTH,
    scenario: (n) => ({
      containers: [{ key: 'app', env: { VIRTUAL_HOST: n.domain } }],
      check: async (ctx) => {
        await routed(ctx, n.domain);
        await assert.rejects(get(ctx, n.domain, '/', { address: '::1' }), /ECONNREFUSED/);
      },
    }),
  },
  {
    id: 'prefer-ipv6-network',
    section: '1.3',
    setting: 'PREFER_IPV6_NETWORK=true',
    nginxProxy: 'A dual-stack backend is reached on its IPv6 address (never both)',
    planes: BOTH,
    scenario: (n) => ({
      proxyEnv: { PREFER_IPV6_NETWORK: 'true' },
      networks: [{ key: 'dual', args: ['--ipv6', '--subnet', 'fd00:dead:beef::/64'] }],
      containers: [{ key: 'app', env: { VIRTUAL_HOST: n.domain }, networks: ['dual'] }],
      requests: [{ host: n.domain, expect: { status: 200, echo: { remoteAddress: /^fd00:dead:beef:/ } } }],
    }),
  },
  {
    id: 'prefer-ipv6-network-off',
    section: '1.3',
    setting: 'PREFER_IPV6_NETWORK unset',
    nginxProxy: 'A dual-stack backend is reached on its IPv4 address',
    planes: BOTH,
    scenario: (n) => ({
      networks: [{ key: 'dual', args: ['--ipv6', '--subnet', 'fd00:dead:bee2::/64'] }],
      containers: [{ key: 'app', env: { VIRTUAL_HOST: n.domain }, networks: ['dual'] }],
      requests: [{ host: n.domain, expect: { status: 200, echo: { remoteAddress: /^\d+\.\d+\.\d+\.\d+$/ } } }],
    }),
  },
  {
    id: 'enable-proxy-protocol',
    section: '1.3',
    setting: 'ENABLE_PROXY_PROTOCOL=true',
    nginxProxy: '`proxy_protocol` on every listen: connections must start with a PROXY header; X-Forwarded-For/-Port come from it',
    planes: BOTH,
    scenario: (n) => ({
      proxyEnv: { ENABLE_PROXY_PROTOCOL: 'true' },
      containers: [{ key: 'app', env: { VIRTUAL_HOST: n.domain } }],
      check: (ctx) => proxyProtocol(ctx, n.domain),
    }),
  },
  {
    id: 'debug-endpoint',
    section: '1.3',
    setting: 'DEBUG_ENDPOINT=true',
    nginxProxy: 'Every host answers `/nginx-proxy-debug` with the debug JSON',
    planes: BOTH,
    scenario: (n) => ({
      proxyEnv: { DEBUG_ENDPOINT: 'true' },
      containers: [{ key: 'app', env: { VIRTUAL_HOST: n.domain } }],
      check: async (ctx) => {
        await routed(ctx, n.domain);
        const res = await get(ctx, n.domain, '/nginx-proxy-debug');
        assert.equal(res.status, 200, res.body.slice(0, 300));
        const json = JSON.parse(res.body) as { global?: Record<string, unknown>; vhost?: { hostname?: string } };
        assert.equal(json.vhost?.hostname, n.domain);
        assert.equal(json.global?.['enable_debug_endpoint'], 'true');
      },
    }),
  },
  {
    id: 'sha1-upstream-name',
    section: '1.3',
    setting: 'SHA1_UPSTREAM_NAME=true',
    nginxProxy: 'Upstream blocks are named sha1(hostname) instead of the hostname',
    planes: { node: NGINX_CONFIG_ONLY('an upstream name'), nginx: 'supported' },
    scenario: (n) => ({
      proxyEnv: { SHA1_UPSTREAM_NAME: 'true' },
      containers: [{ key: 'app', env: { VIRTUAL_HOST: n.domain } }],
      check: async (ctx) => {
        await routed(ctx, n.domain);
        const text = await rendered(ctx);
        assert.match(text, new RegExp(`upstream ${sha1(n.domain)}\\b`), 'upstream named sha1(host)');
        assert.doesNotMatch(text, new RegExp(`upstream ${n.domain.replace(/\./g, '\\.')}\\b`));
      },
    }),
  },
  {
    id: 'resolvers',
    section: '1.3',
    setting: 'RESOLVERS',
    nginxProxy: 'Written verbatim as `resolver <value>;` (default: the nameservers of /etc/resolv.conf)',
    planes: { node: NGINX_CONFIG_ONLY('a resolver directive'), nginx: 'supported' },
    scenario: (n) => ({
      proxyEnv: { RESOLVERS: '127.0.0.11 valid=10s' },
      containers: [{ key: 'app', env: { VIRTUAL_HOST: n.domain } }],
      check: async (ctx) => {
        await routed(ctx, n.domain);
        assert.match(await rendered(ctx), /resolver 127\.0\.0\.11 valid=10s;/);
      },
    }),
  },
];

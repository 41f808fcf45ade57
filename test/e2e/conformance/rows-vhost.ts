import assert from 'node:assert/strict';
import { answers, gatewayOf, get, getFromContainer, once, parseRawResponse, rawExchange, routed } from './clients.ts';
import { BOTH, issueLogged } from './row-helpers.ts';
import type { Row, RowContext } from './types.ts';

/**
 * Section 1.1 per-host and per-path settings: NETWORK_ACCESS, SERVER_TOKENS, EXTERNAL_HTTP_PORT, and the rule for
 * replicas that disagree.
 *
 * An "external" client: a container on a network whose subnet is public address space (TEST-NET-3/2, reserved
 * for documentation; not TEST-NET-1, which is this machine's own eth0 network), calling berth on that network's gateway, i.e. the host. berth sees the
 * container's public-looking address, as it would see a client from the internet.
 */

async function fromOutside(ctx: RowContext, host: string): Promise<{ status: number; body: string }> {
  const client = ctx.container('client').name;
  const gateway = await gatewayOf(client, ctx.network('public'));
  return getFromContainer(client, `http://${gateway}:${ctx.proxy.port}/`, host);
}

export const VHOST_ROWS: readonly Row[] = [
  {
    id: 'network-access-internal',
    section: '1.1',
    setting: 'NETWORK_ACCESS=internal',
    nginxProxy: '`include network_internal.conf`: clients from 127/8, 10/8, 172.16/12, 192.168/16, fc00::/7 get through, others 403',
    planes: BOTH,
    scenario: (n) => ({
      networks: [{ key: 'public', args: ['--subnet', '203.0.113.0/26'] }],
      containers: [
        { key: 'app', env: { VIRTUAL_HOST: n.domain, NETWORK_ACCESS: 'internal', NAME: 'internal' } },
        { key: 'client', networks: ['public'] },
      ],
      check: async (ctx) => {
        assert.equal((await routed(ctx, n.domain)).name, 'internal', 'a loopback client gets through');
        const outside = await fromOutside(ctx, n.domain);
        assert.equal(outside.status, 403, `a client from 203.0.113.x: ${outside.status} ${outside.body.slice(0, 200)}`);
      },
    }),
  },
  {
    id: 'network-access-external',
    section: '1.1',
    setting: 'NETWORK_ACCESS=external (default)',
    nginxProxy: 'No restriction: any client gets through',
    planes: BOTH,
    scenario: (n) => ({
      networks: [{ key: 'public', args: ['--subnet', '198.51.100.0/24'] }],
      containers: [
        { key: 'app', env: { VIRTUAL_HOST: n.domain, NAME: 'external' } },
        { key: 'client', networks: ['public'] },
      ],
      check: async (ctx) => {
        await routed(ctx, n.domain);
        const outside = await fromOutside(ctx, n.domain);
        assert.equal(outside.status, 200, `a client from 198.51.100.x: ${outside.status} ${outside.body.slice(0, 200)}`);
        const seen = JSON.parse(outside.body) as { headers: Record<string, string> };
        assert.match(seen.headers['x-real-ip'] ?? '', /^198\.51\.100\.\d+$/, 'the backend sees the external client address');
      },
    }),
  },
  {
    id: 'server-tokens',
    section: '1.1',
    setting: 'SERVER_TOKENS=off',
    nginxProxy: '`server_tokens off` in the host\'s server block: the Server header carries no version',
    planes: { node: { supported: 'the Node data plane never announces a version, whatever SERVER_TOKENS says' }, nginx: 'supported' },
    scenario: (n) => ({
      containers: [{ key: 'app', env: { VIRTUAL_HOST: n.domain, SERVER_TOKENS: 'off' } }],
      requests: [
        { host: n.domain, expect: { status: 200, headers: { server: /^[^0-9]*$/ } } },
        { host: n.domain, path: '/?status=500', expect: { status: 500, headers: { server: /^[^0-9]*$/ } } },
      ],
    }),
  },
  {
    id: 'external-http-port',
    section: '1.1',
    setting: 'EXTERNAL_HTTP_PORT',
    nginxProxy: 'The host listens on that port instead of HTTP_PORT; the 503 fallback covers unknown hosts on the global port only',
    planes: BOTH,
    scenario: (n) => ({
      containers: [{ key: 'app', env: { VIRTUAL_HOST: n.domain, EXTERNAL_HTTP_PORT: String(n.port('external')) } }],
      check: async (ctx) => {
        const seen = await routed(ctx, n.domain, '/', { port: n.port('external') });
        assert.equal(seen.headers['host'], `${n.domain}:${n.port('external')}`);
        assert.equal(seen.headers['x-forwarded-port'], String(n.port('external')));
        assert.equal((await get(ctx, n.domain)).status, 503, 'the host is not served on HTTP_PORT');
      },
    }),
  },
  {
    id: 'setting-conflict',
    section: '1.1',
    setting: 'Replicas of one host/path that disagree on a setting',
    nginxProxy: 'Undefined: one value wins at random (Go map order). berth: the earliest-created container that sets it wins, a WARN_SETTING_CONFLICT names the others',
    planes: BOTH,
    scenario: (n) => ({
      containers: [
        { key: 'first', env: { VIRTUAL_HOST: n.domain, VIRTUAL_PATH: '/c/', VIRTUAL_DEST: '/', NAME: 'first' } },
        { key: 'second', env: { VIRTUAL_HOST: n.domain, VIRTUAL_PATH: '/c/', VIRTUAL_DEST: '/other/', NAME: 'second' } },
      ],
      check: async (ctx) => {
        await routed(ctx, n.domain, '/c/x');
        const seen = new Set<string>();
        for (let i = 0; i < 8; i += 1) {
          const reply = await once(ctx, n.domain, '/c/x');
          assert.equal(reply.url, '/x', `the first container's VIRTUAL_DEST applies to the whole path (${reply.name} got ${reply.url})`);
          seen.add(reply.name);
        }
        assert.deepEqual([...seen].sort(), ['first', 'second'], 'both replicas serve the path');
        await issueLogged(ctx, 'second', 'WARN_SETTING_CONFLICT', 'VIRTUAL_DEST');
      },
    }),
  },
  {
    id: 'unknown-host-503',
    section: '1.5',
    setting: 'Unknown host (no match)',
    nginxProxy: 'The fallback server answers 503 for any Host no container claims, and for requests by raw IP',
    planes: BOTH,
    scenario: (n) => ({
      containers: [{ key: 'app', env: { VIRTUAL_HOST: n.domain } }],
      check: async (ctx) => {
        await routed(ctx, n.domain);
        await answers(ctx, n.host('nobody'), 503);
        await answers(ctx, '127.0.0.1', 503);
      },
    }),
  },
  {
    id: 'invalid-host-header-400',
    section: '1.5',
    setting: 'Two Host header lines, or an empty Host',
    nginxProxy: 'nginx answers 400 and closes the connection before choosing a server (RFC 9112 section 3.2)',
    planes: BOTH,
    scenario: (n) => ({
      containers: [{ key: 'app', env: { VIRTUAL_HOST: n.domain } }],
      check: async (ctx) => {
        await routed(ctx, n.domain);
        const requests = [`GET / HTTP/1.1\r\nHost: ${n.domain}\r\nHost: ${n.host('other')}\r\n\r\n`, 'GET / HTTP/1.1\r\nHost: \r\n\r\n'];
        for (const request of requests) {
          const answer = await rawExchange(ctx.proxy.port, request);
          assert.equal(parseRawResponse(answer.data).status, 400, `400 for ${JSON.stringify(request)}`);
          assert.ok(answer.closed, `connection closed after the 400 for ${JSON.stringify(request)}`);
        }
      },
    }),
  },
];

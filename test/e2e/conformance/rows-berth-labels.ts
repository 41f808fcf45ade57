import assert from 'node:assert/strict';
import { gatewayOf, get, getFromContainer, names, once, routed } from './clients.ts';
import { BOTH, issueLogged } from './row-helpers.ts';
import type { PlaneSupport, Row } from './types.ts';

/**
 * berth's own label for every container setting (berth.host, berth.port, ...): what nginx-proxy users write as env,
 * for people who prefer labels. The label wins over the env var; differing values are a WARN_SETTING_CONFLICT.
 */

const NOT_NGINX_PROXY = 'None: berth\'s own label';

export const BERTH_LABEL_ROWS: readonly Row[] = [
  {
    id: 'berth-labels-host-port-path',
    section: '1.2',
    setting: '`berth.host`, `berth.port`, `berth.path`',
    nginxProxy: `${NOT_NGINX_PROXY} (VIRTUAL_HOST, VIRTUAL_PORT, VIRTUAL_PATH as labels)`,
    planes: BOTH,
    scenario: (n) => ({
      containers: [{ key: 'app', labels: { 'berth.host': `${n.host('a')},*.${n.host('w')}`, 'berth.port': '8080', 'berth.path': '/lbl/' }, env: { PORTS: '8080' }, expose: [8080] }],
      requests: [
        { host: n.host('a'), path: '/lbl/x', expect: { status: 200, echo: { port: 8080, url: '/lbl/x' } } },
        { host: n.host('x.w'), path: '/lbl/y', expect: { status: 200, echo: { port: 8080 } } },
        { host: n.host('a'), path: '/', expect: { status: 404 } },
      ],
    }),
  },
  {
    id: 'berth-labels-dest-proto',
    section: '1.2',
    setting: '`berth.dest`, `berth.proto`',
    nginxProxy: `${NOT_NGINX_PROXY} (VIRTUAL_DEST, VIRTUAL_PROTO as labels)`,
    planes: BOTH,
    scenario: (n) => ({
      containers: [{ key: 'app', labels: { 'berth.host': n.domain, 'berth.path': '/p/', 'berth.dest': '/', 'berth.proto': 'https', 'berth.port': '443' }, env: { HTTPS_PORT: '443' } }],
      requests: [{ host: n.domain, path: '/p/x', expect: { status: 200, echo: { url: '/x', tls: true, port: 443 } } }],
    }),
  },
  {
    id: 'berth-label-multiports',
    section: '1.2',
    setting: '`berth.multiports`',
    nginxProxy: `${NOT_NGINX_PROXY} (VIRTUAL_HOST_MULTIPORTS as a label)`,
    planes: BOTH,
    scenario: (n) => ({
      containers: [{ key: 'app', labels: { 'berth.multiports': JSON.stringify({ [n.domain]: { '/': { port: 8080 } } }) }, env: { PORTS: '8080' }, expose: [8080] }],
      requests: [{ host: n.domain, expect: { status: 200, echo: { port: 8080 } } }],
    }),
  },
  {
    id: 'berth-labels-host-settings',
    section: '1.2',
    setting: '`berth.external-http-port`, `berth.server-tokens`, `berth.debug-endpoint`',
    nginxProxy: `${NOT_NGINX_PROXY} (EXTERNAL_HTTP_PORT, SERVER_TOKENS, the debug-endpoint label)`,
    planes: BOTH,
    scenario: (n) => ({
      containers: [
        {
          key: 'app',
          labels: { 'berth.host': n.domain, 'berth.external-http-port': String(n.port('external')), 'berth.server-tokens': 'off', 'berth.debug-endpoint': 'true' },
        },
      ],
      check: async (ctx) => {
        const port = n.port('external');
        await routed(ctx, n.domain, '/', { port });
        assert.equal((await get(ctx, n.domain)).status, 503, 'not on HTTP_PORT');
        const res = await get(ctx, n.domain, '/', { port });
        assert.match(String(res.headers['server'] ?? ''), /^[^0-9]*$/, 'server_tokens off');
        const debug = await get(ctx, n.domain, '/nginx-proxy-debug', { port });
        assert.equal(debug.status, 200, debug.body.slice(0, 200));
        assert.equal((JSON.parse(debug.body) as { vhost?: { hostname?: string } }).vhost?.hostname, n.domain);
      },
    }),
  },
  {
    id: 'berth-labels-path-settings',
    section: '1.2',
    setting: '`berth.network-access`, `berth.keepalive`, `berth.loadbalance`',
    nginxProxy: `${NOT_NGINX_PROXY} (NETWORK_ACCESS, the keepalive and loadbalance labels)`,
    planes: BOTH,
    scenario: (n) => {
      const labels = { 'berth.host': n.domain, 'berth.network-access': 'internal', 'berth.keepalive': 'disabled', 'berth.loadbalance': 'hash $remote_addr;' };
      return {
        networks: [{ key: 'public', args: ['--subnet', '203.0.113.64/26'] }],
        containers: [
          { key: 'r1', labels, env: { NAME: 'r1' } },
          { key: 'r2', labels, env: { NAME: 'r2' } },
          { key: 'client', networks: ['public'] },
        ],
        check: async (ctx) => {
          const first = await routed(ctx, n.domain);
          assert.equal(first.headers['connection'], 'close', 'keepalive disabled');
          const seen = await names(ctx, n.domain, 8);
          assert.equal(new Set(seen).size, 1, `hash $remote_addr: one backend for one client (${seen.join(',')})`);
          const client = ctx.container('client').name;
          const gateway = await gatewayOf(client, ctx.network('public'));
          const outside = await getFromContainer(client, `http://${gateway}:${ctx.proxy.port}/`, n.domain);
          assert.equal(outside.status, 403, `network-access internal: a client from 203.0.113.64/26 got ${outside.status}`);
        },
      };
    },
  },
  {
    id: 'berth-label-root',
    section: '1.2',
    setting: '`berth.root`',
    nginxProxy: `${NOT_NGINX_PROXY} (VIRTUAL_ROOT as a label)`,
    planes: {
      node: {
        unsupported: 'the Node data plane does not speak fastcgi: use BERTH_MODE=nginx',
        expect: { kind: 'not-routed', container: 'app', code: 'ERR_SETTING_UNSUPPORTED', setting: 'berth.proto', host: '' },
      } satisfies PlaneSupport,
      nginx: 'supported',
    },
    scenario: (n) => ({
      containers: [{ key: 'app', labels: { 'berth.host': n.domain, 'berth.proto': 'fastcgi', 'berth.port': '9000', 'berth.root': '/srv/label' }, env: { FASTCGI_PORT: '9000' } }],
      check: async (ctx) => {
        const params = (await routed(ctx, n.domain, '/i.php'))['params'] as Record<string, string>;
        assert.equal(params['DOCUMENT_ROOT'], '/srv/label');
      },
    }),
  },
  {
    id: 'berth-label-wins-over-env',
    section: '1.2',
    setting: 'berth label and env var both set, with different values',
    nginxProxy: `${NOT_NGINX_PROXY}: the label wins and a WARN_SETTING_CONFLICT names both`,
    planes: BOTH,
    scenario: (n) => ({
      containers: [{ key: 'app', labels: { 'berth.port': '8080' }, env: { VIRTUAL_HOST: n.domain, VIRTUAL_PORT: '80', PORTS: '8080' }, expose: [8080] }],
      check: async (ctx) => {
        assert.equal((await routed(ctx, n.domain)).port, 8080);
        const warning = await issueLogged(ctx, 'app', 'WARN_SETTING_CONFLICT', 'berth.port');
        assert.match(JSON.stringify(warning), /VIRTUAL_PORT/);
        await once(ctx, n.domain);
      },
    }),
  },
];

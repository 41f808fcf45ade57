import assert from 'node:assert/strict';
import { upgradeEcho } from '../http-client.ts';
import { grpcUntil, once, routed } from './clients.ts';
import { BOTH } from './row-helpers.ts';
import type { PlaneSupport, Row } from './types.ts';

/** Section 1.1 VIRTUAL_PROTO in every form, and VIRTUAL_ROOT. Backends: docker/echo (HTTPS_PORT, GRPC_PORT...). */

function nodeCannot(proto: 'uwsgi' | 'fastcgi'): PlaneSupport {
  return {
    unsupported: `the Node data plane does not speak ${proto}: use BERTH_MODE=nginx`,
    expect: { kind: 'not-routed', container: 'app', code: 'ERR_SETTING_UNSUPPORTED', setting: 'VIRTUAL_PROTO', host: '' },
  };
}

const GRPC_NGINX_SHARED: PlaneSupport = {
  unsupported: 'nginx 1.22 cannot serve HTTP/1 and h2c on one port: give a gRPC host its own EXTERNAL_HTTP_PORT',
  expect: { kind: 'not-routed', container: 'app', code: 'ERR_SETTING_UNSUPPORTED', setting: 'VIRTUAL_PROTO' },
};

/** Unary call through berth, then the failing method: what a gRPC client sees. */
async function grpcWorks(port: number, host: string, tls: boolean): Promise<void> {
  const ok = await grpcUntil(port, host, '/echo.Echo/Say', '0', { 'x-conformance': 'metadata' });
  assert.equal(ok.status, 200);
  const reply = ok.reply ?? {};
  assert.equal(reply['message'], 'hello berth', 'the backend got the request message');
  assert.equal(reply['tls'], tls, tls ? 'grpcs: TLS to the backend' : 'grpc: cleartext to the backend');
  const metadata = (reply['metadata'] ?? {}) as Record<string, string>;
  assert.equal(metadata['x-conformance'], 'metadata', 'request metadata reaches the backend');
  assert.equal(metadata['x-real-ip'], '127.0.0.1', 'grpc_set_header X-Real-IP $remote_addr');
  const failed = await grpcUntil(port, host, '/echo.Echo/Fail', '13');
  assert.equal(failed.grpcMessage, 'echo: failing on purpose', 'trailers reach the client');
}

export const PROTO_ROWS: readonly Row[] = [
  {
    id: 'virtual-proto-http',
    section: '1.1',
    setting: 'VIRTUAL_PROTO=http',
    nginxProxy: 'The default: `proxy_pass http://...`',
    planes: BOTH,
    scenario: (n) => ({
      containers: [{ key: 'app', env: { VIRTUAL_HOST: n.domain, VIRTUAL_PROTO: 'http' } }],
      requests: [{ host: n.domain, expect: { status: 200, echo: { tls: false } } }],
    }),
  },
  {
    id: 'virtual-proto-https',
    section: '1.1',
    setting: 'VIRTUAL_PROTO=https',
    nginxProxy: '`proxy_pass https://...`: TLS to the backend, certificate not verified, no SNI sent (nginx defaults)',
    planes: BOTH,
    scenario: (n) => ({
      containers: [{ key: 'app', env: { VIRTUAL_HOST: n.domain, VIRTUAL_PROTO: 'https', VIRTUAL_PORT: '443', HTTPS_PORT: '443' }, expose: [443] }],
      requests: [{ host: n.domain, path: '/s?x=1', expect: { status: 200, echo: { tls: true, servername: null, port: 443, url: '/s?x=1' } } }],
    }),
  },
  {
    id: 'virtual-proto-https-websocket',
    section: '1.1',
    setting: 'VIRTUAL_PROTO=https (WebSocket)',
    nginxProxy: '`proxy_pass https://...` with the Upgrade/Connection headers: WebSocket over TLS to the backend',
    planes: BOTH,
    scenario: (n) => ({
      // The echo image answers Upgrade on its HTTPS listener too (docker/echo/protocols.mjs): port 443 speaks only TLS.
      containers: [{ key: 'app', env: { VIRTUAL_HOST: n.domain, VIRTUAL_PROTO: 'https', VIRTUAL_PORT: '443', HTTPS_PORT: '443' }, expose: [443] }],
      requests: [{ host: n.domain, expect: { status: 200, echo: { tls: true, port: 443 } } }],
      check: async (ctx) => {
        const payload = Buffer.from(`websocket over TLS ${n.run}`);
        const result = await upgradeEcho(ctx.proxy.port, n.domain, payload, { path: '/ws?x=1' });
        assert.equal(result.status, 101, `Upgrade through the proxy: ${result.statusLine}`);
        assert.equal(result.headers['upgrade'], 'websocket');
        assert.equal(result.echoed.toString('latin1'), payload.toString('latin1'), 'bytes echoed through the TLS tunnel');
      },
    }),
  },
  {
    id: 'virtual-proto-grpc',
    section: '1.1',
    setting: 'VIRTUAL_PROTO=grpc (host on its own EXTERNAL_HTTP_PORT)',
    nginxProxy: '`grpc_pass grpc://...` + `grpc_set_header X-Real-IP`; clients speak HTTP/2 (h2c) to the proxy',
    planes: BOTH,
    scenario: (n) => ({
      containers: [{ key: 'app', env: { VIRTUAL_HOST: n.domain, VIRTUAL_PROTO: 'grpc', VIRTUAL_PORT: '50051', GRPC_PORT: '50051', EXTERNAL_HTTP_PORT: String(n.port('grpc')) } }],
      check: () => grpcWorks(n.port('grpc'), n.domain, false),
    }),
  },
  {
    id: 'virtual-proto-grpc-shared-port',
    section: '1.1',
    setting: 'VIRTUAL_PROTO=grpc (host on the shared HTTP_PORT)',
    nginxProxy: 'nginx >= 1.25.1 serves h2c and HTTP/1 on one port (`http2 on`): gRPC on port 80 next to HTTP hosts',
    planes: { node: { supported: 'h2c is detected per connection: gRPC and HTTP/1 share every port' }, nginx: GRPC_NGINX_SHARED },
    scenario: (n) => ({
      containers: [
        { key: 'app', env: { VIRTUAL_HOST: n.domain, VIRTUAL_PROTO: 'grpc', VIRTUAL_PORT: '50051', GRPC_PORT: '50051' } },
        // An HTTP/1 host on the same port: what makes the port shared (the table has others, but a row stands alone).
        { key: 'web', env: { VIRTUAL_HOST: `web.${n.domain}` } },
      ],
      check: async (ctx) => {
        await routed(ctx, `web.${n.domain}`);
        await grpcWorks(ctx.proxy.port, n.domain, false);
      },
    }),
  },
  {
    id: 'virtual-proto-grpcs',
    section: '1.1',
    setting: 'VIRTUAL_PROTO=grpcs',
    nginxProxy: '`grpc_pass grpcs://...`: gRPC over TLS to the backend, clients speak h2c to the proxy',
    planes: BOTH,
    scenario: (n) => ({
      containers: [{ key: 'app', env: { VIRTUAL_HOST: n.domain, VIRTUAL_PROTO: 'grpcs', VIRTUAL_PORT: '50052', GRPCS_PORT: '50052', EXTERNAL_HTTP_PORT: String(n.port('grpcs')) } }],
      check: () => grpcWorks(n.port('grpcs'), n.domain, true),
    }),
  },
  {
    id: 'virtual-proto-uwsgi',
    section: '1.1',
    setting: 'VIRTUAL_PROTO=uwsgi',
    nginxProxy: '`include uwsgi_params; uwsgi_pass ...`',
    planes: { node: nodeCannot('uwsgi'), nginx: 'supported' },
    scenario: (n) => ({
      containers: [{ key: 'app', env: { VIRTUAL_HOST: n.domain, VIRTUAL_PROTO: 'uwsgi', VIRTUAL_PORT: '3031', UWSGI_PORT: '3031' } }],
      check: async (ctx) => {
        const reply = await routed(ctx, n.domain, '/u/x?q=1');
        assert.equal(reply['proto'], 'uwsgi');
        const vars = reply['vars'] as Record<string, string>;
        assert.equal(vars['REQUEST_URI'], '/u/x?q=1');
        assert.equal(vars['REQUEST_METHOD'], 'GET');
        assert.equal(vars['QUERY_STRING'], 'q=1');
        assert.match(vars['HTTP_HOST'] ?? '', new RegExp(`^${n.domain.replace(/\./g, '\\.')}`));
      },
    }),
  },
  {
    id: 'virtual-proto-fastcgi',
    section: '1.1',
    setting: 'VIRTUAL_PROTO=fastcgi',
    nginxProxy: '`include fastcgi.conf; root $VIRTUAL_ROOT; fastcgi_pass ...; fastcgi_keep_conn on` (unless keepalive disabled)',
    planes: { node: nodeCannot('fastcgi'), nginx: 'supported' },
    scenario: (n) => ({
      containers: [{ key: 'app', env: { VIRTUAL_HOST: n.domain, VIRTUAL_PROTO: 'fastcgi', VIRTUAL_PORT: '9000', FASTCGI_PORT: '9000' } }],
      check: async (ctx) => {
        const reply = await routed(ctx, n.domain, '/index.php?x=1');
        assert.equal(reply['proto'], 'fastcgi');
        const params = reply['params'] as Record<string, string>;
        assert.equal(params['SCRIPT_FILENAME'], '/var/www/public/index.php');
        assert.equal(params['DOCUMENT_ROOT'], '/var/www/public');
        assert.equal(params['REQUEST_URI'], '/index.php?x=1');
        assert.equal(reply['keepConn'], true, 'fastcgi_keep_conn on');
        const reused: number[] = [];
        for (let i = 0; i < 6; i += 1) reused.push(Number((await once(ctx, n.domain, '/index.php'))['requestOnConnection']));
        assert.ok(reused.some((r) => r > 1), `no FastCGI connection was reused: ${reused.join(',')}`);
      },
    }),
  },
  {
    id: 'virtual-root',
    section: '1.1',
    setting: 'VIRTUAL_ROOT',
    nginxProxy: '`root` for fastcgi hosts (DOCUMENT_ROOT, SCRIPT_FILENAME); default `/var/www/public`',
    planes: { node: nodeCannot('fastcgi'), nginx: 'supported' },
    scenario: (n) => ({
      containers: [{ key: 'app', env: { VIRTUAL_HOST: n.domain, VIRTUAL_PROTO: 'fastcgi', VIRTUAL_PORT: '9000', FASTCGI_PORT: '9000', VIRTUAL_ROOT: '/srv/app' } }],
      check: async (ctx) => {
        const params = (await routed(ctx, n.domain, '/index.php'))['params'] as Record<string, string>;
        assert.equal(params['DOCUMENT_ROOT'], '/srv/app');
        assert.equal(params['SCRIPT_FILENAME'], '/srv/app/index.php');
      },
    }),
  },
];

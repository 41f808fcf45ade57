import assert from 'node:assert/strict';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { after, before, describe, it } from 'node:test';
import { newRoute, newVirtualHost, type Route, type RoutingTable, type Upstream } from '../routing-table.ts';
import { send, startBackend, startEchoBackend, startPlane, upstream, waitFor, type Backend, type TestPlane } from './test-harness.ts';

/**
 * The request path against real backends: VIRTUAL_DEST, nginx URI normalisation and auto-redirect, DEFAULT_ROOT,
 * the debug endpoint, gRPC routes reached over HTTP/1, keepalive modes, https backends, balancing, access log.
 */

interface Echo {
  name: string;
  url: string;
  headers: Record<string, string>;
}

const echo = (body: string): Echo => JSON.parse(body) as Echo;
const prefix = (path: string, ups: readonly Upstream[], extra: Partial<Route> = {}): Route => newRoute({ path, upstreams: ups, ...extra });

// A self-signed certificate (CN=backend.invalid): berth, like nginx, does not verify backend certificates.
const KEY = `-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgKjXiFDjGsL6XyxRx
Z7Lv9BlNh8TKz3A1m03mgEooX32hRANCAASL5XM4gzkqBReGhCo8d0mgz3YtJ28b
bfoXQOCwCj0his7HKiiy61/os3hIql3xxxbW4Yd188ggotd8OIQ1aqdy
-----END PRIVATE KEY-----`;
const CERT = `-----BEGIN CERTIFICATE-----
MIIBizCCATGgAwIBAgIUBB76dghjjCtD3p29XNZ+gfrTXEUwCgYIKoZIzj0EAwIw
GjEYMBYGA1UEAwwPYmFja2VuZC5pbnZhbGlkMCAXDTI2MTEyNTIyMjAxM1oYDzIx
MjYxMTAxMjIyMDEzWjAaMRgwFgYDVQQDDA9iYWNrZW5kLmludmFsaWQwWTATBgcq
hkjOPQIBBggqhkjOPQMBBwNCAASL5XM4gzkqBReGhCo8d0mgz3YtJ28bbfoXQOCw
Cj0his7HKiiy61/os3hIql3xxxbW4Yd188ggotd8OIQ1aqdyo1MwUTAdBgNVHQ4E
FgQUXjoQOw8xW5v7Fx9QGfTWPhGUcJ8wHwYDVR0jBBgwFoAUXjoQOw8xW5v7Fx9Q
GfTWPhGUcJ8wDwYDVR0TAQH/BAUwAwEB/zAKBggqhkjOPQQDAgNIADBFAiAJeiE3
u7RVN5RbN7oYbn8ykJV6ziGKgQ4t6bqOXii0aQIhAN8jY3E+jBCF5HiVIY4K46Ln
XQENJUDiKMphFrmUmrzW
-----END CERTIFICATE-----`;

describe('node data plane: request path', () => {
  let a: Backend;
  let b: Backend;
  let plane: TestPlane;
  let port: number;
  let tls: { port: number; sni: (string | false | null)[]; close: () => Promise<void> };
  let connections: { a: number; b: number };

  before(async () => {
    a = await startEchoBackend('a');
    b = await startEchoBackend('b');
    connections = { a: 0, b: 0 };
    a.server.on('connection', () => connections.a++);
    b.server.on('connection', () => connections.b++);
    const sni: (string | false | null)[] = [];
    const https = createHttpsServer({ key: KEY, cert: CERT }, (req, res) => {
      sni.push((req.socket as TLSSocket).servername);
      res.end(JSON.stringify({ name: 'tls', url: req.url, headers: req.headers }));
    });
    await new Promise<void>((resolve) => https.listen(0, '127.0.0.1', resolve));
    tls = {
      port: (https.address() as AddressInfo).port,
      sni,
      close: () => new Promise((resolve) => { https.closeAllConnections(); https.close(() => resolve()); }),
    };
    const A = [upstream(a.port, 'a')];
    const B = [upstream(b.port, 'b')];
    const t: RoutingTable = {
      hosts: [
        newVirtualHost({
          hostname: 'app.test',
          routes: [
            prefix('/', A),
            prefix('/app1/', B, { dest: '/' }),
            prefix('/foo', B, { dest: '/' }),
            prefix('/grpc/', B, { proto: 'grpc' }),
            newRoute({ path: '~ ^/re/', match: { kind: 'regex', value: '^/re/', caseInsensitive: false }, upstreams: B }),
          ],
        }),
        newVirtualHost({ hostname: 'api-only.test', debugEndpoint: true, routes: [prefix('/api/', A)] }),
        newVirtualHost({ hostname: 'closing.test', routes: [prefix('/', B, { keepalive: 'disabled' })] }),
        newVirtualHost({ hostname: 'tls.test', routes: [prefix('/', [upstream(tls.port, 'tls')], { proto: 'https' })] }),
        newVirtualHost({ hostname: 'both.test', routes: [prefix('/', [upstream(a.port, 'a'), upstream(b.port, 'b')], { loadBalance: { kind: 'ip_hash' } })] }),
      ],
      issues: [],
    };
    plane = await startPlane(t);
    port = plane.port ?? 0;
  });
  after(async () => {
    await plane.stop(1000);
    await Promise.all([a.close(), b.close(), tls.close()]);
  });

  it('replaces the matched prefix with VIRTUAL_DEST and keeps the original URI in X-Original-URI', async () => {
    const r = await send(port, { path: '/app1/foo?x=1', headers: { host: 'app.test' } });
    assert.equal(r.status, 200);
    assert.equal(echo(r.body).name, 'b');
    assert.equal(echo(r.body).url, '/foo?x=1');
    assert.equal(echo(r.body).headers['x-original-uri'], '/app1/foo?x=1');
    assert.equal(echo((await send(port, { path: '/foo/bar', headers: { host: 'app.test' } })).body).url, '//bar');
  });

  it('matches the normalised path but forwards the target as received without a dest', async () => {
    const r = await send(port, { path: '/x/../re/%61?q', headers: { host: 'app.test' } });
    assert.equal(echo(r.body).name, 'b'); // /re/a matched the regex route
    assert.equal(echo(r.body).url, '/x/../re/%61?q');
    const bad = await send(port, { path: '/../etc', headers: { host: 'app.test' } });
    assert.equal(bad.status, 400);
    assert.equal(bad.headers['x-berth-error'], 'BAD_REQUEST');
  });

  it('redirects a proxied location name without its trailing slash, as nginx does', async () => {
    const r = await send(port, { path: '/app1?a=1', headers: { host: 'app.test' } });
    assert.equal(r.status, 301);
    assert.equal(r.headers.location, `http://app.test:${port}/app1/?a=1`);
    assert.equal(r.headers['x-berth-error'], undefined);
  });

  it('answers DEFAULT_ROOT (404 by default) on a host without a / route, 503 for an unknown host', async () => {
    const r = await send(port, { path: '/other', headers: { host: 'api-only.test' } });
    assert.equal(r.status, 404);
    assert.equal(r.headers['x-berth-error'], 'DEFAULT_ROOT');
    assert.equal((await send(port, { path: '/api/x', headers: { host: 'api-only.test' } })).status, 200);
    assert.equal((await send(port, { headers: { host: 'unknown.test' } })).status, 503);
  });

  it('serves the debug endpoint on a host whose label enables it', async () => {
    const r = await send(port, { path: '/nginx-proxy-debug', headers: { host: 'api-only.test' } });
    assert.equal(r.status, 200);
    assert.equal(r.headers['content-type'], 'application/json');
    const doc = JSON.parse(r.body) as { vhost: { hostname: string; paths: Record<string, unknown> }; request: { host: string } };
    assert.equal(doc.vhost.hostname, 'api-only.test');
    assert.deepEqual(Object.keys(doc.vhost.paths), ['/api/']);
    assert.equal(doc.request.host, 'api-only.test');
    assert.equal((await send(port, { path: '/nginx-proxy-debug', headers: { host: 'app.test' } })).status, 200); // app.test's `/` backend
  });

  it('answers 502 with a clear message for a gRPC route reached over HTTP/1', async () => {
    const r = await send(port, { path: '/grpc/x', headers: { host: 'app.test' } });
    assert.equal(r.status, 502);
    assert.equal(r.headers['x-berth-error'], 'PROTO_UNSUPPORTED');
    assert.match(r.body, /host "app.test" path "\/grpc\/" speaks gRPC: use HTTP\/2/);
  });

  it('keeps a non-standard listening port in the Host header sent upstream', async () => {
    assert.equal(echo((await send(port, { headers: { host: 'app.test' } })).body).headers['host'], `app.test:${port}`);
  });

  it('reuses upstream connections with keepalive auto, closes them with keepalive disabled', async () => {
    await send(port, { headers: { host: 'closing.test' } }); // may reuse (then close) a connection opened for /app1/
    const before = connections.b;
    for (let i = 0; i < 3; i++) {
      const r = await send(port, { headers: { host: 'closing.test' } });
      assert.equal(echo(r.body).headers['connection'], 'close');
    }
    assert.equal(connections.b - before, 3);
    const beforeA = connections.a;
    for (let i = 0; i < 3; i++) assert.notEqual(echo((await send(port, { headers: { host: 'app.test' } })).body).headers['connection'], 'close');
    assert.ok(connections.a - beforeA <= 1);
  });

  it('speaks TLS to an https backend without verifying it and without SNI', async () => {
    const r = await send(port, { path: '/t', headers: { host: 'tls.test' } });
    assert.equal(r.status, 200);
    assert.equal(echo(r.body).name, 'tls');
    assert.equal(echo(r.body).headers['host'], `tls.test:${port}`);
    assert.deepEqual(tls.sni, [false]);
  });

  it('keeps one client on one backend with ip_hash', async () => {
    const names = new Set<string>();
    for (let i = 0; i < 6; i++) names.add(echo((await send(port, { headers: { host: 'both.test' } })).body).name);
    assert.equal(names.size, 1);
  });
});

describe('node data plane: keepalive N, least_conn, NETWORK_ACCESS, DEFAULT_ROOT redirect, access log', () => {
  it('keeps at most N idle upstream connections but never caps concurrency', async () => {
    const pending: (() => void)[] = [];
    let open = 0;
    const slow = await startBackend((_req, res) => {
      pending.push(() => res.end('ok'));
    });
    slow.server.on('connection', (s) => {
      open++;
      s.on('close', () => open--);
    });
    const plane = await startPlane({ hosts: [newVirtualHost({ hostname: 'k.test', routes: [prefix('/', [upstream(slow.port)], { keepalive: 1 })] })], issues: [] });
    try {
      const port = plane.port ?? 0;
      const replies = [1, 2, 3].map(() => send(port, { headers: { host: 'k.test' } }));
      await waitFor(() => pending.length === 3, 5000, 'three requests at the backend at once');
      for (const p of pending) p();
      assert.deepEqual((await Promise.all(replies)).map((r) => r.status), [200, 200, 200]);
      await waitFor(() => open === 1, 5000, 'only the kept connection left open');
    } finally {
      await plane.stop(1000);
      await slow.close();
    }
  });

  it('sends least_conn requests to the backend with fewer requests in flight', async () => {
    let release: (() => void) | undefined;
    const slow = await startBackend((_req, res) => {
      release = () => res.end(JSON.stringify({ name: 'slow' }));
    });
    const fast = await startEchoBackend('fast');
    const plane = await startPlane({
      hosts: [newVirtualHost({ hostname: 'lc.test', routes: [prefix('/', [upstream(fast.port, 'fast'), upstream(slow.port, 'slow')], { loadBalance: { kind: 'least_conn' } })] })],
      issues: [],
    });
    try {
      const port = plane.port ?? 0;
      // Rotation starts at `fast`; once `slow` holds a request, every new one goes to `fast`.
      assert.equal(echo((await send(port, { headers: { host: 'lc.test' } })).body).name, 'fast');
      const held = send(port, { headers: { host: 'lc.test' } });
      await waitFor(() => release !== undefined, 5000, 'request held by slow');
      for (let i = 0; i < 3; i++) assert.equal(echo((await send(port, { headers: { host: 'lc.test' } })).body).name, 'fast');
      release?.();
      assert.equal(echo((await held).body).name, 'slow');
    } finally {
      await plane.stop(1000);
      await Promise.all([slow.close(), fast.close()]);
    }
  });

  it('lets loopback clients through NETWORK_ACCESS=internal, redirects with DEFAULT_ROOT, writes access log lines', async () => {
    const backend = await startEchoBackend('in');
    const lines: string[] = [];
    const write = process.stdout.write.bind(process.stdout);
    process.stdout.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
      const text = Buffer.from(chunk).toString('latin1');
      if (text.includes('lg.test')) {
        lines.push(...text.split('\n').filter((l) => l !== ''));
        return true;
      }
      return (write as (c: string | Uint8Array, ...r: unknown[]) => boolean)(chunk, ...rest);
    }) as typeof process.stdout.write;
    const plane = await startPlane(
      { hosts: [newVirtualHost({ hostname: 'lg.test', routes: [prefix('/in/', [upstream(backend.port)], { networkAccess: 'internal' })] })], issues: [] },
      { defaultRoot: '301 http://$host/web$request_uri', accessLog: { enabled: true, format: '$host "$request" $status $upstream_addr $upstream_status', escape: 'default' } },
    );
    try {
      const port = plane.port ?? 0;
      assert.equal((await send(port, { path: '/in/x', headers: { host: 'lg.test' } })).status, 200);
      const r = await send(port, { path: '/?a=1', headers: { host: 'lg.test' } });
      assert.equal(r.status, 301);
      assert.equal(r.headers.location, 'http://lg.test/web/?a=1');
      await waitFor(() => lines.length === 2, 5000, 'two access log lines');
      assert.deepEqual(lines, [`lg.test "GET /in/x HTTP/1.1" 200 127.0.0.1:${backend.port} 200`, 'lg.test "GET /?a=1 HTTP/1.1" 301 - -']);
    } finally {
      process.stdout.write = write;
      await plane.stop(1000);
      await backend.close();
    }
  });
});

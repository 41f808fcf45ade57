import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { freePort, rawExchange, send, startEchoBackend, startPlane, table, upstream, type Backend, type TestPlane } from './test-harness.ts';

interface Echo {
  name: string;
  url: string;
  headers: Record<string, string>;
  body: string;
}

describe('node data plane: routing and headers', () => {
  let a: Backend;
  let b: Backend;
  let plane: TestPlane;
  let port: number;

  before(async () => {
    a = await startEchoBackend('a');
    b = await startEchoBackend('b');
    plane = await startPlane(table({ 'app.test': [upstream(a.port, 'a'), upstream(b.port, 'b')], 'one.test': [upstream(a.port, 'a')], 'empty.test': [] }));
    port = plane.port ?? 0;
  });
  after(async () => {
    await plane.stop(1000);
    await a.close();
    await b.close();
  });

  it('answers 503 NO_ROUTE for an unknown host', async () => {
    const r = await send(port, { headers: { host: 'nope.test' } });
    assert.equal(r.status, 503);
    assert.equal(r.headers['x-berth-error'], 'NO_ROUTE');
    assert.equal(r.body, '503 Service Unavailable: no route for host "nope.test"\n');
    assert.match(String(r.headers['content-type']), /^text\/plain/);
  });

  it('answers 502 NO_BACKEND for a known host without upstreams', async () => {
    const r = await send(port, { headers: { host: 'empty.test' } });
    assert.equal(r.status, 502);
    assert.equal(r.headers['x-berth-error'], 'NO_BACKEND');
  });

  it('matches the host case-insensitively, without its port', async () => {
    const r = await send(port, { headers: { host: 'ONE.Test:9999' } });
    assert.equal(r.status, 200);
    assert.equal((JSON.parse(r.body) as Echo).name, 'a');
  });

  it('routes absolute-form targets by their authority and sends origin-form upstream', async () => {
    const r = await send(port, { path: 'http://one.test/x?y=1', headers: { host: 'nope.test' } });
    assert.equal(r.status, 200);
    const echo = JSON.parse(r.body) as Echo;
    assert.equal(echo.url, '/x?y=1');
    assert.equal(echo.headers['x-original-uri'], '/x?y=1');
  });

  it('balances round robin across the upstreams of a route', async () => {
    const names: string[] = [];
    for (let i = 0; i < 4; i++) names.push((JSON.parse((await send(port, { headers: { host: 'app.test' } })).body) as Echo).name);
    assert.notEqual(names[0], names[1]);
    assert.deepEqual(names.slice(2), names.slice(0, 2));
  });

  it('sets the nginx-proxy headers (trust on) and drops Proxy', async () => {
    const r = await send(port, {
      path: '/p?q=1',
      headers: {
        host: 'one.test',
        proxy: 'http://evil.test',
        'x-forwarded-for': '1.2.3.4',
        'x-forwarded-proto': 'https',
        'x-forwarded-host': 'front.test',
        'x-forwarded-port': '443',
        'x-app': 'kept',
      },
    });
    const h = (JSON.parse(r.body) as Echo).headers;
    assert.equal(h['host'], `one.test:${port}`);
    assert.equal(h['x-real-ip'], '127.0.0.1');
    assert.equal(h['x-forwarded-for'], '1.2.3.4, 127.0.0.1');
    assert.equal(h['x-forwarded-proto'], 'https');
    assert.equal(h['x-forwarded-ssl'], 'on');
    assert.equal(h['x-forwarded-host'], 'front.test');
    assert.equal(h['x-forwarded-port'], '443');
    assert.equal(h['x-original-uri'], '/p?q=1');
    assert.equal(h['proxy'], undefined);
    assert.equal(h['x-app'], 'kept');
  });

  it('sets the nginx-proxy headers without incoming ones', async () => {
    const h = (JSON.parse((await send(port, { headers: { host: 'one.test' } })).body) as Echo).headers;
    assert.equal(h['x-forwarded-for'], '127.0.0.1');
    assert.equal(h['x-forwarded-proto'], 'http');
    assert.equal(h['x-forwarded-ssl'], 'off');
    assert.equal(h['x-forwarded-host'], 'one.test');
    assert.equal(h['x-forwarded-port'], String(port));
  });

  it('keeps client connections alive across requests', async () => {
    const { Agent } = await import('node:http');
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    try {
      const { request } = await import('node:http');
      const get = (): Promise<{ status: number; socketReused: boolean }> =>
        new Promise((resolve, reject) => {
          const req = request({ host: '127.0.0.1', port, path: '/', headers: { host: 'one.test' }, agent }, (res) => {
            res.resume();
            res.on('end', () => resolve({ status: res.statusCode ?? 0, socketReused: req.reusedSocket }));
          });
          req.on('error', reject);
          req.end();
        });
      assert.equal((await get()).status, 200);
      const second = await get();
      assert.equal(second.status, 200);
      assert.equal(second.socketReused, true);
    } finally {
      agent.destroy();
    }
  });

  it('answers 400 to CONNECT like nginx', async () => {
    const r = await rawExchange(port, 'CONNECT one.test:443 HTTP/1.1\r\nHost: one.test:443\r\n\r\n');
    assert.match(r, /^HTTP\/1\.1 400 /);
  });
});

describe('node data plane: settings', () => {
  it('routes unknown hosts to DEFAULT_HOST when it is a known host', async () => {
    const a = await startEchoBackend('a');
    const plane = await startPlane(table({ 'one.test': [upstream(a.port, 'a')] }), { defaultHost: 'one.test' });
    try {
      const r = await send(plane.port ?? 0, { headers: { host: 'other.test' } });
      assert.equal(r.status, 200);
      assert.equal((JSON.parse(r.body) as Echo).name, 'a');
    } finally {
      await plane.stop(1000);
      await a.close();
    }
  });

  it('overwrites incoming forwarding headers when TRUST_DOWNSTREAM_PROXY is off', async () => {
    const a = await startEchoBackend('a');
    const plane = await startPlane(table({ 'one.test': [upstream(a.port, 'a')] }), { trustDownstreamProxy: false });
    const port = plane.port ?? 0;
    try {
      const r = await send(port, {
        headers: { host: 'one.test', 'x-forwarded-for': '1.2.3.4', 'x-forwarded-proto': 'https', 'x-forwarded-host': 'f.test', 'x-forwarded-port': '443' },
      });
      const h = (JSON.parse(r.body) as Echo).headers;
      assert.equal(h['x-forwarded-for'], '127.0.0.1');
      assert.equal(h['x-forwarded-proto'], 'http');
      assert.equal(h['x-forwarded-ssl'], 'off');
      assert.equal(h['x-forwarded-host'], 'one.test');
      assert.equal(h['x-forwarded-port'], String(port));
    } finally {
      await plane.stop(1000);
      await a.close();
    }
  });

  it('answers 502 UPSTREAM_UNREACHABLE when a backend admitted at start refuses connections (no wait)', async () => {
    const dead = await freePort();
    const plane = await startPlane(table({ 'dead.test': [upstream(dead, 'dead')] }), { admission: 'start', backendWaitMs: 0 });
    try {
      const r = await send(plane.port ?? 0, { headers: { host: 'dead.test' } });
      assert.equal(r.status, 502);
      assert.equal(r.headers['x-berth-error'], 'UPSTREAM_UNREACHABLE');
    } finally {
      await plane.stop(1000);
    }
  });

  it('fails to start with ERR_LISTEN_FAILED when the port is taken', async () => {
    const a = await startEchoBackend('a');
    const { createNodeDataPlane } = await import('./node-data-plane.ts');
    const { testConfig, readinessFor } = await import('./test-harness.ts');
    const { createLogger } = await import('../logger.ts');
    const config = await testConfig({ httpPort: a.port });
    const plane = createNodeDataPlane({ config, logger: createLogger('silent', false), readiness: readinessFor(config) });
    try {
      await assert.rejects(plane.start(), { code: 'ERR_LISTEN_FAILED' });
    } finally {
      await plane.stop(100);
      await a.close();
    }
  });
});

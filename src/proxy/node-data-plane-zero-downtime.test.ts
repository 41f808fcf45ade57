import assert from 'node:assert/strict';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { connect, createServer, type AddressInfo, type Socket } from 'node:net';
import { describe, it } from 'node:test';
import type { ProbeFn } from '../readiness/index.ts';
import type { Upstream } from '../routing-table.ts';
import { freePort, send, startBackend, startEchoBackend, startPlane, table, upstream, waitFor, type Backend } from './test-harness.ts';

/** A readiness probe the test controls: a port is ready once listed in `ready`. */
function controlledProbe(): { probe: ProbeFn; ready: Set<number> } {
  const ready = new Set<number>();
  return { probe: async (_address, port) => ready.has(port), ready };
}

const name = (body: string): string => (JSON.parse(body) as { name: string }).name;

/** An echo backend counting the requests it got. */
async function countingBackend(label: string): Promise<Backend & { readonly hits: number }> {
  let hits = 0;
  const b = await startBackend((req, res) => {
    hits++;
    req.resume();
    req.on('end', () => res.end(JSON.stringify({ name: label })));
  });
  return {
    ...b,
    get hits() {
      return hits;
    },
  };
}

const draining = (u: Upstream): Upstream => ({ ...u, draining: true });

describe('node data plane: admission and waiting', () => {
  it('sends nothing to a starting backend; a request waits and succeeds once one is ready', async () => {
    const a = await countingBackend('a');
    const b = await countingBackend('b');
    const c = controlledProbe();
    c.ready.add(a.port);
    const plane = await startPlane(table({ 'mix.test': [upstream(a.port, 'a'), upstream(b.port, 'b')], 'new.test': [upstream(b.port, 'b')] }), {}, { probe: c.probe });
    const port = plane.port ?? 0;
    try {
      for (let i = 0; i < 4; i++) assert.equal(name((await send(port, { headers: { host: 'mix.test' } })).body), 'a');
      assert.equal(b.hits, 0);
      const waiting = send(port, { headers: { host: 'new.test' } });
      await waitFor(() => plane.waiting === 1, 5000, 'request waiting');
      c.ready.add(b.port);
      const r = await waiting;
      assert.equal(r.status, 200);
      assert.equal(name(r.body), 'b');
      assert.equal(plane.waiting, 0);
    } finally {
      await plane.stop(1000);
      await a.close();
      await b.close();
    }
  });

  it('answers 503 NO_READY_BACKEND with Retry-After when every backend drains past the wait', async () => {
    const a = await startEchoBackend('a');
    const plane = await startPlane(table({ 'app.test': [draining(upstream(a.port, 'a'))] }), { backendWaitMs: 200 });
    try {
      const started = Date.now();
      const r = await send(plane.port ?? 0, { headers: { host: 'app.test' } });
      assert.equal(r.status, 503);
      assert.equal(r.headers['x-berth-error'], 'NO_READY_BACKEND');
      assert.equal(r.headers['retry-after'], '1');
      assert.ok(Date.now() - started >= 150, 'waited first');
    } finally {
      await plane.stop(1000);
      await a.close();
    }
  });

  it('keeps 503 NO_ROUTE at once for unknown hosts and 502 NO_BACKEND for hosts without reachable containers', async () => {
    const plane = await startPlane(table({ 'empty.test': [] }), { backendWaitMs: 5000 });
    try {
      const started = Date.now();
      const unknown = await send(plane.port ?? 0, { headers: { host: 'nope.test' } });
      assert.equal(unknown.status, 503);
      assert.equal(unknown.headers['retry-after'], undefined);
      const empty = await send(plane.port ?? 0, { headers: { host: 'empty.test' } });
      assert.equal(empty.status, 502);
      assert.equal(empty.headers['x-berth-error'], 'NO_BACKEND');
      assert.ok(Date.now() - started < 2000, 'neither waited');
    } finally {
      await plane.stop(1000);
    }
  });

  it('lets a request wait across a remove + add of its host (compose recreate), 503 + Retry-After if none comes', async () => {
    const old = await startEchoBackend('old');
    const next = await startEchoBackend('new');
    const c = controlledProbe();
    c.ready.add(old.port);
    const plane = await startPlane(table({ 'app.test': [upstream(old.port, 'old')] }), { backendWaitMs: 400 }, { probe: c.probe });
    const port = plane.port ?? 0;
    try {
      await waitFor(() => plane.readiness.isReady(upstream(old.port, 'old')), 5000, 'old ready');
      await plane.apply(table({}));
      const waiting = send(port, { headers: { host: 'app.test' } });
      await waitFor(() => plane.waiting === 1, 5000, 'request waiting for the vanished host');
      await plane.apply(table({ 'app.test': [upstream(next.port, 'new')] })); // starting: still waits
      c.ready.add(next.port);
      const r = await waiting;
      assert.equal(r.status, 200);
      assert.equal(name(r.body), 'new');

      await plane.apply(table({}));
      const gone = await send(port, { headers: { host: 'app.test' } });
      assert.equal(gone.status, 503);
      assert.equal(gone.headers['x-berth-error'], 'NO_ROUTE');
      assert.equal(gone.headers['retry-after'], '1');
    } finally {
      await plane.stop(1000);
      await old.close();
      await next.close();
    }
  });

  it('bounds the waiting requests: beyond the bound, 503 at once', async () => {
    const b = await startEchoBackend('b');
    const c = controlledProbe();
    const plane = await startPlane(table({ 'app.test': [upstream(b.port, 'b')] }), {}, { probe: c.probe, maxWaiting: 2 });
    const port = plane.port ?? 0;
    try {
      const first = send(port, { headers: { host: 'app.test' } });
      const second = send(port, { headers: { host: 'app.test' } });
      await waitFor(() => plane.waiting === 2, 5000, 'two waiting');
      const shed = await send(port, { headers: { host: 'app.test' } });
      assert.equal(shed.status, 503);
      assert.equal(shed.headers['x-berth-error'], 'NO_READY_BACKEND');
      assert.equal(shed.headers['retry-after'], '1');
      c.ready.add(b.port);
      assert.equal((await first).status, 200);
      assert.equal((await second).status, 200);
    } finally {
      await plane.stop(1000);
      await b.close();
    }
  });

  it('drops a waiting client that goes away, and answers waiting requests at once on stop', async () => {
    const b = await startEchoBackend('b');
    const plane = await startPlane(table({ 'app.test': [upstream(b.port, 'b')] }), {}, { probe: controlledProbe().probe });
    const port = plane.port ?? 0;
    const socket = connect({ host: '127.0.0.1', port });
    socket.on('error', () => undefined);
    socket.write('GET / HTTP/1.1\r\nHost: app.test\r\n\r\n');
    await waitFor(() => plane.waiting === 1, 5000, 'raw request waiting');
    socket.destroy();
    await waitFor(() => plane.waiting === 0, 5000, 'dropped from the wait');
    const pending = send(port, { headers: { host: 'app.test' } });
    await waitFor(() => plane.waiting === 1, 5000, 'request waiting');
    const started = Date.now();
    await plane.stop(5000);
    const r = await pending;
    assert.equal(r.status, 503);
    assert.equal(r.headers['connection'], 'close');
    assert.ok(Date.now() - started < 3000, 'not held for the whole wait');
    await b.close();
  });
});

describe('node data plane: retries and passive health', () => {
  it('answers 503, not 502, when the only backend refused because it was stopping; 502 when it is broken', async () => {
    const dead = upstream(await freePort(), 'dead');
    const c = controlledProbe();
    c.ready.add(dead.port); // ready by its probe, refusing connections: an app that closed its listener at SIGTERM
    const plane = await startPlane(table({ 'app.test': [dead] }), { backendWaitMs: 400, circuitBreakMs: 60_000 }, { probe: c.probe });
    const port = plane.port ?? 0;
    try {
      await waitFor(() => plane.readiness.isReady(dead), 5000, 'dead backend admitted by the fake probe');
      const broken = await send(port, { headers: { host: 'app.test' } });
      assert.equal(broken.status, 502, 'still deemed ready after the wait: a broken backend is a 502');
      const pending = send(port, { headers: { host: 'app.test' } });
      await waitFor(() => plane.waiting === 1, 5000, 'request waiting after the refused attempt');
      await plane.apply(table({ 'app.test': [draining(dead)] })); // the kill event arrives
      const stopping = await pending;
      assert.equal(stopping.status, 503, `a stopping backend never causes a 502 (got ${stopping.status})`);
      assert.equal(stopping.headers['x-berth-error'], 'NO_READY_BACKEND');
      assert.equal(stopping.headers['retry-after'], '1');
    } finally {
      await plane.stop(1000);
    }
  });

  it('retries a refused backend on another one, and opens its circuit after 3 failures', async () => {
    const ok = await countingBackend('ok');
    const dead = upstream(await freePort(), 'dead');
    const c = controlledProbe();
    c.ready.add(ok.port).add(dead.port); // the probe says ready: only connections show the truth
    const plane = await startPlane(table({ 'app.test': [dead, upstream(ok.port, 'ok')] }), { circuitBreakMs: 60_000 }, { probe: c.probe });
    const port = plane.port ?? 0;
    try {
      await waitFor(() => plane.readiness.isReady(dead), 5000, 'dead backend admitted by the fake probe');
      for (let i = 0; i < 12 && plane.readiness.state(dead) !== 'unhealthy'; i++) {
        const r = await send(port, { method: i % 2 === 0 ? 'GET' : 'POST', headers: { host: 'app.test' }, body: i % 2 === 0 ? undefined : 'payload' });
        assert.equal(r.status, 200, `request ${i}`);
        assert.equal(name(r.body), 'ok');
      }
      assert.equal(plane.readiness.state(dead), 'unhealthy');
    } finally {
      await plane.stop(1000);
      await ok.close();
    }
  });

  it('retries an idempotent request reset before any response byte; never a POST whose body went upstream', async () => {
    let resets = 0;
    const rude = await startBackend((req) => {
      resets++;
      req.on('data', () => undefined);
      req.socket.destroy();
    });
    const ok = await countingBackend('ok');
    const c = controlledProbe();
    c.ready.add(rude.port).add(ok.port);
    const rudeU = upstream(rude.port, 'a-rude');
    const plane = await startPlane(table({ 'app.test': [rudeU, upstream(ok.port, 'ok')] }), { backendWaitMs: 0 }, { probe: c.probe });
    const port = plane.port ?? 0;
    try {
      await waitFor(() => plane.readiness.isReady(rudeU), 5000, 'ready');
      // Round robin starts at the rude one: the GET is reset there, then retried on ok.
      const get = await send(port, { headers: { host: 'app.test' } });
      assert.equal(get.status, 200);
      assert.equal(resets, 1);
      assert.equal(ok.hits, 1);
      // The rotation resumes after the upstream that served the retry: the rude one is next.
      const post = await send(port, { method: 'POST', headers: { host: 'app.test' }, body: 'x'.repeat(10_000) });
      assert.equal(post.status, 502);
      assert.equal(post.headers['x-berth-error'], 'UPSTREAM_ERROR');
      assert.equal(resets, 2);
      assert.equal(ok.hits, 1, 'the POST was not sent twice');
    } finally {
      await plane.stop(1000);
      await rude.close();
      await ok.close();
    }
  });

  it('sends a GET again on a new connection when the backend closed the reused keep-alive one; a POST gets 502', async () => {
    // A backend that answers the first request of each connection (keep-alive) and closes the connection when a
    // second one arrives on it, as a server whose idle keep-alive timeout just expired does.
    const sockets = new Set<Socket>();
    let connections = 0;
    const server = createServer((socket) => {
      connections++;
      sockets.add(socket);
      let answered = false;
      socket.on('data', () => {
        if (answered) socket.destroy();
        else {
          answered = true;
          socket.write('HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok');
        }
      });
      socket.on('error', () => undefined);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const backendPort = (server.address() as AddressInfo).port;
    const u = upstream(backendPort, 'closing');
    const c = controlledProbe();
    c.ready.add(backendPort);
    const plane = await startPlane(table({ 'app.test': [u] }), { backendWaitMs: 200 }, { probe: c.probe });
    const port = plane.port ?? 0;
    try {
      await waitFor(() => plane.readiness.isReady(u), 5000, 'ready');
      for (let i = 0; i < 5; i++) {
        const r = await send(port, { headers: { host: 'app.test' } });
        assert.equal(r.status, 200, `GET ${i}`);
        assert.equal(r.body, 'ok');
      }
      assert.ok(connections >= 5, `each GET after the first found its connection closed and used a new one (${connections})`);
      assert.notEqual(plane.readiness.state(u), 'unhealthy', 'a closed keep-alive connection is not a backend failure');
      const post = await send(port, { method: 'POST', headers: { host: 'app.test' }, body: 'x' });
      assert.equal(post.status, 502, 'a POST may have reached the backend: never sent twice (nginx does the same)');
    } finally {
      await plane.stop(1000);
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });

  it('lets a request in flight to a backend that starts draining finish; new ones go elsewhere', async () => {
    const held: ServerResponse[] = [];
    const old = await startBackend((req: IncomingMessage, res: ServerResponse) => {
      req.resume();
      held.push(res);
    });
    const next = await startEchoBackend('new');
    const c = controlledProbe();
    c.ready.add(old.port).add(next.port);
    const oldU = upstream(old.port, 'old');
    const plane = await startPlane(table({ 'app.test': [oldU] }), {}, { probe: c.probe });
    const port = plane.port ?? 0;
    try {
      const inFlight = send(port, { headers: { host: 'app.test' } });
      await waitFor(() => held.length === 1, 5000, 'old backend got the request');
      await plane.apply(table({ 'app.test': [draining(oldU), upstream(next.port, 'new')] }));
      for (let i = 0; i < 3; i++) assert.equal(name((await send(port, { headers: { host: 'app.test' } })).body), 'new');
      for (const res of held.splice(0)) res.end('old');
      const r = await inFlight;
      assert.equal(r.status, 200);
      assert.equal(r.body, 'old');
    } finally {
      await plane.stop(1000);
      await old.close();
      await next.close();
    }
  });
});

describe('node data plane: upgraded connections and draining', () => {
  it('closes a tunnel to a draining backend after the grace period; ordinary table changes leave it alone', async () => {
    const backend = await startBackend((_req, res) => res.end());
    const upstreamSockets: Socket[] = [];
    backend.server.on('upgrade', (_req: IncomingMessage, socket: Socket) => {
      upstreamSockets.push(socket);
      socket.write('HTTP/1.1 101 Switching Protocols\r\nUpgrade: echo\r\nConnection: Upgrade\r\n\r\n');
      socket.pipe(socket);
    });
    const c = controlledProbe();
    c.ready.add(backend.port);
    const u = upstream(backend.port, 'ws');
    const plane = await startPlane(table({ 'ws.test': [u] }), { drainUpgradeTimeoutMs: 300 }, { probe: c.probe });
    const client = connect({ host: '127.0.0.1', port: plane.port ?? 0 });
    client.on('error', () => undefined);
    let closedAt = 0;
    client.on('close', () => (closedAt = Date.now()));
    try {
      let received = '';
      client.on('data', (chunk: Buffer) => (received += chunk.toString()));
      client.write('GET / HTTP/1.1\r\nHost: ws.test\r\nConnection: Upgrade\r\nUpgrade: echo\r\n\r\n');
      await waitFor(() => received.includes('101'), 5000, 'switched');
      await plane.apply(table({ 'ws.test': [u], 'other.test': [u] }));
      client.write('still-open');
      await waitFor(() => received.includes('still-open'), 5000, 'tunnel alive after a table change');
      const drainStarted = Date.now();
      await plane.apply(table({ 'ws.test': [draining(u)] }));
      await waitFor(() => closedAt > 0, 5000, 'tunnel closed');
      assert.ok(closedAt - drainStarted >= 250, `closed after ${closedAt - drainStarted} ms`);
      await waitFor(() => upstreamSockets.every((s) => s.destroyed || s.readableEnded), 5000, 'upstream side closed');
    } finally {
      client.destroy();
      for (const s of upstreamSockets) s.destroy();
      await plane.stop(1000);
      await backend.close();
    }
  });

  it('waits for a ready backend and retries a refused one for upgrade requests too', async () => {
    const backend = await startBackend((_req, res) => res.end());
    backend.server.on('upgrade', (_req: IncomingMessage, socket: Socket) => {
      socket.end('HTTP/1.1 101 Switching Protocols\r\nUpgrade: echo\r\nConnection: Upgrade\r\n\r\n');
    });
    const dead = upstream(await freePort(), 'a-dead');
    const c = controlledProbe();
    c.ready.add(dead.port);
    const plane = await startPlane(table({ 'ws.test': [dead, upstream(backend.port, 'live')] }), {}, { probe: c.probe });
    try {
      const { rawExchange } = await import('./test-harness.ts');
      await waitFor(() => plane.readiness.isReady(dead), 5000, 'dead admitted by the fake probe');
      const exchange = rawExchange(plane.port ?? 0, 'GET / HTTP/1.1\r\nHost: ws.test\r\nConnection: Upgrade\r\nUpgrade: echo\r\n\r\n');
      await waitFor(() => plane.waiting === 1, 5000, 'upgrade waiting after the refused attempt');
      c.ready.add(backend.port);
      assert.match(await exchange, /^HTTP\/1\.1 101 /);
    } finally {
      await plane.stop(1000);
      await backend.close();
    }
  });
});

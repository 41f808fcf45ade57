import assert from 'node:assert/strict';
import { request, type IncomingMessage, type ServerResponse } from 'node:http';
import { once } from 'node:events';
import { connect, createServer, type AddressInfo, type Socket } from 'node:net';
import { describe, it } from 'node:test';
import { rawExchange, send, startBackend, startEchoBackend, startPlane, table, upstream, waitFor } from './test-harness.ts';

/** A backend that holds every request until `release()` and counts the requests it has open. */
async function startHoldingBackend(name: string) {
  const held: ServerResponse[] = [];
  let open = 0;
  const backend = await startBackend((req, res) => {
    open++;
    res.once('close', () => open--);
    req.resume();
    held.push(res);
  });
  return {
    ...backend,
    get open() {
      return open;
    },
    get held() {
      return held.length;
    },
    release: () => {
      for (const res of held.splice(0)) res.end(name);
    },
    flushHeads: () => {
      for (const res of held) res.flushHeaders();
    },
  };
}

describe('node data plane: bodies, aborts and timeouts', () => {
  it('relays an early answer (413) to a client still uploading, discards the rest of its body, keeps the connection', async () => {
    // The backend reads nothing (berth's upstream socket fills up and the client's body is paused), then answers.
    const sockets = new Set<Socket>();
    const backend = createServer((socket) => {
      sockets.add(socket);
      socket.pause();
      setTimeout(() => socket.end('HTTP/1.1 413 Payload Too Large\r\ncontent-length: 4\r\nconnection: close\r\n\r\nbig!'), 300);
      socket.on('error', () => undefined);
    });
    await new Promise<void>((resolve) => backend.listen(0, '127.0.0.1', resolve));
    const plane = await startPlane(table({ 'up.test': [upstream((backend.address() as AddressInfo).port)] }));
    const client = connect({ host: '127.0.0.1', port: plane.port ?? 0 });
    let received = '';
    client.on('data', (d: Buffer) => (received += d.toString('latin1')));
    client.on('error', () => undefined);
    try {
      await new Promise((resolve) => client.once('connect', resolve));
      const size = 8 * 1024 * 1024;
      client.write(`POST /up HTTP/1.1\r\nHost: up.test\r\nContent-Length: ${size}\r\n\r\n`);
      const piece = Buffer.alloc(64 * 1024, 97);
      for (let sent = 0; sent < size; sent += piece.length) {
        if (client.write(piece)) continue;
        const drained = await Promise.race([once(client, 'drain').then(() => true), new Promise((r) => setTimeout(() => r(false), 3000))]);
        assert.ok(drained, `upload stalled at ${sent} bytes after ${JSON.stringify(received.split('\r\n')[0])}: berth stopped reading the body`);
      }
      client.write('GET /second HTTP/1.1\r\nHost: up.test\r\n\r\n');
      await waitFor(() => (received.match(/HTTP\/1\.1 413/g) ?? []).length === 2, 5000, 'the 413 of both requests on one client connection');
    } finally {
      client.destroy();
      await plane.stop(1000);
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => backend.close(() => resolve()));
    }
  });

  it('streams a request body up and the response back without buffering either', async () => {
    const backend = await startBackend((req, res) => {
      res.writeHead(200, { 'content-type': 'application/octet-stream' });
      req.pipe(res);
    });
    const plane = await startPlane(table({ 'echo.test': [upstream(backend.port)] }));
    try {
      const received: Buffer[] = [];
      let resp: IncomingMessage | undefined;
      const req = request({ host: '127.0.0.1', port: plane.port, method: 'POST', path: '/', headers: { host: 'echo.test' }, agent: false });
      req.on('response', (r: IncomingMessage) => {
        resp = r;
        r.on('data', (c: Buffer) => received.push(c));
      });
      req.write('first-chunk;');
      // The echo of the first chunk arrives while the request is still open: nothing waits for the whole body.
      await waitFor(() => Buffer.concat(received).toString() === 'first-chunk;', 5000, 'first chunk echoed');
      const big = 'x'.repeat(1 << 20);
      req.end(big);
      await waitFor(() => resp?.complete === true, 5000, 'response complete');
      assert.equal(Buffer.concat(received).toString(), `first-chunk;${big}`);
    } finally {
      await plane.stop(1000);
      await backend.close();
    }
  });

  it('answers 504 UPSTREAM_TIMEOUT when the backend never answers', async () => {
    const backend = await startHoldingBackend('slow');
    const plane = await startPlane(table({ 'slow.test': [upstream(backend.port)] }), { upstreamTimeoutMs: 300 });
    try {
      const started = Date.now();
      const r = await send(plane.port ?? 0, { headers: { host: 'slow.test' } });
      const elapsed = Date.now() - started;
      assert.equal(r.status, 504);
      assert.equal(r.headers['x-berth-error'], 'UPSTREAM_TIMEOUT');
      assert.ok(elapsed >= 250 && elapsed < 3000, `answered after ${elapsed} ms`);
    } finally {
      await plane.stop(1000);
      await backend.close();
    }
  });

  it('aborts the upstream request when the client goes away', async () => {
    const backend = await startHoldingBackend('held');
    const plane = await startPlane(table({ 'held.test': [upstream(backend.port)] }));
    try {
      const req = request({ host: '127.0.0.1', port: plane.port, method: 'POST', path: '/', headers: { host: 'held.test' }, agent: false });
      req.on('error', () => undefined);
      req.write('part of a body');
      await waitFor(() => backend.open === 1, 5000, 'backend got the request');
      req.destroy();
      await waitFor(() => backend.open === 0, 5000, 'upstream request closed');
    } finally {
      await plane.stop(1000);
      await backend.close();
    }
  });

  it('does not let a stalled request body hold the upstream forever', async () => {
    const backend = await startHoldingBackend('stalled');
    // The client idle timeout also covers the wait for a ready backend: keep that wait short here.
    const plane = await startPlane(table({ 'held.test': [upstream(backend.port)] }), { upstreamTimeoutMs: 200, backendWaitMs: 100 });
    try {
      const req = request({ host: '127.0.0.1', port: plane.port, method: 'POST', path: '/', headers: { host: 'held.test', 'content-length': '1000' }, agent: false });
      req.on('error', () => undefined);
      req.write('only 10 b.');
      await waitFor(() => backend.open === 1, 5000, 'backend got the request');
      await waitFor(() => backend.open === 0, 5000, 'upstream request closed after the client went idle');
      req.destroy();
    } finally {
      await plane.stop(1000);
      await backend.close();
    }
  });

  it('cuts the client response when the upstream dies mid-body', async () => {
    const backend = await startBackend((_req, res) => {
      res.writeHead(200, { 'content-length': '100' });
      res.write('only part');
      setImmediate(() => res.socket?.destroy());
    });
    const plane = await startPlane(table({ 'cut.test': [upstream(backend.port)] }));
    try {
      const outcome = await new Promise<string>((resolve) => {
        const req = request({ host: '127.0.0.1', port: plane.port, path: '/', headers: { host: 'cut.test' }, agent: false }, (res) => {
          res.on('data', () => undefined);
          res.on('end', () => resolve(res.complete ? 'complete' : 'incomplete'));
          res.on('aborted', () => resolve('aborted'));
          res.on('error', () => resolve('error'));
        });
        req.on('error', () => resolve('error'));
        req.end();
      });
      assert.notEqual(outcome, 'complete');
    } finally {
      await plane.stop(1000);
      await backend.close();
    }
  });

  it('finishes a request in flight on the old table after apply() swaps in a new one', async () => {
    const old = await startHoldingBackend('old');
    const next = await startEchoBackend('new');
    const plane = await startPlane(table({ 'app.test': [upstream(old.port, 'old')] }));
    const port = plane.port ?? 0;
    try {
      const inFlight = send(port, { headers: { host: 'app.test' } });
      await waitFor(() => old.held === 1, 5000, 'old backend got the request');
      await plane.apply(table({ 'app.test': [upstream(next.port, 'new')] }));
      const fresh = await send(port, { headers: { host: 'app.test' } });
      assert.equal((JSON.parse(fresh.body) as { name: string }).name, 'new');
      old.release();
      const r = await inFlight;
      assert.equal(r.status, 200);
      assert.equal(r.body, 'old');
    } finally {
      await plane.stop(1000);
      await old.close();
      await next.close();
    }
  });

  it('stops gracefully: refuses new connections, lets the request in flight finish', async () => {
    const backend = await startHoldingBackend('done');
    const plane = await startPlane(table({ 'app.test': [upstream(backend.port)] }));
    const port = plane.port ?? 0;
    const inFlight = send(port, { headers: { host: 'app.test' } });
    await waitFor(() => backend.held === 1, 5000, 'backend got the request');
    let stopped = false;
    const stopping = plane.stop(10_000).then(() => (stopped = true));
    await waitFor(() => send(port, { headers: { host: 'app.test' } }).then(() => false, (err: NodeJS.ErrnoException) => err.code === 'ECONNREFUSED'), 5000, 'new connections refused');
    assert.equal(stopped, false);
    backend.release();
    const r = await inFlight;
    assert.equal(r.status, 200);
    assert.equal(r.body, 'done');
    assert.equal(r.headers['connection'], 'close');
    await stopping;
    await backend.close();
  });

  it('closes a keep-alive connection whose response began before stop() once it completes', async () => {
    const backend = await startHoldingBackend('late');
    const plane = await startPlane(table({ 'app.test': [upstream(backend.port)] }));
    const { Agent } = await import('node:http');
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    try {
      let body = '';
      let headReceived = false;
      const done = new Promise<void>((resolve, reject) => {
        const req = request({ host: '127.0.0.1', port: plane.port, path: '/', headers: { host: 'app.test' }, agent }, (res) => {
          headReceived = true;
          res.on('data', (c: Buffer) => (body += c.toString()));
          res.on('end', resolve);
        });
        req.on('error', reject);
        req.end();
      });
      await waitFor(() => backend.held === 1, 5000, 'backend got the request');
      // The backend sends its head now, so the client response is under way (keep-alive) when stop begins.
      backend.flushHeads();
      await waitFor(() => headReceived, 5000, 'client got the response head');
      let stopped = false;
      const stopping = plane.stop(30_000).then(() => (stopped = true));
      backend.release();
      await done;
      assert.equal(body, 'late');
      await waitFor(() => stopped, 5000, 'stop resolved long before the grace period');
      await stopping;
    } finally {
      agent.destroy();
      await backend.close();
    }
  });

  it('force-closes what is left when the grace period is over', async () => {
    const backend = await startHoldingBackend('never');
    const plane = await startPlane(table({ 'app.test': [upstream(backend.port)] }));
    const inFlight = send(plane.port ?? 0, { headers: { host: 'app.test' } }).then(() => 'answered', () => 'cut');
    await waitFor(() => backend.held === 1, 5000, 'backend got the request');
    await plane.stop(100);
    assert.equal(await inFlight, 'cut');
    await waitFor(() => backend.open === 0, 5000, 'upstream request closed');
    await backend.close();
  });
});

function readUntil(socket: Socket, marker: string): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = '';
    const onData = (c: Buffer): void => {
      text += c.toString();
      if (text.includes(marker)) {
        socket.off('data', onData);
        resolve(text);
      }
    };
    socket.on('data', onData);
    socket.once('error', reject);
  });
}

describe('node data plane: upgrade tunnels', () => {
  it('tunnels an Upgrade request and echoes bytes both ways', async () => {
    const backend = await startBackend((_req, res) => res.end());
    let seen: Record<string, string | string[] | undefined> = {};
    backend.server.on('upgrade', (req: IncomingMessage, socket: Socket, head: Buffer) => {
      seen = req.headers;
      socket.write('HTTP/1.1 101 Switching Protocols\r\nUpgrade: echo\r\nConnection: Upgrade\r\n\r\n');
      if (head.length > 0) socket.write(head);
      socket.pipe(socket);
    });
    const plane = await startPlane(table({ 'ws.test': [upstream(backend.port)] }));
    const client = connect({ host: '127.0.0.1', port: plane.port ?? 0 });
    try {
      client.write('GET /chat?x=1 HTTP/1.1\r\nHost: ws.test\r\nConnection: Upgrade\r\nUpgrade: echo\r\nProxy: evil\r\n\r\n');
      const head = await readUntil(client, '\r\n\r\n');
      assert.match(head, /^HTTP\/1\.1 101 /);
      client.write('ping-1');
      await readUntil(client, 'ping-1');
      client.write('ping-2');
      await readUntil(client, 'ping-2');
      assert.equal(seen['upgrade'], 'echo');
      assert.equal(seen['connection'], 'upgrade');
      assert.equal(seen['x-original-uri'], '/chat?x=1');
      assert.equal(seen['x-forwarded-for'], '127.0.0.1');
      assert.equal(seen['host'], `ws.test:${plane.port}`);
      assert.equal(seen['proxy'], undefined);
    } finally {
      client.destroy();
      await plane.stop(1000);
      await backend.close();
    }
  });

  it('ends open tunnels when the grace period of stop() is over', async () => {
    const backend = await startBackend((_req, res) => res.end());
    const upstreamSockets: Socket[] = [];
    backend.server.on('upgrade', (_req: IncomingMessage, socket: Socket) => {
      upstreamSockets.push(socket);
      socket.write('HTTP/1.1 101 Switching Protocols\r\nUpgrade: echo\r\nConnection: Upgrade\r\n\r\n');
      socket.pipe(socket);
    });
    const plane = await startPlane(table({ 'ws.test': [upstream(backend.port)] }));
    const client = connect({ host: '127.0.0.1', port: plane.port ?? 0 });
    client.on('error', () => undefined);
    let clientClosed = false;
    client.on('close', () => (clientClosed = true));
    client.write('GET / HTTP/1.1\r\nHost: ws.test\r\nConnection: Upgrade\r\nUpgrade: echo\r\n\r\n');
    await readUntil(client, '\r\n\r\n');
    await plane.stop(100);
    await waitFor(() => clientClosed, 5000, 'client side of the tunnel closed');
    await waitFor(() => upstreamSockets.every((s) => s.destroyed || s.readableEnded), 5000, 'upstream side closed');
    for (const s of upstreamSockets) s.destroy();
    await backend.close();
  });

  it('answers 502 on the socket when the upstream refuses the tunnel, 503 for unknown hosts', async () => {
    const { freePort } = await import('./test-harness.ts');
    const plane = await startPlane(table({ 'dead.test': [upstream(await freePort())] }), { admission: 'start', backendWaitMs: 0 });
    try {
      const upgrade = (host: string): string => `GET / HTTP/1.1\r\nHost: ${host}\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n`;
      const dead = await rawExchange(plane.port ?? 0, upgrade('dead.test'));
      assert.match(dead, /^HTTP\/1\.1 502 /);
      assert.match(dead, /x-berth-error: UPSTREAM_UNREACHABLE/);
      assert.match(await rawExchange(plane.port ?? 0, upgrade('nope.test')), /^HTTP\/1\.1 503 /);
    } finally {
      await plane.stop(1000);
    }
  });

  it('answers 504 when the upstream accepts the tunnel but never answers', async () => {
    const backend = await startBackend((_req, res) => res.end());
    const held: Socket[] = [];
    backend.server.on('upgrade', (_req: IncomingMessage, socket: Socket) => held.push(socket)); // says nothing
    const plane = await startPlane(table({ 'mute.test': [upstream(backend.port)] }), { upstreamTimeoutMs: 200 });
    try {
      const r = await rawExchange(plane.port ?? 0, 'GET / HTTP/1.1\r\nHost: mute.test\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n');
      assert.match(r, /^HTTP\/1\.1 504 /);
    } finally {
      for (const socket of held) socket.destroy();
      await plane.stop(1000);
      await backend.close();
    }
  });
});

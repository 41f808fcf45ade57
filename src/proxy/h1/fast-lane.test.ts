import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { connect, createServer as createNetServer, type AddressInfo, type Server as NetServer, type Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { DownstreamRequest, DownstreamResponse } from '../downstream.ts';
import { FastLane, type FastLaneOptions } from './fast-lane.ts';

/**
 * The fast lane against node:http itself: the same handler behind both, the same raw requests, the same bytes back
 * (Date aside). Plus what only the lane does: pipelining, handing a connection over mid-way, timeouts, closing.
 */

interface Seen {
  readonly method: string | undefined;
  readonly url: string | undefined;
  readonly lane: boolean;
  body: string;
}

const seen: Seen[] = [];
let hang: DownstreamResponse | undefined;
const hangClosed: Array<() => void> = [];

function handler(req: DownstreamRequest, res: DownstreamResponse): void {
  const record: Seen = { method: req.method, url: req.url, lane: !('on' in req), body: '' };
  seen.push(record);
  if ('on' in req) (req as unknown as NodeJS.ReadableStream).on('data', (chunk: Buffer) => (record.body += chunk.toString('latin1')));
  const path = (req.url ?? '/').split('?')[0];
  switch (path) {
    case '/fixed':
      res.writeHead(200, ['Content-Type', 'text/plain', 'Content-Length', '5']);
      res.end(Buffer.from('hello'));
      return;
    case '/chunked':
      res.writeHead(200, ['X-A', 'b']);
      res.write(Buffer.from('ab'));
      res.end(Buffer.from('cd'));
      return;
    case '/object':
      res.writeHead(502, { 'content-type': 'text/plain; charset=utf-8', 'content-length': 3, 'x-berth-error': 'NO_BACKEND' });
      res.end(Buffer.from('no\n'));
      return;
    case '/no-content':
      res.writeHead(204, ['X-A', 'b']);
      res.end();
      return;
    case '/not-modified':
      res.writeHead(304, ['ETag', '"x"']);
      res.end();
      return;
    case '/close':
      res.writeHead(200, ['Content-Length', '2', 'connection', 'close']);
      res.end(Buffer.from('ok'));
      return;
    case '/flushed':
      res.writeHead(200, ['Content-Length', '4']);
      res.flushHeaders();
      setTimeout(() => res.end(Buffer.from('late')), 30);
      return;
    case '/large': {
      res.writeHead(200, ['Content-Length', String(64 * 1024)]);
      res.end(Buffer.alloc(64 * 1024, 'x'));
      return;
    }
    case '/bad-header':
      try {
        res.writeHead(200, ['X-Bad', 'a\r\nInjected: yes']);
      } catch (err) {
        // What sendProxyError does (node:http would keep the refused head's reason phrase on a second writeHead).
        assert.equal((err as { code?: string }).code, 'ERR_INVALID_CHAR');
        res.destroy();
      }
      return;
    case '/slow':
      setTimeout(() => {
        res.writeHead(200, ['Content-Length', '4']);
        res.end(Buffer.from('slow'));
      }, 400);
      return;
    case '/huge':
      res.writeHead(200, ['Content-Length', String(16 * 1024 * 1024)]);
      res.end(Buffer.alloc(16 * 1024 * 1024, 'x'));
      return;
    case '/trickle':
      // Quiet gaps of 300 and 500 ms, each shorter than the request idle timeout of the timeout tests.
      res.writeHead(200, ['Content-Length', '2']);
      setTimeout(() => res.write(Buffer.from('a')), 300);
      setTimeout(() => res.end(Buffer.from('b')), 800);
      return;
    case '/hang':
      hang = res;
      res.once('close', () => hangClosed.shift()?.());
      return;
    default:
      // Bodies are read (node:http side) before answering.
      if ('on' in req) {
        (req as unknown as NodeJS.ReadableStream).on('end', () => {
          res.writeHead(200, ['Content-Length', String(record.body.length)]);
          res.end(Buffer.from(record.body, 'latin1'));
        });
        return;
      }
      res.writeHead(200, ['Content-Length', '2']);
      res.end(Buffer.from('ok'));
  }
}

interface Pair {
  readonly lane: FastLane;
  readonly net: NetServer;
  readonly http: HttpServer;
  readonly port: number;
}

async function laneServer(options: Partial<FastLaneOptions> = {}): Promise<Pair> {
  const http = createHttpServer({ keepAliveTimeout: options.keepAliveTimeoutMs ?? 5000 });
  http.on('request', handler);
  const lane = new FastLane({
    keepAliveTimeoutMs: 5000,
    requestIdleTimeoutMs: 10_000,
    maxHeadBytes: 16 * 1024,
    onRequest: handler,
    handOff: (socket) => {
      http.emit('connection', socket);
      socket.resume();
    },
    ...options,
  });
  const net = createNetServer({ allowHalfOpen: true, noDelay: true }, (socket) => {
    socket.pause();
    lane.accept(socket);
  });
  net.listen(0, '127.0.0.1');
  await once(net, 'listening');
  return { lane, net, http, port: (net.address() as AddressInfo).port };
}

async function nodeServer(): Promise<{ server: HttpServer; port: number }> {
  const server = createHttpServer({ keepAliveTimeout: 5000 });
  server.on('request', handler);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { server, port: (server.address() as AddressInfo).port };
}

/** Sends `text`, returns what came back until the connection closed or stayed quiet for `quietMs`. */
async function exchange(port: number, text: string | string[], quietMs = 150): Promise<{ data: string; closed: boolean }> {
  const socket = connect(port, '127.0.0.1');
  await once(socket, 'connect');
  let data = '';
  let closed = false;
  socket.on('data', (chunk: Buffer) => (data += chunk.toString('latin1')));
  socket.on('error', () => undefined);
  const ended = once(socket, 'close').then(() => (closed = true));
  for (const piece of Array.isArray(text) ? text : [text]) {
    socket.write(piece, 'latin1');
    if (Array.isArray(text)) await sleep(20);
  }
  for (;;) {
    const before = data.length;
    await Promise.race([ended, sleep(quietMs)]);
    if (closed || data.length === before) break;
  }
  socket.destroy();
  return { data, closed };
}

const normalize = (raw: string): string => raw.replace(/Date: [^\r]*\r\n/g, 'Date: *\r\n');

describe('fast lane', () => {
  let pair: Pair;
  let node: { server: HttpServer; port: number };

  before(async () => {
    pair = await laneServer();
    node = await nodeServer();
  });

  after(() => {
    pair.net.close();
    pair.http.close();
    node.server.close();
  });

  describe('writes the bytes node:http writes', () => {
    const requests: Array<[string, string]> = [
      ['Content-Length response', 'GET /fixed HTTP/1.1\r\nHost: a\r\n\r\n'],
      ['chunked response (no Content-Length)', 'GET /chunked HTTP/1.1\r\nHost: a\r\n\r\n'],
      ['object-form headers', 'GET /object HTTP/1.1\r\nHost: a\r\n\r\n'],
      ['HEAD: no body, framing headers kept', 'HEAD /fixed HTTP/1.1\r\nHost: a\r\n\r\n'],
      ['HEAD of a chunked response', 'HEAD /chunked HTTP/1.1\r\nHost: a\r\n\r\n'],
      ['204', 'GET /no-content HTTP/1.1\r\nHost: a\r\n\r\n'],
      ['304', 'GET /not-modified HTTP/1.1\r\nHost: a\r\n\r\n'],
      ['client Connection: close', 'GET /fixed HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n'],
      ['handler Connection: close', 'GET /close HTTP/1.1\r\nHost: a\r\n\r\n'],
      ['head flushed before the body', 'GET /flushed HTTP/1.1\r\nHost: a\r\n\r\n'],
      ['a 64 KiB body', 'GET /large HTTP/1.1\r\nHost: a\r\n\r\n'],
      ['a header value node:http refuses', 'GET /bad-header HTTP/1.1\r\nHost: a\r\n\r\n'],
      ['two requests in one write', 'GET /fixed HTTP/1.1\r\nHost: a\r\n\r\nGET /chunked HTTP/1.1\r\nHost: a\r\n\r\n'],
    ];
    for (const [what, text] of requests) {
      it(what, async () => {
        const [fast, reference] = await Promise.all([exchange(pair.port, text), exchange(node.port, text)]);
        // The refused header: both cut the connection without a byte; every other case is a response.
        assert.ok(reference.data.startsWith('HTTP/1.1 ') || (what.includes('refuses') && reference.data === '' && reference.closed), reference.data);
        assert.equal(normalize(fast.data), normalize(reference.data));
        assert.equal(fast.closed, reference.closed, 'connection closed after the response');
      });
    }
  });

  it('serves plain requests itself, pipelined ones in order', async () => {
    seen.length = 0;
    const { data } = await exchange(pair.port, 'GET /1 HTTP/1.1\r\nHost: a\r\n\r\nGET /2 HTTP/1.1\r\nHost: a\r\n\r\nGET /3 HTTP/1.1\r\nHost: a\r\n\r\n');
    assert.equal(data.match(/HTTP\/1\.1 200 OK/g)?.length, 3);
    assert.deepEqual(
      seen.map((s) => [s.url, s.lane]),
      [
        ['/1', true],
        ['/2', true],
        ['/3', true],
      ],
    );
  });

  it('hands the connection to node:http at the first request with a body, which gets its body', async () => {
    seen.length = 0;
    const { data, closed } = await exchange(pair.port, 'GET /a HTTP/1.1\r\nHost: a\r\n\r\nPOST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhelloGET /b HTTP/1.1\r\nHost: a\r\n\r\n');
    assert.equal(closed, false);
    assert.equal(data.match(/HTTP\/1\.1 200 OK/g)?.length, 3);
    assert.ok(data.includes('\r\n\r\nhello'), data);
    assert.deepEqual(
      seen.map((s) => [s.method, s.url, s.lane, s.body]),
      [
        ['GET', '/a', true, ''],
        ['POST', '/echo', false, 'hello'],
        ['GET', '/b', false, ''],
      ],
    );
  });

  it('leaves malformed requests, HTTP/1.0 and heads split across reads to node:http', async () => {
    seen.length = 0;
    const bad = await exchange(pair.port, 'GET / HTTP/1.1\r\nHost : a\r\n\r\n');
    assert.match(bad.data, /^HTTP\/1\.1 400 Bad Request\r\n/);
    const old = await exchange(pair.port, 'GET /old HTTP/1.0\r\nHost: a\r\n\r\n');
    assert.match(old.data, /^HTTP\/1\.1 200 OK\r\n/);
    assert.match(old.data, /\r\nConnection: close\r\n/);
    assert.equal(old.closed, true);
    const split = await exchange(pair.port, ['GET /split HTTP/1.1\r\nHo', 'st: a\r\n\r\n']);
    assert.match(split.data, /^HTTP\/1\.1 200 OK\r\n/);
    assert.deepEqual(
      seen.map((s) => [s.url, s.lane]),
      [
        ['/old', false],
        ['/split', false],
      ],
    );
  });

  it('a client that goes away mid-response: the response is closed and destroyed', async () => {
    const closed = new Promise<void>((resolve) => hangClosed.push(resolve));
    const socket = connect(pair.port, '127.0.0.1');
    socket.write('GET /hang HTTP/1.1\r\nHost: a\r\n\r\n');
    while (hang === undefined) await sleep(5);
    socket.destroy();
    await closed;
    assert.equal(hang.destroyed, true);
    assert.equal(hang.writableEnded, false);
    hang = undefined;
  });

  it('reads nothing after a request that asked for Connection: close, even while its answer is still going out', async () => {
    seen.length = 0;
    const socket = connect(pair.port, '127.0.0.1');
    await once(socket, 'connect');
    socket.pause(); // a slow reader: the 16 MB answer stays in the socket buffers
    socket.write('GET /huge HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n');
    while (seen.length === 0) await sleep(10);
    await sleep(50);
    socket.write('DELETE /second HTTP/1.1\r\nHost: a\r\n\r\n');
    await sleep(150);
    socket.destroy();
    assert.deepEqual(
      seen.map((s) => s.url),
      ['/huge'],
    );
  });

  it('a client that sends requests without reading the answers waits: nothing piles up in berth', async () => {
    seen.length = 0;
    const socket = connect(pair.port, '127.0.0.1');
    await once(socket, 'connect');
    socket.pause();
    const count = 300; // 300 x 64 KiB answers: far more than the socket buffers hold
    socket.write('GET /large HTTP/1.1\r\nHost: a\r\n\r\n'.repeat(count));
    let before = -1;
    while (seen.length !== before) {
      before = seen.length;
      await sleep(150);
    }
    assert.ok(seen.length < count / 2, `served ${seen.length} of ${count} without the client reading`);
    let received = 0;
    socket.on('data', (chunk: Buffer) => (received += chunk.length));
    socket.resume();
    while (seen.length < count) await sleep(20);
    while (received < count * 64 * 1024) await sleep(20);
    socket.destroy();
  });

  it('client FIN while a request is under way: aborted, as node:http and nginx do', async () => {
    const closed = new Promise<void>((resolve) => hangClosed.push(resolve));
    const socket: Socket = connect(pair.port, '127.0.0.1');
    socket.on('data', () => undefined);
    socket.end('GET /hang HTTP/1.1\r\nHost: a\r\n\r\n');
    await closed;
    await once(socket, 'close');
    hang = undefined;
  });
});

describe('fast lane timeouts and closing', () => {
  it('closes a connection idle for the keep-alive timeout, but not one whose response takes longer', async () => {
    const pair = await laneServer({ keepAliveTimeoutMs: 200, requestIdleTimeoutMs: 1000 });
    try {
      const started = Date.now();
      const idle = await exchange(pair.port, 'GET /fixed HTTP/1.1\r\nHost: a\r\n\r\n', 1000);
      assert.equal(idle.closed, true);
      const elapsed = Date.now() - started;
      assert.ok(elapsed >= 180 && elapsed < 900, `closed after ${elapsed} ms`);
      const slow = await exchange(pair.port, 'GET /slow HTTP/1.1\r\nHost: a\r\n\r\n', 600);
      assert.match(slow.data, /\r\n\r\nslow$/);
    } finally {
      pair.net.close();
      pair.http.close();
    }
  });

  it('the request idle timeout counts each quiet gap on its own', async () => {
    const pair = await laneServer({ keepAliveTimeoutMs: 200, requestIdleTimeoutMs: 600 });
    try {
      const trickle = await exchange(pair.port, 'GET /trickle HTTP/1.1\r\nHost: a\r\n\r\n', 1000);
      assert.match(trickle.data, /\r\n\r\nab$/);
    } finally {
      pair.net.close();
      pair.http.close();
    }
  });

  it('cuts a request idle for longer than the request idle timeout', async () => {
    const pair = await laneServer({ keepAliveTimeoutMs: 5000, requestIdleTimeoutMs: 150 });
    try {
      const slow = await exchange(pair.port, 'GET /slow HTTP/1.1\r\nHost: a\r\n\r\n', 1000);
      assert.equal(slow.closed, true);
      assert.equal(slow.data, '');
    } finally {
      pair.net.close();
      pair.http.close();
    }
  });

  it('close(): idle connections are closed now, a response under way says Connection: close', async () => {
    const pair = await laneServer();
    try {
      const idle = connect(pair.port, '127.0.0.1');
      idle.write('GET /fixed HTTP/1.1\r\nHost: a\r\n\r\n');
      idle.on('data', () => undefined);
      await sleep(50);
      const idleClosed = once(idle, 'close');
      const busy = exchange(pair.port, 'GET /slow HTTP/1.1\r\nHost: a\r\n\r\n', 1000);
      await sleep(50);
      pair.lane.close();
      await idleClosed;
      const { data, closed } = await busy;
      assert.match(data, /\r\nConnection: close\r\n/);
      assert.match(data, /\r\n\r\nslow$/);
      assert.equal(closed, true);
    } finally {
      pair.net.close();
      pair.http.close();
    }
  });
});

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type RequestListener, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { once } from 'node:events';
import { createServer as createNetServer, type AddressInfo, type Server as NetServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Readable } from 'node:stream';
import { describe, it, type TestContext } from 'node:test';
import type { TLSSocket } from 'node:tls';
import type { UpstreamHandler, UpstreamRequest } from './connection.ts';
import { H1Pool, type H1PoolOptions } from './pool.ts';

/** What one exchange's handler saw: `events` in order (consecutive onData calls once), the head, the body. */
interface Rec {
  events: string[];
  status: number;
  headers: string[];
  chunks: Buffer[];
  error: (Error & { code?: string }) | undefined;
  abort: (reason: Error) => void;
  resume: () => void;
}
type OnData = (chunk: Buffer, rec: Rec) => boolean;

const body = (rec: Rec): string => Buffer.concat(rec.chunks).toString('latin1');
const sha = (data: Buffer | Buffer[]): string => createHash('sha256').update(Buffer.isBuffer(data) ? data : Buffer.concat(data)).digest('hex');
const noop = (): void => undefined;

/** Dispatches one request with a recording handler; `done` resolves at onComplete or onError. */
function exchange(pool: H1Pool, request: Partial<UpstreamRequest> = {}, onData?: OnData): { rec: Rec; done: Promise<Rec> } {
  const rec: Rec = { events: [], status: 0, headers: [], chunks: [], error: undefined, abort: noop, resume: noop };
  let resolve: (r: Rec) => void = noop;
  const done = new Promise<Rec>((r) => (resolve = r));
  const note = (event: string, fields: Partial<Rec> = {}): void => void Object.assign(rec, fields).events.push(event);
  const finish = (event: string, fields: Partial<Rec> = {}): void => {
    note(event, fields);
    resolve(rec);
  };
  const handler: UpstreamHandler = {
    onConnect: (abort) => note('connect', { abort }),
    onHeaders: (status, headers, resume) => note('headers', { status, headers, resume }),
    onData: (chunk) => {
      if (rec.events.at(-1) !== 'data') note('data');
      rec.chunks.push(Buffer.from(chunk)); // may be a view of the socket's buffer
      return onData?.(chunk, rec) ?? true;
    },
    onComplete: (last) => {
      // The last piece of a Content-Length body comes with onComplete: recorded as the data it is.
      if (last !== undefined && last.length > 0) {
        if (rec.events.at(-1) !== 'data') note('data');
        rec.chunks.push(Buffer.from(last));
      }
      finish('complete');
    },
    onError: (error) => finish('error', { error }),
  };
  pool.dispatch({ method: 'GET', path: '/', headers: ['host', 'upstream.test'], body: null, ...request }, handler);
  return { rec, done };
}

async function waitFor(what: string, check: () => boolean, ms = 3000): Promise<void> {
  const until = performance.now() + ms;
  while (!check()) {
    if (performance.now() > until) assert.fail(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** `promise`, or a failure when it does not settle within `ms` (instead of a hung test). */
function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what}: not settled within ${ms} ms`)), ms)));
  return Promise.race([promise, late]).finally(() => clearTimeout(timer));
}

/** A server's port, the connections it accepted so far and those still open. */
type Listening = { port: number; accepted: number; open: Set<Socket> };

/** Listens on 127.0.0.1 (random port), tracks connections; the server and its sockets are closed after the test. */
async function listen(t: TestContext, server: Server | NetServer): Promise<Listening> {
  const state: Listening = { port: 0, accepted: 0, open: new Set() };
  server.on('connection', (socket: Socket) => {
    state.accepted++;
    state.open.add(socket);
    socket.on('error', () => undefined).once('close', () => state.open.delete(socket));
  });
  await once(server.listen(0, '127.0.0.1'), 'listening');
  state.port = (server.address() as AddressInfo).port;
  t.after(() => {
    for (const s of state.open) s.destroy();
    return new Promise<void>((resolve) => server.close(() => resolve()));
  });
  return state;
}

function httpUpstream(t: TestContext, handler: RequestListener, keepAliveTimeoutMs = 5000): Promise<Listening> {
  return listen(t, Object.assign(createServer(handler), { keepAliveTimeout: keepAliveTimeoutMs }));
}

type RawConn = { received: Buffer; closed: boolean };

/** A TCP server that calls `onRequest` once per connection, when a request head (CRLFCRLF) has arrived. */
async function rawUpstream(t: TestContext, onRequest: (socket: Socket) => void): Promise<Listening & { conns: RawConn[] }> {
  const conns: RawConn[] = [];
  const server = createNetServer((socket) => {
    const conn: RawConn = { received: Buffer.alloc(0), closed: false };
    conns.push(conn);
    socket.on('close', () => (conn.closed = true));
    socket.on('data', (chunk) => {
      const before = conn.received.includes('\r\n\r\n');
      conn.received = Buffer.concat([conn.received, chunk]);
      if (!before && conn.received.includes('\r\n\r\n')) onRequest(socket);
    });
  });
  return Object.assign(await listen(t, server), { conns });
}

function newPool(t: TestContext, port: number, options: Partial<H1PoolOptions> = {}): H1Pool {
  const pool = new H1Pool({ host: '127.0.0.1', port, tls: false, connectTimeoutMs: 1000, upstreamTimeoutMs: 2000, keepAliveTimeoutMs: 5000, ...options });
  t.after(() => pool.destroy());
  return pool;
}

/** A port nothing listens on (bound, then released). */
async function unusedPort(): Promise<number> {
  const server = createNetServer();
  await once(server.listen(0, '127.0.0.1'), 'listening');
  const { port } = server.address() as AddressInfo;
  await once(server.close(), 'close');
  return port;
}

/** A Readable serving `data` in 64 KiB pieces, counting reads and backpressure pauses. */
function source(data: Buffer): Readable & { reads: number; pauses: number } {
  let offset = 0;
  const read = (): void => {
    stream.reads++;
    stream.push(offset < data.length ? data.subarray(offset, (offset += 65536)) : null);
  };
  const stream = Object.assign(new Readable({ read }), { reads: 0, pauses: 0 });
  return stream.on('pause', () => stream.pauses++);
}

/** A self-signed certificate made with the openssl CLI, or undefined when it cannot be made. */
function selfSigned(): { key: string; cert: string } | undefined {
  const dir = mkdtempSync(join(tmpdir(), 'berth-h1-'));
  try {
    const [key, cert] = [join(dir, 'key.pem'), join(dir, 'cert.pem')];
    const args = ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
    execFileSync('openssl', [...args, '-keyout', key, '-out', cert, '-subj', '/CN=berth-test', '-days', '1'], { stdio: 'ignore', timeout: 5000 });
    return { key: readFileSync(key, 'utf8'), cert: readFileSync(cert, 'utf8') };
  } catch {
    return undefined;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const OK_EVENTS = ['connect', 'headers', 'data', 'complete'];

describe('H1Pool: keep-alive', () => {
  it('reuses one connection for sequential requests and keeps it idle', async (t) => {
    const up = await httpUpstream(t, (req, res) => res.end(`hi ${req.url}`));
    const pool = newPool(t, up.port);
    for (let i = 0; i < 5; i++) {
      const rec = await exchange(pool, { path: `/${i}` }).done;
      assert.deepEqual([rec.events, rec.status, body(rec)], [OK_EVENTS, 200, `hi /${i}`]);
      assert.deepEqual([pool.connections, pool.idle], [1, 1]);
    }
    assert.equal(up.accepted, 1);
  });

  it('does not cap concurrency and keeps at most maxIdle idle connections', async (t) => {
    const waiting: ServerResponse[] = [];
    const up = await httpUpstream(t, (_req, res) => {
      waiting.push(res); // answered only once all three requests are in flight at once
      if (waiting.length === 3) for (const r of waiting) r.end('ok');
    });
    const pool = newPool(t, up.port, { maxIdle: 1 });
    const recs = await within(Promise.all([1, 2, 3].map(() => exchange(pool).done)), 3000, 'three concurrent requests');
    for (const rec of recs) assert.deepEqual([rec.events, body(rec)], [OK_EVENTS, 'ok']);
    assert.deepEqual([up.accepted, pool.connections, pool.idle], [3, 1, 1]);
    await waitFor('the two surplus connections closed upstream', () => up.open.size === 1);
  });

  it('sends connection: close with reset and does not reuse the connection', async (t) => {
    const seen: (string | undefined)[] = [];
    const up = await httpUpstream(t, (req, res) => res.end(String(seen.push(req.headers.connection))));
    const pool = newPool(t, up.port);
    for (let i = 0; i < 2; i++) {
      const rec = await exchange(pool, { reset: true }).done;
      assert.deepEqual(rec.events, OK_EVENTS);
      assert.deepEqual([pool.connections, pool.idle], [0, 0]);
    }
    assert.deepEqual([seen, up.accepted], [['close', 'close'], 2]);
  });

  it('drops an idle connection the upstream closed and opens a new one for the next request', async (t) => {
    const up = await httpUpstream(t, (_req, res) => res.end('ok'));
    const pool = newPool(t, up.port);
    await exchange(pool).done;
    for (const s of up.open) s.destroy();
    await waitFor('the pool to drop the closed connection', () => pool.connections === 0);
    assert.equal(pool.idle, 0);
    const rec = await exchange(pool).done;
    assert.deepEqual([rec.events, rec.error, up.accepted, pool.idle], [OK_EVENTS, undefined, 2, 1]);
  });

  it('does not keep a connection whose Keep-Alive hint is timeout=1 (hint - 1 s <= 0)', async (t) => {
    const up = await httpUpstream(t, (_req, res) => res.end('ok'), 1000);
    const pool = newPool(t, up.port);
    const rec = await exchange(pool).done;
    assert.ok(rec.headers.some((h, i) => i % 2 === 0 && /^keep-alive$/i.test(h) && rec.headers[i + 1] === 'timeout=1'), 'hint sent');
    assert.deepEqual([rec.events, pool.connections, pool.idle], [OK_EVENTS, 0, 0]);
  });

  it('closes an idle connection after keepAliveTimeoutMs when below the upstream hint', async (t) => {
    const up = await httpUpstream(t, (_req, res) => res.end('ok'), 3000);
    const pool = newPool(t, up.port, { keepAliveTimeoutMs: 200 });
    await exchange(pool).done;
    const idleSince = performance.now();
    assert.deepEqual([pool.connections, pool.idle], [1, 1]);
    await waitFor('the idle connection to close', () => pool.connections === 0);
    const elapsed = performance.now() - idleSince;
    assert.ok(elapsed >= 190 && elapsed < 1000, `closed after ${elapsed.toFixed(0)} ms`);
    await waitFor('the upstream to see the close', () => up.open.size === 0);
  });
});

describe('H1Pool: request bodies', () => {
  /** An upstream answering `{ length, sha, te, cl }` of the (decoded) body it received. */
  const echo: RequestListener = (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const { 'transfer-encoding': te = null, 'content-length': cl = null } = req.headers;
      res.end(JSON.stringify({ length: Buffer.concat(chunks).length, sha: sha(chunks), te, cl }));
    });
  };

  it('sends a body with Content-Length as-is and one without it chunked', async (t) => {
    const up = await httpUpstream(t, echo);
    const pool = newPool(t, up.port);
    const parts = [Buffer.from('hello '), Buffer.alloc(0), Buffer.from('w\r\n0\r\n\r\nrld')];
    const whole = Buffer.concat(parts);
    const withLength = ['host', 'x', 'content-length', String(whole.length)];
    for (const [headers, te, cl] of [[withLength, null, String(whole.length)], [['host', 'x'], 'chunked', null]] as const) {
      const rec = await exchange(pool, { method: 'POST', headers, body: Readable.from(parts) }).done;
      assert.deepEqual(rec.events, OK_EVENTS);
      assert.deepEqual(JSON.parse(body(rec)), { length: whole.length, sha: sha(whole), te, cl });
    }
    assert.deepEqual([up.accepted, pool.idle], [1, 1]);
  });

  it('frames the string chunks of a chunked body by their length in bytes', async (t) => {
    const up = await httpUpstream(t, echo);
    const pool = newPool(t, up.port);
    const rec = await within(exchange(pool, { method: 'POST', body: Readable.from(['héllo ', 'wörld']) }).done, 2000, 'string body');
    const whole = Buffer.from('héllo wörld');
    const got = rec.status === 200 ? JSON.parse(body(rec)) : `${rec.status} ${rec.error?.code ?? ''}`;
    assert.deepEqual(got, { length: whole.length, sha: sha(whole), te: 'chunked', cl: null });
  });

  it('streams a large chunked body with backpressure', async (t) => {
    const data = randomBytes(8 * 1024 * 1024);
    let held: { resume(): void } | undefined;
    const up = await httpUpstream(t, (req, res) => {
      req.pause(); // not read until the client's body was paused by backpressure
      held = req;
      echo(req, res);
    });
    const pool = newPool(t, up.port);
    const src = source(data);
    const { done } = exchange(pool, { method: 'PUT', body: src });
    await waitFor('the request body to be paused by backpressure', () => held !== undefined && src.pauses > 0);
    held?.resume();
    const rec = await within(done, 5000, 'the large upload');
    assert.deepEqual(JSON.parse(body(rec)), { length: data.length, sha: sha(data), te: 'chunked', cl: null });
  });

  it('does not read the body when the connection is refused', async (t) => {
    const pool = newPool(t, await unusedPort());
    for (const headers of [['content-length', '3'], []]) {
      const src = source(Buffer.from('abc'));
      const rec = await exchange(pool, { method: 'POST', headers, body: src }).done;
      assert.deepEqual([rec.events, rec.error?.code, src.reads], [['connect', 'error'], 'ECONNREFUSED', 0]);
    }
    assert.equal(pool.connections, 0);
  });
});

describe('H1Pool: responses', () => {
  for (const framing of ['length', 'chunked', 'close']) {
    it(`relays a ${framing}-framed body the upstream ends with a close while the consumer is paused`, async (t) => {
      // The FIN arrives while bytes still wait in the paused parser: the response must complete, not be cut.
      const size = 2 * 1024 * 1024;
      const up = await rawUpstream(t, (socket) => {
        const data = Buffer.alloc(size, 120);
        const head = {
          length: `HTTP/1.1 200 OK\r\nContent-Length: ${size}\r\nConnection: close\r\n\r\n`,
          chunked: `HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n${size.toString(16)}\r\n`,
          close: 'HTTP/1.0 200 OK\r\n\r\n',
        }[framing] as string;
        socket.end(Buffer.concat([Buffer.from(head), data, Buffer.from(framing === 'chunked' ? '\r\n0\r\n\r\n' : '')]));
      });
      const pool = newPool(t, up.port);
      const { rec, done } = exchange(pool, {}, () => {
        setTimeout(() => rec.resume(), 5);
        return false;
      });
      await done;
      assert.equal(rec.events.at(-1), 'complete', String(rec.error));
      assert.equal(body(rec).length, size);
    });
  }

  it('reassembles a chunked body of many chunks and reuses the connection', async (t) => {
    const pieces = Array.from({ length: 300 }, (_, i) => `${i}:${'x'.repeat(i % 37)};`);
    const up = await httpUpstream(t, (_req, res) => {
      for (const p of pieces) res.write(p);
      res.end();
    });
    const pool = newPool(t, up.port);
    for (let i = 0; i < 2; i++) {
      const rec = await exchange(pool).done;
      assert.deepEqual([rec.events, body(rec)], [OK_EVENTS, pieces.join('')]);
      assert.ok(rec.headers.includes('chunked'));
    }
    assert.deepEqual([up.accepted, pool.idle], [1, 1]);
  });

  it('reads a close-delimited body to the end and does not keep the connection', async (t) => {
    const up = await rawUpstream(t, (socket) => {
      socket.write('HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\npart one, ');
      setImmediate(() => socket.end('part two'));
    });
    const pool = newPool(t, up.port);
    const rec = await exchange(pool).done;
    assert.deepEqual([rec.events, body(rec), pool.connections], [OK_EVENTS, 'part one, part two', 0]);
  });

  it('expects no body after HEAD, 204 and 304, and reuses the connection', async (t) => {
    const up = await httpUpstream(t, (req, res) => {
      if (req.method === 'HEAD') res.writeHead(200, { 'content-length': '1234' }).end();
      else res.writeHead(Number(req.url?.slice(1)), { etag: '"e"' }).end();
    });
    const pool = newPool(t, up.port);
    for (const [method, path, status] of [['HEAD', '/', 200], ['GET', '/204', 204], ['GET', '/304', 304], ['HEAD', '/', 200]] as const) {
      const rec = await within(exchange(pool, { method, path }).done, 2000, `${method} ${path}`);
      assert.deepEqual([rec.events, rec.status, rec.chunks.length], [['connect', 'headers', 'complete'], status, 0]);
    }
    assert.deepEqual([up.accepted, pool.idle], [1, 1]);
  });

  it('skips a 100 Continue before the final response', async (t) => {
    const up = await rawUpstream(t, (socket) => {
      socket.write('HTTP/1.1 100 Continue\r\n\r\n');
      setImmediate(() => socket.write('HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\ndone'));
    });
    const pool = newPool(t, up.port);
    const rec = await exchange(pool).done;
    assert.deepEqual([rec.events, rec.status, body(rec), pool.idle], [OK_EVENTS, 200, 'done', 1]);
  });

  /** onData returns false every time, resume() comes later; `violations`: data received while paused. */
  function pausing(firstPauseMs: number): { onData: OnData; pauses: number; violations: number } {
    let paused = false;
    const state = { pauses: 0, violations: 0, onData: (_chunk: Buffer, rec: Rec): boolean => {
      if (paused) state.violations++;
      paused = true;
      const resume = (): void => {
        paused = false;
        rec.resume();
      };
      if (state.pauses++ === 0) setTimeout(resume, firstPauseMs);
      else setImmediate(resume);
      return false;
    } };
    return state;
  }

  it('pauses a large Content-Length body while onData returns false (not counted as upstream silence)', async (t) => {
    const data = randomBytes(6 * 1024 * 1024);
    const up = await httpUpstream(t, (_req, res) => res.writeHead(200, { 'content-length': data.length }).end(data));
    const pool = newPool(t, up.port, { upstreamTimeoutMs: 200 });
    const hooks = pausing(400); // the first pause outlasts upstreamTimeoutMs
    const rec = await within(exchange(pool, {}, hooks.onData).done, 5000, 'the large response');
    assert.equal(rec.error, undefined);
    assert.equal(sha(rec.chunks), sha(data));
    assert.ok(hooks.pauses > 1);
    assert.equal(hooks.violations, 0, 'onData called while paused');
    assert.equal(pool.idle, 1);
  });

  it('pauses a chunked body while onData returns false, even within one read', async (t) => {
    const frame = Array.from({ length: 200 }, (_, i) => `5\r\n${String(i).padStart(5, '0')}\r\n`).join('');
    const up = await rawUpstream(t, (socket) => socket.write(`HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n${frame}0\r\n\r\n`));
    const pool = newPool(t, up.port);
    const hooks = pausing(0);
    const rec = await within(exchange(pool, {}, hooks.onData).done, 3000, 'the chunked response');
    assert.equal(body(rec), Array.from({ length: 200 }, (_, i) => String(i).padStart(5, '0')).join(''));
    assert.equal(hooks.violations, 0, 'onData called while paused');
  });
});

describe('H1Pool: errors', () => {
  const cases: [string, (s: Socket) => void, string, string[], string][] = [
    ['a close before the head', (s) => s.end(), 'UPSTREAM_CLOSED', ['connect', 'error'], ''],
    ['a close mid-body', (s) => s.end('HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc'), 'UPSTREAM_CLOSED', ['connect', 'headers', 'data', 'error'], 'abc'],
    ['a garbage status line', (s) => s.write('garbage\r\n\r\n'), 'UPSTREAM_BAD_RESPONSE', ['connect', 'error'], ''],
  ];
  for (const [what, respond, code, events, text] of cases) {
    it(`fails with ${code} on ${what}`, async (t) => {
      const up = await rawUpstream(t, respond);
      const pool = newPool(t, up.port);
      const rec = await within(exchange(pool).done, 2000, what);
      assert.deepEqual([rec.error?.code, rec.events, body(rec), pool.connections], [code, events, text, 0]);
    });
  }

  it('fails with UPSTREAM_TIMEOUT when the upstream stays silent for upstreamTimeoutMs', async (t) => {
    const up = await rawUpstream(t, () => undefined);
    const pool = newPool(t, up.port, { upstreamTimeoutMs: 200 });
    const started = performance.now();
    const rec = await within(exchange(pool).done, 3000, 'the timeout');
    const elapsed = performance.now() - started;
    assert.deepEqual([rec.error?.code, rec.events], ['UPSTREAM_TIMEOUT', ['connect', 'error']]);
    assert.ok(elapsed >= 195 && elapsed < 1000, `fired after ${elapsed.toFixed(0)} ms`);
    await waitFor('the upstream to see the close', () => up.conns[0]?.closed === true);
  });

  it('fails with UPSTREAM_BAD_REQUEST and sends nothing for a target with a space or CR, or a header with LF', async (t) => {
    const up = await rawUpstream(t, (s) => s.write('HTTP/1.1 204 No Content\r\n\r\n'));
    const pool = newPool(t, up.port);
    for (const request of [{ path: '/a b' }, { path: '/a\rb' }, { headers: ['x-a', 'b\nc'] }]) {
      const rec = await exchange(pool, request).done;
      assert.deepEqual([rec.error?.code, rec.events], ['UPSTREAM_BAD_REQUEST', ['connect', 'error']]);
    }
    assert.equal((await exchange(pool, { path: '/good' }).done).status, 204);
    const sent = up.conns.map((c) => c.received.toString('latin1')).filter((r) => r !== '');
    assert.deepEqual(sent.map((r) => r.split(' ', 2)[1]), ['/good']);
  });

  it('ends the exchange with the reason given to abort() mid-response and closes the connection', async (t) => {
    let serverSawClose = false;
    const up = await httpUpstream(t, (req, res) => {
      req.socket.once('close', () => (serverSawClose = true));
      res.writeHead(200, { 'content-length': '100' }).write('partial');
    });
    const pool = newPool(t, up.port);
    const { rec, done } = exchange(pool);
    await waitFor('the first body bytes', () => rec.chunks.length > 0);
    const reason = new Error('client went away');
    rec.abort(reason);
    const result = await done;
    assert.equal(result.error, reason);
    assert.deepEqual([rec.events, pool.connections], [['connect', 'headers', 'data', 'error'], 0]);
    await waitFor('the upstream to see the close', () => serverSawClose);
    rec.abort(new Error('again')); // after the end: no effect
    assert.deepEqual(rec.events, ['connect', 'headers', 'data', 'error']);
  });
});

describe('H1Pool: TLS', () => {
  it('speaks TLS without verification and sends no SNI for an IP host', async (t) => {
    const pair = selfSigned();
    if (pair === undefined) return void t.skip('no certificate: the openssl CLI is missing or failed');
    const servernames: unknown[] = [];
    const server = createHttpsServer(pair, (req, res) => res.end(`tls ${req.url}`));
    server.on('secureConnection', (s: TLSSocket) => servernames.push(s.servername));
    const up = await listen(t, server);
    const pool = newPool(t, up.port, { tls: true });
    for (const path of ['/1', '/2']) {
      const rec = await within(exchange(pool, { path }).done, 3000, `TLS ${path}`);
      assert.deepEqual([rec.events, rec.error, body(rec)], [OK_EVENTS, undefined, `tls ${path}`]);
    }
    assert.deepEqual([up.accepted, servernames.length, pool.idle], [1, 1, 1]);
    assert.ok(!servernames[0], `SNI sent: ${String(servernames[0])}`);
  });

  // A failed handshake sent nothing (the request waits in the TLS socket): retry-policy.ts may try another backend.
  const handshakeFailures: [string, (s: Socket) => void][] = [
    ['answers in plain HTTP', (s) => s.once('data', () => s.end('HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n'))],
    ['closes the connection during the handshake', (s) => s.once('data', () => s.end())],
    ['resets the connection during the handshake', (s) => s.once('data', () => s.resetAndDestroy())],
  ];
  for (const [what, respond] of handshakeFailures) {
    it(`fails with UPSTREAM_TLS_HANDSHAKE when the upstream ${what}, and the request never left in the clear`, async (t) => {
      const received: Buffer[] = [];
      const server = createNetServer((s) => {
        s.on('data', (chunk: Buffer) => received.push(chunk));
        respond(s);
      });
      const up = await listen(t, server);
      const pool = newPool(t, up.port, { tls: true });
      const rec = await within(exchange(pool, { path: '/secret-path' }).done, 3000, what);
      assert.deepEqual([rec.error?.code, rec.events, pool.connections], ['UPSTREAM_TLS_HANDSHAKE', ['connect', 'error'], 0]);
      assert.match(rec.error?.message ?? '', /^TLS handshake with 127\.0\.0\.1:\d+ failed: /);
      assert.ok(!Buffer.concat(received).includes('secret-path'), 'the request was not sent in the clear');
    });
  }

  it('keeps the system code for a refused TLS connection, and UPSTREAM_CONNECT_TIMEOUT for a stalled handshake', async (t) => {
    const refused = newPool(t, await unusedPort(), { tls: true });
    assert.equal((await within(exchange(refused).done, 3000, 'refused')).error?.code, 'ECONNREFUSED');
    const up = await listen(t, createNetServer(() => undefined)); // accepts, never answers the ClientHello
    const stalled = newPool(t, up.port, { tls: true, connectTimeoutMs: 200 });
    assert.equal((await within(exchange(stalled).done, 3000, 'stalled')).error?.code, 'UPSTREAM_CONNECT_TIMEOUT');
  });
});

describe('H1Pool: close and destroy', () => {
  /** An upstream that answers `/slow` (head at once, body 'slow done') only when `release()` is called. */
  async function slowUpstream(t: TestContext): Promise<Listening & { release?: () => void }> {
    const up: Listening & { release?: () => void } = await httpUpstream(t, (req, res) => {
      if (req.url !== '/slow') return void res.end('fast');
      res.writeHead(200, { 'content-length': '9' }).flushHeaders();
      up.release = () => res.end('slow done');
    });
    return up;
  }

  it('close() closes idle connections at once, lets a busy one finish, then resolves', async (t) => {
    const up = await slowUpstream(t);
    const pool = newPool(t, up.port);
    const slow = exchange(pool, { path: '/slow' });
    await exchange(pool, { path: '/fast' }).done;
    await waitFor('the slow response head', () => slow.rec.status === 200);
    assert.deepEqual([pool.connections, pool.idle], [2, 1]);
    let closed = false;
    const closing = pool.close().then(() => (closed = true));
    assert.deepEqual([pool.connections, pool.idle], [1, 0]);
    await waitFor('the upstream to see the idle connection close', () => up.open.size === 1);
    const late = exchange(pool);
    assert.deepEqual(late.rec.events, ['connect'], 'UPSTREAM_POOL_CLOSED is reported asynchronously');
    assert.equal((await late.done).error?.code, 'UPSTREAM_POOL_CLOSED');
    assert.equal(closed, false);
    up.release?.();
    const rec = await slow.done;
    assert.deepEqual([rec.events, body(rec)], [OK_EVENTS, 'slow done']);
    await within(closing, 2000, 'close()');
    assert.equal(pool.connections, 0);
  });

  it('close() called twice resolves both promises', async (t) => {
    const up = await slowUpstream(t);
    const pool = newPool(t, up.port);
    const slow = exchange(pool, { path: '/slow' });
    await waitFor('the slow response head', () => slow.rec.status === 200);
    const both = Promise.all([pool.close(), pool.close()]);
    up.release?.();
    await slow.done;
    await within(both, 1000, 'both close() promises');
  });

  it('destroy() fails a busy exchange with UPSTREAM_CLOSED', async (t) => {
    const up = await slowUpstream(t);
    const pool = newPool(t, up.port);
    const slow = exchange(pool, { path: '/slow' });
    await waitFor('the slow response head', () => slow.rec.status === 200);
    await pool.destroy();
    const rec = await slow.done;
    assert.deepEqual([rec.error?.code, rec.events, pool.connections], ['UPSTREAM_CLOSED', ['connect', 'headers', 'error'], 0]);
    await waitFor('the upstream to see the close', () => up.open.size === 0);
  });
});

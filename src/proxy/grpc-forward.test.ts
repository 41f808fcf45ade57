import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import {
  connect as h2connect,
  constants,
  createSecureServer,
  createServer as createH2Server,
  type ClientHttp2Session,
  type Http2SecureServer,
  type Http2Server,
  type IncomingHttpHeaders,
  type ServerHttp2Stream,
} from 'node:http2';
import { connect as netConnect, type AddressInfo, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { newRoute, newVirtualHost, type RoutingTable, type Upstream, type UpstreamProto } from '../routing-table.ts';
import { proxyHeaderV1 } from './proxy-protocol.ts';
import { freePort, send, startEchoBackend, startPlane, upstream, waitFor, type Backend, type TestPlane } from './test-harness.ts';

// ---- a tiny gRPC server on node:http2: 5-byte length-prefixed messages, trailers with grpc-status ----

function frame(message: string): Buffer {
  const payload = Buffer.from(message);
  const head = Buffer.alloc(5);
  head.writeUInt32BE(payload.length, 1);
  return Buffer.concat([head, payload]);
}

function unframe(data: Buffer): string[] {
  const out: string[] = [];
  for (let at = 0; at + 5 <= data.length; ) {
    const length = data.readUInt32BE(at + 1);
    out.push(data.subarray(at + 5, at + 5 + length).toString());
    at += 5 + length;
  }
  return out;
}

interface GrpcBackend {
  readonly port: number;
  /** Request headers of every stream, in arrival order. */
  readonly seen: IncomingHttpHeaders[];
  /** Streams the backend saw closed before it ended them (client cancel reached it). */
  readonly cancelled: number;
  readonly sessions: number;
  /** Releases the `/test.Echo/Held` calls. */
  release(): void;
  close(): Promise<void>;
  /** Stops listening and drops every connection at once (a killed container). */
  kill(): Promise<void>;
}

/**
 * Methods: Unary (one reply per request message: `echo:<message>`, then grpc-status 0), Fail (Trailers-Only,
 * grpc-status 5), Forever (a message, then nothing until cancelled), Reset (headers and a message, then
 * RST_STREAM INTERNAL_ERROR), Crash (a message, then the connection drops), Held (answers once released), GoAway (answers, then GOAWAY on its session).
 */
async function startGrpcBackend(name: string, tls?: { key: Buffer; cert: Buffer }): Promise<GrpcBackend> {
  const seen: IncomingHttpHeaders[] = [];
  let cancelled = 0;
  const sessions = new Set<unknown>(); // sessions that carried a stream (readiness probes connect too)
  let released = false;
  const held: (() => void)[] = [];
  const server: Http2Server | Http2SecureServer = tls === undefined ? createH2Server() : createSecureServer({ ...tls, allowHTTP1: false });
  const sockets = new Set<Socket>();
  server.on(tls === undefined ? 'connection' : 'secureConnection', (socket: Socket) => sockets.add(socket));
  server.on('stream', (stream: ServerHttp2Stream, headers: IncomingHttpHeaders) => {
    seen.push(headers);
    sessions.add(stream.session);
    stream.on('error', () => undefined);
    let ended = false;
    stream.once('close', () => {
      if (!ended) cancelled++;
    });
    const path = headers[':path'];
    const finish = (): void => {
      ended = true;
      stream.end();
    };
    if (path === '/test.Echo/Fail') {
      ended = true;
      stream.respond({ ':status': 200, 'content-type': 'application/grpc', 'grpc-status': '5', 'grpc-message': 'not found' }, { endStream: true });
      return;
    }
    stream.respond({ ':status': 200, 'content-type': 'application/grpc', 'x-backend': name }, { waitForTrailers: true });
    stream.on('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '0', 'grpc-message': 'fine' }));
    if (path === '/test.Echo/Forever') {
      stream.write(frame('first'));
      stream.resume();
      return;
    }
    if (path === '/test.Echo/Crash') {
      stream.write(frame('partial'), () => {
        for (const socket of sockets) socket.destroy();
      });
      return;
    }
    if (path === '/test.Echo/Reset') {
      stream.write(frame('partial'), () => stream.close(constants.NGHTTP2_INTERNAL_ERROR));
      return;
    }
    const chunks: Buffer[] = [];
    stream.on('data', (c: Buffer) => chunks.push(c));
    stream.on('end', () => {
      const answer = (): void => {
        for (const m of unframe(Buffer.concat(chunks))) stream.write(frame(`echo:${m}`));
        finish();
        if (path === '/test.Echo/GoAway') stream.session?.close();
      };
      if (path === '/test.Echo/Held' && !released) held.push(answer);
      else answer();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    seen,
    get cancelled() {
      return cancelled;
    },
    get sessions() {
      return sessions.size;
    },
    release: () => {
      released = true;
      for (const answer of held.splice(0)) answer();
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
    kill: () => {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const socket of sockets) socket.destroy();
      return closed;
    },
  };
}

// ---- a hand-framed gRPC client ----

function h2client(port: number, options: Parameters<typeof h2connect>[1] = {}): ClientHttp2Session {
  const session = h2connect(`http://127.0.0.1:${port}`, options);
  session.on('error', () => undefined); // a call sees its stream close
  return session;
}

interface CallResult {
  readonly headers: IncomingHttpHeaders;
  readonly messages: string[];
  readonly trailers: IncomingHttpHeaders;
  readonly rstCode: number;
  readonly body: string;
}

function call(session: ClientHttp2Session, path: string, messages: readonly string[], authority = 'grpc.test', contentType = 'application/grpc'): Promise<CallResult> {
  return new Promise((resolve) => {
    const stream = session.request({ ':method': 'POST', ':path': path, ':authority': authority, 'content-type': contentType, te: 'trailers', 'x-forwarded-for': '198.51.100.9' });
    let headers: IncomingHttpHeaders = {};
    let trailers: IncomingHttpHeaders = {};
    const chunks: Buffer[] = [];
    stream.on('response', (h: IncomingHttpHeaders) => (headers = h));
    stream.on('trailers', (t: IncomingHttpHeaders) => (trailers = t));
    stream.on('data', (c: Buffer) => chunks.push(c));
    stream.on('error', () => undefined);
    stream.on('close', () => {
      const data = Buffer.concat(chunks);
      resolve({ headers, trailers, messages: contentType === 'application/grpc' ? unframe(data) : [], rstCode: stream.rstCode ?? 0, body: data.toString() });
    });
    for (const m of messages) stream.write(frame(m));
    stream.end();
  });
}

/** The grpc-status a client reads: from the trailers, or from the headers of a Trailers-Only response. */
const grpcStatus = (r: CallResult): string | undefined => String(r.trailers['grpc-status'] ?? r.headers['grpc-status']);

function grpcTable(hosts: Record<string, { proto?: UpstreamProto; upstreams: readonly Upstream[] }>): RoutingTable {
  return {
    hosts: Object.keys(hosts)
      .sort()
      .map((hostname) => newVirtualHost({ hostname, routes: [newRoute({ proto: hosts[hostname]?.proto ?? 'grpc', upstreams: hosts[hostname]?.upstreams ?? [] })] })),
    issues: [],
  };
}

describe('gRPC over h2c', () => {
  let g: GrpcBackend;
  let web: Backend;
  let plane: TestPlane;
  let client: ClientHttp2Session;

  before(async () => {
    g = await startGrpcBackend('g1');
    web = await startEchoBackend('web');
    plane = await startPlane(grpcTable({ 'grpc.test': { upstreams: [upstream(g.port, 'g1')] }, 'web.test': { proto: 'http', upstreams: [upstream(web.port, 'web')] } }), {
      backendWaitMs: 300,
    });
    client = h2client(plane.port ?? 0);
  });
  after(async () => {
    client.close();
    await plane.stop(1000);
    await g.close();
    await web.close();
  });

  it('forwards a unary call: message, response headers and trailers (grpc-status)', async () => {
    const r = await call(client, '/test.Echo/Unary', ['hello']);
    assert.equal(r.headers[':status'], 200);
    assert.equal(r.headers['x-backend'], 'g1');
    assert.deepEqual(r.messages, ['echo:hello']);
    assert.equal(r.trailers['grpc-status'], '0');
    assert.equal(r.trailers['grpc-message'], 'fine');
    const seen = g.seen.at(-1) ?? {};
    assert.equal(seen[':authority'], 'grpc.test');
    assert.equal(seen[':path'], '/test.Echo/Unary');
    assert.equal(seen.te, 'trailers');
    assert.equal(seen['x-real-ip'], '127.0.0.1');
    assert.equal(seen['x-forwarded-for'], '198.51.100.9, 127.0.0.1');
  });

  it('streams several messages each way on one call, and multiplexes calls on one backend session', async () => {
    const results = await Promise.all([call(client, '/test.Echo/Unary', ['a', 'b', 'c']), call(client, '/test.Echo/Unary', ['d'])]);
    assert.deepEqual(results[0]?.messages, ['echo:a', 'echo:b', 'echo:c']);
    assert.deepEqual(results[1]?.messages, ['echo:d']);
    assert.equal(g.sessions, 1);
  });

  it('passes a Trailers-Only error through', async () => {
    const r = await call(client, '/test.Echo/Fail', ['x']);
    assert.equal(r.headers['grpc-status'], '5');
    assert.equal(r.headers['grpc-message'], 'not found');
  });

  it('answers an unknown host with grpc-status 14 to gRPC clients, 503 to others', async () => {
    const r = await call(client, '/test.Echo/Unary', ['x'], 'nope.test');
    assert.equal(r.headers[':status'], 200);
    assert.equal(grpcStatus(r), '14');
    assert.match(String(r.headers['grpc-message']), /no route for host/);
    assert.equal(r.headers['x-berth-error'], 'NO_ROUTE');
    const plain = await call(client, '/', [], 'nope.test', 'text/plain');
    assert.equal(plain.headers[':status'], 503);
    assert.match(plain.body, /^503 Service Unavailable: no route for host "nope\.test"/);
  });

  it('answers 505 on HTTP/2 for a route whose backend speaks HTTP/1, and HTTP/1.1 still works on the port', async () => {
    const r = await call(client, '/', [], 'web.test', 'text/plain');
    assert.equal(r.headers[':status'], 505);
    assert.match(r.body, /VIRTUAL_PROTO=http.*use HTTP\/1\.1/);
    const grpc = await call(client, '/test.Echo/Unary', ['x'], 'web.test');
    assert.equal(grpcStatus(grpc), '12');
    assert.equal((await send(plane.port ?? 0, { headers: { host: 'web.test' } })).status, 200);
  });

  it('cancels the backend stream when the client cancels', async () => {
    const before = g.cancelled;
    const stream = client.request({ ':method': 'POST', ':path': '/test.Echo/Forever', ':authority': 'grpc.test', 'content-type': 'application/grpc', te: 'trailers' });
    stream.on('error', () => undefined);
    await new Promise<void>((resolve) => stream.once('data', () => resolve()));
    stream.close(constants.NGHTTP2_CANCEL);
    await waitFor(() => g.cancelled === before + 1, 5000, 'backend stream cancelled');
  });

  it('resets the client stream when the backend resets its stream or its connection drops', async () => {
    for (const method of ['Reset', 'Crash']) {
      const r = await call(client, `/test.Echo/${method}`, []);
      assert.deepEqual(r.messages, ['partial'], method);
      assert.equal(r.rstCode, constants.NGHTTP2_INTERNAL_ERROR, method);
      assert.equal(r.trailers['grpc-status'], undefined, method);
    }
    // and the next call gets a fresh backend session
    assert.equal(grpcStatus(await call(client, '/test.Echo/Unary', ['x'])), '0');
  });
});

describe('gRPC backends coming and going', () => {
  it('answers grpc-status 14 when no backend is ready, after the bounded wait', async () => {
    const dead = await freePort();
    const plane = await startPlane(grpcTable({ 'grpc.test': { upstreams: [upstream(dead, 'dead')] } }), { backendWaitMs: 200 });
    const client = h2client(plane.port ?? 0);
    try {
      const r = await call(client, '/test.Echo/Unary', ['x']);
      assert.equal(grpcStatus(r), '14');
      assert.equal(r.headers['x-berth-error'], 'NO_READY_BACKEND');
    } finally {
      client.close();
      await plane.stop(1000);
    }
  });

  it('answers grpc-status 14 with a message when the backend went down', async () => {
    const g = await startGrpcBackend('g');
    const plane = await startPlane(grpcTable({ 'grpc.test': { upstreams: [upstream(g.port, 'g')] } }), { backendWaitMs: 300 });
    const client = h2client(plane.port ?? 0);
    try {
      assert.equal(grpcStatus(await call(client, '/test.Echo/Unary', ['x'])), '0');
      await g.kill();
      const r = await call(client, '/test.Echo/Unary', ['x']);
      assert.equal(grpcStatus(r), '14');
      assert.match(String(r.headers['grpc-message']), /^50[23] /);
    } finally {
      client.close();
      await plane.stop(1000);
    }
  });

  it('sends calls only to ready backends', async () => {
    const ready = await startGrpcBackend('ready');
    const leaving = await startGrpcBackend('leaving');
    const plane = await startPlane(grpcTable({ 'grpc.test': { upstreams: [upstream(ready.port, 'ready'), { ...upstream(leaving.port, 'leaving'), draining: true }] } }));
    const client = h2client(plane.port ?? 0);
    try {
      for (let i = 0; i < 4; i++) assert.equal((await call(client, '/test.Echo/Unary', ['x'])).headers['x-backend'], 'ready');
      assert.equal(leaving.seen.length, 0);
    } finally {
      client.close();
      await plane.stop(1000);
      await ready.close();
      await leaving.close();
    }
  });

  it('opens a new backend session after the backend sent GOAWAY', async () => {
    const g = await startGrpcBackend('g');
    const plane = await startPlane(grpcTable({ 'grpc.test': { upstreams: [upstream(g.port, 'g')] } }));
    const client = h2client(plane.port ?? 0);
    try {
      assert.equal(grpcStatus(await call(client, '/test.Echo/GoAway', ['x'])), '0');
      const r = await call(client, '/test.Echo/Unary', ['y']);
      assert.equal(grpcStatus(r), '0');
      assert.deepEqual(r.messages, ['echo:y']);
      assert.equal(g.sessions, 2);
    } finally {
      client.close();
      await plane.stop(1000);
      await g.close();
    }
  });

  it('stops gracefully: GOAWAY to clients, calls in flight finish', async () => {
    const g = await startGrpcBackend('g');
    const plane = await startPlane(grpcTable({ 'grpc.test': { upstreams: [upstream(g.port, 'g')] } }));
    const client = h2client(plane.port ?? 0);
    let goaway = false;
    client.on('goaway', () => (goaway = true));
    try {
      const inFlight = call(client, '/test.Echo/Held', ['late']);
      await waitFor(() => g.seen.length === 1, 5000, 'call at the backend');
      const stopped = plane.stop(5000);
      await waitFor(() => goaway, 5000, 'GOAWAY from berth');
      g.release();
      const r = await inFlight;
      assert.deepEqual(r.messages, ['echo:late']);
      assert.equal(r.trailers['grpc-status'], '0');
      await stopped;
    } finally {
      client.destroy();
      await g.close();
    }
  });
});

describe('gRPC on an EXTERNAL_HTTP_PORT', () => {
  it('serves a gRPC host on its own port only, next to HTTP/1 on the same port', async () => {
    const g = await startGrpcBackend('g');
    const web = await startEchoBackend('web');
    const extra = await freePort();
    const t: RoutingTable = {
      hosts: [
        newVirtualHost({ hostname: 'grpc.test', httpPort: extra, routes: [newRoute({ proto: 'grpc', upstreams: [upstream(g.port, 'g')] })] }),
        newVirtualHost({ hostname: 'web.test', httpPort: extra, routes: [newRoute({ upstreams: [upstream(web.port, 'web')] })] }),
      ],
      issues: [],
    };
    const plane = await startPlane(t);
    const onExtra = h2client(extra);
    const onMain = h2client(plane.port ?? 0);
    try {
      const r = await call(onExtra, '/test.Echo/Unary', ['x']);
      assert.equal(grpcStatus(r), '0');
      assert.deepEqual(r.messages, ['echo:x']);
      assert.equal((await send(extra, { headers: { host: 'web.test' } })).status, 200);
      const elsewhere = await call(onMain, '/test.Echo/Unary', ['x']);
      assert.equal(grpcStatus(elsewhere), '14');
      assert.equal(elsewhere.headers['x-berth-error'], 'NO_ROUTE');
    } finally {
      onExtra.close();
      onMain.close();
      await plane.stop(1000);
      await g.close();
      await web.close();
    }
  });
});

describe('gRPC stop past the grace period', () => {
  it('cuts streams still open when the grace period ends, and closes the backend sessions', async () => {
    const g = await startGrpcBackend('g');
    const plane = await startPlane(grpcTable({ 'grpc.test': { upstreams: [upstream(g.port, 'g')] } }));
    const client = h2client(plane.port ?? 0);
    try {
      const inFlight = call(client, '/test.Echo/Held', ['never']);
      await waitFor(() => g.seen.length === 1, 5000, 'call at the backend');
      const started = Date.now();
      await plane.stop(300);
      assert.ok(Date.now() - started >= 250, 'waited for the grace period');
      const r = await inFlight;
      assert.equal(r.trailers['grpc-status'], undefined, 'not passed off as complete');
      await waitFor(() => g.cancelled === 1, 5000, 'backend stream cancelled');
    } finally {
      client.destroy();
      g.release();
      await g.close();
    }
  });
});

describe('gRPC access log', () => {
  it('writes one line per stream: status, body bytes, upstream, request headers; 499 for a call cancelled while waiting', async () => {
    const g = await startGrpcBackend('g');
    const lines: string[] = [];
    const write = process.stdout.write.bind(process.stdout);
    process.stdout.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
      const text = Buffer.from(chunk).toString('latin1');
      if (!text.includes('log.test')) return (write as (c: string | Uint8Array, ...r: unknown[]) => boolean)(chunk, ...rest);
      lines.push(...text.split('\n').filter((l) => l !== ''));
      return true;
    }) as typeof process.stdout.write;
    const format = '$host "$request" $status $body_bytes_sent $upstream_addr $upstream_status $http_te $server_port';
    const t = grpcTable({ 'log.test': { upstreams: [upstream(g.port, 'g')] }, 'wait.log.test': { upstreams: [{ ...upstream(g.port, 'g'), draining: true }] } });
    const plane = await startPlane(t, { accessLog: { enabled: true, format, escape: 'default' } });
    const client = h2client(plane.port ?? 0);
    try {
      await call(client, '/test.Echo/Unary', ['hi'], 'log.test');
      await call(client, '/test.Echo/Unary', ['x'], 'nope.log.test');
      const waiting = client.request({ ':method': 'POST', ':path': '/test.Echo/Unary', ':authority': 'wait.log.test', 'content-type': 'application/grpc' });
      waiting.on('error', () => undefined);
      waiting.end(frame('x'));
      await waitFor(() => plane.waiting === 1, 5000, 'call waiting for a ready backend');
      waiting.close(constants.NGHTTP2_CANCEL);
      await waitFor(() => lines.length === 3, 5000, 'three access log lines');
      const port = plane.port ?? 0;
      assert.deepEqual(lines, [
        `log.test "POST /test.Echo/Unary HTTP/2.0" 200 12 127.0.0.1:${g.port} 200 trailers ${port}`,
        `nope.log.test "POST /test.Echo/Unary HTTP/2.0" 200 0 - - trailers ${port}`,
        `wait.log.test "POST /test.Echo/Unary HTTP/2.0" 499 0 - - - ${port}`,
      ]);
    } finally {
      process.stdout.write = write;
      client.close();
      await plane.stop(1000);
      await g.close();
    }
  });
});

describe('gRPC with PROXY protocol and grpcs', () => {
  let dir: string;
  let tls: { key: Buffer; cert: Buffer };

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'berth-grpcs-'));
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'), '-days', '1', '-subj', '/CN=backend.invalid'], { stdio: 'ignore' });
    tls = { key: readFileSync(join(dir, 'key.pem')), cert: readFileSync(join(dir, 'cert.pem')) };
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('takes the client address from the PROXY header on an h2c connection', async () => {
    const g = await startGrpcBackend('g');
    const plane = await startPlane(grpcTable({ 'grpc.test': { upstreams: [upstream(g.port, 'g')] } }), { enableProxyProtocol: true });
    const socket = netConnect({ host: '127.0.0.1', port: plane.port ?? 0 });
    socket.write(proxyHeaderV1({ sourceAddress: '203.0.113.7', sourcePort: 4000, destinationAddress: '198.51.100.1', destinationPort: 80 }));
    const client = h2client(plane.port ?? 0, { createConnection: () => socket });
    try {
      const r = await call(client, '/test.Echo/Unary', ['x']);
      assert.equal(grpcStatus(r), '0');
      assert.equal(g.seen.at(-1)?.['x-real-ip'], '203.0.113.7');
    } finally {
      client.close();
      await plane.stop(1000);
      await g.close();
    }
  });

  it('speaks TLS to grpcs backends without verifying their certificate', async () => {
    const g = await startGrpcBackend('secure', tls);
    const plane = await startPlane(grpcTable({ 'grpc.test': { proto: 'grpcs', upstreams: [upstream(g.port, 'secure')] } }));
    const client = h2client(plane.port ?? 0);
    try {
      const r = await call(client, '/test.Echo/Unary', ['tls']);
      assert.equal(grpcStatus(r), '0');
      assert.deepEqual(r.messages, ['echo:tls']);
      assert.equal(g.seen.at(-1)?.[':scheme'], 'https');
    } finally {
      client.close();
      await plane.stop(1000);
      await g.close();
    }
  });
});

describe('gRPC over h2c: Basic auth (htpasswd)', () => {
  it('answers grpc-status 16 UNAUTHENTICATED without the right credentials, and forwards the call with them', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'berth-grpc-auth-'));
    // `printf secret | openssl sha1 -binary | base64`
    writeFileSync(join(dir, 'grpc.test'), 'ann:{SHA}5en6G6MezRroT3XKqkdPOmY/BfQ=\n');
    const g = await startGrpcBackend('g');
    const plane = await startPlane(grpcTable({ 'grpc.test': { upstreams: [upstream(g.port, 'g')] } }), { htpasswdDir: dir });
    const client = h2client(plane.port ?? 0);
    const authorized = (password: string | undefined): Promise<{ status: string | undefined; messages: string[] }> =>
      new Promise((resolve) => {
        const headers = { ':method': 'POST', ':path': '/test.Echo/Unary', ':authority': 'grpc.test', 'content-type': 'application/grpc', te: 'trailers' };
        const auth = password === undefined ? {} : { authorization: `Basic ${Buffer.from(`ann:${password}`).toString('base64')}` };
        const stream = client.request({ ...headers, ...auth });
        let status: string | undefined;
        const chunks: Buffer[] = [];
        stream.on('response', (h: IncomingHttpHeaders) => (status ??= h['grpc-status'] as string | undefined));
        stream.on('trailers', (t: IncomingHttpHeaders) => (status = t['grpc-status'] as string | undefined));
        stream.on('data', (c: Buffer) => chunks.push(c));
        stream.on('error', () => undefined);
        stream.on('close', () => resolve({ status, messages: unframe(Buffer.concat(chunks)) }));
        stream.end(frame('hi'));
      });
    try {
      const before = g.seen.length;
      assert.equal((await authorized(undefined)).status, '16');
      assert.equal((await authorized('wrong')).status, '16');
      assert.equal(g.seen.length, before, 'no call reached the backend');
      assert.deepEqual(await authorized('secret'), { status: '0', messages: ['echo:hi'] });
    } finally {
      client.close();
      await plane.stop(1000);
      await g.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { connect, createServer as createNetServer, type AddressInfo, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TLSSocket } from 'node:tls';
import { after, before, describe, it } from 'node:test';
import { newRoute, newVirtualHost, type RoutingTable, type Upstream, type UpstreamProto } from '../routing-table.ts';
import { rawExchange, startBackend, startPlane, upstream, waitFor } from './test-harness.ts';

/**
 * Protocol switches (WebSocket) to `https` routes: the tunnel speaks TLS to the backend (no certificate check, no
 * SNI, ALPN http/1.1), a failed handshake is a connect-phase failure (502, retried on another backend), and the
 * connect timeout covers the handshake. Real sockets throughout: node:https backends with a throwaway certificate.
 */

interface Seen {
  readonly headers: IncomingMessage['headers'];
  readonly encrypted: boolean;
  readonly servername: string | false | null | undefined;
  readonly alpn: string | false | null | undefined;
}

interface TlsUpgradeBackend {
  readonly port: number;
  readonly seen: Seen[];
  close(): Promise<void>;
}

/** An https backend that answers every Upgrade with 101, then echoes what it gets (the early bytes first). */
async function startTlsUpgradeBackend(tls: { key: string; cert: string }): Promise<TlsUpgradeBackend> {
  const seen: Seen[] = [];
  const sockets = new Set<Socket>();
  // Offers h2 first: a client that also offered h2 would get it, berth must not.
  const server = createHttpsServer({ ...tls, ALPNProtocols: ['h2', 'http/1.1'] }, (_req, res) => res.end('no upgrade'));
  server.on('upgrade', (req: IncomingMessage, socket: TLSSocket, head: Buffer) => {
    sockets.add(socket);
    seen.push({ headers: req.headers, encrypted: socket.encrypted, servername: socket.servername, alpn: socket.alpnProtocol });
    socket.on('error', () => undefined);
    socket.write('HTTP/1.1 101 Switching Protocols\r\nUpgrade: echo\r\nConnection: Upgrade\r\n\r\n');
    if (head.length > 0) socket.write(head);
    socket.pipe(socket);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    seen,
    close: async () => {
      for (const s of sockets) s.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** A backend speaking plain HTTP; counts the connections it accepted and the requests (or upgrades) it parsed. */
async function startPlainBackend() {
  const counts = { connections: 0, requests: 0 };
  const backend = await startBackend((_req, res) => {
    counts.requests++;
    res.end();
  });
  backend.server.on('connection', () => counts.connections++);
  backend.server.on('upgrade', (_req: IncomingMessage, socket: Socket) => {
    counts.requests++;
    socket.destroy();
  });
  return { ...backend, counts };
}

function routeTable(hostname: string, ups: readonly Upstream[], proto: UpstreamProto = 'https'): RoutingTable {
  return { hosts: [newVirtualHost({ hostname, routes: [newRoute({ path: '/', proto, upstreams: ups })] })], issues: [] };
}

const upgradeHead = (host: string): string => `GET /chat?x=1 HTTP/1.1\r\nHost: ${host}\r\nConnection: Upgrade\r\nUpgrade: echo\r\n\r\n`;

function readUntil(socket: Socket, marker: string): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = '';
    const onData = (c: Buffer): void => {
      text += c.toString('latin1');
      if (text.includes(marker)) {
        socket.off('data', onData);
        resolve(text);
      }
    };
    socket.on('data', onData);
    socket.once('error', reject);
  });
}

/** Upgrade through the plane, send `payload`, resolve with everything read once it came back. */
async function upgradeEcho(port: number, host: string, payload: string): Promise<string> {
  const client = connect({ host: '127.0.0.1', port });
  client.setTimeout(5000, () => client.destroy(new Error('no echo within 5 s')));
  try {
    client.write(upgradeHead(host));
    const head = await readUntil(client, '\r\n\r\n');
    if (!/^HTTP\/1\.1 101 /.test(head)) return head;
    client.write(payload);
    return head + (await readUntil(client, payload));
  } finally {
    client.destroy();
  }
}

describe('node data plane: upgrade tunnels to https backends', () => {
  let dir: string;
  let tls: { key: string; cert: string };

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'berth-wss-'));
    const [key, cert] = [join(dir, 'key.pem'), join(dir, 'cert.pem')];
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-subj', '/CN=localhost', '-days', '1'], { stdio: 'ignore', timeout: 10_000 });
    tls = { key: readFileSync(key, 'utf8'), cert: readFileSync(cert, 'utf8') };
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('tunnels over TLS (no certificate check, no SNI, ALPN http/1.1) with the forwarded headers, bytes both ways', async () => {
    const backend = await startTlsUpgradeBackend(tls);
    const plane = await startPlane(routeTable('wss.test', [upstream(backend.port)]));
    const client = connect({ host: '127.0.0.1', port: plane.port ?? 0 });
    try {
      // Bytes right behind the request head reach node:http as the upgrade's `head`: written after the handshake.
      client.write(`${upgradeHead('wss.test')}early;`);
      const head = await readUntil(client, 'early;');
      assert.match(head, /^HTTP\/1\.1 101 Switching Protocols\r\n/);
      client.write('ping-1');
      await readUntil(client, 'ping-1');
      client.write('ping-2');
      await readUntil(client, 'ping-2');
      assert.equal(backend.seen.length, 1);
      const [seen] = backend.seen as [Seen];
      assert.equal(seen.encrypted, true);
      assert.equal(seen.servername, false, 'no SNI for an IP address');
      assert.equal(seen.alpn, 'http/1.1');
      assert.equal(seen.headers['upgrade'], 'echo');
      assert.equal(seen.headers['connection'], 'upgrade');
      assert.equal(seen.headers['host'], `wss.test:${plane.port}`);
      assert.equal(seen.headers['x-forwarded-for'], '127.0.0.1');
      assert.equal(seen.headers['x-real-ip'], '127.0.0.1');
      assert.equal(seen.headers['x-forwarded-proto'], 'http');
      assert.equal(seen.headers['x-original-uri'], '/chat?x=1');
    } finally {
      client.destroy();
      await plane.stop(1000);
      await backend.close();
    }
  });

  it('answers 502 at once, sending nothing in clear, when the backend of an https route speaks plain HTTP', async () => {
    const plain = await startPlainBackend();
    const connectTimeoutMs = 2000;
    const plane = await startPlane(routeTable('wss.test', [upstream(plain.port)]), { admission: 'start', backendWaitMs: 0, upstreamConnectTimeoutMs: connectTimeoutMs });
    try {
      const started = Date.now();
      const r = await rawExchange(plane.port ?? 0, upgradeHead('wss.test'));
      const elapsed = Date.now() - started;
      assert.match(r, /^HTTP\/1\.1 502 /);
      assert.match(r, /x-berth-error: UPSTREAM_ERROR/);
      assert.ok(elapsed < connectTimeoutMs, `answered after ${elapsed} ms`);
      assert.equal(plain.counts.connections, 1);
      assert.equal(plain.counts.requests, 0, 'the request head was never written to the plain backend');
    } finally {
      await plane.stop(1000);
      await plain.close();
    }
  });

  it('retries a failed handshake on another backend of the route', async () => {
    const plain = await startPlainBackend();
    const backend = await startTlsUpgradeBackend(tls);
    const plane = await startPlane(routeTable('wss.test', [upstream(plain.port, 'a-plain'), upstream(backend.port, 'b-tls')]), { admission: 'start', backendWaitMs: 0 });
    try {
      // Round robin: within two upgrades one starts on the plain backend.
      for (let i = 0; i < 4 && plain.counts.connections === 0; i++) {
        assert.match(await upgradeEcho(plane.port ?? 0, 'wss.test', `hello-${i}`), new RegExp(`^HTTP/1\\.1 101 [^]*hello-${i}$`));
      }
      assert.ok(plain.counts.connections >= 1, 'the plain backend was tried');
      assert.equal(plain.counts.requests, 0);
    } finally {
      await plane.stop(1000);
      await Promise.all([plain.close(), backend.close()]);
    }
  });

  it('retries a plain request (even a POST) whose TLS handshake failed on another backend: nothing was sent', async () => {
    const plain = await startPlainBackend();
    const backend = await startTlsUpgradeBackend(tls);
    const plane = await startPlane(routeTable('wss.test', [upstream(plain.port, 'a-plain'), upstream(backend.port, 'b-tls')]), { admission: 'start', backendWaitMs: 0 });
    try {
      for (let i = 0; i < 4 && plain.counts.connections === 0; i++) {
        const r = await rawExchange(plane.port ?? 0, `POST /form-${i} HTTP/1.1\r\nHost: wss.test\r\nContent-Length: 0\r\nConnection: close\r\n\r\n`);
        assert.match(r, /^HTTP\/1\.1 200 [^]*no upgrade$/);
      }
      assert.ok(plain.counts.connections >= 1, 'the plain backend was tried');
      assert.equal(plain.counts.requests, 0);
    } finally {
      await plane.stop(1000);
      await Promise.all([plain.close(), backend.close()]);
    }
  });

  it('bounds the TLS handshake by the connect timeout (504), not the answer timeout', async () => {
    const held = new Set<Socket>();
    let closed = 0;
    // Accepts, reads the ClientHello and never answers it.
    const mute = createNetServer((socket) => {
      held.add(socket);
      socket.on('error', () => undefined);
      socket.once('close', () => closed++);
      socket.resume();
    });
    await new Promise<void>((resolve) => mute.listen(0, '127.0.0.1', resolve));
    const port = (mute.address() as AddressInfo).port;
    const plane = await startPlane(routeTable('wss.test', [upstream(port)]), { admission: 'start', backendWaitMs: 0, upstreamConnectTimeoutMs: 300, upstreamTimeoutMs: 20_000 });
    try {
      const started = Date.now();
      const r = await rawExchange(plane.port ?? 0, upgradeHead('wss.test'), 10_000);
      const elapsed = Date.now() - started;
      assert.match(r, /^HTTP\/1\.1 504 /);
      assert.ok(elapsed >= 250 && elapsed < 5000, `answered after ${elapsed} ms`);
      assert.equal(held.size, 1);
      await waitFor(() => closed === 1, 5000, 'berth closed the upstream connection');
    } finally {
      for (const s of held) s.destroy();
      await plane.stop(1000);
      await new Promise<void>((resolve) => mute.close(() => resolve()));
    }
  });

  it('still refuses an upgrade to a gRPC route (502 PROTO_UNSUPPORTED)', async () => {
    const plane = await startPlane(routeTable('grpc.test', [upstream(1)], 'grpcs'), { admission: 'start' });
    try {
      const r = await rawExchange(plane.port ?? 0, upgradeHead('grpc.test'));
      assert.match(r, /^HTTP\/1\.1 502 /);
      assert.match(r, /x-berth-error: PROTO_UNSUPPORTED/);
      assert.match(r, /speaks gRPC: use HTTP\/2/);
    } finally {
      await plane.stop(1000);
    }
  });
});

import assert from 'node:assert/strict';
import { request as httpRequest } from 'node:http';
import { connect, createServer, type Server } from 'node:net';
import { describe, it } from 'node:test';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { newRoute, newVirtualHost, type RoutingTable, type Upstream } from '../routing-table.ts';
import { listenPorts } from './listeners.ts';
import { createNodeDataPlane, type NodeDataPlane } from './node-data-plane.ts';
import { freePort, readinessFor, send, startBackend, startEchoBackend, startPlane, testConfig, upstream, waitFor, type Reply } from './test-harness.ts';

/** Hosts with their EXTERNAL_HTTP_PORT (undefined: HTTP_PORT), one `/` route each. */
function portTable(hosts: Record<string, { port?: number; upstreams: readonly Upstream[] }>): RoutingTable {
  return {
    hosts: Object.keys(hosts)
      .sort()
      .map((hostname) => newVirtualHost({ hostname, httpPort: hosts[hostname]?.port, routes: [newRoute({ upstreams: hosts[hostname]?.upstreams ?? [] })] })),
    issues: [],
  };
}

/** Resolves with the connect error code, or 'connected'. */
function tryConnect(port: number, host = '127.0.0.1'): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect({ port, host });
    socket.once('connect', () => {
      socket.destroy();
      resolve('connected');
    });
    socket.once('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? 'error'));
  });
}

function sendTo(host: string, port: number, headers: Record<string, string>): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host, port, path: '/', headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString() }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** A backend that holds every response until `release()`. */
async function gatedBackend(): Promise<{ port: number; arrived: () => number; release: () => void; close: () => Promise<void> }> {
  let arrived = 0;
  const waiting: (() => void)[] = [];
  let open = false;
  const b = await startBackend((req, res) => {
    arrived++;
    req.resume();
    const answer = (): void => void res.end('slow done');
    if (open) answer();
    else waiting.push(answer);
  });
  return {
    port: b.port,
    arrived: () => arrived,
    release: () => {
      open = true;
      for (const answer of waiting.splice(0)) answer();
    },
    close: () => b.close(),
  };
}

describe('listenPorts', () => {
  it('maps HTTP_PORT and every EXTERNAL_HTTP_PORT to the hosts served there', () => {
    const t = portTable({ 'a.test': { upstreams: [] }, 'b.test': { port: 8081, upstreams: [] }, 'c.test': { port: 8081, upstreams: [] }, 'd.test': { port: 80, upstreams: [] } });
    assert.deepEqual([...listenPorts(t, 80)], [
      [80, ['a.test', 'd.test']],
      [8081, ['b.test', 'c.test']],
    ]);
    assert.deepEqual([...listenPorts({ hosts: [], issues: [] }, 80)], [[80, []]]);
  });
});

describe('node data plane: listening ports', () => {
  it('opens an EXTERNAL_HTTP_PORT on apply, and closes it when no host uses it any more', async () => {
    const a = await startEchoBackend('a');
    const extra = await freePort();
    const plane = await startPlane(portTable({ 'main.test': { upstreams: [upstream(a.port, 'a')] } }));
    try {
      assert.equal(await tryConnect(extra), 'ECONNREFUSED');
      await plane.apply(portTable({ 'main.test': { upstreams: [upstream(a.port, 'a')] }, 'x.test': { port: extra, upstreams: [upstream(a.port, 'a')] } }));
      assert.equal((await send(extra, { headers: { host: 'x.test' } })).status, 200);
      assert.equal((await send(plane.port ?? 0, { headers: { host: 'main.test' } })).status, 200);
      await plane.apply(portTable({ 'main.test': { upstreams: [upstream(a.port, 'a')] } }));
      await waitFor(async () => (await tryConnect(extra)) === 'ECONNREFUSED', 5000, 'extra port closed');
      assert.equal((await send(plane.port ?? 0, { headers: { host: 'main.test' } })).status, 200);
    } finally {
      await plane.stop(1000);
      await a.close();
    }
  });

  it('lets a request in flight on a closing port finish, and ends its keep-alive connection', async () => {
    const slow = await gatedBackend();
    const extra = await freePort();
    const withExtra = portTable({ 'x.test': { port: extra, upstreams: [upstream(slow.port, 's')] } });
    const plane = await startPlane(withExtra);
    try {
      const reply = send(extra, { headers: { host: 'x.test', connection: 'keep-alive' } });
      await waitFor(() => slow.arrived() === 1, 5000, 'request at the backend');
      await plane.apply(portTable({}));
      await waitFor(async () => (await tryConnect(extra)) === 'ECONNREFUSED', 5000, 'extra port closed');
      slow.release();
      const r = await reply;
      assert.equal(r.status, 200);
      assert.equal(r.body, 'slow done');
      assert.equal(r.headers.connection, 'close');
    } finally {
      await plane.stop(1000);
      await slow.close();
    }
  });

  it('logs a port it cannot bind, naming the hosts, and serves the other ports', async () => {
    const a = await startEchoBackend('a');
    const busy = await new Promise<Server>((resolve) => {
      const s = createServer();
      s.listen(0, '127.0.0.1', () => resolve(s));
    });
    const busyPort = (busy.address() as { port: number }).port;
    const free = await freePort();
    const lines: { msg: string; level: number; port?: number; hosts?: string[] }[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        lines.push(JSON.parse(chunk.toString()) as (typeof lines)[number]);
        done();
      },
    });
    const config = await testConfig();
    const readiness = readinessFor(config);
    const plane: NodeDataPlane = createNodeDataPlane({ config, logger: pino({ level: 'info' }, sink), readiness });
    const t = portTable({ 'busy.test': { port: busyPort, upstreams: [upstream(a.port, 'a')] }, 'free.test': { port: free, upstreams: [upstream(a.port, 'a')] } });
    readiness.update(t);
    await plane.apply(t);
    try {
      await plane.start();
      assert.equal((await send(free, { headers: { host: 'free.test' } })).status, 200);
      const error = lines.find((l) => l.level === 50 && l.port === busyPort);
      assert.ok(error, 'an error line for the busy port');
      assert.deepEqual(error.hosts, ['busy.test']);
      assert.match(error.msg, /busy\.test/);
      // The next apply tries again: the port is served once it is free.
      await new Promise<void>((resolve) => busy.close(() => resolve()));
      await plane.apply({ ...t, issues: [] });
      assert.equal((await send(busyPort, { headers: { host: 'busy.test' } })).status, 200);
    } finally {
      await plane.stop(1000);
      readiness.stop();
      await a.close();
      busy.close();
    }
  });

  it('fails start when HTTP_PORT cannot be bound', async () => {
    const busy = await new Promise<Server>((resolve) => {
      const s = createServer();
      s.listen(0, '127.0.0.1', () => resolve(s));
    });
    const port = (busy.address() as { port: number }).port;
    try {
      await assert.rejects(startPlane(portTable({}), { httpPort: port }), { code: 'ERR_LISTEN_FAILED' });
    } finally {
      busy.close();
    }
  });

  it('stops every port gracefully: requests in flight finish, then nothing listens', async () => {
    const slow = await gatedBackend();
    const extra = await freePort();
    const plane = await startPlane(portTable({ 'main.test': { upstreams: [upstream(slow.port, 's')] }, 'x.test': { port: extra, upstreams: [upstream(slow.port, 's')] } }));
    const main = plane.port ?? 0;
    const replies = [send(main, { headers: { host: 'main.test' } }), send(extra, { headers: { host: 'x.test' } })];
    await waitFor(() => slow.arrived() === 2, 5000, 'both requests at the backend');
    const stopped = plane.stop(5000);
    await waitFor(async () => (await tryConnect(extra)) === 'ECONNREFUSED' && (await tryConnect(main)) === 'ECONNREFUSED', 5000, 'ports closed');
    slow.release();
    for (const r of await Promise.all(replies)) assert.equal(r.status, 200);
    await stopped;
    await slow.close();
  });

  it('listens on IPv4 only by default, and on :: too with ENABLE_IPV6', async () => {
    const a = await startEchoBackend('a');
    const t = portTable({ 'v6.test': { upstreams: [upstream(a.port, 'a')] } });
    const v4 = await startPlane(t, { listenAddress: undefined, enableIpv6: false });
    const both = await startPlane(t, { listenAddress: undefined, enableIpv6: true });
    try {
      assert.equal(await tryConnect(v4.port ?? 0, '::1'), 'ECONNREFUSED');
      assert.equal((await sendTo('127.0.0.1', v4.port ?? 0, { host: 'v6.test' })).status, 200);
      const r = await sendTo('::1', both.port ?? 0, { host: 'v6.test' });
      assert.equal(r.status, 200);
      assert.equal((JSON.parse(r.body) as { headers: Record<string, string> }).headers['x-real-ip'], '::1');
      assert.equal((await sendTo('127.0.0.1', both.port ?? 0, { host: 'v6.test' })).status, 200);
    } finally {
      await v4.stop(1000);
      await both.stop(1000);
      await a.close();
    }
  });
});

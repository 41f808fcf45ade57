/**
 * Helpers for the data-plane tests (not a test file itself): real node:http backends on 127.0.0.1, hand-built
 * routing tables, a plane on a free port, a raw HTTP client and polling. No Docker needed.
 */
import { createServer, request as httpRequest, type IncomingHttpHeaders, type RequestListener, type Server } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import { loadConfig, type Config } from '../config.ts';
import { createLogger } from '../logger.ts';
import { ReadinessTracker, type ProbeFn } from '../readiness/index.ts';
import type { RoutingTable, Upstream } from '../routing-table.ts';
import { newRoute, newVirtualHost } from '../routing-table.ts';
import { createNodeDataPlane, type NodeDataPlane, type NodeDataPlaneOptions } from './node-data-plane.ts';
import { freePort } from '../../test/support/free-port.ts';
export { freePort };


export interface Backend {
  readonly server: Server;
  readonly port: number;
  close(): Promise<void>;
}

export async function startBackend(handler: RequestListener): Promise<Backend> {
  const server = createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    server,
    port,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** A backend answering JSON `{ name, method, url, headers, body }` describing what it received. */
export function startEchoBackend(name: string): Promise<Backend> {
  return startBackend((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = JSON.stringify({ name, method: req.method, url: req.url, headers: req.headers, body: Buffer.concat(chunks).toString() });
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(body);
    });
  });
}

export function upstream(port: number, name = `c${port}`, address = '127.0.0.1'): Upstream {
  return { containerId: `id-${name}`, containerName: name, address, port, network: 'bridge', health: 'none', draining: false, probe: { kind: 'tcp', intervalMs: 2000, timeoutMs: 1000 } };
}

/** `{ 'app.test': [upstream(...)] }` -> a table with one `/` route per host. */
export function table(hosts: Record<string, readonly Upstream[]>): RoutingTable {
  return {
    hosts: Object.keys(hosts)
      .sort()
      .map((hostname) => (newVirtualHost({ hostname, routes: [newRoute({ path: '/', upstreams: hosts[hostname] ?? [] })] }))),
    issues: [],
  };
}

export async function testConfig(overrides: Partial<Config> = {}): Promise<Config> {
  // Access log lines off: tests that check them enable the log themselves.
  const base = loadConfig({ HTTP_PORT: String(await freePort()), BERTH_LISTEN_ADDRESS: '127.0.0.1', LOG_LEVEL: 'silent', DISABLE_ACCESS_LOGS: 'true' }, () => false);
  return { ...base, ...overrides };
}

/** A plane wired like main.ts wires it: `apply` updates the readiness tracker first, `stop` stops it too. */
export interface TestPlane extends NodeDataPlane {
  readonly readiness: ReadinessTracker;
  readonly config: Config;
}

export interface PlaneExtras {
  /** Injected readiness probe (default: the real TCP/HTTP probes). */
  readonly probe?: ProbeFn;
  readonly maxWaiting?: NodeDataPlaneOptions['maxWaiting'];
}

export function readinessFor(config: Config, probe?: ProbeFn): ReadinessTracker {
  const logger = createLogger('silent', false);
  return new ReadinessTracker({ logger, admission: config.admission, drain: config.drain, circuitOpenMs: config.circuitBreakMs, probe });
}

export async function startPlane(first: RoutingTable, overrides: Partial<Config> = {}, extras: PlaneExtras = {}): Promise<TestPlane> {
  const config = await testConfig(overrides);
  const readiness = readinessFor(config, extras.probe);
  const inner = createNodeDataPlane({ config, logger: createLogger('silent', false), readiness, maxWaiting: extras.maxWaiting });
  const plane: TestPlane = {
    name: inner.name,
    readiness,
    config,
    get port() {
      return inner.port;
    },
    get waiting() {
      return inner.waiting;
    },
    start: () => inner.start(),
    apply: async (t) => {
      readiness.update(t);
      await inner.apply(t);
    },
    stop: async (graceMs) => {
      await inner.stop(graceMs);
      readiness.stop();
    },
  };
  await plane.apply(first);
  await plane.start();
  return plane;
}

export interface Reply {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
}

export interface SendOptions {
  readonly method?: string;
  readonly path?: string;
  readonly headers?: Record<string, string | string[]>;
  readonly body?: string;
  /** Fails the request when no answer came within this (default 10 s). */
  readonly timeoutMs?: number;
}

/** One request on a fresh connection (no agent), exactly the headers given (plus what node:http must add). */
export function send(port: number, options: SendOptions = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      { host: '127.0.0.1', port, method: options.method ?? 'GET', path: options.path ?? '/', headers: options.headers, agent: false, setHost: false },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString() }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    // A connection that is accepted and never answered must fail the test, not hang the run.
    req.setTimeout(options.timeoutMs ?? 10_000, () => req.destroy(new Error(`no answer from port ${port} within ${options.timeoutMs ?? 10_000} ms`)));
    req.end(options.body);
  });
}

/** Polls `check` until it returns true (no fixed sleeps in tests). */
export async function waitFor(check: () => boolean | Promise<boolean>, timeoutMs = 5000, what = 'condition'): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** Writes raw bytes on a fresh TCP connection and collects everything until the server closes it. */
export function rawExchange(port: number, data: string, timeoutMs = 5000): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port });
    const chunks: Buffer[] = [];
    socket.setTimeout(timeoutMs, () => socket.destroy(new Error('raw exchange timed out')));
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.on('error', reject);
    socket.on('close', () => resolve(Buffer.concat(chunks).toString()));
    socket.write(data);
  });
}

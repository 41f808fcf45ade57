import cluster from 'node:cluster';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Config } from '../config.ts';
import type { DataPlane } from '../data-plane.ts';
import { BerthError, errorMessage } from '../errors.ts';
import type { Logger } from '../logger.ts';
import type { ReadinessTracker } from '../readiness/index.ts';
import { EMPTY_TABLE, type RoutingTable, type Upstream } from '../routing-table.ts';
import { deliver, WAIT, WAIT_VANISHED, type AttemptOutcome, type DeliverySettings, type Selection } from './delivery.ts';
import { createClusterPlane } from './cluster-plane.ts';
import { attemptOutcome, forward, type ForwardResult } from './forward.ts';
import { scanHasBody, scanRequestHeaders, serializeRequestHead, upstreamRequestHeaderList, upstreamRequestHeaders } from './forwarded-headers.ts';
import { connectionInfo } from './connection-info.ts';
import { parseRequestTarget, type RequestTarget } from './request-target.ts';
import { errorCode, proxyError, sendProxyError, writeRawProxyError, type ProxyError } from './responses.ts';
import { classifyFailure } from './retry-policy.ts';
import { RoundRobin } from './round-robin.ts';
import { buildRouteIndex, type RouteIndex } from './route-index.ts';
import { Tombstones } from './tombstones.ts';
import { UpstreamPools, upstreamKey } from './upstream-pools.ts';
import { Tunnels } from './upgrade-tunnel.ts';
import { WaitQueue } from './wait-queue.ts';

export type ProxyConfig = Pick<
  Config,
  | 'httpPort'
  | 'listenAddress'
  | 'defaultHost'
  | 'trustDownstreamProxy'
  | 'upstreamConnectTimeoutMs'
  | 'upstreamTimeoutMs'
  | 'clientHeaderTimeoutMs'
  | 'clientKeepAliveTimeoutMs'
  | 'backendWaitMs'
  | 'drainUpgradeTimeoutMs'
  // for BERTH_WORKERS: what a worker process needs besides the above (cluster-worker.ts)
  | 'workers'
  | 'logLevel'
  | 'logFormat'
  | 'admission'
  | 'drain'
  | 'circuitBreakMs'
  | 'shutdownTimeoutMs'
>;

export interface NodeDataPlaneOptions {
  readonly config: ProxyConfig;
  readonly logger: Logger;
  /** Which upstreams may receive new requests (shared with main; main calls `update(table)` before `apply`). */
  readonly readiness: ReadinessTracker;
  /** How long an upstream's connection pool outlives its removal from the table (default 60 s). */
  readonly poolRetireAfterMs?: number;
  /** Requests allowed to wait for a ready backend at once; beyond, 503 at once (default 1024). */
  readonly maxWaiting?: number;
}

export type NodeDataPlane = DataPlane & {
  readonly port: number | undefined;
  /** Requests currently waiting for a ready backend. */
  readonly waiting: number;
};

/**
 * The Node data plane: one HTTP listener, a route index swapped as a single reference per apply, round robin per
 * route over the upstreams the readiness tracker calls ready, undici pools per upstream and raw TCP tunnels for
 * protocol switches. Requests with no ready upstream wait (bounded) in a WaitQueue, woken by readiness changes and
 * applies; failures that allow it are retried on another upstream (delivery.ts). Nothing in flight is ever aborted
 * by a table or readiness change.
 */
class NodePlane implements NodeDataPlane {
  readonly name = 'node' as const;
  readonly #config: ProxyConfig;
  readonly #log: Logger;
  readonly #balancer = new RoundRobin();
  readonly #pools: UpstreamPools;
  readonly #tunnels: Tunnels;
  readonly #readiness: ReadinessTracker;
  readonly #waits: WaitQueue;
  readonly #tombstones: Tombstones;
  readonly #delivery: DeliverySettings;
  readonly #unsubscribe: () => void;
  #table: RoutingTable = EMPTY_TABLE;
  #index: RouteIndex;
  #server: Server | undefined;
  #closing = false;

  constructor(options: NodeDataPlaneOptions) {
    const c = options.config;
    this.#config = c;
    this.#log = options.logger.child({ module: 'proxy' });
    this.#readiness = options.readiness;
    this.#waits = new WaitQueue(options.maxWaiting ?? 1024);
    this.#tombstones = new Tombstones(c.backendWaitMs);
    this.#delivery = { waits: this.#waits, readiness: this.#readiness, log: this.#log, backendWaitMs: c.backendWaitMs, closing: () => this.#closing };
    this.#unsubscribe = this.#readiness.onChange(() => this.#onReadinessChange());
    this.#index = buildRouteIndex(EMPTY_TABLE, c.defaultHost);
    this.#pools = new UpstreamPools({
      connectTimeoutMs: c.upstreamConnectTimeoutMs,
      upstreamTimeoutMs: c.upstreamTimeoutMs,
      retireAfterMs: options.poolRetireAfterMs ?? 60_000,
    });
    this.#tunnels = new Tunnels({ connectTimeoutMs: c.upstreamConnectTimeoutMs, answerTimeoutMs: c.upstreamTimeoutMs });
  }

  get port(): number | undefined {
    const address = this.#server?.address();
    return address !== null && typeof address === 'object' ? address.port : this.#config.httpPort;
  }

  get waiting(): number {
    return this.#waits.size;
  }

  async apply(table: RoutingTable): Promise<void> {
    const index = buildRouteIndex(table, this.#config.defaultHost);
    this.#tombstones.update(this.#table, table);
    this.#table = table;
    this.#index = index; // requests in flight keep the index they resolved against
    this.#balancer.retain(index.routeKeys);
    this.#pools.update(table);
    this.#onReadinessChange();
  }

  /** Waiters re-resolve; tunnels to backends that started draining get their grace period. */
  #onReadinessChange(): void {
    if (this.#closing) return;
    this.#waits.wakeAll();
    if (this.#tunnels.size === 0) return;
    const states = new Map<string, 'draining' | 'serving'>();
    for (const host of this.#table.hosts) {
      for (const route of host.routes) {
        for (const u of route.upstreams) {
          const key = upstreamKey(u);
          if (states.get(key) !== 'draining') states.set(key, this.#readiness.state(u) === 'draining' ? 'draining' : 'serving');
        }
      }
    }
    const graceMs = this.#config.drainUpgradeTimeoutMs;
    this.#tunnels.drain((key) => states.get(key) ?? 'absent', graceMs, (upstream) => {
      this.#log.warn({ upstream, graceMs }, 'closing an upgraded connection to a draining backend after its grace period');
    });
  }

  async start(): Promise<void> {
    if (this.#server) return;
    const c = this.#config;
    const server = createServer({
      requestTimeout: 0, // Node's 300 s default would cut long uploads; the idle timeouts below bound everything
      headersTimeout: c.clientHeaderTimeoutMs,
      keepAliveTimeout: c.clientKeepAliveTimeoutMs,
      // headersTimeout is only checked on this interval (default 30 s)
      connectionsCheckingInterval: Math.max(100, Math.min(1000, Math.floor(c.clientHeaderTimeoutMs / 2))),
    });
    // Idle timeout on client sockets so a slow (or stalled) request body cannot hold an upstream forever. It is a
    // little longer than the upstream timeout so that a silent upstream is answered with 504 before the socket goes.
    // A request waiting for a ready backend is idle too: the timeout must outlast that wait as well.
    server.timeout = Math.max(c.upstreamTimeoutMs + Math.max(1000, Math.floor(c.upstreamTimeoutMs / 10)), c.backendWaitMs + 1000);
    server.on('request', (req, res) => this.#onRequest(req, res));
    server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => this.#onUpgrade(req, socket, head));
    // nginx answers CONNECT with 400; Node would just drop the socket.
    server.on('connect', (_req: IncomingMessage, socket: Duplex) => {
      writeRawProxyError(socket, proxyError('BAD_REQUEST', 'CONNECT is not supported'));
    });
    await new Promise<void>((resolve, reject) => {
      const onError = (err: Error): void => {
        reject(new BerthError('ERR_LISTEN_FAILED', `cannot listen on ${c.listenAddress ?? '*'}:${c.httpPort}: ${errorMessage(err)}`, { cause: err }));
      };
      server.once('error', onError);
      server.listen({ port: c.httpPort, host: c.listenAddress, backlog: 511 }, () => {
        server.off('error', onError);
        resolve();
      });
    });
    server.on('error', (err) => this.#log.error({ err, code: errorCode(err) }, 'listener error'));
    this.#server = server;
    this.#log.debug({ port: this.port, address: c.listenAddress }, 'listening');
  }

  async stop(graceMs: number): Promise<void> {
    this.#closing = true;
    this.#unsubscribe();
    this.#waits.expireAll(); // waiting requests are answered now (503, connection: close), not after the wait
    const server = this.#server;
    if (server === undefined) {
      await this.#pools.close(true);
      return;
    }
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeIdleConnections();
    // Keep-alive connections whose response was already under way when stop began become idle later: sweep them.
    const sweeper = setInterval(() => server.closeIdleConnections(), 100);
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), graceMs);
    });
    const outcome = await Promise.race([closed.then(() => 'closed' as const), deadline]);
    clearTimeout(timer);
    clearInterval(sweeper);
    if (outcome === 'timeout') {
      this.#log.warn({ tunnels: this.#tunnels.size }, 'grace period over: closing remaining connections');
      server.closeAllConnections();
      this.#tunnels.destroyAll();
      await closed;
    }
    await this.#pools.close(outcome === 'timeout');
  }

  /** Resolves a request against the current table: a ready upstream not tried yet, an error, or "wait". */
  #select(target: RequestTarget, tried: ReadonlySet<string>): Selection {
    const found = this.#index.lookup(target.host, target.path);
    if ((found.kind === 'no-host' || found.viaDefault) && this.#tombstones.has(target.host)) return WAIT_VANISHED;
    if (found.kind === 'no-host') return { kind: 'error', error: proxyError('NO_ROUTE', `no route for host ${JSON.stringify(target.host)}`) };
    if (found.kind === 'no-location') {
      return { kind: 'error', error: proxyError('NO_LOCATION', `no location for path ${JSON.stringify(target.path)} on host ${JSON.stringify(found.vhost.hostname)}`) };
    }
    if (found.route.upstreams.length === 0) {
      // Host claimed by running containers none of which is reachable: a configuration problem, not a transition.
      return { kind: 'error', error: proxyError('NO_BACKEND', `no backend available for host ${JSON.stringify(found.vhost.hostname)}`) };
    }
    const readiness = this.#readiness;
    const upstream = this.#balancer.pickWhere(found.key, found.route.upstreams, (u: Upstream) => readiness.isReady(u) && (tried.size === 0 || !tried.has(upstreamKey(u))));
    return upstream === undefined ? WAIT : { kind: 'upstream', upstream };
  }

  #headers(req: IncomingMessage, target: RequestTarget, upgrade: boolean): Record<string, string | string[]> {
    return upstreamRequestHeaders(req.headers, {
      host: target.host,
      localPort: connectionInfo(req.socket, this.#config.httpPort).localPort,
      clientAddress: connectionInfo(req.socket, this.#config.httpPort).clientAddress,
      requestUri: target.uri,
      trustDownstreamProxy: this.#config.trustDownstreamProxy,
      upgrade,
    });
  }

  #onRequest(req: IncomingMessage, res: ServerResponse): void {
    const raw = req.rawHeaders;
    const scan = scanRequestHeaders(raw);
    const target = parseRequestTarget(req.url ?? '/', scan.host);
    const hasBody = scanHasBody(scan);
    let headers: string[] | undefined;
    deliver(this.#delivery, {
      host: target.host,
      select: (tried) => this.#select(target, tried),
      attempt: (upstream, done) => {
        headers ??= upstreamRequestHeaderList(raw, scan, {
          host: target.host,
          localPort: connectionInfo(req.socket, this.#config.httpPort).localPort,
          clientAddress: connectionInfo(req.socket, this.#config.httpPort).clientAddress,
          requestUri: target.uri,
          trustDownstreamProxy: this.#config.trustDownstreamProxy,
        });
        const key = upstreamKey(upstream);
        const request = { req, res, path: target.uri, headers, hasBody, closeConnection: this.#isClosing };
        forward(this.#pools.get(key), request, (result) => done(this.#outcome(result, req.method, target.host, key)));
      },
      // An unread request body would otherwise be drained before the next request on this connection.
      answer: (error) => sendProxyError(res, error, this.#closing || (hasBody && !req.complete)),
      closeSignal: res,
    });
  }

  readonly #isClosing = (): boolean => this.#closing;

  #outcome(result: ForwardResult, method: string | undefined, host: string, upstream: string): AttemptOutcome {
    if (result.clientAborted && result.error !== null) this.#log.debug({ host, upstream, code: errorCode(result.error) }, 'client aborted');
    return attemptOutcome(result, method);
  }

  #onUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    if (this.#closing) {
      writeRawProxyError(socket, proxyError('NO_ROUTE', 'shutting down'));
      return;
    }
    // node:http removed its own error handler from an upgraded socket: without one, a client reset while the request
    // waits for a backend would be an uncaught error. The tunnel adds its own handlers.
    socket.on('error', ignore);
    const target = parseRequestTarget(req.url ?? '/', req.headers.host);
    let requestHead: string | undefined;
    deliver(this.#delivery, {
      host: target.host,
      select: (tried) => this.#select(target, tried),
      attempt: (upstream, done) => {
        requestHead ??= serializeRequestHead(req.method ?? 'GET', target.uri, this.#headers(req, target, true));
        this.#tunnels.open({
          client: socket,
          head,
          address: upstream.address,
          port: upstream.port,
          upstream: upstreamKey(upstream),
          requestHead,
          // Only connect-phase failures are retried: after the connect, the client's bytes may be on their way.
          onFailure: (error) => {
            const failure = classifyFailure(error, false);
            done({ kind: 'failed', error, retry: failure === 'not-sent', connection: failure === 'not-sent' });
          },
        });
      },
      answer: (error: ProxyError) => writeRawProxyError(socket, error),
      closeSignal: socket,
    });
  }
}

function ignore(): void {
  // errors end up as `close`, which is what the tunnel and the wait queue listen to
}

/** The Node data plane; with `workers` > 1, a cluster of worker processes each running one (cluster-plane.ts). */
export function createNodeDataPlane(options: NodeDataPlaneOptions): NodeDataPlane {
  if (options.config.workers > 1 && cluster.isPrimary) return createClusterPlane({ config: options.config, logger: options.logger });
  return new NodePlane(options);
}

import cluster from 'node:cluster';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Config } from '../config.ts';
import type { DataPlane } from '../data-plane.ts';
import type { Logger } from '../logger.ts';
import type { ReadinessTracker } from '../readiness/index.ts';
import { EMPTY_TABLE, type RoutingTable } from '../routing-table.ts';
import { AccessLog } from './access-log.ts';
import { BasicAuthStore } from './basic-auth/auth-store.ts';
import { Balancers } from './balancers.ts';
import { berthVersion } from './debug-endpoint.ts';
import type { DownstreamRequest, DownstreamResponse } from './downstream.ts';
import { parseReturn } from './default-root.ts';
import type { DeliverySettings } from './delivery.ts';
import { RequestHandler } from './request-handler.ts';
import { Router } from './select.ts';
import { createClusterPlane } from './cluster-plane.ts';
import { GrpcForwarder } from './grpc-forward.ts';
import { Listeners } from './listeners.ts';
import { buildRouteIndex, type RouteIndex, type RouteIndexOptions } from './route-index.ts';
import { Tombstones } from './tombstones.ts';
import { UpstreamPools, upstreamKey } from './upstream-pools.ts';
import { Tunnels } from './upgrade-tunnel.ts';
import { WaitQueue } from './wait-queue.ts';

export type ProxyConfig = Pick<
  Config,
  | 'httpPort'
  | 'listenAddress'
  | 'enableIpv6'
  | 'enableProxyProtocol'
  | 'defaultHost'
  | 'trustDownstreamProxy'
  // request path (NR): DEFAULT_ROOT, access log, debug endpoint (and what its document shows)
  | 'defaultRoot'
  | 'accessLog'
  | 'debugEndpoint'
  | 'httpsPort'
  | 'resolvers'
  | 'sha1UpstreamName'
  | 'upstreamConnectTimeoutMs'
  | 'upstreamTimeoutMs'
  | 'clientHeaderTimeoutMs'
  | 'clientKeepAliveTimeoutMs'
  | 'backendWaitMs'
  | 'drainUpgradeTimeoutMs'
  | 'fastLane'
  | 'htpasswdDir'
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
 * The Node data plane: listeners (listeners.ts: HTTP_PORT and every EXTERNAL_HTTP_PORT, PROXY protocol, HTTP/1 and
 * h2c on each port; HTTP/2 streams go to gRPC backends through grpc-forward.ts), a route index swapped as a single
 * reference per apply, the HTTP/1 request path in request-handler.ts (route selection in select.ts: nginx host and
 * location semantics, generated locations, NETWORK_ACCESS, the loadbalance label over the upstreams the readiness
 * tracker calls ready), undici pools per upstream (upstream-pools.ts) and raw TCP tunnels for protocol switches. Requests with no ready upstream wait (bounded) in a WaitQueue, woken by readiness changes and
 * applies; failures that allow it are retried on another upstream (delivery.ts). Nothing in flight is ever aborted
 * by a table or readiness change.
 */
class NodePlane implements NodeDataPlane {
  readonly name = 'node' as const;
  readonly #config: ProxyConfig;
  readonly #log: Logger;
  readonly #balancers = new Balancers();
  readonly #router: Router;
  readonly #handler: RequestHandler;
  readonly #accessLog: AccessLog;
  readonly #pools: UpstreamPools;
  readonly #tunnels: Tunnels;
  readonly #readiness: ReadinessTracker;
  readonly #waits: WaitQueue;
  readonly #tombstones: Tombstones;
  readonly #delivery: DeliverySettings;
  readonly #unsubscribe: () => void;
  readonly #auth: BasicAuthStore;
  #table: RoutingTable = EMPTY_TABLE;
  #index: RouteIndex;
  #listeners: Listeners | undefined;
  #grpc: GrpcForwarder | undefined;
  #closing = false;

  constructor(options: NodeDataPlaneOptions) {
    const c = options.config;
    this.#config = c;
    this.#log = options.logger.child({ module: 'proxy' });
    this.#readiness = options.readiness;
    this.#waits = new WaitQueue(options.maxWaiting ?? 1024);
    this.#tombstones = new Tombstones(c.backendWaitMs);
    this.#delivery = { waits: this.#waits, readiness: this.#readiness, log: this.#log, backendWaitMs: c.backendWaitMs, closing: () => this.#closing, inFlight: this.#balancers.inFlight };
    this.#unsubscribe = this.#readiness.onChange(() => this.#onReadinessChange());
    this.#index = buildRouteIndex(EMPTY_TABLE, this.#indexOptions());
    this.#pools = new UpstreamPools({
      connectTimeoutMs: c.upstreamConnectTimeoutMs,
      upstreamTimeoutMs: c.upstreamTimeoutMs,
      retireAfterMs: options.poolRetireAfterMs ?? 60_000,
    });
    this.#tunnels = new Tunnels({ connectTimeoutMs: c.upstreamConnectTimeoutMs, answerTimeoutMs: c.upstreamTimeoutMs });
    this.#accessLog = new AccessLog(c.accessLog);
    this.#auth = new BasicAuthStore(c.htpasswdDir, this.#log);
    this.#router = new Router({
      auth: this.#auth,
      index: () => this.#index,
      readiness: this.#readiness,
      tombstones: this.#tombstones,
      balancers: this.#balancers,
      settings: { defaultRoot: parseReturn(c.defaultRoot), debug: c, version: berthVersion() },
    });
    this.#handler = new RequestHandler({
      httpPort: c.httpPort,
      trustDownstreamProxy: c.trustDownstreamProxy,
      router: this.#router,
      pools: this.#pools,
      tunnels: this.#tunnels,
      delivery: this.#delivery,
      accessLog: this.#accessLog,
      closing: () => this.#closing,
      log: this.#log,
    });
  }

  #indexOptions(): RouteIndexOptions {
    const c = this.#config;
    return { defaultHost: c.defaultHost, httpPort: c.httpPort, defaultRoot: c.defaultRoot !== undefined, debugEndpoint: c.debugEndpoint };
  }

  /** The bound HTTP_PORT (extra EXTERNAL_HTTP_PORT ports are listeners.ts's business). */
  get port(): number | undefined {
    return this.#listeners?.port ?? this.#config.httpPort;
  }

  get waiting(): number {
    return this.#waits.size;
  }

  async apply(table: RoutingTable): Promise<void> {
    const index = buildRouteIndex(table, this.#indexOptions());
    this.#tombstones.update(this.#table, table);
    this.#table = table;
    this.#index = index; // requests in flight keep the index they resolved against
    this.#balancers.retain(index.routeKeys);
    this.#pools.update(table);
    this.#onReadinessChange();
    await this.#listeners?.update(table); // opens/closes EXTERNAL_HTTP_PORT listeners, retires gRPC sessions
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
    if (this.#listeners) return;
    this.#auth.start();
    const grpc = new GrpcForwarder({ settings: this.#config, delivery: this.#delivery, router: this.#router, accessLog: this.#accessLog, log: this.#log });
    const listeners = new Listeners({
      settings: this.#config,
      log: this.#log,
      handlers: {
        onRequest: (req: DownstreamRequest, res: DownstreamResponse) => this.#onRequest(req, res),
        onUpgrade: (req: IncomingMessage, socket: Duplex, head: Buffer) => this.#onUpgrade(req, socket, head),
        onStream: grpc.handle,
      },
      onTable: (table) => grpc.update(table),
    });
    await listeners.start(this.#table);
    this.#listeners = listeners;
    this.#grpc = grpc;
  }

  async stop(graceMs: number): Promise<void> {
    this.#closing = true;
    this.#unsubscribe();
    this.#waits.expireAll(); // waiting requests are answered now (503, connection: close), not after the wait
    await this.#auth.close();
    const listeners = this.#listeners;
    if (listeners === undefined) {
      await this.#pools.close(true);
      return;
    }
    const timer = setTimeout(() => {
      this.#log.warn({ connections: listeners.connections, tunnels: this.#tunnels.size }, 'grace period over: closing remaining connections');
      this.#tunnels.destroyAll();
    }, graceMs);
    const outcome = await listeners.stop(graceMs);
    clearTimeout(timer);
    await Promise.all([this.#pools.close(outcome === 'timeout'), this.#grpc?.close(outcome === 'timeout')]);
  }

  #onRequest(req: DownstreamRequest, res: DownstreamResponse): void {
    this.#handler.onRequest(req, res);
  }

  #onUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    this.#handler.onUpgrade(req, socket, head);
  }
}

/** The Node data plane; with `workers` > 1, a cluster of worker processes each running one (cluster-plane.ts). */
export function createNodeDataPlane(options: NodeDataPlaneOptions): NodeDataPlane {
  if (options.config.workers > 1 && cluster.isPrimary) return createClusterPlane({ config: options.config, logger: options.logger });
  return new NodePlane(options);
}

import { isIPv6 } from 'node:net';
import type { Keepalive, Route, RoutingTable, Upstream } from '../routing-table.ts';
import type { UpstreamHandler, UpstreamRequest } from './h1/connection.ts';
import { H1Pool } from './h1/pool.ts';

/**
 * Keep-alive connection pools per upstream `address:port`, shared by every route and kept across table
 * generations, so a table swap does not drop warm connections. A pool whose upstream left the table is closed
 * gracefully (in-flight requests finish) after `retireAfterMs`, unless the upstream comes back first.
 *
 * One pool (h1/pool.ts) per (upstream, scheme, keepalive count):
 * - keepalive `auto` (berth's default: warm connections reused, closed after 4 s idle) and `disabled` share the
 *   plain pool; a `disabled` route's requests are sent with `reset` (`Connection: close`, the connection closed
 *   after the response), as nginx without `keepalive` does;
 * - a number N keeps at most N idle connections, nginx's `keepalive N`; concurrency is never capped at N;
 * - `https` (VIRTUAL_PROTO): TLS without certificate verification and without SNI, nginx's proxy_ssl defaults.
 */

export interface PoolSettings {
  readonly connectTimeoutMs: number;
  /** Max silence from the upstream, both before the response head and between body chunks. */
  readonly upstreamTimeoutMs: number;
  /** How long a pool outlives its upstream's removal from the table. */
  readonly retireAfterMs: number;
  /** Idle upstream keep-alive; below Node's 5 s server default so berth closes first and never reuses a dying socket. */
  readonly keepAliveTimeoutMs?: number;
}

/** What forward() needs of a pool. */
export interface UpstreamDispatcher {
  dispatch(request: UpstreamRequest, handler: UpstreamHandler): void;
  close(): Promise<void>;
  destroy(): Promise<void>;
}

export type PoolScheme = 'http' | 'https';

// Upstream objects are immutable and shared by every request of a table generation: the key is computed once each.
const keys = new WeakMap<object, string>();

export function upstreamKey(u: Pick<Upstream, 'address' | 'port'>): string {
  let key = keys.get(u);
  if (key === undefined) {
    key = isIPv6(u.address) ? `[${u.address}]:${u.port}` : `${u.address}:${u.port}`;
    keys.set(u, key);
  }
  return key;
}

/** The pool key of an upstream for a route's scheme and keepalive; the bare upstreamKey for http + auto/disabled. */
export function poolKey(key: string, scheme: PoolScheme, keepalive: Keepalive): string {
  const count = typeof keepalive === 'number' ? `#${keepalive}` : '';
  return scheme === 'https' ? `https://${key}${count}` : count === '' ? key : key + count;
}

/** The scheme berth speaks to a route's backends over HTTP/1 (gRPC has its own client). */
export function routeScheme(route: Pick<Route, 'proto'>): PoolScheme {
  return route.proto === 'https' || route.proto === 'grpcs' ? 'https' : 'http';
}

/** `[host]:port` or `host:port` back to its parts. */
function splitKey(key: string): { host: string; port: number } {
  const colon = key.lastIndexOf(':');
  const host = key.slice(0, colon);
  return { host: host.startsWith('[') ? host.slice(1, -1) : host, port: Number(key.slice(colon + 1)) };
}

export class UpstreamPools {
  readonly #pools = new Map<string, UpstreamDispatcher>();
  readonly #retiring = new Map<string, NodeJS.Timeout>();
  readonly #settings: PoolSettings;
  #current = new Set<string>();
  #closed = false;

  constructor(settings: PoolSettings) {
    this.#settings = settings;
  }

  get size(): number {
    return this.#pools.size;
  }

  /** Pools waiting to be retired. */
  get retiring(): number {
    return this.#retiring.size;
  }

  /** The pool for an upstream (upstreamKey), created on first use; `scheme`/`keepalive` from the route. */
  get(key: string, scheme: PoolScheme = 'http', keepalive: Keepalive = 'auto'): UpstreamDispatcher {
    const id = poolKey(key, scheme, keepalive);
    let pool = this.#pools.get(id);
    if (pool === undefined) {
      pool = this.#create(key, scheme, typeof keepalive === 'number' ? keepalive : undefined);
      this.#pools.set(id, pool);
      // Used by a request that started on an older table: retire it like any upstream that left.
      if (!this.#current.has(id) && !this.#closed) this.#scheduleRetire(id);
    }
    return pool;
  }

  #create(key: string, scheme: PoolScheme, maxIdle: number | undefined): UpstreamDispatcher {
    const s = this.#settings;
    return new H1Pool({
      ...splitKey(key),
      tls: scheme === 'https',
      connectTimeoutMs: s.connectTimeoutMs,
      upstreamTimeoutMs: s.upstreamTimeoutMs,
      keepAliveTimeoutMs: s.keepAliveTimeoutMs ?? 4_000,
      ...(maxIdle === undefined ? {} : { maxIdle }),
    });
  }

  /** Called on every apply: cancel retirement of upstreams that are (back) in the table, schedule the rest. */
  update(table: RoutingTable): void {
    const wanted = new Set<string>();
    for (const host of table.hosts) {
      for (const route of host.routes) {
        const scheme = routeScheme(route);
        for (const u of route.upstreams) wanted.add(poolKey(upstreamKey(u), scheme, route.keepalive));
      }
    }
    this.#current = wanted;
    for (const key of wanted) {
      const timer = this.#retiring.get(key);
      if (timer !== undefined) {
        clearTimeout(timer);
        this.#retiring.delete(key);
      }
    }
    for (const key of this.#pools.keys()) if (!wanted.has(key)) this.#scheduleRetire(key);
  }

  #scheduleRetire(key: string): void {
    if (this.#retiring.has(key)) return;
    const timer = setTimeout(() => {
      this.#retiring.delete(key);
      const pool = this.#pools.get(key);
      if (pool === undefined || this.#current.has(key)) return;
      this.#pools.delete(key);
      pool.close().catch(() => undefined);
    }, this.#settings.retireAfterMs);
    timer.unref();
    this.#retiring.set(key, timer);
  }

  /** Close every pool: gracefully (in-flight requests finish), or destroyed when `force`. */
  async close(force: boolean): Promise<void> {
    this.#closed = true;
    for (const timer of this.#retiring.values()) clearTimeout(timer);
    this.#retiring.clear();
    const pools = [...this.#pools.values()];
    this.#pools.clear();
    await Promise.all(pools.map((p) => (force ? p.destroy() : p.close()).catch(() => undefined)));
  }
}

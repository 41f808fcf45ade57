import { isIPv6 } from 'node:net';
import { Pool } from 'undici';
import type { RoutingTable, Upstream } from '../routing-table.ts';

/**
 * One undici Pool (keep-alive connections) per `address:port`, shared by every route and kept across table
 * generations, so a table swap does not drop warm connections. A pool whose upstream left the table is closed
 * gracefully (in-flight requests finish) after `retireAfterMs`, unless the upstream comes back first.
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

export class UpstreamPools {
  readonly #pools = new Map<string, Pool>();
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

  /** The pool for an upstream, created on first use. */
  get(key: string): Pool {
    let pool = this.#pools.get(key);
    if (pool === undefined) {
      const s = this.#settings;
      pool = new Pool(`http://${key}`, {
        connect: { timeout: s.connectTimeoutMs },
        headersTimeout: s.upstreamTimeoutMs,
        bodyTimeout: s.upstreamTimeoutMs,
        keepAliveTimeout: s.keepAliveTimeoutMs ?? 4_000,
        keepAliveMaxTimeout: 60_000,
      });
      this.#pools.set(key, pool);
      // Used by a request that started on an older table: retire it like any upstream that left.
      if (!this.#current.has(key) && !this.#closed) this.#scheduleRetire(key);
    }
    return pool;
  }

  /** Called on every apply: cancel retirement of upstreams that are (back) in the table, schedule the rest. */
  update(table: RoutingTable): void {
    const keys = new Set<string>();
    for (const host of table.hosts) {
      for (const route of host.routes) for (const u of route.upstreams) keys.add(upstreamKey(u));
    }
    this.#current = keys;
    for (const key of keys) {
      const timer = this.#retiring.get(key);
      if (timer !== undefined) {
        clearTimeout(timer);
        this.#retiring.delete(key);
      }
    }
    for (const key of this.#pools.keys()) if (!keys.has(key)) this.#scheduleRetire(key);
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

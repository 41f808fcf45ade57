import type { RoutingTable, VirtualHost } from '../routing-table.ts';
import { buildRouteIndex, type RouteIndex } from './route-index.ts';

/**
 * Hosts that just left the table stay known as "no backend yet" for a while. A compose recreate removes the old
 * container before the new one starts: without this, the requests in that gap would get 503 NO_ROUTE at once;
 * with it they wait (bounded) for the new container. Truly unknown hosts are not affected.
 */
export class Tombstones {
  readonly #ttlMs: number;
  readonly #dead = new Map<string, { readonly vhost: VirtualHost; readonly until: number }>();
  #index: RouteIndex | undefined;

  constructor(ttlMs: number) {
    this.#ttlMs = ttlMs;
  }

  get size(): number {
    return this.#dead.size;
  }

  /** Called on apply with the previous and the new table. */
  update(previous: RoutingTable, next: RoutingTable, now = Date.now()): void {
    const live = new Set(next.hosts.map((h) => h.hostname));
    let changed = false;
    for (const name of this.#dead.keys()) {
      const entry = this.#dead.get(name);
      if (live.has(name) || entry === undefined || entry.until <= now) changed = this.#dead.delete(name) || changed;
    }
    if (this.#ttlMs > 0) {
      for (const vhost of previous.hosts) {
        if (live.has(vhost.hostname)) continue;
        this.#dead.set(vhost.hostname, { vhost, until: now + this.#ttlMs });
        changed = true;
      }
    }
    if (changed) this.#index = undefined;
  }

  /** Whether `host` (as parsed from the request) matches a host that vanished less than the TTL ago. */
  has(host: string, now = Date.now()): boolean {
    if (this.#dead.size === 0 || host === '') return false;
    this.#index ??= buildRouteIndex({ hosts: [...this.#dead.values()].map((e) => e.vhost), issues: [] });
    const found = this.#index.lookup(host, '/');
    if (found.kind === 'no-host') return false;
    const entry = this.#dead.get(found.vhost.hostname);
    return entry !== undefined && entry.until > now;
  }
}

import type { Route, Upstream } from '../routing-table.ts';
import { ConsistentRing, ipHashIndex, keyHashIndex } from './hashing.ts';
import { argValue, binaryAddress, cookieValue, httpHeader, parseTemplate, type TemplatePart } from './nginx-variables.ts';
import { RoundRobin } from './round-robin.ts';
import { upstreamKey } from './upstream-pools.ts';

/**
 * Load balancing per route, from the loadbalance label (Route.loadBalance):
 * - `round-robin` (nginx's default);
 * - `least_conn`: the backend with the fewest requests in flight (counted per backend across routes: an upgraded
 *   connection counts until it closes); ties are broken in round-robin order, as nginx does;
 * - `ip_hash`: nginx's hash of the first three IPv4 octets (a /24 sticks to one backend) or the whole IPv6 address;
 * - `hash <key>`: nginx's crc32-based hash of the evaluated key; `consistent`: a hash ring (hashing.ts);
 * - `random` (`two`: power of two choices, the one with fewer requests in flight).
 * Every method only picks backends that pass `eligible` (ready, not tried yet by this request). When the hash methods
 * give up on unusable backends (nginx: after 20 tries) or cannot hash (empty key, no client address), round robin
 * picks, as in nginx. State (rotation positions) lives here, across table generations, keyed by route.
 */

/** The request values a hash key may use (NODE_HASH_VARIABLES and prefixes in routing-table.ts). */
export interface HashSource {
  readonly clientAddress: string;
  /** `$host`. */
  readonly host: string;
  /** `$request_uri`. */
  readonly requestUri: string;
  /** `$uri` (normalised path). */
  readonly path: string;
  readonly args: string | undefined;
  readonly rawHeaders: readonly string[];
}

/** Requests (and upgraded connections) in flight per backend (upstreamKey). */
export class InFlight {
  readonly #counts = new Map<string, number>();

  get(key: string): number {
    return this.#counts.get(key) ?? 0;
  }

  add(key: string): void {
    this.#counts.set(key, (this.#counts.get(key) ?? 0) + 1);
  }

  remove(key: string): void {
    const n = (this.#counts.get(key) ?? 0) - 1;
    if (n > 0) this.#counts.set(key, n);
    else this.#counts.delete(key);
  }

  get size(): number {
    return this.#counts.size;
  }
}

const compiledKeys = new WeakMap<Route, readonly TemplatePart[]>();
const rings = new WeakMap<Route, ConsistentRing>();

function keyParts(route: Route, key: string): readonly TemplatePart[] {
  let parts = compiledKeys.get(route);
  if (parts === undefined) {
    try {
      parts = parseTemplate(key);
    } catch {
      parts = [{ kind: 'text', text: key }];
    }
    compiledKeys.set(route, parts);
  }
  return parts;
}

function variable(name: string, s: HashSource): string {
  switch (name) {
    case 'remote_addr':
      return s.clientAddress;
    case 'binary_remote_addr':
      return binaryAddress(s.clientAddress);
    case 'request_uri':
      return s.requestUri;
    case 'uri':
      return s.path;
    case 'host':
      return s.host;
    default:
      if (name.startsWith('http_')) return httpHeader(s.rawHeaders, name.slice(5)) ?? '';
      if (name.startsWith('cookie_')) return cookieValue(s.rawHeaders, name.slice(7)) ?? '';
      if (name.startsWith('arg_')) return argValue(s.args, name.slice(4)) ?? '';
      return '';
  }
}

/** The value of a route's `hash` key for one request (unknown variables are empty; discovery rejects them). */
export function hashKeyValue(route: Route, key: string, source: HashSource): string {
  let value = '';
  for (const part of keyParts(route, key)) value += part.kind === 'text' ? part.text : variable(part.name, source);
  return value;
}

function ringFor(route: Route): ConsistentRing {
  let ring = rings.get(route);
  if (ring === undefined) {
    ring = new ConsistentRing(route.upstreams.map((u) => upstreamKey(u)));
    rings.set(route, ring);
  }
  return ring;
}

export class Balancers {
  readonly inFlight = new InFlight();
  readonly #rr = new RoundRobin();
  readonly #random: () => number;

  constructor(random: () => number = Math.random) {
    this.#random = random;
  }

  /** A backend of `route` for one request, or undefined when none is eligible. `key`: the route's routeKey. */
  pick(key: string, route: Route, eligible: (u: Upstream) => boolean, source: HashSource): Upstream | undefined {
    const items = route.upstreams;
    const lb = route.loadBalance;
    switch (lb.kind) {
      case 'round-robin':
        return this.#rr.pickWhere(key, items, eligible);
      case 'least_conn':
        return this.#leastConn(key, items, eligible);
      case 'ip_hash':
        return this.#hashed(key, items, eligible, (ok) => ipHashIndex(source.clientAddress, items.length, ok));
      case 'hash': {
        const value = hashKeyValue(route, lb.key, source);
        if (lb.consistent) return this.#hashed(key, items, eligible, (ok) => (value === '' ? undefined : ringFor(route).pick(value, ok)));
        return this.#hashed(key, items, eligible, (ok) => keyHashIndex(value, items.length, ok));
      }
      case 'random':
        return this.#randomPick(items, eligible, lb.two);
    }
  }

  /** Forget rotation state of routes no longer in the table. */
  retain(keys: ReadonlySet<string>): void {
    this.#rr.retain(keys);
  }

  #hashed(key: string, items: readonly Upstream[], eligible: (u: Upstream) => boolean, pick: (ok: (i: number) => boolean) => number | undefined): Upstream | undefined {
    const index = pick((i) => eligible(items[i] as Upstream));
    return index === undefined ? this.#rr.pickWhere(key, items, eligible) : items[index];
  }

  #leastConn(key: string, items: readonly Upstream[], eligible: (u: Upstream) => boolean): Upstream | undefined {
    const n = items.length;
    const start = this.#rr.position(key, n);
    let best = -1;
    let bestCount = Infinity;
    for (let i = 0; i < n; i++) {
      const at = (start + i) % n;
      const u = items[at] as Upstream;
      if (!eligible(u)) continue;
      const count = this.inFlight.get(upstreamKey(u));
      if (count < bestCount) {
        best = at;
        bestCount = count;
      }
    }
    if (best === -1) return undefined;
    this.#rr.advance(key, best, n);
    return items[best];
  }

  #randomPick(items: readonly Upstream[], eligible: (u: Upstream) => boolean, two: boolean): Upstream | undefined {
    const ok = items.filter(eligible);
    if (ok.length <= 1) return ok[0];
    const a = Math.floor(this.#random() * ok.length);
    const first = ok[a] as Upstream;
    if (!two) return first;
    let b = Math.floor(this.#random() * (ok.length - 1));
    if (b >= a) b++;
    const second = ok[b] as Upstream;
    return this.inFlight.get(upstreamKey(second)) < this.inFlight.get(upstreamKey(first)) ? second : first;
  }
}

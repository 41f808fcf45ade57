import { isIPv4 } from 'node:net';
import { ipv6Bytes } from './nginx-variables.ts';

/**
 * The hash functions of nginx's `ip_hash` and `hash` upstream methods, reproduced so that the Node data plane maps a
 * client (or key) to the same backend index as nginx does for the same sorted backend list, and a consistent-hash
 * ring for `hash ... consistent`. All picks take `eligible(index)` (ready, not tried yet by this request): nginx
 * re-hashes past an unusable backend, up to 20 times, then falls back to round robin (the caller's fallback).
 */

const CRC_TABLE = (() => {
  const table = new Int32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c;
  }
  return table;
})();

/** CRC-32 (IEEE, as zlib and nginx's ngx_crc32) of a byte string. */
export function crc32(text: string, seed = 0): number {
  let c = ~seed;
  for (let i = 0; i < text.length; i++) c = (CRC_TABLE[(c ^ text.charCodeAt(i)) & 0xff] as number) ^ (c >>> 8);
  return ~c >>> 0;
}

const MAX_TRIES = 20;

/**
 * nginx `ip_hash`: the first three octets of an IPv4 address (so a /24 shares a backend), all 16 bytes of IPv6.
 * Returns the index of the chosen item, or undefined after 20 unusable picks (then round robin decides).
 */
export function ipHashIndex(clientAddress: string, count: number, eligible: (index: number) => boolean): number | undefined {
  if (count === 0) return undefined;
  const bytes = isIPv4(clientAddress) ? clientAddress.split('.').slice(0, 3).map(Number) : clientAddress.includes(':') ? ipv6Bytes(clientAddress) : undefined;
  if (bytes === undefined) return undefined;
  let hash = 89;
  for (let tries = 0; tries <= MAX_TRIES; tries++) {
    for (const b of bytes) hash = (hash * 113 + b) % 6271;
    const index = hash % count;
    if (eligible(index)) return index;
  }
  return undefined;
}

/**
 * nginx `hash <key>` (not consistent): Cache::Memcached compatible, `((crc32([REHASH] KEY) >> 16) & 0x7fff)` added
 * to the previous hash, REHASH omitted the first time. An empty key goes to round robin (undefined), as in nginx.
 */
export function keyHashIndex(key: string, count: number, eligible: (index: number) => boolean): number | undefined {
  if (count === 0 || key === '') return undefined;
  let hash = 0;
  for (let rehash = 0; rehash <= MAX_TRIES; rehash++) {
    const h = crc32(rehash > 0 ? `${rehash}${key}` : key);
    hash += (h >>> 16) & 0x7fff;
    const index = hash % count;
    if (eligible(index)) return index;
  }
  return undefined;
}

const POINTS_PER_ITEM = 160;

/**
 * `hash <key> consistent`: each backend owns 160 points on a 32-bit ring (crc32 of `<address:port>-<n>`); a key goes
 * to the owner of the first point at or after crc32(key). Removing a backend moves only the keys it owned; an
 * unusable owner passes the key on to the next points' owners.
 */
export class ConsistentRing {
  readonly #points: Uint32Array;
  readonly #owners: Uint16Array;

  /** `names`: a stable name per item (upstreamKey), in item order. */
  constructor(names: readonly string[]) {
    const points: { hash: number; owner: number }[] = [];
    names.forEach((name, owner) => {
      for (let n = 0; n < POINTS_PER_ITEM; n++) points.push({ hash: crc32(`${name}-${n}`), owner });
    });
    points.sort((a, b) => a.hash - b.hash || a.owner - b.owner);
    this.#points = Uint32Array.from(points, (p) => p.hash);
    this.#owners = Uint16Array.from(points, (p) => p.owner);
  }

  pick(key: string, eligible: (index: number) => boolean): number | undefined {
    const n = this.#points.length;
    if (n === 0) return undefined;
    const hash = crc32(key);
    let lo = 0;
    let hi = n;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((this.#points[mid] as number) < hash) lo = mid + 1;
      else hi = mid;
    }
    const first = this.#owners[lo % n] as number;
    if (eligible(first)) return first;
    const seen = new Set<number>([first]);
    for (let i = 1; i < n; i++) {
      const owner = this.#owners[(lo + i) % n] as number;
      if (seen.has(owner)) continue;
      if (eligible(owner)) return owner;
      seen.add(owner);
    }
    return undefined;
  }
}

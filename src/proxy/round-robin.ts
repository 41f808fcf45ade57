/**
 * Round-robin state per route (`host\0path` key); also the tie-breaker of least_conn and the fallback of the hash
 * methods (balancers.ts). It lives in the data plane, not in the index, so the rotation
 * survives table swaps while the same host/path stays; keys that left the table are pruned on apply.
 */
export class RoundRobin {
  readonly #next = new Map<string, number>();

  pick<T>(key: string, items: readonly T[]): T | undefined {
    if (items.length === 0) return undefined;
    const n = this.#next.get(key) ?? 0;
    this.#next.set(key, n + 1 >= items.length ? 0 : n + 1);
    return items[n % items.length];
  }

  /**
   * The next item in rotation that passes `eligible` (ready, not tried yet by this request); the rotation resumes
   * after it, so skipped items do not shift the balance between the eligible ones.
   */
  pickWhere<T>(key: string, items: readonly T[], eligible: (item: T) => boolean): T | undefined {
    const n = items.length;
    if (n === 0) return undefined;
    const start = (this.#next.get(key) ?? 0) % n;
    for (let i = 0; i < n; i++) {
      const at = start + i < n ? start + i : start + i - n;
      const item = items[at] as T;
      if (!eligible(item)) continue;
      this.#next.set(key, at + 1 >= n ? 0 : at + 1);
      return item;
    }
    return undefined;
  }

  /** Where the rotation of `key` stands, for `n` items (least_conn breaks ties from here). */
  position(key: string, n: number): number {
    return n === 0 ? 0 : (this.#next.get(key) ?? 0) % n;
  }

  /** Resume the rotation of `key` after item `at` of `n`. */
  advance(key: string, at: number, n: number): void {
    this.#next.set(key, at + 1 >= n ? 0 : at + 1);
  }

  /** Forget keys no longer routed. */
  retain(keys: ReadonlySet<string>): void {
    for (const key of this.#next.keys()) if (!keys.has(key)) this.#next.delete(key);
  }
}

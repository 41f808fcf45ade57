/**
 * Round-robin state per route (`host\0path` key). It lives in the data plane, not in the index, so the rotation
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

  /** Forget keys no longer routed. */
  retain(keys: ReadonlySet<string>): void {
    for (const key of this.#next.keys()) if (!keys.has(key)) this.#next.delete(key);
  }
}

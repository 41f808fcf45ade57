/**
 * Requests waiting for a ready backend (all starting, draining or out of rotation, or a host that just vanished).
 * Bounded: beyond `max` waiters the caller answers 503 at once; on Node, shedding beats queueing (every waiter holds
 * a socket and memory, and an unbounded queue turns a short outage into a long one).
 *
 * A waiter is woken on every readiness change and every apply (`wakeAll`); its `retry` re-resolves the request and
 * returns true once it went somewhere (then it leaves the queue). At its deadline `expire` runs. A client that goes
 * away (`close` on its response or socket) is simply dropped.
 */

export interface CloseSignal {
  once(event: 'close', listener: () => void): unknown;
  off(event: 'close', listener: () => void): unknown;
}

export interface Waiter {
  /** Re-resolves the request; true when it is no longer waiting. */
  readonly retry: () => boolean;
  /** The deadline passed (or the plane stops): answer the client. */
  readonly expire: () => void;
}

interface Entry {
  readonly waiter: Waiter;
  readonly signal: CloseSignal;
  readonly onClose: () => void;
  timer: NodeJS.Timeout | undefined;
}

export class WaitQueue {
  readonly #waiting = new Set<Entry>();
  readonly #max: number;

  constructor(max: number) {
    this.#max = max;
  }

  get size(): number {
    return this.#waiting.size;
  }

  /** Queues `waiter` until `deadline` (epoch ms). False when the queue is full (answer 503 at once). */
  add(waiter: Waiter, deadline: number, signal: CloseSignal): boolean {
    if (this.#waiting.size >= this.#max) return false;
    const entry: Entry = { waiter, signal, onClose: () => this.#remove(entry), timer: undefined };
    entry.timer = setTimeout(() => {
      this.#remove(entry);
      waiter.expire();
    }, Math.max(0, deadline - Date.now()));
    signal.once('close', entry.onClose);
    this.#waiting.add(entry);
    return true;
  }

  /** Lets every waiter re-resolve; those that found a backend leave the queue. */
  wakeAll(): void {
    if (this.#waiting.size === 0) return;
    for (const entry of [...this.#waiting]) {
      if (!this.#waiting.has(entry)) continue; // answered meanwhile (a retry can end another waiter's client)
      this.#waiting.delete(entry);
      if (!entry.waiter.retry()) {
        this.#waiting.add(entry);
        continue;
      }
      this.#detach(entry);
    }
  }

  /** Expires every waiter now (the plane stops). */
  expireAll(): void {
    for (const entry of [...this.#waiting]) {
      this.#remove(entry);
      entry.waiter.expire();
    }
  }

  #remove(entry: Entry): void {
    if (!this.#waiting.delete(entry)) return;
    this.#detach(entry);
  }

  #detach(entry: Entry): void {
    clearTimeout(entry.timer);
    entry.signal.off('close', entry.onClose);
  }
}

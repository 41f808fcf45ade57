import { performance } from 'node:perf_hooks';

/**
 * One interval for the timeouts of every upstream connection (connect, silence, idle keep-alive) instead of a timer
 * per request: each connection records when it last saw activity, and the sweep closes the ones past their limit.
 * The tick is a quarter of the smallest timeout registered (10-250 ms), so a timeout fires between its value and
 * value + tick. The interval is unref'd and stops when no connection is left.
 */

export interface Swept {
  check(now: number): void;
}

const live = new Set<Swept>();
let tickMs = 250;
let timer: NodeJS.Timeout | undefined;

function sweep(): void {
  const now = performance.now();
  for (const conn of live) conn.check(now);
}

function arm(): void {
  if (timer !== undefined) clearInterval(timer);
  timer = setInterval(sweep, tickMs);
  timer.unref();
}

/** A pool with these timeouts exists: make the tick fine enough for the smallest. */
export function registerTimeouts(...timeoutsMs: number[]): void {
  const tick = Math.max(10, Math.min(250, Math.floor(Math.min(...timeoutsMs) / 4)));
  if (tick >= tickMs) return;
  tickMs = tick;
  if (timer !== undefined) arm();
}

export function track(conn: Swept): void {
  live.add(conn);
  if (timer === undefined) arm();
}

export function untrack(conn: Swept): void {
  live.delete(conn);
  if (live.size === 0 && timer !== undefined) {
    clearInterval(timer);
    timer = undefined;
  }
}

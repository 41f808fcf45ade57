import type { ReadinessTracker } from '../readiness/index.ts';

/** Default debounce of readiness changes: several probes flipping together cost one reload. */
export const READINESS_DEBOUNCE_MS = 50;

export interface ReadinessWatch {
  /** Drops a pending trigger (an apply is about to render the current state anyway). */
  cancelPending(): void;
  close(): void;
}

/**
 * Calls `onChange` once per burst of tracker changes (probe results, circuit breaker, draining via a new table),
 * `debounceMs` after the first change of the burst. nginx reloads cost new workers, so they are batched; the delay
 * stays short because a backend that became ready (or unhealthy) should be routed (or skipped) promptly.
 */
export function watchReadiness(tracker: ReadinessTracker, onChange: () => void, debounceMs = READINESS_DEBOUNCE_MS): ReadinessWatch {
  let timer: NodeJS.Timeout | undefined;
  let closed = false;
  const unsubscribe = tracker.onChange(() => {
    if (closed || timer !== undefined) return;
    timer = setTimeout(() => {
      timer = undefined;
      if (!closed) onChange();
    }, debounceMs);
    timer.unref();
  });
  return {
    cancelPending: () => {
      clearTimeout(timer);
      timer = undefined;
    },
    close: () => {
      closed = true;
      clearTimeout(timer);
      timer = undefined;
      unsubscribe();
    },
  };
}

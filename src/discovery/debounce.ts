/**
 * A debouncer with a floor and a ceiling (docker-gen's `-wait 100ms:500ms`): every trigger restarts the floor timer;
 * the ceiling timer starts with the first trigger of a burst and is never reset. Whichever fires first calls `fn`
 * once, so a burst of events costs one relist, at most `maxMs` after it began. Timers are injectable for tests.
 */
export interface Timers {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

const realTimers: Timers = {
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
};

export interface Debouncer {
  trigger(): void;
  cancel(): void;
}

export function createDebouncer(fn: () => void, minMs: number, maxMs: number, timers: Timers = realTimers): Debouncer {
  let floor: unknown;
  let ceiling: unknown;
  const fire = (): void => {
    cancel();
    fn();
  };
  function cancel(): void {
    if (floor !== undefined) timers.clearTimeout(floor);
    if (ceiling !== undefined) timers.clearTimeout(ceiling);
    floor = undefined;
    ceiling = undefined;
  }
  return {
    trigger() {
      if (floor !== undefined) timers.clearTimeout(floor);
      floor = timers.setTimeout(fire, minMs);
      if (ceiling === undefined) ceiling = timers.setTimeout(fire, maxMs);
    },
    cancel,
  };
}

/** A timer handle, opaque to callers. */
export interface TimerHandle { readonly __timer?: never }

/** Time and timers, injectable so that timing rules are testable with a fake clock. */
export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
  setTimeout(fn: () => void, ms: number): TimerHandle;
  clearTimeout(handle: TimerHandle | undefined): void;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => {
    return setTimeout(fn, ms) as unknown as TimerHandle;
  },
  clearTimeout: (handle) => {
    if (handle !== undefined) clearTimeout(handle as unknown as NodeJS.Timeout);
  },
};

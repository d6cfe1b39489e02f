/**
 * The one seam through which firebreak reads time and schedules timers.
 *
 * Nothing else in the library calls `Date.now()`, `performance.now()` or
 * `setTimeout`: every component receives a {@link Clock}, so a test can drive
 * the whole monitor with a `ManualClock` (from `firebreak/testing`) or with
 * `vi.useFakeTimers()`.
 *
 * @packageDocumentation
 */

/** Opaque handle returned by {@link Clock.setTimeout}. */
export type TimerHandle = object;

/**
 * Time source and scheduler used by every firebreak component.
 *
 * @example
 * ```ts
 * import { systemClock } from 'firebreak';
 * const started = systemClock.monotonic();
 * const handle = systemClock.setTimeout(() => console.log('tick'), 1000);
 * systemClock.clearTimeout(handle);
 * ```
 */
export interface Clock {
  /** Wall-clock time in milliseconds since the Unix epoch. */
  now(): number;
  /** A monotonic time in milliseconds (sub-millisecond resolution where available), for measuring durations. */
  monotonic(): number;
  /** Runs `fn` once after `ms` milliseconds. Timers never keep the process alive. */
  setTimeout(fn: () => void, ms: number): TimerHandle;
  /** Cancels a timer returned by {@link Clock.setTimeout}; unknown handles are ignored. */
  clearTimeout(handle: TimerHandle): void;
}

/**
 * The real clock. It looks `Date`, `performance` and `setTimeout` up on
 * `globalThis` at every call rather than capturing them at import, so that
 * `vi.useFakeTimers()` (which swaps those globals) also drives a monitor built
 * on the default clock.
 *
 * @example
 * ```ts
 * import { createMonitor, systemClock } from 'firebreak';
 * const monitor = createMonitor({ service: 'api', clock: systemClock });
 * ```
 */
export const systemClock: Clock = {
  now: () => globalThis.Date.now(),
  monotonic: () => globalThis.performance.now(),
  setTimeout(fn, ms) {
    const handle = globalThis.setTimeout(fn, ms) as unknown as { unref?: () => void };
    // The host's own server keeps the process alive; ours must not.
    handle.unref?.();
    return handle as TimerHandle;
  },
  clearTimeout(handle) {
    globalThis.clearTimeout(handle as Parameters<typeof globalThis.clearTimeout>[0]);
  },
};

/**
 * A repeating task on a {@link Clock}: runs `fn` every `everyMs` until
 * cancelled. Re-arms after each run so a slow run never stacks up.
 *
 * @example
 * ```ts
 * const cancel = every(systemClock, 10_000, () => monitor.evaluate());
 * cancel();
 * ```
 */
export function every(clock: Clock, everyMs: number, fn: () => void): () => void {
  let handle: TimerHandle | undefined;
  let cancelled = false;
  const tick = (): void => {
    if (cancelled) return;
    try {
      fn();
    } finally {
      if (!cancelled) handle = clock.setTimeout(tick, everyMs);
    }
  };
  handle = clock.setTimeout(tick, everyMs);
  return () => {
    cancelled = true;
    if (handle !== undefined) clock.clearTimeout(handle);
  };
}

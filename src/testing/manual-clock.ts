import type { Clock, TimerHandle } from '../clock.js';

// Captured at import, before a test can install vi.useFakeTimers() (which replaces the globals): advanceAsync
// must yield to the real event loop, or it would wait on a fake timer nobody advances.
const realSetImmediate: ((fn: () => void) => unknown) | undefined = globalThis.setImmediate;
const realSetTimeout = globalThis.setTimeout;

/**
 * Resolves on a later macrotask. Every promise job queued before it (however
 * long the chain, as long as it waits on no real I/O) runs first: the
 * microtask queue drains before the event loop moves on. The same yield that
 * @sinonjs/fake-timers' `tickAsync` and vitest's `advanceTimersByTimeAsync`
 * make between timers.
 */
function nextMacrotask(): Promise<void> {
  return new Promise<void>((resolve) => {
    if (realSetImmediate !== undefined) realSetImmediate(resolve);
    else realSetTimeout(resolve, 0);
  });
}

interface Timer {
  readonly id: number;
  readonly at: number;
  readonly fn: () => void;
}

/**
 * A {@link Clock} that only moves when a test moves it. Timers fire in
 * due-time order (ties in scheduling order) during {@link ManualClock.advance},
 * including timers scheduled by other timers while advancing. Code built on
 * promises (fallbacks, actions, notifiers) wants
 * `await clock.advanceAsync(ms)`, which also runs promise jobs between timers.
 *
 * @example
 * ```ts
 * import { ManualClock } from 'firebreak/testing';
 * const clock = new ManualClock(Date.UTC(2026, 0, 1));
 * const monitor = createMonitor({ service: 'api', clock });
 * monitor.start();
 * clock.advance(10_000); // runs the scheduled evaluation
 * ```
 */
export class ManualClock implements Clock {
  private time: number;
  private nextId = 1;
  private timers: Timer[] = [];

  /** @param start - initial time in epoch milliseconds (default 2026-01-01T00:00:00Z). */
  constructor(start = Date.UTC(2026, 0, 1)) {
    this.time = start;
  }

  /** Current time in epoch milliseconds. */
  now(): number {
    return this.time;
  }

  /** Same as {@link ManualClock.now}: manual time is already monotonic unless `set()` moves it back. */
  monotonic(): number {
    return this.time;
  }

  /** Schedules `fn` at `now() + ms`. */
  setTimeout(fn: () => void, ms: number): TimerHandle {
    const timer: Timer = { id: this.nextId++, at: this.time + Math.max(0, ms), fn };
    // Keep the list sorted by (at, id) so advance() pops from the front.
    let i = this.timers.length;
    while (i > 0 && this.timers[i - 1]!.at > timer.at) i--;
    this.timers.splice(i, 0, timer);
    return { id: timer.id } as unknown as TimerHandle;
  }

  /** Cancels a pending timer. */
  clearTimeout(handle: TimerHandle): void {
    const id = (handle as { id?: number }).id;
    this.timers = this.timers.filter((t) => t.id !== id);
  }

  /** Moves time forward by `ms`, firing every timer that falls due, in order. */
  advance(ms: number): void {
    if (!(ms >= 0)) throw new RangeError(`advance(ms): ms must be a non-negative number, got ${ms}`);
    const target = this.time + ms;
    for (;;) {
      const next = this.timers[0];
      if (next === undefined || next.at > target) break;
      this.timers.shift();
      this.time = Math.max(this.time, next.at);
      next.fn();
    }
    this.time = target;
  }

  /**
   * Moves time forward by `ms` like {@link ManualClock.advance}, but lets
   * promise jobs run before the first timer and after each one, at that
   * timer's due time: what a promise-based component needs to see the order
   * a real event loop gives. With `advance(5_000)`, a fallback whose primary
   * resolves at 100 ms still times out at 1 s, because the primary's `then`
   * has not run when the timeout fires; with `await advanceAsync(5_000)` the
   * primary's result is handled at 100 ms and the timeout is cancelled.
   * Timers scheduled during the advance (by timers or by promise callbacks)
   * fire too if they fall due. Only promise jobs are waited for: work that
   * waits on real I/O still needs its own await. Do not run two advances at
   * once.
   *
   * @example
   * ```ts
   * const answer = ranker.run(query);
   * await clock.advanceAsync(5_000);
   * expect(await answer).toEqual(primaryResult);
   * ```
   */
  async advanceAsync(ms: number): Promise<void> {
    if (!(ms >= 0)) throw new RangeError(`advanceAsync(ms): ms must be a non-negative number, got ${ms}`);
    const target = this.time + ms;
    await nextMacrotask();
    for (;;) {
      const next = this.timers[0];
      if (next === undefined || next.at > target) break;
      this.timers.shift();
      this.time = Math.max(this.time, next.at);
      next.fn();
      await nextMacrotask();
    }
    this.time = Math.max(this.time, target);
  }

  /** Jumps to an absolute time; moving forward fires due timers like {@link ManualClock.advance}. */
  set(ms: number): void {
    if (ms >= this.time) this.advance(ms - this.time);
    else this.time = ms;
  }

  /** Number of timers waiting to fire: lets a test assert that `stop()` cancelled everything. */
  pendingTimers(): number {
    return this.timers.length;
  }
}

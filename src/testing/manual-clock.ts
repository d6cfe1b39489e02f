import type { Clock, TimerHandle } from '../clock.js';

interface Timer {
  readonly id: number;
  readonly at: number;
  readonly fn: () => void;
}

/**
 * A {@link Clock} that only moves when a test moves it. Timers fire in
 * due-time order (ties in scheduling order) during {@link ManualClock.advance},
 * including timers scheduled by other timers while advancing.
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

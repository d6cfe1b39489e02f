import { describe, expect, it, vi } from 'vitest';
import { createMonitor } from '../../src/index.js';
import { ManualClock } from '../../src/testing/index.js';
import { fixedProbes } from '../actions/helpers.js';

/** A promise settled by a timer on `clock`, then passed through a few async hops like real code would. */
function after<T>(clock: ManualClock, ms: number, value: T): Promise<T> {
  return new Promise<T>((resolve) => clock.setTimeout(() => resolve(value), ms));
}

describe('ManualClock.advanceAsync', () => {
  it('lets a primary that resolved at 100 ms win over its 1 s fallback timeout, where advance() cannot', async () => {
    const clock = new ManualClock();
    const monitor = createMonitor({ service: 'api', clock, probes: fixedProbes });
    const ranker = monitor.fallback('ranker', {
      primary: async () => {
        const hits = await after(clock, 100, ['cross-encoder']);
        await Promise.resolve(); // more promise hops between the timer and the answer
        return hits[0]!;
      },
      fallback: () => 'hybrid',
      timeoutMs: 1_000,
    });

    const asyncRun = ranker.run();
    await clock.advanceAsync(5_000);
    expect(await asyncRun).toBe('cross-encoder');
    expect(ranker.stats()).toMatchObject({ primarySuccesses: 1, primaryTimeouts: 0, fallbackCalls: 0 });

    // The synchronous advance fires the timeout before the primary's result is handled.
    const syncRun = ranker.run();
    clock.advance(5_000);
    expect(await syncRun).toBe('hybrid');
    expect(ranker.stats().primaryTimeouts).toBe(1);
  });

  it('fires timers in due order (ties in scheduling order) and shows each its own due time', async () => {
    const clock = new ManualClock(0);
    const fired: Array<[string, number]> = [];
    const note = (name: string) => () => fired.push([name, clock.now()]);
    clock.setTimeout(note('c'), 300);
    clock.setTimeout(note('a'), 100);
    clock.setTimeout(note('b1'), 200);
    clock.setTimeout(note('b2'), 200);
    clock.setTimeout(note('late'), 1_001);
    await clock.advanceAsync(1_000);
    expect(fired).toEqual([['a', 100], ['b1', 200], ['b2', 200], ['c', 300]]);
    expect(clock.now()).toBe(1_000);
    expect(clock.pendingTimers()).toBe(1);
  });

  it('promise callbacks run at the time of the timer that settled them, before the next timer', async () => {
    const clock = new ManualClock(0);
    const seen: Array<[string, number]> = [];
    void after(clock, 100, 'x') // scheduled first, so its timer fires first
      .then(async (v) => {
        await null;
        return v;
      })
      .then(() => seen.push(['resolved', clock.now()]));
    clock.setTimeout(() => seen.push(['timer', clock.now()]), 100);
    clock.setTimeout(() => seen.push(['later', clock.now()]), 150);
    await clock.advanceAsync(200);
    // As with Node's own timers, promise jobs queued by one timer run before the next timer, even one due at the same time.
    expect(seen).toEqual([['resolved', 100], ['timer', 100], ['later', 150]]);
  });

  it('fires timers scheduled during the advance, by timers or by promise callbacks, when they fall due', async () => {
    const clock = new ManualClock(0);
    const fired: Array<[string, number]> = [];
    clock.setTimeout(() => {
      fired.push(['outer', clock.now()]);
      clock.setTimeout(() => fired.push(['nested', clock.now()]), 50);
      clock.setTimeout(() => fired.push(['too late', clock.now()]), 500);
    }, 100);
    void after(clock, 200, 'go').then(() => {
      clock.setTimeout(() => fired.push(['from promise', clock.now()]), 10);
    });
    clock.setTimeout(() => fired.push(['last', clock.now()]), 300);
    await clock.advanceAsync(400);
    expect(fired).toEqual([['outer', 100], ['nested', 150], ['from promise', 210], ['last', 300]]);
    expect(clock.now()).toBe(400);
    expect(clock.pendingTimers()).toBe(1);
    await clock.advanceAsync(200);
    expect(fired.at(-1)).toEqual(['too late', 600]);
  });

  it('advanceAsync(0) runs the promise jobs already queued and the timers due now', async () => {
    const clock = new ManualClock(0);
    const fired: string[] = [];
    clock.setTimeout(() => fired.push('due now'), 0);
    void Promise.resolve().then(() => clock.setTimeout(() => fired.push('queued by a promise'), 0));
    await clock.advanceAsync(0);
    expect(fired).toEqual(['due now', 'queued by a promise']);
    expect(clock.now()).toBe(0);
  });

  it('does not fire a timer cleared by an earlier one', async () => {
    const clock = new ManualClock(0);
    const fired: string[] = [];
    const victim = clock.setTimeout(() => fired.push('victim'), 200);
    clock.setTimeout(() => {
      fired.push('killer');
      clock.clearTimeout(victim);
    }, 100);
    await clock.advanceAsync(1_000);
    expect(fired).toEqual(['killer']);
  });

  it('rejects a negative or non-numeric step as a RangeError', async () => {
    const clock = new ManualClock(0);
    await expect(clock.advanceAsync(-1)).rejects.toThrowError(RangeError);
    await expect(clock.advanceAsync(Number.NaN)).rejects.toThrowError(RangeError);
    expect(clock.now()).toBe(0);
  });

  it('keeps working while vi fake timers replace the global setImmediate/setTimeout', async () => {
    vi.useFakeTimers();
    try {
      const clock = new ManualClock(0);
      const fired: number[] = [];
      void after(clock, 100, 1).then(() => fired.push(clock.now()));
      await clock.advanceAsync(200);
      expect(fired).toEqual([100]);
    } finally {
      vi.useRealTimers();
    }
  });
});

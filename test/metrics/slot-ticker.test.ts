import { describe, expect, it } from 'vitest';
import { createMonitor } from '../../src/index.js';
import { SlotTicker } from '../../src/metrics/slot-ticker.js';
import { ManualClock } from '../../src/testing/index.js';

describe('SlotTicker', () => {
  it('holds the time of the last slot boundary while running, and cancels its timer on stop', () => {
    const clock = new ManualClock(1_000_003_500);
    const ticker = new SlotTicker(clock, 10_000);
    expect(ticker.running).toBe(false);
    ticker.start();
    expect(ticker.running).toBe(true);
    expect(ticker.now).toBe(1_000_003_500);
    clock.advance(6_499);
    expect(ticker.now).toBe(1_000_003_500); // boundary not reached yet
    clock.advance(1);
    expect(ticker.now).toBe(1_000_010_000);
    clock.advance(35_000);
    expect(ticker.now).toBe(1_000_040_000);
    ticker.start(); // idempotent: still one timer
    expect(clock.pendingTimers()).toBe(1);
    ticker.stop();
    expect(ticker.running).toBe(false);
    expect(clock.pendingTimers()).toBe(0);
  });
});

describe('recording while the monitor runs', () => {
  function countingClock() {
    const clock = new ManualClock();
    let reads = 0;
    const now = clock.now.bind(clock);
    clock.now = () => {
      reads++;
      return now();
    };
    return { clock, reads: () => reads };
  }

  it('takes its time from the ticker, not from a clock read per request', () => {
    const { clock, reads } = countingClock();
    const monitor = createMonitor({ service: 'api', clock });
    monitor.recordRequest({ route: 'r', durationMs: 1 });
    expect(reads()).toBe(1); // not started: one read per record
    monitor.start();
    const before = reads();
    for (let i = 0; i < 1000; i++) monitor.recordRequest({ route: 'r', durationMs: 1 });
    for (let i = 0; i < 1000; i++) monitor.recordCache('c', true);
    expect(reads()).toBe(before);
    monitor.stop();
    monitor.recordRequest({ route: 'r', durationMs: 1 });
    expect(reads()).toBe(before + 1);
  });

  it('still expires by slot: records land in the slot the ticker says, and leave the window on time', () => {
    const clock = new ManualClock();
    const monitor = createMonitor({ service: 'api', clock }).start();
    for (let i = 0; i < 10; i++) monitor.recordRequest({ route: 'r', durationMs: 100 });
    clock.advance(150_000);
    for (let i = 0; i < 5; i++) monitor.recordRequest({ route: 'r', durationMs: 200 });
    monitor.recordCache('c', true);
    expect(monitor.stats().overall.requests).toBe(15);
    clock.advance(150_000);
    expect(monitor.stats().overall.requests).toBe(5);
    expect(monitor.stats().caches['c']!.hits).toBe(1);
    clock.advance(150_000);
    expect(monitor.stats().overall.requests).toBe(0);
    expect(monitor.stats().caches['c']!.hits).toBe(0);
    monitor.stop();
    expect(clock.pendingTimers()).toBe(0);
  });
});

describe('burn-rate counting while the monitor runs', () => {
  it('sees every request at once, across slot boundaries and reads', () => {
    const clock = new ManualClock();
    const monitor = createMonitor({
      service: 'api',
      clock,
      slos: [{ name: 'availability', kind: 'success-rate', objective: 0.99 }],
    }).start();
    const requests = () => monitor.stats().incidents.burnRate[0]!.rules[0]!.long.requests;
    for (let i = 0; i < 30; i++) monitor.recordRequest({ route: 'r', durationMs: 5, status: i < 3 ? 500 : 200 });
    expect(requests()).toBe(30); // counted before the next tick
    for (let s = 0; s < 12; s++) {
      clock.advance(10_000);
      monitor.recordRequest({ route: 'r', durationMs: 5, status: 200 });
    }
    expect(requests()).toBe(42);
    const rule = monitor.stats().incidents.burnRate[0]!.rules[0]!;
    expect(rule.long.burnRate).toBeCloseTo(3 / 42 / 0.01, 9);
    monitor.stop();
  });
});

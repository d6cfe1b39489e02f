import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { BucketLayout, promBucketMap } from '../../src/metrics/log-buckets.js';
import { FAILURES, LatencyWindow, RATE_LIMITED, REQUESTS } from '../../src/metrics/latency-window.js';

const layout = new BucketLayout();
const prom = promBucketMap(layout, [0.005, 0.01, 0.1, 1]);
const window = (slotMs = 1_000, slots = 10) => new LatencyWindow(layout, slotMs, slots, prom);

describe('LatencyWindow', () => {
  it('matches a naive model of the window for any sequence of records and clock moves (property)', () => {
    const op = fc.oneof(
      fc.record({
        kind: fc.constant('record' as const),
        // Values on and just around the Prometheus bounds too, where log buckets are split.
        ms: fc.oneof(
          fc.double({ min: 0, max: 5_000, noNaN: true }),
          fc.constantFrom(5, 10, 100, 1000).chain((b) => fc.constantFrom(b, b * (1 - 1e-12), b * (1 + 1e-12), b * 0.995, b * 1.005)),
        ),
        fail: fc.boolean(),
        limited: fc.boolean(),
      }),
      fc.record({ kind: fc.constant('advance' as const), by: fc.integer({ min: 0, max: 4_000 }) }),
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 200 }), (ops) => {
        const w = window();
        const model: { slot: number; ms: number; fail: boolean; limited: boolean }[] = [];
        let now = 1_000_000;
        for (const o of ops) {
          if (o.kind === 'advance') now += o.by;
          else {
            w.record(now, o.ms, o.fail, o.limited);
            model.push({ slot: Math.floor(now / 1_000), ms: o.ms, fail: o.fail, limited: o.limited });
          }
        }
        w.advance(now);
        const head = Math.floor(now / 1_000);
        const live = model.filter((m) => m.slot > head - 10);
        const values = live.map((m) => m.ms).sort((a, b) => a - b);
        expect(w.total(REQUESTS)).toBe(live.length);
        expect(w.total(FAILURES)).toBe(live.filter((m) => m.fail).length);
        expect(w.total(RATE_LIMITED)).toBe(live.filter((m) => m.limited).length);
        expect(w.max()).toBe(values.length > 0 ? values.at(-1) : 0);
        const [p50] = w.quantiles([0.5]);
        for (const q of [0.5, 0.9, 0.99]) expect(w.quantile(q)).toBe(w.quantiles([q])[0] ?? -1);
        if (values.length === 0) expect(p50).toBeNull();
        else {
          const exact = values[Math.ceil(0.5 * values.length) - 1]!;
          if (exact <= layout.minMs) expect(p50!).toBeLessThanOrEqual(layout.minMs); // clamped
          else expect(Math.abs(p50! - exact) / exact).toBeLessThanOrEqual(0.01 + 1e-12);
        }
        // Cumulative totals never forget.
        const c = w.cumulative;
        expect(c.requests).toBe(model.length);
        expect(c.failures).toBe(model.filter((m) => m.fail).length);
        expect(c.rateLimited).toBe(model.filter((m) => m.limited).length);
        // Prometheus buckets since creation, exact per value: the first bound at or above it.
        const expected = new Array<number>(prom.boundsMs.length).fill(0);
        for (const m of model) expected[prom.boundsMs.findIndex((bound) => m.ms <= bound)]!++;
        expect([...w.promCounts(new Float64Array(prom.boundsMs.length))]).toEqual(expected);
      }),
      { numRuns: 300 },
    );
  });

  it('keeps counts past 65,535 per bucket per slot (16-bit cells carry), through closing and expiry', () => {
    const w = window(1_000, 3);
    const t0 = 5_000;
    for (let i = 0; i < 70_000; i++) w.record(t0, 42, false, false);
    for (let i = 0; i < 10; i++) w.record(t0, 900, false, false);
    w.advance(t0);
    expect(w.total(REQUESTS)).toBe(70_010);
    const counts = new Float64Array(layout.size);
    w.addCountsTo(counts);
    expect(counts[layout.index(42)]).toBe(70_000);
    const [p50, p99] = w.quantiles([0.5, 0.9999]);
    expect(Math.abs(p50! - 42) / 42).toBeLessThanOrEqual(0.01);
    expect(Math.abs(p99! - 900) / 900).toBeLessThanOrEqual(0.01);
    // The slot closes (head moves on) and still counts...
    w.record(t0 + 1_000, 7, false, false);
    w.advance(t0 + 1_000);
    counts.fill(0);
    w.addCountsTo(counts);
    expect(counts[layout.index(42)]).toBe(70_000);
    expect(w.quantiles([0.5])[0]! / 42).toBeCloseTo(1, 1);
    // ...then expires cleanly, leaving no residue behind.
    w.advance(t0 + 3_000);
    counts.fill(0);
    w.addCountsTo(counts);
    expect(counts[layout.index(42)]).toBe(0);
    expect(w.total(REQUESTS)).toBe(1);
    expect(w.cumulative.requests).toBe(70_011);
  });

  it('writes to the newest slot when the clock goes back, losing nothing', () => {
    const w = window();
    w.record(10_000, 5, false, false);
    w.record(4_000, 6, true, false); // an earlier time: counted in the head slot
    w.advance(10_000);
    expect(w.total(REQUESTS)).toBe(2);
    expect(w.total(FAILURES)).toBe(1);
    w.advance(19_999);
    expect(w.total(REQUESTS)).toBe(2);
    w.advance(20_000);
    expect(w.total(REQUESTS)).toBe(0);
  });

  it('fits a series in 64 KiB at the default window (30 slots of 10 s)', () => {
    expect(new LatencyWindow(layout, 10_000, 30, promBucketMap(layout, [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 0.8, 1, 2, 2.5, 5, 10])).bytes).toBeLessThanOrEqual(64 * 1024);
  });

  it('keeps exact bucket counts through every slot encoding: bursts, wide and narrow spreads, expiry (property)', () => {
    // Bursts of up to 1,500 records per slot make the head switch to dense counts; spreads of
    // 1 bucket … the whole layout pick each closed-slot form (byte log with escapes, 16-bit log, dense 16/32).
    const op = fc.oneof(
      fc.record({
        kind: fc.constant('burst' as const),
        n: fc.integer({ min: 1, max: 1_500 }),
        center: fc.double({ min: 0.02, max: 100_000, noNaN: true }),
        spread: fc.constantFrom(1, 1.05, 2, 100, 1e6),
        seed: fc.integer({ min: 1, max: 1e6 }),
      }),
      fc.record({ kind: fc.constant('advance' as const), by: fc.integer({ min: 0, max: 4_000 }) }),
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 40 }), (ops) => {
        const w = window();
        const model: { slot: number; ms: number }[] = [];
        let now = 2_000_000;
        for (const o of ops) {
          if (o.kind === 'advance') {
            now += o.by;
            continue;
          }
          let x = o.seed;
          for (let i = 0; i < o.n; i++) {
            x = (x * 1103515245 + 12345) % 2 ** 31;
            const ms = o.center * Math.pow(o.spread, x / 2 ** 31 - 0.5);
            w.record(now, ms, false, false);
            model.push({ slot: Math.floor(now / 1_000), ms });
          }
        }
        w.advance(now);
        const head = Math.floor(now / 1_000);
        const live = model.filter((m) => m.slot > head - 10);
        const expected = new Float64Array(layout.size);
        for (const m of live) expected[layout.index(m.ms)]!++;
        const got = new Float64Array(layout.size);
        w.addCountsTo(got);
        expect([...got]).toEqual([...expected]);
        expect(w.total(REQUESTS)).toBe(live.length);
        const promExpected = new Array<number>(prom.boundsMs.length).fill(0);
        for (const m of model) promExpected[prom.boundsMs.findIndex((bound) => m.ms <= bound)]!++;
        expect([...w.promCounts(new Float64Array(prom.boundsMs.length))]).toEqual(promExpected);
      }),
      { numRuns: 150 },
    );
  });

  it('gives its memory back when the window empties, and takes it again on the next record', () => {
    const w = window(10_000, 30);
    const idle = w.bytes;
    for (let s = 0; s < 30; s++) for (let i = 0; i < 100; i++) w.record(s * 10_000, 10 + ((i * 37) % 200), false, false);
    expect(w.bytes).toBeGreaterThan(idle);
    w.advance(30 * 10_000 + 29 * 10_000); // every slot has left the window
    expect(w.total(REQUESTS)).toBe(0);
    expect(w.bytes).toBe(idle);
    expect(w.cumulative.requests).toBe(3_000);
    w.record(60 * 10_000, 5, true, false);
    w.advance(60 * 10_000);
    expect(w.total(REQUESTS)).toBe(1);
    expect(w.total(FAILURES)).toBe(1);
    expect(w.quantiles([0.5])[0]! / 5).toBeCloseTo(1, 1);
  });

  it('gives its memory back when read empty within the head slot, and records there again', () => {
    const w = window(1_000, 3);
    w.record(1_000, 5, false, false);
    w.advance(4_500); // empty: released, head is slot 4
    expect(w.total(REQUESTS)).toBe(0);
    w.record(4_600, 7, false, true);
    w.record(5_100, 9, false, false);
    w.advance(5_100);
    expect(w.total(REQUESTS)).toBe(2);
    expect(w.total(RATE_LIMITED)).toBe(1);
    expect(w.max()).toBe(9);
  });

  it('bounds a series at its worst: every slot busy over every bucket (docs/limits.md)', () => {
    const defaultProm = promBucketMap(layout, [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 0.8, 1, 2, 2.5, 5, 10]);
    const w = new LatencyWindow(layout, 10_000, 30, defaultProm);
    const spread = (now: number, perBucket: number) => {
      for (let b = 0; b < layout.size; b++) for (let k = 0; k < perBucket; k++) w.record(now, layout.value(b), false, false);
    };
    let worst16 = 0;
    for (let s = 0; s < 32; s++) {
      spread(s * 10_000, 1);
      worst16 = Math.max(worst16, w.bytes);
    }
    // 16-bit counts per bucket per closed slot, the head's and the window's 32-bit counts, the slot table.
    expect(worst16).toBeLessThanOrEqual(68 * 1024);
    // More than 65,535 records in one bucket of a slot: 32-bit counts for that slot.
    const heavy = new LatencyWindow(layout, 10_000, 30, defaultProm);
    let worst32 = 0;
    for (let s = 0; s < 31; s++) {
      for (let b = 0; b < layout.size; b++) heavy.record(s * 10_000, layout.value(b), false, false);
      for (let k = 0; k < 65_536; k++) heavy.record(s * 10_000, 42, false, false);
      worst32 = Math.max(worst32, heavy.bytes);
    }
    heavy.advance(31 * 10_000);
    expect(heavy.total(REQUESTS)).toBe(29 * (layout.size + 65_536));
    expect(worst32).toBeLessThanOrEqual(126 * 1024);
  });
});

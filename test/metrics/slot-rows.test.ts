import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { BucketLayout, promBucketMap } from '../../src/metrics/log-buckets.js';
import { FAILURES, LatencyWindow, RATE_LIMITED, REQUESTS, type WindowSlotRow } from '../../src/metrics/latency-window.js';
import { DenseWindow } from '../../src/metrics/dense-window.js';

const layout = new BucketLayout();
const prom = promBucketMap(layout, [0.005, 0.01, 0.1, 1]);
const SLOT = 1_000;
const SLOTS = 10;
const window = () => new LatencyWindow(layout, SLOT, SLOTS, prom);
const QS = [0.5, 0.9, 0.95, 0.99];

interface Rec {
  at: number;
  ms: number;
  fail: boolean;
  limited: boolean;
}

/** What slotRows must say, computed from the records alone: per slot of the window, counts per log bucket. */
function expectedRows(recs: readonly Rec[], now: number): WindowSlotRow[] {
  const head = Math.floor(now / SLOT);
  const bySlot = new Map<number, Rec[]>();
  for (const r of recs) {
    const slot = Math.floor(r.at / SLOT);
    if (slot <= head - SLOTS) continue;
    bySlot.set(slot, [...(bySlot.get(slot) ?? []), r]);
  }
  return [...bySlot.keys()]
    .sort((a, b) => a - b)
    .map((slot) => {
      const rs = bySlot.get(slot)!;
      const counts = new Map<number, number>();
      for (const r of rs) counts.set(layout.index(r.ms), (counts.get(layout.index(r.ms)) ?? 0) + 1);
      return {
        slot,
        requests: rs.length,
        failures: rs.filter((r) => r.fail).length,
        rateLimited: rs.filter((r) => r.limited).length,
        maxMs: Math.max(...rs.map((r) => r.ms)),
        buckets: [...counts.keys()].sort((a, b) => a - b).flatMap((b) => [b, counts.get(b)!]),
      };
    });
}

function figures(w: LatencyWindow | DenseWindow, now: number) {
  w.advance(now);
  return { n: w.total(REQUESTS), failures: w.total(FAILURES), limited: w.total(RATE_LIMITED), max: w.max(), qs: w.quantiles(QS) };
}

// Bursts of equal values (dense heads past 512 records), spreads over hundreds of buckets
// (byte logs with escapes), and single values, at times that move over and past the window.
const burst = fc.record({
  gapMs: fc.oneof(fc.integer({ min: 0, max: 1_500 }), fc.constantFrom(0, 0, 12_000)),
  ms: fc.oneof(fc.double({ min: 0, max: 5_000, noNaN: true }), fc.constantFrom(0.001, 0.5, 12, 4_000, 4_000_000)),
  spread: fc.boolean(),
  times: fc.oneof(fc.constant(1), fc.integer({ min: 1, max: 40 }), fc.integer({ min: 500, max: 1_200 })),
  fail: fc.boolean(),
  limited: fc.boolean(),
});

type Burst = typeof burst extends fc.Arbitrary<infer T> ? T : never;

function play(bursts: readonly Burst[], into: (r: Rec, i: number) => void): number {
  let now = 5_000_000;
  let i = 0;
  for (const b of bursts) {
    now += b.gapMs;
    for (let k = 0; k < b.times; k++) {
      const ms = b.spread ? b.ms * Math.pow(1.07, k % 150) : b.ms;
      into({ at: now, ms, fail: b.fail && k % 3 === 0, limited: b.limited && k % 5 === 0 }, i++);
    }
  }
  return now;
}

describe('LatencyWindow slot rows (fleet snapshots)', () => {
  it('exports every non-empty slot of the window with its exact bucket counts, and a window rebuilt from them reads the same (property)', () => {
    fc.assert(
      fc.property(fc.array(burst, { maxLength: 40 }), fc.integer({ min: 0, max: 12_000 }), (bursts, tailMs) => {
        const w = window();
        const recs: Rec[] = [];
        const end = play(bursts, (r) => {
          w.record(r.at, r.ms, r.fail, r.limited);
          recs.push(r);
        }) + tailMs;
        const rows = w.slotRows(end);
        expect(rows).toEqual(expectedRows(recs, end));
        const rebuilt = window();
        for (const row of rows) expect(rebuilt.addSlotRow(structuredClone(row))).toBe(true);
        expect(figures(rebuilt, end)).toEqual(figures(w, end));
        expect(rebuilt.slotRows(end)).toEqual(rows);
      }),
      { numRuns: 150 },
    );
  });

  it('merges the rows of windows that split the traffic into the window that saw it all, through closing and expiry (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 2, max: 4 }), fc.array(burst, { maxLength: 30 }), fc.integer({ min: 0, max: 9_000 }), (n, bursts, laterMs) => {
        const whole = window();
        const parts = Array.from({ length: n }, window);
        const end = play(bursts, (r, i) => {
          whole.record(r.at, r.ms, r.fail, r.limited);
          parts[i % n]!.record(r.at, r.ms, r.fail, r.limited);
        });
        // Rows of one slot from several windows go in one after another, oldest slot first.
        const rows = parts.flatMap((p) => p.slotRows(end)).sort((a, b) => a.slot - b.slot);
        const merged = window();
        for (const row of rows) expect(merged.addSlotRow(row)).toBe(true);
        expect(merged.slotRows(end)).toEqual(whole.slotRows(end));
        // The merged window keeps rolling like the real one: its slots close, then expire.
        expect(figures(merged, end + laterMs)).toEqual(figures(whole, end + laterMs));
        expect(merged.slotRows(end + laterMs)).toEqual(whole.slotRows(end + laterMs));
      }),
      { numRuns: 100 },
    );
  });

  it('keeps more than 65,535 requests in one bucket of one slot exact, in the head and once the slot closed', () => {
    const t0 = 7_000_000;
    const parts = [window(), window(), window()];
    const whole = window();
    for (let i = 0; i < 90_000; i++) {
      const ms = i % 1_000 === 0 ? 900 : 10;
      parts[i % 3]!.record(t0, ms, false, false);
      whole.record(t0, ms, false, false);
    }
    const merged = window();
    for (const p of parts) expect(merged.addSlotRow(p.slotRows(t0)[0]!)).toBe(true);
    const row = merged.slotRows(t0)[0]!;
    expect(row.requests).toBe(90_000);
    expect(row.buckets).toEqual([layout.index(10), 89_910, layout.index(900), 90]);
    expect(figures(merged, t0)).toEqual(figures(whole, t0));
    // Closed (the slot is re-encoded with 32-bit counts), then read back and rebuilt.
    const later = t0 + 3 * SLOT;
    expect(merged.slotRows(later)).toEqual(whole.slotRows(later));
    expect(merged.slotRows(later)[0]!.buckets).toEqual([layout.index(10), 89_910, layout.index(900), 90]);
    const rebuilt = window();
    for (const r of merged.slotRows(later)) expect(rebuilt.addSlotRow(r)).toBe(true);
    expect(figures(rebuilt, later)).toEqual(figures(whole, later));
    // Expired: nothing of the 90,000 is left, and the next records are read alone.
    const gone = t0 + (SLOTS + 1) * SLOT;
    merged.record(gone, 50, false, false);
    expect(merged.slotRows(gone)).toEqual([{ slot: Math.floor(gone / SLOT), requests: 1, failures: 0, rateLimited: 0, maxMs: 50, buckets: [layout.index(50), 1] }]);
    const alone = window();
    alone.record(gone, 50, false, false);
    expect(figures(merged, gone)).toEqual(figures(alone, gone));
  });

  it('refuses a row older than the head, and a row no window could have recorded, changing nothing', () => {
    const w = window();
    const t = 9_000_000;
    w.record(t, 20, false, false);
    const before = w.slotRows(t);
    const slot = Math.floor(t / SLOT);
    const row = (over: Partial<WindowSlotRow>): WindowSlotRow => ({ slot, requests: 1, failures: 0, rateLimited: 0, maxMs: 5, buckets: [layout.index(5), 1], ...over });
    expect(w.addSlotRow(row({ slot: slot - 1 }))).toBe(false);
    expect(w.addSlotRow(row({ requests: 2 }))).toBe(false); // counts do not add up
    expect(w.addSlotRow(row({ buckets: [layout.size, 1] }))).toBe(false); // bucket outside the layout
    expect(w.addSlotRow(row({ failures: 2 }))).toBe(false);
    expect(w.addSlotRow(row({ slot: slot + 1, buckets: [layout.index(5), 0.5], requests: 0.5 }))).toBe(false);
    expect(w.slotRows(t)).toEqual(before);
    expect(w.addSlotRow(row({}))).toBe(true);
    expect(w.slotRows(t)[0]).toMatchObject({ requests: 2, maxMs: 20 });
  });

  it('fills a dense (overall) window from summed rows as if it had recorded them', () => {
    const t0 = 3_000_000;
    const routes = [window(), window()];
    const overall = new DenseWindow(layout, SLOT, SLOTS, prom);
    const dense = new DenseWindow(layout, SLOT, SLOTS, prom);
    for (let i = 0; i < 70_000; i++) {
      const at = t0 + (i % 4) * SLOT;
      const ms = i % 7 === 0 ? 300 : 10;
      routes[i % 2]!.record(at, ms, i % 11 === 0, false);
      overall.record(at, ms, i % 11 === 0, false);
    }
    const end = t0 + 3 * SLOT;
    const bySlot = new Map<number, WindowSlotRow[]>();
    for (const r of routes.flatMap((w) => w.slotRows(end))) bySlot.set(r.slot, [...(bySlot.get(r.slot) ?? []), r]);
    for (const slot of [...bySlot.keys()].sort((a, b) => a - b)) for (const r of bySlot.get(slot)!) expect(dense.addSlotRow(r)).toBe(true);
    expect(figures(dense, end)).toEqual(figures(overall, end));
    expect(figures(dense, end + 5 * SLOT)).toEqual(figures(overall, end + 5 * SLOT));
    expect(dense.addSlotRow({ slot: 0, requests: 0, failures: 0, rateLimited: 0, maxMs: 0, buckets: [] })).toBe(false);
  });
});

import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { BucketLayout, DEFAULT_BUCKET_LAYOUT, promBucketMap, quantilesFromCounts, quantilesFromSum } from '../../src/metrics/log-buckets.js';

/** Nearest-rank quantile of the raw values: the ⌈q·n⌉-th smallest (at least the first). */
function nearestRank(sorted: readonly number[], q: number): number {
  return sorted[Math.max(1, Math.ceil(q * sorted.length)) - 1]!;
}

describe('BucketLayout: ends of the range', () => {
  const layout = new BucketLayout({ minMs: 1, maxMs: 1_000, relativeError: 0.02 });

  it('clamps below minMs into bucket 0 and above maxMs into the last bucket, and says so', () => {
    expect(layout.index(0)).toBe(0);
    expect(layout.index(1)).toBe(0);
    expect(layout.index(1_000)).toBe(layout.last);
    expect(layout.index(1e9)).toBe(layout.last);
    expect(layout.clamps(0.5)).toBe(true);
    expect(layout.clamps(1)).toBe(false);
    expect(layout.clamps(1_000)).toBe(false);
    expect(layout.clamps(1_000.5)).toBe(true);
    expect(layout.clamps(500)).toBe(false);
  });

  it('bucket 0 reads as minMs, the last bucket is bounded by maxMs; bounds ascend', () => {
    expect(layout.value(0)).toBe(1);
    expect(layout.value(-3)).toBe(1);
    expect(layout.upperBound(layout.last)).toBe(1_000);
    expect(layout.upperBound(layout.last + 5)).toBe(1_000);
    expect(layout.size).toBe(layout.last + 1);
    for (let i = 1; i < layout.last; i++) {
      expect(layout.upperBound(i)).toBeGreaterThan(layout.upperBound(i - 1));
      expect(layout.upperBound(i) / layout.upperBound(i - 1)).toBeCloseTo((1 + 0.02) / (1 - 0.02), 9);
    }
    // γ^k bounds: the number of buckets is what covering [min, max] at this error takes.
    const gamma = 1.02 / 0.98;
    expect(layout.last).toBe(Math.ceil(Math.log(1_000) / Math.log(gamma)) - Math.ceil(Math.log(1) / Math.log(gamma)));
  });

  it('keeps the options it was built with; the default layout is 1 % over 10 µs … 1 h', () => {
    expect([layout.minMs, layout.maxMs, layout.relativeError]).toEqual([1, 1_000, 0.02]);
    const d = new BucketLayout();
    expect([d.minMs, d.maxMs, d.relativeError]).toEqual([DEFAULT_BUCKET_LAYOUT.minMs, DEFAULT_BUCKET_LAYOUT.maxMs, DEFAULT_BUCKET_LAYOUT.relativeError]);
  });

  it('refuses a layout that would need too many buckets', () => {
    expect(() => new BucketLayout({ minMs: 1e-6, maxMs: 1e9, relativeError: 0.0001 })).toThrowError(RangeError);
    expect(() => new BucketLayout({ minMs: 1e-6, maxMs: 1e9, relativeError: 0.0001 })).toThrowError(/too many buckets/);
  });

  it('index() and indexOfStaged() agree', () => {
    for (const v of [0.3, 1, 1.5, 17, 999.9, 5_000]) {
      layout.stage[0] = v;
      expect(layout.indexOfStaged()).toBe(layout.index(v));
    }
  });
});

describe('quantiles against the raw values (nearest rank, within relativeError)', () => {
  const layout = new BucketLayout();
  const qs = [0.5, 0.9, 0.95, 0.99, 1];

  function counts(values: readonly number[]) {
    const c = new Float64Array(layout.size);
    for (const v of values) c[layout.index(v)]!++;
    return c;
  }

  it('property: every quantile is within 1 % of the true nearest-rank value, and never above the largest value seen', () => {
    fc.assert(
      fc.property(fc.array(fc.double({ min: 0.02, max: 3_000_000, noNaN: true }), { minLength: 1, maxLength: 300 }), (values) => {
        const sorted = [...values].sort((a, b) => a - b);
        const max = sorted.at(-1)!;
        const got = quantilesFromCounts(layout, counts(values), values.length, qs, max);
        const a = new Uint32Array(layout.size);
        const h = new Uint16Array(layout.size);
        for (const v of values) a[layout.index(v)]!++;
        const viaSum = quantilesFromSum(layout, a, h, 0, values.length, qs, max);
        qs.forEach((q, i) => {
          const truth = nearestRank(sorted, q);
          expect(Math.abs(got[i]! - truth) / truth).toBeLessThanOrEqual(0.01 + 1e-9);
          expect(got[i]!).toBeLessThanOrEqual(max);
          expect(viaSum[i]).toBe(got[i]);
        });
      }),
      { numRuns: 300 },
    );
  });

  it('exact cases: 100 values 1…100 ms', () => {
    const values = Array.from({ length: 100 }, (_, i) => i + 1);
    const got = quantilesFromCounts(layout, counts(values), 100, [0.01, 0.5, 0.99, 1], 100);
    const expected = [1, 50, 99, 100];
    got.forEach((g, i) => expect(Math.abs(g! - expected[i]!) / expected[i]!).toBeLessThanOrEqual(0.01));
    expect(got[3]).toBe(100); // capped at the largest value seen
  });

  it('no data: null for every quantile', () => {
    expect(quantilesFromCounts(layout, new Float64Array(layout.size), 0, qs, 0)).toEqual([null, null, null, null, null]);
    expect(quantilesFromSum(layout, new Uint32Array(layout.size), new Uint16Array(layout.size), 0, 0, qs, 0)).toEqual([null, null, null, null, null]);
  });

  it('a single value answers every quantile with it', () => {
    const got = quantilesFromCounts(layout, counts([42]), 1, qs, 42);
    for (const g of got) expect(Math.abs(g! - 42) / 42).toBeLessThanOrEqual(0.01);
    const a = new Uint32Array(layout.size);
    a[layout.index(42)] = 1;
    expect(quantilesFromSum(layout, a, new Uint16Array(layout.size), 0, 1, qs, 42)).toEqual(got);
  });

  it('the head counts are read at their offset', () => {
    const a = new Uint32Array(layout.size);
    const h = new Uint16Array(layout.size * 2);
    h[layout.size + layout.index(10)] = 3; // the second row of head counts
    h[layout.index(5_000)] = 50; // another row: must not be read
    const got = quantilesFromSum(layout, a, h, layout.size, 3, [0.5, 1], 10);
    expect(Math.abs(got[0]! - 10) / 10).toBeLessThanOrEqual(0.01);
  });
});

describe('promBucketMap', () => {
  it('maps each bucket to the first bound at or above its lower edge; straddling buckets are flagged', () => {
    const layout = new BucketLayout({ minMs: 1, maxMs: 1_000, relativeError: 0.1 });
    const { index, straddles, boundsMs } = promBucketMap(layout, [0.01, 0.1]);
    expect([...boundsMs]).toEqual([10, 100, Infinity]);
    for (let b = 0; b < layout.size; b++) {
      const lower = b === 0 ? 0 : layout.upperBound(b - 1);
      const upper = b === layout.last ? Infinity : layout.upperBound(b);
      const j = index[b]!;
      expect(boundsMs[j]!).toBeGreaterThanOrEqual(lower);
      if (j > 0) expect(boundsMs[j - 1]!).toBeLessThan(lower);
      expect(straddles[b]).toBe(upper > boundsMs[j]! ? 1 : 0);
    }
    // The bucket holding 10 ms ends at or above it: either it ends exactly at 10 or it straddles.
    const b10 = layout.index(10);
    expect(index[b10]).toBe(0);
    expect(straddles[layout.last]).toBe(0); // +Inf holds everything above
    expect(index[layout.last]).toBe(2);
    expect(straddles.reduce((a, s) => a + s, 0)).toBe(2); // one bucket around each finite bound
  });
});

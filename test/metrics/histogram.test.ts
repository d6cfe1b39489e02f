import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { BucketLayout, quantilesFromCounts } from '../../src/metrics/log-buckets.js';

function exactQuantile(sorted: number[], q: number): number {
  return sorted[Math.max(0, Math.ceil(q * sorted.length) - 1)]!;
}

function sketch(values: number[], layout = new BucketLayout()) {
  const counts = new Float64Array(layout.size);
  for (const v of values) counts[layout.index(v)]!++;
  return (qs: number[]) => quantilesFromCounts(layout, counts, values.length, qs, Math.max(...values));
}

describe('log-bucket histogram', () => {
  it('uses fixed memory: under a thousand buckets cover 0.01 ms .. 1 h at 1 %', () => {
    const layout = new BucketLayout();
    expect(layout.size).toBeLessThan(1000);
    expect(layout.index(0.01)).toBe(0);
    expect(layout.index(3_600_000)).toBe(layout.last);
  });

  it('reads p50/p95/p99 of log-normal latencies within 1 % of the exact values', () => {
    // Deterministic log-normal sample (median 50 ms, long tail).
    let seed = 42;
    const rand = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) + 1) / (2 ** 31 + 1);
    const values = Array.from({ length: 100_000 }, () => {
      const z = Math.sqrt(-2 * Math.log(rand())) * Math.cos(2 * Math.PI * rand());
      return Math.exp(Math.log(50) + 1.2 * z);
    });
    const sorted = [...values].sort((a, b) => a - b);
    const read = sketch(values);
    const qs = [0.5, 0.95, 0.99];
    read(qs).forEach((got, i) => {
      const exact = exactQuantile(sorted, qs[i]!);
      expect(Math.abs(got! - exact) / exact).toBeLessThanOrEqual(0.01);
    });
  });

  it('keeps every quantile within 1 % for any sample inside the range (property)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.double({ min: 0.01, max: 3_600_000, noNaN: true }), { minLength: 1, maxLength: 300 }),
        fc.constantFrom(0.01, 0.25, 0.5, 0.9, 0.95, 0.99, 1),
        (values, q) => {
          const sorted = [...values].sort((a, b) => a - b);
          const [got] = sketch(values)([q]);
          const exact = exactQuantile(sorted, q);
          return Math.abs(got! - exact) / exact <= 0.01 + 1e-12;
        },
      ),
      { numRuns: 300 },
    );
  });

  it('clamps values outside the range to the end buckets instead of dropping them', () => {
    const layout = new BucketLayout();
    expect(layout.index(0)).toBe(0);
    expect(layout.index(0.0001)).toBe(0);
    expect(layout.index(10 * 3_600_000)).toBe(layout.last);
    expect(layout.clamps(0)).toBe(true);
    expect(layout.clamps(5)).toBe(false);
    expect(layout.clamps(4_000_000)).toBe(true);
  });

  it('returns null quantiles for an empty histogram', () => {
    const layout = new BucketLayout();
    expect(quantilesFromCounts(layout, new Float64Array(layout.size), 0, [0.5, 0.99], 0)).toEqual([null, null]);
  });
});

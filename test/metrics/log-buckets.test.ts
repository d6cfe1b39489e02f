import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { BucketLayout, promBucketMap, quantilesFromCounts, quantilesFromSum } from '../../src/metrics/log-buckets.js';

/** The definition: the first bucket whose upper bound reaches v (clamped at both ends). */
function definedIndex(layout: BucketLayout, v: number): number {
  if (v <= layout.minMs) return 0;
  if (v >= layout.maxMs) return layout.last;
  let i = 0;
  while (i < layout.last && layout.upperBound(i) < v) i++;
  return i;
}

describe('BucketLayout.index (bit-level lookup)', () => {
  const layouts = [
    new BucketLayout(),
    new BucketLayout({ minMs: 0.001, maxMs: 60_000, relativeError: 0.05 }),
    new BucketLayout({ minMs: 1, maxMs: 10_000, relativeError: 0.001 }),
  ];

  it('agrees with the definition for any value, for several layouts (property)', () => {
    for (const layout of layouts) {
      fc.assert(
        fc.property(fc.double({ min: 0, max: layout.maxMs * 4, noNaN: true }), (v) => layout.index(v) === definedIndex(layout, v)),
        { numRuns: 2000 },
      );
    }
  });

  it('puts every bucket boundary in its own bucket and the next float in the next one', () => {
    for (const layout of layouts) {
      for (let i = 0; i < layout.last; i++) {
        const u = layout.upperBound(i);
        expect(layout.index(u)).toBe(i);
        const next = u * (1 + Number.EPSILON);
        expect(layout.index(next)).toBe(definedIndex(layout, next));
      }
    }
  });

  it('reports a value within relativeError of every value in the bucket', () => {
    const layout = new BucketLayout();
    for (let i = 1; i < layout.last; i++) {
      const lo = layout.upperBound(i - 1);
      const hi = layout.upperBound(i);
      const rep = layout.value(i);
      expect(Math.abs(rep - lo) / lo).toBeLessThanOrEqual(0.01 + 1e-12);
      expect(Math.abs(rep - hi) / hi).toBeLessThanOrEqual(0.01 + 1e-12);
    }
  });

  it('maps buckets onto Prometheus bounds no higher than any value in them', () => {
    const layout = new BucketLayout();
    const { index, boundsMs } = promBucketMap(layout, [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]);
    fc.assert(
      fc.property(fc.double({ min: 0, max: 20_000, noNaN: true }), (v) => {
        const correct = boundsMs.findIndex((b) => v <= b);
        return index[layout.index(v)]! <= correct;
      }),
      { numRuns: 2000 },
    );
  });

  it('reads the same quantiles from closed + head counts, scanning down, as from the merged counts (property)', () => {
    const layout = new BucketLayout();
    const sample = fc.array(fc.double({ min: 0, max: 4_000_000, noNaN: true }), { minLength: 0, maxLength: 200 });
    fc.assert(
      fc.property(sample, sample, fc.uniqueArray(fc.double({ min: 0.001, max: 1, noNaN: true }), { minLength: 1, maxLength: 5 }), (closed, head, qsRaw) => {
        const qs = [...qsRaw].sort((x, y) => x - y);
        const a = new Uint32Array(layout.size);
        const h = new Uint16Array(layout.size * 3);
        const merged = new Float64Array(layout.size);
        for (const v of closed) {
          a[layout.index(v)]!++;
          merged[layout.index(v)]!++;
        }
        for (const v of head) {
          h[layout.size + layout.index(v)]!++;
          merged[layout.index(v)]!++;
        }
        const all = [...closed, ...head];
        const max = all.length > 0 ? Math.max(...all) : 0;
        expect(quantilesFromSum(layout, a, h, layout.size, all.length, qs, max)).toEqual(quantilesFromCounts(layout, merged, all.length, qs, max));
      }),
      { numRuns: 500 },
    );
  });
});

import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { BucketLayout, promBucketMap } from '../../src/metrics/log-buckets.js';

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
});

import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { SpaceSaving } from '../../src/actions/controls/space-saving.js';

describe('Space-Saving heavy hitters', () => {
  it('keeps at most capacity keys and ranks the heaviest first', () => {
    const s = new SpaceSaving(3);
    for (const [k, n] of [['a', 10], ['b', 7], ['c', 1], ['d', 1], ['e', 1]] as const) for (let i = 0; i < n; i++) s.offer(k);
    expect(s.size).toBe(3);
    expect(s.top(2).map((h) => [h.key, h.count, h.error])).toEqual([
      ['a', 10, 0],
      ['b', 7, 0],
    ]);
  });

  it('property: every key with more than total/capacity occurrences is tracked, and counts bound the truth', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 30 }), { minLength: 1, maxLength: 400 }), fc.integer({ min: 2, max: 10 }), (stream, k) => {
        const s = new SpaceSaving(k);
        const truth = new Map<string, number>();
        for (const x of stream) {
          s.offer(String(x));
          truth.set(String(x), (truth.get(String(x)) ?? 0) + 1);
        }
        const top = new Map(s.top().map((h) => [h.key, h]));
        for (const [key, n] of truth) if (n > stream.length / k && !top.has(key)) return false;
        for (const [key, h] of top) {
          const n = truth.get(key) ?? 0;
          if (!(h.count >= n && h.count - h.error <= n)) return false;
        }
        return true;
      }),
      { numRuns: 300 },
    );
  });
});

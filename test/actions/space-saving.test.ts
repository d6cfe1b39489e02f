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

describe('Space-Saving stream-summary (O(1) offers)', () => {
  // Reference: the exact count of every key of the stream.
  const exact = (stream: readonly (readonly [string, number])[]): Map<string, number> => {
    const m = new Map<string, number>();
    for (const [k, n] of stream) m.set(k, (m.get(k) ?? 0) + n);
    return m;
  };

  it('property: against an exact count, with weighted offers — bounds hold, the counts sum to the stream, heavy keys are tracked', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.integer({ min: 0, max: 40 }).map(String), fc.integer({ min: 1, max: 5 })), { minLength: 1, maxLength: 500 }),
        fc.integer({ min: 1, max: 12 }),
        (stream, k) => {
          const s = new SpaceSaving(k);
          for (const [key, n] of stream) s.offer(key, n);
          const truth = exact(stream);
          const total = stream.reduce((a, [, n]) => a + n, 0);
          const top = s.top();
          expect(top.length).toBe(Math.min(k, truth.size));
          // Space-Saving never loses mass: the tracked counts add up to everything offered.
          expect(top.reduce((a, h) => a + h.count, 0)).toBe(total);
          for (const h of top) {
            const n = truth.get(h.key) ?? 0;
            expect(h.count).toBeGreaterThanOrEqual(n);
            expect(h.count - h.error).toBeLessThanOrEqual(n);
            expect(h.error).toBeGreaterThanOrEqual(0);
          }
          const tracked = new Set(top.map((h) => h.key));
          for (const [key, n] of truth) if (n > total / k) expect(tracked.has(key)).toBe(true);
          // Sorted highest first.
          for (let i = 1; i < top.length; i++) expect(top[i - 1]!.count).toBeGreaterThanOrEqual(top[i]!.count);
        },
      ),
      { numRuns: 400 },
    );
  });

  it('property: interleaving clear() with offers behaves like a fresh summary', () => {
    fc.assert(
      fc.property(fc.array(fc.oneof(fc.integer({ min: 0, max: 15 }).map(String), fc.constant(null)), { maxLength: 300 }), (ops) => {
        const s = new SpaceSaving(4);
        let since: string[] = [];
        for (const op of ops) {
          if (op === null) {
            s.clear();
            since = [];
          } else {
            s.offer(op);
            since.push(op);
          }
        }
        const fresh = new SpaceSaving(4);
        for (const k of since) fresh.offer(k);
        expect(s.top()).toEqual(fresh.top());
      }),
      { numRuns: 200 },
    );
  });

  it('holds at most capacity keys and at most that many distinct counts under a flood of distinct keys', () => {
    const s = new SpaceSaving(20);
    for (let i = 0; i < 200_000; i++) {
      s.offer(`ip-${i}`);
      if (i % 7 === 0) s.offer('attacker');
    }
    expect(s.size).toBe(20);
    expect(s.bucketCount).toBeLessThanOrEqual(s.size);
    expect(s.bucketCount).toBeGreaterThan(0);
    // The attacker sent 1/8 of the stream: far above total/capacity, so it is tracked, and ranked first.
    const [first] = s.top(1);
    expect(first?.key).toBe('attacker');
    expect(first!.count - first!.error).toBeLessThanOrEqual(200_000 / 7 + 1);
    expect(first!.count).toBeGreaterThanOrEqual(Math.floor(200_000 / 7));
  });

  it('evicts the longest-standing of the smallest counters first', () => {
    const s = new SpaceSaving(2);
    s.offer('a');
    s.offer('b');
    s.offer('c'); // replaces a (count 1, error 1 → 2)
    expect(s.top().map((h) => [h.key, h.count, h.error])).toEqual([
      ['c', 2, 1],
      ['b', 1, 0],
    ]);
  });
});

import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { CounterRing } from '../../src/metrics/counter-ring.js';

describe('CounterRing', () => {
  it('matches a naive model for any adds, clock moves and windows (property)', () => {
    const step = fc.record({ by: fc.integer({ min: 0, max: 30_000 }), field: fc.integer({ min: 0, max: 1 }), n: fc.integer({ min: 1, max: 5 }) });
    fc.assert(
      fc.property(fc.array(step, { maxLength: 150 }), fc.uniqueArray(fc.integer({ min: 1, max: 90_000 }), { minLength: 1, maxLength: 5 }), (steps, windows) => {
        const ring = new CounterRing(1_000, 60, 2);
        const model: { slot: number; field: number; n: number }[] = [];
        let now = 5_000_000;
        let head = -Infinity;
        for (const s of steps) {
          now += s.by;
          ring.add(now, s.field, s.n);
          head = Math.max(head, Math.floor(now / 1_000));
          model.push({ slot: head, field: s.field, n: s.n });
        }
        const last = (slots: number, field: number) =>
          model.filter((m) => m.field === field && m.slot > head - slots).reduce((a, m) => a + m.n, 0);
        for (const field of [0, 1]) {
          expect(ring.total(now, field)).toBe(last(60, field));
          for (const w of windows) expect(ring.sum(now, field, w)).toBe(last(Math.min(60, Math.max(1, Math.ceil(w / 1_000))), field));
          expect(ring.sums(now, field, windows)).toEqual(windows.map((w) => ring.sum(now, field, w)));
        }
      }),
      { numRuns: 300 },
    );
  });

  it('expires slots by the clock and keeps writing to the head when the clock goes back', () => {
    const ring = new CounterRing(1_000, 3, 1);
    ring.add(10_000, 0);
    ring.add(11_000, 0, 2);
    ring.add(9_000, 0, 4); // earlier than the head: counted in the head slot
    expect(ring.total(11_000, 0)).toBe(7);
    expect(ring.sum(11_000, 0, 1_000)).toBe(6);
    expect(ring.total(12_999, 0)).toBe(7);
    expect(ring.total(13_000, 0)).toBe(6);
    expect(ring.total(14_000, 0)).toBe(0);
  });
});

import { describe, expect, it, vi } from 'vitest';
import fc from 'fast-check';
import { CounterRing } from '../../src/metrics/counter-ring.js';

/** A naive model: every add kept with the slot it landed in (the head never moves back). */
class Model {
  private readonly adds: { slot: number; field: number; n: number }[] = [];
  private head = -Infinity;
  constructor(
    private readonly slotMs: number,
    private readonly slots: number,
  ) {}
  add(now: number, field: number, n = 1): void {
    this.head = Math.max(this.head, Math.floor(now / this.slotMs));
    this.adds.push({ slot: this.head, field, n });
  }
  sum(now: number, field: number, windowMs = Infinity): number {
    this.head = Math.max(this.head, Math.floor(now / this.slotMs));
    const n = Math.min(this.slots, Math.max(1, Math.ceil(windowMs / this.slotMs)));
    return this.adds.filter((a) => a.field === field && a.slot > this.head - n).reduce((s, a) => s + a.n, 0);
  }
}

describe('CounterRing: idling longer than the window', () => {
  for (const [label, idleSlots] of [
    ['one slot longer than the ring', 6],
    ['twice the ring', 10],
    ['ten times the ring', 50],
  ] as const) {
    it(`forgets everything after idling ${label}, then counts afresh`, () => {
      const ring = new CounterRing(1_000, 5, 2);
      const t0 = 100_000;
      for (let i = 0; i < 5; i++) {
        ring.add(t0 + i * 1_000, 0, i + 1); // 1+2+3+4+5 = 15 over the ring's 5 slots
        ring.add(t0 + i * 1_000, 1, 10);
      }
      expect(ring.total(t0 + 4_000, 0)).toBe(15);
      expect(ring.total(t0 + 4_000, 1)).toBe(50);
      const later = t0 + 4_000 + idleSlots * 1_000;
      expect(ring.total(later, 0)).toBe(0);
      expect(ring.total(later, 1)).toBe(0);
      for (const w of [1_000, 2_000, 4_999, 5_000, 60_000]) expect(ring.sum(later, 0, w)).toBe(0);
      ring.add(later, 0, 7);
      ring.add(later + 1_000, 0, 1);
      expect(ring.total(later + 1_000, 0)).toBe(8);
      expect(ring.sum(later + 1_000, 0, 1_000)).toBe(1);
      expect(ring.sum(later + 1_000, 0, 2_000)).toBe(8);
      expect(ring.sums(later + 1_000, 0, [1_000, 2_000, 5_000])).toEqual([1, 8, 8]);
      expect(ring.total(later + 1_000, 1)).toBe(0);
    });
  }

  it('writes after a long idle land in the new window even when they come without a read first', () => {
    const ring = new CounterRing(1_000, 4, 1);
    ring.add(50_000, 0, 3);
    ring.add(51_000, 0, 4);
    ring.add(51_000 + 9_000, 0, 2); // 9 slots later: more than two ring lengths
    expect(ring.total(60_000, 0)).toBe(2);
    expect(ring.sum(60_000, 0, 1_000)).toBe(2);
    expect(ring.sum(60_000, 0, 2_000)).toBe(2);
  });

  it('matches the naive model when idles longer than the window are mixed in (property)', () => {
    const step = fc.record({
      // Mostly short steps, sometimes an idle of up to 12 ring lengths.
      by: fc.oneof(fc.integer({ min: 0, max: 3_000 }), fc.integer({ min: 7_000, max: 100_000 })),
      field: fc.integer({ min: 0, max: 2 }),
      n: fc.integer({ min: 1, max: 9 }),
      read: fc.boolean(),
    });
    fc.assert(
      fc.property(fc.array(step, { minLength: 1, maxLength: 80 }), fc.integer({ min: 1, max: 12_000 }), (steps, window) => {
        const ring = new CounterRing(1_000, 8, 3);
        const model = new Model(1_000, 8);
        let now = 3_000_000;
        for (const s of steps) {
          now += s.by;
          if (s.read) {
            expect(ring.total(now, s.field)).toBe(model.sum(now, s.field));
          }
          ring.add(now, s.field, s.n);
          model.add(now, s.field, s.n);
        }
        for (const field of [0, 1, 2]) {
          expect(ring.total(now, field)).toBe(model.sum(now, field));
          expect(ring.sum(now, field, window)).toBe(model.sum(now, field, window));
        }
      }),
      { numRuns: 200 },
    );
  });
});

describe('CounterRing: reads and writes at earlier times', () => {
  it('a read at an earlier time than the head moves nothing; later writes still land in the head slot', () => {
    const ring = new CounterRing(1_000, 4, 1);
    ring.add(20_000, 0, 1);
    ring.add(22_000, 0, 2);
    // A read that is behind the head (a caller with an older timestamp).
    expect(ring.total(21_000, 0)).toBe(3);
    expect(ring.sum(21_000, 0, 1_000)).toBe(2);
    ring.add(22_500, 0, 4);
    ring.add(21_500, 0, 8); // behind the head: counted in the head slot
    expect(ring.sum(22_999, 0, 1_000)).toBe(14);
    expect(ring.total(22_999, 0)).toBe(15);
    // The window keeps moving from the head's slot, not from the earlier read.
    expect(ring.total(23_000, 0)).toBe(15);
    expect(ring.total(24_000, 0)).toBe(14); // slot 20 has left the 4-slot window
    expect(ring.total(26_000, 0)).toBe(0);
  });

  it('sums() after an earlier read answers for the head, for every window', () => {
    const ring = new CounterRing(1_000, 6, 1);
    for (let s = 0; s < 6; s++) ring.add(30_000 + s * 1_000, 0, 1 << s);
    expect(ring.sums(10_000, 0, [1_000, 2_000, 3_000, 6_000])).toEqual([32, 48, 56, 63]);
  });
});

describe('CounterRing: slot boundaries', () => {
  it('add() at exactly a slot boundary opens the new slot', () => {
    const ring = new CounterRing(1_000, 3, 1);
    ring.add(4_999, 0, 1);
    ring.add(5_000, 0, 10);
    expect(ring.sum(5_000, 0, 1_000)).toBe(10);
    expect(ring.total(5_000, 0)).toBe(11);
    expect(ring.total(7_000, 0)).toBe(10); // slot 4 expired, slot 5 kept
    expect(ring.total(8_000, 0)).toBe(0);
  });

  it('addStaged() at exactly a slot boundary opens the new slot, and matches add()', () => {
    const staged = new CounterRing(1_000, 3, 2);
    const plain = new CounterRing(1_000, 3, 2);
    const time = new Float64Array(1);
    for (const [t, field] of [
      [4_999, 0],
      [5_000, 0],
      [5_000, 1],
      [5_999, 1],
      [6_000, 0],
      [9_000, 1], // a whole ring later
      [9_000, 1],
    ] as const) {
      time[0] = t;
      staged.addStaged(time, field);
      plain.add(t, field);
      for (const f of [0, 1]) {
        expect(staged.total(t, f)).toBe(plain.total(t, f));
        expect(staged.sum(t, f, 1_000)).toBe(plain.sum(t, f, 1_000));
      }
    }
    time[0] = 5_000;
    const ring = new CounterRing(1_000, 3, 1);
    ring.add(4_000, 0);
    ring.addStaged(time, 0);
    expect(ring.sum(5_000, 0, 1_000)).toBe(1);
    expect(ring.total(5_000, 0)).toBe(2);
    expect(ring.total(7_000, 0)).toBe(1);
  });

  it('reports the window length and the bytes its arrays hold', () => {
    const ring = new CounterRing(250, 40, 3);
    expect(ring.windowMs).toBe(250 * 40);
    expect(ring.bytes).toBe((40 * 3 + 3) * Float64Array.BYTES_PER_ELEMENT);
  });
});

describe('CounterRing: the first slots of time and the fast paths', () => {
  it('counts correctly from time 0 (slot 0, then slot 1)', () => {
    const ring = new CounterRing(1_000, 4, 1);
    ring.add(0, 0);
    ring.add(1_000, 0, 2);
    expect(ring.sum(1_000, 0, 1_000)).toBe(2);
    expect(ring.total(1_000, 0)).toBe(3);
    ring.add(2_500, 0, 4);
    expect(ring.sums(2_500, 0, [1_000, 2_000, 3_000])).toEqual([4, 6, 7]);
    expect(ring.total(4_000, 0)).toBe(6); // slot 0 left the 4-slot window
  });

  it('adding within the head slot does not roll the ring (the one time check)', () => {
    const ring = new CounterRing(1_000, 4, 1);
    ring.add(10_000, 0);
    const internals = ring as unknown as { roll(abs: number): void; moveHead(abs: number): void };
    const roll = vi.spyOn(internals, 'roll');
    const moveHead = vi.spyOn(internals, 'moveHead');
    const time = new Float64Array([10_999]);
    ring.add(10_500, 0);
    ring.add(10_999, 0);
    ring.addStaged(time, 0);
    ring.add(9_000, 0); // behind the head: written to it, no roll either
    expect(roll).not.toHaveBeenCalled();
    ring.add(11_000, 0); // the next slot: one roll
    expect(roll).toHaveBeenCalledTimes(1);
    expect(moveHead).toHaveBeenCalledTimes(1);
    // A read in the head slot rolls to the same slot: the head is not moved again.
    expect(ring.total(11_500, 0)).toBe(6);
    expect(moveHead).toHaveBeenCalledTimes(1);
  });

  it('an idle of years costs no more than an idle of one window', () => {
    // 1 ms slots: a naive slot-by-slot expiry would walk 3e11 slots.
    const ring = new CounterRing(1, 1_000, 2);
    ring.add(1_000, 0, 5);
    const later = 1_000 + 10 * 365 * 86_400_000;
    const started = performance.now();
    ring.add(later, 1, 3);
    expect(ring.total(later, 0)).toBe(0);
    expect(ring.total(later, 1)).toBe(3);
    expect(performance.now() - started).toBeLessThan(1_000);
  });
});

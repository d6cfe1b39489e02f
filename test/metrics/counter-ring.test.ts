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

  it('exactSums covers exactly [now − W, now]: whole slots after the oldest, the oldest pro rata (property)', () => {
    const step = fc.record({ by: fc.integer({ min: 0, max: 30_000 }), field: fc.integer({ min: 0, max: 1 }), n: fc.integer({ min: 1, max: 5 }) });
    fc.assert(
      fc.property(
        fc.array(step, { maxLength: 150 }),
        fc.uniqueArray(fc.integer({ min: 1_000, max: 59_000 }), { minLength: 1, maxLength: 5 }),
        fc.integer({ min: 0, max: 40_000 }),
        (steps, windows, readLater) => {
          const ring = new CounterRing(1_000, 60, 2);
          const bySlot = new Map<string, number>();
          let now = 5_000_000;
          let head = -Infinity;
          for (const s of steps) {
            now += s.by;
            ring.add(now, s.field, s.n);
            head = Math.max(head, Math.floor(now / 1_000));
            const key = `${head}:${s.field}`;
            bySlot.set(key, (bySlot.get(key) ?? 0) + s.n);
          }
          now += readLater;
          const nowSlot = Math.floor(now / 1_000);
          for (const field of [0, 1]) {
            const got = ring.exactSums(now, field, windows);
            windows.forEach((w, i) => {
              // The model: every slot after the one holding now − W whole, that one by the share of it inside the window.
              const from = now - w;
              const k0 = Math.floor(from / 1_000);
              let want = 0;
              for (const [key, n] of bySlot) {
                const [k, f] = key.split(':').map(Number) as [number, number];
                if (f !== field || k < nowSlot - 59) continue;
                if (k > k0) want += n;
                else if (k === k0) want += (n * ((k0 + 1) * 1_000 - from)) / 1_000;
              }
              expect(got[i]).toBeCloseTo(want, 9);
            });
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it('exactSums: a burn leaves a 5-minute window exactly 5 minutes after it ended', () => {
    const ring = new CounterRing(60_000, 6, 1);
    const t0 = 600_000; // a slot boundary
    for (let t = t0; t < t0 + 60_000; t += 1_000) ring.add(t, 0); // one event a second for a minute
    const [at4m] = ring.exactSums(t0 + 60_000 + 240_000, 0, [300_000]);
    expect(at4m).toBeCloseTo(60, 9); // 4 min after: still wholly inside (whole slots back to the head's start said 0)
    const [at4m30] = ring.exactSums(t0 + 60_000 + 270_000, 0, [300_000]);
    expect(at4m30).toBeCloseTo(30, 9); // half of the burst's minute is inside
    const [at5m] = ring.exactSums(t0 + 60_000 + 300_000, 0, [300_000]);
    expect(at5m).toBe(0);
  });

  it('restores saved slots into a ring that was read but never counted, and refuses one that counted', () => {
    const saved = new CounterRing(60_000, 10, 2);
    const t0 = 6_000_000;
    saved.add(t0, 0, 5);
    saved.add(t0 + 60_000, 1, 2);
    const rows = saved.slotCounts(t0 + 90_000);
    const read = new CounterRing(60_000, 10, 2);
    expect(read.total(t0 + 120_000, 0)).toBe(0); // a read moves the head
    expect(read.restoreSlots(rows, t0 + 120_000)).toBe(true);
    expect(read.total(t0 + 120_000, 0)).toBe(5);
    expect(read.total(t0 + 120_000, 1)).toBe(2);
    const counted = new CounterRing(60_000, 10, 2);
    counted.add(t0 + 120_000, 0, 1);
    expect(counted.restoreSlots(rows, t0 + 120_000)).toBe(false);
    expect(counted.total(t0 + 120_000, 0)).toBe(1);
  });
});

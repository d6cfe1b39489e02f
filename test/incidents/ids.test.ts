import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { IdGenerator, parseId } from '../../src/incidents/ids.js';

describe('incident ids', () => {
  it('sort in creation order and stay unique when the clock stands still or steps back', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: -5_000, max: 5_000 }), { minLength: 1, maxLength: 300 }), (deltas) => {
        let t = Date.UTC(2026, 0, 1);
        const ids = new IdGenerator(() => t);
        const made: string[] = [];
        for (const d of deltas) {
          t += d;
          made.push(ids.next());
        }
        expect([...made].sort()).toEqual(made);
        expect(new Set(made).size).toBe(made.length);
      }),
      { seed: 7, numRuns: 200 },
    );
  });

  it('encode their creation time, and continue after ids seen in a log (observe)', () => {
    const t = Date.UTC(2026, 5, 1, 12);
    const a = new IdGenerator(() => t).next();
    expect(a).toMatch(/^inc_[0-9a-z]{18}$/);
    expect(parseId(a)).toEqual({ time: t, counter: 0 });
    const later = new IdGenerator(() => t - 86_400_000); // a restarted process whose clock is behind
    later.observe(a);
    expect(later.next() > a).toBe(true);
    expect(parseId('inc_short')).toBeUndefined();
    expect(parseId('inc_!!!!!!!!!!!!!!!!!!')).toBeUndefined();
  });

  it('roll into the next millisecond when a millisecond’s counter is exhausted', () => {
    const ids = new IdGenerator(() => 0, 'x_', () => 0);
    let prev = '';
    for (let i = 0; i < 32 ** 3 + 5; i++) {
      const id = ids.next();
      expect(id > prev).toBe(true);
      prev = id;
    }
    expect(parseId(prev, 'x_')).toEqual({ time: 1, counter: 4 });
  });
});

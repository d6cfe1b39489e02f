import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { RateLimiter } from '../../src/index.js';
import { ManualClock } from '../../src/testing/index.js';

/** A limiter replaying `allowedAt` (on its own clock), then asked once at `at`. */
function allowedAfterReplay(max: number, windowSeconds: number, allowedAt: readonly number[], at: number): boolean {
  const t = new ManualClock(allowedAt[0] ?? at);
  const probe = new RateLimiter('probe', t, { maxRequests: max, windowSeconds });
  for (const a of allowedAt) {
    t.set(a);
    probe.check('k');
  }
  t.set(at);
  return probe.check('k').allowed;
}

describe('rate limiter: retryAfterMs is the shortest wait', () => {
  it('property: one millisecond less than retryAfterMs is still rejected, retryAfterMs is enough', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 20 }),
        fc.integer({ min: 1, max: 120 }),
        fc.array(fc.integer({ min: 0, max: 30_000 }), { minLength: 1, maxLength: 60 }),
        (max, windowSeconds, gaps) => {
          const clock = new ManualClock();
          const limiter = new RateLimiter('p', clock, { maxRequests: max, windowSeconds });
          const allowedAt: number[] = [];
          for (const gap of gaps) {
            clock.advance(gap);
            const v = limiter.check('k');
            if (v.allowed) {
              allowedAt.push(clock.now());
              continue;
            }
            expect(v.retryAfterMs).toBeGreaterThanOrEqual(1);
            expect(allowedAfterReplay(max, windowSeconds, allowedAt, clock.now() + v.retryAfterMs)).toBe(true);
            if (v.retryAfterMs > 1) {
              expect(allowedAfterReplay(max, windowSeconds, allowedAt, clock.now() + v.retryAfterMs - 1)).toBe(false);
            }
          }
        },
      ),
      { numRuns: 200 },
    );
  });

  it('only the previous window in the way: the wait is until enough of it has slid out', () => {
    const clock = new ManualClock(); // a whole number of minutes
    const limiter = new RateLimiter('t', clock, { maxRequests: 10, windowSeconds: 60 });
    for (let i = 0; i < 10; i++) limiter.check('k');
    clock.advance(60_000 + 6_000); // next window, 6 s in: previous weighs 10 × 54/60 = 9
    expect(limiter.check('k')).toMatchObject({ allowed: true, remaining: 0 }); // 9 + 1 = 10
    const v = limiter.check('k');
    // 1 in this window; another fits once 10 × (60 − e)/60 + 1 + 1 ≤ 10, i.e. e ≥ 12 s: 6 s from now.
    expect(v).toMatchObject({ allowed: false, retryAfterMs: 6_000, resetMs: 54_000, remaining: 0, blocked: false, limit: 10 });
    clock.advance(5_999);
    expect(limiter.check('k').allowed).toBe(false);
    clock.advance(1);
    expect(limiter.check('k').allowed).toBe(true);
  });

  it('this window full: the wait runs past the roll-over by what the weighted count needs', () => {
    const clock = new ManualClock();
    const limiter = new RateLimiter('t', clock, { maxRequests: 4, windowSeconds: 10 });
    clock.advance(3_000);
    for (let i = 0; i < 4; i++) limiter.check('k');
    // 7 s to the roll-over, then 4 × (10 − e)/10 + 1 ≤ 4 from e = 2.5 s.
    expect(limiter.check('k')).toMatchObject({ allowed: false, retryAfterMs: 9_500, resetMs: 7_000 });
  });

  it('a limit of one: the wait is to the roll-over plus the whole window weighing the one request', () => {
    const clock = new ManualClock();
    const limiter = new RateLimiter('t', clock, { maxRequests: 1, windowSeconds: 60 });
    clock.advance(15_000);
    expect(limiter.check('k').allowed).toBe(true);
    // (L − 1) = 0: the previous window must slide out entirely.
    expect(limiter.check('k')).toMatchObject({ allowed: false, retryAfterMs: 45_000 + 60_000 });
  });

  it('a key idle for more than a window starts from zero', () => {
    const clock = new ManualClock();
    const limiter = new RateLimiter('t', clock, { maxRequests: 2, windowSeconds: 10 });
    limiter.check('k');
    limiter.check('k');
    clock.advance(20_000); // two windows later: the old count is not the previous window
    expect(limiter.check('k')).toMatchObject({ allowed: true, remaining: 1 });
    expect(limiter.check('k')).toMatchObject({ allowed: true, remaining: 0 });
    expect(limiter.check('k').allowed).toBe(false);
  });

  it('remaining counts down from the weighted estimate', () => {
    const clock = new ManualClock();
    const limiter = new RateLimiter('t', clock, { maxRequests: 10, windowSeconds: 60 });
    for (let i = 0; i < 4; i++) limiter.check('k');
    clock.advance(60_000 + 30_000); // previous 4 weigh 2
    expect(limiter.check('k').remaining).toBe(7); // 10 − 2 − 1
    expect(limiter.check('k').remaining).toBe(6);
  });
});

describe('rate limiter: blocks', () => {
  it('a blocked key is rejected with the time left on its block, and counted', () => {
    const clock = new ManualClock();
    const limiter = new RateLimiter('t', clock, { maxRequests: 100, windowSeconds: 60 });
    limiter.block('k', 30_000);
    clock.advance(10_000);
    expect(limiter.check('k')).toMatchObject({ allowed: false, blocked: true, retryAfterMs: 20_000, remaining: 0 });
    expect(limiter.stats()).toMatchObject({ limited: 1, allowed: 0 });
    expect(limiter.topOffenders()[0]).toMatchObject({ key: 'k', count: 1 });
    clock.advance(19_999);
    expect(limiter.check('k')).toMatchObject({ blocked: true, retryAfterMs: 1 });
    clock.advance(1);
    expect(limiter.check('k')).toMatchObject({ allowed: true, blocked: false });
    expect(limiter.blockedUntil('k')).toBeUndefined();
    expect(limiter.unblock('k')).toBe(false);
  });

  it('extends a block that would end later, never shortens one', () => {
    const clock = new ManualClock();
    const limiter = new RateLimiter('t', clock, { maxRequests: 100, windowSeconds: 60 });
    expect(limiter.block('k', 10_000)).toBe(true);
    expect(limiter.block('k', 5_000)).toBe(false);
    expect(limiter.blockedUntil('k')).toBe(clock.now() + 10_000);
    expect(limiter.block('k', 50_000)).toBe(false);
    expect(limiter.blockedUntil('k')).toBe(clock.now() + 50_000);
  });

  it('an expired block is swept before evicting a live one', () => {
    const clock = new ManualClock();
    const limiter = new RateLimiter('t', clock, { maxRequests: 100, windowSeconds: 60, maxBlocked: 2 });
    limiter.block('short', 1_000);
    limiter.block('long', 60_000);
    clock.advance(1_000);
    limiter.block('new', 60_000);
    expect(limiter.stats().blocked.map((b) => b.key)).toEqual(['long', 'new']);
    expect(limiter.stats().blockEvictions).toBe(0);
  });

  it('reset() forgets one key’s count only', () => {
    const clock = new ManualClock();
    const limiter = new RateLimiter('t', clock, { maxRequests: 1, windowSeconds: 60 });
    limiter.check('a');
    limiter.check('b');
    limiter.reset('a');
    expect(limiter.check('a').allowed).toBe(true);
    expect(limiter.check('b').allowed).toBe(false);
  });

  it('recent counts cover the last 5 minutes in stats', () => {
    const clock = new ManualClock();
    const limiter = new RateLimiter('t', clock, { maxRequests: 1, windowSeconds: 60 });
    limiter.check('a');
    limiter.check('a');
    clock.advance(60_000);
    limiter.check('b');
    expect(limiter.stats().recent).toEqual({ allowed: 2, limited: 1, windowMs: 300_000 });
    expect(limiter.recentCounts(30_000)).toEqual({ allowed: 1, limited: 0 });
  });
});

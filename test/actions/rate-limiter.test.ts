import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { ConfigError, RateLimiter, ValidationError } from '../../src/index.js';
import { ManualClock } from '../../src/testing/index.js';
import { setup } from './helpers.js';

// ManualClock starts at 2026-01-01T00:00:00Z, a whole number of minutes: window starts line up with it.

describe('rate limiter (sliding window counter)', () => {
  it('allows maxRequests per window per key, then rejects with retry information', () => {
    const { clock, monitor } = setup();
    const limiter = monitor.rateLimiter('api', { maxRequests: 3, windowSeconds: 60 });
    clock.advance(15_000);
    expect(limiter.check('ip1')).toEqual({ allowed: true, remaining: 2, retryAfterMs: 0, limit: 3, resetMs: 45_000, blocked: false });
    expect(limiter.check('ip1').remaining).toBe(1);
    expect(limiter.check('ip1').remaining).toBe(0);
    const rejected = limiter.check('ip1');
    expect(rejected).toMatchObject({ allowed: false, remaining: 0, limit: 3, blocked: false });
    expect(rejected.retryAfterMs).toBeGreaterThan(45_000);
    // 45 s to the roll-over, then the 3 requests weigh 3 × (60 − e)/60: one more fits once
    // that is ≤ 2, i.e. e ≥ 20 s into the next window.
    expect(rejected.retryAfterMs).toBe(65_000);
    expect(limiter.check('ip2').allowed).toBe(true); // keys are independent
    expect(limiter.stats()).toMatchObject({ allowed: 4, limited: 1, keys: 2 });
  });

  it('weights the previous window by its overlap, so there is no burst at the boundary', () => {
    const { clock, monitor } = setup();
    const limiter = monitor.rateLimiter('api', { maxRequests: 10, windowSeconds: 60 });
    for (let i = 0; i < 10; i++) limiter.check('k');
    clock.advance(60_000); // next window starts: the previous one still counts fully
    expect(limiter.check('k').allowed).toBe(false);
    clock.advance(30_000); // halfway: the previous window weighs 10 × 0.5 = 5
    let allowed = 0;
    while (limiter.check('k').allowed) allowed++;
    expect(allowed).toBe(5);
  });

  it('retryAfterMs is exact: one ms earlier is still rejected, at it the request is allowed', () => {
    const clock = new ManualClock();
    const limiter = new RateLimiter('t', clock, { maxRequests: 4, windowSeconds: 10 });
    clock.advance(3_000);
    for (let i = 0; i < 4; i++) limiter.check('k');
    const v = limiter.check('k');
    expect(v.allowed).toBe(false);
    clock.advance(v.retryAfterMs - 1);
    expect(limiter.check('k').allowed).toBe(false);
    const again = limiter.check('k');
    clock.advance(again.retryAfterMs);
    expect(limiter.check('k').allowed).toBe(true);
  });

  it('property: waiting retryAfterMs is always enough, and the limit is never exceeded in any window', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 20 }),
        fc.integer({ min: 1, max: 120 }),
        fc.array(fc.integer({ min: 0, max: 30_000 }), { minLength: 1, maxLength: 60 }),
        (max, windowSeconds, gaps) => {
          const clock = new ManualClock();
          const limiter = new RateLimiter('p', clock, { maxRequests: max, windowSeconds });
          const W = windowSeconds * 1000;
          const allowedAt: number[] = [];
          for (const gap of gaps) {
            clock.advance(gap);
            const v = limiter.check('k');
            if (v.allowed) allowedAt.push(clock.now());
            else {
              const t = new ManualClock(clock.now());
              // Probe on a copy of time: waiting retryAfterMs must be enough.
              const probe = new RateLimiter('probe', t, { maxRequests: max, windowSeconds });
              for (const at of allowedAt) {
                t.set(at);
                probe.check('k');
              }
              t.set(clock.now() + v.retryAfterMs);
              if (!probe.check('k').allowed) return false;
            }
          }
          // The current window's own count is part of the estimate: one fixed window never exceeds the limit.
          for (let i = 0; i < allowedAt.length; i++) {
            const fixed = allowedAt.filter((t) => Math.floor(t / W) === Math.floor(allowedAt[i]! / W)).length;
            if (fixed > max) return false;
          }
          return true;
        },
      ),
      { numRuns: 200 },
    );
  });

  it('bounds per-key state with an LRU and counts evictions', () => {
    const { monitor } = setup();
    const limiter = monitor.rateLimiter('api', { maxRequests: 1, windowSeconds: 60, maxKeys: 2 });
    limiter.check('a');
    limiter.check('b');
    limiter.check('c');
    expect(limiter.stats()).toMatchObject({ keys: 2, evictedKeys: 1 });
    expect(limiter.check('a').allowed).toBe(true); // forgotten: its count restarted (documented fail-open)
  });

  it('adjusts, tightens and restores the limit; a new window length forgets counts', () => {
    const { monitor } = setup();
    const limiter = monitor.rateLimiter('api', { maxRequests: 100, windowSeconds: 60 });
    for (let i = 0; i < 20; i++) limiter.check('k');
    expect(limiter.tighten(0.1)).toEqual({ maxRequests: 100, windowSeconds: 60 });
    expect(limiter.current()).toEqual({ maxRequests: 10, windowSeconds: 60 });
    expect(limiter.check('k').allowed).toBe(false);
    expect(limiter.stats().adjusted).toBe(true);
    limiter.adjust({ maxRequests: 10, windowSeconds: 3600 });
    expect(limiter.check('k').allowed).toBe(true);
    expect(limiter.restore()).toEqual({ maxRequests: 10, windowSeconds: 3600 });
    expect(limiter.stats()).toMatchObject({ limit: { maxRequests: 100, windowSeconds: 60 }, adjusted: false });
    expect(() => limiter.tighten(2)).toThrowError(ValidationError);
    expect(() => limiter.adjust({ maxRequests: 0 })).toThrowError(/maxRequests/);
    expect(() => limiter.adjust({ maxRequests: 0 })).toThrowError(ValidationError);
    limiter.adjust({ maxRequests: 1 });
    expect(limiter.tighten(0.5).maxRequests).toBe(1); // never below 1
  });

  it('blocks a key until its TTL ends, and unblocks on request', () => {
    const { clock, monitor } = setup();
    const limiter = monitor.rateLimiter('api', { maxRequests: 100, windowSeconds: 60 });
    expect(limiter.block('203.0.113.7', 120_000)).toBe(true);
    expect(limiter.block('203.0.113.7', 60_000)).toBe(false);
    expect(limiter.check('203.0.113.7')).toMatchObject({ allowed: false, blocked: true, retryAfterMs: 120_000 });
    expect(limiter.check('198.51.100.1').allowed).toBe(true);
    clock.advance(120_000);
    expect(limiter.check('203.0.113.7').allowed).toBe(true);
    limiter.block('x');
    expect(limiter.blockedUntil('x')).toBe(clock.now() + 3_600_000);
    expect(limiter.unblock('x')).toBe(true);
    expect(limiter.unblock('x')).toBe(false);
    expect(limiter.check('x').allowed).toBe(true);
    expect(() => limiter.block('', 1000)).toThrowError(/key/);
    expect(() => limiter.block('', 1000)).toThrowError(ValidationError);
  });

  it('bounds blocked keys: one block too many lifts the oldest, counted', () => {
    const { monitor } = setup();
    const limiter = monitor.rateLimiter('api', { maxRequests: 100, windowSeconds: 60, maxBlocked: 2 });
    limiter.block('a');
    limiter.block('b');
    limiter.block('c');
    expect(limiter.stats().blocked.map((b) => b.key)).toEqual(['b', 'c']);
    expect(limiter.stats().blockEvictions).toBe(1);
  });

  it('keeps the top offenders in a bounded heavy-hitter list, and counts recent rejections', () => {
    const { clock, monitor } = setup();
    const limiter = monitor.rateLimiter('api', { maxRequests: 1, windowSeconds: 60, topOffenders: 3 });
    const hits = { attacker: 50, scraper: 20, noisy: 5, a: 1, b: 1, c: 1 };
    for (const [key, n] of Object.entries(hits)) for (let i = 0; i <= n; i++) limiter.check(key);
    const top = limiter.topOffenders();
    expect(top).toHaveLength(3);
    expect(top.slice(0, 2).map((t) => t.key)).toEqual(['attacker', 'scraper']);
    expect(top[0]).toMatchObject({ count: 50, error: 0 });
    expect(limiter.recentCounts()).toEqual({ allowed: 6, limited: 78 });
    clock.advance(300_000);
    expect(limiter.recentCounts()).toEqual({ allowed: 0, limited: 0 });
    expect(limiter.stats().limited).toBe(78);
  });

  it('never throws on a non-string key', () => {
    const { monitor } = setup();
    const limiter = monitor.rateLimiter('api', { maxRequests: 1, windowSeconds: 1 });
    expect(limiter.check(42 as unknown as string).allowed).toBe(true);
    expect(limiter.check('42').allowed).toBe(false);
  });

  it('validates its options, naming the field', () => {
    const { monitor } = setup();
    expect(() => monitor.rateLimiter('api', { maxRequests: -1, windowSeconds: 60 })).toThrowError(ConfigError);
    expect(() => monitor.rateLimiter('api', { maxRequests: -1, windowSeconds: 60 })).toThrowError(/maxRequests/);
    expect(() => monitor.rateLimiter('api')).toThrowError(/maxRequests/);
    expect(() => monitor.rateLimiter('api')).toThrowError(ConfigError);
  });
});

describe('rate-limit actions', () => {
  it('registers the runbook actions with their estimates and risks', () => {
    const { monitor } = setup();
    monitor.rateLimiter('api', { maxRequests: 100, windowSeconds: 60 });
    const byId = Object.fromEntries(monitor.actions.list().map((a) => [a.id, a]));
    expect(byId['rate-limit.adjust']).toMatchObject({ estimatedSeconds: 60, risk: 'risky' });
    expect(byId['rate-limit.tighten']).toMatchObject({ estimatedSeconds: 60, risk: 'safe' });
    expect(byId['rate-limit.restore']).toMatchObject({ risk: 'safe' });
    expect(byId['rate-limit.block']).toMatchObject({ estimatedSeconds: 120, risk: 'risky', requiresConfirm: true });
    expect(byId['rate-limit.unblock']).toBeDefined();
  });

  it('adjusts with the runbook body and reverts to the previous limit', async () => {
    const { monitor } = setup();
    const limiter = monitor.rateLimiter('api', { maxRequests: 100, windowSeconds: 60 });
    const ex = await monitor.actions.execute('rate-limit.adjust', { params: { maxRequests: 10, windowSeconds: 3600 } });
    expect(limiter.current()).toEqual({ maxRequests: 10, windowSeconds: 3600 });
    expect((await monitor.actions.execute('rate-limit.adjust', { params: { maxRequests: 10 } })).outcome).toBe('noop');
    await monitor.actions.revert(ex.id);
    expect(limiter.current()).toEqual({ maxRequests: 100, windowSeconds: 60 });
    const bad = await monitor.actions.execute('rate-limit.adjust', { params: { maxRequests: 'ten' } }).catch((e: unknown) => e);
    expect((bad as ValidationError).issues[0]?.path).toBe('maxRequests');
  });

  it('tightens by a factor (default half), restores, and reverts each', async () => {
    const { monitor } = setup();
    const limiter = monitor.rateLimiter('api', { maxRequests: 100, windowSeconds: 60 });
    const t = await monitor.actions.execute('rate-limit.tighten');
    expect(limiter.current().maxRequests).toBe(50);
    await monitor.actions.execute('rate-limit.tighten', { params: { factor: 0.2 } });
    expect(limiter.current().maxRequests).toBe(10);
    const r = await monitor.actions.execute('rate-limit.restore');
    expect(limiter.current().maxRequests).toBe(100);
    expect((await monitor.actions.execute('rate-limit.restore')).outcome).toBe('noop');
    await monitor.actions.revert(r.id);
    expect(limiter.current().maxRequests).toBe(10);
    await monitor.actions.revert(t.id);
    expect(limiter.current().maxRequests).toBe(100);
  });

  it('blocks a key or the top offenders (confirmation required) and reverts by unblocking them', async () => {
    const { monitor } = setup();
    const limiter = monitor.rateLimiter('api', { maxRequests: 1, windowSeconds: 60 });
    for (let i = 0; i < 10; i++) limiter.check('evil');
    for (let i = 0; i < 5; i++) limiter.check('bad');
    limiter.check('fine');
    await expect(monitor.actions.execute('rate-limit.block', { params: { top: 2 } })).rejects.toMatchObject({ code: 'CONFIRMATION_REQUIRED' });
    const both = await monitor.actions.execute('rate-limit.block', { params: {}, confirm: true }).catch((e: unknown) => e);
    expect((both as ValidationError).issues[0]?.path).toBe('key');
    const ex = await monitor.actions.execute('rate-limit.block', { params: { top: 2, ttlSeconds: 600 }, confirm: true, by: 'alice' });
    expect(ex.data).toEqual({ name: 'api', blocked: ['evil', 'bad'] });
    expect(limiter.check('evil')).toMatchObject({ blocked: true, retryAfterMs: 600_000 });
    await monitor.actions.revert(ex.id);
    expect(limiter.blockedUntil('evil')).toBeUndefined();

    const one = await monitor.actions.execute('rate-limit.block', { params: { key: 'fine' }, confirm: true });
    expect(one.outcome).toBe('success');
    const un = await monitor.actions.execute('rate-limit.unblock', { params: { key: 'fine' } });
    expect(limiter.blockedUntil('fine')).toBeUndefined();
    expect((await monitor.actions.execute('rate-limit.unblock', { params: { key: 'fine' } })).outcome).toBe('noop');
    const blockedUntilBefore = un.data?.['remainingMs'];
    await monitor.actions.revert(un.id);
    expect(limiter.blockedUntil('fine')).toBeDefined();
    // Blocked again for the rest of the original block (1 h default, no time passed), not longer.
    expect(blockedUntilBefore).toBe(3_600_000);
    expect(limiter.blockedUntil('fine')).toBe(monitor.clock.now() + 3_600_000);
  });

  it('exposes decisions and the current limit in Prometheus', async () => {
    const { monitor } = setup();
    const limiter = monitor.rateLimiter('api', { maxRequests: 1, windowSeconds: 60 });
    limiter.check('a');
    limiter.check('a');
    const text = await monitor.metrics();
    expect(text).toContain('firebreak_rate_limit_decisions_total{limiter="api",result="allowed"} 1');
    expect(text).toContain('firebreak_rate_limit_decisions_total{limiter="api",result="limited"} 1');
    expect(text).toContain('firebreak_rate_limit_max_requests{limiter="api"} 1');
  });
});

import { describe, expect, it } from 'vitest';
import { MAX_KEY_LENGTH, ValidationError } from '../../src/index.js';
import { setup } from './helpers.js';

/** Values whose `String(v)` throws. */
const unstringifiable = (): unknown[] => [
  Object.create(null),
  {
    toString() {
      throw new Error('no');
    },
  },
  { [Symbol.toPrimitive]: () => ({}) },
  new Proxy({}, { get: () => { throw new Error('trap'); } }),
];

describe('rate limiter keys', () => {
  it('never throws on a key that cannot be stringified: fails open, counted in invalidKeys', () => {
    const { monitor } = setup();
    const limiter = monitor.rateLimiter('api', { maxRequests: 1, windowSeconds: 60 });
    const keys = unstringifiable();
    for (const k of keys) {
      let verdict: ReturnType<typeof limiter.check> | undefined;
      expect(() => (verdict = limiter.check(k as string))).not.toThrow();
      expect(verdict).toMatchObject({ allowed: true, blocked: false, limit: 1 });
      expect(() => limiter.allow(k as string)).not.toThrow();
      expect(() => limiter.reset(k as string)).not.toThrow();
      expect(() => limiter.unblock(k as string)).not.toThrow();
      expect(limiter.blockedUntil(k as string)).toBeUndefined();
    }
    const s = limiter.stats();
    expect(s.invalidKeys).toBe(keys.length * 2);
    // No state was created for them and they are not counted as decisions.
    expect(s).toMatchObject({ keys: 0, allowed: 0, limited: 0 });
  });

  it('still limits a symbol key by its description (String(symbol) works)', () => {
    const { monitor } = setup();
    const limiter = monitor.rateLimiter('api', { maxRequests: 1, windowSeconds: 60 });
    const k = Symbol('client');
    expect(limiter.check(k as unknown as string).allowed).toBe(true);
    expect(limiter.check(k as unknown as string).allowed).toBe(false);
  });

  it('keeps short keys as they are and hashes long keys to a fixed width', () => {
    const { monitor } = setup();
    const limiter = monitor.rateLimiter('api', { maxRequests: 1, windowSeconds: 60 });
    const short = 'k'.repeat(MAX_KEY_LENGTH);
    const longA = `a${'x'.repeat(16 * 1024)}`;
    const longB = `b${'x'.repeat(16 * 1024)}`;
    for (const k of [short, longA, longB]) {
      limiter.check(k);
      limiter.check(k); // limited: an offender
    }
    const offenders = limiter.topOffenders().map((o) => o.key);
    expect(offenders).toContain(short);
    const hashed = offenders.filter((k) => k !== short);
    expect(hashed).toHaveLength(2); // two distinct long keys stay distinct
    for (const k of hashed) expect(k.length).toBeLessThanOrEqual(MAX_KEY_LENGTH);
    // The readable prefix survives.
    expect(hashed.some((k) => k.startsWith('ax'))).toBe(true);
    expect(hashed.some((k) => k.startsWith('bx'))).toBe(true);
  });

  it('limits two long keys with a long common prefix separately', () => {
    const { monitor } = setup();
    const limiter = monitor.rateLimiter('api', { maxRequests: 1, windowSeconds: 60 });
    const base = 'x'.repeat(10_000);
    expect(limiter.check(`${base}1`).allowed).toBe(true);
    expect(limiter.check(`${base}2`).allowed).toBe(true);
    expect(limiter.check(`${base}1`).allowed).toBe(false);
  });

  it('blocks and unblocks a long key by its original value, and by the form top-offenders shows', () => {
    const { monitor } = setup();
    const limiter = monitor.rateLimiter('api', { maxRequests: 1, windowSeconds: 60 });
    const key = `sk_${'z'.repeat(16 * 1024)}`;
    expect(limiter.block(key, 60_000)).toBe(true);
    expect(limiter.check(key)).toMatchObject({ allowed: false, blocked: true });
    expect(limiter.blockedUntil(key)).toBeDefined();
    const shown = limiter.stats().blocked[0]!.key;
    expect(shown.length).toBeLessThanOrEqual(MAX_KEY_LENGTH);
    expect(limiter.unblock(key)).toBe(true);
    expect(limiter.check(key).blocked).toBe(false);
    // Blocking by the shown form hits the same key.
    expect(limiter.block(shown, 60_000)).toBe(true);
    expect(limiter.check(key).blocked).toBe(true);
    expect(limiter.unblock(shown)).toBe(true);
    limiter.reset(key);
    expect(limiter.check(key).allowed).toBe(true);
  });

  it('blocks a hashed top offender through the rate-limit.block action, and its revert unblocks it', async () => {
    const { monitor } = setup();
    const limiter = monitor.rateLimiter('api', { maxRequests: 1, windowSeconds: 60 });
    const key = `jwt.${'q'.repeat(4096)}`;
    limiter.check(key);
    limiter.check(key);
    const ex = await monitor.actions.execute('rate-limit.block', { params: { top: 1, ttlSeconds: 60 }, confirm: true, by: 'test' });
    expect(ex.outcome).toBe('success');
    expect(limiter.check(key).blocked).toBe(true);
    await monitor.actions.revert(ex.id, { by: 'test' });
    expect(limiter.check(key).blocked).toBe(false);
  });

  it('holds bounded state for 10,000 keys of 16 KiB', () => {
    const { monitor } = setup();
    const limiter = monitor.rateLimiter('api', { maxRequests: 100, windowSeconds: 60 });
    const pad = 'p'.repeat(16 * 1024);
    let chars = 0;
    for (let i = 0; i < 10_000; i++) limiter.check(`${i}:${pad}`);
    // Every key the limiter keeps is at most MAX_KEY_LENGTH long.
    for (const { key } of limiter.topOffenders()) chars += key.length;
    expect(chars).toBeLessThanOrEqual(20 * MAX_KEY_LENGTH);
    expect(limiter.stats().keys).toBe(10_000);
  });
});

describe('other controls never throw on weird runtime values', () => {
  it('canary.assign and bucket send an unstringifiable key to stable', () => {
    const { monitor } = setup();
    const canary = monitor.canary('c', { percent: 100 });
    for (const k of unstringifiable()) {
      expect(canary.assign(k as string)).toBe('stable');
      expect(() => canary.bucket(k as string)).not.toThrow();
    }
    expect(canary.assign('anyone')).toBe('canary');
  });

  it('cache get/set/has/delete/getOrLoad with weird keys record, never throw', async () => {
    const { monitor } = setup();
    const cache = monitor.cache<object, string>('c', { max: 10 });
    for (const k of unstringifiable()) {
      expect(() => cache.set(k as object, 'v')).not.toThrow();
      expect(() => cache.get(k as object)).not.toThrow();
      expect(() => cache.has(k as object)).not.toThrow();
      expect(() => cache.delete(k as object)).not.toThrow();
      await expect(cache.getOrLoad(k as object, () => 'loaded')).resolves.toBeDefined();
    }
    for (const bad of [undefined, null, NaN]) {
      expect(() => cache.get(bad as unknown as object)).not.toThrow();
      expect(() => cache.set(bad as unknown as object, 'v')).not.toThrow();
    }
  });

  it('feature.isEnabled ignores stray arguments', () => {
    const { monitor } = setup();
    const f = monitor.feature('f');
    expect((f.isEnabled as (x?: unknown) => boolean)(Object.create(null))).toBe(true);
  });

  it('fallback.force and canary.emergencyStop answer bad options with a ValidationError, not a TypeError', () => {
    const { monitor } = setup();
    const fb = monitor.fallback('f', { primary: () => 1, fallback: () => 2 });
    const canary = monitor.canary('c', { percent: 5 });
    for (const bad of [null, 42, { reason: 7 }, { reason: 'r'.repeat(10_000) }, { by: {} }]) {
      expect(() => fb.force(bad as never)).toThrow(ValidationError);
      expect(() => canary.emergencyStop(bad as never)).toThrow(ValidationError);
    }
    expect(fb.isForced()).toBe(false);
    expect(canary.isStopped()).toBe(false);
    expect(fb.force({ reason: 'ok', by: 'alice' })).toBe(true);
    expect(canary.emergencyStop({ reason: 'ok', by: 'alice' })).toBe(true);
  });

  it('fallback.run with weird arguments passes them through', async () => {
    const { monitor } = setup();
    const fb = monitor.fallback('f', { primary: (x: unknown) => typeof x, fallback: () => 'fb' });
    await expect(fb.run(Object.create(null))).resolves.toBe('object');
  });
});

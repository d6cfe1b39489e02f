import { describe, expect, it } from 'vitest';
import { MAX_CONTROLS_PER_KIND } from '../../src/index.js';
import { setup } from './helpers.js';

describe('monitor.controls', () => {
  it('exposes every control by kind and name, with stats', () => {
    const { monitor } = setup();
    monitor.feature('rerank', { risky: true });
    monitor.cache('search', { max: 10 });
    monitor.rateLimiter('api', { maxRequests: 100, windowSeconds: 60 });
    monitor.fallback('ranker', { primary: () => 1, fallback: () => 2 });
    monitor.canary('new-index', { percent: 5 });
    expect([...monitor.controls.features.keys()]).toEqual(['rerank']);
    expect([...monitor.controls.caches.keys()]).toEqual(['search']);
    expect([...monitor.controls.rateLimiters.keys()]).toEqual(['api']);
    expect([...monitor.controls.fallbacks.keys()]).toEqual(['ranker']);
    expect([...monitor.controls.canaries.keys()]).toEqual(['new-index']);
    const stats = monitor.controls.stats();
    expect(stats.features['rerank']?.enabled).toBe(true);
    expect(stats.caches['search']?.size).toBe(0);
    expect(stats.rateLimiters['api']?.limit).toEqual({ maxRequests: 100, windowSeconds: 60 });
    expect(stats.fallbacks['ranker']?.forced).toBe(false);
    expect(stats.canaries['new-index']?.percent).toBe(5);
    expect(JSON.parse(JSON.stringify(stats))).toEqual(stats);
    expect(monitor.actions.list().map((a) => a.id).sort()).toEqual([
      'cache.clear', 'cache.disable', 'cache.enable',
      'canary.disable', 'canary.emergency-stop', 'canary.resume',
      'feature.disable', 'feature.emergency-stop', 'feature.enable',
      'model.fallback', 'model.restore',
      'rate-limit.adjust', 'rate-limit.block', 'rate-limit.restore', 'rate-limit.tighten', 'rate-limit.unblock',
    ]);
  });

  it('caps the number of controls of one kind', () => {
    const { monitor } = setup();
    for (let i = 0; i < MAX_CONTROLS_PER_KIND; i++) monitor.feature(`f${i}`);
    expect(() => monitor.feature('one-too-many')).toThrowError(/at most 100 features/);
  });

  it('leaves no timers behind after stop()', () => {
    const { clock, monitor } = setup();
    monitor.feature('a').disable({ ttlMs: 1_000 });
    monitor.fallback('r', { primary: () => 1, fallback: () => 2, timeoutMs: 10 });
    monitor.start();
    monitor.stop();
    expect(clock.pendingTimers()).toBe(0);
  });
});

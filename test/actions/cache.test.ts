import { describe, expect, it, vi } from 'vitest';
import { LRUCache } from 'lru-cache';
import { ConfigError } from '../../src/index.js';
import { deferred, setup } from './helpers.js';

describe('guarded cache', () => {
  it('records hits and misses into the monitor cache series itself', () => {
    const { monitor } = setup();
    const cache = monitor.cache<string, string[]>('search', { max: 100 });
    expect(cache.get('q1')).toBeUndefined();
    cache.set('q1', ['a']);
    expect(cache.get('q1')).toEqual(['a']);
    expect(cache.get('q1')).toEqual(['a']);
    expect(cache.has('q1')).toBe(true);
    expect(monitor.stats().caches['search']).toMatchObject({ hits: 2, misses: 1, errors: 0 });
    expect(cache.stats()).toMatchObject({ name: 'search', size: 1, max: 100, hits: 2, misses: 1, disabled: false });
    expect(cache.stats().hitRate).toBeCloseTo(2 / 3);
    expect(cache.delete('q1')).toBe(true);
    expect(cache.get('q1')).toBeUndefined();
  });

  it('expires entries by TTL on the monitor clock', () => {
    const { clock, monitor } = setup();
    const cache = monitor.cache<string, number>('c', { max: 10, ttl: 60_000 });
    cache.set('k', 1);
    clock.advance(59_999);
    expect(cache.get('k')).toBe(1);
    clock.advance(2);
    expect(cache.get('k')).toBeUndefined();
  });

  it('wraps an existing LRUCache', () => {
    const { monitor } = setup();
    const lru = new LRUCache<string, number>({ max: 5 });
    lru.set('x', 1);
    const cache = monitor.cache('existing', lru);
    expect(cache.lru).toBe(lru);
    expect(cache.get('x')).toBe(1);
    expect(monitor.stats().caches['existing']?.hits).toBe(1);
  });

  it('rejects options lru-cache cannot use, as a ConfigError', () => {
    const { monitor } = setup();
    expect(() => monitor.cache('bad', {} as { max: number })).toThrowError(ConfigError);
    expect(() => monitor.cache('none')).toThrowError(/options/);
    expect(() => monitor.cache('none')).toThrowError(ConfigError);
  });

  it('getOrLoad: loads on a miss, caches, and shares one load between concurrent callers', async () => {
    const { monitor } = setup();
    const cache = monitor.cache<string, string>('users', { max: 10 });
    const gate = deferred<string>();
    const loader = vi.fn(() => gate.promise);
    const a = cache.getOrLoad('u1', loader);
    const b = cache.getOrLoad('u1', loader);
    gate.resolve('Ada');
    expect(await a).toBe('Ada');
    expect(await b).toBe('Ada');
    expect(loader).toHaveBeenCalledTimes(1);
    expect(await cache.getOrLoad('u1', loader)).toBe('Ada');
    expect(loader).toHaveBeenCalledTimes(1);
    expect(cache.stats()).toMatchObject({ hits: 1, misses: 2, errors: 0 });
  });

  it('getOrLoad: a failing loader is recorded as an error and its error reaches the caller', async () => {
    const { monitor } = setup();
    const cache = monitor.cache<string, string>('users', { max: 10 });
    await expect(cache.getOrLoad('u1', () => { throw new Error('db down'); })).rejects.toThrow('db down');
    await expect(cache.getOrLoad('u1', async () => { throw new Error('db down'); })).rejects.toThrow('db down');
    expect(monitor.stats().caches['users']).toMatchObject({ errors: 2, misses: 0, hits: 0 });
    expect(await cache.getOrLoad('u1', () => 'ok')).toBe('ok'); // a failure does not poison the key
  });

  it('records an error inside the cache instead of throwing into the host', () => {
    const { monitor } = setup();
    const cache = monitor.cache<string, string>('sized', {
      maxSize: 100,
      sizeCalculation: () => {
        throw new Error('bad size');
      },
    });
    expect(() => cache.set('k', 'v')).not.toThrow();
    expect(cache.get('k')).toBeUndefined();
    expect(monitor.stats().caches['sized']).toMatchObject({ errors: 1, misses: 1 });
  });

  it('disabled: a pass-through (get misses, set no-ops, loader called directly), not recorded as misses', async () => {
    const { monitor } = setup();
    const cache = monitor.cache<string, number>('c', { max: 10 });
    cache.set('k', 1);
    expect(cache.disable({ reason: 'corrupt entries' })).toBe(true);
    expect(cache.disable()).toBe(false);
    expect(cache.get('k')).toBeUndefined();
    cache.set('j', 2);
    expect(cache.has('k')).toBe(false);
    const loader = vi.fn(() => 7);
    expect(await cache.getOrLoad('k', loader)).toBe(7);
    expect(await cache.getOrLoad('k', loader)).toBe(7);
    expect(loader).toHaveBeenCalledTimes(2);
    expect(cache.stats()).toMatchObject({ disabled: true, reason: 'corrupt entries', bypassed: 3, hits: 0, misses: 0 });
    expect(monitor.stats().caches['c']).toBeUndefined();
    expect(cache.enable()).toBe(true);
    expect(cache.get('k')).toBe(1);
    expect(cache.get('j')).toBeUndefined();
  });

  describe('a disable/enable cycle never serves stale data', () => {
    it('a value overwritten while disabled is not served after re-enabling', () => {
      const { monitor } = setup();
      const cache = monitor.cache<string, string>('c', { max: 10 });
      cache.set('q1', 'a');
      cache.disable();
      cache.set('q1', 'b');
      cache.enable();
      expect(cache.get('q1')).not.toBe('a');
      expect(cache.get('q1')).toBeUndefined();
    });

    it('a value deleted while disabled stays deleted', () => {
      const { monitor } = setup();
      const cache = monitor.cache<string, string>('c', { max: 10 });
      cache.set('q1', 'a').set('q2', 'z');
      cache.disable();
      expect(cache.delete('q1')).toBe(true);
      cache.enable();
      expect(cache.get('q1')).toBeUndefined();
      expect(cache.get('q2')).toBe('z');
    });

    it('a clear while disabled empties the cache for good', () => {
      const { monitor } = setup();
      const cache = monitor.cache<string, string>('c', { max: 10 });
      cache.set('q1', 'a').set('q2', 'b');
      cache.disable();
      expect(cache.clear()).toBe(2);
      cache.enable();
      expect(cache.get('q1')).toBeUndefined();
      expect(cache.get('q2')).toBeUndefined();
      expect(cache.stats()).toMatchObject({ size: 0, cleared: 2 });
    });

    it('entries kept across the cycle still expire on their original TTL', () => {
      const { clock, monitor } = setup();
      const cache = monitor.cache<string, string>('c', { max: 10, ttl: 60_000 });
      cache.set('q1', 'a');
      cache.disable();
      clock.advance(60_001);
      cache.enable();
      expect(cache.get('q1')).toBeUndefined();
    });

    it('a load that began before the disable does not store a value older than a write made while disabled', async () => {
      const { monitor } = setup();
      const cache = monitor.cache<string, string>('c', { max: 10 });
      const gate = deferred<string>();
      const pending = cache.getOrLoad('q1', () => gate.promise);
      cache.disable();
      cache.set('q1', 'new');
      cache.enable();
      gate.resolve('old');
      expect(await pending).toBe('old'); // the caller still gets what it loaded
      expect(cache.get('q1')).toBeUndefined();
    });

    it('a write made while a load is in flight wins over the load', async () => {
      const { monitor } = setup();
      const cache = monitor.cache<string, string>('c', { max: 10 });
      const gate = deferred<string>();
      const pending = cache.getOrLoad('q1', () => gate.promise);
      cache.set('q1', 'new');
      gate.resolve('old');
      await pending;
      expect(cache.get('q1')).toBe('new');
      // and the next load of the key starts afresh instead of joining the superseded one
      cache.delete('q1');
      expect(await cache.getOrLoad('q1', () => 'fresh')).toBe('fresh');
    });

    it('through the actions: a write while cache.disable is in effect is not undone by its revert', async () => {
      const { monitor } = setup();
      const cache = monitor.cache<string, string>('search', { max: 10 });
      cache.set('q1', 'a');
      const disabled = await monitor.actions.execute('cache.disable', { params: { name: 'search' } });
      expect(disabled.outcome).toBe('success');
      cache.set('q1', 'b');
      const reverted = await monitor.actions.revert(disabled.id);
      expect(cache.isEnabled()).toBe(true);
      expect(reverted).toBeDefined();
      expect(cache.get('q1')).toBeUndefined();
      cache.set('q1', 'c');
      expect(cache.get('q1')).toBe('c');
    });
  });

  it('clear() empties the cache and says how many entries went', () => {
    const { monitor } = setup();
    const cache = monitor.cache<string, number>('c', { max: 10 });
    cache.set('a', 1).set('b', 2);
    expect(cache.clear()).toBe(2);
    expect(cache.stats()).toMatchObject({ size: 0, cleared: 2 });
  });
});

describe('cache actions', () => {
  it('registers cache.clear (60 s), cache.disable and cache.enable (30 s)', () => {
    const { monitor } = setup();
    monitor.cache('search', { max: 10 });
    const byId = Object.fromEntries(monitor.actions.list().map((a) => [a.id, a]));
    expect(byId['cache.clear']).toMatchObject({ estimatedSeconds: 60, risk: 'safe', revertible: false });
    expect(byId['cache.disable']).toMatchObject({ estimatedSeconds: 30, risk: 'safe', revertible: true });
    expect(byId['cache.enable']).toMatchObject({ estimatedSeconds: 30, revertible: true });
  });

  it('clears (a no-op when empty), disables and reverts to enabled', async () => {
    const { monitor } = setup();
    const cache = monitor.cache<string, number>('search', { max: 10 });
    cache.set('a', 1);
    const cleared = await monitor.actions.execute('cache.clear', { by: 'alice' });
    expect(cleared).toMatchObject({ outcome: 'success', data: { name: 'search', cleared: 1 }, revertible: false });
    expect((await monitor.actions.execute('cache.clear')).outcome).toBe('noop');
    const disabled = await monitor.actions.execute('cache.disable', { params: { name: 'search' } });
    expect(cache.isEnabled()).toBe(false);
    expect((await monitor.actions.execute('cache.disable')).outcome).toBe('noop');
    await monitor.actions.revert(disabled.id);
    expect(cache.isEnabled()).toBe(true);
    const enabled = await monitor.actions.execute('cache.enable');
    expect(enabled.outcome).toBe('noop');
    expect(await monitor.metrics()).toContain('firebreak_cache_enabled{cache="search"} 1');
  });
});

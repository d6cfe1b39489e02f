import { describe, expect, it, vi } from 'vitest';
import { ConfigError } from '../../src/index.js';
import { deferred, flush, setup } from './helpers.js';

describe('fallback wrapper', () => {
  it('answers with the primary while it works', async () => {
    const { monitor } = setup();
    const fallback = vi.fn((q: string) => [`hybrid:${q}`]);
    const ranker = monitor.fallback('ranker', { primary: async (q: string) => [`ce:${q}`], fallback });
    expect(await ranker.run('cats')).toEqual(['ce:cats']);
    expect(fallback).not.toHaveBeenCalled();
    expect(ranker.stats()).toMatchObject({ primaryCalls: 1, primarySuccesses: 1, fallbackCalls: 0, forced: false });
  });

  it('answers with the fallback when the primary throws or rejects, counting model failures', async () => {
    const { monitor } = setup();
    let mode: 'throw' | 'reject' = 'throw';
    const ranker = monitor.fallback('ranker', {
      primary: (q: string): Promise<string> => {
        if (mode === 'throw') throw new Error('CUDA OOM');
        return Promise.reject(new Error('model not loaded'));
      },
      fallback: (q: string) => `hybrid:${q}`,
    });
    expect(await ranker.run('a')).toBe('hybrid:a');
    mode = 'reject';
    expect(await ranker.run('b')).toBe('hybrid:b');
    expect(ranker.stats()).toMatchObject({ primaryCalls: 2, primaryErrors: 2, primaryTimeouts: 0, fallbackCalls: 2 });
    expect(ranker.stats().recent).toMatchObject({ primaryCalls: 2, failures: 2, failureRate: 1 });
  });

  it('answers with the fallback when the primary is slower than timeoutMs on the clock', async () => {
    const { clock, monitor } = setup();
    const slow = deferred<string>();
    const ranker = monitor.fallback('ranker', { primary: () => slow.promise, fallback: () => 'fast', timeoutMs: 300 });
    let answer: string | undefined;
    void ranker.run().then((v) => (answer = v));
    clock.advance(299);
    await flush();
    expect(answer).toBeUndefined();
    clock.advance(1);
    await flush();
    expect(answer).toBe('fast');
    slow.resolve('late'); // ignored: the caller was already answered
    await flush();
    expect(ranker.stats()).toMatchObject({ primaryTimeouts: 1, primarySuccesses: 0, fallbackCalls: 1 });
    expect(clock.pendingTimers()).toBe(0);
  });

  it('clears the timeout timer when the primary answers in time', async () => {
    const { clock, monitor } = setup();
    const ranker = monitor.fallback('ranker', { primary: async () => 'ok', fallback: () => 'fb', timeoutMs: 300 });
    expect(await ranker.run()).toBe('ok');
    expect(clock.pendingTimers()).toBe(0);
  });

  it('forced: every call goes to the fallback until restored', async () => {
    const { monitor } = setup();
    const primary = vi.fn(() => 'primary');
    const ranker = monitor.fallback('ranker', { primary, fallback: () => 'fallback' });
    expect(ranker.force({ reason: 'reranker OOM', by: 'alice' })).toBe(true);
    expect(ranker.force()).toBe(false);
    expect(await ranker.run()).toBe('fallback');
    expect(primary).not.toHaveBeenCalled();
    expect(ranker.stats()).toMatchObject({ forced: true, reason: 'reranker OOM', forcedBy: 'alice', forcedCalls: 1, primaryCalls: 0 });
    expect(ranker.restore()).toBe(true);
    expect(ranker.restore()).toBe(false);
    expect(await ranker.run()).toBe('primary');
  });

  it('passes a failing fallback’s error to the caller, counted', async () => {
    const { monitor } = setup();
    const ranker = monitor.fallback('ranker', {
      primary: () => {
        throw new Error('p');
      },
      fallback: async () => {
        throw new Error('both down');
      },
    });
    await expect(ranker.run()).rejects.toThrow('both down');
    expect(ranker.stats().fallbackErrors).toBe(1);
  });

  it('validates its options, naming the field', () => {
    const { monitor } = setup();
    expect(() => monitor.fallback('x', { primary: 'nope' as unknown as () => 1, fallback: () => 1 })).toThrowError(ConfigError);
    expect(() => monitor.fallback('x', { primary: 'nope' as unknown as () => 1, fallback: () => 1 })).toThrowError(/primary/);
    expect(() => monitor.fallback('x', { primary: () => 1, fallback: () => 1, timeoutMs: -1 })).toThrowError(/timeoutMs/);
    expect(() => monitor.fallback('x', { primary: () => 1, fallback: () => 1, timeoutMs: -1 })).toThrowError(ConfigError);
  });
});

describe('model actions', () => {
  it('model.fallback forces the wrapper (no-op if forced) and reverts to the primary', async () => {
    const { monitor } = setup();
    const ranker = monitor.fallback('ranker', { primary: () => 'ce', fallback: () => 'hybrid' });
    const info = monitor.actions.get('model.fallback');
    expect(info).toMatchObject({ estimatedSeconds: 30, risk: 'safe', requiresConfirm: false, revertible: true });
    const ex = await monitor.actions.execute('model.fallback', { by: 'alice' });
    expect(ranker.isForced()).toBe(true);
    expect(await ranker.run()).toBe('hybrid');
    expect((await monitor.actions.execute('model.fallback')).outcome).toBe('noop');
    await monitor.actions.revert(ex.id);
    expect(ranker.isForced()).toBe(false);
  });

  it('model.restore lets the primary back in, and reverts by forcing again', async () => {
    const { monitor } = setup();
    const ranker = monitor.fallback('ranker', { primary: () => 'ce', fallback: () => 'hybrid' });
    expect((await monitor.actions.execute('model.restore')).outcome).toBe('noop');
    ranker.force();
    const ex = await monitor.actions.execute('model.restore');
    expect(ranker.isForced()).toBe(false);
    await monitor.actions.revert(ex.id);
    expect(ranker.isForced()).toBe(true);
  });

  it('exposes calls by result in Prometheus', async () => {
    const { monitor } = setup();
    const ranker = monitor.fallback('ranker', { primary: () => 'ce', fallback: () => 'hybrid' });
    await ranker.run();
    const text = await monitor.metrics();
    expect(text).toContain('firebreak_fallback_calls_total{fallback="ranker",result="primary_success"} 1');
  });
});

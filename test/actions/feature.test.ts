import { describe, expect, it } from 'vitest';
import { ConfigError, ValidationError } from '../../src/index.js';
import { setup } from './helpers.js';

describe('feature kill switch', () => {
  it('starts enabled, disables and enables, reporting whether anything changed', () => {
    const { clock, monitor } = setup();
    const rerank = monitor.feature('rerank', { risky: true });
    expect(rerank.isEnabled()).toBe(true);
    clock.advance(1_000);
    expect(rerank.disable({ reason: 'p95 over 2 s', by: 'alice' })).toBe(true);
    expect(rerank.isEnabled()).toBe(false);
    expect(rerank.disable()).toBe(false);
    expect(rerank.stats()).toMatchObject({ enabled: false, risky: true, by: 'alice', reason: 'p95 over 2 s', since: clock.now(), changes: 1 });
    expect(rerank.enable({ by: 'bob' })).toBe(true);
    expect(rerank.enable()).toBe(false);
    expect(rerank.history().map((h) => [h.enabled, h.by])).toEqual([
      [false, 'alice'],
      [true, 'bob'],
    ]);
    expect(monitor.feature('beta', { enabled: false }).isEnabled()).toBe(false);
  });

  it('re-enables itself when a disable TTL expires on the clock', () => {
    const { clock, monitor } = setup();
    const f = monitor.feature('rerank');
    const t0 = clock.now();
    f.disable({ ttlMs: 60_000 });
    expect(f.stats().reenableAt).toBe(t0 + 60_000);
    clock.advance(59_999);
    expect(f.isEnabled()).toBe(false);
    clock.advance(1);
    expect(f.isEnabled()).toBe(true);
    expect(f.history().at(-1)).toMatchObject({ enabled: true, by: 'ttl', at: t0 + 60_000 });
    expect(clock.pendingTimers()).toBe(0);
  });

  it('cancels the TTL timer on enable() and on monitor.stop(), and re-arms it on start()', () => {
    const { clock, monitor } = setup();
    const f = monitor.feature('rerank');
    f.disable({ ttlMs: 10_000 });
    f.enable();
    expect(clock.pendingTimers()).toBe(0);

    f.disable({ ttlMs: 10_000 });
    monitor.start();
    monitor.stop();
    expect(clock.pendingTimers()).toBe(0);
    clock.advance(20_000);
    expect(f.isEnabled()).toBe(false); // stopped: nothing fires
    monitor.start();
    clock.advance(0);
    expect(f.isEnabled()).toBe(true); // overdue TTL applied as soon as it is re-armed
    monitor.stop();
  });

  it('keeps a bounded history', () => {
    const { monitor } = setup();
    const f = monitor.feature('x', { historySize: 3 });
    for (let i = 0; i < 5; i++) {
      f.disable({ by: `d${i}` });
      f.enable({ by: `e${i}` });
    }
    expect(f.history().map((h) => h.by)).toEqual(['e3', 'd4', 'e4']);
    expect(f.stats().changes).toBe(10);
  });

  it('validates options and disable arguments, naming the field', () => {
    const { monitor } = setup();
    expect(() => monitor.feature('x', { risky: 'yes' as unknown as boolean })).toThrowError(ConfigError);
    expect(() => monitor.feature('x', { risky: 'yes' as unknown as boolean })).toThrowError(/risky/);
    expect(() => monitor.feature('')).toThrowError(ConfigError);
    const f = monitor.feature('y');
    expect(() => f.disable({ ttlMs: -5 })).toThrowError(ValidationError);
    expect(() => f.disable({ ttlMs: -5 })).toThrowError(/ttlMs/);
    expect(() => f.disable({ ttlMs: -5 })).toThrowError(ValidationError);
  });

  it('returns the existing feature for a known name, and refuses to redefine it', () => {
    const { monitor } = setup();
    const a = monitor.feature('rerank', { risky: true });
    expect(monitor.feature('rerank')).toBe(a);
    expect(monitor.controls.features.get('rerank')).toBe(a);
    expect(() => monitor.feature('rerank', { risky: false })).toThrowError(/already exists/);
    expect(() => monitor.feature('rerank', { risky: false })).toThrowError(ConfigError);
  });
});

describe('feature actions', () => {
  it('registers feature.disable / enable / emergency-stop with the runbook estimates', () => {
    const { monitor } = setup();
    expect(monitor.actions.list()).toHaveLength(0);
    monitor.feature('rerank');
    const byId = Object.fromEntries(monitor.actions.list().map((a) => [a.id, a]));
    expect(Object.keys(byId).sort()).toEqual(['feature.disable', 'feature.emergency-stop', 'feature.enable']);
    expect(byId['feature.disable']).toMatchObject({ estimatedSeconds: 30, risk: 'safe', requiresConfirm: false, revertible: true });
    expect(byId['feature.emergency-stop']!.estimatedSeconds).toBe(30);
    monitor.feature('other');
    expect(monitor.actions.list()).toHaveLength(3); // registered once per kind
  });

  it('disables by name with a TTL, no-ops when already off, and reverts', async () => {
    const { clock, monitor } = setup();
    const f = monitor.feature('rerank');
    const ex = await monitor.actions.execute('feature.disable', { params: { ttlSeconds: 600, reason: 'slow' }, by: 'alice' });
    expect(ex).toMatchObject({ outcome: 'success', params: { ttlSeconds: 600 } });
    expect(f.isEnabled()).toBe(false);
    expect(f.stats()).toMatchObject({ by: 'alice', reason: 'slow', reenableAt: clock.now() + 600_000 });
    expect((await monitor.actions.execute('feature.disable')).outcome).toBe('noop');
    await monitor.actions.revert(ex.id, { by: 'bob' });
    expect(f.isEnabled()).toBe(true);
    expect(clock.pendingTimers()).toBe(0);
  });

  it('needs a name when several features exist, and names the field when it is wrong', async () => {
    const { monitor } = setup();
    monitor.feature('a');
    monitor.feature('b');
    const missing = await monitor.actions.execute('feature.disable').catch((e: unknown) => e);
    expect(missing).toBeInstanceOf(ValidationError);
    expect((missing as ValidationError).issues[0]).toMatchObject({ path: 'name' });
    expect((missing as ValidationError).message).toMatch(/several features exist \(a, b\)/);
    const unknown = await monitor.actions.execute('feature.disable', { params: { name: 'zzz' } }).catch((e: unknown) => e);
    expect((unknown as ValidationError).issues[0]).toMatchObject({ path: 'name' });
    expect((await monitor.actions.execute('feature.disable', { params: { name: 'b' } })).outcome).toBe('success');
    expect(monitor.feature('a').isEnabled()).toBe(true);
    expect(monitor.feature('b').isEnabled()).toBe(false);
  });

  it('enables by action and reverts to disabled', async () => {
    const { monitor } = setup();
    const f = monitor.feature('beta', { enabled: false });
    const ex = await monitor.actions.execute('feature.enable');
    expect(f.isEnabled()).toBe(true);
    expect((await monitor.actions.execute('feature.enable')).noop).toBe(true);
    await monitor.actions.revert(ex.id);
    expect(f.isEnabled()).toBe(false);
  });

  it('emergency-stops every risky feature, and reverts exactly those it stopped', async () => {
    const { monitor } = setup();
    const rerank = monitor.feature('rerank', { risky: true });
    const summaries = monitor.feature('summaries', { risky: true });
    const already = monitor.feature('experimental', { risky: true });
    const core = monitor.feature('core');
    already.disable({ by: 'carol' });
    const ex = await monitor.actions.execute('feature.emergency-stop', { by: 'alice' });
    expect(ex.data).toEqual({ disabled: ['rerank', 'summaries'] });
    expect([rerank, summaries, already, core].map((f) => f.isEnabled())).toEqual([false, false, false, true]);
    expect((await monitor.actions.execute('feature.emergency-stop')).outcome).toBe('noop');
    await monitor.actions.revert(ex.id);
    expect([rerank, summaries, already, core].map((f) => f.isEnabled())).toEqual([true, true, false, true]);
  });

  it('exposes feature state in Prometheus and controls.stats()', async () => {
    const { monitor } = setup();
    monitor.feature('rerank').disable();
    expect(await monitor.metrics()).toContain('firebreak_feature_enabled{feature="rerank"} 0');
    expect(monitor.controls.stats().features['rerank']).toMatchObject({ enabled: false });
  });
});

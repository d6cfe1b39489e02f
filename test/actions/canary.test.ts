import { describe, expect, it } from 'vitest';
import { ConfigError, MAX_ARMS, ValidationError } from '../../src/index.js';
import { fnv1a } from '../../src/actions/controls/hash.js';
import { setup } from './helpers.js';

const users = Array.from({ length: 20_000 }, (_, i) => `user-${i}`);

describe('canary assignment', () => {
  it('is deterministic: the same key always gets the same arm, in any monitor', () => {
    const a = setup().monitor.canary('new-index', { percent: 30 });
    const b = setup().monitor.canary('new-index', { percent: 30 });
    for (const u of users.slice(0, 1000)) {
      expect(a.assign(u)).toBe(a.assign(u));
      expect(b.assign(u)).toBe(a.assign(u));
    }
  });

  it('sends about percent % of keys to the canary (10,000 buckets)', () => {
    const { monitor } = setup();
    const canary = monitor.canary('new-index', { percent: 5 });
    const share = users.filter((u) => canary.assign(u) === 'canary').length / users.length;
    expect(share).toBeGreaterThan(0.04);
    expect(share).toBeLessThan(0.06);
    for (const u of users.slice(0, 500)) {
      expect(canary.assign(u) === 'canary').toBe(canary.bucket(u) < 500);
    }
    expect(canary.bucket('user-1')).toBe(fnv1a('user-1', fnv1a('new-index:')) % 10_000);
  });

  it('0 % is all stable, 100 % all canary; raising the percent only moves keys onto the canary', () => {
    const { monitor } = setup();
    const canary = monitor.canary('c', { percent: 0 });
    expect(users.every((u) => canary.assign(u) === 'stable')).toBe(true);
    canary.setPercent(5);
    const at5 = users.filter((u) => canary.assign(u) === 'canary');
    canary.setPercent(10);
    expect(at5.every((u) => canary.assign(u) === 'canary')).toBe(true);
    canary.setPercent(100);
    expect(users.every((u) => canary.assign(u) === 'canary')).toBe(true);
    expect(() => canary.setPercent(101)).toThrowError(ValidationError);
  });

  it('splits users independently per canary name', () => {
    const { monitor } = setup();
    const a = monitor.canary('a', { percent: 50, series: { canary: 'a-canary', stable: 'a-stable' } });
    const b = monitor.canary('b', { percent: 50, series: { canary: 'b-canary', stable: 'b-stable' } });
    const same = users.filter((u) => a.assign(u) === b.assign(u)).length / users.length;
    expect(same).toBeGreaterThan(0.45);
    expect(same).toBeLessThan(0.55);
  });

  it('emergencyStop sends everything to stable and holds until resume', () => {
    const { clock, monitor } = setup();
    const canary = monitor.canary('new-index', { percent: 20 });
    expect(canary.emergencyStop({ reason: 'errors 4×', by: 'alice' })).toBe(true);
    expect(canary.emergencyStop()).toBe(false);
    expect(users.every((u) => canary.assign(u) === 'stable')).toBe(true);
    canary.setPercent(50); // remembered, not applied while stopped
    expect(users.every((u) => canary.assign(u) === 'stable')).toBe(true);
    expect(canary.stats()).toMatchObject({ percent: 50, effectivePercent: 0, stopped: true, stoppedBy: 'alice', reason: 'errors 4×', stoppedAt: clock.now() });
    expect(canary.resume()).toBe(true);
    expect(canary.resume()).toBe(false);
    const share = users.filter((u) => canary.assign(u) === 'canary').length / users.length;
    expect(share).toBeGreaterThan(0.45);
  });

  it('validates options and refuses two canaries on the same series labels', () => {
    const { monitor } = setup();
    expect(() => monitor.canary('x', { percent: 150 })).toThrowError(/percent/);
    expect(() => monitor.canary('x', { percent: 150 })).toThrowError(ConfigError);
    monitor.canary('first');
    expect(() => monitor.canary('second')).toThrowError(ConfigError);
    expect(() => monitor.canary('second')).toThrowError(/series/);
    expect(() => monitor.canary('second')).toThrowError(ConfigError);
    expect(() => monitor.canary('third', { series: { canary: 'x', stable: 'x' } })).toThrowError(/differ/);
    expect(() => monitor.canary('third', { series: { canary: 'x', stable: 'x' } })).toThrowError(ConfigError);
  });
});

describe('canary arm series', () => {
  it('records canary and stable traffic as separate series for comparison', () => {
    const { monitor } = setup();
    const canary = monitor.canary('new-index', { percent: 50 });
    for (let i = 0; i < 100; i++) {
      monitor.recordRequest({ route: 'GET /search', durationMs: 100, status: 200, arm: 'stable' });
      canary.record('canary', { route: 'GET /search', durationMs: 400, status: i < 10 ? 500 : 200 });
    }
    const { canary: c, stable: s } = canary.compare();
    expect(s).toMatchObject({ requests: 100, failures: 0, successRate: 1 });
    expect(c).toMatchObject({ requests: 100, failures: 10 });
    expect(c!.successRate).toBeCloseTo(0.9);
    expect(c!.latencyMs.p95).toBeGreaterThan(s!.latencyMs.p95!);
    expect(monitor.stats().arms['canary']?.requests).toBe(100);
    // The route series still sees all of it.
    expect(monitor.stats().routes['GET /search']?.requests).toBe(200);
    expect(canary.stats().arms.stable?.requests).toBe(100);
  });

  it('keeps no arm series when arm is not given, and caps the number of arms', () => {
    const { monitor } = setup();
    monitor.recordRequest({ route: 'GET /', durationMs: 5 });
    expect(monitor.stats().arms).toEqual({});
    for (let i = 0; i < MAX_ARMS + 5; i++) monitor.recordRequest({ route: 'GET /', durationMs: 5, arm: `arm-${i}` });
    monitor.recordRequest({ route: 'GET /', durationMs: 5, arm: 7 as unknown as string });
    expect(Object.keys(monitor.stats().arms)).toHaveLength(MAX_ARMS);
    expect(monitor.stats().recording.armOverflow).toBe(6);
    expect(monitor.stats().routes['GET /']?.requests).toBe(MAX_ARMS + 7);
  });
});

describe('canary actions', () => {
  it('registers canary.emergency-stop and canary.disable (30 s, safe) and canary.resume (confirm)', () => {
    const { monitor } = setup();
    monitor.canary('new-index', { percent: 5 });
    const byId = Object.fromEntries(monitor.actions.list().map((a) => [a.id, a]));
    expect(byId['canary.emergency-stop']).toMatchObject({ estimatedSeconds: 30, risk: 'safe', requiresConfirm: false });
    expect(byId['canary.disable']).toMatchObject({ estimatedSeconds: 30, risk: 'safe' });
    expect(byId['canary.resume']).toMatchObject({ risk: 'risky', requiresConfirm: true });
  });

  it('emergency-stops (no-op when stopped), reverts by resuming, and resumes with confirmation', async () => {
    const { monitor } = setup();
    const canary = monitor.canary('new-index', { percent: 5 });
    const ex = await monitor.actions.execute('canary.emergency-stop', { by: 'alice' });
    expect(canary.isStopped()).toBe(true);
    expect((await monitor.actions.execute('canary.emergency-stop')).outcome).toBe('noop');
    await monitor.actions.revert(ex.id);
    expect(canary.isStopped()).toBe(false);
    canary.emergencyStop();
    await expect(monitor.actions.execute('canary.resume')).rejects.toMatchObject({ code: 'CONFIRMATION_REQUIRED' });
    await monitor.actions.execute('canary.resume', { confirm: true });
    expect(canary.isStopped()).toBe(false);
  });

  it('disables to 0 % and reverts to the previous share', async () => {
    const { monitor } = setup();
    const canary = monitor.canary('new-index', { percent: 12.5 });
    const ex = await monitor.actions.execute('canary.disable');
    expect(canary.percent).toBe(0);
    expect((await monitor.actions.execute('canary.disable')).outcome).toBe('noop');
    expect(await monitor.metrics()).toContain('firebreak_canary_percent{canary="new-index"} 0');
    await monitor.actions.revert(ex.id);
    expect(canary.percent).toBe(12.5);
  });
});

import { describe, expect, it } from 'vitest';
import { ConfigError, LimitError } from '../../src/index.js';
import { setup } from './helpers.js';

describe('health checks', () => {
  it('reports ok, degraded (non-critical failing) and failing (critical failing)', async () => {
    const { monitor } = setup();
    expect(await monitor.checkHealth()).toMatchObject({ status: 'ok', checks: [] });
    let dbUp = true;
    monitor.healthCheck('database', () => dbUp, { critical: true });
    monitor.healthCheck('redis', () => ({ ok: false, error: 'PONG missing' }), { critical: false });
    const degraded = await monitor.checkHealth();
    expect(degraded.status).toBe('degraded');
    expect(degraded.checks).toEqual([
      { name: 'database', ok: true, critical: true, durationMs: 0 },
      { name: 'redis', ok: false, critical: false, durationMs: 0, error: 'PONG missing' },
    ]);
    dbUp = false;
    expect((await monitor.checkHealth()).status).toBe('failing');
  });

  it('contains throws and rejections, measures duration and times out on the monitor’s clock', async () => {
    const { clock, monitor } = setup();
    monitor.healthCheck('throws', () => {
      throw new Error('no route to host');
    });
    monitor.healthCheck('rejects', () => Promise.reject(new Error('ECONNREFUSED')));
    monitor.healthCheck('slow', () => new Promise<void>((resolve) => clock.setTimeout(resolve, 300)), { timeoutMs: 1_000 });
    monitor.healthCheck('hangs', () => new Promise<void>(() => {}), { timeoutMs: 1_000, critical: false });
    const run = monitor.checkHealth();
    expect(monitor.checkHealth()).toBe(run); // one run at a time
    await Promise.resolve(); // the throw and the rejection settle at once
    clock.advance(300);
    await Promise.resolve(); // 'slow' resolves
    clock.advance(700);
    const report = await run;
    expect(report.checks).toEqual([
      { name: 'throws', ok: false, critical: true, durationMs: 0, error: 'no route to host' },
      { name: 'rejects', ok: false, critical: true, durationMs: 0, error: 'ECONNREFUSED' },
      { name: 'slow', ok: true, critical: true, durationMs: 300 },
      { name: 'hangs', ok: false, critical: false, durationMs: 1_000, error: 'timed out after 1000 ms' },
    ]);
    expect(report.status).toBe('failing');
    expect(clock.pendingTimers()).toBe(0);
  });

  it('feeds the health detector: a failing critical check opens service-down, a non-critical one dependency-failure', async () => {
    const { clock, monitor } = setup({ detectors: [{ kind: 'health', forMs: 0 }], incidents: { clearForMs: 20_000 } });
    let db = false;
    monitor.healthCheck('database', () => db);
    monitor.healthCheck('search-index', () => false, { critical: false });
    monitor.healthCheck('model', () => false, { critical: false, type: 'model-failure', severity: 'high' });
    expect(monitor.evaluate().incidents.opened).toEqual([]); // starts a run in the background
    await monitor.checkHealth(); // the same run
    const opened = monitor.evaluate().incidents.opened;
    expect(opened.map((i) => [i.type, i.scope, i.severity, i.summary])).toEqual([
      ['service-down', 'health:database', 'critical', 'Health check database is failing: check returned false'],
      ['dependency-failure', 'health:search-index', 'medium', 'Health check search-index is failing: check returned false'],
      ['model-failure', 'health:model', 'high', 'Health check model is failing: check returned false'],
    ]);
    db = true;
    // Each evaluation reads the last completed run and starts the next one, so results lag one evaluation.
    const resolved = [];
    for (let i = 0; i < 5; i++) {
      await monitor.checkHealth();
      clock.advance(10_000);
      resolved.push(...monitor.evaluate().incidents.resolved);
    }
    expect(resolved.map((i) => i.scope)).toEqual(['health:database']);
    expect(resolved[0]!.timeline.at(-1)!.message).toBe('Resolved automatically: signal clear for 20 s');
    expect(monitor.stats().incidents.health!.status).toBe('degraded');
  });

  it('validates registration', () => {
    const { monitor } = setup();
    expect(() => monitor.healthCheck('', () => true)).toThrow(ConfigError);
    expect(() => monitor.healthCheck('x', 'nope' as never)).toThrow(/fn must be a function/);
    expect(() => monitor.healthCheck('x', 'nope' as never)).toThrow(ConfigError);
    expect(() => monitor.healthCheck('x', () => true, { timeoutMs: -1 })).toThrow(/timeoutMs/);
    expect(() => monitor.healthCheck('x', () => true, { timeoutMs: -1 })).toThrow(ConfigError);
    for (let i = 0; i < 100; i++) monitor.healthCheck(`c${i}`, () => true);
    monitor.healthCheck('c5', () => false); // replacing is fine
    expect(() => monitor.healthCheck('one-too-many', () => true)).toThrow(LimitError);
  });
});

// The controls' own detectors (model failure, canary failure, rate-limit attack) driving incidents
// and the runbook playbooks, each targeting the control named by the incident's scope.
import { describe, expect, it } from 'vitest';
import { setup, flush } from './helpers.js';
import { ConfigError } from '../../src/index.js';

const opts = { incidents: { forMs: 0, clearForMs: 60_000 }, autoRemediate: true } as const;

describe('model-failure detector', () => {
  it('opens a model-failure incident scoped to the failing wrapper, and falls back that one only', async () => {
    const { monitor } = setup(opts);
    let n = 0;
    const ranker = monitor.fallback('ranker', {
      primary: () => {
        if (n++ % 10 < 3) throw new Error('CUDA OOM'); // 30 % failures
        return 'ce';
      },
      fallback: () => 'hybrid',
    });
    const summarizer = monitor.fallback('summarizer', { primary: () => 'llm', fallback: () => 'extract' });
    for (let i = 0; i < 40; i++) {
      await ranker.run();
      await summarizer.run();
    }
    const report = monitor.evaluate();
    await flush();
    expect(report.incidents.opened.map((i) => [i.type, i.scope, i.severity])).toEqual([['model-failure', 'fallback:ranker', 'high']]);
    expect(report.incidents.opened[0]!.summary).toMatch(/ranker: primary failing on 30\.00 % of calls/);
    expect(ranker.isForced()).toBe(true);
    expect(summarizer.isForced()).toBe(false);
    expect(monitor.actions.audit()[0]).toMatchObject({ action: 'model.fallback', params: { name: 'ranker' }, source: 'auto' });
  });

  it('gives no reading below minCalls, and none at all with detector: false', async () => {
    const { monitor } = setup(opts);
    const few = monitor.fallback('few', { primary: () => { throw new Error('x'); }, fallback: () => 1 });
    const off = monitor.fallback('off', { primary: () => { throw new Error('x'); }, fallback: () => 1, detector: false });
    for (let i = 0; i < 19; i++) await few.run();
    for (let i = 0; i < 100; i++) await off.run();
    expect(monitor.evaluate().incidents.opened).toEqual([]);
  });
});

describe('canary-failure detector', () => {
  it('compares canary with stable and emergency-stops the failing canary', async () => {
    const { monitor } = setup(opts);
    const index = monitor.canary('new-index', { percent: 10, series: { canary: 'index-canary', stable: 'index-stable' } });
    const ui = monitor.canary('new-ui', { percent: 10, series: { canary: 'ui-canary', stable: 'ui-stable' } });
    for (let i = 0; i < 100; i++) {
      index.record('stable', { route: 'GET /search', durationMs: 100, status: 200 });
      index.record('canary', { route: 'GET /search', durationMs: 110, status: i % 10 === 0 ? 500 : 200 });
      ui.record('stable', { route: 'GET /', durationMs: 50, status: 200 });
      ui.record('canary', { route: 'GET /', durationMs: 55, status: 200 });
    }
    const report = monitor.evaluate();
    await flush();
    expect(report.incidents.opened.map((i) => [i.type, i.scope, i.severity])).toEqual([['canary-failure', 'canary:new-index', 'critical']]);
    expect(report.incidents.opened[0]!.summary).toMatch(/success 90\.00 % vs stable 100\.00 %/);
    expect(index.isStopped()).toBe(true);
    expect(ui.isStopped()).toBe(false);
  });

  it('flags a slower canary by its p95 ratio', () => {
    const { monitor } = setup({ incidents: { forMs: 0 } });
    const c = monitor.canary('new-index', { percent: 10 });
    for (let i = 0; i < 50; i++) {
      c.record('stable', { route: 'GET /search', durationMs: 100, status: 200 });
      c.record('canary', { route: 'GET /search', durationMs: 250, status: 200 });
    }
    expect(monitor.evaluate().incidents.opened.map((i) => i.severity)).toEqual(['high']);
  });
});

describe('rate-limit-attack detector', () => {
  it('opens on the rejected share and tightens that limiter; blocking stays manual', async () => {
    const { monitor } = setup(opts);
    const api = monitor.rateLimiter('api', { maxRequests: 10, windowSeconds: 60 });
    monitor.rateLimiter('login', { maxRequests: 5, windowSeconds: 60 });
    for (let i = 0; i < 10; i++) api.check(`user-${i}`);
    for (let i = 0; i < 40; i++) api.check('203.0.113.7');
    const report = monitor.evaluate();
    await flush();
    const [incident] = report.incidents.opened;
    expect([incident?.type, incident?.scope, incident?.severity]).toEqual(['rate-limit-attack', 'limiter:api', 'high']);
    expect(incident!.summary).toMatch(/top offenders 203\.0\.113\.7/);
    expect(api.current().maxRequests).toBe(5);
    expect(monitor.actions.audit().map((e) => e.action)).toEqual(['rate-limit.tighten']);
    const steps = monitor.incidents.procedures(incident!.id) as { action: string; status: string; params: Record<string, unknown> }[];
    expect(steps.map((s) => [s.action, s.status, s.params])).toEqual([
      ['rate-limit.tighten', 'done', { factor: 0.5, name: 'api' }],
      ['rate-limit.block', 'pending', { top: 5, ttlSeconds: 3600, name: 'api' }],
    ]);
    // An operator runs the manual step from the procedure, confirming it.
    await monitor.actions.execute('rate-limit.block', { params: steps[1]!.params, confirm: true, incidentId: incident!.id, by: 'alice' });
    expect(api.blockedUntil('203.0.113.7')).toBeDefined();
    expect((monitor.incidents.procedures(incident!.id) as { status: string }[])[1]!.status).toBe('done');
  });
});

describe('auto-remediation through the monitor', () => {
  it('is exposed as monitor.remediation and validated as an option', () => {
    const { monitor } = setup({ autoRemediate: { cooldownMs: 1000 } });
    expect(monitor.remediation.stats()).toMatchObject({ enabled: true, policy: { cooldownMs: 1000 } });
    expect(() => setup({ autoRemediate: { cooldownMs: -1 } })).toThrowError(/autoRemediate\.cooldownMs/);
    expect(() => setup({ autoRemediate: { cooldownMs: -1 } })).toThrowError(ConfigError);
    expect(() => setup({ playbooks: { x: [{ action: '' }] } })).toThrowError(/playbooks\.x\.0\.action/);
    expect(() => setup({ playbooks: { x: [{ action: '' }] } })).toThrowError(ConfigError);
    expect(setup({ playbooks: 'none' }).monitor.playbooks.types()).toEqual([]);
  });

  it('refuses an execution tied to an unknown incident', async () => {
    const { monitor } = setup();
    monitor.feature('rerank');
    await expect(monitor.actions.execute('feature.disable', { incidentId: 'inc_nope' })).rejects.toMatchObject({ code: 'NOT_FOUND' });
    expect(monitor.feature('rerank').isEnabled()).toBe(true);
  });

  it('records a manual execution on the incident timeline', async () => {
    const { monitor } = setup();
    const cache = monitor.cache('search', { max: 10 });
    cache.set('k', 1);
    const inc = monitor.incidents.open({ type: 'memory-exhaustion', severity: 'high', summary: 'heap 92 %', by: 'alice' });
    const ex = await monitor.actions.execute('cache.clear', { incidentId: inc.id, by: 'alice' });
    const entry = monitor.incidents.get(inc.id)!.timeline.at(-1)!;
    expect(entry).toMatchObject({ kind: 'action', by: 'alice', data: { executionId: ex.id, action: 'cache.clear' } });
    expect(entry.message).toMatch(/Clear cache \(cache\.clear\) — search: cleared 1 entries/);
  });
});

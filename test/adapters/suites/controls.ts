import { afterEach, describe, expect, it } from 'vitest';
import { createMonitor, type Monitor } from '../../../src/index.js';
import { ManualClock } from '../../../src/testing/index.js';
import { OPERATOR_TOKEN, READER_TOKEN, call, serve, type Framework, type Served } from '../harness.js';

interface World {
  monitor: Monitor;
  clock: ManualClock;
  url: string;
}

function controlsOf(monitor: Monitor) {
  return {
    rerank: monitor.feature('rerank', { risky: true }),
    cache: monitor.cache('search', { max: 100 }),
    limiter: monitor.rateLimiter('api', { maxRequests: 100, windowSeconds: 60 }),
    ranker: monitor.fallback('ranker', { primary: async () => 'primary', fallback: async () => 'fallback' }),
    canary: monitor.canary('new-index', { percent: 5 }),
  };
}

/** The control and action routes through one adapter, with each role and each error status. */
export function controlsSuite(framework: Framework, label: string = framework): void {
  describe(`control and action routes through ${label}`, () => {
    let served: Served | undefined;
    afterEach(async () => {
      await served?.close();
      served = undefined;
    });

    async function start(): Promise<World & { controls: ReturnType<typeof controlsOf> }> {
      const clock = new ManualClock();
      const monitor = createMonitor({ service: 'search-api', clock });
      const controls = controlsOf(monitor);
      served = await serve(framework, monitor, { http: { adminRateLimit: false } });
      return { monitor, clock, url: served.url, controls };
    }

    /** POST as alice (operator) unless another token, or `null` for no credentials, is given. */
    const post = (url: string, path: string, body: unknown = {}, token: string | null = OPERATOR_TOKEN) =>
      call(url, path, token === null ? { method: 'POST', body } : { method: 'POST', body, token });

    it("runs the runbooks' cache, rate-limit, canary, feature and model routes as the caller", async () => {
      const { url, controls, monitor } = await start();
      controls.cache.set('q', 'hit');

      const clear = await post(url, '/admin/cache/clear');
      expect(clear.status).toBe(200);
      expect(clear.json).toMatchObject({ action: 'cache.clear', by: 'alice', outcome: 'success', ok: true });
      expect(controls.cache.stats().size).toBe(0);
      expect((await post(url, '/admin/cache/clear', { cache: 'search' })).json.outcome).toBe('noop');

      expect((await post(url, '/admin/cache/disable', { reason: 'stale' })).status).toBe(200);
      expect(controls.cache.stats().disabled).toBe(true);
      expect((await post(url, '/admin/cache/enable')).status).toBe(200);
      expect(controls.cache.stats().disabled).toBe(false);

      const adjust = await post(url, '/admin/rate-limit/adjust', { max_requests: 10, window_seconds: 3600 });
      expect(adjust.status).toBe(200);
      expect(controls.limiter.current()).toEqual({ maxRequests: 10, windowSeconds: 3600 });
      expect((await post(url, '/admin/rate-limit/adjust', { maxRequests: 20, windowSeconds: 60 })).status).toBe(200);
      expect(controls.limiter.current()).toEqual({ maxRequests: 20, windowSeconds: 60 });
      expect((await post(url, '/admin/rate-limit/tighten', { factor: 0.5 })).status).toBe(200);
      expect(controls.limiter.current().maxRequests).toBe(10);
      expect((await post(url, '/admin/rate-limit/restore')).status).toBe(200);
      expect(controls.limiter.current()).toEqual({ maxRequests: 100, windowSeconds: 60 });
      expect((await post(url, '/admin/rate-limit/block', { key: '203.0.113.7', ttl_seconds: 600, confirm: true })).status).toBe(200);
      expect(controls.limiter.check('203.0.113.7').allowed).toBe(false);
      expect((await post(url, '/admin/rate-limit/unblock', { key: '203.0.113.7' })).status).toBe(200);
      expect(controls.limiter.check('203.0.113.7').allowed).toBe(true);

      expect((await post(url, '/admin/canary/emergency-stop', { reason: 'errors' })).status).toBe(200);
      const status = await call(url, '/admin/canary/status', { token: READER_TOKEN });
      expect(status.json.canaries['new-index']).toMatchObject({ stopped: true, effectivePercent: 0, stoppedBy: 'alice' });
      expect((await post(url, '/admin/canary/resume', { confirm: true })).status).toBe(200);
      expect(controls.canary.stats().stopped).toBe(false);
      expect((await post(url, '/admin/canary/disable')).status).toBe(200);
      expect(controls.canary.stats().percent).toBe(0);

      expect((await post(url, '/admin/features/rerank/disable', { reason: 'latency', ttl_seconds: 600 })).status).toBe(200);
      expect(controls.rerank.isEnabled()).toBe(false);
      expect((await post(url, '/admin/features/rerank/enable')).status).toBe(200);
      expect(controls.rerank.isEnabled()).toBe(true);

      expect((await post(url, '/admin/model/ranker/fallback', { reason: 'slow' })).status).toBe(200);
      expect(await controls.ranker.run()).toBe('fallback');
      expect((await post(url, '/admin/model/ranker/restore', undefined)).status).toBe(200);
      expect(await controls.ranker.run()).toBe('primary');

      // Every one of them is in the action audit as alice.
      const audit = monitor.actions.audit({ by: 'alice' });
      expect(new Set(audit.map((e) => e.action))).toEqual(
        new Set([
          'cache.clear',
          'cache.disable',
          'cache.enable',
          'rate-limit.adjust',
          'rate-limit.tighten',
          'rate-limit.restore',
          'rate-limit.block',
          'rate-limit.unblock',
          'canary.emergency-stop',
          'canary.resume',
          'canary.disable',
          'feature.disable',
          'feature.enable',
          'model.fallback',
          'model.restore',
        ]),
      );
    });

    it('refuses anonymous callers (401) and the read role (403) on every control route, and changes nothing', async () => {
      const { url, controls } = await start();
      const routes: [string, unknown][] = [
        ['/admin/cache/clear', {}],
        ['/admin/cache/disable', {}],
        ['/admin/cache/enable', {}],
        ['/admin/rate-limit/adjust', { max_requests: 1 }],
        ['/admin/rate-limit/tighten', {}],
        ['/admin/rate-limit/restore', {}],
        ['/admin/rate-limit/block', { key: 'k', confirm: true }],
        ['/admin/rate-limit/unblock', { key: 'k' }],
        ['/admin/canary/disable', {}],
        ['/admin/canary/emergency-stop', {}],
        ['/admin/canary/resume', { confirm: true }],
        ['/admin/features/rerank/disable', {}],
        ['/admin/features/rerank/enable', {}],
        ['/admin/model/ranker/fallback', {}],
        ['/admin/model/ranker/restore', {}],
        ['/admin/actions/cache.clear/execute', {}],
      ];
      for (const [path, body] of routes) {
        expect((await post(url, path, body, null)).status, path).toBe(401);
        expect((await post(url, path, body, READER_TOKEN)).status, path).toBe(403);
      }
      expect(controls.limiter.current().maxRequests).toBe(100);
      expect(controls.rerank.isEnabled()).toBe(true);
      expect(controls.canary.stats().stopped).toBe(false);
      for (const path of ['/admin/canary/status', '/admin/actions', '/admin/actions/executions', '/stats/cache', '/stats/rate-limit']) {
        expect((await call(url, path)).status, path).toBe(401);
        expect((await call(url, path, { token: READER_TOKEN })).status, path).toBe(200);
        expect((await call(url, path, { token: OPERATOR_TOKEN })).status, path).toBe(200);
      }
    });

    it('answers 404 for unknown controls, 400 for bad or missing fields, 400 without confirm', async () => {
      const { url, monitor } = await start();
      const feature = await post(url, '/admin/features/nope/disable');
      expect(feature.status).toBe(404);
      expect(feature.json.error).toMatchObject({ code: 'NOT_FOUND', details: { kind: 'feature', id: 'nope' } });
      expect((await post(url, '/admin/model/nope/fallback')).status).toBe(404);
      expect((await post(url, '/admin/cache/clear', { cache: 'nope' })).status).toBe(404);
      expect((await post(url, '/admin/rate-limit/restore', { limiter: 'nope' })).status).toBe(404);

      const missing = await post(url, '/admin/rate-limit/adjust', { window_seconds: 60 });
      expect(missing.status).toBe(400);
      expect(missing.json.error.details).toEqual([{ path: 'max_requests', message: 'max_requests is required' }]);
      const both = await post(url, '/admin/rate-limit/adjust', { max_requests: 1, maxRequests: 2 });
      expect(both.status).toBe(400);
      expect(both.json.error.details[0].path).toBe('max_requests');
      const negative = await post(url, '/admin/rate-limit/adjust', { max_requests: -5 });
      expect(negative.status).toBe(400);
      expect(negative.json.error.details[0].path).toBe('max_requests');
      const factor = await post(url, '/admin/rate-limit/tighten', { factor: 3 });
      expect(factor.status).toBe(400);
      expect(factor.json.error.details[0].path).toBe('factor');

      const noConfirm = await post(url, '/admin/rate-limit/block', { key: 'k' });
      expect(noConfirm.status).toBe(400);
      expect(noConfirm.json.error.code).toBe('CONFIRMATION_REQUIRED');

      // Two caches: the name is required, and the 400 names the body field.
      monitor.cache('other', { max: 10 });
      const ambiguous = await post(url, '/admin/cache/clear');
      expect(ambiguous.status).toBe(400);
      expect(ambiguous.json.error.details[0].path).toBe('cache');
      expect((await post(url, '/admin/cache/clear', { cache: 'other' })).status).toBe(200);
    });

    it('answers 404 for a kind of control that does not exist at all', async () => {
      const clock = new ManualClock();
      const monitor = createMonitor({ service: 'bare', clock });
      served = await serve(framework, monitor);
      const r = await post(served.url, '/admin/cache/clear');
      expect(r.status).toBe(404);
      expect(r.json.error.details).toEqual({ kind: 'cache', id: '(none configured)' });
    });

    it('lists, runs and reverts actions; 404 for unknown actions and executions, 409 when not revertible', async () => {
      const { url, controls } = await start();
      const list = await call(url, '/admin/actions', { token: READER_TOKEN });
      const byId = Object.fromEntries(list.json.actions.map((a: { id: string }) => [a.id, a]));
      expect(byId['rate-limit.block']).toMatchObject({ requiresConfirm: true, risk: 'risky' });
      expect(byId['cache.clear']).toMatchObject({ risk: 'safe', revertible: false });

      const run = await post(url, '/admin/actions/feature.disable/execute', { params: { name: 'rerank', reason: 'drill' } });
      expect(run.status).toBe(200);
      expect(run.json).toMatchObject({ action: 'feature.disable', by: 'alice', revertible: true });
      expect(controls.rerank.isEnabled()).toBe(false);

      const reverted = await post(url, `/admin/actions/executions/${run.json.id}/revert`);
      expect(reverted.status).toBe(200);
      expect(reverted.json.revert).toMatchObject({ by: 'alice', outcome: 'success' });
      expect(controls.rerank.isEnabled()).toBe(true);
      const twice = await post(url, `/admin/actions/executions/${run.json.id}/revert`);
      expect(twice.status).toBe(409);
      expect(twice.json.error.code).toBe('NOT_REVERTIBLE');

      expect((await post(url, '/admin/actions/no.such/execute')).json.error.code).toBe('ACTION_NOT_FOUND');
      expect((await post(url, '/admin/actions/no.such/execute')).status).toBe(404);
      const noEx = await post(url, '/admin/actions/executions/ex_nope/revert');
      expect(noEx.status).toBe(404);
      expect(noEx.json.error.code).toBe('EXECUTION_NOT_FOUND');
      const badParams = await post(url, '/admin/actions/feature.disable/execute', { params: { name: 'rerank', colour: 'red' } });
      expect(badParams.status).toBe(400);
      expect(badParams.json.error.message).toMatch(/colour/);
      expect((await post(url, '/admin/actions/cache.clear/execute', { incident_id: 'inc_nope' })).status).toBe(404);

      const executions = await call(url, '/admin/actions/executions?action=feature.disable', { token: READER_TOKEN });
      expect(executions.json.executions.map((e: { id: string }) => e.id)).toEqual([run.json.id]);
    });

    it('answers 500 ACTION_FAILED, 504 ACTION_TIMEOUT and 409 ACTION_BUSY with the execution in details', async () => {
      const { url, monitor, clock } = await start();
      monitor.actions.register({
        id: 'test.fail',
        title: 'Always fails',
        risk: 'safe',
        execute: () => {
          throw new Error('disk full');
        },
      });
      let started: () => void = () => {};
      const running = new Promise<void>((r) => (started = r));
      monitor.actions.register({
        id: 'test.hang',
        title: 'Never finishes',
        risk: 'safe',
        timeoutMs: 5_000,
        execute: () => {
          started();
          return new Promise(() => {});
        },
      });
      const failed = await post(url, '/admin/actions/test.fail/execute');
      expect(failed.status).toBe(500);
      expect(failed.json.error).toMatchObject({ code: 'ACTION_FAILED', details: { action: 'test.fail', outcome: 'failed', error: 'disk full' } });

      const hanging = post(url, '/admin/actions/test.hang/execute');
      await running;
      const busy = await post(url, '/admin/actions/test.hang/execute');
      expect(busy.status).toBe(409);
      expect(busy.json.error.code).toBe('ACTION_BUSY');
      clock.advance(5_000);
      const timedOut = await hanging;
      expect(timedOut.status).toBe(504);
      expect(timedOut.json.error).toMatchObject({ code: 'ACTION_TIMEOUT', details: { action: 'test.hang', outcome: 'timeout' } });
    });

    it('runs a procedure step for an incident through the routes, on its timeline, and reverts it', async () => {
      const { url, monitor, controls } = await start();
      const inc = monitor.incidents.open({ type: 'high-latency', severity: 'high', summary: 'p95 2.5 s' });
      const procedures = await call(url, `/admin/incidents/${inc.id}/procedures`, { token: READER_TOKEN });
      expect(procedures.status).toBe(200);
      const steps = procedures.json.procedures as { action: string; status: string }[];
      expect(steps.length).toBeGreaterThan(0);
      const fallbackStep = steps.find((s) => s.action === 'model.fallback');
      expect(fallbackStep?.status).toBe('pending');

      const run = await post(url, `/admin/incidents/${inc.id}/actions/model.fallback`, { params: { name: 'ranker' } });
      expect(run.status).toBe(200);
      expect(run.json).toMatchObject({ action: 'model.fallback', incidentId: inc.id, by: 'alice' });
      expect(await controls.ranker.run()).toBe('fallback');
      const after = await call(url, `/admin/incidents/${inc.id}/procedures`, { token: READER_TOKEN });
      expect((after.json.procedures as { action: string; status: string }[]).find((s) => s.action === 'model.fallback')?.status).toBe('done');
      const timeline = (await call(url, `/admin/incidents/${inc.id}`, { token: READER_TOKEN })).json.timeline as { kind: string; by: string }[];
      expect(timeline.some((e) => e.kind === 'action' && e.by === 'alice')).toBe(true);

      expect((await post(url, `/admin/incidents/inc_nope/actions/model.fallback`, { params: { name: 'ranker' } })).status).toBe(404);
      const noConfirm = await post(url, `/admin/incidents/${inc.id}/actions/rate-limit.block`, { params: { key: 'k' } });
      expect(noConfirm.status).toBe(400);
      expect(noConfirm.json.error.code).toBe('CONFIRMATION_REQUIRED');

      expect((await post(url, `/admin/actions/executions/${run.json.id}/revert`)).status).toBe(200);
      expect(await controls.ranker.run()).toBe('primary');
    });

    it('serves cache and rate-limit stats', async () => {
      const { url, controls } = await start();
      controls.cache.set('a', 1);
      controls.cache.get('a');
      controls.cache.get('b');
      for (let i = 0; i < 3; i++) controls.limiter.check('k');
      const cache = await call(url, '/stats/cache', { token: READER_TOKEN });
      expect(cache.json.caches.search.window).toMatchObject({ hits: 1, misses: 1 });
      expect(cache.json.caches.search.control).toMatchObject({ size: 1, disabled: false });
      const rl = await call(url, '/stats/rate-limit', { token: READER_TOKEN });
      expect(rl.json.limiters.api).toMatchObject({ allowed: 3, limited: 0, limit: { maxRequests: 100, windowSeconds: 60 } });
    });

    it('lists the action audit beside the admin calls in /admin/audit', async () => {
      const { url } = await start();
      await post(url, '/admin/cache/clear');
      await post(url, '/admin/features/rerank/disable', {}, READER_TOKEN);
      const audit = await call(url, '/admin/audit', { token: READER_TOKEN });
      expect(audit.json.entries.map((e: { caller: string; route: string; status: number }) => [e.caller, e.route, e.status])).toEqual([
        ['alice', '/admin/cache/clear', 200],
        ['grafana', '/admin/features/:name/disable', 403],
      ]);
      expect(audit.json.actions.map((e: { action: string; by: string }) => [e.action, e.by])).toEqual([['cache.clear', 'alice']]);
      const mine = await call(url, '/admin/audit?caller=grafana', { token: READER_TOKEN });
      // grafana's refused call, then its first look at the audit log.
      expect(mine.json.entries.map((e: { route: string; status: number }) => [e.route, e.status])).toEqual([
        ['/admin/features/:name/disable', 403],
        ['/admin/audit', 200],
      ]);
      expect(mine.json.actions).toEqual([]);
    });
  });
}

import { afterEach, describe, expect, it } from 'vitest';
import { createMonitor, type Monitor, type MonitorOptions } from '../../../src/index.js';
import { ManualClock } from '../../../src/testing/index.js';
import { OPERATOR_TOKEN, READER_TOKEN, call, nextRecords, serve, type Framework, type Served } from '../harness.js';

/** Incident and health routes through one adapter, with each role and each error status. */
export function incidentsSuite(framework: Framework, label: string = framework): void {
  describe(`incident and health routes through ${label}`, () => {
    let served: Served | undefined;
    afterEach(async () => {
      await served?.close();
      served = undefined;
    });

    async function start(extra: Partial<MonitorOptions> = {}): Promise<{ monitor: Monitor; url: string; clock: ManualClock }> {
      const clock = new ManualClock();
      const monitor = createMonitor({ service: 'search-api', clock, ...extra });
      served = await serve(framework, monitor);
      return { monitor, url: served.url, clock };
    }

    const manual = { type: 'model-drift', severity: 'medium', summary: 'Drift score 0.41' };

    it('opens an incident from traffic through the middleware and resolves it through the routes', async () => {
      const { monitor, url, clock } = await start({ detectors: [{ kind: 'success-rate', forMs: 0, clearForMs: 0, minSamples: 10 }] });
      if (framework === 'node-http') {
        // node:http has no route templates: the host records, as it would with monitor.track().
        for (let i = 0; i < 20; i++) monitor.recordRequest({ route: 'GET /boom', durationMs: 5, status: 500 });
      } else {
        const recorded = nextRecords(monitor, 20);
        for (let i = 0; i < 20; i++) expect((await call(url, '/boom')).status).toBe(500);
        await recorded;
      }
      expect(monitor.stats().routes['GET /boom']?.failures).toBe(20);

      const detect = await call(url, '/admin/incidents/detect', { method: 'POST', token: OPERATOR_TOKEN });
      expect(detect.status).toBe(200);
      expect(detect.json.incidents.opened).toHaveLength(1);
      const opened = detect.json.incidents.opened[0];
      expect(opened).toMatchObject({ source: 'auto', severity: 'critical', priority: 'P0', status: 'open' });

      clock.advance(90_000);
      const status = await call(url, '/admin/incidents/status', { token: READER_TOKEN });
      expect(status.status).toBe(200);
      expect(status.json.active).toBe(1);
      expect(status.json.bySeverity.critical).toBe(1);
      expect(status.json.incidents[0]).toMatchObject({ id: opened.id, severity: 'critical', ageMs: 90_000, acknowledged: false });

      const ack = await call(url, `/admin/incidents/${opened.id}/acknowledge`, { token: OPERATOR_TOKEN, body: { note: 'Looking' } });
      expect(ack.status).toBe(200);
      expect(ack.json).toMatchObject({ status: 'acknowledged', acknowledgedBy: 'alice' });
      const again = await call(url, `/admin/incidents/${opened.id}/acknowledge`, { token: OPERATOR_TOKEN, body: {} });
      expect(again.status).toBe(409);
      expect(again.json.error.code).toBe('INVALID_TRANSITION');

      clock.advance(60_000);
      const resolved = await call(url, `/admin/incidents/${opened.id}/resolve`, {
        token: OPERATOR_TOKEN,
        body: { notes: 'Rolled back the deploy', root_cause: 'Bad config push' },
      });
      expect(resolved.status).toBe(200);
      expect(resolved.json).toMatchObject({ status: 'resolved', resolvedBy: 'alice', rootCause: 'Bad config push', durationMs: 150_000 });
      expect((await call(url, `/admin/incidents/${opened.id}/resolve`, { token: OPERATOR_TOKEN, body: {} })).status).toBe(409);

      const pm = await call(url, `/admin/incidents/${opened.id}/postmortem`, { token: READER_TOKEN });
      expect(pm.status).toBe(200);
      expect(pm.headers.get('content-type')).toMatch(/^text\/markdown/);
      expect(pm.text).toContain('Rolled back the deploy');
      expect(pm.text).toContain('Bad config push');

      const one = await call(url, `/admin/incidents/${opened.id}`, { token: READER_TOKEN });
      expect(one.json.timeline.map((e: { kind: string; by: string }) => [e.kind, e.by])).toEqual(
        expect.arrayContaining([
          ['acknowledged', 'alice'],
          ['resolved', 'alice'],
        ]),
      );
      expect((await call(url, '/admin/incidents/status', { token: READER_TOKEN })).json.active).toBe(0);
    });

    it('reports a manual incident as the caller, with 201', async () => {
      const { url } = await start();
      const r = await call(url, '/admin/incidents', { token: OPERATOR_TOKEN, body: { ...manual, scope: 'model:reranker' } });
      expect(r.status).toBe(201);
      expect(r.json).toMatchObject({ ...manual, scope: 'model:reranker', source: 'manual', status: 'open' });
      expect(r.json.timeline[0].by).toBe('alice');
      const list = await call(url, '/admin/incidents?status=active&severity=medium', { token: READER_TOKEN });
      expect(list.json.incidents.map((i: { id: string }) => i.id)).toEqual([r.json.id]);
      const none = await call(url, '/admin/incidents?severity=critical', { token: READER_TOKEN });
      expect(none.json.incidents).toEqual([]);
    });

    it('lets the read role look and not change, and refuses anonymous callers', async () => {
      const { url, monitor } = await start();
      const inc = monitor.incidents.open({ ...manual, severity: 'medium' });
      for (const path of ['/admin/incidents', '/admin/incidents/status', `/admin/incidents/${inc.id}`, `/admin/incidents/${inc.id}/procedures`, `/admin/incidents/${inc.id}/postmortem`, '/stats/incidents']) {
        expect((await call(url, path)).status, path).toBe(401);
        expect((await call(url, path, { token: READER_TOKEN })).status, path).toBe(200);
        expect((await call(url, path, { token: OPERATOR_TOKEN })).status, path).toBe(200);
      }
      const changes: [string, unknown][] = [
        ['/admin/incidents', manual],
        ['/admin/incidents/detect', undefined],
        [`/admin/incidents/${inc.id}/acknowledge`, {}],
        [`/admin/incidents/${inc.id}/mitigate`, {}],
        [`/admin/incidents/${inc.id}/notes`, { text: 'EU only' }],
        [`/admin/incidents/${inc.id}/resolve`, { notes: 'done' }],
        [`/admin/incidents/${inc.id}/reopen`, {}],
      ];
      for (const [path, body] of changes) {
        expect((await call(url, path, { method: 'POST', body })).status, path).toBe(401);
        const r = await call(url, path, { method: 'POST', token: READER_TOKEN, body });
        expect(r.status, path).toBe(403);
        expect(r.json.error.code).toBe('FORBIDDEN');
      }
      for (const [path, body] of changes) {
        expect((await call(url, path, { method: 'POST', token: OPERATOR_TOKEN, body })).status, path).toBeLessThan(300);
      }
    });

    it('answers 404 for unknown incident ids and 400 for bad bodies and filters', async () => {
      const { url } = await start();
      for (const path of ['/admin/incidents/inc_nope', '/admin/incidents/inc_nope/procedures', '/admin/incidents/inc_nope/postmortem']) {
        const r = await call(url, path, { token: READER_TOKEN });
        expect(r.status, path).toBe(404);
        expect(r.json.error).toMatchObject({ code: 'NOT_FOUND', details: { kind: 'incident', id: 'inc_nope' } });
      }
      expect((await call(url, '/admin/incidents/inc_nope/acknowledge', { token: OPERATOR_TOKEN, body: {} })).status).toBe(404);
      const bad = await call(url, '/admin/incidents', { token: OPERATOR_TOKEN, body: { ...manual, severity: 'apocalyptic' } });
      expect(bad.status).toBe(400);
      expect(bad.json.error.details[0].path).toBe('severity');
      const by = await call(url, '/admin/incidents', { token: OPERATOR_TOKEN, body: { ...manual, by: 'mallory' } });
      expect(by.status).toBe(400);
      expect(by.json.error.message).toMatch(/by/);
      const filter = await call(url, '/admin/incidents?status=sleeping', { token: READER_TOKEN });
      expect(filter.status).toBe(400);
      expect(filter.json.error.details[0].path).toBe('status');
    });

    it('serves readiness from the health checks: 200 when critical checks pass, 503 naming the failing ones', async () => {
      const { url, monitor } = await start();
      let dbUp = true;
      monitor.healthCheck('database', () => dbUp, { critical: true, timeoutMs: 1_000 });
      monitor.healthCheck('cache', () => {
        throw new Error('redis at 10.0.0.7:6379 refused');
      }, { critical: false, timeoutMs: 1_000 });
      const ok = await call(url, '/health/ready');
      expect(ok.status).toBe(200);
      expect(ok.json.status).toBe('degraded');
      expect(ok.json.checks.map((c: { name: string; ok: boolean }) => [c.name, c.ok])).toEqual([
        ['database', true],
        ['cache', false],
      ]);
      // Public route: no error texts.
      expect(ok.text).not.toContain('10.0.0.7');
      dbUp = false;
      (monitor.clock as ManualClock).advance(1_000);
      const failing = await call(url, '/health/ready');
      expect(failing.status).toBe(503);
      expect(failing.json.error).toMatchObject({ code: 'NOT_READY', details: { failing: ['database'], status: 'failing' } });
      expect(failing.json.error.message).toContain('database');
    });
  });
}

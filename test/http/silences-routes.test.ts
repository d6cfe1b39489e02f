// /admin/silences and /admin/maintenance through every adapter: roles, validation, audit, DELETE.
import { afterEach, describe, expect, it } from 'vitest';
import { createMonitor, type Monitor } from '../../src/index.js';
import { ManualClock } from '../../src/testing/index.js';
import { FRAMEWORKS, OPERATOR_TOKEN, READER_TOKEN, call, serve, type Served } from '../adapters/harness.js';

const H = 3_600_000;

for (const framework of FRAMEWORKS) {
  describe(`silence and maintenance routes through ${framework}`, () => {
    let served: Served | undefined;
    afterEach(async () => {
      await served?.close();
      served = undefined;
    });

    async function start(): Promise<{ monitor: Monitor; url: string; clock: ManualClock }> {
      const clock = new ManualClock();
      const monitor = createMonitor({ service: 'search-api', clock, incidents: { forMs: 0 } });
      served = await serve(framework, monitor);
      return { monitor, url: served.url, clock };
    }

    const silence = { matchers: [{ name: 'type', value: 'high-latency' }], durationMs: H, comment: 'reindexing' };

    it('needs a token (401), the operator role to change (403 for read), and audits who did it', async () => {
      const { monitor, url } = await start();
      expect((await call(url, '/admin/silences')).status).toBe(401);
      expect((await call(url, '/admin/silences', { body: silence })).status).toBe(401);
      const ro = await call(url, '/admin/silences', { body: silence, token: READER_TOKEN });
      expect(ro.status).toBe(403);
      expect((ro.json as { error: { code: string } }).error.code).toBe('FORBIDDEN');
      expect(monitor.silences.list()).toEqual([]);

      const created = await call(url, '/admin/silences', { body: silence, token: OPERATOR_TOKEN });
      expect(created.status).toBe(201);
      const s = created.json as { id: string; createdBy: string; state: string };
      expect(s).toMatchObject({ createdBy: 'alice', state: 'active' });
      const listed = await call(url, '/admin/silences?state=active', { token: READER_TOKEN });
      expect((listed.json as { silences: { id: string }[] }).silences.map((x) => x.id)).toEqual([s.id]);

      expect((await call(url, `/admin/silences/${s.id}`, { method: 'DELETE', token: READER_TOKEN })).status).toBe(403);
      const expired = await call(url, `/admin/silences/${s.id}`, { method: 'DELETE', token: OPERATOR_TOKEN });
      expect(expired.status).toBe(200);
      expect(expired.json).toMatchObject({ id: s.id, state: 'expired', expiredBy: 'alice' });
      expect((await call(url, `/admin/silences/${s.id}`, { method: 'DELETE', token: OPERATOR_TOKEN })).status).toBe(404);

      const audit = await call(url, '/admin/audit', { token: READER_TOKEN });
      const entries = (audit.json as { entries: { caller: string; method: string; route: string; status: number }[] }).entries;
      expect(entries.map((e) => [e.caller, e.method, e.route, e.status])).toEqual(
        expect.arrayContaining([
          ['alice', 'POST', '/admin/silences', 201],
          ['grafana', 'POST', '/admin/silences', 403],
          ['alice', 'DELETE', '/admin/silences/:id', 200],
        ]),
      );
    });

    it('answers 400 naming the bad field, and takes the author from the credential only', async () => {
      const { url } = await start();
      const bad = await call(url, '/admin/silences', { body: { ...silence, matchers: [{ name: 'colour', value: 'x' }] }, token: OPERATOR_TOKEN });
      expect(bad.status).toBe(400);
      expect((bad.json as { error: { code: string; message: string } }).error).toMatchObject({ code: 'VALIDATION_FAILED' });
      expect((bad.json as { error: { message: string } }).error.message).toMatch(/matchers\.0\.name/);
      const both = await call(url, '/admin/silences', { body: { ...silence, endsAt: 1 }, token: OPERATOR_TOKEN });
      expect(both.status).toBe(400);
      expect((both.json as { error: { message: string } }).error.message).toMatch(/endsAt/);
      const forged = await call(url, '/admin/silences', { body: { ...silence, createdBy: 'mallory' }, token: OPERATOR_TOKEN });
      expect(forged.status).toBe(400);
    });

    it('adds, lists and removes maintenance windows', async () => {
      const { url, monitor } = await start();
      const body = { name: 'nightly reindex', daily: { at: '02:00', durationMs: 30 * 60_000 }, matchers: [{ name: 'type', value: 'high-latency' }] };
      expect((await call(url, '/admin/maintenance', { body, token: READER_TOKEN })).status).toBe(403);
      const created = await call(url, '/admin/maintenance', { body, token: OPERATOR_TOKEN });
      expect(created.status).toBe(201);
      const w = created.json as { id: string; createdBy: string; nextStartAt: number };
      expect(w.createdBy).toBe('alice');
      const listed = await call(url, '/admin/maintenance', { token: READER_TOKEN });
      expect((listed.json as { windows: { id: string }[] }).windows.map((x) => x.id)).toEqual([w.id]);
      const bad = await call(url, '/admin/maintenance', { body: { ...body, daily: { at: '2am', durationMs: 1 } }, token: OPERATOR_TOKEN });
      expect(bad.status).toBe(400);
      expect((bad.json as { error: { message: string } }).error.message).toMatch(/daily\.at/);
      expect((await call(url, `/admin/maintenance/${w.id}`, { method: 'DELETE', token: OPERATOR_TOKEN })).status).toBe(200);
      expect(monitor.maintenance.list()).toEqual([]);
    });
  });
}

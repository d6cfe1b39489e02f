import { afterEach, describe, expect, it } from 'vitest';
import { createMonitor, type Monitor } from '../../../src/index.js';
import { ManualClock } from '../../../src/testing/index.js';
import { OPERATOR_TOKEN, READER_TOKEN, call, serve, type Framework, type Served, type ServeOptions } from '../harness.js';

/**
 * The same route table through every adapter: Express 5, Express 4,
 * Fastify 5 and node:http, each a real server on 127.0.0.1.
 */
export function routesSuite(framework: Framework, label: string = framework): void {
  describe(`routes through ${label}`, () => {
    let served: Served | undefined;
    afterEach(async () => {
      await served?.close();
      served = undefined;
    });

    async function start(opts: ServeOptions = {}): Promise<{ monitor: Monitor; url: string; clock: ManualClock }> {
      const clock = new ManualClock();
      const monitor = createMonitor({
        service: 'search-api',
        clock,
        slos: [{ name: 'availability', kind: 'success-rate', objective: 0.995, minSamples: 1 }],
      });
      served = await serve(framework, monitor, opts);
      return { monitor, url: served.url, clock };
    }

    it('serves GET /health to anyone', async () => {
      const { url } = await start();
      const r = await call(url, '/health');
      expect(r.status).toBe(200);
      expect(r.json).toMatchObject({ status: 'ok', service: 'search-api' });
      expect(r.headers.get('content-type')).toMatch(/^application\/json/);
    });

    it('serves the stats routes to read and operator roles only', async () => {
      const { url, monitor } = await start();
      monitor.recordRequest({ route: 'GET /search', durationMs: 120, status: 200 });
      for (const path of ['/stats/slo', '/stats/metrics']) {
        expect((await call(url, path)).status).toBe(401);
        expect((await call(url, path, { token: 'not-a-valid-token-at-all' })).status).toBe(401);
        expect((await call(url, path, { token: READER_TOKEN })).status).toBe(200);
        expect((await call(url, path, { token: OPERATOR_TOKEN })).status).toBe(200);
      }
      const slo = await call(url, '/stats/slo', { token: READER_TOKEN });
      expect(slo.json.status).toBe('ok');
      expect(slo.json.slos[0]).toMatchObject({ name: 'availability', kind: 'success-rate', status: 'ok', target: 0.995 });
      const stats = await call(url, '/stats/metrics', { token: READER_TOKEN });
      expect(stats.json.routes['GET /search'].requests).toBe(1);
    });

    it('answers 401 in the error shape with a Bearer challenge', async () => {
      const { url } = await start();
      const r = await call(url, '/stats/slo');
      expect(r.json).toEqual({ error: { code: 'UNAUTHORIZED', message: expect.any(String), details: null } });
      expect(r.headers.get('www-authenticate')).toBe('Bearer realm="firebreak"');
    });

    it('serves /metrics publicly by default, in the Prometheus text format', async () => {
      const { url, monitor } = await start();
      monitor.recordRequest({ route: 'GET /search', durationMs: 120, status: 200 });
      const r = await call(url, '/metrics');
      expect(r.status).toBe(200);
      expect(r.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
      expect(r.text).toContain('firebreak_requests_total{outcome="success",route="/search",method="GET"} 1');
    });

    it('puts /metrics behind the read role when asked', async () => {
      const { url } = await start({ http: { metricsAccess: 'read' } });
      expect((await call(url, '/metrics')).status).toBe(401);
      expect((await call(url, '/metrics', { token: READER_TOKEN })).status).toBe(200);
    });

    it('serves the audit log of admin calls to the read role, naming callers, never tokens', async () => {
      const { url } = await start();
      expect((await call(url, '/admin/audit')).status).toBe(401);
      await call(url, '/admin/audit', { token: OPERATOR_TOKEN });
      const r = await call(url, '/admin/audit', { token: READER_TOKEN });
      expect(r.status).toBe(200);
      expect(r.json.entries.map((e: { caller: string; status: number }) => [e.caller, e.status])).toEqual([
        ['anonymous', 401],
        ['alice', 200],
      ]);
      expect(r.text).not.toContain(OPERATOR_TOKEN);
    });

    it('refuses unknown query parameters with 400 naming them', async () => {
      const { url } = await start();
      const r = await call(url, '/stats/slo?debug=1', { token: READER_TOKEN });
      expect(r.status).toBe(400);
      expect(r.json.error.code).toBe('VALIDATION_FAILED');
      expect(r.json.error.message).toMatch(/debug/);
    });

    it('rate-limits admin calls per caller with 429 and Retry-After', async () => {
      const { url } = await start({ http: { adminRateLimit: { maxRequests: 2, windowMs: 60_000 } } });
      expect((await call(url, '/admin/audit', { token: READER_TOKEN })).status).toBe(200);
      expect((await call(url, '/admin/audit', { token: READER_TOKEN })).status).toBe(200);
      const limited = await call(url, '/admin/audit', { token: READER_TOKEN });
      expect(limited.status).toBe(429);
      expect(limited.headers.get('retry-after')).toBe('60');
      expect(limited.headers.get('ratelimit-remaining')).toBe('0');
      expect((await call(url, '/admin/audit', { token: OPERATOR_TOKEN })).status).toBe(200);
    });

    it('mounts under a prefix', async () => {
      const { url } = await start({ prefix: '/ops' });
      expect((await call(url, '/ops/health')).status).toBe(200);
      expect((await call(url, '/ops/stats/slo', { token: READER_TOKEN })).status).toBe(200);
      expect((await call(url, '/health')).status).toBe(404);
    });

    it('leaves paths it does not own to the host', async () => {
      const { url } = await start();
      const r = await call(url, '/hello');
      if (framework === 'node-http') expect(r.text).toBe('host 404');
      else expect(r.json).toEqual({ hello: 'world' });
    });
  });
}

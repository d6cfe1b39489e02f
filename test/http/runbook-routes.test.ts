/**
 * The routes the runbooks call that firebreak did not serve: /health/system,
 * host stats sections (/stats/device), the feature emergency stop and the
 * canary lines acting on configured targets; and the /api/v1 prefix.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createHandler } from '../../src/adapters/node-http.js';
import { HttpSurface } from '../../src/http/surface.js';
import type { HttpOptions } from '../../src/http/options.js';
import { ConfigError, createMonitor } from '../../src/index.js';
import { ManualClock } from '../../src/testing/index.js';

const OP = 'op-token-0123456789abcdef';
const RO = 'ro-token-0123456789abcdef';
const auth: HttpOptions['auth'] = {
  tokens: [
    { name: 'alice', token: OP, role: 'operator' },
    { name: 'grafana', token: RO, role: 'read' },
  ],
};

function setup(opts: Partial<HttpOptions> = {}) {
  const clock = new ManualClock();
  const monitor = createMonitor({ service: 'api', clock });
  const surface = new HttpSurface(monitor, { auth, ...opts } as HttpOptions);
  const call = async (method: string, path: string, token: string | null = RO, body?: string) => {
    const m = surface.match(method, path);
    if (m === undefined) throw new Error(`no route ${method} ${path}`);
    const headers: Record<string, string> = token === null ? {} : { authorization: `Bearer ${token}` };
    if (body !== undefined) headers['content-type'] = 'application/json';
    const reply = await surface.handle(m.route, {
      method,
      path,
      params: m.params,
      search: '',
      headers,
      body: body === undefined ? { kind: 'none' } : { kind: 'bytes', bytes: body },
      ip: '10.0.0.1',
      raw: {},
    });
    return { status: reply.status, json: JSON.parse(reply.body) as Record<string, any> };
  };
  return { clock, monitor, call };
}

describe('GET /health/system', () => {
  it('reports memory, CPU, event loop, uptime and versions to the read role', async () => {
    const { call } = setup();
    const r = await call('GET', '/health/system');
    expect(r.status).toBe(200);
    expect(r.json['memory'].rss).toBeGreaterThan(0);
    expect(r.json['memory'].heapUsed).toBeLessThanOrEqual(r.json['memory'].heapLimit);
    expect(r.json['versions'].node).toBe(process.versions.node);
    expect(typeof r.json['uptimeSeconds']).toBe('number');
    expect(r.json['cpu'].cores).toBeGreaterThan(0);
  });

  it('is not public: versions and memory are reconnaissance (401 without a token)', async () => {
    const { call } = setup();
    const r = await call('GET', '/health/system', null);
    expect(r.status).toBe(401);
    expect(r.json['error'].code).toBe('UNAUTHORIZED');
  });
});

describe('host stats sections: GET /stats/:section', () => {
  it("serves a registered provider's value with the read role, and 401 without a token", async () => {
    const { call } = setup({ statsSections: { device: () => ({ gpu: 'A10', model: 'cross-encoder', loaded: true }) } });
    const r = await call('GET', '/stats/device');
    expect(r.status).toBe(200);
    expect(r.json).toMatchObject({ service: 'api', section: 'device', stats: { gpu: 'A10', loaded: true } });
    expect((await call('GET', '/stats/device', null)).status).toBe(401);
  });

  it('answers 404 NOT_FOUND for a section nobody registered; built-in sections still win', async () => {
    const { call } = setup({ statsSections: { device: () => 1 } });
    const r = await call('GET', '/stats/gpu');
    expect(r.status).toBe(404);
    expect(r.json['error'].code).toBe('NOT_FOUND');
    expect((await call('GET', '/stats/slo')).json['slos']).toBeDefined();
  });

  it('contains a throwing or rejecting provider (500 STATS_SECTION_FAILED naming the section)', async () => {
    const { call } = setup({
      statsSections: {
        thrower: () => {
          throw new Error('nvidia-smi not found');
        },
        rejecter: () => Promise.reject(new Error('driver gone')),
      },
    });
    for (const name of ['thrower', 'rejecter']) {
      const r = await call('GET', `/stats/${name}`);
      expect(r.status).toBe(500);
      expect(r.json['error'].code).toBe('STATS_SECTION_FAILED');
      expect(r.json['error'].details).toEqual({ section: name });
    }
  });

  it('times a hanging provider out on the monitor clock (504 STATS_SECTION_TIMEOUT)', async () => {
    const { call, clock } = setup({ statsSections: { hang: () => new Promise(() => {}) }, statsSectionTimeoutMs: 500 });
    const before = clock.pendingTimers();
    const pending = call('GET', '/stats/hang');
    // Let the request reach the provider (auth, validation) before the clock moves.
    for (let i = 0; i < 100 && clock.pendingTimers() === before; i++) await Promise.resolve();
    await clock.advanceAsync(500);
    const r = await pending;
    expect(r.status).toBe(504);
    expect(r.json['error'].code).toBe('STATS_SECTION_TIMEOUT');
  });

  it('refuses an oversized, cyclic or unserialisable result instead of sending it', async () => {
    const cyclic: Record<string, unknown> = {};
    cyclic['self'] = cyclic;
    const { call } = setup({
      statsSectionMaxBytes: 1_000,
      statsSections: { big: () => ({ blob: 'x'.repeat(5_000) }), cyclic: () => cyclic, bigint: () => ({ n: 10n }) },
    });
    for (const name of ['big', 'cyclic', 'bigint']) {
      const r = await call('GET', `/stats/${name}`);
      expect(r.status, name).toBe(500);
      expect(r.json['error'].code, name).toBe('STATS_SECTION_FAILED');
    }
  });

  it('refuses a section named like a built-in one or not a function (ConfigError)', () => {
    const monitor = createMonitor({ service: 'api', clock: new ManualClock() });
    expect(() => new HttpSurface(monitor, { auth, statsSections: { slo: () => 1 } })).toThrow(ConfigError);
    expect(() => new HttpSurface(monitor, { auth, statsSections: { device: 1 as never } })).toThrow(ConfigError);
  });
});

describe('the runbook canary lines', () => {
  it('POST /admin/features/emergency-stop turns off every risky feature, and only those', async () => {
    const { monitor, call } = setup();
    const rerank = monitor.feature('rerank', { risky: true });
    const search = monitor.feature('search');
    const r = await call('POST', '/admin/features/emergency-stop', OP);
    expect(r.status).toBe(200);
    expect(rerank.isEnabled()).toBe(false);
    expect(search.isEnabled()).toBe(true);
    expect((await call('POST', '/admin/features/emergency-stop', RO)).status).toBe(403);
  });

  it('without a canary on the service and no targets, the canary lines still answer 404', async () => {
    const { call } = setup();
    expect((await call('POST', '/admin/canary/disable', OP)).status).toBe(404);
  });

  it('with canaryRoutes, disable forces the named fallback and emergency-stop turns off risky features, every step audited', async () => {
    const { monitor, call } = setup({ canaryRoutes: { disable: { fallbacks: ['reranker'] }, emergencyStop: { riskyFeatures: true } } });
    const reranker = monitor.fallback('reranker', { primary: async () => 'cross-encoder', fallback: async () => 'hybrid' });
    const rerank = monitor.feature('rerank', { risky: true });
    const canary = monitor.canary('v2', { percent: 10 });
    const d = await call('POST', '/admin/canary/disable', OP);
    expect(d.status).toBe(200);
    expect(await reranker.run()).toBe('hybrid');
    expect(canary.stats().percent).toBe(0);
    expect(d.json['steps'].map((s: { action: string }) => s.action)).toEqual(['canary.disable', 'model.fallback']);
    const e = await call('POST', '/admin/canary/emergency-stop', OP);
    expect(e.status).toBe(200);
    expect(canary.stats().stopped).toBe(true);
    expect(rerank.isEnabled()).toBe(false);
    expect(new Set(monitor.actions.audit({ by: 'alice' }).map((a) => a.action))).toEqual(
      new Set(['canary.disable', 'model.fallback', 'canary.emergency-stop', 'feature.emergency-stop']),
    );
  });

  it('a configured target that does not exist fails that step (500 listing every step) without stopping the others', async () => {
    const { monitor, call } = setup({ canaryRoutes: { disable: { fallbacks: ['missing'], features: ['rerank'] } } });
    const rerank = monitor.feature('rerank');
    const r = await call('POST', '/admin/canary/disable', OP);
    expect(r.status).toBe(500);
    expect(r.json['error'].code).toBe('ACTION_FAILED');
    expect(rerank.isEnabled()).toBe(false);
  });

  it('naming a canary keeps the single-canary behaviour', async () => {
    const { monitor, call } = setup({ canaryRoutes: { disable: { fallbacks: ['reranker'] } } });
    const reranker = monitor.fallback('reranker', { primary: async () => 'p', fallback: async () => 'f' });
    monitor.canary('v2', { percent: 10 });
    const r = await call('POST', '/admin/canary/disable', OP, '{"canary":"v2"}');
    expect(r.status).toBe(200);
    expect(r.json['action']).toBe('canary.disable');
    expect(await reranker.run()).toBe('p');
  });
});

describe('the /api/v1 prefix (node:http)', () => {
  let server: Server | undefined;
  afterEach(async () => {
    server?.closeAllConnections();
    await new Promise((r) => (server === undefined ? r(undefined) : server.close(r)));
    server = undefined;
  });

  it('serves the health routes under the prefix: GET /api/v1/health/ready', async () => {
    const monitor = createMonitor({ service: 'api', clock: new ManualClock() });
    server = createServer(createHandler(monitor, { auth, prefix: '/api/v1' }));
    await new Promise<void>((r) => server!.listen(0, '127.0.0.1', () => r()));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const ready = await fetch(`${base}/api/v1/health/ready`);
    expect(ready.status).toBe(200);
    expect(((await ready.json()) as { service: string }).service).toBe('api');
    expect((await fetch(`${base}/api/v1/health/system`, { headers: { authorization: `Bearer ${RO}` } })).status).toBe(200);
  });
});

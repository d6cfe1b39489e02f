import type { AddressInfo } from 'node:net';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { createMonitor, ConfigError, type Monitor } from '../../src/index.js';
import { ManualClock } from '../../src/testing/index.js';
import firebreakPlugin, { firebreakPlugin as named } from '../../src/adapters/fastify.js';
import { AUTH, READER_TOKEN, abandonedGet, call, nextRecords, serve, type Served } from './harness.js';
import { bodiesSuite } from './suites/bodies.js';
import { controlsSuite } from './suites/controls.js';
import { incidentsSuite } from './suites/incidents.js';
import { routesSuite } from './suites/routes.js';
import { routeTemplatesSuite } from './suites/route-templates.js';

routesSuite('fastify', 'Fastify 5');
routeTemplatesSuite('fastify', 'Fastify 5');
incidentsSuite('fastify', 'Fastify 5');
controlsSuite('fastify', 'Fastify 5');
bodiesSuite('fastify', 'Fastify 5');

describe('Fastify plugin', () => {
  let served: Served | undefined;
  let app: FastifyInstance | undefined;
  afterEach(async () => {
    await served?.close();
    await app?.close();
    served = undefined;
    app = undefined;
  });

  const monitor = (): Monitor => createMonitor({ service: 'api', clock: new ManualClock() });

  async function listen(a: FastifyInstance): Promise<string> {
    app = a;
    await a.listen({ port: 0, host: '127.0.0.1' });
    return `http://127.0.0.1:${(a.server.address() as AddressInfo).port}`;
  }

  it('is a fastify-plugin plugin named firebreak for Fastify 5', () => {
    const meta = (firebreakPlugin as unknown as Record<symbol, unknown>)[Symbol.for('plugin-meta')];
    expect(meta).toMatchObject({ name: 'firebreak', fastify: '5.x' });
    expect((firebreakPlugin as unknown as Record<symbol, unknown>)[Symbol.for('skip-override')]).toBe(true);
    expect(named).toBe(firebreakPlugin);
  });

  it('records by URL pattern with reply.elapsedTime and the status', async () => {
    const m = monitor();
    served = await serve('fastify', m);
    const recorded = nextRecords(m, 3);
    await call(served.url, '/users/1');
    await call(served.url, '/boom');
    await call(served.url, '/no/such/route');
    const recs = await recorded;
    expect(recs.map((r) => [r.route, r.status])).toEqual([
      ['GET /users/:id', 200],
      ['GET /boom', 500],
      ['not-found', 404],
    ]);
    // elapsedTime is Fastify's own measurement (real time): present and sane.
    for (const r of recs) expect(r.durationMs).toBeGreaterThan(0);
    expect(m.stats().routes['GET /boom']?.failures).toBe(1);
  });

  it('records a request the client abandoned, as status 499', async () => {
    const clock = new ManualClock();
    const m = createMonitor({ service: 'api', clock });
    served = await serve('fastify', m);
    const recorded = nextRecords(m);
    await abandonedGet(served, '/slow');
    clock.advance(2_000);
    expect((await recorded)[0]).toEqual({ route: 'GET /slow', durationMs: 2_000, status: 499 });
    served.release();
  });

  it('records only the context it is registered in (encapsulation)', async () => {
    const m = monitor();
    const a = Fastify();
    await a.register(async (child) => {
      await child.register(firebreakPlugin, { monitor: m, routes: false });
      child.get('/inside', async () => 'in');
    });
    a.get('/outside', async () => 'out');
    const url = await listen(a);
    const recorded = nextRecords(m);
    await call(url, '/outside');
    await call(url, '/inside');
    expect((await recorded)[0]!.route).toBe('GET /inside');
    expect(Object.keys(m.stats().routes)).toEqual(['GET /inside']);
  });

  it("keeps its body parser and error handler to its own routes", async () => {
    const m = monitor();
    const a = Fastify();
    await a.register(firebreakPlugin, { monitor: m, auth: AUTH, prefix: '/ops' });
    a.post('/echo', async (req) => ({ got: req.body }));
    a.setErrorHandler((_err, _req, reply) => reply.code(418).send('host handler'));
    a.get('/teapot', async () => {
      throw new Error('x');
    });
    const url = await listen(a);
    const echo = await call(url, '/echo', { body: { a: 1 } });
    expect(echo.json).toEqual({ got: { a: 1 } });
    expect((await call(url, '/teapot')).status).toBe(418);
    expect((await call(url, '/ops/stats/slo', { token: READER_TOKEN })).status).toBe(200);
  });

  it('lets two monitors record the same app', async () => {
    const a = monitor();
    const b = monitor();
    const f = Fastify();
    await f.register(firebreakPlugin, { monitor: a, routes: false });
    await f.register(firebreakPlugin, { monitor: b, routes: false });
    f.get('/x', async () => 'x');
    const url = await listen(f);
    const ra = nextRecords(a);
    const rb = nextRecords(b);
    await call(url, '/x');
    expect((await ra)[0]!.route).toBe('GET /x');
    expect((await rb)[0]!.route).toBe('GET /x');
  });

  it("accepts prefix '/' as the root", async () => {
    const m = monitor();
    const a = Fastify();
    await a.register(firebreakPlugin, { monitor: m, auth: AUTH, prefix: '/' });
    const url = await listen(a);
    expect((await call(url, '/health')).status).toBe(200);
  });

  it('fails registration with a ConfigError when auth is missing, unless routes are off', async () => {
    const a = Fastify();
    await expect(a.register(firebreakPlugin, { monitor: monitor() } as never)).rejects.toThrow(ConfigError);
    await a.close();
    const b = Fastify();
    await expect(b.register(firebreakPlugin, { monitor: monitor(), routes: false })).resolves.toBeDefined();
    await b.close();
  });

  it('refuses a missing monitor and unknown options', async () => {
    const a = Fastify();
    await expect(a.register(firebreakPlugin, { auth: AUTH } as never)).rejects.toThrow(/monitor/);
    await a.close();
    const a2 = Fastify();
    await expect(a2.register(firebreakPlugin, { auth: AUTH } as never)).rejects.toThrow(ConfigError);
    await a2.close();
    const b = Fastify();
    await expect(b.register(firebreakPlugin, { monitor: monitor(), auth: AUTH, bogus: 1 } as never)).rejects.toThrow(/bogus/);
    await b.close();
    const b2 = Fastify();
    await expect(b2.register(firebreakPlugin, { monitor: monitor(), auth: AUTH, bogus: 1 } as never)).rejects.toThrow(ConfigError);
    await b2.close();
  });
});

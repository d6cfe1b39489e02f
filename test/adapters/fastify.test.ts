import type { AddressInfo } from 'node:net';
import { Agent, request as httpRequest } from 'node:http';
import Fastify, { type FastifyInstance, type FastifyRequest } from 'fastify';
import { afterEach, describe, expect, it, vi } from 'vitest';
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

describe('Fastify plugin: route names and abort tracking cost (issue 14)', () => {
  let app: FastifyInstance | undefined;
  let agent: Agent | undefined;
  afterEach(async () => {
    agent?.destroy();
    await app?.close();
    app = undefined;
    agent = undefined;
  });

  async function listen(a: FastifyInstance): Promise<string> {
    app = a;
    await a.listen({ port: 0, host: '127.0.0.1' });
    return `http://127.0.0.1:${(a.server.address() as AddressInfo).port}`;
  }

  // GET over one kept-alive connection; resolves with the status once the body is read.
  function get(url: string, a: Agent, method = 'GET'): Promise<number> {
    return new Promise((resolve, reject) => {
      const req = httpRequest(url, { agent: a, method }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      });
      req.on('error', reject);
      req.end();
    });
  }

  it('names routes declared before and after the plugin, multi-method routes and not-found alike', async () => {
    const m = createMonitor({ service: 'api', clock: new ManualClock() });
    const a = Fastify();
    a.get('/before/:id', async () => 'b'); // declared before the plugin's onRoute hook exists
    await a.register(firebreakPlugin, { monitor: m, routes: false });
    a.get('/after/:id', async () => 'a');
    a.route({ method: ['GET', 'POST'], url: '/both', handler: async () => 'x' });
    await a.register(async (child) => child.get('/child', async () => 'c'), { prefix: '/p' });
    const url = await listen(a);
    agent = new Agent({ keepAlive: true, maxSockets: 1 });
    const recorded = nextRecords(m, 7);
    for (const [path, method] of [['/before/1', 'GET'], ['/before/2', 'GET'], ['/after/1', 'GET'], ['/both', 'GET'], ['/both', 'POST'], ['/p/child', 'GET'], ['/nope', 'GET']] as const) {
      await get(url + path, agent, method);
    }
    expect((await recorded).map((r) => r.route)).toEqual(['GET /before/:id', 'GET /before/:id', 'GET /after/:id', 'GET /both', 'POST /both', 'GET /p/child', 'not-found']);
  });

  it('names by URL pattern only with includeMethod: false, per registration', async () => {
    const a = createMonitor({ service: 'api', clock: new ManualClock() });
    const b = createMonitor({ service: 'api', clock: new ManualClock() });
    const f = Fastify();
    await f.register(firebreakPlugin, { monitor: a, routes: false, includeMethod: false });
    await f.register(firebreakPlugin, { monitor: b, routes: false });
    f.get('/x/:id', async () => 'x');
    const url = await listen(f);
    agent = new Agent({ keepAlive: true, maxSockets: 1 });
    const ra = nextRecords(a);
    const rb = nextRecords(b);
    await get(url + '/x/1', agent);
    expect((await ra)[0]!.route).toBe('/x/:id');
    expect((await rb)[0]!.route).toBe('GET /x/:id');
  });

  it('adds no close listener per request: one per kept-alive connection, however many requests it serves', async () => {
    const m = createMonitor({ service: 'api', clock: new ManualClock() });
    const plain = Fastify();
    const counts: { request: number; socket: number }[] = [];
    const handler = async (request: FastifyRequest) => {
      counts.push({ request: request.raw.listenerCount('close'), socket: request.raw.socket.listenerCount('close') });
      return 'ok';
    };
    plain.get('/x', handler);
    await plain.ready();
    const plainUrl = await listen(plain);
    agent = new Agent({ keepAlive: true, maxSockets: 1 });
    for (let i = 0; i < 3; i++) await get(plainUrl + '/x', agent);
    const baseline = counts.splice(0);
    agent.destroy();
    await plain.close();

    const f = Fastify();
    await f.register(firebreakPlugin, { monitor: m, routes: false });
    f.get('/x', handler);
    const url = await listen(f);
    agent = new Agent({ keepAlive: true, maxSockets: 1 });
    const recorded = nextRecords(m, 20);
    for (let i = 0; i < 20; i++) expect(await get(url + '/x', agent)).toBe(200);
    expect((await recorded).every((r) => r.status === 200)).toBe(true);
    // Per request: exactly what plain Fastify adds. Per connection: one more listener, once.
    for (const c of counts) expect(c.request).toBe(baseline[0]!.request);
    for (const c of counts) expect(c.socket).toBe(baseline[0]!.socket + 1);
  });

  it('records a completed request once and an abandoned one on the same connection as 499 once', async () => {
    const clock = new ManualClock();
    const m = createMonitor({ service: 'api', clock });
    const f = Fastify();
    await f.register(firebreakPlugin, { monitor: m, routes: false });
    let arrived!: () => void;
    const slowArrived = new Promise<void>((r) => (arrived = r));
    let release!: () => void;
    const released = new Promise<void>((r) => (release = r));
    f.get('/fast', async () => 'fast');
    f.get('/slow', async () => {
      arrived();
      await released;
      return 'late';
    });
    const url = await listen(f);
    agent = new Agent({ keepAlive: true, maxSockets: 1 });
    const seen: { route: string; status: number; durationMs: number }[] = [];
    const original = m.recordRequest.bind(m);
    m.recordRequest = (r) => {
      seen.push({ route: r.route, status: r.status ?? 0, durationMs: r.durationMs });
      original(r);
    };
    expect(await get(url + '/fast', agent)).toBe(200);
    const slow = httpRequest(url + '/slow', { agent });
    slow.on('error', () => {});
    slow.end();
    await slowArrived;
    clock.advance(1_250);
    slow.destroy();
    await vi.waitFor(() => expect(seen).toHaveLength(2), { timeout: 5_000 });
    release();
    await f.close();
    app = undefined;
    expect(seen[0]).toMatchObject({ route: 'GET /fast', status: 200 });
    expect(seen[1]).toEqual({ route: 'GET /slow', status: 499, durationMs: 1_250 });
    expect(seen).toHaveLength(2);
  });

  it('records an abandoned request as 499 in each of two monitors registered on one app', async () => {
    const clock = new ManualClock();
    const a = createMonitor({ service: 'api', clock });
    const b = createMonitor({ service: 'api', clock });
    const f = Fastify();
    await f.register(firebreakPlugin, { monitor: a, routes: false });
    await f.register(firebreakPlugin, { monitor: b, routes: false });
    let arrived!: () => void;
    const slowArrived = new Promise<void>((r) => (arrived = r));
    let release!: () => void;
    const released = new Promise<void>((r) => (release = r));
    f.get('/slow', async () => {
      arrived();
      await released;
      return 'late';
    });
    const url = await listen(f);
    const ra = nextRecords(a);
    const rb = nextRecords(b);
    const slow = httpRequest(url + '/slow');
    slow.on('error', () => {});
    slow.end();
    await slowArrived;
    clock.advance(700);
    slow.destroy();
    expect((await ra)[0]).toEqual({ route: 'GET /slow', durationMs: 700, status: 499 });
    expect((await rb)[0]).toEqual({ route: 'GET /slow', durationMs: 700, status: 499 });
    release();
  });
});

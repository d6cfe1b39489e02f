import { describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import { createMonitor, ConfigError, NotFoundError, FirebreakError } from '../../src/index.js';
import { ManualClock } from '../../src/testing/index.js';
import { HttpSurface, type HttpInput } from '../../src/http/surface.js';
import { defineRoute, type AnyRoute } from '../../src/http/route.js';
import { STATUS_BY_CODE, mapError } from '../../src/http/errors.js';
import { builtinRoutes } from '../../src/http/routes/index.js';
import type { HttpOptions } from '../../src/http/options.js';

const OP = 'op-token-0123456789abcdef';
const RO = 'ro-token-0123456789abcdef';
const auth: HttpOptions['auth'] = {
  tokens: [
    { name: 'alice', token: OP, role: 'operator' },
    { name: 'grafana', token: RO, role: 'read' },
  ],
};

const echo = defineRoute({
  method: 'POST',
  path: '/admin/echo/:name',
  access: 'operator',
  summary: 'test route',
  params: z.strictObject({ name: z.string().max(10) }),
  body: z.strictObject({ n: z.number().int() }),
  handler: ({ params, body, caller }) => ({ json: { name: params.name, n: body.n, by: caller.name } }),
});
const failing = (err: unknown): AnyRoute =>
  defineRoute({
    method: 'GET',
    path: '/admin/fail',
    access: 'read',
    summary: 'throws',
    handler: () => {
      throw err;
    },
  });

function setup(opts: Partial<HttpOptions> = {}, routes: AnyRoute[] = [...builtinRoutes, echo]) {
  const clock = new ManualClock();
  const monitor = createMonitor({ service: 'api', clock });
  const surface = new HttpSurface(monitor, { auth, ...opts } as HttpOptions, routes);
  const send = async (method: string, path: string, init: { token?: string; body?: string; search?: string; ip?: string } = {}) => {
    const m = surface.match(method, path);
    if (m === undefined) throw new Error(`no route ${method} ${path}`);
    const headers: Record<string, string> = {};
    if (init.token !== undefined) headers['authorization'] = `Bearer ${init.token}`;
    if (init.body !== undefined) headers['content-type'] = 'application/json';
    const input: HttpInput = {
      method,
      path,
      params: m.params,
      search: init.search ?? '',
      headers,
      body: init.body === undefined ? { kind: 'none' } : { kind: 'bytes', bytes: init.body },
      ip: init.ip ?? '10.0.0.1',
      raw: {},
    };
    const reply = await surface.handle(m.route, input);
    return { ...reply, json: JSON.parse(reply.body) };
  };
  return { clock, monitor, surface, send };
}

describe('the route table', () => {
  it('prefers static segments over parameters and decodes parameters', () => {
    const { surface } = setup();
    expect(surface.match('POST', '/admin/echo/a%20b')?.params).toEqual({ name: 'a b' });
    expect(surface.match('GET', '/stats/slo')?.route.path).toBe('/stats/slo');
    expect(surface.match('HEAD', '/health')?.route.path).toBe('/health');
    expect(surface.match('DELETE', '/health')).toBeUndefined();
    expect(() => surface.match('POST', '/admin/echo/%E0%A4%A')).toThrow(FirebreakError);
  });

  it('throws a ConfigError at creation when auth is missing', () => {
    const monitor = createMonitor({ service: 'api', clock: new ManualClock() });
    expect(() => new HttpSurface(monitor, {} as HttpOptions)).toThrow(ConfigError);
  });

  it("warns once per monitor when mounted with auth: 'none'", () => {
    const monitor = createMonitor({ service: 'api', clock: new ManualClock() });
    const logger = { warn: vi.fn() };
    new HttpSurface(monitor, { auth: 'none', logger });
    new HttpSurface(monitor, { auth: 'none', logger });
    expect(logger.warn).toHaveBeenCalledTimes(1);
    expect(logger.warn.mock.calls[0]![0]).toMatch(/auth: 'none'/);
  });
});

describe('roles and errors', () => {
  it('runs an operator route for an operator, 403 for a reader, 401 without a token', async () => {
    const { send } = setup();
    const ok = await send('POST', '/admin/echo/x', { token: OP, body: '{"n":1}' });
    expect(ok.status).toBe(200);
    expect(ok.json).toEqual({ name: 'x', n: 1, by: 'alice' });
    const forbidden = await send('POST', '/admin/echo/x', { token: RO, body: '{"n":1}' });
    expect(forbidden.status).toBe(403);
    expect(forbidden.json.error.code).toBe('FORBIDDEN');
    const anonymous = await send('POST', '/admin/echo/x', { body: '{"n":1}' });
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers['www-authenticate']).toBe('Bearer realm="firebreak"');
  });

  it('answers 400 with field paths for bad params, query and bodies', async () => {
    const { send } = setup();
    const badParam = await send('POST', '/admin/echo/much-too-long-name', { token: OP, body: '{"n":1}' });
    expect(badParam.status).toBe(400);
    expect(badParam.json.error.details[0].path).toBe('name');
    const badBody = await send('POST', '/admin/echo/x', { token: OP, body: '{"n":"one"}' });
    expect(badBody.status).toBe(400);
    expect(badBody.json.error).toMatchObject({ code: 'VALIDATION_FAILED', details: [{ path: 'n' }] });
    const unknownField = await send('POST', '/admin/echo/x', { token: OP, body: '{"n":1,"admin":true}' });
    expect(unknownField.status).toBe(400);
    expect(unknownField.json.error.details[0].message).toMatch(/admin/);
    const badQuery = await send('GET', '/stats/slo', { token: RO, search: '?verbose=1' });
    expect(badQuery.status).toBe(400);
    expect(badQuery.json.error.message).toMatch(/verbose/);
  });

  it('maps every error code through one table and hides unknown errors', async () => {
    expect(STATUS_BY_CODE['INVALID_TRANSITION']).toBe(409);
    expect(STATUS_BY_CODE['constructor']).toBeUndefined();
    const notFound = await setup({}, [failing(new NotFoundError('incident', 'inc_1'))]).send('GET', '/admin/fail', { token: RO });
    expect(notFound.status).toBe(404);
    expect(notFound.json).toEqual({ error: { code: 'NOT_FOUND', message: 'Unknown incident: inc_1', details: { kind: 'incident', id: 'inc_1' } } });
    const conflict = await setup({}, [failing(new FirebreakError('INVALID_TRANSITION', 'already resolved'))]).send('GET', '/admin/fail', { token: RO });
    expect(conflict.status).toBe(409);
    expect(conflict.json.error.details).toBeNull();
    const internal = await setup({}, [failing(new Error('db password is hunter2'))]).send('GET', '/admin/fail', { token: RO });
    expect(internal.status).toBe(500);
    expect(internal.body).not.toContain('hunter2');
    expect(mapError('a string').status).toBe(500);
  });

  it('marks every response no-store and nosniff', async () => {
    const { send } = setup();
    const r = await send('GET', '/health');
    expect(r.headers['cache-control']).toBe('no-store');
    expect(r.headers['x-content-type-options']).toBe('nosniff');
  });
});

describe('per-caller rate limit of admin routes', () => {
  it('refuses the caller over the limit with 429, Retry-After and RateLimit headers, until the window passes', async () => {
    const { send, clock } = setup({ adminRateLimit: { maxRequests: 3, windowMs: 60_000 } });
    for (let i = 0; i < 3; i++) {
      const r = await send('GET', '/admin/audit', { token: RO });
      expect(r.status).toBe(200);
      expect(r.headers['ratelimit-remaining']).toBe(String(2 - i));
    }
    clock.advance(15_000);
    const limited = await send('GET', '/admin/audit', { token: RO });
    expect(limited.status).toBe(429);
    expect(limited.json.error.code).toBe('RATE_LIMITED');
    expect(limited.headers['retry-after']).toBe('45');
    expect(limited.headers['ratelimit-limit']).toBe('3');
    expect(limited.headers['ratelimit-remaining']).toBe('0');
    expect(limited.headers['ratelimit-reset']).toBe('45');
    // Another caller has its own budget.
    expect((await send('GET', '/admin/audit', { token: OP })).status).toBe(200);
    clock.advance(45_000);
    expect((await send('GET', '/admin/audit', { token: RO })).status).toBe(200);
  });

  it('does not limit stats, health or metrics', async () => {
    const { send } = setup({ adminRateLimit: { maxRequests: 1, windowMs: 60_000 } });
    for (let i = 0; i < 5; i++) expect((await send('GET', '/stats/slo', { token: RO })).status).toBe(200);
  });

  it('throttles an address after repeated failed authentications, even with a good token', async () => {
    const { send, clock } = setup({ adminRateLimit: { maxRequests: 100, windowMs: 60_000, maxAuthFailures: 3 } });
    for (let i = 0; i < 3; i++) expect((await send('GET', '/stats/slo', { token: `guess-${i}-0123456789abcdef`, ip: '6.6.6.6' })).status).toBe(401);
    expect((await send('GET', '/stats/slo', { token: 'guess-x-0123456789abcdef', ip: '6.6.6.6' })).status).toBe(429);
    expect((await send('GET', '/stats/slo', { token: RO, ip: '6.6.6.6' })).status).toBe(429);
    expect((await send('GET', '/stats/slo', { token: RO, ip: '10.1.1.1' })).status).toBe(200);
    clock.advance(60_000);
    expect((await send('GET', '/stats/slo', { token: RO, ip: '6.6.6.6' })).status).toBe(200);
  });

  it('can be turned off', async () => {
    const { send } = setup({ adminRateLimit: false });
    for (let i = 0; i < 200; i++) expect((await send('GET', '/admin/audit', { token: RO })).status).toBe(200);
  });
});

describe('admin audit', () => {
  it('records every admin call with the caller name and validated body, never the token', async () => {
    const { send, surface, clock } = setup();
    clock.set(1_000_000);
    await send('POST', '/admin/echo/x', { token: OP, body: '{"n":7}' });
    await send('POST', '/admin/echo/x', { token: RO, body: '{"n":8}' });
    await send('POST', '/admin/echo/x', { token: 'wrong-token-0123456789', body: '{"n":9}' });
    await send('GET', '/stats/slo', { token: RO }); // not an admin route
    const entries = surface.audit.list();
    expect(entries.map((e) => [e.caller, e.status, e.code])).toEqual([
      ['alice', 200, undefined],
      ['grafana', 403, 'FORBIDDEN'],
      ['anonymous', 401, 'UNAUTHORIZED'],
    ]);
    expect(entries[0]).toMatchObject({ at: 1_000_000, method: 'POST', route: '/admin/echo/:name', path: '/admin/echo/x', params: { name: 'x' }, body: { n: 7 } });
    expect(entries[1]!.body).toBeUndefined();
    const serialized = JSON.stringify(entries);
    expect(serialized).not.toContain(OP);
    expect(serialized).not.toContain(RO);
    expect(serialized).not.toContain('wrong-token');
  });

  it('is served at GET /admin/audit with filters, and shared by every mount of the monitor', async () => {
    const { send, monitor } = setup();
    await send('POST', '/admin/echo/a', { token: OP, body: '{"n":1}' });
    const second = new HttpSurface(monitor, { auth }, [...builtinRoutes, echo]);
    expect(second.audit.list()).toHaveLength(1);
    const r = await send('GET', '/admin/audit', { token: RO, search: '?caller=alice&limit=5' });
    expect(r.status).toBe(200);
    expect(r.json.entries).toHaveLength(1);
    expect(r.json.entries[0].caller).toBe('alice');
    expect((await send('GET', '/admin/audit', { token: RO, search: '?limit=-1' })).status).toBe(400);
  });

  it('is bounded: the oldest entries are dropped and counted', async () => {
    const { send, surface } = setup({ auditLimit: 3 });
    for (let n = 0; n < 5; n++) await send('POST', '/admin/echo/x', { token: OP, body: `{"n":${n}}` });
    expect(surface.audit.list().map((e) => (e.body as { n: number }).n)).toEqual([2, 3, 4]);
    expect(surface.audit.dropped).toBe(2);
  });

  it('passes entries to onAudit and contains its errors', async () => {
    const seen: string[] = [];
    const { send, surface } = setup({
      onAudit: (e) => {
        seen.push(e.caller);
        throw new Error('log shipper down');
      },
    });
    const r = await send('POST', '/admin/echo/x', { token: OP, body: '{"n":1}' });
    expect(r.status).toBe(200);
    expect(seen).toEqual(['alice']);
    expect(surface.audit.listenerErrors).toBe(1);
  });
});

describe('readiness', () => {
  it('joins a run in progress and reuses a report for readyCacheMs, on the monitor clock', async () => {
    const { send, monitor, clock } = setup({ readyCacheMs: 1_000 });
    let runs = 0;
    monitor.healthCheck('db', () => {
      runs++;
      return true;
    });
    const [a, b] = await Promise.all([send('GET', '/health/ready'), send('GET', '/health/ready')]);
    expect([a.status, b.status]).toEqual([200, 200]);
    expect(runs).toBe(1);
    clock.advance(999);
    await send('GET', '/health/ready');
    expect(runs).toBe(1);
    clock.advance(1);
    await send('GET', '/health/ready');
    expect(runs).toBe(2);
  });

  it('runs every time with readyCacheMs: 0', async () => {
    const { send, monitor } = setup({ readyCacheMs: 0 });
    let runs = 0;
    monitor.healthCheck('db', () => {
      runs++;
      return true;
    });
    await send('GET', '/health/ready');
    await send('GET', '/health/ready');
    expect(runs).toBe(2);
  });
});

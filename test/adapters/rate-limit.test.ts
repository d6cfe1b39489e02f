import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/errors.js';
import { firebreakRateLimit } from '../../src/adapters/express.js';
import { rateLimitHook } from '../../src/adapters/fastify.js';
import type { LimiterLike } from '../../src/http/rate-limit.js';
import { createMonitor } from '../../src/index.js';
import { ManualClock } from '../../src/testing/index.js';
import { firebreakMiddleware } from '../../src/adapters/express.js';
import firebreakPlugin from '../../src/adapters/fastify.js';
import { call, nextRecords } from './harness.js';

/** A fixed-window limiter of `max` per key, with a window the test controls. */
function fakeLimiter(max: number): LimiterLike & { counts: Map<string, number> } {
  const counts = new Map<string, number>();
  return {
    name: 'api',
    counts,
    check(key) {
      const n = (counts.get(key) ?? 0) + 1;
      counts.set(key, n);
      const allowed = n <= max;
      return { allowed, remaining: Math.max(0, max - n), retryAfterMs: allowed ? 0 : 30_500, limit: max, resetMs: 30_500 };
    },
    current: () => ({ maxRequests: max, windowSeconds: 60 }),
  };
}

describe('rate-limit helpers', () => {
  let server: Server | undefined;
  let app: FastifyInstance | undefined;
  afterEach(async () => {
    server?.closeAllConnections();
    await new Promise((r) => (server ? server.close(r) : r(undefined)));
    await app?.close();
    server = undefined;
    app = undefined;
  });

  async function expressApp(mw: express.RequestHandler): Promise<string> {
    const a = express();
    a.get('/open', (_q, s) => void s.send('open'));
    a.use('/api', mw);
    a.get('/api/search', (_q, s) => void s.json({ ok: true }));
    server = createServer(a);
    await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r));
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }

  async function fastifyApp(hook: ReturnType<typeof rateLimitHook>): Promise<string> {
    app = Fastify();
    app.get('/open', async () => 'open');
    app.get('/api/search', { onRequest: hook }, async () => ({ ok: true }));
    await app.listen({ port: 0, host: '127.0.0.1' });
    return `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
  }

  const frameworks = [
    ['Express', (l: LimiterLike, o?: { key?: (req: never) => string }) => expressApp(firebreakRateLimit(l, o as never))],
    ['Fastify', (l: LimiterLike, o?: { key?: (req: never) => string }) => fastifyApp(rateLimitHook(l, o as never))],
  ] as const;

  it.each(frameworks)('%s: 429 with Retry-After and RateLimit headers once over the limit', async (_name, start) => {
    const url = await start(fakeLimiter(2));
    const first = await call(url, '/api/search');
    expect(first.status).toBe(200);
    expect(first.headers.get('ratelimit-limit')).toBe('2');
    expect(first.headers.get('ratelimit-remaining')).toBe('1');
    expect(first.headers.get('ratelimit-policy')).toBe('2;w=60');
    expect((await call(url, '/api/search')).status).toBe(200);
    const limited = await call(url, '/api/search');
    expect(limited.status).toBe(429);
    expect(limited.headers.get('retry-after')).toBe('31');
    expect(limited.headers.get('ratelimit-remaining')).toBe('0');
    expect(limited.headers.get('ratelimit-reset')).toBe('31');
    expect(limited.json.error).toMatchObject({ code: 'RATE_LIMITED', details: { limiter: 'api', retryAfterMs: 30_500, blocked: false } });
    // Routes without the helper are untouched.
    expect((await call(url, '/open')).status).toBe(200);
  });

  it.each(frameworks)('%s: limits by the key function', async (_name, start) => {
    const limiter = fakeLimiter(1);
    const url = await start(limiter, { key: (req: { headers: Record<string, string | undefined> }) => req.headers['x-api-key'] ?? 'anon' } as never);
    expect((await call(url, '/api/search', { headers: { 'x-api-key': 'a' } })).status).toBe(200);
    expect((await call(url, '/api/search', { headers: { 'x-api-key': 'b' } })).status).toBe(200);
    expect((await call(url, '/api/search', { headers: { 'x-api-key': 'a' } })).status).toBe(429);
    expect([...limiter.counts.keys()]).toEqual(['a', 'b']);
  });

  it.each(frameworks)('%s: a throwing key function lets the request through and is counted', async (name, start) => {
    const url = await start(fakeLimiter(1), {
      key: () => {
        throw new Error('no key');
      },
    });
    for (let i = 0; i < 3; i++) expect((await call(url, '/api/search')).status).toBe(200);
    expect(name).toBeTruthy();
  });

  it('a throwing key function is counted in .stats.errors (Express and Fastify), the request let through', async () => {
    const throwing = {
      key: () => {
        throw new Error('no key');
      },
    };
    const mw = firebreakRateLimit(fakeLimiter(1), throwing as never);
    const expressUrl = await expressApp(mw);
    for (let i = 0; i < 3; i++) expect((await call(expressUrl, '/api/search')).status).toBe(200);
    expect(mw.stats).toEqual({ limited: 0, errors: 3 });
    const hook = rateLimitHook(fakeLimiter(1), throwing as never);
    const fastifyUrl = await fastifyApp(hook);
    for (let i = 0; i < 2; i++) expect((await call(fastifyUrl, '/api/search')).status).toBe(200);
    expect(hook.stats).toEqual({ limited: 0, errors: 2 });
  });

  it('counts refusals and errors on the helper', async () => {
    const mw = firebreakRateLimit(fakeLimiter(1));
    const url = await expressApp(mw);
    await call(url, '/api/search');
    await call(url, '/api/search');
    expect(mw.stats).toEqual({ limited: 1, errors: 0 });
  });

  it('refuses something that is not a limiter, and unknown options', () => {
    expect(() => firebreakRateLimit({} as never)).toThrow(ConfigError);
    expect(() => rateLimitHook(fakeLimiter(1), { bogus: 1 } as never)).toThrow(/bogus/);
    expect(() => rateLimitHook(fakeLimiter(1), { bogus: 1 } as never)).toThrow(ConfigError);
  });

  it.each(['Express', 'Fastify'] as const)('%s: applies a monitor rate limiter; 429s are recorded and the window frees the key', async (name) => {
    const clock = new ManualClock();
    const monitor = createMonitor({ service: 'api', clock });
    const limiter = monitor.rateLimiter('api', { maxRequests: 2, windowSeconds: 60 });
    let url: string;
    if (name === 'Express') {
      const a = express();
      a.use(firebreakMiddleware(monitor));
      a.get('/api/search', firebreakRateLimit(limiter, { key: () => 'client-1' }), (_q, s) => void s.json({ ok: true }));
      server = createServer(a);
      await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r));
      url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    } else {
      app = Fastify();
      await app.register(firebreakPlugin, { monitor, routes: false });
      app.get('/api/search', { onRequest: rateLimitHook(limiter, { key: () => 'client-1' }) }, async () => ({ ok: true }));
      await app.listen({ port: 0, host: '127.0.0.1' });
      url = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
    }
    const recorded = nextRecords(monitor, 3);
    expect((await call(url, '/api/search')).status).toBe(200);
    expect((await call(url, '/api/search')).status).toBe(200);
    const limited = await call(url, '/api/search');
    expect(limited.status).toBe(429);
    expect(limited.headers.get('ratelimit-limit')).toBe('2');
    expect(limited.headers.get('ratelimit-policy')).toBe('2;w=60');
    // The limiter's own answer, in whole seconds rounded up.
    expect(limited.json.error.details.retryAfterMs).toBeGreaterThan(0);
    expect(limited.headers.get('retry-after')).toBe(String(Math.ceil(limited.json.error.details.retryAfterMs / 1000)));
    await recorded;
    // The middleware/hook recorded the 429 as rate-limited (the rate-limit-attack signal).
    expect(monitor.stats().routes['GET /api/search']).toMatchObject({ requests: 3, rateLimited: 1 });
    expect(limiter.stats()).toMatchObject({ allowed: 2, limited: 1 });
    clock.advance(120_000);
    expect((await call(url, '/api/search')).status).toBe(200);
  });
});

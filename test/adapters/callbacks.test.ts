import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { firebreakMiddleware, firebreakRateLimit } from '../../src/adapters/express.js';
import { decideRateLimit, type LimiterLike, type RateLimitHelperStats } from '../../src/http/rate-limit.js';
import { setup } from '../actions/helpers.js';
import { watchUnhandledRejections } from '../helpers/unhandled.js';

let watch: ReturnType<typeof watchUnhandledRejections>;
let server: Server | undefined;
beforeEach(() => {
  watch = watchUnhandledRejections();
});
afterEach(async () => {
  watch.stop();
  if (server !== undefined) {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server!.close(() => resolve()));
    server = undefined;
  }
});

async function listen(app: express.Express): Promise<string> {
  const s = createServer(app);
  server = s;
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', () => resolve()));
  return `http://127.0.0.1:${(s.address() as AddressInfo).port}`;
}

function limiter(max = 100): LimiterLike {
  const counts = new Map<string, number>();
  return {
    name: 'api',
    check(key) {
      const n = (counts.get(key) ?? 0) + 1;
      counts.set(key, n);
      return { allowed: n <= max, remaining: Math.max(0, max - n), retryAfterMs: 1_000, limit: max };
    },
  };
}

describe('rate-limit key functions and limiters are user code', () => {
  it.each([
    ['returns a rejecting promise', () => Promise.reject(new Error('key store down')) as never],
    ['throws', (): string => { throw new Error('no header'); }],
    ['returns a thenable whose then throws', () => ({ then(): never { throw new Error('then'); } }) as never],
  ])('a key function that %s lets the request through and counts it in stats.errors', async (_what, key: () => string) => {
    const stats: RateLimitHelperStats = { limited: 0, errors: 0 };
    const checked: unknown[] = [];
    const l: LimiterLike = { check: (k) => (checked.push(k), { allowed: false, remaining: 0, retryAfterMs: 1, limit: 1 }) };
    const d = decideRateLimit(l, key, stats, true);
    await watch.settle();
    expect(d.allowed).toBe(true);
    expect(stats.errors).toBe(1);
    expect(checked).toEqual([]); // a promise is not a key: nothing was counted against "[object Promise]"
    expect(watch.seen).toEqual([]);
  });

  it('a limiter whose check() returns a promise (an async limiter) fails open and is counted, never left to reject', async () => {
    const stats: RateLimitHelperStats = { limited: 0, errors: 0 };
    const asyncLimiter = { check: () => Promise.reject(new Error('redis down')) } as unknown as LimiterLike;
    const d = decideRateLimit(asyncLimiter, () => 'k', stats, true);
    await watch.settle();
    expect(d).toMatchObject({ allowed: true });
    expect(stats.errors).toBe(1);
    expect(watch.seen).toEqual([]);
  });

  it('Express: a key function that rejects does not crash the server; later requests are still limited', async () => {
    const app = express();
    let broken = true;
    const mw = firebreakRateLimit(limiter(1), { key: (req) => (broken ? (Promise.reject(new Error('down')) as never) : String(req.headers['x-api-key'])) });
    app.use(mw);
    app.get('/search', (_req, res) => void res.json({ ok: true }));
    const url = await listen(app);

    expect((await fetch(`${url}/search`)).status).toBe(200);
    await watch.settle();
    expect(mw.stats.errors).toBe(1);
    broken = false;
    expect((await fetch(`${url}/search`, { headers: { 'x-api-key': 'a' } })).status).toBe(200);
    expect((await fetch(`${url}/search`, { headers: { 'x-api-key': 'a' } })).status).toBe(429);
    expect(watch.seen).toEqual([]);
  });
});

describe('the Express skip() option is user code', () => {
  it('a skip() that returns a rejecting promise records the request (as documented for errors) and leaves no rejection behind', async () => {
    const { monitor } = setup();
    const app = express();
    app.use(firebreakMiddleware(monitor, { skip: () => Promise.reject(new Error('skip bug')) as never }));
    app.get('/search', (_req, res) => void res.json({ ok: true }));
    const url = await listen(app);
    expect((await fetch(`${url}/search`)).status).toBe(200);
    await watch.settle();
    expect(monitor.stats().overall.requests).toBe(1);
    expect(watch.seen).toEqual([]);
  });
});

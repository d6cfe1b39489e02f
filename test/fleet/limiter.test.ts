import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { hasRedisServer, startRedis, type TestRedis } from '../helpers/redis-server.js';
import { startReplica, type Replica } from '../helpers/replicas.js';

// Needs dist/ (npm run build): the replicas load the built package.
const SETUP = new URL('./limiter-service.mjs', import.meta.url).pathname;
const L = 50;
const N = 3;
const SHARE = Math.ceil(L / N);
/** The documented bound (docs/fleet.md, "Fleet-wide rate limits"): at most L + N·⌈L/N⌉ − 1 per window in the worst interleaving. */
const BOUND = L + N * SHARE - 1;

let server: TestRedis;
beforeAll(async () => {
  if (hasRedisServer || process.env['CI']) server = await startRedis();
});
afterAll(() => server?.stop());
const running: Replica[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((r) => r.stop()));
  if (server !== undefined && !server.running) await server.restart();
});

let service = 0;
/** Three replicas of a fresh service, limit 50 per hour (a window that does not roll over during a test). */
async function threeReplicas(): Promise<Replica[]> {
  const svc = `shop${++service}`;
  const replicas = await Promise.all(['a', 'b', 'c'].map((replica) => startReplica({ setup: SETUP, replica, redisUrl: server.url, service: svc, windowSeconds: 3600 })));
  running.push(...replicas);
  await Promise.all(replicas.map((r) => r.ready));
  // Every replica must count N live members before shares mean ⌈L/N⌉.
  await vi.waitFor(
    async () => {
      for (const r of replicas) expect(await r.eval<number>("ctx.fleet.stats().parts.limiter.replicas")).toBe(N);
    },
    { timeout: 10_000, interval: 50 },
  );
  return replicas;
}

/** `count` requests of one client, round-robin over the replicas, `concurrency` at a time; the number answered 200. */
async function spread(replicas: Replica[], client: string, count: number, concurrency = 3): Promise<number> {
  let ok = 0;
  for (let i = 0; i < count; i += concurrency) {
    const batch = [];
    for (let j = i; j < Math.min(count, i + concurrency); j++) {
      batch.push(fetch(`${replicas[j % replicas.length]!.url}/work`, { headers: { 'x-client': client } }).then(async (res) => {
        await res.arrayBuffer();
        if (res.status === 200) ok++;
        else expect(res.status).toBe(429);
      }));
    }
    await Promise.all(batch);
  }
  return ok;
}

describe.skipIf(!hasRedisServer && !process.env['CI'])('fleet-wide rate limit over 3 replica processes (skipped: redis-server not installed)', () => {
  it('one client spreading 150 requests over 3 replicas gets at most 50 + the documented bound through', { timeout: 60_000 }, async () => {
    const replicas = await threeReplicas();
    const ok = await spread(replicas, 'client-1', 150);
    // Without the fleet each replica enforces 50 alone: 150 of 150 get through.
    expect(ok).toBeLessThanOrEqual(BOUND);
    expect(ok).toBeGreaterThanOrEqual(L);
    // And every replica now rejects the client.
    await vi.waitFor(
      async () => {
        for (const r of replicas) expect((await fetch(`${r.url}/work`, { headers: { 'x-client': 'client-1' } })).status).toBe(429);
      },
      { timeout: 5_000, interval: 50 },
    );
  });

  it('redis-server stopped mid-test: each replica falls back to its share ⌈L/N⌉, reports degraded, and rejoins after restart', { timeout: 60_000 }, async () => {
    const replicas = await threeReplicas();
    expect(await spread(replicas, 'before', 30)).toBe(30);
    await server.stop();
    await vi.waitFor(
      async () => {
        for (const r of replicas) expect(await r.eval<boolean>('ctx.fleet.stats().parts.limiter.degraded')).toBe(true);
      },
      { timeout: 10_000, interval: 50 },
    );
    const ok = await spread(replicas, 'during', 150);
    expect(ok).toBe(N * SHARE);
    let insurance = 0;
    for (const r of replicas) insurance += await r.eval<number>('ctx.fleet.stats().parts.limiter.insuranceRejections');
    expect(insurance).toBe(150 - N * SHARE);
    await server.restart();
    await vi.waitFor(
      async () => {
        for (const r of replicas) expect(await r.eval<boolean>('ctx.fleet.stats().parts.limiter.degraded')).toBe(false);
      },
      { timeout: 15_000, interval: 100 },
    );
    // Counts are shared again: a fresh client is held to the fleet limit, not N times it.
    expect(await spread(replicas, 'after', 150)).toBeLessThanOrEqual(BOUND);
  });

  it('a key blocked through one replica\'s admin route is rejected by all; unblocked on another, allowed by all', { timeout: 60_000 }, async () => {
    const [a, b, c] = (await threeReplicas()) as [Replica, Replica, Replica];
    const res = await fetch(`${a.url}/admin/rate-limit/block`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ limiter: 'api', key: 'mallory', ttl_seconds: 600, confirm: true }),
    });
    expect(res.status).toBe(200);
    await vi.waitFor(
      async () => {
        for (const r of [a, b, c]) {
          const w = await fetch(`${r.url}/work`, { headers: { 'x-client': 'mallory' } });
          expect(w.status).toBe(429);
          expect(((await w.json()) as { error: { details?: { blocked?: boolean } } }).error.details?.blocked).toBe(true);
        }
      },
      { timeout: 5_000, interval: 50 },
    );
    const un = await fetch(`${c.url}/admin/rate-limit/unblock`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ limiter: 'api', key: 'mallory' }) });
    expect(un.status).toBe(200);
    await vi.waitFor(
      async () => {
        for (const r of [a, b, c]) expect((await fetch(`${r.url}/work`, { headers: { 'x-client': 'mallory' } })).status).toBe(200);
      },
      { timeout: 5_000, interval: 50 },
    );
  });
});

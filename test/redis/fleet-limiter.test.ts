import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { createMonitor, type Monitor, type RateLimiter } from '../../src/index.js';
import type { FleetContext } from '../../src/redis/context.js';
import { fleetLimiter, type FleetLimiterStats } from '../../src/redis/fleet-limiter.js';
import { ManualClock } from '../../src/testing/manual-clock.js';
import { hasRedisServer, startRedis, type TestRedis } from '../helpers/redis-server.js';

let server: TestRedis;
beforeAll(async () => {
  if (hasRedisServer || process.env['CI']) server = await startRedis();
});
afterAll(() => server?.stop());

const L = 50;
const N = 3;
const share = Math.ceil(L / N);

interface Member {
  name: string;
  monitor: Monitor;
  limiter: RateLimiter;
  part: ReturnType<typeof fleetLimiter>;
  redis: Redis;
  subscriber: Redis;
}

const open: Member[] = [];
afterEach(async () => {
  for (const m of open.splice(0)) {
    await m.part.close();
    m.redis.disconnect();
    m.subscriber.disconnect();
    await m.monitor.close();
  }
  if (server !== undefined && !server.running) await server.restart();
});

let service = 0;
/** N replicas of one service on one Redis, sharing one ManualClock; syncs only when the test says so. */
async function fleetOf(n: number, clock: ManualClock): Promise<Member[]> {
  const svc = `svc${++service}`;
  const members: Member[] = [];
  for (let i = 0; i < n; i++) {
    const monitor = createMonitor({ service: svc, clock });
    const limiter = monitor.rateLimiter('api', { maxRequests: L, windowSeconds: 60 });
    const redis = new Redis(server.url, { maxRetriesPerRequest: 0, retryStrategy: () => 50, enableOfflineQueue: false });
    redis.on('error', () => {});
    const subscriber = redis.duplicate();
    subscriber.on('error', () => {});
    await Promise.all([new Promise((r) => redis.once('ready', r)), new Promise((r) => subscriber.once('ready', r))]);
    const ctx: FleetContext = { monitor, redis, subscriber, replica: `r${i}`, prefix: `test:${svc}:`, reconcileEveryMs: 3_600_000, syncTimeoutMs: 1000 };
    // Timers far away: the test drives every sync, so the interleaving is the one it states.
    const part = fleetLimiter(ctx, { syncEveryMs: 3_600_000, staleAfterMs: 3_600_000 });
    const m = { name: `r${i}`, monitor, limiter, part, redis, subscriber };
    open.push(m);
    members.push(m);
  }
  for (const m of members) await m.part.start();
  // A second round so every replica has seen all N members.
  for (const m of members) await m.part.syncNow();
  return members;
}

const syncAll = async (ms: Member[]): Promise<void> => {
  for (const m of ms) await m.part.syncNow();
};
const stats = (m: Member): FleetLimiterStats => m.part.stats() as unknown as FleetLimiterStats;

describe.skipIf(!hasRedisServer && !process.env['CI'])('fleet limiter (skipped: redis-server not installed; apt-get install redis-server)', () => {
  it('holds a limit of 50 across 3 replicas for one client spreading 150 requests, within N − 1 when syncs keep up', async () => {
    const clock = new ManualClock(Date.UTC(2026, 0, 1));
    const fleet = await fleetOf(N, clock);
    expect(stats(fleet[0]!).replicas).toBe(N);
    let admitted = 0;
    for (let i = 0; i < 150; i++) {
      if (fleet[i % N]!.limiter.check('client-1').allowed) admitted++;
      clock.advance(10);
      // One sync per round: each replica admits at most m = 1 request between two syncs.
      if (i % N === N - 1) await syncAll(fleet);
    }
    // The guarantee: at most L + N·m − 1 with m = 1; and a fleet that syncs must not starve the client below L.
    expect(admitted).toBeLessThanOrEqual(L + N - 1);
    expect(admitted).toBeGreaterThanOrEqual(L);
    // The attack signal sees the client as over its configured limit, although no replica alone saw 50 offered.
    const excess = fleet.reduce((n, m) => n + m.limiter.recentExcess(), 0);
    expect(excess).toBeGreaterThanOrEqual(150 - admitted - N);
    expect(fleet.reduce((n, m) => n + m.limiter.recentOwnRejections(), 0)).toBe(0);
    // Another client is not affected.
    expect(fleet[1]!.limiter.check('client-2').allowed).toBe(true);
  });

  it('a burst faster than any sync stays within L + N·⌈L/N⌉ − 1, and nothing more gets through after one sync', async () => {
    const clock = new ManualClock(Date.UTC(2026, 0, 1));
    const fleet = await fleetOf(N, clock);
    let admitted = 0;
    for (let i = 0; i < 150; i++) if (fleet[i % N]!.limiter.check('burst').allowed) admitted++;
    expect(admitted).toBeLessThanOrEqual(L + N * share - 1);
    await syncAll(fleet);
    // A replica learns the others' counts of a key at the first sync after it checked it again.
    let after = 0;
    for (let i = 0; i < 60; i++) if (fleet[i % N]!.limiter.check('burst').allowed) after++;
    expect(admitted + after).toBeLessThanOrEqual(L + N * share - 1);
    await syncAll(fleet);
    let last = 0;
    for (let i = 0; i < 60; i++) if (fleet[i % N]!.limiter.check('burst').allowed) last++;
    expect(last).toBe(0);
  });

  it('a client whose requests all reach one replica gets exactly its limit, in budgets of a share of the headroom per sync', async () => {
    const clock = new ManualClock(Date.UTC(2026, 0, 1));
    const fleet = await fleetOf(N, clock);
    const [a] = fleet as [Member];
    let admitted = 0;
    let budgetWaits = 0;
    let ownExpected = 0;
    for (let i = 0; i < 200; i++) {
      const v = a.limiter.check('sticky');
      if (v.allowed) admitted++;
      else {
        if (admitted < L) budgetWaits++;
        // Offered load counts rejected requests too: within the configured limit, a 429 here is the limiter's own.
        if (admitted < L && i + 1 <= L) ownExpected++;
        await syncAll(fleet);
      }
    }
    // Budgets are ⌈headroom/N⌉ ≤ headroom: alone on one replica, never over L; with syncs, never starved below it.
    expect(admitted).toBe(L);
    expect(budgetWaits).toBeGreaterThan(0);
    expect(stats(a).budgetRejections).toBe(budgetWaits);
    // A spent budget is the limiter's own 429 (subtracted by the service-wide 429 detector), not an attack.
    expect(ownExpected).toBeGreaterThan(0);
    expect(a.limiter.recentOwnRejections()).toBe(ownExpected);
  });

  it('slides like the local limiter: half a window later the fleet has half the budget back', async () => {
    const clock = new ManualClock(Date.UTC(2026, 0, 1));
    const fleet = await fleetOf(N, clock);
    let admitted = 0;
    for (let i = 0; i < 90; i++) {
      if (fleet[i % N]!.limiter.check('slide').allowed) admitted++;
      if (i % N === N - 1) await syncAll(fleet);
    }
    expect(admitted).toBeGreaterThanOrEqual(L);
    // Next window, half elapsed: the previous window weighs half, so ~L/2 of headroom.
    clock.advance(60_000 + 30_000);
    await syncAll(fleet);
    let again = 0;
    for (let i = 0; i < 90; i++) {
      if (fleet[i % N]!.limiter.check('slide').allowed) again++;
      if (i % N === N - 1) await syncAll(fleet);
    }
    const expected = L - (admitted * 30_000) / 60_000;
    expect(again).toBeGreaterThanOrEqual(Math.floor(expected) - 1);
    expect(again).toBeLessThanOrEqual(Math.ceil(expected) + N - 1);
  });

  it('compares the shared counts with the limit each replica has: tightening one replica tightens it against the fleet count', async () => {
    const clock = new ManualClock(Date.UTC(2026, 0, 1));
    const fleet = await fleetOf(N, clock);
    const [a, b, c] = fleet as [Member, Member, Member];
    // Every replica has seen the key once: a replica new to a key knows nothing of it until its next sync.
    for (const m of fleet) expect(m.limiter.check('k').allowed).toBe(true);
    await syncAll(fleet);
    for (let i = 0; i < 9; i++) {
      expect(b.limiter.check('k').allowed).toBe(true);
      await syncAll(fleet);
    }
    expect(a.limiter.check('k').allowed).toBe(true);
    expect(c.limiter.check('k').allowed).toBe(true);
    await syncAll(fleet);
    a.limiter.adjust({ maxRequests: 10 });
    // 14 counted fleet-wide (2 on a): a's limit of 10 is spent, c's 50 is not.
    expect(a.limiter.check('k').allowed).toBe(false);
    expect(c.limiter.check('k').allowed).toBe(true);
  });

  it('a key blocked on one replica is rejected on all, and unblocked on another is allowed on all', async () => {
    const clock = new ManualClock(Date.UTC(2026, 0, 1));
    const fleet = await fleetOf(N, clock);
    const [a, b, c] = fleet as [Member, Member, Member];
    const ex = await a.monitor.actions.execute('rate-limit.block', { params: { name: 'api', key: '203.0.113.7', ttlSeconds: 600 }, by: 'alice', confirm: true });
    expect(ex.outcome).toBe('success');
    await vi.waitFor(
      () => {
        for (const m of [b, c]) expect(m.limiter.check('203.0.113.7')).toMatchObject({ allowed: false, blocked: true });
      },
      { timeout: 5_000, interval: 20 },
    );
    expect(c.limiter.blockedUntil('203.0.113.7')).toBeGreaterThan(clock.now() + 590_000);
    expect(c.limiter.unblock('203.0.113.7')).toBe(true);
    await vi.waitFor(
      () => {
        for (const m of [a, b]) expect(m.limiter.blockedUntil('203.0.113.7')).toBeUndefined();
      },
      { timeout: 5_000, interval: 20 },
    );
    expect(a.limiter.check('203.0.113.7').allowed).toBe(true);
  });

  it('while Redis is unreachable each replica enforces its share ⌈L/N⌉ (counted, degraded); blocks made meanwhile reach the fleet after reconnect', async () => {
    const clock = new ManualClock(Date.UTC(2026, 0, 1));
    const fleet = await fleetOf(N, clock);
    const [a, b] = fleet as [Member, Member, Member];
    expect(stats(a).degraded).toBe(false);
    await server.stop();
    await syncAll(fleet);
    for (const m of fleet) expect(stats(m).degraded).toBe(true);
    let admitted = 0;
    for (let i = 0; i < 150; i++) if (fleet[i % N]!.limiter.check('outage').allowed) admitted++;
    expect(admitted).toBe(N * share);
    expect(fleet.reduce((n, m) => n + stats(m).insuranceRejections, 0)).toBe(150 - N * share);
    // An operator still acts locally; the change is queued, not lost.
    a.limiter.block('198.51.100.9', 600_000);
    expect(stats(a).pendingBlocks).toBe(1);
    await server.restart();
    await vi.waitFor(
      async () => {
        await a.part.syncNow();
        expect(stats(a).degraded).toBe(false);
      },
      { timeout: 10_000, interval: 50 },
    );
    await vi.waitFor(
      async () => {
        await a.part.readBlocks();
        await b.part.readBlocks();
        expect(b.limiter.blockedUntil('198.51.100.9')).toBeDefined();
      },
      { timeout: 10_000, interval: 50 },
    );
    expect(stats(a).pendingBlocks).toBe(0);
  });
});

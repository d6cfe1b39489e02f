import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { createMonitor, type Monitor } from '../../src/index.js';
import { redisFleet, type Fleet } from '../../src/redis/index.js';
import { hasRedisServer, startRedis, type TestRedis } from '../helpers/redis-server.js';

let server: TestRedis;
beforeAll(async () => {
  if (hasRedisServer || process.env['CI']) server = await startRedis();
});
afterAll(() => server?.stop());

interface Member {
  monitor: Monitor;
  fleet: Fleet;
  redis: Redis;
}
const open: Member[] = [];
afterEach(async () => {
  for (const o of open.splice(0)) {
    await o.fleet.close();
    o.redis.disconnect();
    await o.monitor.close();
  }
});

let serviceSeq = 0;
/** A fresh service name per test: the tests share one redis-server. */
function service(): string {
  return `svc${++serviceSeq}-${process.pid}`;
}

function join(svc: string, replica: string, build: (m: Monitor) => void = (m) => void m.feature('recommendations')): Member {
  const monitor = createMonitor({ service: svc });
  build(monitor);
  const redis = new Redis(server.url, { maxRetriesPerRequest: 1, retryStrategy: (n) => Math.min(20 * n, 100) });
  redis.on('error', () => {});
  const fleet = redisFleet(monitor, { redis, replica, reconcileEveryMs: 200, syncTimeoutMs: 5_000 });
  const o = { monitor, fleet, redis };
  open.push(o);
  return o;
}

async function fleetOf(n: number, build?: (m: Monitor) => void): Promise<Member[]> {
  const svc = service();
  const members = ['a', 'b', 'c'].slice(0, n).map((r) => join(svc, r, build));
  await Promise.all(members.map((m) => m.fleet.ready));
  return members;
}

const part = (m: Member): Record<string, unknown> => m.fleet.stats().parts['control-state'] ?? {};
const WAIT = { timeout: 5_000, interval: 10 };
/** Redis restarts and reconnects: slower on a loaded machine. */
const RECONNECT = { timeout: 20_000, interval: 20 };

describe.skipIf(!hasRedisServer && !process.env['CI'])('shared control state (skipped: redis-server not installed)', () => {
  it('a kill switch pulled on one replica is pulled on every replica, and never echoes back', async () => {
    const [a, b, c] = await fleetOf(3);
    a!.monitor.controls.features.get('recommendations')!.disable({ by: 'alice', reason: 'p95 over 2 s' });
    await vi.waitFor(() => {
      for (const m of [b!, c!]) expect(m.monitor.controls.features.get('recommendations')!.isEnabled()).toBe(false);
    }, WAIT);
    const seen = b!.monitor.controls.features.get('recommendations')!.stats();
    expect(seen).toMatchObject({ enabled: false, by: 'alice', reason: 'p95 over 2 s' });
    // Applying remote state is not a local change: only the replica that acted wrote to Redis.
    expect(part(a!)['published']).toBe(1);
    expect(part(b!)['published']).toBe(0);
    expect(part(c!)['published']).toBe(0);
    b!.monitor.controls.features.get('recommendations')!.enable({ by: 'bob' });
    await vi.waitFor(() => {
      for (const m of [a!, c!]) expect(m.monitor.controls.features.get('recommendations')!.isEnabled()).toBe(true);
    }, WAIT);
  });

  it('shares every kind of lever: caches, limits and blocks, fallbacks, canaries, silences, maintenance', async () => {
    const build = (m: Monitor): void => {
      m.feature('recommendations', { risky: true });
      m.cache('search', { max: 10 });
      m.rateLimiter('api', { maxRequests: 100, windowSeconds: 60 });
      m.fallback('ranker', { primary: () => 1, fallback: () => 2 });
      m.canary('new-index', { percent: 5 });
    };
    const [a, b] = await fleetOf(2, build);
    const A = a!.monitor;
    A.controls.caches.get('search')!.disable({ reason: 'poisoned' });
    A.controls.rateLimiters.get('api')!.adjust({ maxRequests: 10, windowSeconds: 3600 });
    A.controls.rateLimiters.get('api')!.block('203.0.113.7', 600_000);
    A.controls.fallbacks.get('ranker')!.force({ reason: 'OOM', by: 'alice' });
    A.controls.canaries.get('new-index')!.setPercent(25);
    A.controls.canaries.get('new-index')!.emergencyStop({ by: 'alice' });
    const silence = A.silences.add({ matchers: [{ name: 'type', value: 'high-latency' }], durationMs: 3_600_000, createdBy: 'alice', comment: 'reindexing' });
    const window = A.maintenance.add({ name: 'db upgrade', daily: { at: '02:00', durationMs: 1_800_000 }, createdBy: 'ops' });
    const B = b!.monitor;
    await vi.waitFor(() => {
      expect(B.controls.caches.get('search')!.stats()).toMatchObject({ disabled: true, reason: 'poisoned' });
      expect(B.controls.rateLimiters.get('api')!.current()).toEqual({ maxRequests: 10, windowSeconds: 3600 });
      expect(B.controls.rateLimiters.get('api')!.check('203.0.113.7')).toMatchObject({ allowed: false, blocked: true });
      expect(B.controls.fallbacks.get('ranker')!.isForced()).toBe(true);
      expect(B.controls.canaries.get('new-index')!.stats()).toMatchObject({ percent: 25, stopped: true, effectivePercent: 0 });
      expect(B.silences.get(silence.id)).toMatchObject({ state: 'active', createdBy: 'alice', comment: 'reindexing' });
      expect(B.maintenance.list().map((w) => w.id)).toEqual([window.id]);
    }, WAIT);
    // The block's TTL arrives as the same end, give or take the propagation time.
    const until = B.controls.rateLimiters.get('api')!.blockedUntil('203.0.113.7')!;
    expect(Math.abs(until - A.controls.rateLimiters.get('api')!.blockedUntil('203.0.113.7')!)).toBeLessThan(1_000);

    A.silences.expire(silence.id, 'alice');
    A.maintenance.remove(window.id);
    A.controls.rateLimiters.get('api')!.unblock('203.0.113.7');
    A.controls.rateLimiters.get('api')!.restore();
    A.controls.canaries.get('new-index')!.resume();
    await vi.waitFor(() => {
      expect(B.silences.get(silence.id)).toMatchObject({ state: 'expired', expiredBy: 'alice' });
      expect(B.maintenance.list()).toEqual([]);
      expect(B.controls.rateLimiters.get('api')!.blockedUntil('203.0.113.7')).toBeUndefined();
      expect(B.controls.rateLimiters.get('api')!.current()).toEqual({ maxRequests: 100, windowSeconds: 60 });
      expect(B.controls.canaries.get('new-index')!.stats()).toMatchObject({ percent: 25, stopped: false, effectivePercent: 25 });
    }, WAIT);
  });

  it('an action says it reached the fleet, and its execution and audit entry name the replica', async () => {
    const [a, b] = await fleetOf(2);
    const ex = await a!.monitor.actions.execute('feature.disable', { params: { name: 'recommendations' }, by: 'alice' });
    expect(ex).toMatchObject({ outcome: 'success', replica: 'a', fleet: { propagated: true, pending: 0 } });
    expect(a!.monitor.actions.audit({ action: 'feature.disable' })[0]).toMatchObject({ replica: 'a', by: 'alice', fleet: { propagated: true } });
    await vi.waitFor(() => expect(b!.monitor.controls.features.get('recommendations')!.isEnabled()).toBe(false), WAIT);
    // The revert, from the other replica's own action, propagates back.
    const on = await b!.monitor.actions.execute('feature.enable', { params: { name: 'recommendations' }, by: 'bob' });
    expect(on).toMatchObject({ replica: 'b', fleet: { propagated: true } });
    await vi.waitFor(() => expect(a!.monitor.controls.features.get('recommendations')!.isEnabled()).toBe(true), WAIT);
  });

  it('a TTL disable lifts on every replica at the time the replica that pulled it set', async () => {
    const [a, b] = await fleetOf(2);
    a!.monitor.controls.features.get('recommendations')!.disable({ ttlMs: 400 });
    await vi.waitFor(() => expect(b!.monitor.controls.features.get('recommendations')!.isEnabled()).toBe(false), WAIT);
    const reA = a!.monitor.controls.features.get('recommendations')!.stats().reenableAt!;
    const reB = b!.monitor.controls.features.get('recommendations')!.stats().reenableAt!;
    expect(Math.abs(reA - reB)).toBeLessThan(200);
    await vi.waitFor(() => {
      for (const m of [a!, b!]) expect(m.monitor.controls.features.get('recommendations')!.isEnabled()).toBe(true);
    }, WAIT);
    // Each replica expired the TTL by itself: nothing was written for it.
    expect(part(a!)['published']).toBe(1);
    expect(part(b!)['published']).toBe(0);
  });

  it('a replica joining later loads the state before it is ready, and a control created after redisFleet() picks up its state', async () => {
    const svc = service();
    const a = join(svc, 'a', (m) => {
      m.feature('recommendations');
      m.rateLimiter('api', { maxRequests: 100, windowSeconds: 60 });
    });
    await a.fleet.ready;
    a.monitor.controls.features.get('recommendations')!.disable({ reason: 'killed' });
    a.monitor.controls.rateLimiters.get('api')!.adjust({ maxRequests: 7 });
    a.monitor.controls.rateLimiters.get('api')!.block('10.0.0.1');
    await vi.waitFor(() => expect(part(a)['pending']).toBe(0), WAIT);

    const late = join(svc, 'late');
    // Just attached: not synced, so /health/ready would answer 503 (fleet-sync is critical).
    expect(late.fleet.stats().synced).toBe(false);
    expect(late.monitor.controls.features.get('recommendations')!.isEnabled()).toBe(true);
    const health = await late.monitor.checkHealth();
    const syncCheck = health.checks.find((c) => c.name === 'fleet-sync');
    if (syncCheck?.ok === true) expect(late.monitor.controls.features.get('recommendations')!.isEnabled()).toBe(false);
    await late.fleet.ready;
    expect(late.fleet.stats().synced).toBe(true);
    expect(late.monitor.controls.features.get('recommendations')!.isEnabled()).toBe(false);
    // Created after the fleet attached: the limit and the block held by the fleet apply at once.
    const api = late.monitor.rateLimiter('api', { maxRequests: 100, windowSeconds: 60 });
    expect(api.current().maxRequests).toBe(7);
    expect(api.blockedUntil('10.0.0.1')).toBeGreaterThan(Date.now());
  });

  it('conflicting writes converge on every replica to the one Redis ordered last', async () => {
    const [a, b, c] = await fleetOf(3, (m) => void m.rateLimiter('api', { maxRequests: 100, windowSeconds: 60 }));
    for (let i = 1; i <= 20; i++) {
      a!.monitor.controls.rateLimiters.get('api')!.adjust({ maxRequests: 1000 + i });
      b!.monitor.controls.rateLimiters.get('api')!.adjust({ maxRequests: 2000 + i });
      c!.monitor.controls.rateLimiters.get('api')!.adjust({ maxRequests: 3000 + i });
    }
    await vi.waitFor(async () => {
      const raw = await a!.redis.hget(`firebreak:${a!.monitor.service}:state`, 'limit:api');
      const last = (JSON.parse(raw!) as { s: { maxRequests: number } }).s.maxRequests;
      for (const m of [a!, b!, c!]) {
        expect(part(m)['pending']).toBe(0);
        expect(m.monitor.controls.rateLimiters.get('api')!.current().maxRequests).toBe(last);
      }
    }, WAIT);
  });

  it('Redis down: replicas keep their state and report degraded; a local change says not propagated and reaches the fleet on reconnect', async () => {
    const [a, b] = await fleetOf(2, (m) => {
      m.feature('recommendations');
      m.feature('search');
    });
    a!.monitor.controls.features.get('recommendations')!.disable({ reason: 'before the outage' });
    await vi.waitFor(() => expect(b!.monitor.controls.features.get('recommendations')!.isEnabled()).toBe(false), WAIT);
    await server.stop();
    await vi.waitFor(() => expect(a!.fleet.stats().degraded).toBe(true), WAIT);
    expect(b!.monitor.controls.features.get('recommendations')!.isEnabled()).toBe(false);
    const ex = await a!.monitor.actions.execute('feature.disable', { params: { name: 'search' }, by: 'alice' });
    expect(ex).toMatchObject({ outcome: 'success', fleet: { propagated: false, pending: 1 } });
    expect(a!.monitor.controls.features.get('search')!.isEnabled()).toBe(false);
    expect(part(a!)).toMatchObject({ degraded: true, pending: 1 });
    const health = await a!.monitor.checkHealth();
    expect(health.checks.find((c) => c.name === 'fleet-redis')?.ok).toBe(false);

    await server.restart(); // empty: persistence is off
    await vi.waitFor(() => {
      for (const m of [a!, b!]) {
        expect(m.fleet.stats().degraded).toBe(false);
        expect(m.monitor.controls.features.get('search')!.isEnabled()).toBe(false);
        expect(m.monitor.controls.features.get('recommendations')!.isEnabled()).toBe(false);
        expect(part(m)['pending']).toBe(0);
      }
    }, RECONNECT);
    // Nothing lost: the emptied hash holds both levers again.
    const fields = await a!.redis.hkeys(`firebreak:${a!.monitor.service}:state`);
    expect(fields.sort()).toEqual(['feature:recommendations', 'feature:search']);
  });

  it('after Redis lost its data, the newest state before the loss wins on every replica, whichever replica reconnects first', { timeout: 60_000 }, async () => {
    const [a, b] = await fleetOf(2);
    const f = (m: Member) => m.monitor.controls.features.get('recommendations')!;
    f(a!).disable({ reason: 'first' });
    await vi.waitFor(() => expect(f(b!).isEnabled()).toBe(false), WAIT);
    f(b!).enable({ reason: 'second' });
    await vi.waitFor(() => expect(f(a!).isEnabled()).toBe(true), WAIT);
    const epoch = part(a!)['epoch'];
    await server.kill();
    await server.restart();
    await vi.waitFor(async () => {
      const raw = await a!.redis.hget(`firebreak:${a!.monitor.service}:state`, 'feature:recommendations');
      expect(JSON.parse(raw!)).toMatchObject({ s: { enabled: true, reason: 'second' } });
      for (const m of [a!, b!]) {
        expect(part(m)['epoch']).not.toBe(epoch);
        expect(m.fleet.stats().degraded).toBe(false);
        expect(f(m).isEnabled()).toBe(true);
      }
    }, RECONNECT);
    // Both held the same entry; one seed went in, the other saw a seed of the same old version.
    expect(Number(part(a!)['reseeded']) + Number(part(b!)['reseeded'])).toBe(1);
  });

  it('a replica whose first write after a data loss recreates the epoch still notices the loss and re-seeds what it held', { timeout: 30_000 }, async () => {
    const [a] = await fleetOf(1, (m) => {
      m.feature('recommendations');
      m.feature('rerank');
    });
    const f = (name: string) => a!.monitor.controls.features.get(name)!;
    f('recommendations').disable({ reason: 'before the loss' });
    await vi.waitFor(() => expect(part(a!)['pending']).toBe(0), WAIT);
    const epoch = part(a!)['epoch'];
    const hash = `firebreak:${a!.monitor.service}:state`;
    const raw = new Redis(server.url);
    try {
      await raw.flushdb();
      // The very next write comes from the replica that created the lost epoch.
      f('rerank').disable({ reason: 'after the loss' });
      await vi.waitFor(async () => {
        expect(part(a!)['epoch']).not.toBe(epoch);
        const held = await raw.hget(hash, 'feature:recommendations');
        expect(JSON.parse(held!)).toMatchObject({ s: { enabled: false, reason: 'before the loss' } });
        expect(JSON.parse((await raw.hget(hash, 'feature:rerank'))!)).toMatchObject({ s: { enabled: false, reason: 'after the loss' } });
      }, RECONNECT);
    } finally {
      raw.disconnect();
    }
  });

  it('re-seeding after Redis lost its data is deterministic: the highest old version of an entry wins, whatever was seeded first', async () => {
    const [a, b] = await fleetOf(2);
    const f = (m: Member) => m.monitor.controls.features.get('recommendations')!;
    f(a!).disable({ reason: 'v1' });
    await vi.waitFor(() => expect(f(b!).isEnabled()).toBe(false), WAIT);
    f(b!).enable({ reason: 'v2' });
    await vi.waitFor(() => expect(f(a!).isEnabled()).toBe(true), WAIT);
    const hash = `firebreak:${a!.monitor.service}:state`;
    const prefix = `firebreak:${a!.monitor.service}:state`;
    const raw = new Redis(server.url);
    try {
      const { v } = JSON.parse((await raw.hget(hash, 'feature:recommendations'))!) as { v: number };
      expect(v).toBe(2);
      // Redis loses its data, and a stale replica's seed (old version 1: "disabled") lands first.
      const t = await raw.time();
      const at = Number(t[0]) * 1000 + Math.floor(Number(t[1]) / 1000);
      const stale = JSON.stringify({ v: 1, e: 'other-epoch', at, r: 'stale', o: 1, s: { enabled: false, by: 'stale', reason: 'v1' } });
      await raw.multi().flushdb().set(`${prefix}:epoch`, 'other-epoch').set(`${prefix}:version`, '1').hset(hash, 'feature:recommendations', stale).exec();
      await vi.waitFor(async () => {
        const now = JSON.parse((await raw.hget(hash, 'feature:recommendations'))!) as { e: string; o?: number; s: { enabled: boolean; reason?: string } };
        expect(now).toMatchObject({ e: 'other-epoch', o: 2, s: { enabled: true, reason: 'v2' } });
        for (const m of [a!, b!]) {
          expect(f(m).isEnabled()).toBe(true);
          expect(part(m)['epoch']).toBe('other-epoch');
        }
      }, RECONNECT);

      // The other way round: a seed of a higher old version than the replicas hold wins over theirs.
      const newer = JSON.stringify({ v: 1, e: 'third-epoch', at, r: 'newer', o: 99, s: { enabled: false, by: 'newer', reason: 'v99' } });
      await raw.multi().flushdb().set(`${prefix}:epoch`, 'third-epoch').set(`${prefix}:version`, '1').hset(hash, 'feature:recommendations', newer).exec();
      await vi.waitFor(() => {
        for (const m of [a!, b!]) expect(f(m).stats()).toMatchObject({ enabled: false, reason: 'v99' });
      }, RECONNECT);
    } finally {
      raw.disconnect();
    }
  });

  it('keeps the hash bounded: a block expired for a while is deleted from Redis and from what replicas hold', async () => {
    const [a] = await fleetOf(1, (m) => void m.rateLimiter('api', { maxRequests: 10, windowSeconds: 60 }));
    a!.monitor.controls.rateLimiters.get('api')!.block('198.51.100.1', 600_000);
    await vi.waitFor(() => expect(part(a!)['entries']).toBe(1), WAIT);
    const hash = `firebreak:${a!.monitor.service}:state`;
    const raw = new Redis(server.url);
    try {
      const live = JSON.parse((await raw.hget(hash, 'block:["api","198.51.100.1"]'))!) as { e: string };
      // A block of 1 s written 2 minutes ago (in Redis time): long inert.
      const t = await raw.time();
      const at = Number(t[0]) * 1000 + Math.floor(Number(t[1]) / 1000) - 120_000;
      const old = JSON.stringify({ v: 1, e: live.e, at, r: 'x', s: { blockedForMs: 1000 } });
      await raw.hset(hash, 'block:["api","192.0.2.9"]', old);
      await vi.waitFor(async () => {
        expect(await raw.hexists(hash, 'block:["api","192.0.2.9"]')).toBe(0);
        expect(part(a!)['pruned']).toBe(1);
      }, WAIT);
      // The live block stays.
      expect(await raw.hexists(hash, 'block:["api","198.51.100.1"]')).toBe(1);
    } finally {
      raw.disconnect();
    }
  });

  it('malformed shared state never crashes a replica: it is counted as rejected and the rest still applies', async () => {
    const [a, b] = await fleetOf(2);
    const hash = `firebreak:${a!.monitor.service}:state`;
    const raw = new Redis(server.url);
    try {
      await raw.publish(`${hash}:changes`, 'not json');
      await raw.publish(`${hash}:changes`, JSON.stringify({ f: 'feature:recommendations', v: 'x' }));
      const { e } = { e: String(part(a!)['epoch']) };
      const t = await raw.time();
      const at = Number(t[0]) * 1000 + Math.floor(Number(t[1]) / 1000);
      // A silence whose matchers are not matchers, under the epoch in use and a high version.
      await raw.hset(hash, 'silence:sil_bad', JSON.stringify({ v: 1_000_000, e, at, r: 'evil', s: { matchers: 'all', endsInMs: 1000 } }));
      await raw.hset(hash, 'nonsense', JSON.stringify({ v: 1_000_001, e, at, r: 'evil', s: {} }));
      await vi.waitFor(() => expect(part(b!)['rejected']).toBeGreaterThanOrEqual(1), WAIT);
      expect(b!.monitor.silences.list()).toEqual([]);
      a!.monitor.controls.features.get('recommendations')!.disable();
      await vi.waitFor(() => expect(b!.monitor.controls.features.get('recommendations')!.isEnabled()).toBe(false), WAIT);
    } finally {
      raw.disconnect();
    }
  });

  it('a change made before the first load neither starves the host nor is lost: it wins once the load is done', async () => {
    const [a] = await fleetOf(1);
    a!.monitor.controls.features.get('recommendations')!.disable({ reason: 'fleet says off' });
    await vi.waitFor(() => expect(part(a!)['pending']).toBe(0), WAIT);
    // A replica whose Redis scripts wait behind a gate: its first load has not happened.
    const monitor = createMonitor({ service: a!.monitor.service });
    monitor.feature('recommendations');
    const redis = new Redis(server.url, { maxRetriesPerRequest: 1 });
    redis.on('error', () => {});
    let open: () => void = () => {};
    const gate = new Promise<void>((r) => (open = r));
    const gated = new Proxy(redis, {
      get(target, prop) {
        const value: unknown = Reflect.get(target, prop);
        if ((prop === 'eval' || prop === 'evalsha') && typeof value === 'function') {
          return async (...args: unknown[]) => {
            await gate;
            return (value as (...a: unknown[]) => unknown).apply(target, args);
          };
        }
        return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
      },
    });
    const fleet = redisFleet(monitor, { redis: gated, replica: 'gated', reconcileEveryMs: 200 });
    try {
      await vi.waitFor(() => expect(redis.status).toBe('ready'), WAIT);
      monitor.controls.features.get('recommendations')!.disable({ reason: 'operator, before the load' });
      // The event loop still turns (no busy loop of flush attempts while not loaded).
      await new Promise<void>((r) => setImmediate(r));
      expect(fleet.stats().parts['control-state']).toMatchObject({ loaded: false, pending: 1 });
      open();
      await fleet.ready;
      await vi.waitFor(() => expect(fleet.stats().parts['control-state']?.['pending']).toBe(0), WAIT);
      expect(monitor.controls.features.get('recommendations')!.stats()).toMatchObject({ enabled: false, reason: 'operator, before the load' });
      // Written after the load as the newest decision (the other replica was already off: no change there).
      const raw = await redis.hget(`firebreak:${monitor.service}:state`, 'feature:recommendations');
      expect(JSON.parse(raw!)).toMatchObject({ r: 'gated', s: { enabled: false, reason: 'operator, before the load' } });
    } finally {
      open();
      await fleet.close();
      redis.disconnect();
      await monitor.close();
    }
  });
});

import { createServer } from 'node:http';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { ConfigError, createMonitor, type Monitor, type MonitorOptions, type SloInput } from '../../src/index.js';
import { redisFleet, type Fleet } from '../../src/redis/index.js';
import { createHandler } from '../../src/adapters/http.js';
import { ManualClock, Prng } from '../../src/testing/index.js';
import { hasRedisServer, startRedis, type TestRedis } from '../helpers/redis-server.js';

let server: TestRedis;
beforeAll(async () => {
  if (hasRedisServer || process.env['CI']) server = await startRedis();
});
afterAll(() => server?.stop());

const SLOS: SloInput[] = [
  { name: 'p95', kind: 'latency', quantile: 0.95, thresholdMs: 120, absentAfterMs: false },
  { name: 'p99', kind: 'latency', quantile: 0.99, thresholdMs: 400, absentAfterMs: false },
  { name: 'availability', kind: 'success-rate', objective: 0.98, absentAfterMs: false },
  { name: 'search-p95', kind: 'latency', route: 'GET /search', quantile: 0.95, thresholdMs: 100, absentAfterMs: false },
];
const ROUTES = ['GET /search', 'POST /cart', 'GET /item'];

interface Member {
  monitor: Monitor;
  fleet: Fleet;
  redis: Redis;
}
const open: Member[] = [];
const monitors: Monitor[] = [];
afterEach(async () => {
  for (const o of open.splice(0)) {
    await o.fleet.close();
    o.redis.disconnect();
  }
  await Promise.all(monitors.splice(0).map((m) => m.close()));
});

/** One GET against `monitor`'s admin routes on a real loopback server, closed afterwards. */
async function call(monitor: Monitor, path: string): Promise<{ status: number; json: Record<string, any> }> {
  const srv = createServer(createHandler(monitor, { auth: 'none' }));
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  try {
    const res = await fetch(`http://127.0.0.1:${(srv.address() as { port: number }).port}${path}`);
    return { status: res.status, json: (await res.json()) as Record<string, any> };
  } finally {
    await new Promise((r) => srv.close(r));
  }
}

let service = 0;
function newMonitor(clock: ManualClock, name: string, extra: Partial<MonitorOptions> = {}): Monitor {
  const m = createMonitor({ service: name, clock, slos: SLOS, minSamples: 5, ...extra });
  monitors.push(m);
  return m;
}
function join(monitor: Monitor, replica: string, windows: Record<string, unknown> = {}): Member {
  const redis = new Redis(server.url, { maxRetriesPerRequest: 1 });
  redis.on('error', () => {});
  const fleet = redisFleet(monitor, { redis, replica, windows });
  const o = { monitor, fleet, redis };
  open.push(o);
  return o;
}

describe.skipIf(!hasRedisServer && !process.env['CI'])('fleet windows (skipped: redis-server not installed; apt-get install redis-server)', () => {
  it('names the field of a bad windows option (ConfigError)', () => {
    const monitor = newMonitor(new ManualClock(), 'bad');
    const redis = new Redis(server.url, { lazyConnect: true });
    try {
      expect(() => redisFleet(monitor, { redis, windows: { publishEveryMs: 5 } })).toThrow(ConfigError);
      expect(() => redisFleet(monitor, { redis, windows: { publishEveryMs: 5 } })).toThrow(/windows\.publishEveryMs/);
    } finally {
      redis.disconnect();
    }
  });

  it('3 replicas with traffic split at random report the fleet exactly as one process that saw it all', async () => {
    const clock = new ManualClock(Date.UTC(2026, 0, 1, 12));
    const name = `split-${++service}`;
    const reference = newMonitor(clock, name);
    const members = ['a', 'b', 'c'].map((r) => join(newMonitor(clock, name), r));
    await Promise.all(members.map((m) => m.fleet.ready));
    const rng = new Prng(42);
    for (let i = 0; i < 3_000; i++) {
      clock.advance(Math.floor(rng.next() * 200));
      const rec = {
        route: ROUTES[Math.floor(rng.next() * ROUTES.length)]!,
        durationMs: rng.next() < 0.03 ? 300 + rng.next() * 2_000 : 5 + rng.next() * 90,
        status: rng.next() < 0.015 ? 500 : 200,
      };
      reference.recordRequest(rec);
      members[Math.floor(rng.next() * 3)]!.monitor.recordRequest(rec);
    }
    await Promise.all(members.map((m) => m.fleet.windows.publish()));
    const want = reference.stats();
    expect(want.overall.requests).toBeGreaterThan(1_000); // the window holds real traffic
    for (const m of members) {
      const got = await m.fleet.windows.stats();
      expect(got.replicas.merged.sort()).toEqual(['a', 'b', 'c']);
      expect(got.replicas.stale).toEqual([]);
      expect(got.overall).toEqual(want.overall);
      expect(got.routes).toEqual(want.routes);
      const evaluation = await m.fleet.windows.evaluate();
      const pick = (s: { name: string; value: number | null; status: string; samples: number }) => [s.name, s.value, s.status, s.samples];
      expect(evaluation.slos.map(pick)).toEqual(want.slos.map(pick));
    }
    // Each replica alone sees about a third: the fleet figures are not any one replica's.
    expect(members[0]!.monitor.stats().overall.requests).toBeLessThan(want.overall.requests * 0.5);
  });

  it('leaves out a replica that stopped publishing for 2 periods, and says so', { timeout: 20_000 }, async () => {
    const clock = new ManualClock(Date.UTC(2026, 0, 1, 12));
    const name = `stale-${++service}`;
    const [a, b, c] = ['a', 'b', 'c'].map((r) => join(newMonitor(clock, name), r, { publishEveryMs: 100 }));
    await Promise.all([a, b, c].map((m) => m!.fleet.ready));
    for (const [i, m] of [a, b, c].entries()) for (let k = 0; k <= i; k++) m!.monitor.recordRequest({ route: 'GET /item', durationMs: 10, status: 200 });
    await Promise.all([a, b, c].map((m) => m!.fleet.windows.publish()));
    expect((await a!.fleet.windows.stats()).overall.requests).toBe(6);
    await c!.fleet.close(); // c stops publishing (as a crashed replica would)
    await vi.waitFor(
      async () => {
        await b!.fleet.windows.publish(); // b keeps publishing
        const s = await a!.fleet.windows.stats();
        expect(s.replicas.stale.map((r) => r.replica)).toEqual(['c']);
        expect(s.replicas.stale[0]!.silentForMs).toBeGreaterThan(200);
        expect(s.replicas.merged.sort()).toEqual(['a', 'b']);
        expect(s.overall.requests).toBe(3);
      },
      { timeout: 10_000, interval: 50 },
    );
  });

  it('GET /stats/fleet answers the merged window on any replica; without a fleet it is a 404', async () => {
    const clock = new ManualClock(Date.UTC(2026, 0, 1, 12));
    const name = `http-${++service}`;
    const [a, b] = ['a', 'b'].map((r) => join(newMonitor(clock, name), r));
    await Promise.all([a!.fleet.ready, b!.fleet.ready]);
    a!.monitor.recordRequest({ route: 'GET /item', durationMs: 10, status: 200 });
    b!.monitor.recordRequest({ route: 'GET /item', durationMs: 30, status: 500 });
    await Promise.all([a!.fleet.windows.publish(), b!.fleet.windows.publish()]);
    const res = await call(b!.monitor, '/stats/fleet');
    expect(res.status).toBe(200);
    expect(res.json['overall']).toMatchObject({ requests: 2, failures: 1, successRate: 0.5 });
    expect(res.json['readBy']).toBe('b');
    const lone = newMonitor(clock, name);
    const none = await call(lone, '/stats/fleet');
    expect(none.status).toBe(404);
    expect(none.json['error'].code).toBe('NOT_FOUND');
  });

  it('a snapshot over maxSnapshotBytes is not published; readers list the replica as too-large', async () => {
    const clock = new ManualClock(Date.UTC(2026, 0, 1, 12));
    const name = `big-${++service}`;
    const a = join(newMonitor(clock, name), 'a');
    const b = join(newMonitor(clock, name), 'b', { maxSnapshotBytes: 1_024 });
    await Promise.all([a.fleet.ready, b.fleet.ready]);
    for (let i = 0; i < 50; i++) b.monitor.recordRequest({ route: `GET /r${i}`, durationMs: 1 + i, status: 200 });
    a.monitor.recordRequest({ route: 'GET /item', durationMs: 5, status: 200 });
    expect(await b.fleet.windows.publish()).toBe(true); // the marker went out
    expect(b.fleet.stats().parts['windows']).toMatchObject({ tooLarge: 1 });
    const s = await a.fleet.windows.stats();
    expect(s.replicas.excluded).toEqual([expect.objectContaining({ replica: 'b', reason: 'too-large' })]);
    expect(s.replicas.merged).toEqual(['a']);
    expect(s.overall.requests).toBe(1);
  });

  it('reports FLEET_UNAVAILABLE (never hangs) when Redis is gone, and the HTTP route answers 503', async () => {
    const clock = new ManualClock(Date.UTC(2026, 0, 1, 12));
    const monitor = newMonitor(clock, `down-${++service}`);
    const redis = new Redis(`redis://127.0.0.1:1`, { maxRetriesPerRequest: 0, lazyConnect: true, retryStrategy: () => null });
    redis.on('error', () => {});
    const fleet = redisFleet(monitor, { redis, replica: 'x', syncTimeoutMs: 200, windows: { timeoutMs: 300 } });
    try {
      await fleet.ready;
      await expect(fleet.windows.stats()).rejects.toMatchObject({ code: 'FLEET_UNAVAILABLE' });
      expect(await fleet.windows.publish()).toBe(false);
      expect((fleet.stats().parts['windows'] as { publishErrors: number }).publishErrors).toBeGreaterThan(0);
      const res = await call(monitor, '/stats/fleet');
      expect(res.status).toBe(503);
      expect(res.json['error']).toMatchObject({ code: 'NOT_READY', details: { code: 'FLEET_UNAVAILABLE' } });
    } finally {
      await fleet.close();
      redis.disconnect();
    }
  });
});

describe.skipIf(!hasRedisServer && !process.env['CI'])('burn-rate windows across restarts (skipped: redis-server not installed)', () => {
  const burnSlos: SloInput[] = [{ name: 'availability', kind: 'success-rate', objective: 0.99, absentAfterMs: false }];

  async function traffic(monitor: Monitor, clock: ManualClock, minutes: number): Promise<void> {
    for (let m = 0; m < minutes; m++) {
      for (let i = 0; i < 20; i++) monitor.recordRequest({ route: 'GET /item', durationMs: 10, status: i < 2 ? 500 : 200 });
      clock.advance(60_000);
    }
  }
  const sixHour = (monitor: Monitor) => monitor.stats().incidents.burnRate.find((s) => s.slo === 'availability')!.rules.find((r) => r.long.windowMs === 21_600_000)!.long;

  it('a replica restarted under the same name carries on its 6 h window (it did not start blind)', async () => {
    const clock = new ManualClock(Date.UTC(2026, 0, 1, 12));
    const name = `burn-${++service}`;
    const first = join(newMonitor(clock, name, { slos: burnSlos }), 'api-0');
    await first.fleet.ready;
    await traffic(first.monitor, clock, 90);
    const before = sixHour(first.monitor);
    expect(before.requests).toBe(1_800);
    await first.fleet.close(); // graceful stop saves the counters
    clock.advance(30_000);
    const second = join(newMonitor(clock, name, { slos: burnSlos }), 'api-0');
    await second.fleet.ready;
    expect(second.fleet.stats().parts['windows']).toMatchObject({ burnRestoredFrom: 'api-0', burnRestoredStreams: 1 });
    const after = sixHour(second.monitor);
    expect(after.requests).toBe(1_800);
    expect(after.burnRate).toBeCloseTo(before.burnRate!, 9);
  });

  it('a newcomer inherits the counters of a replica that stopped publishing, once (two newcomers do not both take them)', { timeout: 20_000 }, async () => {
    const clock = new ManualClock(Date.UTC(2026, 0, 1, 12));
    const name = `inherit-${++service}`;
    const old = join(newMonitor(clock, name, { slos: burnSlos }), 'api-old', { publishEveryMs: 100 });
    await old.fleet.ready;
    await traffic(old.monitor, clock, 30);
    await old.fleet.close();
    // Wait (by Redis time, polled) until the old replica counts as gone: 2 periods without a publish.
    await vi.waitFor(
      async () => {
        const [seconds, micros] = (await old.redis.time()) as unknown as [string, string];
        const score = await old.redis.zscore(`firebreak:${name}:windows:index`, 'api-old');
        expect(Number(seconds) * 1000 + Math.floor(Number(micros) / 1000) - Number(score)).toBeGreaterThan(200);
      },
      { timeout: 10_000, interval: 50 },
    );
    const n1 = join(newMonitor(clock, name, { slos: burnSlos }), 'api-new-1', { publishEveryMs: 100 });
    const n2 = join(newMonitor(clock, name, { slos: burnSlos }), 'api-new-2', { publishEveryMs: 100 });
    await Promise.all([n1.fleet.ready, n2.fleet.ready]);
    const got = [n1, n2].map((n) => sixHour(n.monitor).requests).sort((x, y) => x - y);
    expect(got).toEqual([0, 600]);
  });
});

import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, createMonitor, type Monitor } from '../../src/index.js';
import { redisFleet, type Fleet } from '../../src/redis/index.js';
import { hasRedisServer, startRedis, type TestRedis } from '../helpers/redis-server.js';

let server: TestRedis;
beforeAll(async () => {
  if (hasRedisServer || process.env['CI']) server = await startRedis();
});
afterAll(() => server?.stop());

const open: Array<{ monitor: Monitor; fleet: Fleet; redis: Redis }> = [];
afterEach(async () => {
  for (const o of open.splice(0)) {
    await o.fleet.close();
    o.redis.disconnect();
    await o.monitor.close();
  }
});

function join(replica: string): { monitor: Monitor; fleet: Fleet; redis: Redis } {
  const monitor = createMonitor({ service: 'checkout' });
  const redis = new Redis(server.url, { lazyConnect: false, maxRetriesPerRequest: 1 });
  redis.on('error', () => {});
  const fleet = redisFleet(monitor, { redis, replica });
  const o = { monitor, fleet, redis };
  open.push(o);
  return o;
}

describe.skipIf(!hasRedisServer && !process.env['CI'])('redisFleet (skipped: redis-server not installed; apt-get install redis-server)', () => {
  it('names the field of a bad option', () => {
    const monitor = createMonitor({ service: 'checkout' });
    expect(() => redisFleet(monitor, { redis: {} as Redis })).toThrow(ConfigError);
    const redis = new Redis(server.url, { lazyConnect: true });
    try {
      expect(() => redisFleet(monitor, { redis, replica: 'a b' })).toThrow(/replica/);
    } finally {
      redis.disconnect();
    }
  });

  it('is ready once synced, and reports the replica', async () => {
    const { fleet, monitor } = join('r1');
    await fleet.ready;
    expect(fleet.stats()).toMatchObject({ replica: 'r1', synced: true });
    const health = await monitor.checkHealth();
    expect(health.checks.find((c) => c.name === 'fleet-sync')?.ok).toBe(true);
  });
});

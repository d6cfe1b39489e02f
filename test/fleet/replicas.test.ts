import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { hasRedisServer, startRedis, type TestRedis } from '../helpers/redis-server.js';
import { startReplica, type Replica } from '../helpers/replicas.js';

const SETUP = new URL('./basic-service.mjs', import.meta.url).pathname;
let server: TestRedis;
beforeAll(async () => {
  if (hasRedisServer || process.env['CI']) server = await startRedis();
});
afterAll(() => server?.stop());
const running: Replica[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((r) => r.stop()));
});

describe.skipIf(!hasRedisServer && !process.env['CI'])('replica processes (skipped: redis-server not installed)', () => {
  it('three replicas start, join the fleet and serve their admin routes', { timeout: 30_000 }, async () => {
    const replicas = await Promise.all(['a', 'b', 'c'].map((replica) => startReplica({ setup: SETUP, replica, redisUrl: server.url })));
    running.push(...replicas);
    await Promise.all(replicas.map((r) => r.ready));
    for (const r of replicas) {
      const res = await fetch(`${r.url}/health/ready`);
      expect(res.status).toBe(200);
      expect(await r.eval<string>('ctx.fleet.stats().replica')).toBe(r.name);
    }
  });
});

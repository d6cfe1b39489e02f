import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { hasRedisServer, startRedis, type TestRedis } from '../helpers/redis-server.js';
import { startReplica, type Replica } from '../helpers/replicas.js';

const SETUP = new URL('./windows-service.mjs', import.meta.url).pathname;
let server: TestRedis;
beforeAll(async () => {
  if (hasRedisServer || process.env['CI']) server = await startRedis();
});
afterAll(() => server?.stop());
const running: Replica[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((r) => r.stop()));
});

interface FleetStatsBody {
  overall: { requests: number; failures: number; latencyMs: { max: number | null } };
  replicas: { merged: string[]; stale: { replica: string }[] };
  status: string;
}

async function fleetStats(r: Replica): Promise<FleetStatsBody> {
  const res = await fetch(`${r.url}/stats/fleet`);
  expect(res.status).toBe(200);
  return (await res.json()) as FleetStatsBody;
}

describe.skipIf(!hasRedisServer && !process.env['CI'])('fleet windows across replica processes (skipped: redis-server not installed)', () => {
  it('GET /stats/fleet on any replica reports the sum of every replica\'s traffic; a killed replica ages out', { timeout: 60_000 }, async () => {
    const service = `windows-${process.pid}`;
    const replicas = await Promise.all(['a', 'b', 'c'].map((replica) => startReplica({ setup: SETUP, replica, redisUrl: server.url, service, publishEveryMs: 200 })));
    running.push(...replicas);
    await Promise.all(replicas.map((r) => r.ready));
    // Real HTTP traffic, a different amount per replica, some failures and one slow request.
    const sent = [7, 11, 13];
    let failures = 0;
    for (const [i, r] of replicas.entries()) {
      for (let k = 0; k < sent[i]!; k++) {
        const status = k % 5 === 4 ? 500 : 200;
        if (status === 500) failures++;
        const res = await fetch(`${r.url}/work?ms=${i === 2 && k === 0 ? 900 : 5 + k}&status=${status}`);
        await res.arrayBuffer();
      }
    }
    const total = sent.reduce((a, b) => a + b, 0);
    for (const r of replicas) {
      await vi.waitFor(
        async () => {
          const s = await fleetStats(r);
          expect(s.replicas.merged.sort()).toEqual(['a', 'b', 'c']);
          expect(s.overall.requests).toBe(total);
          expect(s.overall.failures).toBe(failures);
          expect(s.overall.latencyMs.max).toBe(900);
        },
        { timeout: 15_000, interval: 100 },
      );
    }
    await replicas[2]!.kill();
    await vi.waitFor(
      async () => {
        const s = await fleetStats(replicas[0]!);
        expect(s.replicas.stale.map((x) => x.replica)).toEqual(['c']);
        expect(s.replicas.merged.sort()).toEqual(['a', 'b']);
        expect(s.overall.requests).toBe(sent[0]! + sent[1]!);
      },
      { timeout: 15_000, interval: 100 },
    );
  });
});

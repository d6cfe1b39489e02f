// Issue 13 §3 with real processes: three replicas, one redis-server, a webhook receiver.
// Needs `npm run build` (the replicas load dist/).
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { hasRedisServer, startRedis, type TestRedis } from '../helpers/redis-server.js';
import { startReplica, type Replica } from '../helpers/replicas.js';

const SETUP = new URL('./incident-service.mjs', import.meta.url).pathname;
let server: TestRedis;
beforeAll(async () => {
  if (hasRedisServer || process.env['CI']) server = await startRedis();
});
afterAll(() => server?.stop());

const running: Replica[] = [];
let receiver: Server | undefined;
afterEach(async () => {
  await Promise.all(running.splice(0).map((r) => r.stop()));
  receiver?.closeAllConnections();
  await new Promise<void>((resolve) => (receiver === undefined ? resolve() : receiver.close(() => resolve())));
  receiver = undefined;
});

interface Payload {
  event: string;
  dedupKey: string;
  incidentId: string;
}

async function startReceiver(): Promise<{ url: string; got: Payload[] }> {
  const got: Payload[] = [];
  receiver = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      got.push(JSON.parse(Buffer.concat(chunks).toString()) as Payload);
      res.end('ok');
    });
  });
  await new Promise<void>((resolve) => receiver!.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`, got };
}

async function post(url: string, body: unknown = {}): Promise<Response> {
  return fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
}

async function incidents(r: Replica, status = 'active'): Promise<{ id: string; status: string; acknowledgedAt?: number }[]> {
  const res = await fetch(`${r.url}/admin/incidents?status=${status}`);
  return ((await res.json()) as { incidents: { id: string; status: string }[] }).incidents;
}

/** Lease decisions and notifications in flight on every replica are done. */
async function quiet(rs: Replica[]): Promise<void> {
  await vi.waitFor(
    async () => {
      for (const r of rs) {
        expect(await r.eval("ctx.fleet.stats().parts.incidents")).toMatchObject({ dispatching: 0, pendingClaims: 0 });
        expect(await r.eval('ctx.monitor.flush().then(() => true)')).toBe(true);
      }
    },
    { timeout: 10_000, interval: 50 },
  );
}

describe.skipIf(!hasRedisServer && !process.env['CI'])('one incident per cause, replica processes (skipped: redis-server not installed)', () => {
  it(
    'an outage on 3 replicas: one incident id on every GET /admin/incidents, one page, one remediation; ack on B seen on A and C; the owner SIGKILLed hands over without a second page and the incident still resolves',
    { timeout: 60_000 },
    async () => {
      const hook = await startReceiver();
      const replicas = await Promise.all(['a', 'b', 'c'].map((replica) => startReplica({ setup: SETUP, replica, redisUrl: server.url, receiver: hook.url })));
      running.push(...replicas);
      await Promise.all(replicas.map((r) => r.ready));
      const [a, b, c] = replicas as [Replica, Replica, Replica];

      for (const r of replicas) {
        await post(`${r.url}/fault/on`);
        for (let i = 0; i < 3; i++) expect((await fetch(`${r.url}/work`)).status).toBe(500);
      }
      await Promise.all(replicas.map((r) => post(`${r.url}/admin/incidents/detect`)));

      let id = '';
      await vi.waitFor(
        async () => {
          const lists = await Promise.all(replicas.map((r) => incidents(r)));
          for (const l of lists) expect(l.map((i) => i.id)).toEqual([lists[0]![0]!.id]);
          id = lists[0]![0]!.id;
        },
        { timeout: 10_000, interval: 50 },
      );
      await quiet(replicas);
      await vi.waitFor(() => expect(hook.got.filter((p) => p.event === 'incident:opened')).toHaveLength(1), { timeout: 5_000, interval: 20 });
      const page = hook.got.find((p) => p.event === 'incident:opened')!;
      expect(page).toMatchObject({ incidentId: id, dedupKey: 'checkout:dependency-failure:payments' });
      const runs = await Promise.all(replicas.map((r) => r.eval<number>('ctx.monitor.remediation.settled().then(() => ctx.monitor.remediation.stats().runs)')));
      expect(runs.reduce((s, n) => s + n, 0)).toBe(1);

      // Acknowledge through B's admin route: A and C see it.
      expect((await post(`${b.url}/admin/incidents/${id}/acknowledge`, { note: 'on it' })).status).toBe(200);
      await vi.waitFor(
        async () => {
          for (const r of [a, c]) expect((await incidents(r)).map((i) => i.status)).toEqual(['acknowledged']);
        },
        { timeout: 5_000, interval: 50 },
      );

      // The owner dies mid-incident.
      const ownerName = await a.eval<string>(`ctx.monitor.incidents.get(${JSON.stringify(id)}).fleet.owner`);
      const owner = replicas.find((r) => r.name === ownerName)!;
      const rest = replicas.filter((r) => r !== owner);
      await owner.kill();
      running.splice(running.indexOf(owner), 1);
      await vi.waitFor(
        async () => {
          const owners = await Promise.all(rest.map((r) => r.eval<string>(`ctx.monitor.incidents.get(${JSON.stringify(id)}).fleet.owner`)));
          expect(owners[0]).not.toBe(ownerName);
          expect(rest.map((r) => r.name)).toContain(owners[0]);
        },
        { timeout: 10_000, interval: 100 },
      );

      // The fault stops: the new owner resolves the same incident; nobody paged again.
      for (const r of rest) await post(`${r.url}/fault/off`);
      await vi.waitFor(
        async () => {
          for (const r of rest) {
            await fetch(`${r.url}/work`);
            await post(`${r.url}/admin/incidents/detect`);
          }
          for (const r of rest) expect((await incidents(r, 'resolved')).map((i) => i.id)).toContain(id);
        },
        { timeout: 15_000, interval: 200 },
      );
      await quiet(rest);
      await vi.waitFor(() => expect(hook.got.filter((p) => p.event === 'incident:resolved')).toHaveLength(1), { timeout: 5_000, interval: 20 });
      expect(hook.got.filter((p) => p.event === 'incident:opened' || p.event === 'incident:reopened')).toHaveLength(1);
      expect(new Set(hook.got.map((p) => p.incidentId))).toEqual(new Set([id]));
      for (const r of rest) expect(await incidents(r)).toEqual([]);
    },
  );
});

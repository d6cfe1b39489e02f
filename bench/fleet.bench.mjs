// The fleet (firebreak/redis), against a local redis-server with persistence off.
// Run through `npm run bench` (builds first); bench/run.mjs calls the default export.
// Targets (issue 13): a lever change reaches every replica with p99 ≤ 50 ms on
// loopback (3 monitors, each with its own connections, in this process); the hot
// path is unchanged with the fleet attached: feature.isEnabled() costs the same.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { Redis } from 'ioredis';
import { createMonitor } from '../dist/index.js';
import { redisFleet } from '../dist/redis.js';
import { exactQuantile, interleave, bestRatio } from './lib.mjs';

export const title = 'Fleet: lever propagation through Redis, hot path with the fleet attached';
export const order = 90;

const CHANGES = 300;

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

async function startRedis(bin) {
  const port = await freePort();
  const child = spawn(bin, ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
  // Wait until it accepts connections (it takes a few ms to bind).
  for (let i = 0; ; i++) {
    const probe = new Redis(`redis://127.0.0.1:${port}`, { lazyConnect: true, retryStrategy: () => null, maxRetriesPerRequest: 0 });
    probe.on('error', () => {});
    try {
      await probe.connect();
      await probe.ping();
      probe.disconnect();
      break;
    } catch (err) {
      probe.disconnect();
      if (i > 200) throw err;
      await new Promise((r) => setTimeout(r, 20));
    }
  }
  return { url: `redis://127.0.0.1:${port}`, stop: () => new Promise((r) => (child.once('exit', r), child.kill('SIGTERM'))) };
}

/** Resolves with the ms until `done()` holds, checking on every turn of the event loop. */
function until(done, t0) {
  return new Promise((resolve, reject) => {
    const deadline = t0 + 5_000;
    const check = () => {
      if (done()) return resolve(performance.now() - t0);
      if (performance.now() > deadline) return reject(new Error('a change did not reach every replica within 5 s'));
      setImmediate(check);
    };
    check();
  });
}

export default async function fleet(ctx) {
  const bin = [process.env.REDIS_SERVER, '/usr/bin/redis-server', '/usr/local/bin/redis-server'].find((p) => p && existsSync(p));
  if (bin === undefined) {
    ctx.log('skipped: redis-server not installed (apt-get install redis-server)');
    return;
  }
  const server = await startRedis(bin);
  const members = [];
  try {
    for (const replica of ['a', 'b', 'c']) {
      const monitor = createMonitor({ service: 'bench' });
      monitor.feature('recommendations');
      const redis = new Redis(server.url);
      redis.on('error', () => {});
      const fleet = redisFleet(monitor, { redis, replica });
      members.push({ monitor, redis, fleet, feature: monitor.controls.features.get('recommendations') });
    }
    await Promise.all(members.map((m) => m.fleet.ready));

    // Propagation: toggle the kill switch on a rotating replica; time until all three agree.
    const times = [];
    for (let i = 0; i < CHANGES; i++) {
      const from = members[i % members.length];
      const enabled = !from.feature.isEnabled();
      const t0 = performance.now();
      if (enabled) from.feature.enable({ by: 'bench' });
      else from.feature.disable({ by: 'bench' });
      times.push(await until(() => members.every((m) => m.feature.isEnabled() === enabled), t0));
    }
    times.sort((a, b) => a - b);
    const p50 = exactQuantile(times, 0.5);
    const p99 = exactQuantile(times, 0.99);
    ctx.log(`lever change → all 3 replicas (${CHANGES} changes, loopback): p50 ${p50.toFixed(2)} ms, p99 ${p99.toFixed(2)} ms, max ${times.at(-1).toFixed(2)} ms`);
    ctx.target('propagation p99, 3 replicas', { value: p99, limit: 50, format: (v) => `${v.toFixed(2)} ms` });

    // Hot path: isEnabled() on a monitor with the fleet attached vs one without.
    const alone = createMonitor({ service: 'bench-alone' }).feature('recommendations');
    const joined = members[0].feature;
    let sink = 0;
    const r = interleave({
      without: (n) => {
        for (let i = 0; i < n; i++) if (alone.isEnabled()) sink++;
      },
      with: (n) => {
        for (let i = 0; i < n; i++) if (joined.isEnabled()) sink++;
      },
    });
    const ratio = bestRatio(r.with, r.without);
    ctx.log(`feature.isEnabled(): ${r.without.nsPerOp.toFixed(2)} ns without the fleet, ${r.with.nsPerOp.toFixed(2)} ns with it (fastest batches: ×${ratio.toFixed(2)})${sink < 0 ? '' : ''}`);
    ctx.target('isEnabled() with fleet ÷ without', { value: ratio, limit: 1.3, format: (v) => `×${v.toFixed(2)}` });
  } finally {
    for (const m of members) {
      await m.fleet.close();
      m.redis.disconnect();
      await m.monitor.close();
    }
    await server.stop();
  }
}

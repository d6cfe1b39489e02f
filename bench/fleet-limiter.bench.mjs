// The fleet limiter's check() (counts shared through Redis, decided locally)
// against rate-limiter-flexible's RateLimiterRedis.consume() (one Redis round
// trip per request) on the same redis-server, allowed path and rejected path.
// Needs redis-server (Debian package `redis-server`, or $REDIS_SERVER); the
// section is skipped with a message when it is absent.
//
//   npm run build && node bench/run.mjs fleet-limiter
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import { Redis } from 'ioredis';
import { RateLimiterRedis } from 'rate-limiter-flexible';
import { createMonitor } from '../dist/index.js';
import { redisFleet } from '../dist/redis.js';

export const title = 'Fleet limiter check() vs RateLimiterRedis.consume() on one redis-server';
export const order = 60;

let sink = 0;

function nsPerOp(fn, iterations, rounds = 7) {
  for (let i = 0; i < iterations; i++) fn(i);
  const samples = [];
  for (let r = 0; r < rounds; r++) {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < iterations; i++) fn(i);
    samples.push(Number(process.hrtime.bigint() - t0) / iterations);
  }
  samples.sort((a, b) => a - b);
  return samples[Math.floor(rounds / 2)];
}

async function nsPerAsyncOp(fn, iterations, rounds = 5) {
  for (let i = 0; i < iterations; i++) await fn(i);
  const samples = [];
  for (let r = 0; r < rounds; r++) {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < iterations; i++) await fn(i);
    samples.push(Number(process.hrtime.bigint() - t0) / iterations);
  }
  samples.sort((a, b) => a - b);
  return samples[Math.floor(rounds / 2)];
}

const freePort = () =>
  new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });

const ping = (port) =>
  new Promise((resolve) => {
    const s = connect(port, '127.0.0.1');
    s.once('error', () => resolve(false));
    s.once('connect', () => s.write('PING\r\n'));
    s.once('data', (d) => {
      s.destroy();
      resolve(d.toString().startsWith('+PONG'));
    });
  });

async function startRedis() {
  const bin = [process.env.REDIS_SERVER, '/usr/bin/redis-server', '/usr/local/bin/redis-server'].find((p) => p && existsSync(p));
  if (bin === undefined) return undefined;
  const port = await freePort();
  const proc = spawn(bin, ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
  for (let i = 0; i < 400 && !(await ping(port)); i++) await new Promise((r) => setTimeout(r, 25));
  return { url: `redis://127.0.0.1:${port}`, stop: () => proc.kill('SIGTERM') };
}

const fmt = (ns) => `${ns >= 10_000 ? (ns / 1000).toFixed(1).padStart(7) + ' µs' : ns.toFixed(1).padStart(7) + ' ns'}`;

export default async function fleetLimiterBench(ctx = { log: console.log, target() {} }) {
  const server = await startRedis();
  if (server === undefined) {
    ctx.log('  skipped: redis-server not installed (apt-get install redis-server, or set REDIS_SERVER)');
    return;
  }
  const redis = new Redis(server.url);
  redis.on('error', () => {});
  const monitor = createMonitor({ service: 'bench' });
  const keys = Array.from({ length: 1024 }, (_, i) => `user-${i * 7919}`);
  const allow = monitor.rateLimiter('allow', { maxRequests: 1e9, windowSeconds: 60, maxKeys: 10_000 });
  const reject = monitor.rateLimiter('reject', { maxRequests: 1, windowSeconds: 3600 });
  const fleet = redisFleet(monitor, { redis, replica: 'bench-1' });
  await fleet.ready;
  try {
    const M = 1_000_000;
    // Ours: synchronous; the sync timer runs between the timed rounds' event-loop turns only, as in a service.
    const check = nsPerOp((i) => (sink += allow.check(keys[i & 1023]).remaining & 1), M);
    for (const k of keys) reject.check(k);
    const checkRej = nsPerOp((i) => (sink += reject.check(keys[i & 1023]).allowed ? 1 : 0), M);

    // The same limiters with no fleet attached: what the fleet adds to the hot path.
    const alone = createMonitor({ service: 'bench-alone' });
    const allowAlone = alone.rateLimiter('allow', { maxRequests: 1e9, windowSeconds: 60, maxKeys: 10_000 });
    const rejectAlone = alone.rateLimiter('reject', { maxRequests: 1, windowSeconds: 3600 });
    const checkAlone = nsPerOp((i) => (sink += allowAlone.check(keys[i & 1023]).remaining & 1), M);
    for (const k of keys) rejectAlone.check(k);
    const checkRejAlone = nsPerOp((i) => (sink += rejectAlone.check(keys[i & 1023]).allowed ? 1 : 0), M);
    await alone.close();

    const theirs = new RateLimiterRedis({ storeClient: redis, keyPrefix: 'rlf-allow', points: 1e9, duration: 60 });
    const theirsTight = new RateLimiterRedis({ storeClient: redis, keyPrefix: 'rlf-reject', points: 1, duration: 3600 });
    const A = 3_000;
    const consume = await nsPerAsyncOp((i) => theirs.consume(keys[i & 1023]).then((r) => (sink += r.remainingPoints & 1)), A);
    for (const k of keys) await theirsTight.consume(k).catch(() => undefined);
    const consumeRej = await nsPerAsyncOp(
      (i) => theirsTight.consume(keys[i & 1023]).then(() => (sink += 1), (r) => (sink += r.msBeforeNext & 1)),
      A,
    );
    const stats = fleet.stats().parts.limiter;
    ctx.log(`  limiter.check(key) without a fleet, allowed          ${fmt(checkAlone)}`);
    ctx.log(`  limiter.check(key) without a fleet, rejected         ${fmt(checkRejAlone)}`);
    ctx.log(`  RateLimiterRedis.consume(key), allowed (awaited)     ${fmt(consume)}`);
    ctx.log(`  fleet limiter check(key), allowed                    ${fmt(check)}   ${(consume / check).toFixed(0)}× faster`);
    ctx.log(`  RateLimiterRedis.consume(key), rejected (awaited)    ${fmt(consumeRej)}`);
    ctx.log(`  fleet limiter check(key), rejected                   ${fmt(checkRej)}   ${(consumeRej / checkRej).toFixed(0)}× faster`);
    ctx.log(`  fleet syncs during the run: ${stats.syncs} (last round trip ${Number(stats.lastSyncMs).toFixed(2)} ms), degraded: ${stats.degraded}`);
    const pct = (v) => `${(v * 100).toFixed(2)} %`;
    ctx.target('fleet check() / RateLimiterRedis.consume(), allowed', { value: check / consume, limit: 0.1, format: pct });
    ctx.target('fleet check() / RateLimiterRedis.consume(), rejected', { value: checkRej / consumeRej, limit: 0.1, format: pct });
  } finally {
    await fleet.close();
    await monitor.close();
    redis.disconnect();
    server.stop();
  }
  if (sink === 42.5) ctx.log('');
}

if (import.meta.url === `file://${process.argv[1]}`) await fleetLimiterBench();

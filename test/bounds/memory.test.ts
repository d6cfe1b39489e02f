import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { createMonitor, MAX_ARMS, MAX_KEY_LENGTH, MAX_NAME_LENGTH, type Monitor } from '../../src/index.js';
import { ManualClock } from '../../src/testing/index.js';
import { fixedProbes } from '../helpers/probes.js';

// gc() without --expose-gc on the command line: set the flag, then fetch gc from a fresh context.
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

/**
 * Heap in use plus memory outside it (typed arrays' buffers live there),
 * after collecting until the heap stops shrinking (as bench/memory.bench.mjs measures).
 */
function heapUsed(): number {
  let heap = Infinity;
  for (let i = 0; i < 12; i++) {
    gc();
    const h = process.memoryUsage().heapUsed;
    if (h >= heap && i >= 4) break;
    heap = Math.min(heap, h);
  }
  const m = process.memoryUsage();
  return m.heapUsed + m.external;
}

// The bounds docs/limits.md states for the defaults (5-minute window in 10 s slots).
const KIB = 1024;
const MIB = 1024 * KIB;
/**
 * One request series (route or arm) at the default window with a request in
 * every slot, its name included. Series memory follows traffic; the worst
 * case of heavy traffic spread over every bucket is bounded separately
 * (test/metrics/latency-window.test.ts, docs/limits.md).
 */
const ROUTE_SERIES_BYTES = 8 * KIB;
/** One rate-limiter key with its count, in the key LRU. */
const LIMITER_KEY_BYTES = 600;
/** One blocked key with its end time. */
const BLOCKED_KEY_BYTES = 400;
/** Bytes of `/metrics` per route series (17 samples, name ≤ 256 characters). */
const METRICS_BYTES_PER_ROUTE = 7 * KIB;

const probes = fixedProbes();
/** A 16 KiB string unique in its first characters, made fresh so the host's copy is garbage after use. */
const huge = (i: number) => `${i}:${'x'.repeat(16 * KIB)}`;

function fill(clock: ManualClock, monitor: Monitor, routes: number): void {
  // Touch every slot of every series, so the window is as full as it gets.
  for (let slot = 0; slot < 31; slot++) {
    for (let i = 0; i < routes; i++) {
      monitor.recordRequest({ route: `GET /${huge(i)}`, durationMs: 1 + ((i * 7 + slot) % 5000), status: slot % 3 === 0 ? 503 : 200 });
    }
    for (let a = 0; a < MAX_ARMS; a++) monitor.recordRequest({ route: 'GET /arm', durationMs: 3 + slot, arm: `${a}`.padEnd(MAX_NAME_LENGTH, 'a') });
    for (let c = 0; c < 50; c++) monitor.recordCache(huge(c), slot % 2 === 0);
    clock.advance(10_000);
  }
}

describe('the memory bound an attacker can reach (docs/limits.md)', () => {
  it('max routes with max-length names, max arms and caches stay under the stated bytes, and so does /metrics', async () => {
    const warm = new ManualClock();
    const warmMonitor = createMonitor({ service: 'warm', clock: warm, probes });
    fill(warm, warmMonitor, 20); // compiled code and feedback are not series memory
    const clock = new ManualClock();
    const before = heapUsed();
    const monitor = createMonitor({ service: 'attacked', clock, probes });
    fill(clock, monitor, 400); // twice maxRoutes (200): the rest goes to __other__
    const grown = heapUsed() - before;

    const stats = monitor.stats();
    expect(Object.keys(stats.routes)).toHaveLength(200 + 1); // maxRoutes + __other__
    for (const name of Object.keys(stats.routes)) expect(name.length).toBeLessThanOrEqual(MAX_NAME_LENGTH);
    expect(Object.keys(stats.arms)).toHaveLength(MAX_ARMS);
    const series = Object.keys(stats.routes).length + MAX_ARMS;
    expect(grown).toBeLessThan(series * ROUTE_SERIES_BYTES + 50 * 2 * KIB + 1 * MIB);

    const body = Buffer.byteLength(await monitor.metrics());
    expect(body).toBeLessThan(Object.keys(stats.routes).length * METRICS_BYTES_PER_ROUTE + 50 * 1 * KIB + 64 * KIB);
    expect(warmMonitor.store.routes.size).toBeGreaterThan(0);
  });

  it('10,000 limiter keys and 10,000 blocked keys of 16 KiB stay under the stated bytes', () => {
    const clock = new ManualClock();
    const monitor = createMonitor({ service: 'limited', clock, probes });
    const warm = monitor.rateLimiter('warm', { maxRequests: 1, windowSeconds: 60, maxKeys: 100, maxBlocked: 100 });
    for (let i = 0; i < 200; i++) {
      warm.check(huge(i));
      warm.check(huge(i));
      warm.block(huge(i));
    }
    const before = heapUsed();
    const limiter = monitor.rateLimiter('api', { maxRequests: 1, windowSeconds: 60 });
    for (let i = 0; i < 12_000; i++) {
      limiter.check(huge(i));
      limiter.check(huge(i)); // limited: feeds top offenders
      limiter.block(huge(i));
    }
    const grown = heapUsed() - before;
    const s = limiter.stats();
    expect(s.keys).toBe(10_000);
    expect(s.blocked).toHaveLength(10_000);
    for (const { key } of s.blocked.slice(0, 100)) expect(key.length).toBeLessThanOrEqual(MAX_KEY_LENGTH);
    expect(grown).toBeLessThan(10_000 * (LIMITER_KEY_BYTES + BLOCKED_KEY_BYTES) + 1 * MIB);
    // Still answers for the original key.
    expect(limiter.check(huge(11_999))).toMatchObject({ allowed: false, blocked: true });
  });
});

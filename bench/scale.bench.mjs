// How the cost around the hot path scales (issue 14): with the number of route
// series (10 → 100 → 1,000 → 10,000) and with the window length (5 min, 1 h,
// 6 h). Public APIs only (createMonitor, recordRequest, evaluate, stats,
// metrics), so the tables keep measuring whatever the window internals become.
//
//   node --expose-gc bench/run.mjs scale
//   FIREBREAK_BENCH_MAX_ROUTES=1000 node --expose-gc bench/run.mjs scale   # skip the larger sizes
import { createMonitor } from '../dist/index.js';
import { ManualClock } from '../dist/testing.js';
import { fmt, interleave, logNormal, prng } from './lib.mjs';

export const title = 'scaling: route count (10 → 10,000) and window length (5 min, 1 h, 6 h)';
export const order = 45;

const MAX_ROUTES = Number(process.env.FIREBREAK_BENCH_MAX_ROUTES ?? 10_000);
const SIZES = [10, 100, 1_000, 10_000].filter((n) => n <= MAX_ROUTES);
const GLOBAL_SLOS = [
  { name: 'latency-p95', kind: 'latency', quantile: 0.95, thresholdMs: 800 },
  { name: 'latency-p99', kind: 'latency', quantile: 0.99, thresholdMs: 2000 },
  { name: 'availability', kind: 'success-rate', objective: 0.995 },
];

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s[s.length >> 1];
}

function heap() {
  // Collect until the heap stops shrinking (V8 flushes some things only after a few full GCs).
  let best = Infinity;
  for (let i = 0; i < 8; i++) {
    globalThis.gc?.();
    const m = process.memoryUsage();
    const h = m.heapUsed + m.external;
    if (h >= best && i >= 3) break;
    best = Math.min(best, h);
  }
  return best;
}

function msOf(fn, calls, clock) {
  const times = [];
  for (let i = 0; i < calls; i++) {
    clock?.advance(100);
    const t0 = process.hrtime.bigint();
    fn();
    times.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  return median(times.slice(Math.floor(calls / 4))); // the first quarter warms up
}

async function asyncMsOf(fn, calls, clock) {
  const times = [];
  for (let i = 0; i < calls; i++) {
    clock?.advance(100);
    const t0 = process.hrtime.bigint();
    await fn();
    times.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  return median(times.slice(Math.floor(calls / 4)));
}

/**
 * `recordRequest` ns/op over `routes`, visited in a random order (a service's
 * traffic does not walk its routes in sequence), on a started monitor.
 */
function recordCost(routes, window) {
  const values = logNormal(4096, { seed: 9 });
  const rand = prng(13);
  const order = Uint32Array.from({ length: 1 << 16 }, () => Math.floor(rand() * routes.length));
  const monitor = createMonitor({ service: 'bench-record', maxRoutes: Math.max(routes.length, 1), ...(window ? { window } : {}) }).start();
  // Every route sees the whole latency range first: the pages of its window are touched (the OS
  // maps zeroed memory on first write) before anything is timed.
  for (const route of routes) for (let v = 0; v < 64; v++) monitor.recordRequest({ route, durationMs: values[(v * 61) & 4095], status: 200 });
  let j = 0;
  const run = (n) => {
    for (let i = 0; i < n; i++, j++) {
      monitor.recordRequest({ route: routes[order[j & 0xffff]], durationMs: values[j & 4095], status: 200 });
    }
  };
  const r = interleave({ run }, { rounds: 15, batchMs: 5, warmupMs: 100 });
  monitor.stop();
  return r.run.nsPerOp;
}

export default async function scale(ctx) {
  const show = (name, header, rows) => (ctx.table ? ctx.table(name, header, rows) : ctx.log(rows.map((r) => r.join('  ')).join('\n')));
  const values = logNormal(4096, { seed: 3, sigma: 0.9 });

  // --- route count -------------------------------------------------------
  ctx.log('Route count: 3 global SLOs, every route with traffic in every slot of the 5-minute window');
  ctx.log(`(${SIZES.join(', ')} routes; set FIREBREAK_BENCH_MAX_ROUTES to stop earlier)`);
  const rows = [];
  // Every monitor is kept until the tables are done: array buffers are released in the
  // background, and one freed during a later measurement would be subtracted from it.
  const kept = [];
  for (const size of SIZES) {
    const routes = Array.from({ length: size }, (_, i) => `GET /api/v1/r${i}/:id`);
    const before = heap();
    const clock = new ManualClock();
    const monitor = createMonitor({ service: 'bench-scale', clock, maxRoutes: size, slos: GLOBAL_SLOS });
    // Three requests per route per 10-second slot: a full window on every route, with a few
    // failures so the success-rate SLO has something to count.
    const rand = prng(21);
    let k = 0;
    for (let slot = 0; slot < 30; slot++) {
      for (const route of routes) {
        for (let r = 0; r < 3; r++, k++) monitor.recordRequest({ route, durationMs: values[k & 4095], status: rand() < 0.004 ? 503 : 200 });
      }
      clock.advance(10_000);
    }
    const after = heap();
    if (monitor.stats().overall.requests === 0) throw new Error('nothing recorded: the bench is broken');
    const calls = size >= 10_000 ? 8 : size >= 1_000 ? 20 : 60;
    const evaluate = msOf(() => monitor.evaluate(), calls, clock);
    const stats = msOf(() => monitor.stats(), calls, clock);
    const metrics = await asyncMsOf(() => monitor.metrics(), Math.max(6, calls / 2), clock);
    const bytes = after - before;
    kept.push(monitor);
    const record = recordCost(routes);
    rows.push([size.toLocaleString('en'), fmt.ns(record), fmt.ms(evaluate), fmt.ms(stats), fmt.ms(metrics), `${(bytes / 1024 / 1024).toFixed(1)} MiB`, fmt.kib(bytes / size)]);
    if (size === SIZES[SIZES.length - 1]) {
      ctx.target(`recordRequest at ${size.toLocaleString('en')} routes, random order`, { value: record, limit: 150, format: fmt.ns });
      ctx.target(`evaluate(), 3 global SLOs, ${size.toLocaleString('en')} routes`, { value: evaluate, limit: 1, format: fmt.ms });
      ctx.target(`stats(), ${size.toLocaleString('en')} routes`, { value: stats, limit: 5, format: fmt.ms });
      if (size === 10_000) ctx.target('whole monitor at 10,000 routes (heap + external)', { value: bytes / 1024 / 1024, limit: 100, format: (v) => `${v.toFixed(1)} MiB` });
    }
    monitor.stop();
  }
  show('route count', ['routes', 'record ns/op', 'evaluate()', 'stats()', 'metrics()', 'monitor memory', 'per route'], rows);

  // --- window length -----------------------------------------------------
  ctx.log('');
  ctx.log('Window length: 200 routes; "busy" = 10 req/s per route for the whole window (log-normal latency),');
  ctx.log('capped at 3 requests per slot per route beyond 30 slots (the slots are what costs memory); "idle" = one request');
  const windows = [
    { label: '5 min (30 × 10 s)', window: { durationMs: 300_000, slotMs: 10_000 } },
    { label: '1 h (360 × 10 s)', window: { durationMs: 3_600_000, slotMs: 10_000 } },
    { label: '6 h (360 × 60 s)', window: { durationMs: 21_600_000, slotMs: 60_000 } },
  ];
  const ROUTES = 200;
  const routes = Array.from({ length: ROUTES }, (_, i) => `GET /api/v1/w${i}/:id`);
  const wrows = [];
  for (const { label, window } of windows) {
    const slots = window.durationMs / window.slotMs;
    const perSlot = slots <= 30 ? Math.round((10 * window.slotMs) / 1000) : 3;
    // Idle: one request per route.
    let before = heap();
    const idleClock = new ManualClock();
    const idle = createMonitor({ service: 'bench-idle', clock: idleClock, maxRoutes: ROUTES, window });
    for (const route of routes) idle.recordRequest({ route, durationMs: 12, status: 200 });
    const idleBytes = (heap() - before) / ROUTES;
    // Busy: every slot of every route holds traffic.
    before = heap();
    const clock = new ManualClock();
    const busy = createMonitor({ service: 'bench-busy', clock, maxRoutes: ROUTES, window });
    let k = 0;
    for (let s = 0; s < slots; s++) {
      for (const route of routes) for (let r = 0; r < perSlot; r++, k++) busy.recordRequest({ route, durationMs: values[k & 4095], status: 200 });
      clock.advance(window.slotMs);
    }
    const busyBytes = (heap() - before) / ROUTES;
    if (idle.stats().overall.requests === 0 || busy.stats().overall.requests === 0) throw new Error('nothing recorded: the bench is broken');
    idle.stop();
    busy.stop();
    kept.push(idle, busy);
    wrows.push([label, window, fmt.kib(idleBytes), fmt.kib(busyBytes), String(perSlot)]);
  }
  // Record costs last, once every memory reading is taken.
  for (const row of wrows) row[1] = fmt.ns(recordCost(routes, row[1]));
  if (kept.length === 0) throw new Error('unreachable');
  show('window length', ['window', 'record ns/op', 'idle route', 'busy route', 'requests per slot per route'], wrows);
}

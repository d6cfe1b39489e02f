// Scale: memory per route series (idle, 10 req/s), the whole monitor at the
// 10,000-route cap, evaluate() and stats() at 9,999 routes, recordRequest at
// 20 and 9,999 routes.
//
//   node --expose-gc bench/run.mjs scale-memory
//   FIREBREAK_DIST=/path/to/other/dist FIREBREAK_BENCH_SCALE_LIGHT=1 node --expose-gc bench/run.mjs scale-memory
//     the same against another build; LIGHT skips the whole-monitor and 1 h window rows (a dense
//     build needs 705 KiB per route per hour of window: 7 GB for 10,000 routes)
import { pathToFileURL } from 'node:url';
import { join } from 'node:path';
import { fmt, interleave, logNormal, prng, table } from './lib.mjs';

const LIGHT = process.env.FIREBREAK_BENCH_SCALE_LIGHT === '1';
const dist = process.env.FIREBREAK_DIST ?? new URL('../dist', import.meta.url).pathname;
const { createMonitor } = await import(pathToFileURL(join(dist, 'index.js')).href);
const { ManualClock } = await import(pathToFileURL(join(dist, 'testing.js')).href);

export const title = 'scale: memory per route, the monitor at 10,000 routes, evaluate()/stats()/recordRequest at 9,999 routes';
export const order = 35;

const SLOT = 10_000;
const SLOTS = 30;
const SERIES = 200;
const values = logNormal(1 << 16, { seed: 9, sigma: 1.0 });
const MASK = (1 << 16) - 1;

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s[s.length >> 1];
}

function snapshot() {
  let heap = Infinity;
  for (let i = 0; i < 12; i++) {
    globalThis.gc();
    const h = process.memoryUsage().heapUsed;
    if (h >= heap && i >= 4) break;
    heap = Math.min(heap, h);
  }
  const m = process.memoryUsage();
  return m.heapUsed + m.external + m.arrayBuffers * 0;
}

/** Zipf(1) shares over n routes: route k gets 1 / (k · H(n)). */
function zipf(n) {
  let h = 0;
  for (let k = 1; k <= n; k++) h += 1 / k;
  return Float64Array.from({ length: n }, (_, k) => 1 / ((k + 1) * h));
}

/**
 * Fills a window of `slots` slots: per slot, route i gets `perSlot[i]` records
 * (fractions carried to the next slot, so a route at 0.01 req/s gets its 3 per window).
 */
function fill(clock, monitor, routes, perSlot, slots) {
  const carry = new Float64Array(routes.length);
  let k = 0;
  for (let s = 0; s < slots; s++) {
    for (let i = 0; i < routes.length; i++) {
      carry[i] += perSlot[i];
      const n = Math.floor(carry[i]);
      carry[i] -= n;
      const route = routes[i];
      for (let r = 0; r < n; r++, k++) monitor.recordRequest({ route, durationMs: values[k & MASK], status: (k & 255) === 0 ? 503 : 200 });
    }
    clock.advance(SLOT);
  }
}

/** Bytes per route series: heap + external delta over `count` routes, the monitor's own cost excluded. */
function perSeries(perSlotRate, { idle = false, count = SERIES, slots = SLOTS } = {}) {
  const routes = Array.from({ length: count }, (_, i) => `GET /api/v1/resource${i}/:id`);
  const clock = new ManualClock();
  const monitor = createMonitor({ service: 'mem', clock, maxRoutes: Math.max(200, count + 1), window: { durationMs: SLOT * slots, slotMs: SLOT } });
  const before = snapshot();
  fill(clock, monitor, routes, new Float64Array(count).fill(perSlotRate), slots);
  if (idle) {
    clock.advance(SLOT * slots);
    monitor.stats(); // a read brings every window up to date
  }
  const after = snapshot();
  if (monitor.store.routes.size !== count) throw new Error('series were not all created');
  return { bytes: (after - before) / count, arrays: monitor.store.routes.get(routes[0]).bytes, monitor };
}

/** Bytes of a whole monitor at `count` routes with the given per-route rates (req/s). */
function wholeMonitor(rates, slots = SLOTS) {
  const routes = Array.from({ length: rates.length }, (_, i) => `GET /api/v1/resource${i}/:id`);
  const before = snapshot();
  const clock = new ManualClock();
  const monitor = createMonitor({ service: 'whole', clock, maxRoutes: 10_000, window: { durationMs: SLOT * slots, slotMs: SLOT } });
  fill(clock, monitor, routes, rates.map((r) => (r * SLOT) / 1000), slots);
  const after = snapshot();
  return { bytes: after - before, monitor, clock, routes };
}

function timeCalls(clock, fn, calls = 60, warmup = 20) {
  const times = [];
  for (let i = 0; i < calls + warmup; i++) {
    clock.advance(100);
    const t0 = process.hrtime.bigint();
    fn();
    const dt = Number(process.hrtime.bigint() - t0) / 1e6;
    if (i >= warmup) times.push(dt);
  }
  return median(times);
}

export default async function scale(ctx) {
  const MB = 1e6;
  const rows = [];
  const idle = perSeries(10 * (SLOT / 1000), { idle: true });
  rows.push(['idle route series (had traffic, window since passed)', fmt.kib(idle.bytes), fmt.kib(idle.arrays)]);
  const ten = perSeries(10 * (SLOT / 1000));
  rows.push(['route series at 10 req/s, log-normal σ = 1 (3,000 records in the window)', fmt.kib(ten.bytes), fmt.kib(ten.arrays)]);
  const hundred = perSeries(100 * (SLOT / 1000), { count: 50 });
  rows.push(['route series at 100 req/s (30,000 records in the window)', fmt.kib(hundred.bytes), fmt.kib(hundred.arrays)]);
  if (!LIGHT) {
    const hour = perSeries(10 * (SLOT / 1000), { count: 50, slots: 360 });
    rows.push(['route series at 10 req/s, 1 h window (360 slots, 36,000 records)', fmt.kib(hour.bytes), fmt.kib(hour.arrays)]);
  }
  ctx.log(table(['series (default window: 5 min in 10 s slots)', 'measured (heap + external)', 'typed arrays (.bytes)'], rows));

  // The whole monitor at the cap: Zipf(1) traffic, 1,000 req/s in all (the busiest route ~100 req/s,
  // the quietest 0.01 req/s), then every route at 10 req/s (100,000 req/s).
  const shares = zipf(10_000);
  const zipfRates = shares.map((s) => s * 1000);
  let wholeMB = NaN;
  const whole = LIGHT
    ? { clock: new ManualClock(), routes: Array.from({ length: 10_000 }, (_, i) => `GET /api/v1/resource${i}/:id`) }
    : wholeMonitor(zipfRates);
  if (!LIGHT) {
  wholeMB = whole.bytes / MB;
  const hourWhole = wholeMonitor(zipfRates, 360);
  const hourMB = hourWhole.bytes / MB;
  const busy = wholeMonitor(new Float64Array(10_000).fill(10));
  const busyMB = busy.bytes / MB;
  ctx.log('');
  ctx.log(
    table(
      ['monitor at 10,000 routes', 'MB (heap + external)'],
      [
        ['Zipf(1), 1,000 req/s in all, 5 min window', wholeMB.toFixed(1)],
        ['Zipf(1), 1,000 req/s in all, 1 h window (360 slots)', hourMB.toFixed(1)],
        ['every route at 10 req/s (100,000 req/s), 5 min window', busyMB.toFixed(1)],
      ],
    ),
  );
  }

  // Reads at 9,999 routes (the Zipf monitor above; 3 global SLOs).
  const { clock } = whole;
  const m3 = createMonitor({
    service: 'reads',
    clock,
    maxRoutes: 10_000,
    slos: [
      { name: 'p95', kind: 'latency', quantile: 0.95, thresholdMs: 800 },
      { name: 'p99', kind: 'latency', quantile: 0.99, thresholdMs: 2000 },
      { name: 'availability', kind: 'success-rate', objective: 0.995 },
    ],
  });
  fill(clock, m3, whole.routes.slice(0, 9_999), zipfRates.slice(0, 9_999).map((r) => (r * SLOT) / 1000), SLOTS);
  const evalMs = timeCalls(clock, () => m3.evaluate());
  const statsMs = timeCalls(clock, () => m3.stats(), 20, 5);
  const st = m3.stats();
  ctx.log('');
  ctx.log(
    table(
      ['read at 9,999 routes (Zipf traffic, 300,000 requests in the window)', 'median'],
      [
        ['evaluate(), 3 global SLOs (p95, p99, success rate)', fmt.ms(evalMs)],
        [`stats() (routes listed: ${Object.keys(st.routes).length})`, fmt.ms(statsMs)],
      ],
    ),
  );

  // recordRequest: started (system clock), 20 routes vs 9,999 routes in random order; 20 routes not started.
  const N = 1 << 16;
  const rand = prng(21);
  const many = Array.from({ length: 9_999 }, (_, i) => `GET /api/v1/resource${i}/:id`);
  const manyOrder = Uint16Array.from({ length: N }, () => Math.floor(rand() * many.length));
  const few = many.slice(0, 20);
  const fewOrder = Uint8Array.from({ length: N }, () => Math.floor(rand() * 20));
  const mk = () => createMonitor({ service: 'rec', maxRoutes: 10_000, slos: [{ name: 'availability', kind: 'success-rate', objective: 0.995 }] });
  const a = mk().start();
  const b = mk().start();
  const c = mk();
  for (const r of many) b.recordRequest({ route: r, durationMs: 1, status: 200 });
  let i = 0;
  let j = 0;
  let k = 0;
  const res = interleave(
    {
      r20: (n) => {
        for (let x = 0; x < n; x++, i++) a.recordRequest({ route: few[fewOrder[i & (N - 1)]], durationMs: values[i & MASK], status: 200 });
      },
      r9999: (n) => {
        for (let x = 0; x < n; x++, j++) b.recordRequest({ route: many[manyOrder[j & (N - 1)]], durationMs: values[j & MASK], status: 200 });
      },
      idle20: (n) => {
        for (let x = 0; x < n; x++, k++) c.recordRequest({ route: few[fewOrder[k & (N - 1)]], durationMs: values[k & MASK], status: 200 });
      },
    },
    { rounds: 30, batchMs: 3 },
  );
  a.stop();
  b.stop();
  ctx.log('');
  ctx.log(
    table(
      ['recordRequest', 'ns/op best', 'ns/op median'],
      [
        ['20 routes, started', fmt.ns(res.r20.min), fmt.ns(res.r20.nsPerOp)],
        ['9,999 routes, random order, started', fmt.ns(res.r9999.min), fmt.ns(res.r9999.nsPerOp)],
        ['20 routes, not started (reads the clock per record)', fmt.ns(res.idle20.min), fmt.ns(res.idle20.nsPerOp)],
      ],
    ),
  );

  ctx.target('idle route series', { value: idle.bytes, limit: 1 * 1024, format: fmt.kib });
  ctx.target('route series at 10 req/s', { value: ten.bytes, limit: 8 * 1024, format: fmt.kib });
  if (!LIGHT) ctx.target('monitor at 10,000 routes, Zipf 1,000 req/s (MB)', { value: wholeMB, limit: 100, format: (v) => `${v.toFixed(1)} MB` });
  ctx.target('evaluate(), 3 global SLOs, 9,999 routes', { value: evalMs, limit: 1, format: fmt.ms });
  ctx.target('stats(), 9,999 routes', { value: statsMs, limit: 5, format: fmt.ms });
  ctx.target('recordRequest, 9,999 routes random order (best)', { value: res.r9999.min, limit: 150, format: fmt.ns });
}

// Fleet window snapshots: bytes per route (idle, 10 req/s) and the time to
// merge 3 replicas × 100 routes (what fleet.windows.stats() does after its
// Redis round trips: parse, validate, merge, read quantiles and SLOs).
import { createMonitor } from '../dist/index.js';
import { mergeAndRead, takeSnapshot, windowSnapshotSchema } from '../dist/redis.js';
import { ManualClock } from '../dist/testing.js';
import { fmt, logNormal, prng, table } from './lib.mjs';

export const title = 'fleet window snapshots: size per route, merge of 3 replicas × 100 routes';
export const order = 90;

const ROUTES = 100;
const REPLICAS = 3;
const CALLS = 30;
const WARMUP = 5;

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s[s.length >> 1];
}

/** One replica after a full window (5 min in 10 s slots) of `rps` requests per second per route. */
function replica(clock, rps, seed) {
  const routes = Array.from({ length: ROUTES }, (_, i) => `GET /api/v1/resource${i}/:id`);
  const slos = [
    { name: 'p99', kind: 'latency', quantile: 0.99, thresholdMs: 800 },
    { name: 'availability', kind: 'success-rate', objective: 0.995 },
    ...routes.slice(0, 20).map((route, i) => ({ name: `p95-${i}`, kind: 'latency', route, quantile: 0.95, thresholdMs: 300 })),
  ];
  const monitor = createMonitor({ service: 'bench', clock, slos, maxRoutes: ROUTES });
  const values = logNormal(4096, { seed, sigma: 0.9 });
  const rand = prng(seed + 1);
  let k = 0;
  return { monitor, routes, values, rand, record: () => {
    for (const route of routes) for (let r = 0; r < rps * 10; r++, k++) monitor.recordRequest({ route, durationMs: values[k & 4095], status: rand() < 0.004 ? 503 : 200 });
  } };
}

export default function windows(ctx) {
  const clock = new ManualClock();
  // Idle: 100 routes that served nothing in the window.
  const idle = replica(clock, 0, 3);
  for (const route of idle.routes) idle.monitor.recordRequest({ route, durationMs: 5, status: 200 });
  clock.advance(600_000);
  const idleBytes = Buffer.byteLength(JSON.stringify(takeSnapshot(idle.monitor, 'idle')));

  const busy = Array.from({ length: REPLICAS }, (_, i) => replica(clock, 10, 11 + i));
  for (let slot = 0; slot < 30; slot++) {
    for (const r of busy) r.record();
    clock.advance(10_000);
  }
  const texts = busy.map((r, i) => JSON.stringify(takeSnapshot(r.monitor, `r${i}`)));
  const bytes = texts.map((t) => Buffer.byteLength(t));
  const perRoute = median(bytes) / ROUTES;

  const times = [];
  const cpuTimes = [];
  let stats;
  for (let i = 0; i < CALLS + WARMUP; i++) {
    const c0 = process.cpuUsage();
    const t0 = process.hrtime.bigint();
    const snaps = texts.map((t) => windowSnapshotSchema.parse(JSON.parse(t)));
    stats = mergeAndRead(busy[0].monitor, snaps, clock.now()).stats;
    const dt = Number(process.hrtime.bigint() - t0) / 1e6;
    const c = process.cpuUsage(c0);
    if (i >= WARMUP) {
      times.push(dt);
      // CPU time too: on a shared machine the wall time mostly measures the neighbours.
      cpuTimes.push((c.user + c.system) / 1000);
    }
  }
  const want = busy.reduce((n, r) => n + r.monitor.stats().overall.requests, 0);
  if (stats.overall.requests !== want) throw new Error(`merged ${stats.overall.requests} requests, expected ${want}`);

  ctx.log(
    table(
      ['case', 'value'],
      [
        ['idle replica (100 routes, empty window): whole snapshot', `${idleBytes} B`],
        ['10 req/s per route, full 5 min window: snapshot', fmt.kib(median(bytes))],
        ['10 req/s per route: bytes per route', `${perRoute.toFixed(0)} B`],
        ['10 req/s per route: bytes per route per slot', `${(perRoute / 30).toFixed(0)} B`],
        [`merge ${REPLICAS} replicas × ${ROUTES} routes (parse + validate + merge + read): median wall`, fmt.ms(median(times))],
        [`same, median CPU time (GC included)`, fmt.ms(median(cpuTimes))],
        ['requests merged', want],
      ],
    ),
  );
  ctx.target('snapshot bytes per route at 10 req/s (5 min window)', { value: perRoute, limit: 8_192, format: (v) => `${v.toFixed(0)} B` });
  ctx.target('merge of 3 replicas × 100 routes (CPU time)', { value: median(cpuTimes), limit: 500, format: fmt.ms });
}

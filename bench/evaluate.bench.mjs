// evaluate() over 200 routes × 4 route-scoped SLOs (800 SLOs), windows full.
import { createMonitor } from '../dist/index.js';
import { ManualClock } from '../dist/testing.js';
import { fmt, logNormal, prng, table } from './lib.mjs';

export const title = 'evaluate() over 200 routes × 4 SLOs (p95, p99, success rate, error rate per route = 800 SLOs)';
export const order = 40;

const ROUTES = 200;
const CALLS = 100;
const WARMUP = 100; // calls before measuring: the first ones run unoptimised code

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s[s.length >> 1];
}

export default function evaluate(ctx) {
  const routes = Array.from({ length: ROUTES }, (_, i) => `GET /api/v1/resource${i}/:id`);
  const slos = routes.flatMap((route, i) => [
    { name: `p95-${i}`, kind: 'latency', route, quantile: 0.95, thresholdMs: 800 },
    { name: `p99-${i}`, kind: 'latency', route, quantile: 0.99, thresholdMs: 2000 },
    { name: `success-${i}`, kind: 'success-rate', route, objective: 0.995 },
    { name: `errors-${i}`, kind: 'error-rate', route, max: 0.005 },
  ]);
  const clock = new ManualClock();
  const monitor = createMonitor({ service: 'evaluate', clock, slos, maxRoutes: ROUTES });
  // A full window: every slot of every route holds traffic.
  const values = logNormal(4096, { seed: 3, sigma: 0.9 });
  const rand = prng(5);
  let k = 0;
  for (let slot = 0; slot < 30; slot++) {
    for (const route of routes) {
      for (let r = 0; r < 20; r++, k++) {
        monitor.recordRequest({ route, durationMs: values[k & 4095], status: rand() < 0.004 ? 503 : 200 });
      }
    }
    clock.advance(10_000);
  }
  // The clock moves between calls as it does in service (a call now and then also rolls the windows).
  const times = [];
  let report;
  for (let i = 0; i < CALLS + WARMUP; i++) {
    clock.advance(100);
    const t0 = process.hrtime.bigint();
    report = monitor.evaluate();
    const dt = Number(process.hrtime.bigint() - t0) / 1e6;
    if (i >= WARMUP) times.push(dt);
  }
  if (report.slos.length !== slos.length || report.slos.some((r) => r.status === 'no-data')) {
    throw new Error('evaluate() did not judge every SLO: the bench is broken');
  }
  const byStatus = {};
  for (const r of report.slos) byStatus[r.status] = (byStatus[r.status] ?? 0) + 1;
  ctx.log(
    table(
      ['measure', 'value'],
      [
        ['SLOs', report.slos.length],
        ['requests in window', monitor.stats().overall.requests],
        [`evaluate() median of ${CALLS} calls`, fmt.ms(median(times))],
        ['evaluate() fastest', fmt.ms(Math.min(...times))],
        ['evaluate() slowest', fmt.ms(Math.max(...times))],
        ['statuses', Object.entries(byStatus).map(([s, n]) => `${s} ${n}`).join(', ')],
      ],
    ),
  );
  ctx.target('evaluate() median, 800 SLOs', { value: median(times), limit: 2, format: fmt.ms });
}

// npm run demo: synthetic traffic through a monitor on simulated time, then
// the SLO report. Uses the built package (dist/) exactly as a user imports it.
import { createMonitor } from 'firebreak';
import { ManualClock } from 'firebreak/testing';

const clock = new ManualClock(Date.UTC(2026, 0, 1, 9, 0, 0));
const monitor = createMonitor({
  service: 'search-api',
  clock,
  evaluateEveryMs: 10_000,
  slos: [
    { name: 'latency-p95', kind: 'latency', quantile: 0.95, thresholdMs: 800 },
    { name: 'latency-p99', kind: 'latency', quantile: 0.99, thresholdMs: 2000 },
    { name: 'availability', kind: 'success-rate', objective: 0.995 },
    { name: 'checkout-errors', kind: 'error-rate', max: 0.005, route: 'POST /checkout' },
    { name: 'search-cache', kind: 'cache-hit-rate', cache: 'search', objective: 0.5 },
    { name: 'heap', kind: 'memory', of: 'heap', max: 0.8 },
  ],
});

// A seeded generator, so every run prints the same report.
let seed = 7;
const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
const logNormal = (medianMs, sigma) => medianMs * Math.exp(sigma * Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random()));

const at = () => new Date(clock.now()).toISOString().slice(11, 19);
monitor.on('slo:breach', (r) => console.log(`${at()}  BREACH    ${r.name}: ${show(r)} (target ${target(r)})`));
monitor.on('slo:warning', (r) => console.log(`${at()}  warning   ${r.name}: ${show(r)} (target ${target(r)})`));
monitor.on('slo:recovered', (r) => console.log(`${at()}  recovered ${r.name}: ${show(r)}`));

/** One simulated second of traffic: `rps` requests spread over three routes, plus cache lookups. */
function second({ rps, slowSearch = false, checkoutErrors = 0 }) {
  for (let i = 0; i < rps; i++) {
    const r = random();
    if (r < 0.7) {
      const hit = random() < (slowSearch ? 0.2 : 0.8);
      monitor.recordCache('search', hit);
      const median = hit ? 40 : slowSearch ? 900 : 180;
      monitor.recordRequest({ route: 'GET /search', durationMs: logNormal(median, 0.6), status: 200 });
    } else if (r < 0.9) {
      monitor.recordRequest({ route: 'GET /items/:id', durationMs: logNormal(25, 0.4), status: random() < 0.02 ? 404 : 200 });
    } else {
      monitor.recordRequest({ route: 'POST /checkout', durationMs: logNormal(120, 0.5), status: random() < checkoutErrors ? 503 : 200 });
    }
  }
  clock.advance(1_000); // fires the scheduled evaluation every 10 simulated seconds
}

console.log('firebreak demo: 9 minutes of simulated traffic for search-api (runs in well under a second)\n');
monitor.start();
for (let s = 0; s < 120; s++) second({ rps: 40 }); // 2 min: healthy
for (let s = 0; s < 60; s++) second({ rps: 40, slowSearch: true, checkoutErrors: 0.05 }); // 1 min: cache cold, checkout failing
for (let s = 0; s < 360; s++) second({ rps: 40 }); // 6 min: recovery, once the 5-minute window forgets the bad minute
monitor.stop();

const report = monitor.evaluate();
console.log(`\nSLO report at ${at()} (window ${report.slos[0].windowMs / 60_000} min)\n`);
printTable(
  ['SLO', 'kind', 'scope', 'value', 'target', 'status', 'samples', 'budget left', 'burn'],
  report.slos.map((r) => [
    r.name,
    r.kind,
    r.route ?? r.cache ?? (['memory', 'cpu', 'event-loop-delay'].includes(r.kind) ? 'process' : 'all'),
    show(r),
    target(r),
    r.status,
    String(r.samples),
    r.errorBudgetRemaining == null ? '' : `${(r.errorBudgetRemaining * 100).toFixed(0)} %`,
    r.burnRate == null ? '' : `${r.burnRate.toFixed(2)}×`,
  ]),
);
const { overall } = monitor.stats();
console.log(`\n${overall.requests} requests in the window, success ${(overall.successRate * 100).toFixed(2)} %, p95 ${overall.latencyMs.p95.toFixed(0)} ms`);

function show(r) {
  if (r.value === null) return '-';
  return r.unit === 'ms' ? `${r.value.toFixed(0)} ms` : `${(r.value * 100).toFixed(2)} %`;
}

function target(r) {
  const t = r.unit === 'ms' ? `${r.target} ms` : `${(r.target * 100).toFixed(1)} %`;
  return `${r.direction === 'max' ? '≤' : '≥'} ${t}`;
}

function printTable(header, rows) {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells) => cells.map((c, i) => c.padEnd(widths[i])).join('  ');
  console.log(line(header));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const r of rows) console.log(line(r));
}

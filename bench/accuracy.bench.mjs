// Quantile accuracy on 1,000,000 log-normal latencies, against the exact
// (sorted) values: ours, prom-client default buckets read the way Prometheus'
// histogram_quantile reads them, hdr-histogram-js and DDSketch.
import client from 'prom-client';
import * as hdr from 'hdr-histogram-js';
import { DDSketch } from '@datadog/sketches-js';
import { createMonitor } from '../dist/index.js';
import { ManualClock } from '../dist/testing.js';
import { exactQuantile, fmt, logNormal, table } from './lib.mjs';

export const title = 'quantile error on 1,000,000 log-normal samples (median 50 ms, σ = 0.9: p99 ≈ 8× median)';
export const order = 20;

const N = 1_000_000;
const QS = [0.5, 0.95, 0.99];

/** Prometheus' histogram_quantile: linear interpolation inside the bucket holding the rank. */
function histogramQuantile(q, buckets) {
  // buckets: [{ le, count }] cumulative, ascending, ending with +Inf
  const total = buckets.at(-1).count;
  const rank = q * total;
  let prevLe = 0;
  let prevCount = 0;
  for (const { le, count } of buckets) {
    if (count >= rank) {
      if (le === Infinity) return prevLe; // Prometheus returns the highest finite bound
      return prevLe + ((le - prevLe) * (rank - prevCount)) / (count - prevCount);
    }
    prevLe = le;
    prevCount = count;
  }
  return prevLe;
}

export default async function accuracy(ctx) {
  const values = logNormal(N, { seed: 42, medianMs: 50, sigma: 0.9 });
  const sorted = Float64Array.from(values).sort();
  const exact = QS.map((q) => exactQuantile(sorted, q));

  // Ours: the real monitor, one route, read through stats() like a user would.
  const monitor = createMonitor({ service: 'accuracy', clock: new ManualClock() });
  for (let i = 0; i < N; i++) monitor.recordRequest({ route: 'GET /search', durationMs: values[i], status: 200 });
  const s = monitor.stats().routes['GET /search'];
  if (s.requests !== N) throw new Error(`ours counted ${s.requests} of ${N}`);
  const ours = [s.latencyMs.p50, s.latencyMs.p95, s.latencyMs.p99];

  const registry = new client.Registry();
  const histogram = new client.Histogram({ name: 'latency_seconds', help: 'bench', registers: [registry] });
  for (let i = 0; i < N; i++) histogram.observe(values[i] / 1000);
  const got = await histogram.get();
  const buckets = got.values
    .filter((v) => v.metricName === 'latency_seconds_bucket')
    .map((v) => ({ le: v.labels.le === '+Inf' ? Infinity : Number(v.labels.le) * 1000, count: v.value }));
  const prom = QS.map((q) => histogramQuantile(q, buckets));

  const h = hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 3_600_000_000, numberOfSignificantValueDigits: 2 });
  for (let i = 0; i < N; i++) h.recordValue(Math.max(1, Math.round(values[i] * 1000)));
  const hdrQ = QS.map((q) => h.getValueAtPercentile(q * 100) / 1000);

  const sketch = new DDSketch({ relativeAccuracy: 0.01 });
  for (let i = 0; i < N; i++) sketch.accept(values[i]);
  const ddQ = QS.map((q) => sketch.getValueAtQuantile(q));

  const err = (got) => got.map((g, i) => Math.abs(g - exact[i]) / exact[i]);
  const rows = [
    ['exact (sorted, nearest rank)', exact, null],
    ['firebreak (log buckets, α = 1 %)', ours, err(ours)],
    ['prom-client default buckets + histogram_quantile', prom, err(prom)],
    ['hdr-histogram-js (µs, 2 significant digits)', hdrQ, err(hdrQ)],
    ['DDSketch (α = 1 %)', ddQ, err(ddQ)],
  ];
  ctx.log(
    table(
      ['estimator', 'p50 ms', 'p95 ms', 'p99 ms', 'p50 err', 'p95 err', 'p99 err'],
      rows.map(([label, q, e]) => [label, ...q.map((v) => v.toFixed(2)), ...(e ? e.map(fmt.pct) : ['', '', ''])]),
    ),
  );
  const worst = Math.max(...err(ours));
  ctx.target('ours: worst of p50/p95/p99 error', { value: worst, limit: 0.01, format: fmt.pct });
}

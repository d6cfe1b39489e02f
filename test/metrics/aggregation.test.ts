import { spawnSync } from 'node:child_process';
import { AggregatorRegistry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { createMonitor, type Monitor, type MonitorOptions } from '../../src/index.js';
import { ManualClock } from '../../src/testing/index.js';
import { fixedProbes } from '../helpers/probes.js';
import { requirePromtool } from '../helpers/promtool.js';
import { parseExposition, pick, one } from '../helpers/exposition.js';

// What node:cluster's primary does with its workers' registries: AggregatorRegistry.aggregate()
// over each worker's getMetricsAsJSON(). No cluster is needed to check the arithmetic.
async function aggregate(monitors: Monitor[]): Promise<string> {
  const jsons = await Promise.all(monitors.map((m) => m.registry.getMetricsAsJSON()));
  return AggregatorRegistry.aggregate(jsons).metrics();
}

const SLOS: MonitorOptions['slos'] = [
  { name: 'latency-p95', kind: 'latency', quantile: 0.95, thresholdMs: 800 },
  { name: 'availability', kind: 'success-rate', objective: 0.9 },
  { name: 'errors', kind: 'error-rate', max: 0.2 },
  { name: 'cache', kind: 'cache-hit-rate', cache: 'search', objective: 0.5 },
];

function worker(): Monitor {
  return createMonitor({ service: 'search-api', clock: new ManualClock(), probes: fixedProbes(), minSamples: 5, slos: SLOS });
}

describe('metrics aggregated across workers (prom-client AggregatorRegistry)', () => {
  it('keeps ratios, SLO status and feature state within their range when two healthy workers merge', async () => {
    const workers = [worker(), worker()];
    for (const w of workers) {
      w.feature('rerank');
      for (let i = 0; i < 10; i++) w.recordRequest({ route: 'GET /search', durationMs: 100, status: 200 });
    }
    const merged = parseExposition(await aggregate(workers));
    // Each worker: success rate 1, status ok, feature on. Merged, none of these may be summed.
    expect(one(merged, 'firebreak_slo_good_ratio', { slo: 'availability' })).toBe(1);
    expect(one(merged, 'firebreak_slo_status', { slo: 'availability' })).toBe(0);
    expect(one(merged, 'firebreak_slo_status', { slo: 'latency-p95' })).toBe(0);
    expect(one(merged, 'firebreak_feature_enabled', { feature: 'rerank' })).toBe(1);
    expect(one(merged, 'firebreak_slo_target_ratio', { slo: 'availability' })).toBe(0.9);
    expect(one(merged, 'firebreak_slo_target_seconds', { slo: 'latency-p95' })).toBe(0.8);
    // Counters and histograms are summed: that is what makes them aggregatable.
    expect(one(merged, 'firebreak_requests_total', { route: '/search', method: 'GET', outcome: 'success' })).toBe(20);
    expect(one(merged, 'firebreak_request_duration_seconds_count', { route: '/search', method: 'GET' })).toBe(20);
    expect(one(merged, 'firebreak_request_duration_seconds_bucket', { route: '/search', method: 'GET', le: '0.1' })).toBe(20);
  });

  it('reports the worst worker for SLO gauges and a feature off anywhere as off', async () => {
    const workers = [worker(), worker(), worker()];
    for (const w of workers) w.feature('rerank');
    workers[1]!.feature('rerank').disable();
    // Worker 0 healthy; worker 1 slow; worker 2 failing half its requests.
    for (let i = 0; i < 10; i++) workers[0]!.recordRequest({ route: 'GET /search', durationMs: 50, status: 200 });
    for (let i = 0; i < 10; i++) workers[1]!.recordRequest({ route: 'GET /search', durationMs: 2000, status: 200 });
    for (let i = 0; i < 10; i++) workers[2]!.recordRequest({ route: 'GET /search', durationMs: 50, status: i % 2 ? 500 : 200 });
    const merged = parseExposition(await aggregate(workers));

    expect(one(merged, 'firebreak_feature_enabled', { feature: 'rerank' })).toBe(0);
    expect(one(merged, 'firebreak_slo_status', { slo: 'availability' })).toBe(2); // breach on worker 2
    expect(one(merged, 'firebreak_slo_status', { slo: 'latency-p95' })).toBe(2); // breach on worker 1
    expect(one(merged, 'firebreak_slo_good_ratio', { slo: 'availability' })).toBe(0.5); // worker 2, the worst
    expect(one(merged, 'firebreak_slo_value_ratio', { slo: 'errors' })).toBe(0.5);
    // Worker 1's p95 (≈ 2 s, within the sketches' 1 %), the upper bound of the fleet's p95.
    expect(one(merged, 'firebreak_slo_value_seconds', { slo: 'latency-p95' })).toBeCloseTo(2, 1);
    // No data on any worker: no sample at all rather than NaN (max(NaN, x) would poison the merge).
    expect(pick(merged, 'firebreak_slo_good_ratio', { slo: 'cache' })).toEqual([]);
    expect(one(merged, 'firebreak_slo_status', { slo: 'cache' })).toBe(-1);

    // The fleet's true success ratio comes from the summed counters: 25 of 30.
    const ok = one(merged, 'firebreak_requests_total', { route: '/search', method: 'GET', outcome: 'success' });
    const bad = one(merged, 'firebreak_requests_total', { route: '/search', method: 'GET', outcome: 'failure' });
    expect(ok / (ok + bad)).toBeCloseTo(25 / 30, 12);
  });

  it('gives every exported family an explicit cluster aggregator, and sums only counters and histograms', async () => {
    const w = worker();
    w.recordRequest({ route: 'GET /search', durationMs: 5, status: 200 });
    const json = await w.registry.getMetricsAsJSON();
    for (const m of json) {
      // The runtime type is the exposition string ('counter'…), whatever prom-client's d.ts enum says.
      const type = String(m.type);
      const expected = type === 'counter' || type === 'histogram' ? ['sum'] : ['min', 'max', 'first', 'average', 'omit'];
      expect(expected, `${m.name} (${type}) aggregator ${String(m.aggregator)}`).toContain(String(m.aggregator));
    }
  });

  it('passes promtool check metrics after aggregation', async (ctx) => {
    const promtool = requirePromtool(ctx);
    const workers = [worker(), worker()];
    workers[0]!.recordRequest({ route: 'GET /q"uote\\x\ny', durationMs: 5, status: 200 });
    workers[1]!.recordRequest({ route: 'no-method', durationMs: 5, status: 503 });
    const r = spawnSync(promtool, ['check', 'metrics'], { input: await aggregate(workers), encoding: 'utf8' });
    expect(r.stdout + r.stderr).toBe('');
    expect(r.status).toBe(0);
  });
});

describe('route and method labels', () => {
  it('splits "METHOD /path" into method and route; names without a method get method=""', async () => {
    const m = worker();
    m.recordRequest({ route: 'GET /x', durationMs: 1, status: 200 });
    m.recordRequest({ route: 'POST /x', durationMs: 1, status: 500 });
    m.recordRequest({ route: 'checkout', durationMs: 1, status: 200 });
    m.recordRequest({ route: 'get /lower', durationMs: 1, status: 200 });
    const s = parseExposition(await m.metrics());
    expect(one(s, 'firebreak_requests_total', { route: '/x', method: 'GET', outcome: 'success' })).toBe(1);
    expect(one(s, 'firebreak_requests_total', { route: '/x', method: 'POST', outcome: 'failure' })).toBe(1);
    expect(pick(s, 'firebreak_requests_total', { route: 'checkout', outcome: 'success' }).map((x) => x.labels['method'] ?? '')).toEqual(['']);
    expect(pick(s, 'firebreak_requests_total', { route: 'get /lower', outcome: 'success' })).toHaveLength(1);
    expect(one(s, 'firebreak_requests_rate_limited_total', { route: '/x', method: 'GET' })).toBe(0);
    expect(pick(s, 'firebreak_request_duration_seconds_bucket', { route: '/x', method: 'POST' })).toHaveLength(14);
  });
});

describe('routeLabels', () => {
  it('maps distinct series names to distinct {route, method} pairs, so no two series share a label set', async () => {
    const fc = await import('fast-check');
    const { routeLabels } = await import('../../src/metrics/prometheus.js');
    const name = fc.oneof(
      fc.string(),
      fc.tuple(fc.constantFrom('GET', 'POST', 'get', 'X', ''), fc.constantFrom(' ', '  ', ''), fc.string()).map(([m, sp, r]) => `${m}${sp}${r}`),
    );
    fc.assert(
      fc.property(name, name, (a, b) => {
        const la = routeLabels(a);
        const lb = routeLabels(b);
        if (a !== b) expect(la.route === lb.route && la.method === lb.method).toBe(false);
        // The name is recoverable from its labels.
        expect(la.method === '' ? la.route : `${la.method} ${la.route}`).toBe(a);
      }),
      { numRuns: 2000 },
    );
  });
});

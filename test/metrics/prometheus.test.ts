import { spawnSync } from 'node:child_process';
import { Registry, register as globalRegistry } from 'prom-client';
import { describe, expect, it, type TestContext } from 'vitest';
import { ConfigError, createMonitor, type MonitorOptions } from '../../src/index.js';
import { ManualClock } from '../../src/testing/index.js';
import { fixedProbes } from '../helpers/probes.js';
import { findPromtool, requirePromtool } from '../helpers/promtool.js';

const probes = fixedProbes();

function setup(extra: Partial<MonitorOptions> = {}) {
  const clock = new ManualClock();
  const monitor = createMonitor({ service: 'search-api', clock, probes, ...extra });
  return { clock, monitor };
}

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** Parses the text exposition format: enough of it to read our own output back. */
function parse(text: string): Sample[] {
  const out: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (m === null) throw new Error(`unparsable line: ${line}`);
    const labels: Record<string, string> = {};
    const re = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)",?/g;
    for (const l of (m[2] ?? '').matchAll(re)) labels[l[1]!] = l[2]!.replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));
    out.push({ name: m[1]!, labels, value: Number(m[3]) });
  }
  return out;
}

function pick(samples: Sample[], name: string, labels: Record<string, string> = {}): Sample[] {
  return samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
}

function one(samples: Sample[], name: string, labels: Record<string, string> = {}): number {
  const found = pick(samples, name, labels);
  expect(found, `${name} ${JSON.stringify(labels)}`).toHaveLength(1);
  return found[0]!.value;
}

const BOUNDS_S = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 0.8, 1, 2, 2.5, 5, 10];
// Values on, just above and just below bounds, plus one beyond the last bound.
const DURATIONS = [0.2, 3, 5, 5.000001, 24.99, 25, 49, 50, 50.5, 99.9, 100, 250, 499, 800, 800.01, 1000, 1999, 2500, 7000, 12_000];

describe('Prometheus exposition', () => {
  it('exposes the request histogram with cumulative buckets that match the recorded values exactly', async () => {
    const { monitor } = setup();
    for (const d of DURATIONS) monitor.recordRequest({ route: 'GET /search', durationMs: d, status: 200 });
    monitor.recordRequest({ route: 'GET /health', durationMs: 1, status: 200 });
    const samples = parse(await monitor.metrics());

    const buckets = pick(samples, 'firebreak_request_duration_seconds_bucket', { route: '/search', method: 'GET' });
    expect(buckets.map((b) => b.labels['le'])).toEqual([...BOUNDS_S.map(String), '+Inf']);
    for (const b of buckets) {
      const le = b.labels['le'] === '+Inf' ? Infinity : Number(b.labels['le']);
      expect(b.value, `le=${b.labels['le']}`).toBe(DURATIONS.filter((d) => d / 1000 <= le).length);
    }
    expect(one(samples, 'firebreak_request_duration_seconds_count', { route: '/search', method: 'GET' })).toBe(DURATIONS.length);
    const sum = DURATIONS.reduce((a, b) => a + b, 0) / 1000;
    expect(one(samples, 'firebreak_request_duration_seconds_sum', { route: '/search', method: 'GET' })).toBeCloseTo(sum, 9);
    expect(one(samples, 'firebreak_request_duration_seconds_count', { route: '/health', method: 'GET' })).toBe(1);
    expect(one(samples, 'firebreak_request_duration_seconds_bucket', { route: '/health', method: 'GET', le: '0.005' })).toBe(1);
  });

  it('uses the configured bucket bounds', async () => {
    const { monitor } = setup({ prometheus: { buckets: [0.1, 1] } });
    for (const d of [50, 100, 100.5, 999, 5000]) monitor.recordRequest({ route: 'r', durationMs: d, status: 200 });
    const samples = parse(await monitor.metrics());
    const les = pick(samples, 'firebreak_request_duration_seconds_bucket', { route: 'r' }).map((s) => [s.labels['le'], s.value]);
    expect(les).toEqual([
      ['0.1', 2],
      ['1', 4],
      ['+Inf', 5],
    ]);
  });

  it('counts requests by route and outcome, and cache lookups by cache and result', async () => {
    const { monitor } = setup();
    for (let i = 0; i < 7; i++) monitor.recordRequest({ route: 'GET /search', durationMs: 10, status: 200 });
    monitor.recordRequest({ route: 'GET /search', durationMs: 10, status: 503 });
    monitor.recordRequest({ route: 'GET /search', durationMs: 10, status: 429 });
    monitor.recordRequest({ route: 'POST /index', durationMs: 10, ok: false });
    monitor.recordCache('search', true);
    monitor.recordCache('search', 'hit');
    monitor.recordCache('search', false);
    monitor.recordCache('search', 'error');
    monitor.recordCache('embeddings', 'miss');
    const samples = parse(await monitor.metrics());
    expect(one(samples, 'firebreak_requests_total', { route: '/search', method: 'GET', outcome: 'success' })).toBe(8);
    expect(one(samples, 'firebreak_requests_total', { route: '/search', method: 'GET', outcome: 'failure' })).toBe(1);
    expect(one(samples, 'firebreak_requests_total', { route: '/index', method: 'POST', outcome: 'failure' })).toBe(1);
    expect(one(samples, 'firebreak_requests_rate_limited_total', { route: '/search', method: 'GET' })).toBe(1);
    expect(one(samples, 'firebreak_cache_requests_total', { cache: 'search', result: 'hit' })).toBe(2);
    expect(one(samples, 'firebreak_cache_requests_total', { cache: 'search', result: 'miss' })).toBe(1);
    expect(one(samples, 'firebreak_cache_requests_total', { cache: 'search', result: 'error' })).toBe(1);
    expect(one(samples, 'firebreak_cache_requests_total', { cache: 'embeddings', result: 'miss' })).toBe(1);
  });

  it('keeps counters and the histogram cumulative after the window has expired', async () => {
    const { clock, monitor } = setup();
    for (let i = 0; i < 5; i++) monitor.recordRequest({ route: 'r', durationMs: 40, status: i === 0 ? 500 : 200 });
    monitor.recordCache('c', true);
    clock.advance(10 * 60_000); // twice the window
    monitor.recordRequest({ route: 'r', durationMs: 400, status: 200 });
    monitor.recordCache('c', false);
    expect(monitor.stats().routes['r']!.requests).toBe(1); // the window forgot the first five...
    const samples = parse(await monitor.metrics()); // ...Prometheus counters must not
    expect(one(samples, 'firebreak_requests_total', { route: 'r', outcome: 'success' })).toBe(5);
    expect(one(samples, 'firebreak_requests_total', { route: 'r', outcome: 'failure' })).toBe(1);
    expect(one(samples, 'firebreak_request_duration_seconds_count', { route: 'r' })).toBe(6);
    expect(one(samples, 'firebreak_request_duration_seconds_bucket', { route: 'r', le: '0.05' })).toBe(5);
    expect(one(samples, 'firebreak_request_duration_seconds_bucket', { route: 'r', le: '0.5' })).toBe(6);
    expect(one(samples, 'firebreak_request_duration_seconds_sum', { route: 'r' })).toBeCloseTo(0.6, 9);
    expect(one(samples, 'firebreak_cache_requests_total', { cache: 'c', result: 'hit' })).toBe(1);
  });

  it('exposes SLO value, target and status gauges, without changing SLO state', async () => {
    const { monitor } = setup({
      minSamples: 5,
      slos: [
        { name: 'latency-p95', kind: 'latency', quantile: 0.95, thresholdMs: 800 },
        { name: 'availability', kind: 'success-rate', objective: 0.9 },
        { name: 'cache', kind: 'cache-hit-rate', cache: 'search', objective: 0.5 },
        { name: 'memory', kind: 'memory', max: 0.6 },
      ],
    });
    for (let i = 0; i < 10; i++) monitor.recordRequest({ route: 'r', durationMs: 1000, status: 200 });
    let changed = 0;
    monitor.on('slo:changed', () => changed++);
    const samples = parse(await monitor.metrics());
    expect(one(samples, 'firebreak_slo_value_seconds', { slo: 'latency-p95', kind: 'latency' })).toBeCloseTo(1, 1);
    expect(one(samples, 'firebreak_slo_target_seconds', { slo: 'latency-p95' })).toBe(0.8);
    expect(one(samples, 'firebreak_slo_status', { slo: 'latency-p95' })).toBe(2); // breach
    expect(one(samples, 'firebreak_slo_good_ratio', { slo: 'availability', kind: 'success-rate' })).toBe(1);
    expect(one(samples, 'firebreak_slo_target_ratio', { slo: 'availability' })).toBe(0.9);
    expect(one(samples, 'firebreak_slo_status', { slo: 'availability' })).toBe(0); // ok
    // Without data there is no value sample (NaN would poison a cluster's min/max); the status says so.
    expect(pick(samples, 'firebreak_slo_good_ratio', { slo: 'cache' })).toEqual([]);
    expect(pick(samples, 'firebreak_slo_value_ratio', { slo: 'cache' })).toEqual([]);
    expect(one(samples, 'firebreak_slo_status', { slo: 'cache' })).toBe(-1); // no data
    expect(one(samples, 'firebreak_slo_value_ratio', { slo: 'memory' })).toBe(0.5);
    expect(one(samples, 'firebreak_slo_target_ratio', { slo: 'memory' })).toBe(0.6);
    expect(one(samples, 'firebreak_slo_status', { slo: 'memory' })).toBe(1); // 0.5 ≥ 0.8 × 0.6: warning
    expect(changed).toBe(0);
    expect(monitor.evaluate().transitions.map((t) => t.slo).sort()).toEqual(['availability', 'latency-p95', 'memory']);
  });

  it('escapes label values', async () => {
    const { monitor } = setup();
    const route = 'GET /q?x="a\\b"\nline2 ✓';
    monitor.recordRequest({ route, durationMs: 1, status: 200 });
    const text = await monitor.metrics();
    expect(text).toContain('route="/q?x=\\"a\\\\b\\"\\nline2 ✓",method="GET"');
    expect(one(parse(text), 'firebreak_requests_total', { route: route.slice(4), method: 'GET', outcome: 'success' })).toBe(1);
  });
});

describe('registries', () => {
  it('gives two monitors in one process separate registries that do not collide', async () => {
    const a = setup().monitor;
    const b = setup().monitor;
    a.recordRequest({ route: 'r', durationMs: 1, status: 200 });
    b.recordRequest({ route: 'r', durationMs: 1, status: 500 });
    b.recordRequest({ route: 'r', durationMs: 1, status: 500 });
    expect(a.registry).not.toBe(b.registry);
    const sa = parse(await a.metrics());
    const sb = parse(await b.metrics());
    expect(one(sa, 'firebreak_requests_total', { route: 'r', outcome: 'success' })).toBe(1);
    expect(one(sa, 'firebreak_requests_total', { route: 'r', outcome: 'failure' })).toBe(0);
    expect(one(sb, 'firebreak_requests_total', { route: 'r', outcome: 'failure' })).toBe(2);
  });

  it('registers into a user-supplied registry, next to the user metrics', async () => {
    const registry = new Registry();
    const { monitor } = setup({ prometheus: { registry } });
    expect(monitor.registry).toBe(registry);
    monitor.recordRequest({ route: 'r', durationMs: 1, status: 200 });
    expect(registry.getSingleMetric('firebreak_requests_total')).toBeDefined();
    expect(one(parse(await registry.metrics()), 'firebreak_requests_total', { route: 'r', outcome: 'success' })).toBe(1);
  });

  it('lets monitors share a registry under different prefixes, and names the field when they clash', async () => {
    const registry = new Registry();
    const a = setup({ prometheus: { registry, prefix: 'search_' } }).monitor;
    const b = setup({ prometheus: { registry, prefix: 'index_' } }).monitor;
    a.recordRequest({ route: 'r', durationMs: 1, status: 200 });
    b.recordRequest({ route: 'r', durationMs: 1, status: 200 });
    const samples = parse(await registry.metrics());
    expect(one(samples, 'search_requests_total', { route: 'r', outcome: 'success' })).toBe(1);
    expect(one(samples, 'index_requests_total', { route: 'r', outcome: 'success' })).toBe(1);
    let err: unknown;
    try {
      setup({ prometheus: { registry, prefix: 'search_' } });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).issues.map((i) => i.path)).toEqual(['prometheus.prefix']);
    expect((err as ConfigError).message).toContain('search_requests_total');
    // Nothing half-registered by the failed monitor: the first monitor's output is unchanged.
    expect(pick(parse(await registry.metrics()), 'search_requests_total', { outcome: 'success' })).toHaveLength(1);
  });

  it('adds prom-client default process metrics only when asked', async () => {
    const plain = await setup().monitor.metrics();
    expect(plain).not.toContain('process_cpu_user_seconds_total');
    const withDefaults = await setup({ prometheus: { defaultMetrics: true } }).monitor.metrics();
    expect(withDefaults).toContain('process_cpu_user_seconds_total');
  });

  it('leaves the global default registry untouched', async () => {
    const before = globalRegistry.getMetricsAsArray().length;
    const { monitor } = setup({ prometheus: { defaultMetrics: true } });
    monitor.recordRequest({ route: 'r', durationMs: 1, status: 200 });
    await monitor.metrics();
    expect(globalRegistry.getMetricsAsArray()).toHaveLength(before);
    expect(await globalRegistry.metrics()).not.toContain('firebreak_');
  });
});

describe('promtool check metrics', () => {
  /** Runs promtool on `text`; returns its lint findings (exit 3), failing on parse errors (exit 1). */
  function promtoolFindings(ctx: TestContext, text: string): string[] {
    // PROMTOOL overrides where to look; otherwise PATH. Missing: skipped locally, a failure under CI.
    const promtool = requirePromtool(ctx);
    const r = spawnSync(promtool, ['check', 'metrics'], { input: text, encoding: 'utf8', timeout: 15_000 });
    expect(r.error).toBeUndefined();
    const findings = `${r.stdout}${r.stderr}`.split('\n').filter((l) => l.trim() !== '');
    expect([0, 3], findings.join('\n')).toContain(r.status);
    expect(findings.length === 0).toBe(r.status === 0);
    return findings;
  }

  it('accepts the exposition after mixed traffic, odd labels and SLOs without data', async (ctx) => {
    const { clock, monitor } = setup({
      slos: [
        { name: 'latency-p95', kind: 'latency', quantile: 0.95, thresholdMs: 800 },
        { name: 'availability', kind: 'success-rate', objective: 0.995 },
        { name: 'cache', kind: 'cache-hit-rate', cache: 'search', objective: 0.5 },
        { name: 'cpu', kind: 'cpu' },
      ],
    });
    for (const d of DURATIONS) monitor.recordRequest({ route: 'GET /search', durationMs: d, status: d > 5000 ? 503 : 200 });
    monitor.recordRequest({ route: 'GET /q?x="a\\b"\nline2 ✓', durationMs: 1, status: 429 });
    monitor.recordRequest({ route: 'bad', durationMs: NaN });
    monitor.recordCache('search', true);
    clock.advance(60_000);
    expect(promtoolFindings(ctx, await monitor.metrics())).toEqual([]);
  });

  it('accepts an empty monitor', async (ctx) => {
    expect(promtoolFindings(ctx, await setup().monitor.metrics())).toEqual([]);
  });

  it('parses with prom-client default metrics; the only lint findings are prom-client\'s own names', async (ctx) => {
    const findings = promtoolFindings(ctx, await setup({ prometheus: { defaultMetrics: true } }).monitor.metrics());
    // prom-client names some gauges *_total (nodejs_active_handles_total…); nothing of ours may be flagged.
    expect(findings.filter((f) => f.includes('firebreak_'))).toEqual([]);
    for (const f of findings) expect(f).toMatch(/^nodejs_/);
  });
});

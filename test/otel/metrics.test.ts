import { AggregationTemporality, InMemoryMetricExporter, MeterProvider, PeriodicExportingMetricReader, type ResourceMetrics } from '@opentelemetry/sdk-metrics';
import { afterEach, describe, expect, it } from 'vitest';
import { ConfigError, createMonitor, type Monitor } from '../../src/index.js';
import { registerOtelMetrics } from '../../src/otel/index.js';
import { ManualClock } from '../../src/testing/index.js';

let provider: MeterProvider | undefined;
let monitor: Monitor | undefined;
afterEach(async () => {
  await provider?.shutdown();
  await monitor?.close();
  provider = undefined;
  monitor = undefined;
});

function setup() {
  const clock = new ManualClock(Date.UTC(2026, 10, 29));
  monitor = createMonitor({
    service: 'search',
    clock,
    slos: [
      { name: 'latency-p95', kind: 'latency', quantile: 0.95, thresholdMs: 800 },
      { name: 'success-rate', kind: 'success-rate', objective: 0.99 },
    ],
  });
  monitor.feature('rerank');
  const exporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
  // The reader is driven by forceFlush (no interval fires during the test).
  const reader = new PeriodicExportingMetricReader({ exporter, exportIntervalMillis: 3_600_000 });
  provider = new MeterProvider({ readers: [reader] });
  const otel = registerOtelMetrics(monitor, { meter: provider.getMeter('search') });
  return { monitor, exporter, otel, clock };
}

/** Points of one instrument in the last export: attributes → value. */
function points(exported: ResourceMetrics[], name: string): { attributes: Record<string, unknown>; value: unknown }[] {
  const last = exported.at(-1);
  const metric = last?.scopeMetrics.flatMap((s) => s.metrics).find((m) => m.descriptor.name === name);
  return (metric?.dataPoints ?? []).map((p) => ({ attributes: p.attributes, value: p.value }));
}

describe('registerOtelMetrics', () => {
  it('rejects something that is not a Meter, naming the field', () => {
    const m = createMonitor({ service: 's' });
    expect(() => registerOtelMetrics(m, { meter: {} as never })).toThrow(ConfigError);
    expect(() => registerOtelMetrics(m, { meter: {} as never })).toThrow(/meter/);
  });

  it('exports request counts, SLO values and control state computed at collection time', async () => {
    const { monitor: m, exporter, otel } = setup();
    expect(otel.instruments).toContain('firebreak.requests');
    for (let i = 0; i < 90; i++) m.recordRequest({ route: 'GET /search', durationMs: 40, status: 200 });
    for (let i = 0; i < 10; i++) m.recordRequest({ route: 'GET /search', durationMs: 40, status: 500 });
    await provider!.forceFlush();
    const requests = points(exporter.getMetrics(), 'firebreak.requests');
    const total = requests.reduce((n, p) => n + Number(p.value), 0);
    expect(total).toBe(100);
    const failures = requests.filter((p) => Object.values(p.attributes).includes('failure')).reduce((n, p) => n + Number(p.value), 0);
    expect(failures).toBe(10);

    // The success-rate SLO reads 0.9 at collection time.
    const slo = points(exporter.getMetrics(), 'firebreak.slo_good_ratio');
    expect(slo.some((p) => p.attributes['slo'] === 'success-rate' && Math.abs(Number(p.value) - 0.9) < 1e-9)).toBe(true);

    // A kill switch pulled shows at the next collection.
    m.controls.features.get('rerank')!.disable({ reason: 'test' });
    await provider!.forceFlush();
    const enabled = points(exporter.getMetrics(), 'firebreak.feature_enabled');
    expect(enabled.find((p) => p.attributes['feature'] === 'rerank')?.value).toBe(0);
  });

  it('exports the latency histogram as cumulative bucket, sum and count counters', async () => {
    const { monitor: m, exporter } = setup();
    for (let i = 0; i < 50; i++) m.recordRequest({ route: 'GET /a', durationMs: 20, status: 200 });
    await provider!.forceFlush();
    const count = points(exporter.getMetrics(), 'firebreak.request_duration_seconds.count');
    expect(count.reduce((n, p) => n + Number(p.value), 0)).toBe(50);
    const sum = points(exporter.getMetrics(), 'firebreak.request_duration_seconds.sum');
    expect(sum.reduce((n, p) => n + Number(p.value), 0)).toBeCloseTo(1.0, 6);
    const buckets = points(exporter.getMetrics(), 'firebreak.request_duration_seconds.bucket');
    const inf = buckets.find((p) => p.attributes['le'] === '+Inf');
    expect(inf?.value).toBe(50);
  });

  it('stops reporting after unregister()', async () => {
    const { monitor: m, exporter, otel } = setup();
    m.recordRequest({ route: 'GET /a', durationMs: 20, status: 200 });
    otel.unregister();
    otel.unregister();
    await provider!.forceFlush();
    expect(points(exporter.getMetrics(), 'firebreak.requests')).toEqual([]);
  });
});

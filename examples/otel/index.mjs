#!/usr/bin/env node
/**
 * firebreak's metrics through OpenTelemetry: a MeterProvider with the SDK's
 * in-memory exporter (your service would use an OTLP exporter), some
 * traffic, one export, and what it carried.
 *
 *   npm run build && node examples/otel/index.mjs
 */
import { AggregationTemporality, InMemoryMetricExporter, MeterProvider, PeriodicExportingMetricReader } from '@opentelemetry/sdk-metrics';
import { createMonitor } from 'firebreak';
import { registerOtelMetrics } from 'firebreak/otel';

const monitor = createMonitor({
  service: 'search-api',
  slos: [{ name: 'success-rate', kind: 'success-rate', objective: 0.99 }],
});
const exporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
const provider = new MeterProvider({ readers: [new PeriodicExportingMetricReader({ exporter, exportIntervalMillis: 60_000 })] });
const otel = registerOtelMetrics(monitor, { meter: provider.getMeter('search-api') });

for (let i = 0; i < 200; i++) monitor.recordRequest({ route: 'GET /search', durationMs: 30 + (i % 50), status: i % 40 === 0 ? 500 : 200 });
await provider.forceFlush();

const metrics = exporter.getMetrics().at(-1)?.scopeMetrics.flatMap((s) => s.metrics) ?? [];
for (const name of ['firebreak.requests', 'firebreak.slo_good_ratio', 'firebreak.request_duration_seconds.count']) {
  const m = metrics.find((x) => x.descriptor.name === name);
  for (const p of m?.dataPoints ?? []) console.log(`${name} ${JSON.stringify(p.attributes)} = ${p.value}`);
}
otel.unregister();
await provider.shutdown();
await monitor.close();
console.log('otel example complete');

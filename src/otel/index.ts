/**
 * `firebreak/otel`: firebreak's metrics through an OpenTelemetry
 * `MeterProvider`, for teams that ship OTLP instead of scraping `/metrics`.
 *
 * Every metric family the monitor exposes to Prometheus (requests, latency,
 * caches, SLOs, incidents, actions, controls) becomes an observable
 * instrument computed at collection time from the same collectors, in one
 * batch callback: nothing is added to the hot path and the two views never
 * disagree. Counters become `ObservableCounter`s, gauges `ObservableGauge`s.
 * A latency histogram becomes three cumulative counters
 * (`….bucket` with an `le` attribute, `….sum`, `….count`) since the
 * OpenTelemetry API has no asynchronous histogram.
 *
 * `@opentelemetry/api` is an optional peer dependency.
 *
 * @example
 * ```ts
 * import { metrics } from '@opentelemetry/api';
 * import { registerOtelMetrics } from 'firebreak/otel';
 *
 * const otel = registerOtelMetrics(monitor, { meter: metrics.getMeter('search-api') });
 * // … on shutdown:
 * otel.unregister();
 * ```
 *
 * @packageDocumentation
 */
import type { Attributes, BatchObservableResult, Meter, Observable } from '@opentelemetry/api';
import { z } from 'zod';
import { ConfigError } from '../errors.js';
import type { Monitor } from '../monitor.js';

const optionsSchema = z.strictObject({
  /** The meter instruments are created on (`metrics.getMeter(name)` or a `MeterProvider`'s). */
  meter: z.custom<Meter>(
    (v) => typeof v === 'object' && v !== null && typeof (v as Meter).createObservableCounter === 'function' && typeof (v as Meter).addBatchObservableCallback === 'function',
    { message: 'meter must be an OpenTelemetry Meter (metrics.getMeter(name))' },
  ),
  /** Instrument names start with this (default `firebreak.`): `firebreak_requests_total` becomes `firebreak.requests`. */
  namePrefix: z.string().max(64).regex(/^[A-Za-z][\w.-]*$|^$/, 'letters, digits, _ . - only, starting with a letter').default('firebreak.'),
});

/**
 * Options of {@link registerOtelMetrics}.
 *
 * @example
 * ```ts
 * registerOtelMetrics(monitor, { meter, namePrefix: 'search.firebreak.' });
 * ```
 */
export type OtelMetricsOptions = z.input<typeof optionsSchema>;

/**
 * What {@link registerOtelMetrics} returns.
 */
export interface OtelMetrics {
  /** Instrument names created, sorted. */
  readonly instruments: readonly string[];
  /** Removes the batch callback: the instruments stop reporting. Idempotent. */
  unregister(): void;
}

interface PromFamily {
  name: string;
  help: string;
  type: string;
  values: { value: number; labels: Record<string, string | number>; metricName?: string }[];
}

/**
 * Exports a monitor's metrics through an OpenTelemetry meter. Collection
 * reads the monitor's Prometheus collectors once per export.
 *
 * @throws ConfigError when `meter` is not an OpenTelemetry Meter.
 */
export function registerOtelMetrics(monitor: Monitor, options: OtelMetricsOptions): OtelMetrics {
  const parsed = optionsSchema.safeParse(options);
  if (!parsed.success) throw ConfigError.fromZod('registerOtelMetrics options', parsed.error);
  const { meter, namePrefix } = parsed.data;
  const promPrefix = monitor.options.prometheus.prefix;
  const registry = monitor.registry;

  // Families are fixed once the monitor exists (controls register collectors over their maps).
  const families = (registry.getMetricsAsArray() as unknown as Pick<PromFamily, 'name' | 'help' | 'type'>[]).filter((f) => f.name.startsWith(promPrefix));
  const byPromName = new Map<string, Observable>();
  const names: string[] = [];
  const otelName = (prom: string, suffix = ''): string => {
    let rest = prom.slice(promPrefix.length);
    if (rest.endsWith('_total')) rest = rest.slice(0, -'_total'.length);
    return `${namePrefix}${rest}${suffix}`;
  };
  for (const f of families) {
    if (f.type === 'histogram') {
      for (const [suffix, promSuffix] of [['.bucket', '_bucket'], ['.sum', '_sum'], ['.count', '_count']] as const) {
        const name = otelName(f.name, suffix);
        byPromName.set(f.name + promSuffix, meter.createObservableCounter(name, { description: f.help }));
        names.push(name);
      }
    } else {
      const name = otelName(f.name);
      const instrument = f.type === 'counter' ? meter.createObservableCounter(name, { description: f.help }) : meter.createObservableGauge(name, { description: f.help });
      byPromName.set(f.name, instrument);
      names.push(name);
    }
  }

  const callback = async (result: BatchObservableResult): Promise<void> => {
    let current: PromFamily[];
    try {
      current = (await registry.getMetricsAsJSON()) as unknown as PromFamily[];
    } catch {
      return; // A collector that fails is the Prometheus side's to report; OTel gets nothing this round.
    }
    for (const f of current) {
      if (!f.name.startsWith(promPrefix)) continue;
      for (const v of f.values) {
        if (!Number.isFinite(v.value)) continue; // OTel has no NaN ("no data" is no point)
        const instrument = byPromName.get(v.metricName ?? f.name);
        if (instrument === undefined) continue;
        result.observe(instrument, v.value, v.labels as Attributes);
      }
    }
  };
  const observables = [...byPromName.values()];
  meter.addBatchObservableCallback(callback, observables);
  let registered = true;
  return {
    instruments: names.sort(),
    unregister: () => {
      if (!registered) return;
      registered = false;
      meter.removeBatchObservableCallback(callback, observables);
    },
  };
}

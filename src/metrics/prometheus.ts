import { Registry, type Metric } from 'prom-client';

/** One exposed sample: labels and value (and a suffixed name for histograms). */
export interface PromSample {
  labels: Record<string, string | number>;
  value: number;
  metricName?: string;
}

/** What a collector returns when scraped. */
export type CollectFn = () => PromSample[] | Promise<PromSample[]>;

/**
 * Registers a metric whose values are computed at scrape time by `collect`.
 * prom-client does the exposition (escaping, formatting, OpenMetrics); we only
 * hand it values, so nothing is observed on the hot path.
 */
export function registerCollector(
  registry: Registry,
  name: string,
  help: string,
  type: 'counter' | 'gauge' | 'histogram',
  collect: CollectFn,
): void {
  const metric = {
    name,
    help,
    type,
    aggregator: 'sum',
    async get() {
      return { name, help, type, values: await collect(), aggregator: 'sum' };
    },
    reset() {},
  };
  registry.registerMetric(metric as unknown as Metric);
}

/** Formats an `le` bound the way Prometheus clients do. */
export function leLabel(boundMs: number): string {
  return boundMs === Infinity ? '+Inf' : String(boundMs / 1000);
}

/** Creates a fresh, private registry. */
export function newRegistry(): Registry {
  return new Registry();
}

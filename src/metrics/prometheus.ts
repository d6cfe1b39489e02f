import { Registry, type Metric } from 'prom-client';

/**
 * One exposed sample: labels and value (and a suffixed name for histograms).
 * `sharedLabels` are the series' own labels (route, method…): pass the same
 * object on every scrape and prom-client escapes and joins them once, then
 * reuses the string (its WeakMap label cache), instead of once per line.
 */
export interface PromSample {
  labels: Record<string, string | number>;
  value: number;
  metricName?: string;
  sharedLabels?: Readonly<Record<string, string>>;
}

/** What a collector returns when scraped. */
export type CollectFn = () => PromSample[] | Promise<PromSample[]>;

/**
 * How prom-client's `AggregatorRegistry` (node:cluster) merges one family
 * across workers. Counters and histograms sum; a gauge must say what a
 * merged value means (`min`: worst of a higher-is-better value, `max`: worst
 * of a lower-is-better one, `first`: configuration that is equal everywhere).
 */
export type ClusterAggregator = 'sum' | 'min' | 'max' | 'first' | 'average' | 'omit';

/** `labels` with `sharedLabels` folded in: what JSON consumers (the cluster aggregator) read. */
function splay(s: PromSample): PromSample {
  if (s.sharedLabels === undefined) return s;
  const out: PromSample = { labels: { ...s.sharedLabels, ...s.labels }, value: s.value };
  if (s.metricName !== undefined) out.metricName = s.metricName;
  return out;
}

/**
 * Registers a metric whose values are computed at scrape time by `collect`.
 * prom-client does the exposition (escaping, formatting, OpenMetrics); we only
 * hand it values, so nothing is observed on the hot path.
 *
 * Gauges require an explicit `aggregator`: prom-client's default, `sum`, turns
 * two workers' success rate of 0.9 into 1.8.
 */
export function registerCollector(
  registry: Registry,
  name: string,
  help: string,
  type: 'counter' | 'gauge' | 'histogram',
  collect: CollectFn,
  aggregator: ClusterAggregator = 'sum',
): void {
  if (type === 'gauge' && aggregator === 'sum') throw new Error(`${name}: a gauge needs an explicit cluster aggregator`);
  const metric = {
    name,
    help,
    type,
    aggregator,
    // Text exposition: shared labels stay shared, so prom-client's label cache applies.
    async getForPromString() {
      return { name, help, type, values: await collect(), aggregator };
    },
    // JSON (getMetricsAsJSON, the cluster aggregator): plain label sets.
    async get() {
      return { name, help, type, values: (await collect()).map(splay), aggregator };
    },
    reset() {},
  };
  registry.registerMetric(metric as unknown as Metric);
}

/** Formats an `le` bound the way Prometheus clients do. */
export function leLabel(boundMs: number): string {
  return boundMs === Infinity ? '+Inf' : String(boundMs / 1000);
}

const METHOD = /^([A-Z]{1,20}) (.+)$/s;

/**
 * The `route` and `method` labels of a series name: `"GET /x"` → method `GET`,
 * route `/x`; a name without an upper-case method and a space keeps the whole
 * name as the route, with `method=""`. The mapping is one-to-one, so two
 * series never share a label set.
 */
export function routeLabels(series: string): { route: string; method: string } {
  const m = METHOD.exec(series);
  return m === null ? { route: series, method: '' } : { route: m[2]!, method: m[1]! };
}

/** Creates a fresh, private registry. */
export function newRegistry(): Registry {
  return new Registry();
}

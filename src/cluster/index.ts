import type { IncomingMessage, ServerResponse } from 'node:http';
import { AggregatorRegistry, Registry } from 'prom-client';

/** Something whose metrics a worker offers to the primary: a monitor (its `registry`) or a registry. */
export type ClusterMetricsSource = { registry: Registry } | Registry;

/**
 * Worker side of node:cluster metrics: answers the primary's requests with
 * these registries (a monitor's, and any of the host's own). Call once per
 * worker, with every registry it should expose; a later call replaces the set.
 * Outside a cluster worker it does nothing and returns false.
 *
 * Every firebreak metric declares how workers merge (counters and histograms
 * sum; gauges take the worst worker), so the primary's `/metrics` reads like
 * one process that saw all the traffic.
 *
 * @example
 * ```ts
 * import cluster from 'node:cluster';
 * if (cluster.isWorker) clusterWorkerMetrics(monitor);
 * ```
 */
export function clusterWorkerMetrics(...sources: ClusterMetricsSource[]): boolean {
  const registries = sources.map((s) => (s instanceof Registry ? s : s.registry));
  // Constructing one installs prom-client's listener for the primary's requests (idempotent).
  new AggregatorRegistry();
  AggregatorRegistry.setRegistries(registries);
  return process.send !== undefined && process.env['NODE_UNIQUE_ID'] !== undefined;
}

/** Options of {@link clusterMetrics}. */
export interface ClusterMetricsOptions {
  /** Logged (never thrown) when a scrape fails: a worker that does not answer within prom-client's 5 s, or an IPC error. */
  onError?: (err: Error) => void;
}

/** The primary's view of its workers' metrics. */
export interface ClusterMetrics {
  /** The workers' metrics merged into one exposition (rejects when a worker does not answer in time). */
  metrics(): Promise<string>;
  /** The exposition's content type. */
  readonly contentType: string;
  /**
   * A node:http handler for `GET /metrics` in the primary: 200 with the merged
   * text, or 503 when the workers could not be read. Never throws.
   */
  handler(req: IncomingMessage, res: ServerResponse): void;
}

/**
 * Primary side of node:cluster metrics: asks every live worker for its
 * registries ({@link clusterWorkerMetrics}) and merges them with prom-client's
 * `AggregatorRegistry`. Serve `handler` on the primary's metrics port.
 *
 * @example
 * ```ts
 * import cluster from 'node:cluster';
 * import { createServer } from 'node:http';
 * if (cluster.isPrimary) {
 *   const metrics = clusterMetrics();
 *   createServer(metrics.handler).listen(9464);
 *   for (let i = 0; i < 4; i++) cluster.fork();
 * }
 * ```
 */
export function clusterMetrics(options: ClusterMetricsOptions = {}): ClusterMetrics {
  const agg = new AggregatorRegistry();
  const metrics = async (): Promise<string> => agg.clusterMetrics();
  return {
    metrics,
    contentType: agg.contentType,
    handler(_req, res) {
      metrics().then(
        (text) => {
          res.writeHead(200, { 'content-type': agg.contentType });
          res.end(text);
        },
        (err: unknown) => {
          const e = err instanceof Error ? err : new Error(String(err));
          try {
            options.onError?.(e);
          } catch {
            // the host's logger failing must not take the scrape down with it
          }
          if (!res.headersSent) res.writeHead(503, { 'content-type': 'text/plain; charset=utf-8' });
          res.end(`# cluster metrics unavailable: ${e.message.replace(/\n/g, ' ')}\n`);
        },
      );
    },
  };
}

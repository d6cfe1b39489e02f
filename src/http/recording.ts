/**
 * Conventions the recording middleware and hooks share, so that Express,
 * Fastify and node:http services produce the same series.
 */

/**
 * Series of requests that matched no route: one series, so URL scanners cannot add cardinality.
 *
 * @example
 * ```ts
 * monitor.stats().routes[NOT_FOUND_ROUTE]?.requests; // unmatched requests
 * ```
 */
export const NOT_FOUND_ROUTE = 'not-found';

/**
 * Status recorded for a request whose response never finished (client went
 * away). The nginx convention; below 500, so the default classifier does not
 * count a client's impatience as a server failure, while its duration still
 * feeds the latency window.
 *
 * @example
 * ```ts
 * monitor.recordRequest({ route: 'GET /search', durationMs, status: ABORTED_STATUS });
 * ```
 */
export const ABORTED_STATUS = 499;

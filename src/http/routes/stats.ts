import type { SloResult, SloStatus } from '../../slo/evaluate.js';
import { defineRoute, type AnyRoute } from '../route.js';

const RANK: Record<SloStatus, number> = { 'no-data': 0, ok: 1, warning: 2, breach: 3 };

/** The worst status among SLOs that have data (`no-data` when none has). */
export function worstStatus(slos: readonly SloResult[]): SloStatus {
  let worst: SloStatus = 'no-data';
  for (const s of slos) if (RANK[s.status] > RANK[worst]) worst = s.status;
  return worst;
}

/** `GET /stats/slo`, `/stats/metrics`, `/stats/cache` and `/stats/rate-limit`. */
export const statsRoutes: AnyRoute[] = [
  defineRoute({
    method: 'GET',
    path: '/stats/slo',
    access: 'read',
    summary: 'Every SLO: value, target, status, samples, error budget; status is the worst of them',
    handler: ({ monitor }) => {
      const stats = monitor.stats();
      return { json: { service: stats.service, at: stats.at, status: worstStatus(stats.slos), slos: stats.slos } };
    },
  }),
  defineRoute({
    method: 'GET',
    path: '/stats/metrics',
    access: 'read',
    summary: 'The stats() snapshot: overall, per route, per cache, recording health',
    handler: ({ monitor }) => ({ json: monitor.stats() }),
  }),
  defineRoute({
    method: 'GET',
    path: '/stats/cache',
    access: 'read',
    summary: "Per cache: the window's hits, misses, errors and hit rate, and the guarded cache's size and disabled state",
    handler: ({ monitor }) => {
      const stats = monitor.stats();
      const controls = monitor.controls.stats().caches;
      const names = [...new Set([...Object.keys(stats.caches), ...Object.keys(controls)])].sort();
      const caches = Object.fromEntries(names.map((n) => [n, { window: stats.caches[n] ?? null, control: controls[n] ?? null }]));
      return { json: { service: stats.service, at: stats.at, windowMs: stats.windowMs, caches } };
    },
  }),
  defineRoute({
    method: 'GET',
    path: '/stats/rate-limit',
    access: 'read',
    summary: 'Per limiter: limit in force, configured limit, allowed/limited, blocked keys, top offenders; 429s per route',
    handler: ({ monitor }) => {
      const stats = monitor.stats();
      // Prototype-less: a route named `__proto__` is a key like any other.
      const rateLimitedByRoute = Object.create(null) as Record<string, number>;
      for (const [route, r] of Object.entries(stats.routes)) if (r.rateLimited > 0) rateLimitedByRoute[route] = r.rateLimited;
      return {
        json: {
          service: stats.service,
          at: stats.at,
          limiters: monitor.controls.stats().rateLimiters,
          windowMs: stats.windowMs,
          rateLimited: stats.overall.rateLimited,
          rateLimitedByRoute,
        },
      };
    },
  }),
];

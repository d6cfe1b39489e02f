import type { HealthReport } from '../../incidents/health.js';
import type { Monitor } from '../../monitor.js';
import { HttpError } from '../errors.js';
import { defineRoute, type AnyRoute } from '../route.js';

interface ReadyCache {
  at: number;
  report: Promise<HealthReport>;
}
const readyCache = new WeakMap<Monitor, ReadyCache>();

/** One health run per `maxAgeMs`, shared by concurrent callers. */
function healthReport(monitor: Monitor, maxAgeMs: number): Promise<HealthReport> {
  const now = monitor.clock.now();
  const cached = readyCache.get(monitor);
  if (cached !== undefined && now - cached.at < maxAgeMs) return cached.report;
  const report = monitor.checkHealth();
  readyCache.set(monitor, { at: now, report });
  // A run that failed outright must not be served from the cache.
  report.catch(() => readyCache.delete(monitor));
  return report;
}

/** `GET /health` (liveness), `GET /health/ready` (readiness) and `GET /metrics`. */
export const healthRoutes: AnyRoute[] = [
  defineRoute({
    method: 'GET',
    path: '/health',
    access: 'public',
    summary: 'Liveness: 200 while the process serves requests',
    handler: ({ monitor }) => ({ json: { status: 'ok', service: monitor.service, at: monitor.clock.now() } }),
  }),
  defineRoute({
    method: 'GET',
    path: '/health/ready',
    access: 'public',
    summary: 'Readiness: runs the health checks (with their timeouts); 503 naming the failing critical checks',
    handler: async ({ monitor, options }) => {
      const report = await healthReport(monitor, options.readyCacheMs);
      // Public route: names and outcomes only. Error texts (hosts, ports…) are
      // in GET /stats/incidents for the read role.
      const checks = report.checks.map(({ name, ok, critical, durationMs }) => ({ name, ok, critical, durationMs }));
      if (report.status === 'failing') {
        const failing = report.checks.filter((c) => !c.ok && c.critical).map((c) => c.name);
        throw new HttpError('NOT_READY', `Not ready: critical health checks failing: ${failing.join(', ')}`, {
          status: report.status,
          failing,
          checks,
          at: report.at,
        });
      }
      return { json: { status: report.status, service: monitor.service, checks, at: report.at } };
    },
  }),
  defineRoute({
    method: 'GET',
    path: '/metrics',
    access: 'metrics',
    summary: 'Prometheus text exposition (public or read role, per metricsAccess)',
    handler: async ({ monitor }) => ({ text: await monitor.metrics(), contentType: monitor.registry.contentType }),
  }),
];

import { defineRoute, type AnyRoute } from '../route.js';

/** `GET /health` (liveness) and `GET /metrics`. */
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
    path: '/metrics',
    access: 'metrics',
    summary: 'Prometheus text exposition (public or read role, per metricsAccess)',
    handler: async ({ monitor }) => ({ text: await monitor.metrics(), contentType: monitor.registry.contentType }),
  }),
];

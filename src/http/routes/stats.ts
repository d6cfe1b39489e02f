import type { SloResult, SloStatus } from '../../slo/evaluate.js';
import { defineRoute, type AnyRoute } from '../route.js';

const RANK: Record<SloStatus, number> = { 'no-data': 0, ok: 1, warning: 2, breach: 3 };

/** The worst status among SLOs that have data (`no-data` when none has). */
export function worstStatus(slos: readonly SloResult[]): SloStatus {
  let worst: SloStatus = 'no-data';
  for (const s of slos) if (RANK[s.status] > RANK[worst]) worst = s.status;
  return worst;
}

/** `GET /stats/slo` and `GET /stats/metrics`. */
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
];

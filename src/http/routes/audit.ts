import { z } from 'zod';
import { callerNameSchema } from '../options.js';
import { defineRoute, type AnyRoute } from '../route.js';

const int = (what: string) => z.coerce.number({ error: `${what} must be a number` }).int().nonnegative();

/** `GET /admin/audit`. */
export const auditRoutes: AnyRoute[] = [
  defineRoute({
    method: 'GET',
    path: '/admin/audit',
    access: 'read',
    summary: 'Admin calls (caller name, route, validated body, status) and action executions and reverts; filters caller, since, limit',
    query: z.strictObject({
      caller: callerNameSchema.optional(),
      since: int('since').optional(),
      limit: int('limit').positive().max(10_000).optional(),
    }),
    handler: ({ audit, query, monitor }) => {
      const filter: { caller?: string; since?: number; limit?: number } = {};
      const actionFilter: { by?: string; since?: number; limit?: number } = {};
      if (query.caller !== undefined) filter.caller = actionFilter.by = query.caller;
      if (query.since !== undefined) filter.since = actionFilter.since = query.since;
      if (query.limit !== undefined) filter.limit = actionFilter.limit = query.limit;
      return {
        json: {
          entries: audit.list(filter),
          dropped: audit.dropped,
          capacity: audit.capacity,
          // What the actions did, as the action registry audits them (by caller name, with outcome).
          actions: monitor.actions.audit(actionFilter),
        },
      };
    },
  }),
];

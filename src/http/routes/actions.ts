import { z } from 'zod';
import { HttpError } from '../errors.js';
import { defineRoute, nameParam, type AnyRoute } from '../route.js';
import { executionReply, runAction } from './control-actions.js';

const actionId = z.string().min(1).max(100);
const executeBody = z
  .strictObject({
    params: z.record(z.string(), z.unknown()).optional(),
    confirm: z.boolean().optional(),
    incident_id: nameParam.optional(),
    incidentId: nameParam.optional(),
  })
  .refine((b) => b.incident_id === undefined || b.incidentId === undefined, { message: 'give incident_id or incidentId, not both', path: ['incident_id'] });

/** The action routes: list, execute (optionally for an incident), revert. */
export const actionRoutes: AnyRoute[] = [
  defineRoute({
    method: 'GET',
    path: '/admin/actions',
    access: 'read',
    summary: 'Registered actions: id, title, estimated time, risk, confirmation, revertible, params as JSON Schema',
    handler: ({ monitor }) => ({ json: { actions: monitor.actions.list() } }),
  }),
  defineRoute({
    method: 'GET',
    path: '/admin/actions/executions',
    access: 'read',
    summary: 'Recent executions, filtered by incident_id and action',
    query: z.strictObject({ incident_id: nameParam.optional(), action: actionId.optional() }),
    handler: ({ monitor, query }) => {
      const filter: { incidentId?: string; action?: string } = {};
      if (query.incident_id !== undefined) filter.incidentId = query.incident_id;
      if (query.action !== undefined) filter.action = query.action;
      return { json: { executions: monitor.actions.executions(filter) } };
    },
  }),
  defineRoute({
    method: 'POST',
    path: '/admin/actions/:id/execute',
    access: 'operator',
    summary: 'Run an action as the caller: { params?, confirm?, incident_id? }',
    params: z.strictObject({ id: actionId }),
    body: executeBody,
    handler: (c) => {
      const incidentId = c.body.incident_id ?? c.body.incidentId;
      if (incidentId !== undefined) c.monitor.incidents.require(incidentId);
      const req: { params?: Record<string, unknown>; confirm?: boolean; incidentId?: string } = {};
      if (c.body.params !== undefined) req.params = c.body.params;
      if (c.body.confirm !== undefined) req.confirm = c.body.confirm;
      if (incidentId !== undefined) req.incidentId = incidentId;
      return runAction(c, c.params.id, req);
    },
  }),
  defineRoute({
    method: 'POST',
    path: '/admin/actions/executions/:executionId/revert',
    access: 'operator',
    summary: 'Revert an execution as the caller; 409 when it cannot be reverted',
    params: z.strictObject({ executionId: nameParam }),
    handler: async ({ monitor, caller, params }) => {
      const ex = await monitor.actions.revert(params.executionId, { by: caller.name });
      return executionReply(ex, ex.revert?.outcome ?? ex.outcome, ex.revert?.error);
    },
  }),
  defineRoute({
    method: 'POST',
    path: '/admin/incidents/:id/actions/:actionId',
    access: 'operator',
    summary: "Run an action for an incident (on its timeline): { confirm?, params? }",
    params: z.strictObject({ id: nameParam, actionId }),
    body: z.strictObject({ params: z.record(z.string(), z.unknown()).optional(), confirm: z.boolean().optional() }),
    handler: (c) => {
      c.monitor.incidents.require(c.params.id);
      const req: { params?: Record<string, unknown>; confirm?: boolean; incidentId: string } = { incidentId: c.params.id };
      if (c.body.params !== undefined) req.params = c.body.params;
      if (c.body.confirm !== undefined) req.confirm = c.body.confirm;
      return runAction(c, c.params.actionId, req);
    },
  }),
];

import { z } from 'zod';
import { maintenanceFieldsSchema } from '../../incidents/maintenance.js';
import { silenceFieldsSchema } from '../../incidents/silences.js';
import { defineRoute, nameParam, type AnyRoute } from '../route.js';

const idParams = z.strictObject({ id: nameParam });

/** The author comes from the caller's credential, never from the body. */
const silenceBody = silenceFieldsSchema.omit({ createdBy: true });
const maintenanceBody = maintenanceFieldsSchema.omit({ createdBy: true });

/**
 * Silences and maintenance windows: list with the read role, add and remove
 * with the operator role; every call is audited as other admin routes are.
 */
export const silenceRoutes: AnyRoute[] = [
  defineRoute({
    method: 'GET',
    path: '/admin/silences',
    access: 'read',
    summary: 'Silences (pending, active, recently expired), newest first; filter state',
    query: z.strictObject({ state: z.enum(['pending', 'active', 'expired']).optional() }),
    handler: ({ monitor, query }) => ({ json: { silences: monitor.silences.list(query.state === undefined ? {} : { state: query.state }) } }),
  }),
  defineRoute({
    method: 'POST',
    path: '/admin/silences',
    access: 'operator',
    summary: 'Add a silence: { matchers, startsAt?, endsAt | durationMs, comment }; the caller is its author; 201 with the silence',
    body: silenceBody,
    handler: ({ monitor, body, caller }) => ({ status: 201, json: monitor.silences.add({ ...stripUndefined(body), createdBy: caller.name }) }),
  }),
  defineRoute({
    method: 'DELETE',
    path: '/admin/silences/:id',
    access: 'operator',
    summary: 'Expire a silence now; incidents it held page at the next evaluation',
    params: idParams,
    handler: ({ monitor, params, caller }) => ({ json: monitor.silences.expire(params.id, caller.name) }),
  }),
  defineRoute({
    method: 'GET',
    path: '/admin/maintenance',
    access: 'read',
    summary: 'Maintenance windows, with whether each is open and when it next opens',
    handler: ({ monitor }) => ({ json: { windows: monitor.maintenance.list() } }),
  }),
  defineRoute({
    method: 'POST',
    path: '/admin/maintenance',
    access: 'operator',
    summary: 'Add a maintenance window: { name, once | daily | weekly, matchers?, comment? }; 201 with the window',
    body: maintenanceBody,
    handler: ({ monitor, body, caller }) => ({ status: 201, json: monitor.maintenance.add({ ...stripUndefined(body), createdBy: caller.name }) }),
  }),
  defineRoute({
    method: 'DELETE',
    path: '/admin/maintenance/:id',
    access: 'operator',
    summary: 'Remove a maintenance window',
    params: idParams,
    handler: ({ monitor, params }) => ({ json: monitor.maintenance.remove(params.id) }),
  }),
];

/** exactOptionalPropertyTypes: parsed bodies carry `undefined` for absent optional fields. */
function stripUndefined<T extends object>(o: T): { [K in keyof T]: Exclude<T[K], undefined> } {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as { [K in keyof T]: Exclude<T[K], undefined> };
}

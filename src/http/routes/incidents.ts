import { z } from 'zod';
import { severitySchema } from '../../incidents/config.js';
import { filterInputSchema } from '../../incidents/inputs.js';
import { SEVERITIES, SEVERITY_POLICY, type Incident, type Severity } from '../../incidents/types.js';
import { summarizeIncident } from '../../incidents/system.js';
import { defineRoute, nameParam, type AnyRoute } from '../route.js';

const idParams = z.strictObject({ id: nameParam });
const note = z.string().trim().min(1).max(5_000);

/** One line of `GET /admin/incidents/status`. */
export interface IncidentStatusLine {
  id: string;
  type: string;
  scope: string;
  severity: Severity;
  priority: string;
  status: Incident['status'];
  summary: string;
  openedAt: number;
  ageMs: number;
  acknowledged: boolean;
  acknowledgedAt: number | null;
  acknowledgedBy: string | null;
  /** Not acknowledged within the priority's response time. */
  overdue: boolean;
  respondWithinMs: number;
}

function statusLine(i: Incident, now: number): IncidentStatusLine {
  return {
    ...summarizeIncident(i),
    ageMs: Math.max(0, now - i.openedAt),
    acknowledged: i.acknowledgedAt !== undefined,
    acknowledgedAt: i.acknowledgedAt ?? null,
    acknowledgedBy: i.acknowledgedBy ?? null,
    respondWithinMs: SEVERITY_POLICY[i.severity].respondWithinMs,
  };
}

/** The incident routes: look with the read role, change with the operator role. */
export const incidentRoutes: AnyRoute[] = [
  defineRoute({
    method: 'GET',
    path: '/stats/incidents',
    access: 'read',
    summary: 'stats().incidents: active incidents, pending conditions, totals, response times, detectors, notifiers, log, health',
    handler: ({ monitor }) => ({ json: monitor.stats().incidents }),
  }),
  // Static paths before `/admin/incidents/:id`, so they win in every router.
  defineRoute({
    method: 'GET',
    path: '/admin/incidents/status',
    access: 'read',
    summary: 'Active incidents, most severe first: severity, priority, age, acknowledged, overdue',
    handler: ({ monitor }) => {
      const now = monitor.clock.now();
      const lines = monitor.incidents
        .list({ status: 'active' })
        .map((i) => statusLine(i, now))
        .sort((a, b) => SEVERITIES.indexOf(b.severity) - SEVERITIES.indexOf(a.severity) || a.openedAt - b.openedAt);
      const bySeverity = Object.fromEntries(SEVERITIES.map((s) => [s, lines.filter((l) => l.severity === s).length]));
      return { json: { service: monitor.service, at: now, active: lines.length, bySeverity, incidents: lines } };
    },
  }),
  defineRoute({
    method: 'GET',
    path: '/admin/incidents',
    access: 'read',
    summary: 'Incidents in memory, filtered by status (open, acknowledged, mitigating, resolved, active), severity, type',
    query: filterInputSchema.unwrap(),
    handler: ({ monitor, query }) => {
      const filter: { status?: NonNullable<typeof query.status>; severity?: Severity; type?: string } = {};
      if (query.status !== undefined) filter.status = query.status;
      if (query.severity !== undefined) filter.severity = query.severity;
      if (query.type !== undefined) filter.type = query.type;
      return { json: { incidents: monitor.incidents.list(filter) } };
    },
  }),
  defineRoute({
    method: 'POST',
    path: '/admin/incidents',
    access: 'operator',
    summary: 'Report an incident by hand: { type, severity, summary, scope? }; 201 with the incident',
    body: z.strictObject({
      type: z.string().trim().min(1).max(100),
      severity: severitySchema,
      summary: z.string().trim().min(1).max(1_000),
      scope: z.string().trim().min(1).max(200).optional(),
    }),
    handler: ({ monitor, body, caller }) => {
      const input: Parameters<typeof monitor.incidents.open>[0] = { type: body.type, severity: body.severity, summary: body.summary, by: caller.name };
      if (body.scope !== undefined) input.scope = body.scope;
      return { status: 201, json: monitor.incidents.open(input) };
    },
  }),
  defineRoute({
    method: 'POST',
    path: '/admin/incidents/detect',
    access: 'operator',
    summary: 'Run evaluation and detection now; returns SLO results and what changed',
    handler: ({ monitor }) => {
      const report = monitor.evaluate();
      return { json: { at: report.at, slos: report.slos, transitions: report.transitions, incidents: report.incidents } };
    },
  }),
  defineRoute({
    method: 'GET',
    path: '/admin/incidents/:id',
    access: 'read',
    summary: 'One incident with its timeline, notes and action items',
    params: idParams,
    handler: ({ monitor, params }) => ({ json: monitor.incidents.require(params.id) }),
  }),
  defineRoute({
    method: 'POST',
    path: '/admin/incidents/:id/acknowledge',
    access: 'operator',
    summary: 'Acknowledge: { note? }; 409 unless open',
    params: idParams,
    body: z.strictObject({ note: note.optional() }),
    handler: ({ monitor, params, body, caller }) => ({
      json: monitor.incidents.acknowledge(params.id, body.note === undefined ? { by: caller.name } : { by: caller.name, note: body.note }),
    }),
  }),
  defineRoute({
    method: 'POST',
    path: '/admin/incidents/:id/mitigate',
    access: 'operator',
    summary: 'Mark as mitigating: { note? }; 409 when resolved or already mitigating',
    params: idParams,
    body: z.strictObject({ note: note.optional() }),
    handler: ({ monitor, params, body, caller }) => ({
      json: monitor.incidents.mitigate(params.id, body.note === undefined ? { by: caller.name } : { by: caller.name, note: body.note }),
    }),
  }),
  defineRoute({
    method: 'POST',
    path: '/admin/incidents/:id/resolve',
    access: 'operator',
    summary: 'Resolve: { notes?, root_cause? | rootCause? }; 409 when already resolved',
    params: idParams,
    body: z
      .strictObject({
        notes: z.string().trim().max(10_000).optional(),
        rootCause: z.string().trim().max(10_000).optional(),
        root_cause: z.string().trim().max(10_000).optional(),
      })
      .refine((b) => b.rootCause === undefined || b.root_cause === undefined, {
        message: 'give rootCause or root_cause, not both',
        path: ['root_cause'],
      }),
    handler: ({ monitor, params, body, caller }) => {
      const input: Parameters<typeof monitor.incidents.resolve>[1] = { by: caller.name };
      if (body.notes !== undefined) input.notes = body.notes;
      const rootCause = body.rootCause ?? body.root_cause;
      if (rootCause !== undefined) input.rootCause = rootCause;
      return { json: monitor.incidents.resolve(params.id, input) };
    },
  }),
  defineRoute({
    method: 'POST',
    path: '/admin/incidents/:id/reopen',
    access: 'operator',
    summary: 'Reopen a resolved incident: { note? }; 409 unless resolved',
    params: idParams,
    body: z.strictObject({ note: note.optional() }),
    handler: ({ monitor, params, body, caller }) => ({
      json: monitor.incidents.reopen(params.id, body.note === undefined ? { by: caller.name } : { by: caller.name, note: body.note }),
    }),
  }),
  defineRoute({
    method: 'POST',
    path: '/admin/incidents/:id/notes',
    access: 'operator',
    summary: 'Add a note to the timeline: { text }',
    params: idParams,
    body: z.strictObject({ text: note }),
    handler: ({ monitor, params, body, caller }) => ({
      status: 201,
      json: monitor.incidents.addNote(params.id, { by: caller.name, text: body.text }),
    }),
  }),
  defineRoute({
    method: 'GET',
    path: '/admin/incidents/:id/procedures',
    access: 'read',
    summary: "The incident's playbook steps with estimated time and status, headed by the incident's runbook metadata",
    params: idParams,
    handler: ({ monitor, params }) => {
      const procedures = monitor.incidents.procedures(params.id);
      const runbook = monitor.incidents.require(params.id).runbook;
      return { json: runbook === undefined ? { incident: params.id, procedures } : { incident: params.id, runbook, procedures } };
    },
  }),
  defineRoute({
    method: 'GET',
    path: '/admin/incidents/:id/postmortem',
    access: 'read',
    summary: 'The post-mortem, as text/markdown',
    params: idParams,
    handler: ({ monitor, params }) => ({ text: monitor.incidents.postmortem(params.id), contentType: 'text/markdown; charset=utf-8' }),
  }),
];

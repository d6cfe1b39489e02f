/**
 * Schemas of what callers pass to the incident manager at runtime (from code
 * or, later, from HTTP). A bad input throws a `ValidationError` (HTTP 400)
 * naming the field.
 */
import { z } from 'zod';
import { ValidationError } from '../errors.js';
import { severitySchema } from './config.js';

const actor = z.string({ error: 'by must be a string' }).trim().min(1, 'by must not be empty').max(100);
const text = (max: number) => z.string().trim().max(max);

/** `incidents.open()` input. */
export const openInputSchema = z.strictObject({
  type: z.string().trim().min(1, 'type must not be empty').max(100),
  severity: severitySchema,
  summary: z.string().trim().min(1, 'summary must not be empty').max(1_000),
  scope: z.string().trim().min(1).max(200).default('service'),
  by: actor.default('unknown'),
});
/**
 * A manual incident report.
 *
 * @example
 * ```ts
 * monitor.incidents.open({ type: 'model-drift', severity: 'medium', summary: 'Drift score 0.41', scope: 'model:reranker', by: 'alice' });
 * ```
 */
export type OpenIncidentInput = z.input<typeof openInputSchema>;

/** `acknowledge()` / `mitigate()` / `reopen()` input. */
export const stepInputSchema = z.strictObject({ by: actor, note: text(5_000).optional() });
/**
 * Who takes a lifecycle step, and an optional note.
 *
 * @example
 * ```ts
 * monitor.incidents.acknowledge(id, { by: 'alice', note: 'Investigating' });
 * ```
 */
export type StepInput = z.input<typeof stepInputSchema>;

/** `resolve()` input. */
export const resolveInputSchema = z.strictObject({
  by: actor,
  notes: text(10_000).optional(),
  rootCause: text(10_000).optional(),
});
/**
 * How an incident was resolved.
 *
 * @example
 * ```ts
 * monitor.incidents.resolve(id, { by: 'alice', notes: 'Rolled back', rootCause: 'Bad deploy' });
 * ```
 */
export type ResolveInput = z.input<typeof resolveInputSchema>;

/** `addNote()` input. */
export const noteInputSchema = z.strictObject({ by: actor, text: z.string().trim().min(1, 'text must not be empty').max(5_000) });
/**
 * A note on an incident.
 *
 * @example
 * ```ts
 * monitor.incidents.addNote(id, { by: 'bob', text: 'Only EU traffic affected' });
 * ```
 */
export type NoteInput = z.input<typeof noteInputSchema>;

/** `addActionItem()` input. */
export const actionItemInputSchema = z.strictObject({
  text: z.string().trim().min(1, 'text must not be empty').max(1_000),
  owner: z.string().trim().min(1).max(100).optional(),
});
/**
 * A follow-up task.
 *
 * @example
 * ```ts
 * monitor.incidents.addActionItem(id, { text: 'Canary deploys', owner: 'carol' });
 * ```
 */
export type ActionItemInput = z.input<typeof actionItemInputSchema>;

/** Timeline kinds `record()` accepts; lifecycle kinds have their own methods. */
export const RECORDABLE_KINDS = ['action', 'action-failed', 'action-reverted', 'note', 'recovered'] as const;

/** `record()` input. */
export const recordInputSchema = z.strictObject({
  kind: z.enum(RECORDABLE_KINDS, { error: `kind must be one of ${RECORDABLE_KINDS.join(', ')} (use the lifecycle methods for the others)` }),
  by: actor,
  message: z.string().trim().min(1, 'message must not be empty').max(5_000),
  data: z.record(z.string(), z.unknown()).optional(),
});
/**
 * A timeline entry appended by another component (actions).
 *
 * @example
 * ```ts
 * monitor.incidents.record(id, { kind: 'action-failed', by: 'alice', message: 'cache.clear timed out' });
 * ```
 */
export type RecordInput = z.input<typeof recordInputSchema>;

/** `list()` filter. */
export const filterInputSchema = z
  .strictObject({
    status: z.enum(['open', 'acknowledged', 'mitigating', 'resolved', 'active']).optional(),
    severity: severitySchema.optional(),
    type: z.string().min(1).max(100).optional(),
  })
  .optional();

/** Parses runtime input, throwing a {@link ValidationError} that names every bad field. */
export function parseInput<S extends z.ZodType>(schema: S, what: string, input: unknown): z.output<S> {
  const result = schema.safeParse(input);
  if (!result.success) throw ValidationError.fromZod(what, result.error);
  return result.data;
}

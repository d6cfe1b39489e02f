import { z } from 'zod';
import { ConfigError } from '../errors.js';
import type { Incident } from '../incidents/types.js';
import { containAsync, errorMessage } from '../safe-call.js';
import type { Controls } from './controls/controls.js';

const isFn = (v: unknown): boolean => typeof v === 'function';

/**
 * What a params function can look at besides the incident.
 *
 * @example
 * ```ts
 * const step = { action: 'cache.clear', params: (incident, { controls }) => (controls.caches.has('search') ? { name: 'search' } : undefined) };
 * ```
 */
export interface StepContext {
  controls: Controls;
}

/**
 * Computes a step's params from the incident (e.g. `name: incident.scope`).
 *
 * @example
 * ```ts
 * const params: StepParamsFn = (incident) => ({ name: incident.scope.replace('cache:', '') });
 * ```
 */
export type StepParamsFn = (incident: Incident, ctx: StepContext) => Record<string, unknown> | undefined;

/** One step of a playbook, as validated. */
export const playbookStepSchema = z.strictObject({
  /** Action id, e.g. `model.fallback`. A step whose action is not registered is shown as unavailable and skipped. */
  action: z.string().min(1, 'action must name an action').max(100),
  /** Params, or a function of the incident returning them. */
  params: z
    .union([
      z.record(z.string(), z.unknown()),
      z.custom<StepParamsFn>(isFn),
    ], { error: 'params must be an object or a function (incident, ctx) => params' })
    .optional(),
  /** `auto` steps may run automatically (if the action is safe and needs no confirmation); `manual` ones never do. */
  mode: z.enum(['auto', 'manual']).default('manual'),
  /** How to check the step worked (defaults to the action's own verification). */
  verification: z.string().max(500).optional(),
  /** Title shown in procedures (defaults to the action's title). */
  title: z.string().max(200).optional(),
});
/**
 * One step of a playbook, as written.
 *
 * @example
 * ```ts
 * const step: PlaybookStepInput = { action: 'feature.disable', params: { name: 'recommendations' }, mode: 'auto' };
 * ```
 */
export type PlaybookStepInput = z.input<typeof playbookStepSchema>;
/**
 * One step of a playbook, with defaults applied.
 *
 * @example
 * ```ts
 * monitor.playbooks.get('high-latency').forEach((s: PlaybookStep) => console.log(s.action, s.mode));
 * ```
 */
export type PlaybookStep = z.output<typeof playbookStepSchema>;

/** Playbooks by incident type. */
export const playbookTableSchema = z.record(z.string().min(1).max(100), z.array(playbookStepSchema).max(50));
/**
 * Playbooks by incident type, as written.
 *
 * @example
 * ```ts
 * const table: PlaybookTable = { ...RUNBOOK_PLAYBOOKS, 'disk-space-low': [{ action: 'logs.rotate', mode: 'auto' }] };
 * ```
 */
export type PlaybookTable = z.input<typeof playbookTableSchema>;

const presetSchema = z.enum(['runbook', 'none'], { error: 'playbooks must be "runbook", "none" or a table of steps by incident type' });

/**
 * `createMonitor({ playbooks })`: a preset name (`runbook`, `none`) or a table.
 *
 * @example
 * ```ts
 * createMonitor({ service: 'api', playbooks: 'none' });
 * ```
 */
export type PlaybooksOption = z.input<typeof presetSchema> | PlaybookTable;

/**
 * `createMonitor({ playbooks })`, validated with issues on the exact field
 * (a plain union would only say "invalid input").
 */
export const playbooksOptionSchema = z
  .custom<PlaybooksOption>(() => true)
  .superRefine((v, ctx) => {
    const r = typeof v === 'string' ? presetSchema.safeParse(v) : playbookTableSchema.safeParse(v);
    if (!r.success) for (const issue of r.error.issues) ctx.addIssue({ code: 'custom', path: issue.path, message: issue.message });
  })
  .default('runbook');

type ControlKind = 'features' | 'caches' | 'rateLimiters' | 'fallbacks' | 'canaries';

/**
 * The scope prefix incidents about each kind of control carry (`cache:search`, `fallback:ranker`…).
 *
 * @example
 * ```ts
 * const scope = `${SCOPE_PREFIX.caches}search`; // 'cache:search'
 * ```
 */
export const SCOPE_PREFIX: Readonly<Record<ControlKind, string>> = {
  features: 'feature:',
  caches: 'cache:',
  rateLimiters: 'limiter:',
  fallbacks: 'fallback:',
  canaries: 'canary:',
};

/**
 * Params `{ name }` when the incident's scope names a control of `kind`
 * (`cache:search`, or a bare `search`): a cache-failure on cache `search`
 * targets cache `search`. Otherwise none, and the action's own rule applies
 * (the only control of its kind).
 *
 * @example
 * ```ts
 * monitor.playbooks.set('cache-failure', [{ action: 'cache.disable', mode: 'auto', params: scopedTo('caches') }]);
 * ```
 */
export function scopedTo(kind: ControlKind): StepParamsFn {
  const prefix = SCOPE_PREFIX[kind];
  return (incident, ctx) => {
    const scope = incident.scope;
    const name = scope.startsWith(prefix) ? scope.slice(prefix.length) : scope;
    return ctx.controls[kind].has(name) ? { name } : undefined;
  };
}

function withScope(kind: ControlKind, fixed: Record<string, unknown>): StepParamsFn {
  const scoped = scopedTo(kind);
  return (incident, ctx) => ({ ...fixed, ...scoped(incident, ctx) });
}

/**
 * The runbooks' quick-reference table as playbooks: incident type → ordered
 * steps. Steps that only change what the service serves and can be undone
 * (fallback, emergency stop, disable, tighten) are `auto`; clearing a warm
 * cache during a latency incident and blocking keys stay `manual`.
 *
 * Steps target the control named by the incident's scope when there is one
 * (a cache-failure on `search` disables cache `search`); otherwise the
 * action's own rule applies (the only control of its kind).
 *
 * @example
 * ```ts
 * createMonitor({ service: 'api', playbooks: { ...RUNBOOK_PLAYBOOKS, 'disk-space-low': [{ action: 'logs.rotate', mode: 'auto' }] } });
 * ```
 */
export const RUNBOOK_PLAYBOOKS: Readonly<Record<string, readonly PlaybookStepInput[]>> = Object.freeze({
  'high-latency': [
    { action: 'model.fallback', mode: 'auto', params: scopedTo('fallbacks'), title: 'Disable reranking (model fallback)', verification: 'p95 latency back under its threshold' },
    { action: 'cache.clear', mode: 'manual', params: scopedTo('caches'), verification: 'Cache refills; latency stays under its threshold' },
  ],
  'high-error-rate': [{ action: 'feature.emergency-stop', mode: 'auto', verification: 'Success rate back over its objective' }],
  'model-failure': [{ action: 'model.fallback', mode: 'auto', params: scopedTo('fallbacks'), title: 'Disable reranking (model fallback)', verification: 'Requests answered by the fallback; no model errors' }],
  'memory-exhaustion': [{ action: 'cache.clear', mode: 'auto', params: scopedTo('caches'), verification: 'Memory usage back under 80 %' }],
  'cache-failure': [
    { action: 'cache.disable', mode: 'auto', params: scopedTo('caches'), verification: 'Cache errors stop; requests served uncached' },
    { action: 'cache.clear', mode: 'auto', params: scopedTo('caches'), verification: 'Cache empty; hit rate recovers once re-enabled' },
  ],
  'rate-limit-attack': [
    { action: 'rate-limit.tighten', mode: 'auto', params: withScope('rateLimiters', { factor: 0.5 }), verification: '429s concentrate on abusive keys; latency recovers' },
    { action: 'rate-limit.block', mode: 'manual', params: withScope('rateLimiters', { top: 5, ttlSeconds: 3600 }), title: 'Block top offenders', verification: 'Blocked keys listed in /stats/rate-limit' },
  ],
  'canary-failure': [
    { action: 'canary.emergency-stop', mode: 'auto', params: scopedTo('canaries'), verification: 'Canary traffic at zero; error rate recovers' },
    { action: 'canary.disable', mode: 'manual', params: scopedTo('canaries'), verification: 'Canary share at 0 %' },
  ],
});

/**
 * The playbooks of a monitor (`monitor.playbooks`): incident type → ordered
 * steps. Start from the `runbook` preset, a table of your own, or none;
 * change them at runtime with `set`.
 *
 * @example
 * ```ts
 * monitor.playbooks.set('dependency-failure', [{ action: 'feature.disable', params: { name: 'recommendations' }, mode: 'auto' }]);
 * monitor.playbooks.get('high-latency').map((s) => s.action); // ['model.fallback', 'cache.clear']
 * ```
 */
export class Playbooks {
  private readonly table = new Map<string, PlaybookStep[]>();

  constructor(option: PlaybooksOption = 'runbook') {
    const parsed = playbooksOptionSchema.safeParse(option);
    if (!parsed.success) throw ConfigError.fromZod('playbooks', parsed.error);
    const source = parsed.data === 'runbook' ? RUNBOOK_PLAYBOOKS : parsed.data === 'none' ? {} : (parsed.data as PlaybookTable);
    for (const [type, steps] of Object.entries(source)) this.set(type, steps as PlaybookStepInput[]);
  }

  /** The steps for an incident type (empty when none). */
  get(type: string): readonly PlaybookStep[] {
    return this.table.get(type) ?? [];
  }

  /** Replaces the steps of one incident type (an empty list removes it). Throws a `ConfigError` naming the bad field. */
  set(type: string, steps: readonly PlaybookStepInput[]): void {
    const parsed = playbookTableSchema.safeParse({ [type]: steps });
    if (!parsed.success) throw ConfigError.fromZod('playbook', parsed.error);
    const out = parsed.data[type]!;
    if (out.length === 0) this.table.delete(type);
    else this.table.set(type, out);
  }

  /** Incident types that have a playbook. */
  types(): string[] {
    return [...this.table.keys()];
  }
}

/**
 * The params of `step` for `incident`. A params function that throws, returns
 * something other than an object, or returns a promise (params are computed
 * synchronously, when procedures are listed) gives empty params and the error;
 * the promise is never left to reject unhandled.
 */
export function resolveParams(step: PlaybookStep, incident: Incident, ctx: StepContext): { params: Record<string, unknown>; error?: string } {
  if (step.params === undefined) return { params: {} };
  if (typeof step.params !== 'function') return { params: { ...step.params } };
  try {
    const out: unknown = step.params(incident, ctx);
    if (out === undefined || out === null) return { params: {} };
    if (typeof out !== 'object' || Array.isArray(out)) return { params: {}, error: `params function returned ${Array.isArray(out) ? 'an array' : typeof out}; expected an object` };
    if (typeof (out as { then?: unknown }).then === 'function') {
      containAsync(out);
      return { params: {}, error: 'params function must be synchronous (it returned a promise)' };
    }
    return { params: { ...out } };
  } catch (err) {
    return { params: {}, error: errorMessage(err) };
  }
}

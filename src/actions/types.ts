import { z } from 'zod';
import { runbookMetaSchema, type RunbookMeta } from '../runbook.js';

const isFn = (v: unknown): boolean => typeof v === 'function';
/**
 * A zod 4 schema: `_zod` holds its internals. A zod 3 schema (no `_zod`) has a
 * `safeParse` too, but firebreak's `z.toJSONSchema` cannot read it and its
 * types are not zod 4's, so it is refused at registration rather than
 * half-working (see docs/controls-and-actions.md, "zod versions").
 */
const isZod4Schema = (v: unknown): boolean =>
  typeof v === 'object' &&
  v !== null &&
  typeof (v as { _zod?: unknown })._zod === 'object' &&
  isFn((v as { safeParse?: unknown }).safeParse);
const isZod3Schema = (v: unknown): boolean =>
  typeof v === 'object' && v !== null && !('_zod' in v) && typeof (v as { _def?: unknown })._def === 'object';

/**
 * How dangerous an action is: auto-remediation only ever runs `safe` actions.
 *
 * @example
 * ```ts
 * monitor.actions.list().filter((a) => a.risk === 'safe');
 * ```
 */
export type ActionRisk = 'safe' | 'risky';

/**
 * Metadata of an action, validated by {@link ActionRegistry.register}. The
 * functions (`execute`, `revert`) and the typed `params` schema are declared
 * on {@link ActionDefinition}.
 */
export const actionMetaSchema = z.object({
  /** Stable id, e.g. `cache.clear`: letters, digits, `.`, `-`, `_`. */
  id: z
    .string()
    .min(1, 'id must not be empty')
    .max(100)
    .regex(/^[a-zA-Z0-9][a-zA-Z0-9._-]*$/, 'id may only hold letters, digits, ".", "-" and "_"'),
  /** Short human title, e.g. `Clear cache`. */
  title: z.string().min(1, 'title must not be empty').max(200),
  /** What it does and when to use it. */
  description: z.string().max(2000).default(''),
  /** The runbook's estimate of how long the step takes an operator, in seconds. */
  estimatedSeconds: z.number().nonnegative().max(86_400).default(60),
  /** `safe` actions may run automatically; anything not declared safe is `risky`. */
  risk: z.enum(['safe', 'risky']).default('risky'),
  /** Execution needs `confirm: true`; such actions never run automatically. */
  requiresConfirm: z.boolean().default(false),
  /** How an operator checks that the step worked (shown in procedures). */
  verification: z.string().max(500).optional(),
  /** Owner, runbook URL and escalation contacts of the action (shown on each procedure step). */
  runbook: runbookMetaSchema.optional(),
  /** Execution (and revert) is recorded as failed after this long (default: the registry's `timeoutMs`). */
  timeoutMs: z.number().int().positive().max(3_600_000).optional(),
  /** Zod schema of the params (default: no params allowed). */
  params: z
    .custom<z.ZodType>(isZod4Schema, {
      error: (iss) =>
        isZod3Schema(iss.input)
          ? 'params must be a zod 4 schema; this is a zod 3 schema (use zod 4, or `zod/v4` of zod ≥ 3.25)'
          : 'params must be a zod 4 schema',
    })
    .optional(),
  execute: z.custom<(ctx: never) => unknown>(isFn, { message: 'execute must be a function' }),
  revert: z.custom<(ctx: never) => unknown>(isFn, { message: 'revert must be a function' }).optional(),
});

/** Action metadata as written (defaults optional). */
export type ActionMetaInput = Omit<z.input<typeof actionMetaSchema>, 'params' | 'execute' | 'revert'>;

/**
 * What an action's `execute` or `revert` may return (or nothing, meaning it worked).
 * Anything else — a number, a string, an array, a field of the wrong type,
 * `data` that `JSON.stringify` rejects — is a bug in the action: the execution
 * is recorded as `failed`, with the reason in `error`.
 *
 * @example
 * ```ts
 * execute: () => (queue.paused ? { noop: true } : (queue.pause(), { message: 'paused', data: { depth: queue.depth } }))
 * ```
 */
export interface ActionResult {
  /** The state was already as requested: nothing changed, and there is nothing to revert. */
  noop?: boolean;
  /** Human-readable outcome, shown in the audit log and on the incident timeline. */
  message?: string;
  /** Structured, JSON-serialisable detail; handed back to `revert` as `ctx.data`. */
  data?: Record<string, unknown>;
}

/**
 * Where an execution came from.
 *
 * @example
 * ```ts
 * monitor.actions.audit().filter((e) => e.source === 'auto');
 * ```
 */
export type ActionSource = 'manual' | 'auto';

/**
 * What `execute(ctx)` receives.
 *
 * @example
 * ```ts
 * execute: ({ params, by, signal }) => { if (signal.aborted) return; flags.disable(params.name, by); }
 * ```
 */
export interface ActionContext<P = unknown> {
  /** Params after validation (defaults applied). */
  params: P;
  /** Who asked: a person, or `firebreak` for automatic runs. */
  by: string;
  /** The incident this execution is tied to, if any. */
  incidentId: string | undefined;
  /** Id of this execution (in the audit log, on the timeline). */
  executionId: string;
  source: ActionSource;
  /** Clock time the execution started. */
  now: number;
  /** Aborted when the execution times out: long-running actions should stop. */
  signal: AbortSignal;
}

/**
 * What `revert(ctx)` receives: the execution's context plus what `execute` returned.
 *
 * @example
 * ```ts
 * revert: ({ data }) => { limiter.adjust(data.previous as RateLimit); }
 * ```
 */
export interface RevertContext<P = unknown> extends ActionContext<P> {
  /** `data` returned by `execute` (e.g. the previous state to restore). */
  data: Record<string, unknown>;
  /** The execution being reverted. */
  execution: ActionExecution;
}

/**
 * An action definition for {@link ActionRegistry.register}.
 *
 * @example
 * ```ts
 * monitor.actions.register({
 *   id: 'index.reload', title: 'Reload index', estimatedSeconds: 180, risk: 'risky', requiresConfirm: true,
 *   params: z.object({ path: z.string() }),
 *   execute: async ({ params }) => { await index.reload(params.path); return { message: 'reloaded' }; },
 * });
 * ```
 */
export interface ActionDefinition<S extends z.ZodType = z.ZodType> extends ActionMetaInput {
  /** Zod schema of the params; validation errors name the field. */
  params?: S;
  /** Performs the action. A throw, rejection or timeout is recorded as a failed execution. */
  execute(ctx: ActionContext<z.output<S>>): ActionResult | void | Promise<ActionResult | void>;
  /** Undoes a successful execution; without it the action cannot be reverted. */
  revert?(ctx: RevertContext<z.output<S>>): ActionResult | void | Promise<ActionResult | void>;
}

/**
 * JSON Schema (draft 2020-12) of an action's params, as produced by `z.toJSONSchema`.
 *
 * @example
 * ```ts
 * const schema: JsonSchema = monitor.actions.get('rate-limit.adjust')!.params;
 * ```
 */
export type JsonSchema = Record<string, unknown>;

/**
 * A registered action as `list()` serves it: JSON-serialisable, params as JSON Schema.
 *
 * @example
 * ```ts
 * for (const a of monitor.actions.list()) console.log(a.id, a.estimatedSeconds, a.risk);
 * ```
 */
export interface ActionInfo {
  id: string;
  title: string;
  description: string;
  estimatedSeconds: number;
  risk: ActionRisk;
  requiresConfirm: boolean;
  /** It has a `revert`. */
  revertible: boolean;
  timeoutMs: number;
  verification?: string;
  /** Owner, runbook URL and escalation contacts, when registered with them. */
  runbook?: RunbookMeta;
  /** JSON Schema of the accepted params (input side: defaults are optional). */
  params: JsonSchema;
  /** An execution or revert of it is in flight. */
  running: boolean;
}

/**
 * How an execution (or a revert) ended.
 *
 * @example
 * ```ts
 * if (ex.outcome === 'timeout') console.warn(`${ex.action} timed out`);
 * ```
 */
export type ActionOutcome = 'success' | 'noop' | 'failed' | 'timeout';

/**
 * How a revert ended.
 *
 * @example
 * ```ts
 * const after = await monitor.actions.revert(ex.id); console.log(after.revert?.outcome);
 * ```
 */
export interface RevertRecord {
  at: number;
  by: string;
  outcome: ActionOutcome;
  durationMs: number;
  message?: string;
  error?: string;
}

/**
 * One execution of an action: who ran it, when, with what, and how it went.
 *
 * @example
 * ```ts
 * const ex = await monitor.actions.execute('cache.clear', { by: 'alice' });
 * if (ex.outcome === 'failed') console.error(ex.error);
 * ```
 */
export interface ActionExecution {
  /** Unique, time-ordered id. */
  id: string;
  action: string;
  title: string;
  risk: ActionRisk;
  /** Validated params. */
  params: Record<string, unknown>;
  by: string;
  incidentId?: string;
  source: ActionSource;
  startedAt: number;
  finishedAt: number;
  durationMs: number;
  outcome: ActionOutcome;
  /** The state was already as requested (`outcome === 'noop'`). */
  noop: boolean;
  /** `success` or `noop`. */
  ok: boolean;
  message?: string;
  error?: string;
  /** `data` returned by `execute`. */
  data?: Record<string, unknown>;
  /** The replica that ran it (monitor option `replica`; the fleet's name under `redisFleet`). */
  replica: string;
  /** With a fleet attached: whether the change reached the fleet (see {@link ExecutionFleet}). */
  fleet?: ExecutionFleet;
  /** It can be reverted now: it changed something, has a revert, and is not reverted yet. */
  revertible: boolean;
  /** Set once a revert was attempted (the last attempt). */
  revert?: RevertRecord;
}

/**
 * Whether an execution's change reached the fleet (`redisFleet`): `propagated`
 * once Redis ordered and published every lever change made so far on this
 * replica; false while Redis is unreachable — the change holds locally, is
 * `pending`, and is pushed when Redis is back.
 *
 * @example
 * ```ts
 * const ex = await monitor.actions.execute('feature.disable', { params: { name: 'rerank' }, by: 'alice' });
 * if (ex.fleet?.propagated === false) console.warn(`only this replica: ${ex.fleet.pending} change(s) pending`);
 * ```
 */
export interface ExecutionFleet {
  propagated: boolean;
  /** Lever changes of this replica not yet acknowledged by Redis. */
  pending: number;
}

/**
 * One line of the audit log: an execution or a revert.
 *
 * @example
 * ```ts
 * monitor.actions.audit({ incidentId: incident.id }).forEach((e) => console.log(e.at, e.by, e.action, e.outcome));
 * ```
 */
export interface AuditEntry {
  /** Sequence number, increasing. */
  seq: number;
  at: number;
  kind: 'execute' | 'revert';
  executionId: string;
  action: string;
  by: string;
  source: ActionSource;
  params: Record<string, unknown>;
  incidentId?: string;
  outcome: ActionOutcome;
  durationMs: number;
  message?: string;
  error?: string;
  /** The replica that took the action. */
  replica: string;
  /** With a fleet attached: whether the change reached the fleet. */
  fleet?: ExecutionFleet;
}

/** Filter of {@link ActionRegistry.audit}. */
export const auditFilterSchema = z.strictObject({
  action: z.string().optional(),
  incidentId: z.string().optional(),
  by: z.string().optional(),
  kind: z.enum(['execute', 'revert']).optional(),
  outcome: z.enum(['success', 'noop', 'failed', 'timeout']).optional(),
  /** Entries at or after this clock time. */
  since: z.number().optional(),
  /** At most this many (the newest). */
  limit: z.number().int().positive().optional(),
});
/**
 * Filter of {@link ActionRegistry.audit}.
 *
 * @example
 * ```ts
 * monitor.actions.audit({ action: 'cache.clear', since: Date.now() - 3_600_000 });
 * ```
 */
export type AuditFilter = z.input<typeof auditFilterSchema>;

/** Options of `actions.execute()`. */
export const executeOptionsSchema = z.strictObject({
  params: z.record(z.string(), z.unknown()).optional(),
  incidentId: z.string().min(1).max(200).optional(),
  by: z.string().min(1).max(200).default('anonymous'),
  confirm: z.boolean().default(false),
  source: z.enum(['manual', 'auto']).default('manual'),
});
/**
 * Options of `actions.execute()`.
 *
 * @example
 * ```ts
 * await monitor.actions.execute('rate-limit.block', { params: { key: ip }, confirm: true, by: 'alice', incidentId });
 * ```
 */
export type ExecuteOptions = z.input<typeof executeOptionsSchema>;

/** Options of `actions.revert()`. */
export const revertOptionsSchema = z.strictObject({
  by: z.string().min(1).max(200).default('anonymous'),
});
/**
 * Options of `actions.revert()`.
 *
 * @example
 * ```ts
 * await monitor.actions.revert(executionId, { by: 'alice' });
 * ```
 */
export type RevertOptions = z.input<typeof revertOptionsSchema>;

/** Registry-wide options (`createMonitor({ actions: … })`). */
export const actionsOptionsSchema = z
  .strictObject({
    /** Audit entries kept (oldest dropped first, counted in `stats().auditDropped`). */
    auditSize: z.number().int().positive().max(100_000).default(1000),
    /** Executions kept for `revert()` and procedures (oldest dropped first). */
    maxExecutions: z.number().int().positive().max(100_000).default(1000),
    /** Default timeout of an execution or revert. */
    timeoutMs: z.number().int().positive().max(3_600_000).default(30_000),
    /** Registered actions allowed. */
    maxActions: z.number().int().positive().max(10_000).default(500),
  })
  .default({ auditSize: 1000, maxExecutions: 1000, timeoutMs: 30_000, maxActions: 500 });
/**
 * Registry-wide options.
 *
 * @example
 * ```ts
 * createMonitor({ service: 'api', actions: { auditSize: 5000, timeoutMs: 10_000 } });
 * ```
 */
export type ActionsOptions = z.input<typeof actionsOptionsSchema>;

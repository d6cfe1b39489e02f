import { hostname } from 'node:os';
import { z } from 'zod';
import type { Clock } from '../clock.js';
import { ActionError, ConfigError, ValidationError } from '../errors.js';
import { mergeRunbook } from '../runbook.js';
import { AuditLog } from './audit-log.js';
import { runIsolated, type Settled } from './isolate.js';
import {
  actionMetaSchema,
  actionsOptionsSchema,
  auditFilterSchema,
  executeOptionsSchema,
  revertOptionsSchema,
  type ActionDefinition,
  type ActionExecution,
  type ActionInfo,
  type ActionOutcome,
  type ActionsOptions,
  type AuditEntry,
  type AuditFilter,
  type ExecuteOptions,
  type ExecutionFleet,
  type JsonSchema,
  type RevertOptions,
} from './types.js';

/**
 * The events the registry reports through its hooks.
 *
 * @example
 * ```ts
 * monitor.on('action:failed', (ex) => pager.send(`${ex.action} failed: ${ex.error}`));
 * ```
 */
export type ActionEventName = 'action:executed' | 'action:failed' | 'action:reverted';

/** A timeline entry the registry asks to append to an incident. */
export interface ActionTimelineEntry {
  kind: 'action' | 'action-failed' | 'action-reverted';
  by: string;
  message: string;
  data: Record<string, unknown>;
}

/**
 * How the registry reaches the rest of the monitor. All optional, so the
 * registry also works stand-alone (in tests, or before incidents exist).
 */
export interface ActionRegistryHooks {
  /** Fires `action:*` events. */
  emit?(event: ActionEventName, execution: ActionExecution): void;
  /** Appends an entry to an incident's timeline. Errors are contained and counted. */
  timeline?(incidentId: string, entry: ActionTimelineEntry): void;
  /** Throws (e.g. `NotFoundError`) when `incidentId` does not exist: the request is refused before running. */
  requireIncident?(incidentId: string): void;
  /** With a fleet attached: settles once this replica's lever changes reached the fleet (or could not). Never rejects. */
  propagation?(): Promise<ExecutionFleet>;
}

/**
 * Counts and bounds of a registry, for `stats()`.
 *
 * @example
 * ```ts
 * const { running, byOutcome, auditDropped } = monitor.actions.stats();
 * ```
 */
export interface ActionRegistryStats {
  actions: number;
  /** Action ids with an execution or revert in flight. */
  running: string[];
  executions: number;
  reverts: number;
  byOutcome: Record<ActionOutcome, number>;
  auditEntries: number;
  /** Audit entries overwritten because the log was full. */
  auditDropped: number;
  /** Executions forgotten (no longer revertible by id) because `maxExecutions` was reached. */
  executionsDropped: number;
  /** Timeline hook calls that threw (contained). */
  timelineErrors: number;
}

interface Registered {
  def: ActionDefinition;
  meta: z.output<typeof actionMetaSchema>;
  params: z.ZodType;
  timeoutMs: number;
  jsonSchema: JsonSchema;
}

const NO_PARAMS = z.strictObject({});
const OUTCOMES: readonly ActionOutcome[] = ['success', 'noop', 'failed', 'timeout'];

function emptyCounts(): Record<ActionOutcome, number> {
  return { success: 0, noop: 0, failed: 0, timeout: 0 };
}

function toJsonSchema(schema: z.ZodType): JsonSchema {
  try {
    return z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as JsonSchema;
  } catch {
    return {};
  }
}

function copy(ex: ActionExecution): ActionExecution {
  const out = { ...ex };
  if (ex.revert !== undefined) out.revert = { ...ex.revert };
  return out;
}

/**
 * The emergency-action registry (`monitor.actions`): actions are registered
 * with metadata, a zod params schema, `execute` and an optional `revert`.
 * Executions are isolated (a throw or a hang becomes a failed execution,
 * never an exception in the caller), serialised per action (`ACTION_BUSY`),
 * audited in a bounded log, put on the incident timeline, emitted as events
 * and counted for Prometheus.
 *
 * @example
 * ```ts
 * monitor.actions.register({
 *   id: 'search.warmup', title: 'Warm the search cache', risk: 'safe', estimatedSeconds: 60,
 *   execute: async () => { await warmup(); },
 * });
 * const ex = await monitor.actions.execute('search.warmup', { by: 'alice' });
 * console.log(ex.outcome, ex.durationMs);
 * ```
 */
export class ActionRegistry {
  private readonly clock: Clock;
  private readonly opts: z.output<typeof actionsOptionsSchema>;
  private hooks: ActionRegistryHooks;
  private readonly defs = new Map<string, Registered>();
  private readonly running = new Set<string>();
  /** Settles when the action's in-flight execution or revert has finished. */
  private readonly inflight = new Map<string, Promise<void>>();
  private readonly executionsById = new Map<string, ActionExecution>();
  private readonly log: AuditLog;
  private readonly counts = new Map<string, Record<ActionOutcome, number>>();
  private readonly revertCounts = new Map<string, Record<ActionOutcome, number>>();
  private seq = 0;
  private executionsDropped = 0;
  private timelineErrors = 0;
  private replicaName = `${hostname()}-${process.pid}`;

  constructor(clock: Clock, options: ActionsOptions = {}, hooks: ActionRegistryHooks = {}) {
    this.clock = clock;
    const parsed = actionsOptionsSchema.safeParse(options);
    if (!parsed.success) throw ConfigError.fromZod('actions options', parsed.error);
    this.opts = parsed.data;
    this.hooks = hooks;
    this.log = new AuditLog(this.opts.auditSize);
  }

  /** The replica name executions and audit entries carry. */
  get replica(): string {
    return this.replicaName;
  }

  /** @internal Sets the replica name (monitor option `replica`, or the fleet's). */
  setReplica(name: string): void {
    this.replicaName = name;
  }

  /** @internal Installs (or removes) the propagation hook of a fleet. */
  setPropagation(hook: (() => Promise<ExecutionFleet>) | undefined): void {
    if (hook === undefined) delete this.hooks.propagation;
    else this.hooks.propagation = hook;
  }

  /** @internal Replaces the hooks (the monitor wires them once its parts exist). */
  setHooks(hooks: ActionRegistryHooks): void {
    this.hooks = hooks;
  }

  /**
   * Registers an action. Throws a `ConfigError` naming the bad field, or an
   * `ActionError` (`ACTION_EXISTS`) if the id is taken.
   *
   * @example
   * ```ts
   * monitor.actions.register({ id: 'queue.pause', title: 'Pause the queue', risk: 'safe', execute: () => queue.pause(), revert: () => queue.resume() });
   * ```
   */
  register<S extends z.ZodType>(def: ActionDefinition<S>): ActionInfo {
    const parsed = actionMetaSchema.safeParse(def);
    if (!parsed.success) throw ConfigError.fromZod('action definition', parsed.error);
    const meta = parsed.data;
    if (this.defs.has(meta.id)) throw new ActionError('ACTION_EXISTS', `Action already registered: ${meta.id}`, { id: meta.id });
    if (this.defs.size >= this.opts.maxActions) {
      throw new ConfigError('action definition', [{ path: 'id', message: `at most ${this.opts.maxActions} actions may be registered` }]);
    }
    const params = (def.params as z.ZodType | undefined) ?? NO_PARAMS;
    this.defs.set(meta.id, {
      def: def as unknown as ActionDefinition,
      meta,
      params,
      timeoutMs: meta.timeoutMs ?? this.opts.timeoutMs,
      jsonSchema: toJsonSchema(params),
    });
    return this.info(meta.id)!;
  }

  /** True if an action with this id is registered. */
  has(id: string): boolean {
    return this.defs.has(id);
  }

  /**
   * Every registered action, JSON-serialisable (params as JSON Schema).
   *
   * @example
   * ```ts
   * res.json(monitor.actions.list());
   * ```
   */
  list(): ActionInfo[] {
    return [...this.defs.keys()].map((id) => this.info(id)!);
  }

  /** One action's description, or `undefined`. */
  get(id: string): ActionInfo | undefined {
    return this.info(id);
  }

  /**
   * Runs an action. Rejects only for an invalid request: unknown action
   * (`ACTION_NOT_FOUND`), bad params (`ValidationError` naming the field),
   * missing `confirm` (`CONFIRMATION_REQUIRED`), unknown incident, or the
   * same action already running (`ACTION_BUSY`). Anything the action itself
   * does wrong — throw, reject, return a thenable whose `then` throws or a
   * malformed result, hang past `timeoutMs` — resolves to an audited
   * execution with outcome `failed` or `timeout`, and frees the action for
   * the next call.
   *
   * A synchronous action takes effect before `execute()` returns its promise.
   *
   * @example
   * ```ts
   * const ex = await monitor.actions.execute('rate-limit.tighten', { params: { factor: 0.5 }, by: 'alice', incidentId });
   * if (ex.noop) console.log('already tightened');
   * ```
   */
  // Not `async`: the action must start synchronously, and a bad request must reject, not throw.
  execute(id: string, options: ExecuteOptions = {}): Promise<ActionExecution> {
    try {
      return this.start(id, options);
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /**
   * Reverts a successful execution (by calling the action's `revert` with
   * what `execute` returned). Rejects with `EXECUTION_NOT_FOUND`,
   * `NOT_REVERTIBLE` (no revert, a no-op or failed execution, already
   * reverted) or `ACTION_BUSY`; a failing revert resolves with
   * `revert.outcome` `failed` / `timeout` and can be retried.
   *
   * @example
   * ```ts
   * const ex = await monitor.actions.execute('model.fallback', { params: { name: 'ranker' } });
   * await monitor.actions.revert(ex.id, { by: 'alice' });
   * ```
   */
  revert(executionId: string, options: RevertOptions = {}): Promise<ActionExecution> {
    try {
      return this.startRevert(executionId, options);
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /**
   * Resolves once the action has no execution or revert in flight (at once
   * when idle). Never rejects. Auto-remediation uses it to wait for a shared
   * step another incident is running rather than fail with `ACTION_BUSY`.
   *
   * @example
   * ```ts
   * await monitor.actions.whenIdle('model.fallback');
   * ```
   */
  async whenIdle(id: string): Promise<void> {
    for (let p = this.inflight.get(id); p !== undefined; p = this.inflight.get(id)) await p;
  }

  /** A recorded execution (a copy), or `undefined` once forgotten. */
  execution(id: string): ActionExecution | undefined {
    const ex = this.executionsById.get(id);
    return ex === undefined ? undefined : copy(ex);
  }

  /**
   * Recorded executions (copies), oldest first, optionally for one incident or action.
   *
   * @example
   * ```ts
   * const applied = monitor.actions.executions({ incidentId }).filter((e) => e.revertible);
   * ```
   */
  executions(filter: { incidentId?: string; action?: string } = {}): ActionExecution[] {
    const out: ActionExecution[] = [];
    for (const ex of this.executionsById.values()) {
      if (filter.incidentId !== undefined && ex.incidentId !== filter.incidentId) continue;
      if (filter.action !== undefined && ex.action !== filter.action) continue;
      out.push(copy(ex));
    }
    return out;
  }

  /**
   * The audit log (bounded: the last `auditSize` entries), oldest first.
   *
   * @example
   * ```ts
   * monitor.actions.audit({ by: 'alice', limit: 20 });
   * ```
   */
  audit(filter: AuditFilter = {}): AuditEntry[] {
    const parsed = auditFilterSchema.safeParse(filter);
    if (!parsed.success) throw ValidationError.fromZod('audit filter', parsed.error);
    return this.log.query(parsed.data);
  }

  /** Counts and bounds. */
  stats(): ActionRegistryStats {
    const byOutcome = emptyCounts();
    let executions = 0;
    let reverts = 0;
    for (const c of this.counts.values()) for (const o of OUTCOMES) (byOutcome[o] += c[o]), (executions += c[o]);
    for (const c of this.revertCounts.values()) for (const o of OUTCOMES) reverts += c[o];
    return {
      actions: this.defs.size,
      running: [...this.running],
      executions,
      reverts,
      byOutcome,
      auditEntries: this.log.total,
      auditDropped: this.log.dropped,
      executionsDropped: this.executionsDropped,
      timelineErrors: this.timelineErrors,
    };
  }

  /** @internal Samples for `firebreak_actions_total{action,outcome}`. */
  executionSamples(): { labels: { action: string; outcome: string }; value: number }[] {
    return samples(this.counts);
  }

  /** @internal Samples for `firebreak_action_reverts_total{action,outcome}`. */
  revertSamples(): { labels: { action: string; outcome: string }; value: number }[] {
    return samples(this.revertCounts);
  }

  private info(id: string): ActionInfo | undefined {
    const r = this.defs.get(id);
    if (r === undefined) return undefined;
    const { meta } = r;
    const out: ActionInfo = {
      id: meta.id,
      title: meta.title,
      description: meta.description,
      estimatedSeconds: meta.estimatedSeconds,
      risk: meta.risk,
      requiresConfirm: meta.requiresConfirm,
      revertible: typeof r.def.revert === 'function',
      timeoutMs: r.timeoutMs,
      params: r.jsonSchema,
      running: this.running.has(id),
    };
    if (meta.verification !== undefined) out.verification = meta.verification;
    if (meta.runbook !== undefined) {
      const rb = mergeRunbook(meta.runbook);
      if (rb !== undefined) out.runbook = rb;
    }
    return out;
  }

  private start(id: string, options: ExecuteOptions): Promise<ActionExecution> {
    // Checked before the id is put in a message: a template literal throws a TypeError for a symbol or a null-prototype object.
    if (typeof id !== 'string') throw new ValidationError('execute', [{ path: 'id', message: 'action id must be a string' }]);
    const reg = this.defs.get(id);
    if (reg === undefined) throw new ActionError('ACTION_NOT_FOUND', `Unknown action: ${id}`, { id });
    const o = executeOptionsSchema.safeParse(options);
    if (!o.success) throw ValidationError.fromZod('execute options', o.error);
    const opts = o.data;
    const p = reg.params.safeParse(opts.params ?? {});
    if (!p.success) throw ValidationError.fromZod(`params of action ${id}`, p.error);
    if (reg.meta.requiresConfirm && !opts.confirm) {
      throw new ActionError('CONFIRMATION_REQUIRED', `Action ${id} requires confirmation (confirm: true)`, { id });
    }
    if (opts.incidentId !== undefined) this.hooks.requireIncident?.(opts.incidentId);
    if (this.running.has(id)) throw new ActionError('ACTION_BUSY', `Action ${id} is already running`, { id });

    const params = (typeof p.data === 'object' && p.data !== null ? p.data : { value: p.data }) as Record<string, unknown>;
    const startedAt = this.clock.now();
    const t0 = this.clock.monotonic();
    const executionId = this.nextId(startedAt);
    const controller = new AbortController();
    this.running.add(id);
    const ctx = {
      params: p.data,
      by: opts.by,
      incidentId: opts.incidentId,
      executionId,
      source: opts.source,
      now: startedAt,
      signal: controller.signal,
    };
    const settled = runIsolated(this.clock, reg.timeoutMs, controller, () => reg.def.execute(ctx));
    const finish = (s: Settled, fleet: ExecutionFleet | undefined): ActionExecution => {
      this.running.delete(id);
      this.inflight.delete(id);
      const ex = this.finishExecution(reg, s, { executionId, params, opts, startedAt, t0, fleet });
      return copy(ex);
    };
    const done = settled.then((s) => {
      // Only with a fleet: the answer says whether the change reached it (no extra await otherwise).
      const propagation = this.hooks.propagation;
      if (propagation === undefined) return finish(s, undefined);
      return propagation().then(
        (fleet) => finish(s, fleet),
        () => finish(s, { propagated: false, pending: -1 }),
      );
    });
    this.inflight.set(id, done.then(noop, noop));
    return done;
  }

  private finishExecution(
    reg: Registered,
    s: Settled,
    a: {
      executionId: string;
      params: Record<string, unknown>;
      opts: z.output<typeof executeOptionsSchema>;
      startedAt: number;
      t0: number;
      fleet: ExecutionFleet | undefined;
    },
  ): ActionExecution {
    const finishedAt = this.clock.now();
    const ok = s.outcome === 'success' || s.outcome === 'noop';
    const ex: ActionExecution = {
      id: a.executionId,
      action: reg.meta.id,
      title: reg.meta.title,
      risk: reg.meta.risk,
      params: a.params,
      by: a.opts.by,
      source: a.opts.source,
      startedAt: a.startedAt,
      finishedAt,
      durationMs: Math.max(0, this.clock.monotonic() - a.t0),
      outcome: s.outcome,
      noop: s.outcome === 'noop',
      ok,
      replica: this.replicaName,
      revertible: s.outcome === 'success' && typeof reg.def.revert === 'function',
    };
    if (a.fleet !== undefined) ex.fleet = a.fleet;
    if (a.opts.incidentId !== undefined) ex.incidentId = a.opts.incidentId;
    if (s.result.message !== undefined) ex.message = s.result.message;
    if (s.result.data !== undefined) ex.data = s.result.data;
    if (s.error !== undefined) ex.error = s.error;
    this.remember(ex);
    count(this.counts, ex.action, ex.outcome);
    const entry: Omit<AuditEntry, 'seq'> = {
      at: finishedAt,
      kind: 'execute',
      executionId: ex.id,
      action: ex.action,
      by: ex.by,
      source: ex.source,
      params: ex.params,
      outcome: ex.outcome,
      durationMs: ex.durationMs,
      replica: ex.replica,
    };
    if (ex.fleet !== undefined) entry.fleet = { ...ex.fleet };
    if (ex.incidentId !== undefined) entry.incidentId = ex.incidentId;
    if (ex.message !== undefined) entry.message = ex.message;
    if (ex.error !== undefined) entry.error = ex.error;
    this.log.append(entry);
    if (ex.incidentId !== undefined) {
      const what = `${reg.meta.title} (${ex.action})`;
      const message = ok
        ? `${ex.noop ? 'No-op' : 'Executed'}: ${what}${ex.message !== undefined ? ` — ${ex.message}` : ''}`
        : `Failed: ${what} — ${ex.error ?? ex.outcome}`;
      this.toTimeline(ex.incidentId, { kind: ok ? 'action' : 'action-failed', by: ex.by, message, data: timelineData(ex) });
    }
    this.hooks.emit?.(ok ? 'action:executed' : 'action:failed', copy(ex));
    return ex;
  }

  private startRevert(executionId: string, options: RevertOptions): Promise<ActionExecution> {
    if (typeof executionId !== 'string') throw new ValidationError('revert', [{ path: 'executionId', message: 'execution id must be a string' }]);
    const o = revertOptionsSchema.safeParse(options);
    if (!o.success) throw ValidationError.fromZod('revert options', o.error);
    const by = o.data.by;
    const ex = this.executionsById.get(executionId);
    if (ex === undefined) throw new ActionError('EXECUTION_NOT_FOUND', `Unknown execution: ${executionId}`, { executionId });
    const reg = this.defs.get(ex.action);
    const revertFn = reg?.def.revert;
    if (reg === undefined || typeof revertFn !== 'function') {
      throw new ActionError('NOT_REVERTIBLE', `Action ${ex.action} cannot be reverted`, { executionId });
    }
    if (!ex.revertible) {
      const why =
        ex.revert !== undefined && (ex.revert.outcome === 'success' || ex.revert.outcome === 'noop')
          ? 'it was already reverted'
          : ex.noop
            ? 'it was a no-op'
            : 'it did not succeed';
      throw new ActionError('NOT_REVERTIBLE', `Execution ${executionId} cannot be reverted: ${why}`, { executionId });
    }
    if (this.running.has(ex.action)) throw new ActionError('ACTION_BUSY', `Action ${ex.action} is already running`, { id: ex.action });

    const at = this.clock.now();
    const t0 = this.clock.monotonic();
    const controller = new AbortController();
    this.running.add(ex.action);
    const ctx = {
      // The params as validated at execution (re-parsing could fail on state that changed since).
      params: ex.params,
      by,
      incidentId: ex.incidentId,
      executionId: ex.id,
      source: ex.source,
      now: at,
      signal: controller.signal,
      data: ex.data ?? {},
      execution: copy(ex),
    };
    const finish = (s: Settled, fleet: ExecutionFleet | undefined): ActionExecution => {
      this.running.delete(ex.action);
      this.inflight.delete(ex.action);
      this.finishRevert(reg, ex, s, by, t0, fleet);
      return copy(ex);
    };
    const done = runIsolated(this.clock, reg.timeoutMs, controller, () => revertFn.call(reg.def, ctx)).then((s) => {
      const propagation = this.hooks.propagation;
      if (propagation === undefined) return finish(s, undefined);
      return propagation().then(
        (fleet) => finish(s, fleet),
        () => finish(s, { propagated: false, pending: -1 }),
      );
    });
    this.inflight.set(ex.action, done.then(noop, noop));
    return done;
  }

  private finishRevert(reg: Registered, ex: ActionExecution, s: Settled, by: string, t0: number, fleet: ExecutionFleet | undefined): void {
    const at = this.clock.now();
    const ok = s.outcome === 'success' || s.outcome === 'noop';
    const rec: ActionExecution['revert'] & object = { at, by, outcome: s.outcome, durationMs: Math.max(0, this.clock.monotonic() - t0) };
    if (s.result.message !== undefined) rec.message = s.result.message;
    if (s.error !== undefined) rec.error = s.error;
    ex.revert = rec;
    if (ok) ex.revertible = false;
    count(this.revertCounts, ex.action, s.outcome);
    const entry: Omit<AuditEntry, 'seq'> = {
      at,
      kind: 'revert',
      executionId: ex.id,
      action: ex.action,
      by,
      source: ex.source,
      params: ex.params,
      outcome: s.outcome,
      durationMs: rec.durationMs,
      replica: this.replicaName,
    };
    if (fleet !== undefined) {
      entry.fleet = { ...fleet };
      ex.fleet = { ...fleet };
    }
    if (ex.incidentId !== undefined) entry.incidentId = ex.incidentId;
    if (rec.message !== undefined) entry.message = rec.message;
    if (rec.error !== undefined) entry.error = rec.error;
    this.log.append(entry);
    if (ex.incidentId !== undefined) {
      const what = `${reg.meta.title} (${ex.action})`;
      const message = ok
        ? `Reverted: ${what}${rec.message !== undefined ? ` — ${rec.message}` : ''}`
        : `Revert failed: ${what} — ${rec.error ?? rec.outcome}`;
      this.toTimeline(ex.incidentId, {
        kind: ok ? 'action-reverted' : 'action-failed',
        by,
        message,
        data: { ...timelineData(ex), revert: { ...rec } },
      });
    }
    this.hooks.emit?.(ok ? 'action:reverted' : 'action:failed', copy(ex));
  }

  private toTimeline(incidentId: string, entry: ActionTimelineEntry): void {
    if (this.hooks.timeline === undefined) return;
    try {
      this.hooks.timeline(incidentId, entry);
    } catch {
      this.timelineErrors++;
    }
  }

  private remember(ex: ActionExecution): void {
    this.executionsById.set(ex.id, ex);
    if (this.executionsById.size > this.opts.maxExecutions) {
      const oldest = this.executionsById.keys().next().value;
      if (oldest !== undefined) this.executionsById.delete(oldest);
      this.executionsDropped++;
    }
  }

  private nextId(now: number): string {
    // Time first so ids sort by start time; the sequence breaks ties within a millisecond.
    return `ex_${Math.max(0, Math.floor(now)).toString(36).padStart(9, '0')}${(this.seq++ % 1_679_616).toString(36).padStart(4, '0')}`;
  }
}

function noop(): void {}

function timelineData(ex: ActionExecution): Record<string, unknown> {
  const d: Record<string, unknown> = {
    executionId: ex.id,
    action: ex.action,
    params: ex.params,
    outcome: ex.outcome,
    durationMs: ex.durationMs,
    source: ex.source,
  };
  if (ex.error !== undefined) d['error'] = ex.error;
  if (ex.data !== undefined) d['result'] = ex.data;
  return d;
}

function count(map: Map<string, Record<ActionOutcome, number>>, action: string, outcome: ActionOutcome): void {
  let c = map.get(action);
  if (c === undefined) map.set(action, (c = emptyCounts()));
  c[outcome]++;
}

function samples(map: Map<string, Record<ActionOutcome, number>>): { labels: { action: string; outcome: string }; value: number }[] {
  const out = [];
  for (const [action, c] of map) for (const outcome of OUTCOMES) out.push({ labels: { action, outcome }, value: c[outcome] });
  return out;
}

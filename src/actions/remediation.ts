import { z } from 'zod';
import type { Clock, TimerHandle } from '../clock.js';
import { FirebreakError } from '../errors.js';
import type { Incident, Severity } from '../incidents/types.js';
import type { Controls } from './controls/controls.js';
import { errorMessage } from './isolate.js';
import { resolveParams, type Playbooks } from './playbooks.js';
import { isAutomatic } from './procedures.js';
import type { ActionRegistry } from './registry.js';
import type { ActionExecution } from './types.js';

/** An auto-remediation policy, as validated. */
export const remediationPolicySchema = z.strictObject({
  enabled: z.boolean().default(true),
  /** Least time between two runs on the same incident. */
  cooldownMs: z.number().int().nonnegative().max(86_400_000).default(300_000),
  /** Runs (open, escalation, reopen) allowed per incident. */
  maxRunsPerIncident: z.number().int().positive().max(100).default(3),
  /** Only record on the timeline what would run; execute nothing. */
  dryRun: z.boolean().default(false),
  /** After an incident resolves, wait this long, then revert what was applied automatically. */
  revertAfterMs: z.number().int().nonnegative().max(7 * 86_400_000).default(300_000),
  /** Revert auto-applied actions after resolution (manual ones are only reverted on request). */
  revertOnResolve: z.boolean().default(true),
  /** Only remediate these incident types (default: every type with a playbook). */
  types: z.array(z.string().min(1).max(100)).max(100).optional(),
  /**
   * Closed loop: this long after a run applied something, the incident must be
   * resolved or at a lower severity; if not, what the run applied is reverted
   * and the incident is handed to a person (`remediation:handed-over`). Default:
   * twice the monitor's window + `incidents.clearForMs` + `evaluateEveryMs`
   * (12 min 10 s with defaults): bad samples from before the step, and from
   * requests still in flight when it ran, stay in the window for its whole
   * length, and the incident then needs `clearForMs` of clear readings to
   * resolve. `0`: no verification.
   */
  verifyAfterMs: z.number().int().nonnegative().max(86_400_000).optional(),
  /** Auto actions that change something (no-ops do not count), across all incidents, per rolling hour. */
  maxActionsPerHour: z.number().int().positive().max(10_000).default(10),
  /** Times one lever (action + params) may be applied automatically for one incident. */
  maxApplicationsPerLever: z.number().int().positive().max(100).default(2),
});
/**
 * An auto-remediation policy, as written.
 *
 * @example
 * ```ts
 * createMonitor({ service: 'api', autoRemediate: { cooldownMs: 120_000, maxRunsPerIncident: 2, revertAfterMs: 600_000 } });
 * ```
 */
export type RemediationPolicyInput = z.input<typeof remediationPolicySchema>;
/**
 * An auto-remediation policy with defaults applied.
 *
 * @example
 * ```ts
 * const { dryRun, cooldownMs } = monitor.remediation.policy;
 * ```
 */
export type RemediationPolicy = z.output<typeof remediationPolicySchema>;

/** `createMonitor({ autoRemediate })`: `true` for the default policy, or a policy. Off by default. */
export const autoRemediateSchema = z
  .union([z.boolean(), remediationPolicySchema])
  .default(false)
  .transform((v): RemediationPolicy => (typeof v === 'boolean' ? { ...remediationPolicySchema.parse({}), enabled: v } : v));
/**
 * `createMonitor({ autoRemediate })`.
 *
 * @example
 * ```ts
 * createMonitor({ service: 'api', preset: 'runbook', autoRemediate: true });
 * ```
 */
export type AutoRemediateOption = z.input<typeof autoRemediateSchema>;

/**
 * Why auto-remediation ran.
 *
 * @example
 * ```ts
 * monitor.remediation.stats().recentRuns.filter((r) => r.trigger === 'escalated');
 * ```
 */
export type RemediationTrigger = 'opened' | 'escalated' | 'reopened';

/**
 * What happened to one auto step in a run.
 *
 * @example
 * ```ts
 * for (const step of monitor.remediation.stats().recentRuns.at(-1)?.steps ?? []) console.log(step.action, step.result);
 * ```
 */
export interface RemediationStepResult {
  action: string;
  params: Record<string, unknown>;
  result: 'executed' | 'noop' | 'failed' | 'would-run' | 'skipped';
  executionId?: string;
  reason?: string;
}

/**
 * Payload of `remediation:handed-over`: an auto step did not help, was
 * reverted, and the incident needs a person.
 *
 * @example
 * ```ts
 * monitor.on('remediation:handed-over', (h) => pager.send(`${h.incidentId}: ${h.action} did not help`));
 * ```
 */
export interface RemediationHandover {
  incidentId: string;
  action: string;
  executionId: string;
  at: number;
  reason: string;
}

/**
 * One auto-remediation run on an incident.
 *
 * @example
 * ```ts
 * monitor.remediation.stats().recentRuns.forEach((r) => console.log(r.incidentId, r.trigger, r.steps));
 * ```
 */
export interface RemediationRun {
  incidentId: string;
  type: string;
  trigger: RemediationTrigger;
  at: number;
  dryRun: boolean;
  steps: RemediationStepResult[];
}

/**
 * Counts and state of auto-remediation.
 *
 * @example
 * ```ts
 * const { paused, runs, pendingReverts } = monitor.remediation.stats();
 * ```
 */
export interface RemediationStats {
  enabled: boolean;
  paused: boolean;
  pausedBy?: string;
  dryRun: boolean;
  policy: RemediationPolicy;
  runs: number;
  /** Triggers not acted on, by reason. */
  skipped: { paused: number; cooldown: number; maxRuns: number; running: number; type: number; handedOver: number };
  reverts: number;
  /** Incidents handed to a person because an auto step did not help. */
  handedOver: number;
  /** Auto actions that changed something in the last hour (see `maxActionsPerHour`). */
  actionsLastHour: number;
  /** Incidents whose auto-applied actions wait to be reverted. */
  pendingReverts: { incidentId: string; dueAt: number }[];
  /** The last runs (at most 50), oldest first. */
  recentRuns: RemediationRun[];
}

/** What auto-remediation needs from the monitor. */
export interface RemediationHost {
  clock: Clock;
  actions: ActionRegistry;
  playbooks: Playbooks;
  controls: Controls;
  /** The incident now, or undefined. */
  incident(id: string): Incident | undefined;
  /** Appends a note to the incident timeline (errors are contained by the caller). */
  note(id: string, message: string, data?: Record<string, unknown>): void;
  /** Emits `remediation:handed-over` (listener errors are contained by the caller). */
  handedOver?(handover: RemediationHandover): void;
  /** False while the incident is inhibited, silenced or in a maintenance window: nothing runs automatically. */
  shouldAct?(incident: Incident): boolean;
}

interface IncidentState {
  runs: number;
  lastRunAt: number;
  running: boolean;
  maxRunsNoted: boolean;
  handedOver: boolean;
}

interface Verification {
  dueAt: number;
  severity: Severity;
  executionIds: string[];
}

const RANK: Record<Severity, number> = { low: 0, medium: 1, high: 2, critical: 3 };
/** Actions that take the signal's own source out of the path: their incident's reading holds, it cannot improve. */
const BYPASS = new Set(['model.fallback', 'canary.emergency-stop', 'canary.disable', 'cache.disable']);
const HOUR = 3_600_000;

const BY = 'firebreak';
const MAX_TRACKED = 1000;
const RECENT_RUNS = 50;

/**
 * Runs the `auto` steps of an incident's playbook when it opens, escalates
 * or reopens — only for safe actions that need no confirmation — with a
 * per-incident cooldown, a cap on runs per incident, a dry-run mode and a
 * global pause. After the incident resolves (and `revertAfterMs`), the
 * actions it applied are reverted in reverse order; actions run by people
 * are left alone. Everything it does or declines to do is on the timeline.
 *
 * @example
 * ```ts
 * const monitor = createMonitor({ service: 'api', preset: 'runbook', autoRemediate: { cooldownMs: 60_000, revertAfterMs: 600_000 } });
 * monitor.remediation.pause('alice'); // during a risky deploy
 * monitor.remediation.resume('alice');
 * ```
 */
export class AutoRemediation {
  readonly policy: RemediationPolicy & { verifyAfterMs: number };
  private readonly host: RemediationHost;
  private readonly state = new Map<string, IncidentState>();
  private readonly pending = new Map<string, { dueAt: number; timer: TimerHandle | undefined }>();
  private readonly inflight = new Set<Promise<unknown>>();
  private readonly recent: RemediationRun[] = [];
  private pausedBy: string | undefined;
  private stopped = false;
  private runCount = 0;
  private revertCount = 0;
  private readonly skipped = { paused: 0, cooldown: 0, maxRuns: 0, running: 0, type: 0, handedOver: 0 };
  private readonly verifying = new Map<string, Verification>();
  /** Executions another incident's run found already applied: execution id → incidents relying on it. */
  private readonly links = new Map<string, Set<string>>();
  /** Executions an incident inherited from a resolved one it relied on, to revert when it resolves itself. */
  private readonly inherited = new Map<string, string[]>();
  /** Clock times of auto actions that changed something in the last hour (at most `maxActionsPerHour`). */
  private readonly recentActions: number[] = [];
  private handedOverCount = 0;

  constructor(host: RemediationHost, policy: RemediationPolicy, defaultVerifyAfterMs = 300_000) {
    this.host = host;
    this.policy = { ...policy, verifyAfterMs: policy.verifyAfterMs ?? defaultVerifyAfterMs };
  }

  /** True while paused: nothing runs or reverts automatically. */
  get paused(): boolean {
    return this.pausedBy !== undefined;
  }

  /**
   * Stops every automatic run and revert until {@link AutoRemediation.resume}.
   *
   * @example
   * ```ts
   * monitor.remediation.pause('alice');
   * ```
   */
  pause(by = 'anonymous'): void {
    this.pausedBy = by;
  }

  /** Lets automatic runs happen again; reverts that fell due meanwhile run now. */
  resume(): void {
    if (this.pausedBy === undefined) return;
    this.pausedBy = undefined;
    const now = this.host.clock.now();
    for (const [id, p] of this.pending) if (p.timer === undefined && p.dueAt <= now && !this.stopped) this.track(this.revertIncident(id));
  }

  /** @internal An incident opened, escalated or reopened. */
  onIncident(trigger: RemediationTrigger, incident: Incident): void {
    if (trigger === 'reopened') this.cancelRevert(incident.id);
    if (this.host.shouldAct !== undefined && !this.host.shouldAct(incident)) return;
    if (!this.policy.enabled) return;
    if (this.policy.types !== undefined && !this.policy.types.includes(incident.type)) {
      this.skipped.type++;
      return;
    }
    if (this.host.playbooks.get(incident.type).every((s) => s.mode !== 'auto')) return;
    const now = this.host.clock.now();
    const st = this.stateOf(incident.id);
    if (this.paused) {
      this.skipped.paused++;
      this.note(incident.id, `Auto-remediation paused (by ${this.pausedBy}): no automatic step run on ${trigger}`);
      return;
    }
    if (st.running) {
      this.skipped.running++;
      return;
    }
    if (st.handedOver) {
      this.skipped.handedOver++;
      return;
    }
    if (st.runs >= this.policy.maxRunsPerIncident) {
      this.skipped.maxRuns++;
      if (!st.maxRunsNoted) {
        st.maxRunsNoted = true;
        this.note(incident.id, `Auto-remediation stopped: ${st.runs} runs reached the limit of ${this.policy.maxRunsPerIncident} for this incident`);
      }
      return;
    }
    if (st.runs > 0 && now - st.lastRunAt < this.policy.cooldownMs) {
      this.skipped.cooldown++;
      this.note(incident.id, `Auto-remediation in cooldown until ${new Date(st.lastRunAt + this.policy.cooldownMs).toISOString()}: nothing run on ${trigger}`);
      return;
    }
    st.runs++;
    st.lastRunAt = now;
    st.running = true;
    this.runCount++;
    this.track(
      this.run(trigger, incident).finally(() => {
        st.running = false;
      }),
    );
  }

  /**
   * @internal An evaluation finished: verifications that fell due run now.
   * Verification rides on evaluations (no timer of its own): the signals it
   * judges only change when evaluated. Nothing is judged while paused.
   */
  onEvaluated(): void {
    if (this.paused || this.stopped || this.verifying.size === 0) return;
    const now = this.host.clock.now();
    for (const [id, v] of this.verifying) if (v.dueAt <= now) this.track(this.verify(id));
  }

  /** @internal An incident resolved: schedule the revert of what was applied automatically. */
  onResolved(incident: Incident): void {
    if (!this.policy.revertOnResolve || this.policy.dryRun) return;
    this.cancelVerify(incident.id);
    const inherits = (this.inherited.get(incident.id)?.length ?? 0) > 0;
    if (!inherits && !this.host.actions.executions({ incidentId: incident.id }).some((e) => e.source === 'auto' && e.revertible)) return;
    this.cancelRevert(incident.id);
    if (this.pending.size >= MAX_TRACKED) {
      // Bounded: rather than forget a revert, the oldest pending one runs early.
      const oldest = this.pending.keys().next().value;
      if (oldest !== undefined) {
        const p = this.pending.get(oldest)!;
        if (p.timer !== undefined) this.host.clock.clearTimeout(p.timer);
        p.timer = undefined;
        this.track(this.revertIncident(oldest));
      }
    }
    const dueAt = this.host.clock.now() + this.policy.revertAfterMs;
    this.pending.set(incident.id, { dueAt, timer: undefined });
    this.arm(incident.id);
  }

  /**
   * Resolves once every run and revert started so far has finished (tests
   * and graceful shutdown use it; nothing here needs real time to pass).
   *
   * @example
   * ```ts
   * clock.advance(10_000);
   * await monitor.remediation.settled();
   * ```
   */
  async settled(): Promise<void> {
    while (this.inflight.size > 0) await Promise.allSettled([...this.inflight]);
  }

  /** State and counts. */
  stats(): RemediationStats {
    const s: RemediationStats = {
      enabled: this.policy.enabled,
      paused: this.paused,
      dryRun: this.policy.dryRun,
      policy: { ...this.policy },
      runs: this.runCount,
      skipped: { ...this.skipped },
      reverts: this.revertCount,
      handedOver: this.handedOverCount,
      actionsLastHour: this.actionsInLastHour(),
      pendingReverts: [...this.pending].map(([incidentId, p]) => ({ incidentId, dueAt: p.dueAt })),
      recentRuns: this.recent.map((r) => ({ ...r, steps: r.steps.map((x) => ({ ...x })) })),
    };
    if (this.pausedBy !== undefined) s.pausedBy = this.pausedBy;
    return s;
  }

  /** @internal Re-arms pending reverts after `stop()`. */
  start(): void {
    this.stopped = false;
    for (const id of this.pending.keys()) this.arm(id);
  }

  /** @internal Cancels revert timers (their due times are kept for `start()`). */
  stop(): void {
    this.stopped = true;
    for (const p of this.pending.values()) {
      if (p.timer !== undefined) this.host.clock.clearTimeout(p.timer);
      p.timer = undefined;
    }
  }

  private async run(trigger: RemediationTrigger, incident: Incident): Promise<void> {
    const run: RemediationRun = { incidentId: incident.id, type: incident.type, trigger, at: this.host.clock.now(), dryRun: this.policy.dryRun, steps: [] };
    this.remember(run);
    const applied: string[] = [];
    try {
      await this.runSteps(run, incident, applied);
    } finally {
      if (applied.length > 0) this.scheduleVerify(incident, applied);
    }
  }

  private async runSteps(run: RemediationRun, incident: Incident, applied: string[]): Promise<void> {
    const { actions, playbooks, controls } = this.host;
    // Steps run again on escalation: controls' actions report a no-op when their state is already applied.
    for (const step of playbooks.get(incident.type)) {
      if (step.mode !== 'auto') continue;
      const { params, error } = resolveParams(step, incident, { controls });
      const result: RemediationStepResult = { action: step.action, params, result: 'skipped' };
      run.steps.push(result);
      if (error !== undefined) {
        result.reason = `params failed: ${error}`;
        this.note(incident.id, `Auto-remediation skipped ${step.action}: ${result.reason}`);
        continue;
      }
      const info = actions.get(step.action);
      if (info === undefined) {
        result.reason = 'action not registered (no such control)';
        this.note(incident.id, `Auto-remediation skipped ${step.action}: ${result.reason}`);
        continue;
      }
      if (!isAutomatic(step, actions)) {
        result.reason = info.requiresConfirm ? 'needs confirmation' : 'risky action';
        this.note(incident.id, `Auto-remediation skipped ${step.action}: ${result.reason}; run it by hand if needed`);
        continue;
      }
      const cap = this.leverCapReached(incident.id, step.action, params);
      if (cap !== undefined) {
        result.reason = cap;
        this.note(incident.id, `Auto-remediation skipped ${step.action}: ${cap}`);
        continue;
      }
      if (this.actionsInLastHour() >= this.policy.maxActionsPerHour) {
        result.reason = `budget of ${this.policy.maxActionsPerHour} auto actions per hour spent; needs a person`;
        this.note(incident.id, `Auto-remediation skipped ${step.action}: ${result.reason}`);
        continue;
      }
      if (this.policy.dryRun) {
        result.result = 'would-run';
        this.note(incident.id, `[dry-run] Auto-remediation would run ${info.title} (${step.action})`, { action: step.action, params, dryRun: true });
        continue;
      }
      let reserved: number | undefined;
      try {
        // A step another incident's run (or a person) is running right now is waited for, not
        // failed with ACTION_BUSY: it then reads as the no-op it is, linked to who applied it.
        // The budget is reserved before waiting, so runs waiting together cannot overspend it.
        reserved = this.host.clock.now();
        this.recentActions.push(reserved);
        const ex = await this.executeWhenIdle(step.action, params, incident.id);
        result.executionId = ex.id;
        result.result = ex.outcome === 'noop' ? 'noop' : ex.ok ? 'executed' : 'failed';
        if (ex.error !== undefined) result.reason = ex.error;
        if (ex.outcome === 'success') {
          reserved = undefined;
          if (ex.revertible) applied.push(ex.id);
        }
        if (ex.outcome === 'noop') {
          const by = this.appliedBy(incident.id, ex.action, ex.data);
          if (by !== undefined) {
            result.reason = `already applied by ${by.incidentId ?? by.by} (${by.id})`;
            if (by.incidentId !== undefined) this.link(by.id, incident.id);
          }
        }
      } catch (err) {
        // A refused request (bad params for this incident, busy action…): noted, never thrown.
        result.result = 'failed';
        result.reason = err instanceof FirebreakError ? `${err.code}: ${err.message}` : errorMessage(err);
        this.note(incident.id, `Auto-remediation could not run ${step.action}: ${result.reason}`);
      } finally {
        // Only changes spend the budget: a no-op or a failure gives its reservation back.
        if (reserved !== undefined) {
          const i = this.recentActions.lastIndexOf(reserved);
          if (i >= 0) this.recentActions.splice(i, 1);
        }
      }
    }
  }

  private async revertIncident(id: string): Promise<void> {
    const p = this.pending.get(id);
    if (p === undefined) return;
    if (this.paused) return; // stays pending; resume() runs it
    this.pending.delete(id);
    const incident = this.host.incident(id);
    if (incident !== undefined && incident.status !== 'resolved') return;
    const own = this.host.actions.executions({ incidentId: id }).filter((e) => e.source === 'auto' && e.revertible);
    const inherited = (this.inherited.get(id) ?? []).map((x) => this.host.actions.execution(x)).filter((e): e is ActionExecution => e !== undefined && e.revertible);
    this.inherited.delete(id);
    const applied = [...own, ...inherited].sort((a, b) => a.startedAt - b.startedAt);
    for (const ex of applied.reverse()) {
      const heir = this.stillRelying(ex.id, id);
      if (heir !== undefined) {
        // Another open incident found this lever already applied and relies on it: it reverts it when it resolves.
        const list = this.inherited.get(heir) ?? [];
        if (list.length < MAX_TRACKED) list.push(ex.id);
        this.inherited.set(heir, list);
        this.note(id, `Auto-remediation kept ${ex.action} (${ex.id}): incident ${heir} still relies on it`);
        continue;
      }
      try {
        await this.host.actions.revert(ex.id, { by: BY });
        this.revertCount++;
      } catch (err) {
        this.note(id, `Auto-remediation could not revert ${ex.action} (${ex.id}): ${errorMessage(err)}`);
      }
    }
    this.state.delete(id);
  }

  private async executeWhenIdle(action: string, params: Record<string, unknown>, incidentId: string): Promise<ActionExecution> {
    // Several runs waiting on the same action wake together; one starts, the others wait again.
    for (let attempt = 0; ; attempt++) {
      // Only wait when busy: an idle action starts synchronously, inside the evaluation that opened the incident.
      if (this.host.actions.get(action)?.running === true) await this.host.actions.whenIdle(action);
      try {
        return await this.host.actions.execute(action, { params, incidentId, by: BY, source: 'auto' });
      } catch (err) {
        if (!(err instanceof FirebreakError && err.code === 'ACTION_BUSY') || attempt >= MAX_TRACKED) throw err;
      }
    }
  }

  private actionsInLastHour(): number {
    const since = this.host.clock.now() - HOUR;
    while (this.recentActions.length > 0 && this.recentActions[0]! <= since) this.recentActions.shift();
    // Bounded: beyond the budget only the newest matter.
    while (this.recentActions.length > this.policy.maxActionsPerHour) this.recentActions.shift();
    return this.recentActions.length;
  }

  private leverCapReached(incidentId: string, action: string, params: Record<string, unknown>): string | undefined {
    const key = JSON.stringify(params);
    let n = 0;
    for (const e of this.host.actions.executions({ incidentId, action })) if (e.source === 'auto' && e.outcome === 'success' && JSON.stringify(e.params) === key) n++;
    return n >= this.policy.maxApplicationsPerLever ? `already applied ${n} time(s) for this incident (cap ${this.policy.maxApplicationsPerLever})` : undefined;
  }

  /** The latest execution of `action` on the same control still in effect, by someone other than `incidentId`. */
  private appliedBy(incidentId: string, action: string, data: Record<string, unknown> | undefined): ActionExecution | undefined {
    const name = data?.['name'];
    const all = this.host.actions.executions({ action });
    for (let i = all.length - 1; i >= 0; i--) {
      const e = all[i]!;
      if (e.outcome !== 'success' || e.incidentId === incidentId || !e.revertible) continue;
      if (name === undefined || e.data?.['name'] === name) return e;
    }
    return undefined;
  }

  private link(executionId: string, incidentId: string): void {
    let set = this.links.get(executionId);
    if (set === undefined) {
      if (this.links.size >= MAX_TRACKED) {
        const oldest = this.links.keys().next().value;
        if (oldest !== undefined) this.links.delete(oldest);
      }
      this.links.set(executionId, (set = new Set()));
    }
    set.add(incidentId);
  }

  private stillRelying(executionId: string, except: string): string | undefined {
    const set = this.links.get(executionId);
    if (set === undefined) return undefined;
    for (const id of set) {
      if (id === except) continue;
      const i = this.host.incident(id);
      if (i !== undefined && i.status !== 'resolved') return id;
    }
    this.links.delete(executionId);
    return undefined;
  }

  private scheduleVerify(incident: Incident, executionIds: string[]): void {
    if (this.policy.verifyAfterMs === 0 || this.policy.dryRun) return;
    const prev = this.verifying.get(incident.id);
    if (prev === undefined && this.verifying.size >= MAX_TRACKED) {
      // Bounded: the oldest verification is dropped (its steps stay; a person can still revert them).
      const oldest = this.verifying.keys().next().value;
      if (oldest !== undefined) this.cancelVerify(oldest);
    }
    const now = this.host.incident(incident.id) ?? incident;
    this.verifying.set(incident.id, {
      dueAt: this.host.clock.now() + this.policy.verifyAfterMs,
      severity: prev?.severity ?? now.severity,
      executionIds: [...(prev?.executionIds ?? []), ...executionIds].slice(-MAX_TRACKED),
    });
  }

  private cancelVerify(id: string): void {
    this.verifying.delete(id);
  }

  private async verify(id: string): Promise<void> {
    const v = this.verifying.get(id);
    if (v === undefined) return;
    this.verifying.delete(id);
    const incident = this.host.incident(id);
    if (incident === undefined || incident.status === 'resolved' || RANK[incident.severity] < RANK[v.severity]) return;
    const st = this.stateOf(id);
    for (const exId of [...v.executionIds].reverse()) {
      const ex = this.host.actions.execution(exId);
      if (ex === undefined || !ex.revertible) continue;
      // A bypass of the signal's own source (fallback forced on fallback:ranker) leaves that signal holding: it cannot improve, and it contained the harm.
      const name = ex.data?.['name'];
      if (BYPASS.has(ex.action) && typeof name === 'string' && incident.scope.endsWith(`:${name}`)) continue;
      if (this.stillRelying(ex.id, id) !== undefined) continue;
      try {
        await this.host.actions.revert(ex.id, { by: BY });
        this.revertCount++;
      } catch (err) {
        this.note(id, `Auto-remediation could not revert ${ex.action} (${ex.id}): ${errorMessage(err)}`);
        continue;
      }
      st.handedOver = true;
      this.handedOverCount++;
      const reason = `auto step ${ex.action} did not help; reverted; needs a person`;
      this.note(id, reason, { action: ex.action, executionId: ex.id, severityAtRun: v.severity, severityNow: incident.severity });
      try {
        this.host.handedOver?.({ incidentId: id, action: ex.action, executionId: ex.id, at: this.host.clock.now(), reason });
      } catch {
        // An event listener's failure must not stop the hand-over.
      }
    }
  }

  private arm(id: string): void {
    const p = this.pending.get(id);
    if (p === undefined || this.stopped) return;
    if (p.timer !== undefined) this.host.clock.clearTimeout(p.timer);
    p.timer = this.host.clock.setTimeout(() => {
      p.timer = undefined;
      this.track(this.revertIncident(id));
    }, Math.max(0, p.dueAt - this.host.clock.now()));
  }

  private cancelRevert(id: string): void {
    const p = this.pending.get(id);
    if (p === undefined) return;
    if (p.timer !== undefined) this.host.clock.clearTimeout(p.timer);
    this.pending.delete(id);
  }

  private stateOf(id: string): IncidentState {
    let st = this.state.get(id);
    if (st === undefined) {
      if (this.state.size >= MAX_TRACKED) {
        // Forget the oldest incident's counters (its runs were long ago).
        const oldest = this.state.keys().next().value;
        if (oldest !== undefined) this.state.delete(oldest);
      }
      st = { runs: 0, lastRunAt: 0, running: false, maxRunsNoted: false, handedOver: false };
      this.state.set(id, st);
    }
    return st;
  }

  private remember(run: RemediationRun): void {
    this.recent.push(run);
    if (this.recent.length > RECENT_RUNS) this.recent.shift();
  }

  private track(p: Promise<unknown>): void {
    const t = p.catch(() => {}).finally(() => this.inflight.delete(t));
    this.inflight.add(t);
  }

  private note(id: string, message: string, data?: Record<string, unknown>): void {
    try {
      this.host.note(id, message, data);
    } catch {
      // The timeline is best effort here; the run itself is in stats().recentRuns.
    }
  }
}

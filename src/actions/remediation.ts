import { z } from 'zod';
import type { Clock, TimerHandle } from '../clock.js';
import { FirebreakError } from '../errors.js';
import type { Incident } from '../incidents/types.js';
import type { Controls } from './controls/controls.js';
import { errorMessage } from './isolate.js';
import { resolveParams, type Playbooks } from './playbooks.js';
import { isAutomatic } from './procedures.js';
import type { ActionRegistry } from './registry.js';

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
  skipped: { paused: number; cooldown: number; maxRuns: number; running: number; type: number };
  reverts: number;
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
  /** False while the incident is inhibited, silenced or in a maintenance window: nothing runs automatically. */
  shouldAct?(incident: Incident): boolean;
}

interface IncidentState {
  runs: number;
  lastRunAt: number;
  running: boolean;
  maxRunsNoted: boolean;
}

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
  readonly policy: RemediationPolicy;
  private readonly host: RemediationHost;
  private readonly state = new Map<string, IncidentState>();
  private readonly pending = new Map<string, { dueAt: number; timer: TimerHandle | undefined }>();
  private readonly inflight = new Set<Promise<unknown>>();
  private readonly recent: RemediationRun[] = [];
  private pausedBy: string | undefined;
  private stopped = false;
  private runCount = 0;
  private revertCount = 0;
  private readonly skipped = { paused: 0, cooldown: 0, maxRuns: 0, running: 0, type: 0 };

  constructor(host: RemediationHost, policy: RemediationPolicy) {
    this.host = host;
    this.policy = policy;
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

  /** @internal An incident resolved: schedule the revert of what was applied automatically. */
  onResolved(incident: Incident): void {
    if (!this.policy.revertOnResolve || this.policy.dryRun) return;
    if (!this.host.actions.executions({ incidentId: incident.id }).some((e) => e.source === 'auto' && e.revertible)) return;
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
    const { actions, playbooks, controls } = this.host;
    const run: RemediationRun = { incidentId: incident.id, type: incident.type, trigger, at: this.host.clock.now(), dryRun: this.policy.dryRun, steps: [] };
    this.remember(run);
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
      if (this.policy.dryRun) {
        result.result = 'would-run';
        this.note(incident.id, `[dry-run] Auto-remediation would run ${info.title} (${step.action})`, { action: step.action, params, dryRun: true });
        continue;
      }
      try {
        const ex = await actions.execute(step.action, { params, incidentId: incident.id, by: BY, source: 'auto' });
        result.executionId = ex.id;
        result.result = ex.outcome === 'noop' ? 'noop' : ex.ok ? 'executed' : 'failed';
        if (ex.error !== undefined) result.reason = ex.error;
      } catch (err) {
        // A refused request (bad params for this incident, busy action…): noted, never thrown.
        result.result = 'failed';
        result.reason = err instanceof FirebreakError ? `${err.code}: ${err.message}` : errorMessage(err);
        this.note(incident.id, `Auto-remediation could not run ${step.action}: ${result.reason}`);
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
    const applied = this.host.actions.executions({ incidentId: id }).filter((e) => e.source === 'auto' && e.revertible);
    for (const ex of applied.reverse()) {
      try {
        await this.host.actions.revert(ex.id, { by: BY });
        this.revertCount++;
      } catch (err) {
        this.note(id, `Auto-remediation could not revert ${ex.action} (${ex.id}): ${errorMessage(err)}`);
      }
    }
    this.state.delete(id);
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
      st = { runs: 0, lastRunAt: 0, running: false, maxRunsNoted: false };
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

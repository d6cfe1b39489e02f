import type { Registry } from 'prom-client';
import type { Clock } from '../clock.js';
import type { SloConfig } from '../slo/schema.js';
import type { MemoryReading } from '../metrics/process.js';
import type { SeriesStore } from '../metrics/series-store.js';
import { errorMessage } from '../safe-call.js';
import { buildDetectors, resolveDetectorConfigs } from './builtin-detectors.js';
import { BurnRateTracker, type BurnStatus } from './burn-rate.js';
import { BurnStateFile, type BurnStateStats } from './burn-state.js';
import type { BurnRateOptions, DetectorConfig, IncidentEventName, IncidentLogOptions, IncidentOptions, NotifierConfig } from './config.js';
import { DetectionEngine, type DetectorStatus, type IncidentChanges, type PendingCondition } from './detection.js';
import { CustomDetector, type CustomDetectorInput } from './detector.js';
import type { DurationSummary } from './duration-stats.js';
import { HealthChecks, type HealthCheckFn, type HealthCheckOptions, type HealthReport } from './health.js';
import { IncidentLog, replayBound, replayLog, type CorruptLine, type LogFlushResult, type LogStats } from './log.js';
import { Inhibitor } from './inhibition.js';
import { Maintenance } from './maintenance.js';
import { IncidentManager, type IncidentChange, type IncidentTotals } from './manager.js';
import { registerIncidentMetrics } from './metrics.js';
import { Notifiers, type DeadLetter, type NotifierStats } from './notifiers.js';
import { Silences } from './silences.js';
import type { Incident, IncidentStatus, Priority, Severity, Suppression } from './types.js';

/**
 * Incident events of the monitor. Each lifecycle event carries a snapshot of
 * the incident; `incident:updated` fires for every change (after the specific
 * event, if any).
 *
 * @example
 * ```ts
 * monitor.on('incident:opened', (i) => pager.send(renderAlert(i).text));
 * monitor.on('incident:log-corrupt', (c) => console.warn(`skipped ${c.path}:${c.line}: ${c.reason}`));
 * ```
 */
export interface IncidentEvents {
  'incident:opened': (incident: Incident) => void;
  'incident:escalated': (incident: Incident) => void;
  'incident:acknowledged': (incident: Incident) => void;
  'incident:mitigating': (incident: Incident) => void;
  'incident:resolved': (incident: Incident) => void;
  'incident:reopened': (incident: Incident) => void;
  'incident:overdue': (incident: Incident) => void;
  'incident:updated': (incident: Incident) => void;
  /**
   * An incident opened, reopened, escalated or went overdue while inhibited,
   * silenced or in a maintenance window (`incident.suppressed` says which), or
   * such a suppression started on it: it was recorded, nobody was paged and
   * nothing ran automatically. Fires instead of the page event.
   */
  'incident:suppressed': (incident: Incident) => void;
  /** A line of the incident log was skipped at replay (torn write, corruption). */
  'incident:log-corrupt': (line: CorruptLine) => void;
  /** Reading or writing the incident log failed (the monitor keeps running). */
  'incident:log-error': (error: Error) => void;
  /** A detector threw or returned an invalid value (contained; evaluation went on). */
  'detector:error': (info: { detector: string; error: Error }) => void;
  /** A notifier gave up on a notification (retries exhausted, not retryable, or `close()` ran out of time). */
  'notifier:dead-letter': (dead: DeadLetter) => void;
}

/**
 * An unresolved incident in a line, for `stats().incidents.open`.
 *
 * @example
 * ```ts
 * for (const i of monitor.stats().incidents.open) console.log(i.priority, i.summary, i.overdue ? 'OVERDUE' : '');
 * ```
 */
export interface IncidentSummary {
  id: string;
  type: string;
  scope: string;
  severity: Severity;
  priority: Priority;
  status: IncidentStatus;
  summary: string;
  openedAt: number;
  acknowledgedAt?: number;
  overdue: boolean;
}

/**
 * The short form of an incident used in stats and status listings.
 *
 * @example
 * ```ts
 * const lines = monitor.incidents.list({ status: 'active' }).map(summarizeIncident);
 * ```
 */
export function summarizeIncident(i: Incident): IncidentSummary {
  const s: IncidentSummary = {
    id: i.id,
    type: i.type,
    scope: i.scope,
    severity: i.severity,
    priority: i.priority,
    status: i.status,
    summary: i.summary,
    openedAt: i.openedAt,
    overdue: i.overdueAt !== undefined,
  };
  if (i.acknowledgedAt !== undefined) s.acknowledgedAt = i.acknowledgedAt;
  return s;
}

/**
 * `stats().incidents`: unresolved incidents, pending conditions, counters,
 * response times, detectors, burn rates, notifiers, the log and health.
 *
 * @example
 * ```ts
 * const { active, pending, totals, notifiers, log } = monitor.stats().incidents;
 * ```
 */
export interface IncidentStats {
  /** Unresolved incidents. */
  active: number;
  /** Incidents held in memory by status. */
  byStatus: Record<IncidentStatus, number>;
  open: IncidentSummary[];
  /** Conditions firing that have not held for `forMs` yet. */
  pending: PendingCondition[];
  /** Unresolved incidents that page nobody now (inhibited, silenced or in maintenance). */
  suppressed: number;
  /** New conditions ignored because `maxPending` were tracked. */
  pendingOverflow: number;
  totals: IncidentTotals;
  timeToDetect: DurationSummary;
  timeToAcknowledge: DurationSummary;
  timeToResolve: DurationSummary;
  detectors: DetectorStatus[];
  burnRate: BurnStatus[];
  notifiers: NotifierStats[];
  log: LogStats | null;
  /** The burn-rate state file's counters, or null without one (see docs/slo-semantics.md, "Across restarts"). */
  burnRateState: BurnStateStats | null;
  health: HealthReport | null;
}

/**
 * Returned by `monitor.detector()`.
 *
 * @example
 * ```ts
 * const handle = monitor.detector({ type: 'canary-failure', evaluate: () => canary.failing });
 * handle.remove();
 * ```
 */
export interface DetectorHandle {
  readonly name: string;
  /** Stops running the detector (its open incident stays until resolved). */
  remove(): void;
}

/** Signals the monitor hands to detection each evaluation. */
export interface DetectionSignals {
  now: number;
  memory(): MemoryReading;
  cpu: number | null;
  eventLoopDelayMs: number | null;
  /** See {@link DetectionContext.ownRateLimited}. */
  ownRateLimited?: ((windowMs: number) => number) | undefined;
}

/**
 * @internal Takes over sending a notification (the fleet sends it from the
 * replica that owns the incident, once). `send` queues it on this process's
 * notifiers; `change` is what caused it.
 */
export type NotificationDispatcher = (event: IncidentEventName, incident: Incident, at: number, change: IncidentChange, send: () => void) => void;

type Emit = <K extends keyof IncidentEvents>(event: K, ...args: Parameters<IncidentEvents[K]>) => void;

const SPECIFIC: Partial<Record<IncidentChange, IncidentEventName>> = {
  opened: 'incident:opened',
  escalated: 'incident:escalated',
  acknowledged: 'incident:acknowledged',
  mitigating: 'incident:mitigating',
  resolved: 'incident:resolved',
  reopened: 'incident:reopened',
  overdue: 'incident:overdue',
};

/** Changes whose event pages someone; a suppressed incident emits `incident:suppressed` instead. */
const PAGE_EVENTS: ReadonlySet<IncidentChange> = new Set(['opened', 'reopened', 'escalated', 'overdue']);

function endReason(s: Suppression): string {
  if (s.kind === 'silence') return `Silence ${s.by} no longer holds`;
  if (s.kind === 'maintenance') return `Maintenance window ${s.by} closed`;
  return `No longer inhibited (${s.by} resolved or no longer pending)`;
}

function asError(err: unknown): Error {
  return err instanceof Error ? err : new Error(errorMessage(err));
}

/**
 * Wires the incident parts together for one monitor: manager and store,
 * replayed JSONL log, notifiers, health checks, built-in and custom
 * detectors, burn-rate tracking and metrics. The monitor holds one and
 * delegates to it, so `monitor.ts` stays small.
 */
export class IncidentSystem {
  readonly manager: IncidentManager;
  readonly health: HealthChecks;
  readonly notifiers: Notifiers;
  readonly log: IncidentLog | undefined;
  readonly detection: DetectionEngine;
  readonly burn: BurnRateTracker;
  /** The burn-rate state file, when one is configured (or derived from the incident log). */
  readonly burnState: BurnStateFile | undefined;
  readonly silences: Silences;
  readonly maintenance: Maintenance;
  readonly inhibitor: Inhibitor;
  private readonly clock: Clock;
  private readonly emit: Emit;
  private readonly store: SeriesStore;
  private readonly minSamples: number;
  private dispatcher: NotificationDispatcher | undefined;

  constructor(o: {
    clock: Clock;
    service: string;
    store: SeriesStore;
    minSamples: number;
    slos: readonly SloConfig[];
    preset: 'runbook' | undefined;
    detectors: readonly DetectorConfig[];
    incidents: IncidentOptions;
    incidentLog: IncidentLogOptions | undefined;
    notifiers: readonly NotifierConfig[];
    burnRate: BurnRateOptions;
    emit: Emit;
    /** Hears notifier attempts and health checks that failed by throwing, rejecting or timing out. */
    contained?: (kind: 'notifier' | 'health-check', name: string, err: unknown) => void;
  }) {
    this.clock = o.clock;
    this.store = o.store;
    this.minSamples = o.minSamples;
    const emit = o.emit;
    const sloRunbooks = new Map<string, NonNullable<SloConfig['runbook']>>();
    for (const slo of o.slos) if (slo.runbook !== undefined) sloRunbooks.set(slo.name, slo.runbook);
    this.manager = new IncidentManager({ clock: o.clock, service: o.service, options: o.incidents, sloRunbooks });
    const contained = o.contained ?? (() => {});
    this.health = new HealthChecks(o.clock, (name, err) => contained('health-check', name, err));
    this.notifiers = new Notifiers(o.notifiers, o.clock, o.service, {
      onError: (name, err) => contained('notifier', name, err),
      onDeadLetter: (dead) => emit('notifier:dead-letter', dead),
    });
    this.emit = emit;
    this.inhibitor = new Inhibitor(o.incidents.inhibit);
    this.silences = new Silences(o.clock, () => this.reconcile());
    this.maintenance = new Maintenance(o.clock, () => this.reconcile());
    this.manager.setGate((incident) => this.suppressionFor(incident));

    // Detectors are built before anything is read from disk, so a bad option fails fast.
    const built = buildDetectors(resolveDetectorConfigs(o.preset, o.detectors), this.health);
    this.detection = new DetectionEngine({
      manager: this.manager,
      options: o.incidents,
      onError: (detector, error) => emit('detector:error', { detector, error: asError(error) }),
      applyLast: (type, scope) => this.inhibitor.mayInhibit(type, scope),
    });
    for (const d of built) this.detection.add(d);
    this.burn = new BurnRateTracker(o.burnRate, o.slos, o.minSamples, () => o.clock.now());
    if (this.burn.active && o.burnRate.enabled) this.detection.add(this.burn.detector());
    if (this.burn.watchesAbsence) this.detection.add(this.burn.absenceDetector());
    const statePath = o.burnRate.stateFile ?? (o.incidentLog === undefined ? false : `${o.incidentLog.path}.burn-rate.json`);
    if (statePath !== false && this.burn.active) {
      this.burnState = new BurnStateFile({
        path: statePath,
        tracker: this.burn,
        everyMs: o.burnRate.slotMs,
        now: o.clock.now(),
        onError: (err) => emit('incident:log-error', err),
      });
      const problem = this.burnState.restore(o.clock.now());
      // Listeners are attached after createMonitor() returns.
      if (problem !== undefined) queueMicrotask(() => emit('incident:log-error', problem));
    }

    if (o.incidentLog !== undefined) {
      // Throws a ConfigError for a device, FIFO or directory: reading one would never end.
      const replay = replayLog(o.incidentLog.path, { maxBytes: replayBound(o.incidentLog.maxBytes) });
      this.manager.restore(replay.incidents);
      this.log = new IncidentLog({
        options: o.incidentLog,
        clock: o.clock,
        snapshot: () => this.manager.allIncidents(),
        onError: (err) => emit('incident:log-error', asError(err)),
        replay,
      });
      // Listeners are attached after createMonitor() returns: report replay problems a microtask later.
      if (replay.corrupt.length > 0 || replay.error !== undefined) {
        queueMicrotask(() => {
          for (const c of replay.corrupt) emit('incident:log-corrupt', c);
          if (replay.error !== undefined) emit('incident:log-error', new Error(replay.error));
        });
      }
    }

    const log = this.log;
    const notifiers = this.notifiers;
    const clock = o.clock;
    this.manager.onChange((change, incident) => {
      log?.append(change, incident);
      const specific = SPECIFIC[change];
      // An incident that never paged sends nothing, not even its resolution; a suppressed one pages nobody.
      const muted = incident.suppressed !== undefined || incident.unpaged === true;
      if (!muted) this.send(specific ?? 'incident:updated', incident, clock.now(), change);
      if ((muted && PAGE_EVENTS.has(change)) || change === 'suppressed') emit('incident:suppressed', incident);
      else if (specific !== undefined) emit(specific, incident);
      emit('incident:updated', incident);
    });
  }

  /** @internal Routes notifications through `fn` (undefined: straight to the notifiers). */
  setDispatcher(fn: NotificationDispatcher | undefined): void {
    this.dispatcher = fn;
  }

  private send(event: IncidentEventName, incident: Incident, at: number, change: IncidentChange): void {
    const direct = (): void => this.notifiers.notify(event, incident, at);
    if (this.dispatcher === undefined) return direct();
    try {
      this.dispatcher(event, incident, at, change, direct);
    } catch {
      // The dispatcher is ours; should it throw, paging wins over silence.
      direct();
    }
  }

  /** What keeps `incident` from paging now: a silence, a maintenance window, then an inhibition. */
  private suppressionFor(incident: Incident): Suppression | undefined {
    const now = this.clock.now();
    const silence = this.silences.matching(incident, now);
    if (silence !== undefined) return { kind: 'silence', by: silence.id, since: now, reason: Silences.describe(silence) };
    const window = this.maintenance.matching(incident, now);
    if (window !== undefined) return { kind: 'maintenance', by: window.id, since: now, reason: Maintenance.describe(window, now) };
    if (this.inhibitor.size === 0 || !this.inhibitor.targetTypes.has(incident.type)) return undefined;
    const pending = this.detection.pending().filter((p) => p.scope !== incident.scope || p.type !== incident.type);
    const inh = this.inhibitor.find(incident, this.manager.activeIncidents(), pending);
    if (inh === undefined) return undefined;
    const what = `${inh.sourceType} on ${inh.sourceScope}`;
    return inh.sourceId !== undefined
      ? { kind: 'inhibition', by: inh.sourceId, rule: inh.rule, since: now, reason: `inhibited by ${inh.sourceId} (${what}; rule "${inh.rule}")` }
      : { kind: 'inhibition', by: `pending ${what}`, rule: inh.rule, since: now, reason: `inhibited while ${what} is pending (rule "${inh.rule}"); pages if it never opens` };
  }

  /**
   * Brings every unresolved incident's suppression up to date: a silence or
   * window that started holds it, one that ended (or a source that resolved)
   * lets it go, and an incident that never paged pages now. Runs after each
   * detection and whenever a silence or window changes.
   */
  reconcile(): void {
    const now = this.clock.now();
    for (const inc of [...this.manager.activeIncidents()]) {
      const s = this.suppressionFor(inc);
      if (s !== undefined) {
        this.manager.suppress(inc.id, s);
        continue;
      }
      if (inc.suppressed === undefined) continue;
      const r = this.manager.unsuppress(inc.id, endReason(inc.suppressed));
      if (r?.page === true) {
        this.send('incident:opened', r.incident, now, 'opened');
        this.emit('incident:opened', r.incident);
      }
    }
  }

  /** Runs detection for one evaluation (and starts a background health-check run for the next one). */
  detect(signals: DetectionSignals): IncidentChanges {
    if (this.health.size > 0) void this.health.run();
    const changes = this.detection.run({
      now: signals.now,
      store: this.store,
      minSamples: this.minSamples,
      memory: signals.memory,
      cpu: signals.cpu,
      eventLoopDelayMs: signals.eventLoopDelayMs,
      ownRateLimited: signals.ownRateLimited,
    });
    this.reconcile();
    this.burnState?.maybeSave(signals.now);
    return changes;
  }

  /** Adds a custom detector. */
  addDetector(input: CustomDetectorInput): DetectorHandle {
    const d = new CustomDetector(input);
    const remove = this.detection.add(d);
    return { name: d.name, remove };
  }

  /** Adds a health check. */
  healthCheck(name: string, fn: HealthCheckFn, options?: HealthCheckOptions): void {
    this.health.register(name, fn, options);
  }

  /** Runs every health check now. */
  checkHealth(): Promise<HealthReport> {
    return this.health.run();
  }

  /** Writes queued log lines and waits for notifications in flight; reports what the log persisted. Never rejects. */
  async flush(): Promise<LogFlushResult> {
    const [log] = await Promise.all([this.log?.flush(), this.notifiers.settled(), this.burnState?.save(this.clock.now())]);
    return log ?? { written: 0, failed: 0 };
  }

  /**
   * Waits until every notifier is idle (retries in backoff included), or
   * `deadline` resolves first, in which case what is left is dead-lettered;
   * then writes the log (not bounded by the deadline: it is local I/O, and
   * lines not written are lost for good) and cancels the timers (see `stop`).
   * Never rejects.
   */
  async close(deadline: Promise<void>): Promise<{ log: LogFlushResult; timedOut: boolean }> {
    const drained = await Promise.race([this.notifiers.drained().then(() => true), deadline.then(() => false)]);
    if (!drained) this.notifiers.abandon();
    const [flushed] = await Promise.all([this.log?.flush(), this.burnState?.save(this.clock.now())]);
    const log = flushed ?? { written: 0, failed: 0 };
    this.stop();
    return { log, timedOut: !drained };
  }

  /** Cancels the log's fsync timer and the notifiers' retries (see `Notifiers.stop`). */
  stop(): void {
    this.log?.stop();
    this.notifiers.stop();
  }

  stats(now: number): IncidentStats {
    const byStatus: Record<IncidentStatus, number> = { open: 0, acknowledged: 0, mitigating: 0, resolved: 0 };
    for (const i of this.manager.allIncidents()) byStatus[i.status]++;
    const open: IncidentSummary[] = [];
    let suppressed = 0;
    for (const i of this.manager.activeIncidents()) {
      open.push(summarizeIncident(i));
      if (i.suppressed !== undefined) suppressed++;
    }
    const rt = this.manager.responseTimes();
    return {
      active: open.length,
      byStatus,
      open,
      pending: this.detection.pending(),
      suppressed,
      pendingOverflow: this.detection.pendingOverflow,
      totals: this.manager.totals(),
      ...rt,
      detectors: this.detection.detectorStatus(),
      burnRate: this.burn.status(now),
      notifiers: this.notifiers.stats(),
      log: this.log?.stats() ?? null,
      burnRateState: this.burnState?.stats() ?? null,
      health: this.health.last ?? null,
    };
  }

  registerMetrics(reg: Registry, prefix: string): void {
    registerIncidentMetrics(reg, prefix, { manager: this.manager, detection: this.detection, notifiers: this.notifiers, log: this.log });
  }
}

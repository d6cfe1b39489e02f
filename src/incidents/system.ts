import type { Registry } from 'prom-client';
import type { Clock } from '../clock.js';
import type { SloConfig } from '../config.js';
import type { MemoryReading } from '../metrics/process.js';
import type { SeriesStore } from '../metrics/series-store.js';
import { errorMessage } from '../safe-call.js';
import { buildDetectors, resolveDetectorConfigs } from './builtin-detectors.js';
import { BurnRateTracker, type BurnStatus } from './burn-rate.js';
import type { BurnRateOptions, DetectorConfig, IncidentEventName, IncidentLogOptions, IncidentOptions, NotifierConfig } from './config.js';
import { DetectionEngine, type DetectorStatus, type IncidentChanges, type PendingCondition } from './detection.js';
import { CustomDetector, type CustomDetectorInput } from './detector.js';
import type { DurationSummary } from './duration-stats.js';
import { HealthChecks, type HealthCheckFn, type HealthCheckOptions, type HealthReport } from './health.js';
import { IncidentLog, replayBound, replayLog, type CorruptLine, type LogFlushResult, type LogStats } from './log.js';
import { IncidentManager, type IncidentChange, type IncidentTotals } from './manager.js';
import { registerIncidentMetrics } from './metrics.js';
import { Notifiers, type DeadLetter, type NotifierStats } from './notifiers.js';
import type { Incident, IncidentStatus, Priority, Severity } from './types.js';

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
}

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
  private readonly clock: Clock;
  private readonly store: SeriesStore;
  private readonly minSamples: number;

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
    this.manager = new IncidentManager({ clock: o.clock, service: o.service, options: o.incidents });
    const contained = o.contained ?? (() => {});
    this.health = new HealthChecks(o.clock, (name, err) => contained('health-check', name, err));
    this.notifiers = new Notifiers(o.notifiers, o.clock, o.service, {
      onError: (name, err) => contained('notifier', name, err),
      onDeadLetter: (dead) => emit('notifier:dead-letter', dead),
    });

    // Detectors are built before anything is read from disk, so a bad option fails fast.
    const built = buildDetectors(resolveDetectorConfigs(o.preset, o.detectors), this.health);
    this.detection = new DetectionEngine({
      manager: this.manager,
      options: o.incidents,
      onError: (detector, error) => emit('detector:error', { detector, error: asError(error) }),
    });
    for (const d of built) this.detection.add(d);
    this.burn = new BurnRateTracker(o.burnRate, o.slos, o.minSamples);
    if (this.burn.active) this.detection.add(this.burn.detector());

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
      notifiers.notify(specific ?? 'incident:updated', incident, clock.now());
      if (specific !== undefined) emit(specific, incident);
      emit('incident:updated', incident);
    });
  }

  /** Runs detection for one evaluation (and starts a background health-check run for the next one). */
  detect(signals: DetectionSignals): IncidentChanges {
    if (this.health.size > 0) void this.health.run();
    return this.detection.run({
      now: signals.now,
      store: this.store,
      minSamples: this.minSamples,
      memory: signals.memory,
      cpu: signals.cpu,
      eventLoopDelayMs: signals.eventLoopDelayMs,
    });
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
    const [log] = await Promise.all([this.log?.flush(), this.notifiers.settled()]);
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
    const log = (await this.log?.flush()) ?? { written: 0, failed: 0 };
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
    for (const i of this.manager.activeIncidents()) open.push(summarizeIncident(i));
    const rt = this.manager.responseTimes();
    return {
      active: open.length,
      byStatus,
      open,
      pending: this.detection.pending(),
      pendingOverflow: this.detection.pendingOverflow,
      totals: this.manager.totals(),
      ...rt,
      detectors: this.detection.detectorStatus(),
      burnRate: this.burn.status(now),
      notifiers: this.notifiers.stats(),
      log: this.log?.stats() ?? null,
      health: this.health.last ?? null,
    };
  }

  registerMetrics(reg: Registry, prefix: string): void {
    registerIncidentMetrics(reg, prefix, { manager: this.manager, detection: this.detection, notifiers: this.notifiers, log: this.log });
  }
}

import { collectDefaultMetrics, type Registry } from 'prom-client';
import { every, systemClock, type Clock } from './clock.js';
import { monitorOptionsSchema, parseConfig, resolveSlos, type MonitorOptions, type ResolvedMonitorOptions } from './config.js';
import { SafeEmitter } from './events.js';
import { containAsync } from './safe-call.js';
import { BucketLayout } from './metrics/log-buckets.js';
import { processProbes, type ResourceProbes } from './metrics/process.js';
import { leLabel, newRegistry, registerCollector, routeLabels, type ClusterAggregator, type CollectFn, type PromSample } from './metrics/prometheus.js';
import { ConfigError } from './errors.js';
import { z } from 'zod';
import { SeriesStore, HIT, MISS, ERROR, MAX_NAME_LENGTH, byName, type CacheStats, type RouteStats } from './metrics/series-store.js';
import { HistoryRing } from './history.js';
import { SlotTicker } from './metrics/slot-ticker.js';
import { SloEvaluator, type SloResult, type SloStatus } from './slo/evaluate.js';
import { LatencyWindow, REQUESTS, FAILURES } from './metrics/latency-window.js';
import { ActionRegistry } from './actions/registry.js';
import type { ActionExecution } from './actions/types.js';
import { Controls } from './actions/controls/controls.js';
import { registerControlMetrics } from './actions/controls/metrics.js';
import type { Feature, FeatureOptions } from './actions/controls/feature.js';
import type { CacheOptions, GuardedCache } from './actions/controls/cache.js';
import type { RateLimiter, RateLimiterOptions } from './actions/controls/rate-limiter.js';
import type { Fallback, FallbackOptions } from './actions/controls/fallback.js';
import type { Canary, CanaryOptions } from './actions/controls/canary.js';
import { Playbooks } from './actions/playbooks.js';
import { buildProcedures } from './actions/procedures.js';
import { AutoRemediation, type RemediationHandover } from './actions/remediation.js';

/** Distinct `arm` series a monitor keeps (canary arms are a small fixed set); later arms are counted, not recorded. */
export const MAX_ARMS = 32;
import type { BurnRateTracker } from './incidents/burn-rate.js';
import { noChanges, type IncidentChanges } from './incidents/detection.js';
import type { CustomDetectorInput } from './incidents/detector.js';
import type { HealthCheckFn, HealthCheckOptions, HealthReport } from './incidents/health.js';
import type { IncidentManager } from './incidents/manager.js';
import type { LogFlushResult } from './incidents/log.js';
import type { Maintenance } from './incidents/maintenance.js';
import type { Silences } from './incidents/silences.js';
import { IncidentSystem, type DetectorHandle, type IncidentEvents, type IncidentStats } from './incidents/system.js';
import type { Incident } from './incidents/types.js';
import { ContainedErrors, type ContainedKind, type Logger } from './logger.js';

/**
 * One finished request, as the host reports it.
 *
 * @example
 * ```ts
 * monitor.recordRequest({ route: 'GET /search', durationMs: 183, status: 200 });
 * ```
 */
export interface RequestRecord {
  /**
   * Route template (`GET /users/:id`), never the raw URL: each distinct value
   * is a series. Longer than {@link MAX_NAME_LENGTH}: cut to it (ending in `…`)
   * and counted in `rejectedBy.route`; the request is still recorded.
   */
  route: string;
  /** Duration in milliseconds (finite, ≥ 0). */
  durationMs: number;
  /** HTTP status; classified by `classify` (default: < 500 is success). 429 is also counted as rate-limited. */
  status?: number;
  /** Explicit outcome; wins over `status`. */
  ok?: boolean;
  /**
   * Canary arm (`canary.assign(key)`): also records into that arm's series so
   * canary and stable can be compared. At most {@link MAX_ARMS} distinct arms
   * of at most {@link MAX_NAME_LENGTH} characters; another arm is counted in
   * `armOverflow` and not kept (the route still records the request).
   */
  arm?: string;
}

/** What `end()` of {@link Monitor.startTimer} accepts. */
export interface TimerOutcome {
  status?: number;
  ok?: boolean;
}

/** A change of an SLO's status between two evaluations. */
export interface SloTransition {
  slo: string;
  from: SloStatus;
  to: SloStatus;
  result: SloResult;
}

/**
 * What `evaluate()` returns: every SLO's result and what changed since the
 * previous evaluation.
 */
export interface EvaluationReport {
  /** Clock time of the evaluation (epoch ms). */
  at: number;
  slos: SloResult[];
  /** SLO status changes since the previous evaluation. */
  transitions: SloTransition[];
  /** Incidents this evaluation opened, escalated, de-escalated, resolved, reopened or found overdue. */
  incidents: IncidentChanges;
}

/** Why a record was rejected. */
export type RejectReason = 'durationMs' | 'route' | 'status' | 'cache';

/** `stats().rejected`-adjacent detail and bounds, for diagnosis. */
export interface RecordingHealth {
  /**
   * Rejected records by the field that was wrong. `route` and `cache` also
   * count records whose name was longer than {@link MAX_NAME_LENGTH}: those
   * are recorded under the name cut to that length, not dropped.
   */
  rejectedBy: Record<RejectReason, number>;
  /** Records that went to `__other__` because `maxRoutes` was reached. */
  routeOverflow: number;
  /** Cache records that went to `__other__` because `maxCaches` was reached. */
  cacheOverflow: number;
  /** Durations outside the histogram range, clamped to it (still counted). */
  clamped: number;
  /** Event listeners that threw (contained). */
  listenerErrors: number;
  /** SLO evaluations that failed because a probe threw or returned nonsense (contained: the SLO read `no-data`). */
  sloErrors: number;
  /** Records whose `arm` was not recorded because {@link MAX_ARMS} arms exist (or it was not a string, or longer than {@link MAX_NAME_LENGTH}). */
  armOverflow: number;
  /**
   * Contained errors by kind (each also went to the `logger` once):
   * listeners, notifier attempts, incident-log I/O, health checks that threw,
   * rejected or timed out, detectors, failed actions.
   */
  contained: Record<ContainedKind, number>;
  /** Calls to the `logger` that threw or rejected (contained). */
  loggerErrors: number;
}

/**
 * Options of {@link Monitor.close}.
 *
 * @example
 * ```ts
 * await monitor.close({ timeoutMs: 5_000 });
 * ```
 */
export interface CloseOptions {
  /**
   * How long, on the monitor's clock, to wait for remediation runs in flight
   * and notifications (queued, in flight or waiting to retry) before giving
   * up on them: notifications left are dead-lettered. Default 10 000.
   */
  timeoutMs?: number;
}

/**
 * What {@link Monitor.close} did.
 *
 * @example
 * ```ts
 * const { log, deadLettered, timedOut } = await monitor.close();
 * ```
 */
export interface CloseResult {
  /** Incident-log lines persisted and lost since the previous flush (as `flush()` reports). */
  log: LogFlushResult;
  /** Notifications delivered since the monitor was created, over all notifiers. */
  delivered: number;
  /** Notifications given up on since the monitor was created (failed, or abandoned at the deadline). */
  deadLettered: number;
  /** The deadline passed before remediation and notifications settled. */
  timedOut: boolean;
}

/** Default of {@link CloseOptions.timeoutMs}. */
export const DEFAULT_CLOSE_TIMEOUT_MS = 10_000;

// Node ≥ 20 defines Symbol.asyncDispose (as Symbol.for('nodejs.asyncDispose')); older runtimes get the same registered symbol.
const asyncDispose: typeof Symbol.asyncDispose =
  (Symbol as { asyncDispose?: typeof Symbol.asyncDispose }).asyncDispose ?? (Symbol.for('nodejs.asyncDispose') as typeof Symbol.asyncDispose);

/**
 * The JSON snapshot of `monitor.stats()`.
 *
 * @example
 * ```ts
 * const { overall, routes } = monitor.stats();
 * console.log(overall.latencyMs.p95, routes['GET /search']?.successRate);
 * ```
 */
export interface MonitorStats {
  service: string;
  /** Clock time of the snapshot. */
  at: number;
  windowMs: number;
  overall: RouteStats;
  /**
   * Per route: every route while there are no more than `limit` (1,000 by
   * default), in the order they were first seen; past that, one page of them
   * in `sort` order ({@link MonitorStats.routePage}). One route's figures:
   * {@link Monitor.routeStats}.
   */
  routes: Record<string, RouteStats>;
  /** Which routes `routes` lists. */
  routePage: RoutePage;
  /** The busiest, most failing and slowest (p99) routes of the window, whatever the page ({@link TOP_ROUTES} each). */
  top: TopRoutes;
  caches: Record<string, CacheStats>;
  /** Per canary arm (`recordRequest({ arm })`). */
  arms: Record<string, RouteStats>;
  /**
   * Records rejected for bad input (NaN or negative duration, non-string
   * route…), plus those recorded under a name cut to {@link MAX_NAME_LENGTH}.
   */
  rejected: number;
  recording: RecordingHealth;
  slos: SloResult[];
  /** Open incidents, pending conditions, response times, detectors, notifiers, log. */
  incidents: IncidentStats;
}

/** Order of a page of routes in {@link MonitorStats.routes}: most requests, most failures, highest p99, or by name. */
export type RouteSort = 'requests' | 'failures' | 'p99' | 'name';

/**
 * Options of {@link Monitor.stats}: which routes to list in full.
 *
 * @example
 * ```ts
 * monitor.stats({ limit: 50, offset: 50, sort: 'failures' }); // the 51st to 100th most failing routes
 * ```
 */
export interface StatsOptions {
  /** Most routes listed in `routes` (default 1,000; 0 lists none). */
  limit?: number;
  /** Routes skipped, in `sort` order (default 0). */
  offset?: number;
  /** Order of the page (default `'requests'`). With every route listed and no `offset`, routes keep their first-seen order. */
  sort?: RouteSort;
}

/** Which routes {@link MonitorStats.routes} lists. */
export interface RoutePage {
  /** Route series in the monitor (`__other__` included). */
  total: number;
  offset: number;
  limit: number;
  sort: RouteSort;
  /** True when `routes` lists fewer than `total`. */
  truncated: boolean;
}

/** One route in a {@link TopRoutes} list. */
export interface RouteRank {
  route: string;
  requests: number;
  failures: number;
  /** p99 latency over the window, ms (null without requests). */
  p99: number | null;
}

/** The routes that stand out in the window, {@link TOP_ROUTES} per list, most first; routes without requests are left out. */
export interface TopRoutes {
  requests: RouteRank[];
  failures: RouteRank[];
  p99: RouteRank[];
}

/** Length of each {@link TopRoutes} list. */
export const TOP_ROUTES = 10;
/** Routes `stats()` lists by default. */
export const DEFAULT_STATS_ROUTES = 1_000;

const statsOptionsSchema = z
  .object({
    limit: z.number().int().min(0).max(10_000).optional(),
    offset: z.number().int().min(0).optional(),
    sort: z.enum(['requests', 'failures', 'p99', 'name']).optional(),
  })
  .strict()
  .optional();

/**
 * Events a monitor emits. Listeners that throw are contained and counted.
 *
 * @example
 * ```ts
 * monitor.on('slo:breach', (r) => console.warn(`${r.name} breached: ${r.value}`));
 * ```
 */
export interface MonitorEvents extends IncidentEvents {
  /** An SLO entered `breach`. */
  'slo:breach': (result: SloResult) => void;
  /** An SLO entered `warning`. */
  'slo:warning': (result: SloResult) => void;
  /** An SLO left `breach` or `warning` for `ok`. */
  'slo:recovered': (result: SloResult) => void;
  /** Any SLO status change. */
  'slo:changed': (transition: SloTransition) => void;
  /** An evaluation finished. */
  evaluated: (report: EvaluationReport) => void;
  /** An action execution succeeded (or was a no-op). */
  'action:executed': (execution: ActionExecution) => void;
  /** An action execution failed or timed out (or a revert did). */
  'action:failed': (execution: ActionExecution) => void;
  /** An execution was reverted. */
  'action:reverted': (execution: ActionExecution) => void;
  /** An auto step did not help within `verifyAfterMs`: it was reverted and the incident needs a person. */
  'remediation:handed-over': (handover: RemediationHandover) => void;
}

const STATUS_CODE: Record<SloStatus, number> = { 'no-data': -1, ok: 0, warning: 1, breach: 2 };

/**
 * An in-process monitor: records requests and cache lookups into rolling
 * windows, evaluates SLOs, emits events and exposes Prometheus metrics.
 * Create one with {@link createMonitor}.
 */
export class Monitor extends SafeEmitter<MonitorEvents> {
  /** The service name. */
  readonly service: string;
  /** The clock every part of this monitor uses. */
  readonly clock: Clock;
  /** The prom-client registry holding this monitor's metrics. */
  readonly registry: Registry;
  /** Validated options, defaults applied. */
  readonly options: ResolvedMonitorOptions;
  /** @internal */
  readonly store: SeriesStore;
  /** Emergency actions: register, list, execute, revert, audit. */
  readonly actions: ActionRegistry;
  /** The controls (features, caches, rate limiters, fallbacks, canaries) by name, and their stats. */
  readonly controls: Controls;
  /** This replica's name (option `replica`, default `<hostname>-<pid>`; `redisFleet` sets the fleet's): in audit entries and action executions. */
  get replica(): string {
    return this.actions.replica;
  }
  /** Playbooks: incident type → ordered steps (the `runbook` preset by default). */
  readonly playbooks: Playbooks;
  /** Auto-remediation: policy, pause/resume, stats (off unless `autoRemediate` is set). */
  readonly remediation: AutoRemediation;
  private readonly arms = new Map<string, LatencyWindow>();
  private armOverflow = 0;
  /**
   * The incidents: list, open, acknowledge, mitigate, resolve, reopen, notes,
   * action items, post-mortems.
   */
  readonly incidents: IncidentManager;
  /**
   * Silences: matchers on type, scope, severity… with an author, a comment and
   * an expiry. Matching incidents are recorded but page nobody and run no
   * auto-remediation (docs/silences-and-inhibition.md).
   */
  readonly silences: Silences;
  /** Maintenance windows, one-off or daily/weekly at a UTC time: they hold pages and auto-remediation as silences do. */
  readonly maintenance: Maintenance;
  private readonly incidentSystem: IncidentSystem;
  private readonly burn: BurnRateTracker | undefined;
  private readonly evaluator: SloEvaluator;
  /**
   * The server-side history: per-interval snapshots of the window and SLOs,
   * and incident/action markers, filled by `evaluate()`.
   */
  readonly history: HistoryRing;
  private readonly probes: ResourceProbes;
  private readonly classify: ((status: number) => boolean) | undefined;
  private readonly rejectedBy: Record<RejectReason, number> = { durationMs: 0, route: 0, status: 0, cache: 0 };
  private rejectedTotal = 0;
  private readonly ticker: SlotTicker;
  private lastStatus = new Map<string, SloStatus>();
  private cancelSchedule: (() => void) | undefined;
  private lastReport: EvaluationReport | undefined;
  /** The logger contained errors go to (`options.logger`, as a `child({ name: 'firebreak', service })` when it has one). */
  readonly logger: Logger;
  private readonly contained: ContainedErrors;
  /** 429s the limiters produced only because their limit was lowered: not evidence of an attack. */
  private readonly ownRateLimited = (windowMs: number): number => {
    let n = 0;
    for (const l of this.controls.rateLimiters.values()) n += l.recentOwnRejections(windowMs);
    return n;
  };
  private closing: Promise<CloseResult> | undefined;
  private remediationGate: ((incident: Incident) => boolean) | undefined;

  /**
   * @internal The incident machinery, for `firebreak/redis`: the fleet sends
   * notifications and runs auto-remediation only on the replica that owns an
   * incident. `remediationGate` returns false where this replica must not act.
   */
  fleetIncidentHooks(): { system: IncidentSystem; setRemediationGate(fn: ((incident: Incident) => boolean) | undefined): void } {
    return {
      system: this.incidentSystem,
      setRemediationGate: (fn) => {
        this.remediationGate = fn;
      },
    };
  }

  constructor(options: MonitorOptions) {
    super();
    const opts = parseConfig(monitorOptionsSchema, 'monitor options', options);
    this.options = opts;
    this.service = opts.service;
    this.clock = opts.clock ?? systemClock;
    this.contained = new ContainedErrors(opts.logger, { name: 'firebreak', service: opts.service });
    this.logger = this.contained.logger;
    this.classify = opts.classify;
    this.store = new SeriesStore({
      slotMs: opts.window.slotMs,
      slots: opts.window.durationMs / opts.window.slotMs,
      maxRoutes: opts.maxRoutes,
      maxCaches: opts.maxCaches,
      layout: new BucketLayout(opts.histogram),
      promBucketsSeconds: opts.prometheus.buckets,
    });
    this.ticker = new SlotTicker(this.clock, opts.window.slotMs);
    this.probes = { ...processProbes(), ...opts.probes };
    const clock = this.clock;
    const slos = resolveSlos(opts.preset, opts.slos);
    this.incidentSystem = new IncidentSystem({
      clock: this.clock,
      service: opts.service,
      store: this.store,
      minSamples: opts.minSamples,
      slos,
      preset: opts.preset,
      detectors: opts.detectors,
      incidents: opts.incidents,
      incidentLog: opts.incidentLog,
      notifiers: opts.notifiers,
      burnRate: opts.burnRate,
      emit: (event, ...args) => {
        this.reportEvent(event, args[0]);
        this.emit(event, ...args);
      },
      contained: (kind, name, err) => this.contained.report(kind, name, err),
    });
    this.incidents = this.incidentSystem.manager;
    this.silences = this.incidentSystem.silences;
    this.maintenance = this.incidentSystem.maintenance;
    this.burn = this.incidentSystem.burn.active ? this.incidentSystem.burn : undefined;
    const evaluatorOpts: ConstructorParameters<typeof SloEvaluator>[0] = {
      slos,
      store: this.store,
      probes: this.probes,
      minSamples: opts.minSamples,
      monotonic: () => clock.monotonic(),
    };
    if (this.burn !== undefined) evaluatorOpts.ratios = this.burn;
    this.evaluator = new SloEvaluator(evaluatorOpts);
    this.registry = opts.prometheus.registry ?? newRegistry();
    this.actions = new ActionRegistry(this.clock, opts.actions, {
      emit: (event, execution) => {
        if (event === 'action:failed') this.contained.report('action', execution.action, execution.error ?? execution.outcome, { executionId: execution.id, outcome: execution.outcome });
        this.emit(event, execution);
      },
      timeline: (id, entry) => void this.incidents.record(id, entry),
      requireIncident: (id) => void this.incidents.require(id),
    });
    this.controls = new Controls({
      clock: this.clock,
      actions: this.actions,
      recordCache: (name, result) => this.recordCache(name, result),
      canary: {
        recordRequest: (record) => this.recordRequest(record),
        armStats: (label) => {
          const s = this.arms.get(label);
          return s === undefined ? null : this.store.routeStats(s, this.clock.now());
        },
        armTotals: (label) => {
          const s = this.arms.get(label);
          return s === undefined ? null : s.cumulative;
        },
      },
      detector: (spec) => this.detector(spec),
    });
    if (opts.replica !== undefined) this.actions.setReplica(opts.replica);
    this.silences.shared = this.controls.shared;
    this.maintenance.shared = this.controls.shared;
    this.playbooks = new Playbooks(opts.playbooks);
    this.remediation = new AutoRemediation(
      {
        clock: this.clock,
        actions: this.actions,
        playbooks: this.playbooks,
        controls: this.controls,
        incident: (id) => this.incidents.get(id),
        note: (id, message, data) => void this.incidents.record(id, data === undefined ? { kind: 'note', by: 'firebreak', message } : { kind: 'note', by: 'firebreak', message, data }),
        handedOver: (handover) => this.emit('remediation:handed-over', handover),
        shouldAct: (incident) => {
          const live = this.incidents.peek(incident.id);
          if (this.remediationGate !== undefined && !this.remediationGate(incident)) return false;
          return live === undefined || (live.suppressed === undefined && live.unpaged !== true);
        },
      },
      opts.autoRemediate,
      2 * opts.window.durationMs + opts.incidents.clearForMs + opts.evaluateEveryMs,
    );
    this.incidents.setProcedureProvider((incident) => buildProcedures(incident, this));
    this.on('incident:opened', (i) => this.remediation.onIncident('opened', i));
    this.on('incident:escalated', (i) => this.remediation.onIncident('escalated', i));
    this.on('incident:reopened', (i) => this.remediation.onIncident('reopened', i));
    this.on('incident:resolved', (i) => this.remediation.onResolved(i));
    this.on('evaluated', () => this.remediation.onEvaluated());
    // From the configuration: evaluating here would read the clock and the probes before anything was recorded.
    this.history = new HistoryRing(opts.history, this.evaluator.describe());
    this.on('incident:opened', (i) => this.history.mark(this.clock.now(), 'incident-opened', `${i.severity} ${i.summary}`, i.id));
    this.on('incident:resolved', (i) => this.history.mark(this.clock.now(), 'incident-resolved', i.summary, i.id));
    this.on('action:executed', (e) => {
      if (!e.noop) this.history.mark(e.finishedAt, 'action-applied', `${e.action} by ${e.by}`, e.incidentId);
    });
    this.on('action:reverted', (e) => this.history.mark(this.clock.now(), 'action-reverted', `${e.action} reverted`, e.incidentId));
    this.registerMetrics(opts.prometheus.prefix, opts.prometheus.defaultMetrics);
    this.incidentSystem.registerMetrics(this.registry, opts.prometheus.prefix);
  }

  /**
   * A kill switch (see {@link Feature}); registers `feature.*` actions.
   * Without options, returns the existing feature of that name.
   *
   * @example
   * ```ts
   * const rerank = monitor.feature('rerank', { risky: true });
   * if (rerank.isEnabled()) results = await rerankResults(results);
   * ```
   */
  feature(name: string, options?: FeatureOptions): Feature {
    return this.controls.feature(name, options);
  }

  /**
   * A guarded lru-cache that records hits, misses and errors (see {@link GuardedCache});
   * registers `cache.*` actions.
   *
   * @example
   * ```ts
   * const cache = monitor.cache<string, Hit[]>('search', { max: 10_000, ttl: 60_000 });
   * ```
   */
  cache<K extends {}, V extends {}>(name: string, options?: CacheOptions<K, V>): GuardedCache<K, V> {
    return this.controls.cache(name, options);
  }

  /**
   * A per-key sliding-window rate limiter (see {@link RateLimiter}); registers `rate-limit.*` actions.
   *
   * @example
   * ```ts
   * const limiter = monitor.rateLimiter('api', { maxRequests: 100, windowSeconds: 60 });
   * if (!limiter.check(req.ip).allowed) res.statusCode = 429;
   * ```
   */
  rateLimiter(name: string, options?: RateLimiterOptions): RateLimiter {
    return this.controls.rateLimiter(name, options);
  }

  /**
   * A primary/fallback wrapper (see {@link Fallback}); registers `model.fallback` / `model.restore`.
   *
   * @example
   * ```ts
   * const ranker = monitor.fallback('ranker', { primary: crossEncoder, fallback: hybridOnly, timeoutMs: 300 });
   * const results = await ranker.run(query);
   * ```
   */
  fallback<A extends unknown[], R>(name: string, options?: FallbackOptions<A, R>): Fallback<A, R> {
    return this.controls.fallback(name, options);
  }

  /**
   * A deterministic canary splitter (see {@link Canary}); registers `canary.*` actions.
   *
   * @example
   * ```ts
   * const canary = monitor.canary('new-index', { percent: 5 });
   * const arm = canary.assign(userId);
   * ```
   */
  canary(name: string, options?: CanaryOptions): Canary {
    return this.controls.canary(name, options);
  }

  /**
   * Records one finished request. Never throws: bad input (NaN, negative or
   * infinite duration, non-string route, non-numeric status) is rejected and
   * counted in `stats().rejected`.
   *
   * @example
   * ```ts
   * monitor.recordRequest({ route: 'GET /search', durationMs: 183, status: 200 });
   * ```
   */
  recordRequest(record: RequestRecord): void {
    if (typeof record !== 'object' || record === null) return this.reject('route');
    let d: unknown, route: unknown, status: unknown, ok: unknown, arm: unknown;
    // Every field is read once, up front: a getter or proxy trap that throws (a host's bug) is a
    // rejected record, never an exception in the host's request path nor a half-recorded request.
    // TurboFan optimises try/catch; nothing is allocated unless it throws.
    try {
      d = record.durationMs;
      route = record.route;
      status = record.status;
      ok = record.ok;
      arm = record.arm;
    } catch {
      return this.reject('route');
    }
    if (typeof d !== 'number' || !(d >= 0 && d < Infinity)) return this.reject('durationMs');
    if (typeof route !== 'string') return this.reject('route');
    let failure = false;
    if (typeof ok === 'boolean') failure = !ok;
    else if (status !== undefined) {
      if (typeof status !== 'number' || !(status >= 0)) return this.reject('status');
      // The default classifier inline: no call on the common path.
      failure = this.classify === undefined ? status >= 500 : this.isFailure(status);
    }
    // Time and duration travel in a typed array, never as call arguments (see LatencyWindow.recordStaged).
    const input = this.store.input;
    this.stageTime(input);
    input[1] = d;
    const b = this.store.route(route).recordStaged(failure, status === 429);
    this.store.all.recordIndexed(b, failure, status === 429);
    this.burn?.recordStaged(input, route, failure);
    if (arm !== undefined) this.recordArm(arm, failure, status === 429);
  }

  private recordArm(arm: unknown, failure: boolean, rateLimited: boolean): void {
    if (typeof arm !== 'string') {
      this.armOverflow++;
      return;
    }
    let s = this.arms.get(arm);
    if (s === undefined) {
      if (arm.length > MAX_NAME_LENGTH || this.arms.size >= MAX_ARMS) {
        this.armOverflow++;
        return;
      }
      s = new LatencyWindow(this.store.layout, this.store.slotMs, this.store.slots, this.store.prom, this.store.input);
      this.arms.set(arm, s);
    }
    s.recordStaged(failure, rateLimited);
  }

  /**
   * Records a cache lookup: `true`/`'hit'`, `false`/`'miss'`, or `'error'`.
   *
   * @example
   * ```ts
   * monitor.recordCache('search', cached !== undefined);
   * monitor.recordCache('search', 'error');
   * ```
   */
  recordCache(cache: string, result: boolean | 'hit' | 'miss' | 'error'): void {
    if (typeof cache !== 'string') return this.reject('cache');
    // Compared, not looked up in an object: `'toString'` must not resolve through a prototype.
    const r = result === true || result === 'hit' ? HIT : result === false || result === 'miss' ? MISS : result === 'error' ? ERROR : -1;
    if (r < 0) return this.reject('cache');
    const input = this.store.input;
    this.stageTime(input);
    this.store.cache(cache).recordStaged(input, r);
    this.burn?.recordCacheStaged(input, cache, r);
  }

  /**
   * Starts timing a request on `route`; call the returned function when it ends.
   *
   * @example
   * ```ts
   * const end = monitor.startTimer('GET /search');
   * try { await search(); end({ status: 200 }); } catch { end({ ok: false }); }
   * ```
   */
  startTimer(route: string): (outcome?: TimerOutcome) => void {
    const started = this.clock.monotonic();
    let ended = false;
    return (outcome) => {
      if (ended) return; // a second end() would double-count
      ended = true;
      const rec: RequestRecord = { route, durationMs: this.clock.monotonic() - started };
      try {
        if (outcome?.status !== undefined) rec.status = outcome.status;
        if (outcome?.ok !== undefined) rec.ok = outcome.ok;
      } catch {
        // An outcome that cannot be read is no outcome we can judge: rejected as a bad status.
        rec.status = Number.NaN;
        delete rec.ok;
      }
      this.recordRequest(rec);
    };
  }

  /**
   * Runs `fn` and records its duration and outcome on `route`: a throw (or a
   * rejected promise) is a failure and is rethrown.
   *
   * @example
   * ```ts
   * const results = await monitor.track('GET /search', () => search(query));
   * ```
   */
  track<T>(route: string, fn: () => T): T {
    const end = this.startTimer(route);
    let result: T;
    try {
      result = fn();
    } catch (err) {
      end({ ok: false });
      throw err;
    }
    if (isPromiseLike(result)) {
      return Promise.resolve(result).then(
        (v) => {
          end({ ok: true });
          return v;
        },
        (err: unknown) => {
          end({ ok: false });
          throw err;
        },
      ) as T;
    }
    end({ ok: true });
    return result;
  }

  /**
   * Evaluates every SLO now, emits events for status changes, and returns
   * the results and what changed.
   *
   * @example
   * ```ts
   * const report = monitor.evaluate();
   * for (const t of report.transitions) console.log(`${t.slo}: ${t.from} → ${t.to}`);
   * ```
   */
  evaluate(): EvaluationReport {
    const at = this.clock.now();
    this.evaluator.sampleResources();
    const slos = this.evaluator.evaluate(at);
    const transitions: SloTransition[] = [];
    for (const result of slos) {
      const from = this.lastStatus.get(result.name) ?? 'no-data';
      if (from !== result.status) {
        transitions.push({ slo: result.name, from, to: result.status, result });
        this.lastStatus.set(result.name, result.status);
      }
    }
    let incidents: IncidentChanges;
    try {
      incidents = this.incidentSystem.detect({
        now: at,
        memory: () => this.probes.memory(),
        cpu: this.evaluator.cpu,
        eventLoopDelayMs: this.evaluator.eventLoopDelayMs,
        ownRateLimited: this.ownRateLimited,
      });
    } catch (err) {
      // Detectors are contained one by one; this guards the engine itself.
      incidents = noChanges();
      const info = { detector: 'detection', error: err instanceof Error ? err : new Error(String(err)) };
      this.reportEvent('detector:error', info);
      this.emit('detector:error', info);
    }
    const report: EvaluationReport = { at, slos, transitions, incidents };
    try {
      const store = this.store;
      const caches = byName(store.caches, (c) => c.stats(at));
      this.history.record(at, store.slotMs * store.slots, store.overall(at).stats, caches, slos);
    } catch (err) {
      // Pure arithmetic on the window; guarded so a bug here never fails an evaluation.
      this.contained.report('listener', 'history', err);
    }
    this.lastReport = report;
    for (const t of transitions) {
      this.emit('slo:changed', t);
      if (t.to === 'breach') this.emit('slo:breach', t.result);
      else if (t.to === 'warning') this.emit('slo:warning', t.result);
      else if (t.to === 'ok' && (t.from === 'breach' || t.from === 'warning')) this.emit('slo:recovered', t.result);
    }
    this.emit('evaluated', report);
    return report;
  }

  /** The most recent `evaluate()` report, if any. */
  get lastEvaluation(): EvaluationReport | undefined {
    return this.lastReport;
  }

  /**
   * A JSON snapshot of the window: overall, per route, per cache, SLOs and
   * recording health. Computing it has no side effects on SLO state.
   *
   * @example
   * ```ts
   * res.json(monitor.stats());
   * ```
   */
  stats(options?: StatsOptions): MonitorStats {
    const o = parseConfig(statsOptionsSchema, 'stats options', options) ?? {};
    const now = this.clock.now();
    const store = this.store;
    const { routes, routePage, top } = this.routeStats_(now, o.limit ?? DEFAULT_STATS_ROUTES, o.offset ?? 0, o.sort);
    const caches = byName(store.caches, (c) => c.stats(now));
    const arms = byName(this.arms, (s) => store.routeStats(s, now));
    return {
      service: this.service,
      at: now,
      windowMs: store.slotMs * store.slots,
      overall: store.overall(now).stats,
      routes,
      routePage,
      top,
      caches,
      arms,
      rejected: this.rejectedTotal + store.routeNamesCut + store.cacheNamesCut,
      recording: {
        rejectedBy: this.rejectedCounts(),
        routeOverflow: store.routeOverflow,
        cacheOverflow: store.cacheOverflow,
        clamped: store.clamped(),
        listenerErrors: this.listenerErrors,
        sloErrors: this.evaluator.errors,
        armOverflow: this.armOverflow,
        contained: { ...this.contained.counts },
        loggerErrors: this.contained.loggerErrors,
      },
      slos: this.evaluator.evaluate(now),
      incidents: this.incidentSystem.stats(now),
    };
  }

  /**
   * The window figures of one route (or `__other__`), or null when it has no
   * series: the full detail of a route `stats()` did not list.
   *
   * @example
   * ```ts
   * const search = monitor.routeStats('GET /search');
   * if (search !== null) console.log(search.latencyMs.p99);
   * ```
   */
  routeStats(route: string): RouteStats | null {
    if (typeof route !== 'string') return null;
    const s = this.store.routes.get(route);
    return s === undefined ? null : this.store.routeStats(s, this.clock.now());
  }

  /**
   * One pass over the routes for their counts and p99 (so top lists and the
   * sorted page cost O(routes), with no per-route summary), then the full
   * figures of the listed routes only.
   */
  private routeStats_(now: number, limit: number, offset: number, sort: RouteSort | undefined): { routes: Record<string, RouteStats>; routePage: RoutePage; top: TopRoutes } {
    const store = this.store;
    const total = store.routes.size;
    const routePage: RoutePage = { total, offset, limit, sort: sort ?? 'requests', truncated: false };
    const names: string[] = [];
    const requests = new Float64Array(total);
    const failures = new Float64Array(total);
    const p99 = new Float64Array(total);
    let i = 0;
    for (const [name, s] of store.routes) {
      s.advance(now);
      names.push(name);
      const n = s.total(REQUESTS);
      requests[i] = n;
      failures[i] = s.total(FAILURES);
      p99[i] = s.quantile(0.99);
      i++;
    }
    const rank = (k: number): RouteRank => ({ route: names[k]!, requests: requests[k]!, failures: failures[k]!, p99: p99[k]! < 0 ? null : p99[k]! });
    const top: TopRoutes = { requests: topOf(requests, TOP_ROUTES).map(rank), failures: topOf(failures, TOP_ROUTES).map(rank), p99: topOf(p99, TOP_ROUTES).map(rank) };
    let listed: number[];
    if (offset === 0 && sort === undefined && total <= limit) listed = Array.from({ length: total }, (_, k) => k);
    else {
      const s = routePage.sort;
      if (s === 'requests' || s === 'failures') {
        // Counts are integers below 2^38 and indices below 2^14: one float each, sorted natively (no comparator calls).
        const key = s === 'requests' ? requests : failures;
        const packed = new Float64Array(total);
        for (let k = 0; k < total; k++) packed[k] = key[k]! * 16_384 + (16_383 - k);
        packed.sort();
        listed = [];
        for (let r = total - 1 - offset; r >= 0 && listed.length < limit; r--) listed.push(16_383 - (packed[r]! % 16_384));
      } else {
        const order = Array.from({ length: total }, (_, k) => k);
        if (s === 'name') order.sort((a, b) => (names[a]! < names[b]! ? -1 : names[a]! > names[b]! ? 1 : 0));
        else order.sort((a, b) => p99[b]! - p99[a]! || a - b);
        listed = order.slice(offset, offset + limit);
      }
    }
    routePage.truncated = listed.length < total;
    const routes = Object.create(null) as Record<string, RouteStats>;
    for (const k of listed) routes[names[k]!] = store.routeStats(store.routes.get(names[k]!)!, now);
    return { routes, routePage, top };
  }

  /**
   * Adds a custom detector: `evaluate` returns a number (judged against
   * `thresholds`), a boolean, a severity, or null for no reading. It runs in
   * every `evaluate()` with the same hysteresis as the built-ins; a throw is
   * contained and counted. Returns a handle to remove it.
   *
   * @example
   * ```ts
   * monitor.detector({ type: 'certificate-expiry', evaluate: () => daysLeft(cert), direction: 'below', thresholds: { medium: 14, critical: 3 } });
   * monitor.detector({ type: 'model-failure', evaluate: () => !model.loaded, severity: 'high', forMs: 0 });
   * ```
   */
  detector(definition: CustomDetectorInput): DetectorHandle {
    return this.incidentSystem.addDetector(definition);
  }

  /**
   * Registers a health check (for readiness and the `health` detector). A
   * check fails by returning `false` or `{ ok: false }`, throwing, rejecting
   * or taking longer than `timeoutMs`.
   *
   * @example
   * ```ts
   * monitor.healthCheck('database', () => db.query('SELECT 1'), { timeoutMs: 2_000, critical: true });
   * ```
   */
  healthCheck(name: string, fn: HealthCheckFn, options?: HealthCheckOptions): this {
    this.incidentSystem.healthCheck(name, fn, options);
    return this;
  }

  /**
   * Runs every health check now: `failing` if a critical check fails,
   * `degraded` if another does, else `ok`. Never rejects.
   *
   * @example
   * ```ts
   * const { status, checks } = await monitor.checkHealth();
   * res.statusCode = status === 'failing' ? 503 : 200;
   * ```
   */
  checkHealth(): Promise<HealthReport> {
    return this.incidentSystem.checkHealth();
  }

  /**
   * Waits until queued incident-log lines are written (and fsynced unless
   * `fsync: 'never'`) and notifications in flight are settled. Call before
   * `stop()` on shutdown. Never rejects: it resolves with the incident-log
   * lines persisted (`written`) and lost (`failed`: write or fsync error,
   * full buffer) since the previous `flush()`; `failed > 0` means some
   * changes are not on disk (see `incident:log-error`). Without an
   * `incidentLog` both are 0.
   *
   * @example
   * ```ts
   * process.on('SIGTERM', async () => {
   *   const { failed } = await monitor.flush();
   *   if (failed > 0) console.error(`${failed} incident changes not persisted`);
   *   monitor.stop();
   * });
   * ```
   */
  async flush(): Promise<LogFlushResult> {
    await this.remediation.settled();
    return this.incidentSystem.flush();
  }

  /**
   * Prometheus text exposition of this monitor's registry.
   *
   * @example
   * ```ts
   * res.setHeader('content-type', monitor.registry.contentType);
   * res.end(await monitor.metrics());
   * ```
   */
  metrics(): Promise<string> {
    return this.registry.metrics();
  }

  /**
   * Schedules `evaluate()` every `evaluateEveryMs` on the monitor's clock and
   * starts resource sampling. Idempotent. While running, recording takes its
   * time from a timer that ticks at every window slot boundary instead of
   * reading the clock per request (the clock read is the largest cost of a
   * record); a request recorded in the moment between a boundary and a late
   * tick counts in the slot before.
   *
   * @example
   * ```ts
   * monitor.start();
   * process.on('SIGTERM', () => monitor.stop());
   * ```
   */
  start(): this {
    if (this.cancelSchedule !== undefined) return this;
    this.ticker.start();
    this.probes.start();
    this.controls.start();
    this.remediation.start();
    this.cancelSchedule = every(this.clock, this.options.evaluateEveryMs, () => {
      try {
        this.evaluate();
      } catch {
        // evaluate() contains its own failures; this guards the timer itself.
      }
    });
    return this;
  }

  /** Cancels everything `start()` scheduled, leaving Node free to exit. */
  stop(): this {
    this.cancelSchedule?.();
    this.cancelSchedule = undefined;
    this.ticker.stop();
    this.probes.stop();
    this.controls.stop();
    this.remediation.stop();
    this.incidentSystem.stop();
    return this;
  }

  /** True between `start()` and `stop()`. */
  get running(): boolean {
    return this.cancelSchedule !== undefined;
  }

  // ---- Shutdown and logging of contained errors (issue 16: fits the ecosystem) ----

  /**
   * Shuts the monitor down gracefully, once: stops every timer (`stop()`),
   * waits for remediation runs in flight and for notifications still
   * queued, in flight or waiting to retry, up to `timeoutMs` on the
   * monitor's clock (notifications left then are dead-lettered: counted and
   * emitted as `notifier:dead-letter`), then writes the incident log. Never
   * rejects. A second call returns the same promise. Also available as
   * `await using monitor = createMonitor(…)` (`Symbol.asyncDispose`).
   *
   * @example
   * ```ts
   * process.once('SIGTERM', () => {
   *   server.close();
   *   void monitor.close({ timeoutMs: 5_000 }).then(({ log, deadLettered }) => {
   *     if (log.failed > 0 || deadLettered > 0) console.error('firebreak lost', log.failed, 'log lines and', deadLettered, 'notifications');
   *   });
   * });
   * ```
   */
  close(options: CloseOptions = {}): Promise<CloseResult> {
    if (this.closing !== undefined) return this.closing;
    const t = options.timeoutMs ?? DEFAULT_CLOSE_TIMEOUT_MS;
    if (typeof t !== 'number' || !(t >= 0 && t <= 3_600_000)) {
      throw new ConfigError('close options', [{ path: 'timeoutMs', message: 'timeoutMs must be a number of ms between 0 and 3600000' }]);
    }
    this.closing = this.shutdown(t);
    return this.closing;
  }

  /** `await using monitor = createMonitor(…)`: the same as {@link Monitor.close} with its defaults. */
  async [asyncDispose](): Promise<void> {
    await this.close();
  }

  /** True once `close()` was called. */
  get closed(): boolean {
    return this.closing !== undefined;
  }

  private async shutdown(timeoutMs: number): Promise<CloseResult> {
    // The evaluation timer, ticker and controls stop now; the log's and notifiers' timers after they drain.
    this.cancelSchedule?.();
    this.cancelSchedule = undefined;
    this.ticker.stop();
    this.probes.stop();
    this.controls.stop();
    this.remediation.stop();
    let timer: ReturnType<Clock['setTimeout']> | undefined;
    let expired = false;
    const deadline = new Promise<void>((resolve) => {
      timer = this.clock.setTimeout(() => {
        expired = true;
        resolve();
      }, timeoutMs);
    });
    try {
      await Promise.race([this.remediation.settled(), deadline]);
      const r = await this.incidentSystem.close(deadline);
      let delivered = 0;
      let deadLettered = 0;
      for (const n of this.incidentSystem.notifiers.stats()) {
        delivered += n.delivered;
        deadLettered += n.deadLettered;
      }
      return { log: r.log, delivered, deadLettered, timedOut: expired || r.timedOut };
    } catch (err) {
      // Every step above is written not to reject; this guards the promise the host awaits.
      this.contained.report('incident-log', 'close', err);
      this.incidentSystem.stop();
      return { log: { written: 0, failed: 0 }, delivered: 0, deadLettered: 0, timedOut: expired };
    } finally {
      if (timer !== undefined) this.clock.clearTimeout(timer);
      this.stop();
    }
  }

  protected override onListenerError(event: string, err: unknown): void {
    this.contained.report('listener', event, err);
  }

  /** Events that carry a contained error are logged once, here, as they are emitted. */
  private reportEvent(event: string, arg: unknown): void {
    if (event === 'detector:error') {
      const info = arg as { detector: string; error: Error };
      this.contained.report('detector', info.detector, info.error);
    } else if (event === 'incident:log-error') {
      this.contained.report('incident-log', this.options.incidentLog?.path ?? 'incident log', arg);
    }
  }

  /**
   * Writes the time of a record into `input[0]`: slot-precise from the ticker
   * while running, else read from the clock. Two stores, not one of a
   * conditional: `a ? fieldDouble : call()` merges a raw double with a boxed
   * one, and V8 may then box the ticker's time on every record.
   */
  private stageTime(input: Float64Array): void {
    const t = this.ticker;
    if (t.running) input[0] = t.now;
    else input[0] = this.clock.now();
  }

  private isFailure(status: number): boolean {
    const classify = this.classify;
    if (classify === undefined) return status >= 500;
    try {
      const verdict: unknown = classify(status);
      if (verdict === null || (typeof verdict !== 'object' && typeof verdict !== 'function')) return !verdict;
      // An object is no verdict (a promise, from an async classifier): judge by the default, and never leave it to reject unhandled.
      containAsync(verdict);
      return status >= 500;
    } catch {
      return status >= 500;
    }
  }

  /** Rejections by field, names cut to {@link MAX_NAME_LENGTH} included. */
  private rejectedCounts(): Record<RejectReason, number> {
    const r = { ...this.rejectedBy };
    r.route += this.store.routeNamesCut;
    r.cache += this.store.cacheNamesCut;
    return r;
  }

  private reject(reason: RejectReason): void {
    this.rejectedTotal++;
    this.rejectedBy[reason]++;
  }

  private registerMetrics(prefix: string, defaultMetrics: boolean): void {
    const reg = this.registry;
    const store = this.store;
    const clock = this.clock;
    const metrics: [name: string, help: string, type: 'counter' | 'gauge' | 'histogram', collect: CollectFn, aggregator: ClusterAggregator][] = [];
    // Per series, the {route, method} labels are built once and reused on every scrape:
    // prom-client caches their escaped form by object identity, so a route is escaped once,
    // not on each of its bucket lines. Keyed by the window object, so it goes with the series.
    const seriesLabels = new WeakMap<LatencyWindow, Readonly<{ route: string; method: string }>>();
    const labelsOf = (name: string, s: LatencyWindow): Readonly<{ route: string; method: string }> => {
      let l = seriesLabels.get(s);
      if (l === undefined) {
        l = Object.freeze(routeLabels(name));
        seriesLabels.set(s, l);
      }
      return l;
    };
    const bounds = store.prom.boundsMs;
    const leLabels = Array.from(bounds, (b) => Object.freeze({ le: leLabel(b) }));
    const bucketName = `${prefix}request_duration_seconds_bucket`;
    const sumName = `${prefix}request_duration_seconds_sum`;
    const countName = `${prefix}request_duration_seconds_count`;
    const none = Object.freeze({});
    const success = Object.freeze({ outcome: 'success' });
    const failure = Object.freeze({ outcome: 'failure' });
    metrics.push([`${prefix}request_duration_seconds`, `Request duration of ${this.service} by route template and method.`, 'histogram', () => {
      const out: PromSample[] = [];
      const counts = new Float64Array(bounds.length);
      for (const [name, s] of store.routes) {
        const shared = labelsOf(name, s);
        s.promCounts(counts);
        let cum = 0;
        for (let i = 0; i < bounds.length; i++) {
          cum += counts[i]!;
          out.push({ metricName: bucketName, labels: leLabels[i]!, sharedLabels: shared, value: cum });
        }
        const c = s.cumulative;
        out.push({ metricName: sumName, labels: none, sharedLabels: shared, value: c.sumMs / 1000 });
        out.push({ metricName: countName, labels: none, sharedLabels: shared, value: c.requests });
      }
      return out;
    }, 'sum']);
    metrics.push([`${prefix}requests_total`, 'Requests by route template, method and outcome.', 'counter', () => {
      const out: PromSample[] = [];
      for (const [name, s] of store.routes) {
        const shared = labelsOf(name, s);
        const c = s.cumulative;
        out.push({ labels: success, sharedLabels: shared, value: c.requests - c.failures });
        out.push({ labels: failure, sharedLabels: shared, value: c.failures });
      }
      return out;
    }, 'sum']);
    metrics.push([`${prefix}requests_rate_limited_total`, 'Requests answered 429, by route template and method.', 'counter', () => {
      const out: PromSample[] = [];
      for (const [name, s] of store.routes) out.push({ labels: none, sharedLabels: labelsOf(name, s), value: s.cumulative.rateLimited });
      return out;
    }, 'sum']);
    metrics.push([`${prefix}cache_requests_total`, 'Cache lookups by cache and result.', 'counter', () => {
      const out: PromSample[] = [];
      for (const [cache, c] of store.caches) {
        out.push({ labels: { cache, result: 'hit' }, value: c.cumulative[HIT]! });
        out.push({ labels: { cache, result: 'miss' }, value: c.cumulative[MISS]! });
        out.push({ labels: { cache, result: 'error' }, value: c.cumulative[ERROR]! });
      }
      return out;
    }, 'sum']);
    metrics.push([`${prefix}actions_total`, 'Action executions by action and outcome.', 'counter', () => this.actions.executionSamples(), 'sum']);
    metrics.push([`${prefix}action_reverts_total`, 'Action reverts by action and outcome.', 'counter', () => this.actions.revertSamples(), 'sum']);
    metrics.push([`${prefix}records_rejected_total`, 'Records rejected for bad input, by field.', 'counter', () =>
      Object.entries(this.rejectedCounts()).map(([field, value]) => ({ labels: { field }, value })),
    'sum']);
    // SLO gauges are computed at scrape time without touching SLO transition state.
    let scrape: { at: number; slos: SloResult[] } | undefined;
    const slosAt = (): SloResult[] => {
      const now = clock.now();
      if (scrape === undefined || scrape.at !== now) scrape = { at: now, slos: this.evaluator.evaluate(now) };
      return scrape.slos;
    };
    // One unit per family, and one direction per ratio family, so that each has a single
    // meaningful cluster aggregator: the worst worker. A value without data is left out
    // (status says no-data): NaN would poison min/max across workers.
    const sloValues = (pick: (r: SloResult) => boolean, scale: number) => (): PromSample[] => {
      const out: PromSample[] = [];
      for (const r of slosAt()) if (pick(r) && r.value !== null) out.push({ labels: { slo: r.name, kind: r.kind }, value: r.value / scale });
      return out;
    };
    const inMs = (r: SloResult): boolean => r.unit === 'ms';
    metrics.push([`${prefix}slo_value_seconds`, 'Current value of latency and event-loop-delay SLOs, in seconds (cluster: the worst worker).', 'gauge',
      sloValues(inMs, 1000), 'max']);
    metrics.push([`${prefix}slo_value_ratio`, 'Current value of error-rate, memory and cpu SLOs, lower is better (cluster: the worst worker).', 'gauge',
      sloValues((r) => !inMs(r) && r.direction === 'max', 1), 'max']);
    metrics.push([`${prefix}slo_good_ratio`, 'Current value of success-rate and cache-hit-rate SLOs, higher is better (cluster: the worst worker).', 'gauge',
      sloValues((r) => !inMs(r) && r.direction === 'min', 1), 'min']);
    metrics.push([`${prefix}slo_target_seconds`, 'Threshold of latency and event-loop-delay SLOs, in seconds.', 'gauge', () =>
      slosAt().filter(inMs).map((r) => ({ labels: { slo: r.name, kind: r.kind }, value: r.target / 1000 })),
    'first']);
    metrics.push([`${prefix}slo_target_ratio`, 'Objective (good ratio SLOs) or maximum (the others) of ratio SLOs.', 'gauge', () =>
      slosAt().filter((r) => !inMs(r)).map((r) => ({ labels: { slo: r.name, kind: r.kind }, value: r.target })),
    'first']);
    metrics.push([`${prefix}slo_status`, 'SLO status: -1 no data, 0 ok, 1 warning, 2 breach (cluster: the worst worker).', 'gauge', () =>
      slosAt().map((r) => ({ labels: { slo: r.name, kind: r.kind }, value: STATUS_CODE[r.status] })),
    'max']);

    // A shared registry that already holds our names (another monitor, same
    // prefix) would otherwise fail halfway through registering.
    const taken = metrics.map(([name]) => name).filter((name) => reg.getSingleMetric(name) !== undefined);
    if (taken.length > 0) {
      throw new ConfigError('monitor options', [
        { path: 'prometheus.prefix', message: `the registry already holds ${taken.join(', ')}: give each monitor that shares a registry its own prefix` },
      ]);
    }
    for (const [name, help, type, collect, aggregator] of metrics) registerCollector(reg, name, help, type, collect, aggregator);
    registerControlMetrics(reg, prefix, this.controls);
    if (defaultMetrics) {
      try {
        collectDefaultMetrics({ register: reg });
      } catch (err) {
        throw new ConfigError('monitor options', [
          { path: 'prometheus.defaultMetrics', message: `could not register prom-client default metrics: ${(err as Error).message}` },
        ]);
      }
    }
  }
}

/**
 * True for a thenable, and for an object whose `then` getter throws: awaiting
 * either settles through `Promise.resolve`, which turns that throw into a
 * rejection instead of letting it escape `track()` synchronously.
 */
function isPromiseLike(v: unknown): v is PromiseLike<unknown> {
  if ((typeof v !== 'object' && typeof v !== 'function') || v === null) return false;
  try {
    return typeof (v as { then?: unknown }).then === 'function';
  } catch {
    return true;
  }
}

/**
 * Creates a monitor. Options are validated: invalid ones throw a
 * `ConfigError` naming every bad field.
 *
 * @example
 * ```ts
 * import { createMonitor } from 'firebreak';
 * const monitor = createMonitor({
 *   service: 'search-api',
 *   slos: [{ name: 'latency-p95', kind: 'latency', quantile: 0.95, thresholdMs: 800 }],
 * });
 * monitor.recordRequest({ route: 'GET /search', durationMs: 183, status: 200 });
 * monitor.evaluate();
 * ```
 */
export function createMonitor(options: MonitorOptions): Monitor {
  return new Monitor(options);
}

/** Indices of the `n` largest positive values of `xs`, largest first (ties: first seen first); O(len · n) at worst, O(len) typically. */
function topOf(xs: Float64Array, n: number): number[] {
  const out: number[] = [];
  for (let k = 0; k < xs.length; k++) {
    const v = xs[k]!;
    if (!(v > 0)) continue;
    if (out.length === n && v <= xs[out[n - 1]!]!) continue;
    let at = out.length === n ? n - 1 : out.length;
    while (at > 0 && xs[out[at - 1]!]! < v) at--;
    out.splice(at, 0, k);
    if (out.length > n) out.pop();
  }
  return out;
}

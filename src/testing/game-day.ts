import { z } from 'zod';
import { ConfigError, FirebreakError, nameErrorClass } from '../errors.js';
import { createMonitor, type Monitor } from '../monitor.js';
import type { MonitorOptions } from '../config.js';
import type { ResourceProbes } from '../metrics/process.js';
import type { ActionExecution } from '../actions/types.js';
import type { Fallback } from '../actions/controls/fallback.js';
import type { IncidentEventName } from '../incidents/config.js';
import { NOTIFY_EVENTS } from '../incidents/config.js';
import type { Incident, IncidentType, Severity } from '../incidents/types.js';
import { ManualClock } from './manual-clock.js';
import { Prng, sampleLatency, trafficSchema, type Behaviour, type TrafficSpec } from './traffic.js';

/** The heap limit the runner's memory probe reports (1 GB): `heapShare` and `bytesPerEntry` are read against it. */
export const GAME_DAY_HEAP_LIMIT = 1_000_000_000;

const share = z.number().min(0, 'must be ≥ 0').max(1, 'must be ≤ 1');

const memorySchema = z.strictObject({
  /** Heap used by everything but the cache, as a share of the heap limit: constant, or ramping across the phase. */
  heapShare: z.union([share, z.strictObject({ from: share, to: share })]),
  /** A guarded cache whose entries hold memory: each costs `bytesPerEntry` of the 1 GB heap. */
  cache: z.strictObject({ name: z.string().min(1).max(100), bytesPerEntry: z.number().nonnegative() }).optional(),
});

const streamShape = trafficSchema.shape;

/**
 * What a person does at a moment of a game day: the runbook's manual steps
 * (re-enable a cache once its node is fixed, restore a model…). `run` gets the
 * monitor under test; a promise it returns is awaited before time moves on.
 *
 * @example
 * ```ts
 * const reenable: OperatorStep = { afterMs: 0, name: 'on-call re-enables the cache', run: (m) => m.actions.execute('cache.enable', { params: { name: 'search' }, by: 'oncall' }) };
 * ```
 */
export interface OperatorStep {
  /** When, in milliseconds from the start of its phase (default 0; must be < the phase's `forMs`). */
  afterMs?: number | undefined;
  /** Shown in the timeline: `operator: <name>`. */
  name: string;
  /** What the person does. A throw or a rejected promise is recorded in the timeline (`operator step failed`), not rethrown. */
  run: (monitor: Monitor) => unknown;
}

const operatorSchema = z.strictObject({
  afterMs: z.number({ error: 'afterMs must be a number of milliseconds' }).int('afterMs must be whole milliseconds').nonnegative('afterMs must be ≥ 0').optional(),
  name: z.string().min(1, 'name must not be empty').max(200),
  run: z.custom<(monitor: Monitor) => unknown>((v) => typeof v === 'function', { message: 'run must be a function (monitor) => …' }),
});

/** A phase: how long it lasts, the traffic and the faults in it. */
export const phaseSchema = z
  .strictObject({
    /** How long the phase lasts on the fake clock. */
    forMs: z.number({ error: 'forMs must be a number of milliseconds' }).int('forMs must be whole milliseconds').positive('forMs must be > 0'),
    /** Marks the phase as part of the fault: `openedWithin` counts from the first fault phase, `resolved` from the end of the last one. */
    fault: z.boolean().optional(),
    /** Streams of requests (or give one stream's fields inline: `route`, `rps`, …). */
    traffic: z.array(trafficSchema).max(50).optional(),
    /** What the runner's memory probe reads during the phase (absent: as at the end of the previous phase). */
    memory: memorySchema.optional(),
    /** Health checks the runner registers, by name: `false` fails the check during the phase (unnamed ones pass). */
    health: z.record(z.string().min(1).max(100), z.boolean()).optional(),
    /** What a person does during the phase, at `afterMs` from its start. */
    operator: z.array(operatorSchema).max(50).optional(),
    ...Object.fromEntries(Object.entries(streamShape).map(([k, v]) => [k, v.optional()])),
  })
  .superRefine((p, ctx) => {
    (p.operator ?? []).forEach((o, i) => {
      if ((o.afterMs ?? 0) >= p.forMs) ctx.addIssue({ code: 'custom', path: ['operator', i, 'afterMs'], message: `afterMs must be < the phase's forMs (${p.forMs})` });
    });
    const inline = Object.keys(streamShape).some((k) => (p as Record<string, unknown>)[k] !== undefined);
    if (!inline) return;
    for (const k of ['route', 'rps'] as const) {
      if ((p as Record<string, unknown>)[k] === undefined) ctx.addIssue({ code: 'custom', path: [k], message: `${k} is required when a stream is given inline` });
    }
  });

type MemorySpec = z.output<typeof memorySchema>;
type Stream = z.output<typeof trafficSchema>;
type ParsedPhase = {
  forMs: number;
  fault?: boolean | undefined;
  traffic?: Stream[] | undefined;
  memory?: MemorySpec | undefined;
  health?: Record<string, boolean> | undefined;
  operator?: OperatorStep[] | undefined;
} & Partial<Stream>;

/**
 * One phase of a game day, as written: `forMs`, optional `fault`, traffic
 * (inline fields of one stream, or `traffic: [...]`), `memory`, `health`, and
 * `operator` (what a person does during the phase).
 *
 * @example
 * ```ts
 * const outage: PhaseSpec = { forMs: 5 * 60_000, fault: true, route: 'GET /search', rps: 20, errorShare: 1 };
 * ```
 */
export type PhaseSpec = {
  forMs: number;
  fault?: boolean | undefined;
  traffic?: readonly TrafficSpec[] | undefined;
  memory?: z.input<typeof memorySchema> | undefined;
  health?: Record<string, boolean> | undefined;
  operator?: readonly OperatorStep[] | undefined;
} & Partial<TrafficSpec>;

/**
 * A ready-made game day: its phases, and what the runbook says should happen.
 * `scenarios.*` build them; pass one to {@link GameDay.scenario}.
 *
 * @example
 * ```ts
 * const s: Scenario = { name: 'custom', type: 'high-error-rate', mitigation: 'feature.emergency-stop', phases: [{ name: 'outage', forMs: 60_000, fault: true, route: 'GET /', rps: 10, errorShare: 1 }] };
 * ```
 */
export interface Scenario {
  /** Shown in the timeline. */
  name: string;
  /** The incident type the scenario should open. */
  type: IncidentType;
  /** The scope the incident should carry, when the scenario knows it (`fallback:ranker`…). */
  scope?: string;
  /** The action the runbook's playbook applies automatically, if any. */
  mitigation?: string;
  /** The phases, in order. */
  phases: readonly (PhaseSpec & { name: string })[];
}

/**
 * What the runner gives the monitor factory besides the clock: probes that
 * read the scenario's memory and report no CPU or event-loop noise from the
 * test process. Pass them to `createMonitor({ probes })`.
 */
export interface GameDayEnv {
  probes: ResourceProbes;
}

/**
 * Options of {@link gameDay}.
 *
 * @example
 * ```ts
 * const opts: GameDayOptions = { monitor: (clock, { probes }) => createMonitor({ service: 'api', preset: 'runbook', clock, probes }), seed: 7 };
 * ```
 */
export interface GameDayOptions {
  /**
   * The monitor under test, configured like production: a factory that
   * receives the runner's clock (and probes), or monitor options to which the
   * runner adds `clock` and `probes`.
   */
  monitor: ((clock: ManualClock, env: GameDayEnv) => Monitor) | Omit<MonitorOptions, 'clock'>;
  /** PRNG seed: the same seed replays the same requests (default 1). */
  seed?: number;
  /** Traffic is generated, then the clock advanced, in steps of this length (default 1000 ms). */
  stepMs?: number;
  /** Clock start (epoch ms; default 2026-01-01T00:00:00Z). */
  start?: number;
  /** Events that count as a page (default: `incident:opened` and `incident:reopened`, the events notifiers render as alerts). */
  pageOn?: readonly IncidentEventName[];
}

const optionsSchema = z.strictObject({
  monitor: z.custom<GameDayOptions['monitor']>((v) => typeof v === 'function' || (typeof v === 'object' && v !== null), {
    message: 'monitor must be a factory (clock, env) => Monitor or monitor options',
  }),
  seed: z.number().int().optional(),
  stepMs: z.number().int().positive().max(60_000).optional(),
  start: z.number().int().nonnegative().optional(),
  pageOn: z.array(z.enum(NOTIFY_EVENTS)).optional(),
});

/**
 * One line of a game day's timeline.
 *
 * @example
 * ```ts
 * result.timeline.filter((e) => e.kind === 'page').map((e) => e.t);
 * ```
 */
export interface TimelineEvent {
  /** Milliseconds since the game day started. */
  t: number;
  kind: 'phase' | 'detected' | 'page' | 'opened' | 'escalated' | 'resolved' | 'reopened' | 'action' | 'action-failed' | 'reverted' | 'note' | 'operator';
  text: string;
  incidentId?: string;
}

/** Thrown by a failed game-day expectation; the message ends with the scenario's timeline. */
export class GameDayAssertionError extends FirebreakError {
  static {
    nameErrorClass(this, 'GameDayAssertionError');
  }

  /** The timeline, as printed in the message. */
  readonly timeline: readonly TimelineEvent[];

  constructor(message: string, timeline: readonly TimelineEvent[]) {
    super('GAME_DAY_ASSERTION', `${message}\n\nTimeline:\n${formatTimeline(timeline)}`);
    this.timeline = timeline;
  }
}

function seconds(ms: number): string {
  const s = ms / 1000;
  return Number.isInteger(s) ? `${s}s` : `${s.toFixed(3).replace(/0+$/, '')}s`;
}

/**
 * Renders a timeline, one event per line: `t+670s  PAGE  incident opened …`.
 *
 * @example
 * ```ts
 * console.log(formatTimeline(result.timeline));
 * ```
 */
export function formatTimeline(timeline: readonly TimelineEvent[]): string {
  if (timeline.length === 0) return '  (nothing happened)';
  const width = Math.max(...timeline.map((e) => seconds(e.t).length));
  return timeline.map((e) => `  t+${seconds(e.t).padStart(width)}  ${e.kind === 'page' ? 'PAGE  ' : ''}${e.text}`).join('\n');
}

interface PhaseRecord {
  name: string;
  start: number;
  end: number;
  fault: boolean;
}

/**
 * What a game day produced: the monitor (stopped), the timeline, the pages,
 * and expectations that print the timeline when they fail.
 */
export class GameDayResult {
  /** The monitor under test, stopped after the last phase. */
  readonly monitor: Monitor;
  /** The clock the game day ran on. */
  readonly clock: ManualClock;
  /** Clock time at which the first phase started. */
  readonly startedAt: number;
  /** Every event, in order. */
  readonly timeline: readonly TimelineEvent[];
  /** The phases with their clock times (ms since the start). */
  readonly phases: readonly PhaseRecord[];
  private readonly pageList: readonly { t: number; event: IncidentEventName; incident: Incident }[];
  private readonly opened: ReadonlyMap<string, Severity>;

  /** @internal */
  constructor(init: {
    monitor: Monitor;
    clock: ManualClock;
    startedAt: number;
    timeline: TimelineEvent[];
    phases: PhaseRecord[];
    pages: { t: number; event: IncidentEventName; incident: Incident }[];
    opened: ReadonlyMap<string, Severity>;
  }) {
    this.opened = init.opened;
    this.monitor = init.monitor;
    this.clock = init.clock;
    this.startedAt = init.startedAt;
    this.timeline = init.timeline;
    this.phases = init.phases;
    this.pageList = init.pages;
  }

  /** Every page sent (in order), with the incident as it was paged. */
  get pages(): readonly { t: number; event: IncidentEventName; incident: Incident }[] {
    return this.pageList;
  }

  /** Every incident the game day opened (from the monitor's store). */
  incidents(): Incident[] {
    return this.monitor.incidents.list();
  }

  /** The timeline as text (what a failed expectation prints). */
  format(): string {
    return formatTimeline(this.timeline);
  }

  /** Throws unless no page was sent at all (a baseline that must stay quiet). */
  expectNoPage(): this {
    if (this.pageList.length > 0) this.fail(`expected no page, got ${this.pageList.length}`);
    return this;
  }

  /**
   * Selects the first incident matching `match` for chained expectations;
   * throws when none opened.
   *
   * @example
   * ```ts
   * result.expect({ type: 'high-error-rate' }).openedWithin(70_000).pages(1).resolved().reverted();
   * ```
   */
  expect(match: { type: IncidentType; scope?: string; severity?: Severity }): IncidentExpectation {
    const found = this.incidents()
      .filter((i) => i.type === match.type && (match.scope === undefined || i.scope === match.scope) && (match.severity === undefined || i.severity === match.severity))
      .sort((a, b) => a.openedAt - b.openedAt)[0];
    if (found === undefined) this.fail(`expected an incident ${describeMatch(match)}, none opened`);
    return new IncidentExpectation(this, found);
  }

  /** @internal The severity an incident had when it opened (or reopened last). */
  openedSeverity(id: string): Severity | undefined {
    return this.opened.get(id);
  }

  /** @internal Start (ms since start) of the phase named `name`, or of the first fault phase. */
  phaseStart(name: string | undefined): number {
    if (name !== undefined) {
      const p = this.phases.find((x) => x.name === name);
      if (p === undefined) throw new ConfigError('game day expectation', [{ path: 'since', message: `no phase named "${name}" (phases: ${this.phases.map((x) => x.name).join(', ')})` }]);
      return p.start;
    }
    return this.phases.find((p) => p.fault)?.start ?? 0;
  }

  /** @internal End (ms since start) of the last fault phase, or of the game day. */
  faultEnd(): number {
    const faults = this.phases.filter((p) => p.fault);
    return faults.at(-1)?.end ?? this.phases.at(-1)?.end ?? 0;
  }

  /** @internal */
  fail(message: string): never {
    throw new GameDayAssertionError(message, this.timeline);
  }
}

function describeMatch(m: { type: string; scope?: string; severity?: string }): string {
  return `of type ${m.type}${m.scope === undefined ? '' : ` on ${m.scope}`}${m.severity === undefined ? '' : ` at ${m.severity}`}`;
}

/**
 * Chained expectations on one incident of a game day. Each throws a
 * {@link GameDayAssertionError} (the timeline in its message) or returns
 * `this`. Times are clock milliseconds.
 */
export class IncidentExpectation {
  /** The incident, as it is at the end of the game day. */
  readonly incident: Incident;
  private readonly result: GameDayResult;

  /** @internal */
  constructor(result: GameDayResult, incident: Incident) {
    this.result = result;
    this.incident = incident;
  }

  private rel(at: number): number {
    return at - this.result.startedAt;
  }

  private what(): string {
    return `incident ${this.incident.type} on ${this.incident.scope}`;
  }

  /**
   * Opened no earlier than the start of the first fault phase (or `since`)
   * and at most `ms` after it: a page before the fault is a false page.
   */
  openedWithin(ms: number, options: { since?: string } = {}): this {
    const ref = this.result.phaseStart(options.since);
    const t = this.rel(this.incident.openedAt);
    if (t < ref) this.result.fail(`expected ${this.what()} to open after the fault started at t+${seconds(ref)}, it opened at t+${seconds(t)}`);
    if (t - ref > ms) this.result.fail(`expected ${this.what()} to open within ${seconds(ms)} of t+${seconds(ref)}, it opened after ${seconds(t - ref)} (t+${seconds(t)})`);
    return this;
  }

  /** Opened at this severity. */
  openedAs(severity: Severity): this {
    const first = this.result.openedSeverity(this.incident.id);
    if (first !== severity) this.result.fail(`expected ${this.what()} to open at ${severity}, it opened at ${String(first)}`);
    return this;
  }

  /** Exactly `n` pages were sent during the whole game day (one cause, one page: any other incident's page counts too). */
  pages(n: number): this {
    const got = this.result.pages.length;
    if (got !== n) this.result.fail(`expected ${n} page(s) in the game day, got ${got}`);
    return this;
  }

  /** `action` succeeded on this incident (not a no-op) within `ms` of its opening. */
  mitigatedBy(action: string, ms: number): this {
    const ex = this.executions().find((e) => e.action === action && e.outcome === 'success');
    if (ex === undefined) {
      const tried = this.executions().map((e) => `${e.action} (${e.outcome})`);
      this.result.fail(`expected ${this.what()} to be mitigated by ${action}; ${tried.length === 0 ? 'no action ran' : `actions: ${tried.join(', ')}`}`);
    }
    const after = ex.startedAt - this.incident.openedAt;
    if (after > ms) this.result.fail(`expected ${action} within ${seconds(ms)} of the opening, it ran after ${seconds(after)}`);
    return this;
  }

  /** No action ran automatically on this incident (it is handed to a person). */
  notMitigated(): this {
    const auto = this.executions().filter((e) => e.source === 'auto');
    if (auto.length > 0) this.result.fail(`expected no automatic action on ${this.what()}, got ${auto.map((e) => e.action).join(', ')}`);
    return this;
  }

  /** Resolved by the end; with `ms`, within `ms` of the end of the last fault phase. */
  resolved(ms?: number): this {
    const at = this.incident.resolvedAt;
    if (this.incident.status !== 'resolved' || at === undefined) this.result.fail(`expected ${this.what()} to be resolved by the end, it is ${this.incident.status}`);
    if (ms !== undefined) {
      const end = this.result.faultEnd();
      const after = this.rel(at) - end;
      if (after > ms) this.result.fail(`expected ${this.what()} to resolve within ${seconds(ms)} of the fault's end (t+${seconds(end)}), it resolved at t+${seconds(this.rel(at))}`);
    }
    return this;
  }

  /**
   * Everything applied automatically on this incident was reverted
   * successfully after it resolved; with `ms`, within `ms` of the resolution.
   */
  reverted(ms?: number): this {
    const auto = this.executions().filter((e) => e.source === 'auto' && e.outcome === 'success');
    if (auto.length === 0) this.result.fail(`expected reverts on ${this.what()}, but nothing was applied automatically`);
    const resolvedAt = this.incident.resolvedAt;
    for (const e of auto) {
      if (e.revert === undefined || e.revert.outcome !== 'success') {
        this.result.fail(`expected ${e.action} (${e.id}) to be reverted, ${e.revert === undefined ? 'it was not' : `its revert ended ${e.revert.outcome}`}`);
      }
      if (resolvedAt === undefined || e.revert.at < resolvedAt) this.result.fail(`expected ${e.action} to be reverted after the resolution, it was reverted at t+${seconds(this.rel(e.revert.at))}`);
      if (ms !== undefined && e.revert.at - resolvedAt > ms) this.result.fail(`expected ${e.action} reverted within ${seconds(ms)} of the resolution, it took ${seconds(e.revert.at - resolvedAt)}`);
    }
    return this;
  }

  private executions(): ActionExecution[] {
    return this.result.monitor.actions.executions({ incidentId: this.incident.id });
  }
}

interface StreamState {
  spec: Stream;
  carry: number;
  next: number;
  keys: string[];
}

/**
 * A game day under construction: add phases (or a ready-made scenario),
 * then `run()`.
 */
export class GameDay {
  private readonly opts: GameDayOptions;
  private readonly phases: { name: string; spec: ParsedPhase }[] = [];

  /** @internal Use {@link gameDay}. */
  constructor(options: GameDayOptions) {
    const parsed = optionsSchema.safeParse(options);
    if (!parsed.success) throw ConfigError.fromZod('game day options', parsed.error);
    this.opts = options;
  }

  /**
   * Adds a phase. Throws a `ConfigError` naming the bad field.
   *
   * @example
   * ```ts
   * day.phase('outage', { forMs: 5 * 60_000, fault: true, route: 'GET /search', rps: 20, errorShare: 1 });
   * ```
   */
  phase(name: string, spec: PhaseSpec): this {
    if (typeof name !== 'string' || name.length === 0) throw new ConfigError('game day phase', [{ path: 'name', message: 'name must be a non-empty string' }]);
    const parsed = phaseSchema.safeParse(spec);
    if (!parsed.success) throw ConfigError.fromZod(`game day phase "${name}"`, parsed.error);
    this.phases.push({ name, spec: parsed.data as ParsedPhase });
    return this;
  }

  /** Adds every phase of a ready-made scenario. */
  scenario(s: Scenario): this {
    for (const { name, ...spec } of s.phases) this.phase(`${s.name}/${name}`, spec);
    return this;
  }

  /** Runs every phase on a fresh ManualClock and resolves with the result; the monitor is stopped at the end. */
  async run(): Promise<GameDayResult> {
    if (this.phases.length === 0) throw new ConfigError('game day', [{ path: 'phases', message: 'add at least one phase' }]);
    return new Runner(this.opts, this.phases).run();
  }
}

/**
 * Starts a game day: traffic phases and faults over fake time against a
 * monitor configured like production.
 *
 * @example
 * ```ts
 * const result = await gameDay({ monitor: (clock, { probes }) => createMonitor({ service: 'api', preset: 'runbook', autoRemediate: true, clock, probes }) })
 *   .phase('baseline', { forMs: 600_000, route: 'GET /search', rps: 20, latency: { medianMs: 80, p99Ms: 400 } })
 *   .phase('outage', { forMs: 300_000, fault: true, route: 'GET /search', rps: 20, errorShare: 1, feature: { name: 'rerank', whenEnabled: { errorShare: 1 } } })
 *   .run();
 * result.expect({ type: 'high-error-rate' }).openedWithin(70_000).pages(1).mitigatedBy('feature.emergency-stop', 10_000);
 * ```
 */
export function gameDay(options: GameDayOptions): GameDay {
  return new GameDay(options);
}

class Runner {
  private readonly clock: ManualClock;
  private readonly rng: Prng;
  private readonly stepMs: number;
  private readonly pageOn: ReadonlySet<string>;
  private readonly timeline: TimelineEvent[] = [];
  private readonly pages: { t: number; event: IncidentEventName; incident: Incident }[] = [];
  private readonly health = new Map<string, boolean>();
  private memory: MemorySpec = { heapShare: 0.3 };
  private memoryPhase = { start: 0, forMs: 1 };
  private monitor!: Monitor;
  private t0 = 0;
  private current: Behaviour = {};
  private primaryCost = 0;
  private readonly openedAs = new Map<string, Severity>();

  constructor(
    private readonly opts: GameDayOptions,
    private readonly phases: readonly { name: string; spec: ParsedPhase }[],
  ) {
    this.clock = new ManualClock(opts.start);
    this.rng = new Prng(opts.seed ?? 1);
    this.stepMs = opts.stepMs ?? 1000;
    this.pageOn = new Set(opts.pageOn ?? ['incident:opened', 'incident:reopened']);
  }

  private push(kind: TimelineEvent['kind'], text: string, incidentId?: string): void {
    const e: TimelineEvent = { t: this.clock.now() - this.t0, kind, text };
    if (incidentId !== undefined) e.incidentId = incidentId;
    this.timeline.push(e);
  }

  private probes(): ResourceProbes {
    return {
      memory: () => {
        const m = this.memory;
        const p = Math.min(1, Math.max(0, (this.clock.now() - this.memoryPhase.start) / this.memoryPhase.forMs));
        const base = typeof m.heapShare === 'number' ? m.heapShare : m.heapShare.from + (m.heapShare.to - m.heapShare.from) * p;
        let heapUsed = base * GAME_DAY_HEAP_LIMIT;
        if (m.cache !== undefined) heapUsed += (this.monitor.controls.caches.get(m.cache.name)?.stats().size ?? 0) * m.cache.bytesPerEntry;
        return { heapUsed, heapLimit: GAME_DAY_HEAP_LIMIT, rss: heapUsed, rssLimit: GAME_DAY_HEAP_LIMIT * 4 };
      },
      cpuMicros: () => 0,
      eventLoopDelayP99: () => null,
      start: () => {},
      stop: () => {},
    };
  }

  async run(): Promise<GameDayResult> {
    const env: GameDayEnv = { probes: this.probes() };
    const m = this.opts.monitor;
    this.t0 = this.clock.now();
    this.monitor = typeof m === 'function' ? m(this.clock, env) : createMonitor({ ...m, clock: this.clock, probes: { ...env.probes, ...m.probes } });
    if (this.monitor.clock !== this.clock) {
      throw new ConfigError('game day options', [{ path: 'monitor', message: 'the monitor must use the clock the runner passes to the factory' }]);
    }
    this.listen();
    this.prepareHealth();
    const streams = new Map<Stream, StreamState>();
    const records: PhaseRecord[] = [];
    this.monitor.start();
    for (const { name, spec } of this.phases) {
      const start = this.clock.now() - this.t0;
      this.push('phase', `phase "${name}" starts${spec.fault === true ? ' (fault)' : ''}`);
      this.enterPhase(spec);
      const list = this.streamsOf(spec).map((s) => {
        let st = streams.get(s);
        if (st === undefined) {
          st = { spec: s, carry: 0, next: 0, keys: keysFor(s) };
          streams.set(s, st);
        }
        this.ensureControls(s);
        return st;
      });
      // Operator steps run before the traffic of their instant; a step boundary is placed on each.
      const ops = [...(spec.operator ?? [])].sort((a, b) => (a.afterMs ?? 0) - (b.afterMs ?? 0));
      let op = 0;
      let elapsed = 0;
      while (elapsed < spec.forMs) {
        while (op < ops.length && (ops[op]!.afterMs ?? 0) <= elapsed) await this.operate(ops[op++]!);
        const step = Math.min(this.stepMs, spec.forMs - elapsed, op < ops.length ? (ops[op]!.afterMs ?? 0) - elapsed : Infinity);
        for (const st of list) {
          st.carry += (st.spec.rps * step) / 1000;
          const n = Math.floor(st.carry + 1e-9);
          st.carry -= n;
          for (let i = 0; i < n; i++) await this.serve(st);
        }
        await this.clock.advanceAsync(step);
        elapsed += step;
      }
      records.push({ name, start, end: this.clock.now() - this.t0, fault: spec.fault === true });
    }
    await this.monitor.remediation.settled();
    this.monitor.stop();
    this.addIncidentDetails();
    return new GameDayResult({ monitor: this.monitor, clock: this.clock, startedAt: this.t0, timeline: this.timeline, phases: records, pages: this.pages, opened: this.openedAs });
  }

  private async operate(step: OperatorStep): Promise<void> {
    this.push('operator', `operator: ${step.name}`);
    try {
      await step.run(this.monitor);
    } catch (err) {
      // A scenario's person making a mistake is part of the story: recorded, and the game day goes on.
      this.push('operator', `operator step failed: ${step.name}: ${err instanceof Error ? err.message : String(err)}`);
    }
  }

  private streamsOf(spec: ParsedPhase): Stream[] {
    const out: Stream[] = [...(spec.traffic ?? [])];
    // The inline stream is cached on the spec so its fractional carry survives across phases sharing it.
    if (spec.route !== undefined && spec.rps !== undefined) {
      const inline = spec as unknown as { __stream?: Stream };
      if (inline.__stream === undefined) {
        const s: Record<string, unknown> = {};
        for (const k of Object.keys(streamShape)) if ((spec as Record<string, unknown>)[k] !== undefined) s[k] = (spec as Record<string, unknown>)[k];
        inline.__stream = s as Stream;
      }
      out.unshift(inline.__stream);
    }
    return out;
  }

  private enterPhase(spec: ParsedPhase): void {
    const now = this.clock.now();
    if (spec.memory !== undefined) {
      this.memory = spec.memory;
    } else if (typeof this.memory.heapShare !== 'number') {
      // Absent: memory holds where the previous phase left it.
      this.memory = { ...this.memory, heapShare: this.memory.heapShare.to };
    }
    this.memoryPhase = { start: now, forMs: spec.forMs };
    for (const k of this.health.keys()) this.health.set(k, spec.health?.[k] ?? true);
  }

  private prepareHealth(): void {
    const names = new Set<string>();
    for (const { spec } of this.phases) for (const k of Object.keys(spec.health ?? {})) names.add(k);
    for (const n of names) {
      this.health.set(n, true);
      this.monitor.healthCheck(n, () => this.health.get(n) ?? true, { critical: true });
    }
  }

  private ensureControls(s: Stream): void {
    const mon = this.monitor;
    const c = mon.controls;
    if (s.feature !== undefined && !c.features.has(s.feature.name)) mon.feature(s.feature.name, { risky: s.feature.risky ?? true });
    if (s.cache !== undefined && !c.caches.has(s.cache.name)) mon.cache<string, number>(s.cache.name, { max: 1_000_000 });
    if (s.canary !== undefined && !c.canaries.has(s.canary.name)) {
      mon.canary(s.canary.name, { percent: s.canary.percent ?? 10, ...(s.canary.probe === undefined ? {} : { probe: s.canary.probe }) });
    }
    if (s.limiter !== undefined && !c.rateLimiters.has(s.limiter.name)) {
      mon.rateLimiter(s.limiter.name, { maxRequests: s.limiter.maxRequests ?? 100, windowSeconds: s.limiter.windowSeconds ?? 60 });
    }
    if (s.fallback !== undefined) {
      const f = c.fallbacks.get(s.fallback.name) as (Fallback & { __gameDay?: true }) | undefined;
      if (f === undefined) {
        const timeoutMs = s.fallback.timeoutMs;
        const created = mon.fallback<[], number>(s.fallback.name, {
          // The primary behaves as the stream being served says: read from the runner, not captured.
          primary: () => {
            const b = this.current;
            const ms = sampleLatency(b.latency ?? { fixedMs: 50 }, this.rng);
            if (timeoutMs !== undefined && ms > timeoutMs) {
              this.primaryCost = timeoutMs;
              throw new Error('simulated primary timeout');
            }
            if (this.rng.next() < (b.errorShare ?? 0)) {
              this.primaryCost = ms;
              throw new Error('simulated primary failure');
            }
            return ms;
          },
          fallback: () => -1,
          ...(s.fallback.probe === undefined ? {} : { probe: s.fallback.probe }),
        }) as Fallback & { __gameDay?: true };
        created.__gameDay = true;
      } else if (f.__gameDay !== true) {
        throw new ConfigError('game day phase', [
          { path: 'fallback.name', message: `the monitor already has a fallback "${s.fallback.name}": the game day simulates its primary, so leave creating it to the runner` },
        ]);
      }
    }
  }

  private async serve(st: StreamState): Promise<void> {
    const s = st.spec;
    const mon = this.monitor;
    const c = mon.controls;
    const key = st.keys[st.next++ % st.keys.length]!;
    if (s.limiter !== undefined) {
      const l = c.rateLimiters.get(s.limiter.name);
      if (l !== undefined && !l.check(key).allowed) {
        mon.recordRequest({ route: s.route, durationMs: 1, status: 429 });
        return;
      }
    }
    let b: Behaviour = s;
    if (s.feature !== undefined && c.features.get(s.feature.name)?.isEnabled() === true) b = { ...b, ...s.feature.whenEnabled };
    let arm: 'canary' | 'stable' | undefined;
    if (s.canary !== undefined) {
      arm = c.canaries.get(s.canary.name)?.assign(key);
      if (arm === 'canary') b = { ...b, ...s.canary.arm };
    }
    if (s.cache !== undefined) {
      const cache = c.caches.get(s.cache.name);
      if (cache !== undefined) {
        if (this.rng.next() < s.cache.hitShare) {
          if (cache.get('warm') === undefined) cache.set('warm', 1);
        } else {
          const k = `${key}:${st.next}`;
          cache.get(k);
          if (s.cache.retain === true) cache.set(k, 1);
        }
      }
    }
    let durationMs = 0;
    if (s.fallback !== undefined) {
      const f = c.fallbacks.get(s.fallback.name) as Fallback<[], number> | undefined;
      if (f !== undefined) {
        this.current = s.fallback.primary;
        this.primaryCost = 0;
        const answer = await f.run();
        if (answer >= 0) {
          mon.recordRequest({ route: s.route, durationMs: answer, status: 200 });
          return;
        }
        // The fallback answered (forced, or the primary failed): the primary's wasted time, then the stream's own behaviour.
        durationMs = this.primaryCost;
      }
    }
    durationMs += sampleLatency(b.latency ?? { fixedMs: 50 }, this.rng);
    const failed = this.rng.next() < (b.errorShare ?? 0);
    const status = failed ? (b.errorStatus ?? 500) : 200;
    if (arm !== undefined && s.canary !== undefined) c.canaries.get(s.canary.name)?.record(arm, { route: s.route, durationMs, status });
    else mon.recordRequest({ route: s.route, durationMs, status });
  }

  private listen(): void {
    const mon = this.monitor;
    const inc = (i: Incident) => `${i.type} (${i.severity}) on ${i.scope}: ${i.summary}`;
    const page = (event: IncidentEventName, i: Incident): boolean => {
      if (!this.pageOn.has(event)) return false;
      this.pages.push({ t: this.clock.now() - this.t0, event, incident: i });
      return true;
    };
    mon.on('incident:opened', (i) => this.openedAs.set(i.id, i.severity));
    mon.on('incident:reopened', (i) => this.openedAs.set(i.id, i.severity));
    mon.on('incident:opened', (i) => this.push(page('incident:opened', i) ? 'page' : 'opened', `incident opened ${inc(i)}`, i.id));
    mon.on('incident:reopened', (i) => this.push(page('incident:reopened', i) ? 'page' : 'reopened', `incident reopened ${inc(i)}`, i.id));
    mon.on('incident:escalated', (i) => this.push(page('incident:escalated', i) ? 'page' : 'escalated', `incident escalated to ${i.severity}: ${i.type} on ${i.scope}`, i.id));
    mon.on('incident:resolved', (i) => this.push('resolved', `incident resolved ${i.type} on ${i.scope}`, i.id));
    const ex = (e: ActionExecution) => `${e.action}${Object.keys(e.params).length === 0 ? '' : ` ${JSON.stringify(e.params)}`} by ${e.by} (${e.source}, ${e.outcome})`;
    mon.on('action:executed', (e) => this.push('action', `action applied ${ex(e)}`, e.incidentId));
    mon.on('action:failed', (e) => this.push('action-failed', `action failed ${ex(e)}${e.error === undefined ? '' : `: ${e.error}`}`, e.incidentId));
    mon.on('action:reverted', (e) => this.push('reverted', `action reverted ${e.action} (${e.revert?.outcome ?? 'unknown'})`, e.incidentId));
  }

  /** Detection times and remediation notes only the incidents' own timelines know. */
  private addIncidentDetails(): void {
    for (const i of this.monitor.incidents.list()) {
      this.timeline.push({ t: i.detectedAt - this.t0, kind: 'detected', text: `condition detected: ${i.type} on ${i.scope}`, incidentId: i.id });
      for (const e of i.timeline) if (e.kind === 'note' && e.by === 'firebreak') this.timeline.push({ t: e.at - this.t0, kind: 'note', text: `note: ${e.message}`, incidentId: i.id });
    }
    const order = new Map(this.timeline.map((e, idx) => [e, idx]));
    // Stable by time; a detection sorts before what happened at the same instant.
    this.timeline.sort((a, b) => a.t - b.t || (a.kind === 'detected' ? -1 : 0) - (b.kind === 'detected' ? -1 : 0) || order.get(a)! - order.get(b)!);
  }
}

function keysFor(s: Stream): string[] {
  if (s.limiter?.key !== undefined) return [s.limiter.key];
  const n = s.limiter?.keys ?? 100;
  return Array.from({ length: n }, (_, i) => `client-${i}`);
}



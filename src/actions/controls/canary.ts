import { z } from 'zod';
import type { Clock } from '../../clock.js';
import { ConfigError, ValidationError } from '../../errors.js';
import type { RouteStats } from '../../metrics/series-store.js';
import type { ActionRegistry } from '../registry.js';
import { fnv1a, FNV_OFFSET } from './hash.js';
import { canaryDetectorSchema } from './detector-options.js';
import { namedParams, pick } from './named.js';
import { num, str, type ChangeLatch, type SharedState } from '../../change-latch.js';

/**
 * Probes of an emergency-stopped canary: a small share of requests still goes
 * to the canary arm (half-open, as a circuit breaker), so a recovered canary
 * is seen and the canary-failure incident can resolve — and its automatic
 * stop be reverted — by itself. Off by default (`false`): a probe sends real
 * users to a canary known to be failing; opt in per canary.
 */
export const canaryProbeSchema = z
  .union([
    z.literal(false),
    z.strictObject({
      /** Share of requests sent to the canary while stopped (0.01: one in a hundred), never more than its configured percent. */
      share: z.number({ error: 'share must be a number' }).gt(0, 'share must be > 0').lte(1, 'share must be ≤ 1').default(0.01),
      /** Least time between two probes. */
      minIntervalMs: z.number({ error: 'minIntervalMs must be a number' }).int().nonnegative().max(3_600_000).default(1_000),
      /** Probe requests (and stable requests over the same time) needed before they count as a reading. */
      minSamples: z.number({ error: 'minSamples must be a number' }).int().positive().max(10_000).default(5),
    }),
  ])
  .default(false);

/** Request totals of an arm since its series was created (what a {@link CanaryHost} reports). */
export interface ArmTotals {
  requests: number;
  failures: number;
  sumMs: number;
}

/**
 * What the probes of a stopped canary saw, next to stable over the same time:
 * totals since the stop (or since the last unhealthy batch was dropped).
 */
export interface CanaryProbeReading {
  canary: ArmTotals;
  stable: ArmTotals;
}

/**
 * Number of assignment buckets: percent has a resolution of 0.01.
 *
 * @example
 * ```ts
 * const inCanary = canary.bucket(userId) < canary.percent * (CANARY_BUCKETS / 100);
 * ```
 */
export const CANARY_BUCKETS = 10_000;

/** Options of `monitor.canary(name, opts)`. */
export const canaryOptionsSchema = z
  .strictObject({
    /** Share of keys sent to the canary, 0–100 (resolution 0.01). */
    percent: z.number({ error: 'percent must be a number' }).min(0, 'percent must be ≥ 0').max(100, 'percent must be ≤ 100').default(0),
    /**
     * Arm labels of the request series (`monitor.recordRequest({ arm })`).
     * Defaults to `canary` / `stable`; give distinct labels when several
     * canaries run at once.
     */
    series: z
      .strictObject({
        canary: z.string().min(1).max(100).default('canary'),
        stable: z.string().min(1).max(100).default('stable'),
      })
      .default({ canary: 'canary', stable: 'stable' })
      .refine((s) => s.canary !== s.stable, { message: 'canary and stable series must differ' }),
    description: z.string().max(500).optional(),
    /** The canary-failure detector comparing the arms (`false`: none). */
    detector: canaryDetectorSchema,
    /** Probes to the canary arm while emergency-stopped (`false`, the default: none). */
    probe: canaryProbeSchema,
  })
  .default({
    probe: false,
    percent: 0,
    series: { canary: 'canary', stable: 'stable' },
    detector: { minSamples: 20, successDrop: { medium: 0.005, high: 0.01, critical: 0.05 }, p95Ratio: { medium: 1.5, high: 2, critical: 4 } },
  });
/**
 * Options of `monitor.canary(name, opts)`.
 *
 * @example
 * ```ts
 * monitor.canary('new-index', { percent: 5, series: { canary: 'index-new', stable: 'index-old' } });
 * ```
 */
export type CanaryOptions = z.input<typeof canaryOptionsSchema>;

/**
 * Which side of a canary a key is on.
 *
 * @example
 * ```ts
 * const arm: CanaryArm = canary.assign(userId);
 * ```
 */
export type CanaryArm = 'canary' | 'stable';

/** What a canary needs from the monitor: recording and reading its arm series. */
export interface CanaryHost {
  recordRequest(record: { route: string; durationMs: number; status?: number; ok?: boolean; arm?: string }): void;
  armStats(label: string): RouteStats | null;
  /** Totals of an arm's series since it was created (null before any request); probes are read from their differences. */
  armTotals?(label: string): ArmTotals | null;
}

/**
 * A request outcome recorded through {@link Canary.record}.
 *
 * @example
 * ```ts
 * canary.record('canary', { route: 'GET /search', durationMs: 120, status: 200 });
 * ```
 */
export interface CanaryRequest {
  route: string;
  durationMs: number;
  status?: number;
  ok?: boolean;
}

/**
 * A canary's state and the two arms' window figures.
 *
 * @example
 * ```ts
 * const { effectivePercent, stopped, arms } = canary.stats();
 * ```
 */
export interface CanaryStats {
  name: string;
  /** The configured share (kept while stopped, applied again on resume). */
  percent: number;
  /** The share actually sent to the canary now (0 while stopped). */
  effectivePercent: number;
  stopped: boolean;
  stoppedAt?: number;
  stoppedBy?: string;
  reason?: string;
  series: { canary: string; stable: string };
  /** Window stats of each arm's series (null before any request). */
  arms: { canary: RouteStats | null; stable: RouteStats | null };
  /** Requests sent to the canary by probes while stopped, since creation. */
  probes: number;
}

/**
 * A canary splitter: a key (user id, session) is hashed with FNV-1a into one
 * of 10,000 buckets, so the same key always lands on the same arm and
 * raising the percent only moves stable keys to the canary, never back.
 * `emergencyStop()` sends everything to stable and holds it there until
 * `resume()`, whatever `setPercent` says meanwhile.
 *
 * @example
 * ```ts
 * const canary = monitor.canary('new-index', { percent: 5 });
 * const arm = canary.assign(userId);
 * const t0 = performance.now();
 * const res = arm === 'canary' ? await newIndex.search(q) : await oldIndex.search(q);
 * monitor.recordRequest({ route: 'GET /search', durationMs: performance.now() - t0, status: 200, arm });
 * ```
 */
export class Canary {
  readonly name: string;
  readonly series: { readonly canary: string; readonly stable: string };
  readonly description: string | undefined;
  /** @internal Detector settings (`false`: none). */
  readonly detector: z.output<typeof canaryDetectorSchema>;
  /** @internal Probe settings (`false`: none). */
  readonly probe: z.output<typeof canaryProbeSchema>;
  private readonly clock: Clock;
  private readonly host: CanaryHost;
  private readonly seed: number;
  private configured: number;
  // Buckets below this go to the canary; 0 while stopped. One field read on the hot path.
  private threshold: number;
  private stopped = false;
  private stopInfo: { at: number; by: string; reason?: string } | undefined;
  // While stopped with probes on: every probeEvery-th assign is a probe (0: none). Counters, no allocation.
  private probeEvery = 0;
  private sinceProbe = 0;
  private lastProbeAt = -Infinity;
  private probeCount = 0;
  private probeBase: CanaryProbeReading | undefined;
  /** @internal The monitor's change latch (set by `Controls`). */
  shared: ChangeLatch | undefined;

  constructor(name: string, clock: Clock, host: CanaryHost, options: CanaryOptions = {}) {
    const parsed = canaryOptionsSchema.safeParse(options);
    if (!parsed.success) throw ConfigError.fromZod(`canary "${name}" options`, parsed.error);
    const o = parsed.data;
    this.name = name;
    this.clock = clock;
    this.host = host;
    this.series = { canary: o.series.canary, stable: o.series.stable };
    this.description = o.description;
    this.detector = o.detector;
    this.probe = o.probe;
    // Seeding with the name makes two canaries split the same users independently.
    this.seed = fnv1a(`${name}:`, FNV_OFFSET);
    this.configured = toBuckets(o.percent);
    this.threshold = this.configured;
  }

  /**
   * The arm for `key`: deterministic, `stable` while stopped or at 0 %.
   *
   * @example
   * ```ts
   * if (canary.assign(userId) === 'canary') useNewIndex();
   * ```
   */
  assign(key: string): CanaryArm {
    const t = this.threshold;
    if (t === 0) return this.probeEvery === 0 ? 'stable' : this.probeDue();
    if (typeof key !== 'string') {
      const k = stringOf(key);
      if (k === undefined) return 'stable'; // a key that cannot be hashed goes where nothing changes
      key = k;
    }
    let h = this.seed;
    for (let i = 0; i < key.length; i++) {
      h ^= key.charCodeAt(i);
      h = Math.imul(h, 0x01000193);
    }
    return (h >>> 0) % CANARY_BUCKETS < t ? 'canary' : 'stable';
  }

  private probeDue(): CanaryArm {
    // Every probeEvery-th request while stopped, at most one per minIntervalMs: deterministic, no random draw.
    if (++this.sinceProbe < this.probeEvery) return 'stable';
    const now = this.clock.now();
    if (this.probe === false || now - this.lastProbeAt < this.probe.minIntervalMs) return 'stable';
    this.sinceProbe = 0;
    this.lastProbeAt = now;
    this.probeCount++;
    return 'canary';
  }

  /** Recomputes the probe period: none unless stopped with probes on and a configured share above 0. */
  private setProbeEvery(): void {
    const p = this.probe;
    // A probe never sends more than the configured share would: a 0.5 % canary is probed at most 1 in 200.
    this.probeEvery = !this.stopped || p === false || this.configured === 0 ? 0 : Math.max(1 / p.share, CANARY_BUCKETS / this.configured);
  }

  /**
   * What the probes saw since the stop, with stable over the same time, or
   * null when not stopped, without probes, or without totals from the host.
   * @internal Read by the canary-failure detector.
   */
  probeReading(): CanaryProbeReading | null {
    if (!this.stopped || this.probe === false || this.probeBase === undefined) return null;
    const now = this.totals();
    if (now === null) return null;
    const b = this.probeBase;
    return { canary: minus(now.canary, b.canary), stable: minus(now.stable, b.stable) };
  }

  /**
   * Drops the probes read so far: the next reading starts from now. The
   * detector calls this after an unhealthy batch, so old failures do not
   * hold back a canary that has recovered since.
   * @internal
   */
  restartProbes(): void {
    if (this.stopped && this.probe !== false) this.probeBase = this.totals() ?? undefined;
  }

  private totals(): CanaryProbeReading | null {
    const read = this.host.armTotals;
    if (read === undefined) return null;
    const zero = { requests: 0, failures: 0, sumMs: 0 };
    return { canary: read.call(this.host, this.series.canary) ?? zero, stable: read.call(this.host, this.series.stable) ?? zero };
  }

  /**
   * The bucket (0–9999) of `key`; keys below `percent × 100` go to the canary.
   * A key whose `String(key)` throws is in bucket 10,000: never in the canary.
   */
  bucket(key: string): number {
    const k = stringOf(key);
    return k === undefined ? CANARY_BUCKETS : fnv1a(k, this.seed) % CANARY_BUCKETS;
  }

  /** The configured percent (kept while stopped). */
  get percent(): number {
    return this.configured / 100;
  }

  /** True between `emergencyStop()` and `resume()`. */
  isStopped(): boolean {
    return this.stopped;
  }

  /**
   * Sets the canary share (0–100). While stopped it is remembered and applied on resume.
   * Returns the previous percent.
   *
   * @example
   * ```ts
   * canary.setPercent(25);
   * ```
   */
  setPercent(percent: number): number {
    if (typeof percent !== 'number' || !(percent >= 0 && percent <= 100)) {
      throw new ValidationError(`canary "${this.name}" percent`, [{ path: 'percent', message: 'percent must be a number from 0 to 100' }]);
    }
    const previous = this.percent;
    this.configured = toBuckets(percent);
    if (!this.stopped) this.threshold = this.configured;
    this.setProbeEvery();
    if (previous !== this.percent) this.shared?.changed('canary', this.name);
    return previous;
  }

  /**
   * Sends all traffic to stable and locks it there until {@link Canary.resume}.
   * Returns false if already stopped.
   *
   * @example
   * ```ts
   * canary.emergencyStop({ reason: 'canary error rate 4×', by: 'alice' });
   * ```
   */
  emergencyStop(options: { reason?: string; by?: string } = {}): boolean {
    const p = stopSchema.safeParse(options);
    if (!p.success) throw ValidationError.fromZod(`canary "${this.name}" emergency stop options`, p.error);
    if (this.stopped) return false;
    const o = p.data;
    this.stopped = true;
    this.threshold = 0;
    this.stopInfo = { at: this.clock.now(), by: o.by ?? 'api' };
    if (o.reason !== undefined) this.stopInfo.reason = o.reason;
    this.sinceProbe = 0;
    this.lastProbeAt = -Infinity;
    this.probeBase = undefined;
    this.setProbeEvery();
    this.restartProbes();
    this.shared?.changed('canary', this.name);
    return true;
  }

  /** Lifts an emergency stop: the configured percent applies again. Returns false if not stopped. */
  resume(): boolean {
    if (!this.stopped) return false;
    this.stopped = false;
    this.stopInfo = undefined;
    this.threshold = this.configured;
    this.probeBase = undefined;
    this.setProbeEvery();
    this.shared?.changed('canary', this.name);
    return true;
  }

  /** @internal The state the fleet shares. */
  exportShared(): SharedState {
    const s: SharedState = { percent: this.percent, stopped: this.stopped };
    if (this.stopInfo !== undefined) {
      s['by'] = this.stopInfo.by;
      if (this.stopInfo.reason !== undefined) s['reason'] = this.stopInfo.reason;
    }
    return s;
  }

  /** @internal Takes the fleet's state (idempotent; called with the latch muted). */
  applyShared(s: SharedState): void {
    const p = num(s, 'percent');
    if (p !== undefined && p >= 0 && p <= 100 && toBuckets(p) !== this.configured) this.setPercent(p);
    if (s['stopped'] === true) {
      const o: { by: string; reason?: string } = { by: (str(s, 'by') ?? 'fleet').slice(0, 200) || 'fleet' };
      const reason = str(s, 'reason');
      if (reason !== undefined) o.reason = reason.slice(0, 500);
      this.emergencyStop(o);
    } else {
      this.resume();
    }
  }

  /**
   * Records a request into the arm's series (and its route), for the canary
   * vs stable comparison.
   *
   * @example
   * ```ts
   * canary.record(arm, { route: 'GET /search', durationMs: 120, status: 200 });
   * ```
   */
  record(arm: CanaryArm, request: CanaryRequest): void {
    const label = arm === 'canary' ? this.series.canary : this.series.stable;
    this.host.recordRequest({ ...request, arm: label });
  }

  /** Window stats of both arms. */
  compare(): { canary: RouteStats | null; stable: RouteStats | null } {
    return { canary: this.host.armStats(this.series.canary), stable: this.host.armStats(this.series.stable) };
  }

  /** State and arms. */
  stats(): CanaryStats {
    const s: CanaryStats = {
      name: this.name,
      percent: this.percent,
      effectivePercent: this.threshold / 100,
      stopped: this.stopped,
      series: { ...this.series },
      arms: this.compare(),
      probes: this.probeCount,
    };
    if (this.stopInfo !== undefined) {
      s.stoppedAt = this.stopInfo.at;
      s.stoppedBy = this.stopInfo.by;
      if (this.stopInfo.reason !== undefined) s.reason = this.stopInfo.reason;
    }
    return s;
  }
}

const stopSchema = z.strictObject({ reason: z.string().max(500).optional(), by: z.string().min(1).max(200).optional() }).default({});

/** `String(key)`, or undefined when that throws (a null-prototype object, a throwing `toString`). */
function stringOf(key: unknown): string | undefined {
  if (typeof key === 'string') return key;
  try {
    return String(key);
  } catch {
    return undefined;
  }
}

function minus(a: ArmTotals, b: ArmTotals): ArmTotals {
  return { requests: a.requests - b.requests, failures: a.failures - b.failures, sumMs: a.sumMs - b.sumMs };
}

function toBuckets(percent: number): number {
  return Math.round(percent * (CANARY_BUCKETS / 100));
}

/**
 * Registers `canary.disable` (runbook: "Disable canary", 30 s),
 * `canary.emergency-stop` ("Emergency stop canary", 30 s) and `canary.resume`.
 */
export function registerCanaryActions(actions: ActionRegistry, canaries: ReadonlyMap<string, Canary>): void {
  actions.register({
    id: 'canary.emergency-stop',
    title: 'Emergency stop canary',
    description: 'Sends all traffic to stable and locks it there until resumed. Revert resumes the canary.',
    estimatedSeconds: 30,
    risk: 'safe',
    verification: 'GET /admin/canary/status shows stopped; canary traffic drops to zero; error rate recovers.',
    params: namedParams('canary', canaries, { reason: z.string().max(500).optional() }),
    execute: ({ params, by }) => {
      const c = pick('canary', canaries, params.name);
      const ok = c.emergencyStop({ reason: params.reason ?? `action by ${by}`, by });
      return ok ? { message: `${c.name} stopped: all traffic to stable`, data: { name: c.name } } : { noop: true, message: `${c.name} was already stopped`, data: { name: c.name } };
    },
    revert: ({ data }) => {
      const c = pick('canary', canaries, data['name'] as string);
      return c.resume() ? { message: `${c.name} resumed at ${c.percent} %` } : { noop: true };
    },
  });
  actions.register({
    id: 'canary.disable',
    title: 'Disable canary',
    description: 'Sets the canary share to 0 %. Revert restores the share it replaced.',
    estimatedSeconds: 30,
    risk: 'safe',
    verification: 'GET /admin/canary/status shows 0 %; canary traffic drops to zero.',
    params: namedParams('canary', canaries, {}),
    execute: ({ params }) => {
      const c = pick('canary', canaries, params.name);
      if (c.percent === 0) return { noop: true, message: `${c.name} already at 0 %`, data: { name: c.name } };
      const previous = c.setPercent(0);
      return { message: `${c.name}: ${previous} % → 0 %`, data: { name: c.name, previousPercent: previous } };
    },
    revert: ({ data }) => {
      const c = pick('canary', canaries, data['name'] as string);
      const previous = data['previousPercent'] as number;
      if (c.percent === previous) return { noop: true };
      c.setPercent(previous);
      return { message: `${c.name} back to ${previous} %` };
    },
  });
  actions.register({
    id: 'canary.resume',
    title: 'Resume canary',
    description: 'Lifts an emergency stop: the configured share goes to the canary again. Revert stops it again.',
    estimatedSeconds: 30,
    risk: 'risky',
    requiresConfirm: true,
    verification: 'GET /admin/canary/status shows running; watch canary vs stable success rate and p95.',
    params: namedParams('canary', canaries, {}),
    execute: ({ params }) => {
      const c = pick('canary', canaries, params.name);
      return c.resume() ? { message: `${c.name} resumed at ${c.percent} %`, data: { name: c.name } } : { noop: true, message: `${c.name} was not stopped`, data: { name: c.name } };
    },
    revert: ({ data, by }) => {
      const c = pick('canary', canaries, data['name'] as string);
      return c.emergencyStop({ reason: 'revert resume', by }) ? { message: `${c.name} stopped` } : { noop: true };
    },
  });
}

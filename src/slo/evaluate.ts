import type { SloConfig, SloKind } from './schema.js';
import type { SeriesStore } from '../metrics/series-store.js';
import type { ResourceProbes } from '../metrics/process.js';
import { REQUESTS, FAILURES } from '../metrics/latency-window.js';
import { HIT, MISS, ERROR } from '../metrics/series-store.js';

/** Where an SLO stands. `no-data` means too few samples to judge. */
export type SloStatus = 'ok' | 'warning' | 'breach' | 'no-data';

/**
 * One SLO's evaluation.
 *
 * @example
 * ```ts
 * const [p95] = monitor.evaluate().slos;
 * if (p95.status === 'breach') console.log(`${p95.name}: ${p95.value} ms > ${p95.target} ms`);
 * ```
 */
export interface SloResult {
  name: string;
  kind: SloKind;
  /** Route scope, when the SLO has one. */
  route?: string;
  /** Cache name, for cache-hit-rate SLOs. */
  cache?: string;
  /** Measured value (ms for latency and event-loop delay, a ratio otherwise), or null without data. */
  value: number | null;
  /** The threshold (`max` direction) or objective (`min` direction). */
  target: number;
  /** `max`: value must stay ≤ target; `min`: value must stay ≥ target. */
  direction: 'max' | 'min';
  unit: 'ms' | 'ratio';
  status: SloStatus;
  /** Samples the value is computed from (requests or cache lookups; 1 for resource readings). */
  samples: number;
  windowMs: number;
  /**
   * Good-event-ratio SLOs (success rate, error rate, latency, cache hit rate):
   * share of the error budget left over the SLO period (`budget.periodMs`,
   * 30 days by default; 1 = untouched, negative = overspent), or null before
   * any event. Same as `budget.remaining`.
   */
  errorBudgetRemaining?: number | null;
  /** Good-event-ratio SLOs: the window's bad fraction over the allowed bad fraction (1 = spending exactly the budget). */
  burnRate?: number | null;
  /** Good-event-ratio SLOs: the error budget over the SLO period. */
  budget?: ErrorBudget;
}

/**
 * The error budget of a good-event-ratio SLO over its period: `allowed ×
 * events` bad events may happen in any `periodMs`; `remaining` is the share
 * not yet spent. Counted since the monitor started when it is younger than
 * the period (`observedMs`).
 *
 * @example
 * ```ts
 * const b = monitor.evaluate().slos.find((s) => s.name === 'availability')?.budget;
 * if (b && b.remaining !== null && b.remaining < 0.25) console.warn(`${b.badEvents} of ${b.allowedBadEvents} allowed bad events spent`);
 * ```
 */
export interface ErrorBudget {
  periodMs: number;
  /** How much of the period the counts cover (less than `periodMs` until the monitor is that old). */
  observedMs: number;
  /** Events (requests, cache lookups) counted over the period. */
  events: number;
  /** Bad events: failures, requests slower than `thresholdMs`, cache misses and errors. */
  badEvents: number;
  /** Bad events the objective allows for these events: `(1 − objective) × events`. */
  allowedBadEvents: number;
  /** `1 − badEvents / allowedBadEvents`, or null without events. */
  remaining: number | null;
}

/**
 * Values this close (relatively) to their limit count as on it: `1 - 0.9` is
 * 0.09999999999999998, and exactly 10 % failures must not breach a 0.9 objective.
 */
const EPSILON = 1e-9;

interface Judged {
  value: number | null;
  target: number;
  direction: 'max' | 'min';
  unit: 'ms' | 'ratio';
  samples: number;
  /** Used over allowed: > 1 breaches, ≥ warningRatio warns. */
  consumed: number | null;
  ratio?: { burnRate: number | null };
}

/** Reads good-event-ratio counts kept outside the window store (by the burn-rate tracker). */
export interface RatioReader {
  /** An SLO's error budget over its period (undefined for SLOs that have none). */
  budget(slo: string, now: number): ErrorBudget | undefined;
  /** An SLO's burn rate over the last `windowMs` (null without events, undefined for SLOs not tracked). */
  burn(slo: string, now: number, windowMs: number): number | null | undefined;
}

/**
 * Computes every SLO's current value and status from the series and probes.
 * Pure with respect to events: the monitor decides what is a transition.
 */
export class SloEvaluator {
  private readonly slos: readonly SloConfig[];
  private readonly store: SeriesStore;
  private readonly probes: ResourceProbes;
  private readonly minSamples: number;
  private readonly monotonic: () => number;
  private readonly ratios: RatioReader | undefined;
  private lastCpu: { at: number; micros: number } | undefined;
  private cpuValue: number | null = null;
  private eventLoopValue: number | null = null;
  /** Per route, the ascending quantiles its latency SLOs ask for. */
  private readonly routeQs = new Map<string, number[]>();
  /** Per route, those quantiles as read in the current `evaluate()` call. */
  private readonly routeQuantiles = new Map<string, (number | null)[]>();
  /** Probe or evaluation failures, contained: the SLO reads `no-data` instead. */
  errors = 0;
  /** The last contained failure, for diagnosis. */
  lastError: unknown;

  constructor(opts: {
    slos: readonly SloConfig[];
    store: SeriesStore;
    probes: ResourceProbes;
    minSamples: number;
    monotonic: () => number;
    /** Period budgets and latency burn rates (from the burn-rate tracker's counts). */
    ratios?: RatioReader;
  }) {
    this.ratios = opts.ratios;
    this.slos = opts.slos;
    this.store = opts.store;
    this.probes = opts.probes;
    this.minSamples = opts.minSamples;
    this.monotonic = opts.monotonic;
    for (const slo of opts.slos) {
      if (slo.kind !== 'latency' || slo.route === undefined) continue;
      const qs = this.routeQs.get(slo.route) ?? [];
      if (!qs.includes(slo.quantile)) qs.push(slo.quantile);
      this.routeQs.set(slo.route, qs.sort((a, b) => a - b));
    }
  }

  /** The configured SLOs. */
  get configs(): readonly SloConfig[] {
    return this.slos;
  }

  /**
   * Each SLO's name, kind, unit, direction and target as {@link SloEvaluator.evaluate}
   * reports them, from the configuration alone: no window, clock or probe is read.
   */
  describe(): { name: string; kind: SloConfig['kind']; unit: 'ms' | 'ratio'; direction: 'max' | 'min'; target: number }[] {
    return this.slos.map((slo) => ({ name: slo.name, kind: slo.kind, unit: unitOf(slo), direction: directionOf(slo), target: targetOf(slo) }));
  }

  /** CPU (1 = one core) over the last sampling interval, or null before two samples. */
  get cpu(): number | null {
    return this.cpuValue;
  }

  /** p99 event-loop delay (ms) of the last sample, or null when not sampled. */
  get eventLoopDelayMs(): number | null {
    return this.eventLoopValue;
  }

  /**
   * Samples CPU and event-loop delay since the previous call. Only the
   * scheduled evaluation calls this, so a scrape never shortens the interval.
   */
  sampleResources(): void {
    try {
      const at = this.monotonic();
      const micros = this.probes.cpuMicros();
      if (typeof micros !== 'number' || !Number.isFinite(micros)) throw new TypeError(`cpuMicros() returned ${String(micros)}`);
      if (this.lastCpu !== undefined && at > this.lastCpu.at) {
        this.cpuValue = (micros - this.lastCpu.micros) / 1000 / (at - this.lastCpu.at);
      }
      this.lastCpu = { at, micros };
    } catch (err) {
      this.fail(err);
      this.cpuValue = null;
    }
    try {
      const eld = this.probes.eventLoopDelayP99();
      if (typeof eld === 'number' && Number.isFinite(eld)) this.eventLoopValue = eld;
      else if (eld !== null) throw new TypeError(`eventLoopDelayP99() returned ${String(eld)}`);
    } catch (err) {
      this.fail(err);
      this.eventLoopValue = null;
    }
  }

  /** Evaluates every SLO at `now`. */
  evaluate(now: number): SloResult[] {
    const windowMs = this.store.slotMs * this.store.slots;
    // Overall latency quantiles are merged once for all SLOs that need them.
    const overallQs = [
      ...new Set(this.slos.filter((s) => s.kind === 'latency' && s.route === undefined).map((s) => (s as { quantile: number }).quantile)),
    ].sort((a, b) => a - b);
    let overall: ReturnType<SeriesStore['overall']> | undefined;
    const getOverall = () => (overall ??= this.store.overall(now, overallQs.length > 0 ? overallQs : [0.5]));
    // A route's quantiles are read once for all its latency SLOs (p95 and p99 share one scan).
    this.routeQuantiles.clear();

    return this.slos.map((slo) => {
      let judged: Judged;
      try {
        judged = this.judge(slo, now, getOverall, overallQs);
      } catch (err) {
        // A user probe that throws (or returns nonsense) must not break evaluation of the others.
        this.fail(err);
        judged = { value: null, target: targetOf(slo), direction: directionOf(slo), unit: unitOf(slo), samples: 0, consumed: null };
      }
      const minSamples = slo.minSamples ?? this.minSamples;
      const needsSamples = slo.kind !== 'memory' && slo.kind !== 'cpu' && slo.kind !== 'event-loop-delay';
      let status: SloStatus;
      if (judged.value === null || judged.consumed === null || !Number.isFinite(judged.consumed) || (needsSamples && judged.samples < minSamples)) {
        status = 'no-data';
      } else if (judged.consumed > 1 + EPSILON) {
        status = 'breach';
      } else if (judged.consumed >= slo.warningRatio - EPSILON) {
        status = 'warning';
      } else {
        status = 'ok';
      }
      const result: SloResult = {
        name: slo.name,
        kind: slo.kind,
        value: judged.value,
        target: judged.target,
        direction: judged.direction,
        unit: judged.unit,
        status,
        samples: judged.samples,
        windowMs,
      };
      if (slo.route !== undefined) result.route = slo.route;
      if (slo.kind === 'cache-hit-rate' && slo.cache !== undefined) result.cache = slo.cache;
      if (judged.ratio !== undefined) {
        const burn = judged.ratio.burnRate;
        result.burnRate = burn;
        const budget = this.readBudget(slo.name, now);
        if (budget !== undefined) {
          result.budget = budget;
          result.errorBudgetRemaining = budget.remaining;
        } else {
          result.errorBudgetRemaining = burn === null ? null : 1 - burn;
        }
      }
      return result;
    });
  }

  private readBudget(slo: string, now: number): ErrorBudget | undefined {
    if (this.ratios === undefined) return undefined;
    try {
      return this.ratios.budget(slo, now);
    } catch (err) {
      this.fail(err);
      return undefined;
    }
  }

  private fail(err: unknown): void {
    this.errors++;
    this.lastError = err;
  }

  private requestCounts(slo: SloConfig, now: number, getOverall: () => ReturnType<SeriesStore['overall']>): { n: number; bad: number } {
    if (slo.route !== undefined) {
      const s = this.store.routes.get(slo.route);
      if (s === undefined) return { n: 0, bad: 0 };
      s.advance(now);
      return { n: s.total(REQUESTS), bad: s.total(FAILURES) };
    }
    const o = getOverall().stats;
    return { n: o.requests, bad: o.failures };
  }

  private judge(
    slo: SloConfig,
    now: number,
    getOverall: () => ReturnType<SeriesStore['overall']>,
    overallQs: number[],
  ): Judged {
    switch (slo.kind) {
      case 'latency': {
        let value: number | null = null;
        let samples = 0;
        if (slo.route !== undefined) {
          const s = this.store.routes.get(slo.route);
          if (s !== undefined) {
            s.advance(now);
            samples = s.total(REQUESTS);
            const qs = this.routeQs.get(slo.route)!;
            let values = this.routeQuantiles.get(slo.route);
            if (values === undefined) this.routeQuantiles.set(slo.route, (values = s.quantiles(qs)));
            value = values[qs.indexOf(slo.quantile)] ?? null;
          }
        } else {
          const o = getOverall();
          samples = o.stats.requests;
          value = o.quantiles[overallQs.indexOf(slo.quantile)] ?? null;
        }
        const judged: Judged = {
          value,
          target: slo.thresholdMs,
          direction: 'max',
          unit: 'ms',
          samples,
          consumed: value === null ? null : value / slo.thresholdMs,
        };
        // As a good-event ratio: the share of requests slower than thresholdMs over the 1 − quantile allowed.
        const burn = this.ratios?.burn(slo.name, now, this.store.slotMs * this.store.slots);
        if (burn !== undefined) judged.ratio = { burnRate: burn };
        return judged;
      }
      case 'success-rate':
      case 'error-rate': {
        const { n, bad } = this.requestCounts(slo, now, getOverall);
        const badFraction = n > 0 ? bad / n : null;
        const allowed = slo.kind === 'success-rate' ? 1 - slo.objective : slo.max;
        const burnRate = badFraction === null ? null : badFraction / allowed;
        return {
          value: badFraction === null ? null : slo.kind === 'success-rate' ? 1 - badFraction : badFraction,
          target: slo.kind === 'success-rate' ? slo.objective : slo.max,
          direction: slo.kind === 'success-rate' ? 'min' : 'max',
          unit: 'ratio',
          samples: n,
          consumed: burnRate,
          ratio: { burnRate },
        };
      }
      case 'cache-hit-rate': {
        let hits = 0;
        let n = 0;
        for (const [name, c] of this.store.caches) {
          if (slo.cache !== undefined && name !== slo.cache) continue;
          const h = c.ring.total(now, HIT);
          hits += h;
          n += h + c.ring.total(now, MISS) + c.ring.total(now, ERROR);
        }
        const value = n > 0 ? hits / n : null;
        const allowed = 1 - slo.objective;
        const burnRate = value === null ? null : (1 - value) / allowed;
        return { value, target: slo.objective, direction: 'min', unit: 'ratio', samples: n, consumed: burnRate, ratio: { burnRate } };
      }
      case 'memory': {
        const m = this.probes.memory();
        const value = slo.of === 'heap' ? m.heapUsed / (slo.limitBytes ?? m.heapLimit) : m.rss / (slo.limitBytes ?? m.rssLimit);
        if (!Number.isFinite(value)) throw new TypeError(`memory() gave no usable ${slo.of} reading`);
        return { value, target: slo.max, direction: 'max', unit: 'ratio', samples: 1, consumed: value / slo.max };
      }
      case 'cpu': {
        const value = this.cpuValue;
        return { value, target: slo.max, direction: 'max', unit: 'ratio', samples: value === null ? 0 : 1, consumed: value === null ? null : value / slo.max };
      }
      case 'event-loop-delay': {
        const value = this.eventLoopValue;
        return {
          value,
          target: slo.thresholdMs,
          direction: 'max',
          unit: 'ms',
          samples: value === null ? 0 : 1,
          consumed: value === null ? null : value / slo.thresholdMs,
        };
      }
    }
  }
}

function targetOf(slo: SloConfig): number {
  switch (slo.kind) {
    case 'latency':
    case 'event-loop-delay':
      return slo.thresholdMs;
    case 'success-rate':
    case 'cache-hit-rate':
      return slo.objective;
    case 'error-rate':
    case 'memory':
    case 'cpu':
      return slo.max;
  }
}

function directionOf(slo: SloConfig): 'max' | 'min' {
  return slo.kind === 'success-rate' || slo.kind === 'cache-hit-rate' ? 'min' : 'max';
}

function unitOf(slo: SloConfig): 'ms' | 'ratio' {
  return slo.kind === 'latency' || slo.kind === 'event-loop-delay' ? 'ms' : 'ratio';
}

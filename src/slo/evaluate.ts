import type { SloConfig, SloKind } from '../config.js';
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
  /** Ratio SLOs: share of the window's error budget left (1 = untouched, negative = overspent). */
  errorBudgetRemaining?: number | null;
  /** Ratio SLOs: bad fraction over allowed bad fraction (1 = spending exactly the budget). */
  burnRate?: number | null;
}

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
  private lastCpu: { at: number; micros: number } | undefined;
  private cpuValue: number | null = null;
  private eventLoopValue: number | null = null;

  constructor(opts: {
    slos: readonly SloConfig[];
    store: SeriesStore;
    probes: ResourceProbes;
    minSamples: number;
    monotonic: () => number;
  }) {
    this.slos = opts.slos;
    this.store = opts.store;
    this.probes = opts.probes;
    this.minSamples = opts.minSamples;
    this.monotonic = opts.monotonic;
  }

  /** The configured SLOs. */
  get configs(): readonly SloConfig[] {
    return this.slos;
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
    const at = this.monotonic();
    const micros = this.probes.cpuMicros();
    if (this.lastCpu !== undefined && at > this.lastCpu.at) {
      this.cpuValue = (micros - this.lastCpu.micros) / 1000 / (at - this.lastCpu.at);
    }
    this.lastCpu = { at, micros };
    const eld = this.probes.eventLoopDelayP99();
    if (eld !== null) this.eventLoopValue = eld;
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

    return this.slos.map((slo) => {
      const judged = this.judge(slo, now, getOverall, overallQs);
      const minSamples = slo.minSamples ?? this.minSamples;
      const needsSamples = slo.kind !== 'memory' && slo.kind !== 'cpu' && slo.kind !== 'event-loop-delay';
      let status: SloStatus;
      if (judged.value === null || judged.consumed === null || (needsSamples && judged.samples < minSamples)) {
        status = 'no-data';
      } else if (judged.consumed > 1) {
        status = 'breach';
      } else if (judged.consumed >= slo.warningRatio) {
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
      if (slo.kind === 'cache-hit-rate') result.cache = slo.cache;
      if (judged.ratio !== undefined) {
        const burn = judged.ratio.burnRate;
        result.burnRate = burn;
        result.errorBudgetRemaining = burn === null ? null : 1 - burn;
      }
      return result;
    });
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
            value = s.quantiles([slo.quantile])[0] ?? null;
          }
        } else {
          const o = getOverall();
          samples = o.stats.requests;
          value = o.quantiles[overallQs.indexOf(slo.quantile)] ?? null;
        }
        return {
          value,
          target: slo.thresholdMs,
          direction: 'max',
          unit: 'ms',
          samples,
          consumed: value === null ? null : value / slo.thresholdMs,
        };
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
        const c = this.store.caches.get(slo.cache);
        let hits = 0;
        let n = 0;
        if (c !== undefined) {
          hits = c.ring.total(now, HIT);
          n = hits + c.ring.total(now, MISS) + c.ring.total(now, ERROR);
        }
        const value = n > 0 ? hits / n : null;
        const allowed = 1 - slo.objective;
        const burnRate = value === null ? null : (1 - value) / allowed;
        return { value, target: slo.objective, direction: 'min', unit: 'ratio', samples: n, consumed: burnRate, ratio: { burnRate } };
      }
      case 'memory': {
        const m = this.probes.memory();
        const value = slo.of === 'heap' ? m.heapUsed / m.heapLimit : m.rss / (slo.limitBytes ?? m.rssLimit);
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

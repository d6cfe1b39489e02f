import { z } from 'zod';
import { SEVERITIES, type Severity } from '../../incidents/types.js';
import type { Canary } from './canary.js';
import type { Fallback } from './fallback.js';
import type { RateLimiter } from './rate-limiter.js';

/**
 * Thresholds by severity (`null` or absent: that level is not used).
 *
 * @example
 * ```ts
 * monitor.fallback('ranker', { primary, fallback, detector: { thresholds: { medium: 0.1, high: 0.3, critical: null } } });
 * ```
 */
export type SeverityLadder = { [S in Severity]?: number | null | undefined };

/**
 * A custom detector as the controls hand it to `monitor.detector()`: a
 * synchronous reading (a number judged against thresholds, a severity, `'ok'`
 * or `null` for "no reading") for one incident type and scope.
 *
 * @example
 * ```ts
 * monitor.detector({ type: 'model-failure', name: 'ranker', scope: 'fallback:ranker', evaluate: () => ranker.stats().recent.failureRate, thresholds: { high: 0.2 } });
 * ```
 */
export interface ControlDetectorSpec {
  type: string;
  name: string;
  scope: string;
  evaluate: () => number | Severity | 'ok' | null;
  thresholds?: SeverityLadder;
  direction?: 'above' | 'below';
  unit?: 'ms' | 'ratio' | 'count' | 'number';
  signal?: string;
  forMs?: number;
  clearForMs?: number;
  summary?: (value: number | boolean | string, severity: Severity) => string;
}

const ladder = z.strictObject({
  low: z.number().nonnegative().nullable().optional(),
  medium: z.number().nonnegative().nullable().optional(),
  high: z.number().nonnegative().nullable().optional(),
  critical: z.number().nonnegative().nullable().optional(),
});
const timing = {
  forMs: z.number().int().nonnegative().optional(),
  clearForMs: z.number().int().nonnegative().optional(),
};

/** Model-failure detector of a fallback wrapper: primary failure rate over the last 5 minutes. */
export const fallbackDetectorSchema = z
  .union([
    z.literal(false),
    z.strictObject({
      /** Fewer primary calls than this in the window is no reading. */
      minCalls: z.number().int().positive().default(20),
      /** Failure-rate thresholds (errors + timeouts over primary calls). */
      thresholds: ladder.default({ medium: 0.05, high: 0.2, critical: 0.5 }),
      ...timing,
    }),
  ])
  .default({ minCalls: 20, thresholds: { medium: 0.05, high: 0.2, critical: 0.5 } });

/** Canary-failure detector: canary vs stable success rate and p95 over the window. */
export const canaryDetectorSchema = z
  .union([
    z.literal(false),
    z.strictObject({
      /** Both arms need this many requests in the window before they are compared. */
      minSamples: z.number().int().positive().default(20),
      /** Severity by how far the canary's success rate is below stable's (absolute, 0.01 = 1 point). */
      successDrop: ladder.default({ medium: 0.005, high: 0.01, critical: 0.05 }),
      /** Severity by canary p95 / stable p95. */
      p95Ratio: ladder.default({ medium: 1.5, high: 2, critical: 4 }),
      ...timing,
    }),
  ])
  .default({ minSamples: 20, successDrop: { medium: 0.005, high: 0.01, critical: 0.05 }, p95Ratio: { medium: 1.5, high: 2, critical: 4 } });

/**
 * Rate-limit-attack detector of a limiter: share of requests, over the last 5
 * minutes, from keys whose offered load exceeds the limiter's *configured*
 * limit. Rejections caused only by a tightened or lowered limit do not count.
 */
export const rateLimitDetectorSchema = z
  .union([
    z.literal(false),
    z.strictObject({
      /** Fewer decisions than this in the window is no reading. */
      minDecisions: z.number().int().positive().default(20),
      /** Thresholds of excess / all decisions (the runbook preset's 429-rate ladder). */
      thresholds: ladder.default({ medium: 0.05, high: 0.1 }),
      ...timing,
    }),
  ])
  .default({ minDecisions: 20, thresholds: { medium: 0.05, high: 0.1 } });

type Opts<S extends z.ZodType> = Exclude<z.output<S>, false>;

function timingOf(o: { forMs?: number | undefined; clearForMs?: number | undefined }): Pick<ControlDetectorSpec, 'forMs' | 'clearForMs'> {
  const out: Pick<ControlDetectorSpec, 'forMs' | 'clearForMs'> = {};
  if (o.forMs !== undefined) out.forMs = o.forMs;
  if (o.clearForMs !== undefined) out.clearForMs = o.clearForMs;
  return out;
}

/** The highest severity whose threshold `value` reaches (higher is worse), or null. */
export function severityAbove(value: number, t: SeverityLadder): Severity | null {
  for (let i = SEVERITIES.length - 1; i >= 0; i--) {
    const s = SEVERITIES[i]!;
    const th = t[s];
    if (th !== undefined && th !== null && value >= th) return s;
  }
  return null;
}

function worst(a: Severity | null, b: Severity | null): Severity | null {
  if (a === null) return b;
  if (b === null) return a;
  return SEVERITIES.indexOf(a) >= SEVERITIES.indexOf(b) ? a : b;
}

const pct = (r: number): string => `${(r * 100).toFixed(2)} %`;

/**
 * `model-failure`, scoped `fallback:<name>`: the wrapper's primary failure rate.
 * While forced to the fallback the primary is not called, so the window's
 * data is stale and there is no reading: the incident holds (never
 * escalates). With `probe` on, probes since the force are the reading, and
 * only a healthy one counts, so the incident can resolve (and the automatic
 * fallback be reverted) but never escalate on probes.
 */
export function fallbackDetector(f: Fallback, o: Opts<typeof fallbackDetectorSchema>): ControlDetectorSpec {
  return {
    type: 'model-failure',
    name: `model-failure:${f.name}`,
    scope: `fallback:${f.name}`,
    unit: 'ratio',
    direction: 'above',
    signal: `${f.name} primary failure rate`,
    thresholds: o.thresholds,
    evaluate: () => {
      if (f.isForced()) {
        // Bypassed: the window holds only stale primary calls (old successes age out first and the
        // share of failures climbs with no new call). Only probes are fresh, and they may only clear.
        const p = f.probe === false ? null : f.probeCounts();
        if (p === null || f.probe === false || p.calls < f.probe.minCalls) return null;
        const rate = p.failures / p.calls;
        return severityAbove(rate, o.thresholds) === null ? rate : null;
      }
      const r = f.recentCounts();
      return r.primaryCalls < o.minCalls ? null : r.failures / r.primaryCalls;
    },
    summary: (v, s) => `${f.name}: primary failing on ${pct(v as number)} of calls (${s}); answered by the fallback`,
    ...timingOf(o),
  };
}

/**
 * `canary-failure`, scoped `canary:<name>`: the worse of the success
 * rate drop and the p95 ratio, canary vs stable. After an emergency stop
 * the canary has no traffic, so there is no reading (see {@link fallbackDetector}).
 * With `probe` on, the probes since the stop (against stable over the same
 * time: success rate, and mean latency against the p95-ratio ladder) are the
 * reading, and only a healthy one counts: the incident can resolve (and the
 * automatic stop be reverted) but never escalate on probes.
 */
export function canaryDetector(c: Canary, o: Opts<typeof canaryDetectorSchema>): ControlDetectorSpec {
  let last = '';
  return {
    type: 'canary-failure',
    name: `canary-failure:${c.name}`,
    scope: `canary:${c.name}`,
    evaluate: () => {
      // Stopped: the canary arm's window only holds stale requests, no reading (the incident holds).
      if (c.isStopped()) return probeVerdict(c, o);
      const { canary, stable } = c.compare();
      if (canary === null || stable === null || canary.requests < o.minSamples || stable.requests < o.minSamples) return null;
      const drop = (stable.successRate ?? 1) - (canary.successRate ?? 1);
      const cp = canary.latencyMs.p95;
      const sp = stable.latencyMs.p95;
      const ratio = cp !== null && sp !== null && sp > 0 ? cp / sp : 1;
      const severity = worst(severityAbove(drop, o.successDrop), severityAbove(ratio, o.p95Ratio));
      last =
        `canary ${c.name}: success ${pct(canary.successRate ?? 1)} vs stable ${pct(stable.successRate ?? 1)}, ` +
        `p95 ${cp?.toFixed(0) ?? '–'} ms vs ${sp?.toFixed(0) ?? '–'} ms`;
      return severity ?? 'ok';
    },
    summary: (_v, s) => `${last} (${s})`,
    ...timingOf(o),
  };
}

/** 'ok' when the probes of a stopped canary look healthy, else no reading: probes may only clear. */
function probeVerdict(c: Canary, o: Opts<typeof canaryDetectorSchema>): 'ok' | null {
  const p = c.probe === false ? null : c.probeReading();
  if (p === null || c.probe === false) return null;
  const { canary, stable } = p;
  if (canary.requests < c.probe.minSamples || stable.requests < c.probe.minSamples) return null;
  const drop = (stable.requests - stable.failures) / stable.requests - (canary.requests - canary.failures) / canary.requests;
  // Cumulative totals keep sums, not histograms: mean latency over the same time stands in for p95.
  const sm = stable.sumMs / stable.requests;
  const ratio = sm > 0 ? canary.sumMs / canary.requests / sm : 1;
  if (severityAbove(drop, o.successDrop) === null && severityAbove(ratio, o.p95Ratio) === null) return 'ok';
  // An unhealthy batch is dropped, so failures from before a recovery do not hold it back forever.
  c.restartProbes();
  return null;
}

/**
 * `rate-limit-attack`, scoped `limiter:<name>`: the share of decisions from
 * keys offering more than the configured limit (offered load, rejected
 * requests included). An operator lowering the limit, or firebreak tightening
 * it, makes more 429s but not more excess: the detector does not feed on them.
 */
export function rateLimitDetector(l: RateLimiter, o: Opts<typeof rateLimitDetectorSchema>): ControlDetectorSpec {
  return {
    type: 'rate-limit-attack',
    name: `rate-limit-attack:${l.name}`,
    scope: `limiter:${l.name}`,
    unit: 'ratio',
    direction: 'above',
    signal: `${l.name} share of requests over the configured limit`,
    thresholds: o.thresholds,
    evaluate: () => {
      const r = l.recentCounts();
      const n = r.allowed + r.limited;
      return n < o.minDecisions ? null : l.recentExcess() / n;
    },
    summary: (v, s) => {
      const top = l.topOffenders(3);
      const limited = l.recentCounts().limited;
      const share = limited > 0 && top[0] !== undefined ? `; top offender ${top[0].key} ≈ ${pct(Math.min(1, top[0].count / limited))} of rejections` : '';
      return `${l.name}: ${pct(v as number)} of requests from keys over the configured limit (${s})${top.length === 0 ? '' : `; top offenders ${top.map((t) => t.key).join(', ')}`}${share}`;
    },
    ...timingOf(o),
  };
}

import { SEVERITIES, type Severity } from '../../incidents/types.js';
import type { Canary } from './canary.js';
import type { Fallback } from './fallback.js';
import type { RateLimiter } from './rate-limiter.js';
import { canaryDetectorSchema, fallbackDetectorSchema, rateLimitDetectorSchema, type ControlDetectorSpec, type DetectorOpts as Opts, type SeverityLadder } from './detector-options.js';

export type { ControlDetectorSpec, SeverityLadder } from './detector-options.js';
export { canaryDetectorSchema, fallbackDetectorSchema, rateLimitDetectorSchema } from './detector-options.js';

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

import { SEVERITIES, type Severity } from './types.js';

/** Threshold per severity; a level may be absent. */
export type Thresholds = Partial<Record<Severity, number>>;

/** `above`: bad when the value exceeds a threshold (latency); `below`: bad when under it (success rate). */
export type Direction = 'above' | 'below';

/** A signal's severity and the threshold it crossed. */
export interface Crossing {
  severity: Severity;
  threshold: number;
}

/**
 * The worst severity whose threshold `value` crosses (strictly: `> t` for
 * `above`, `< t` for `below`), or `null` when it crosses none.
 *
 * @example
 * ```ts
 * severityFor(2500, { low: 800, medium: 1000, high: 2000, critical: 5000 }, 'above');
 * // { severity: 'high', threshold: 2000 }
 * ```
 */
export function severityFor(value: number, thresholds: Thresholds, direction: Direction): Crossing | null {
  for (let i = SEVERITIES.length - 1; i >= 0; i--) {
    const severity = SEVERITIES[i]!;
    const t = thresholds[severity];
    if (t === undefined) continue;
    if (direction === 'above' ? value > t : value < t) return { severity, threshold: t };
  }
  return null;
}

/**
 * Problems with a threshold set: a worse severity must have a stricter
 * threshold (higher for `above`, lower for `below`). Returns messages, empty when fine.
 *
 * @example
 * ```ts
 * thresholdProblems({ high: 500, low: 800 }, 'above'); // ['high (500) must be above low (800)']
 * ```
 */
export function thresholdProblems(thresholds: Thresholds, direction: Direction): string[] {
  const problems: string[] = [];
  let prev: { severity: Severity; value: number } | undefined;
  for (const severity of SEVERITIES) {
    const v = thresholds[severity];
    if (v === undefined) continue;
    if (!Number.isFinite(v)) problems.push(`${severity} must be a finite number`);
    else if (prev !== undefined && (direction === 'above' ? v <= prev.value : v >= prev.value)) {
      problems.push(`${severity} (${v}) must be ${direction === 'above' ? 'above' : 'below'} ${prev.severity} (${prev.value})`);
    }
    if (Number.isFinite(v)) prev = { severity, value: v };
  }
  if (Object.values(thresholds).every((v) => v === undefined)) problems.push('at least one severity threshold is required');
  return problems;
}

/**
 * Merges overrides into a base set: a number replaces that level, `null`
 * removes it, an absent key keeps the base.
 *
 * @example
 * ```ts
 * mergeThresholds({ low: 800, high: 2000 }, { low: null, high: 1500 }); // { high: 1500 }
 * ```
 */
export function mergeThresholds(base: Thresholds, overrides: { [K in Severity]?: number | null | undefined } | undefined): Thresholds {
  const out: Thresholds = { ...base };
  if (overrides === undefined) return out;
  for (const severity of SEVERITIES) {
    const v = overrides[severity];
    if (v === null) delete out[severity];
    else if (v !== undefined) out[severity] = v;
  }
  return out;
}

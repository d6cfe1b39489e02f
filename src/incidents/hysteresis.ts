import { compareSeverity, type Severity } from './types.js';

/** What one evaluation of a condition asks the manager to do. */
export type Verdict =
  | { kind: 'none' }
  | { kind: 'pending' }
  | { kind: 'open'; severity: Severity; detectedAt: number }
  | { kind: 'escalate'; severity: Severity }
  | { kind: 'deescalate'; severity: Severity }
  | { kind: 'clear' };

const NONE: Verdict = { kind: 'none' };
const PENDING: Verdict = { kind: 'pending' };
const CLEAR: Verdict = { kind: 'clear' };

/**
 * Hysteresis for one (type, scope): the anti-flapping rules as a small state
 * machine, pure with respect to time (the caller passes `now`).
 *
 * - No incident: a firing observation starts `pending`; it must keep firing
 *   for `forMs` before `open`. Any clear (or missing) reading resets it.
 * - Incident open: a worse severity escalates at once; a lower one only
 *   de-escalates after it has held for `clearForMs` (to the worst severity
 *   seen meanwhile); a clear reading held for `clearForMs` yields `clear`
 *   (the caller resolves). Missing data changes nothing.
 *
 * @example
 * ```ts
 * const c = new Condition();
 * c.step(t0, 'high', undefined, { forMs: 60_000, clearForMs: 120_000 }); // pending
 * c.step(t0 + 60_000, 'high', undefined, cfg); // { kind: 'open', severity: 'high', detectedAt: t0 }
 * ```
 */
export class Condition {
  /** When the condition was first seen firing while no incident was open. */
  pendingSince: number | undefined;
  /** Severity seen at the last pending step. */
  pendingSeverity: Severity | undefined;
  /** When the signal was first seen clear while an incident was open. */
  clearSince: number | undefined;
  private lowerSince: number | undefined;
  private lowerWorst: Severity | undefined;

  /**
   * @param observed - severity seen now, `null` when clear, `undefined` without data.
   * @param incidentSeverity - the open incident's severity, or undefined without one.
   */
  step(now: number, observed: Severity | null | undefined, incidentSeverity: Severity | undefined, cfg: { forMs: number; clearForMs: number }): Verdict {
    if (incidentSeverity === undefined) {
      this.clearSince = undefined;
      this.lowerSince = undefined;
      if (observed === null || observed === undefined) {
        // Opening needs the condition seen continuously: a gap in the data restarts the wait.
        this.pendingSince = undefined;
        this.pendingSeverity = undefined;
        return NONE;
      }
      this.pendingSince ??= now;
      this.pendingSeverity = observed;
      if (now - this.pendingSince >= cfg.forMs) {
        const detectedAt = this.pendingSince;
        this.pendingSince = undefined;
        this.pendingSeverity = undefined;
        return { kind: 'open', severity: observed, detectedAt };
      }
      return PENDING;
    }

    this.pendingSince = undefined;
    this.pendingSeverity = undefined;
    if (observed === undefined) return NONE; // no data: neither better nor worse
    if (observed === null) {
      this.lowerSince = undefined;
      this.clearSince ??= now;
      return now - this.clearSince >= cfg.clearForMs ? CLEAR : NONE;
    }
    this.clearSince = undefined;
    const cmp = compareSeverity(observed, incidentSeverity);
    if (cmp > 0) {
      this.lowerSince = undefined;
      return { kind: 'escalate', severity: observed };
    }
    if (cmp === 0) {
      this.lowerSince = undefined;
      return NONE;
    }
    // Stryker disable next-line ConditionalExpression: lowerWorst is set whenever lowerSince is; the second test only narrows the type
    if (this.lowerSince === undefined || this.lowerWorst === undefined) {
      this.lowerSince = now;
      this.lowerWorst = observed;
      // Stryker disable next-line EqualityOperator: at equal severity `>=` assigns the same value
    } else if (compareSeverity(observed, this.lowerWorst) > 0) {
      this.lowerWorst = observed;
    }
    if (now - this.lowerSince >= cfg.clearForMs) {
      const severity = this.lowerWorst;
      this.lowerSince = undefined;
      this.lowerWorst = undefined;
      return { kind: 'deescalate', severity };
    }
    return NONE;
  }

  /** True when nothing is pending or clearing: the state can be forgotten. */
  get idle(): boolean {
    return this.pendingSince === undefined && this.clearSince === undefined && this.lowerSince === undefined;
  }
}

/**
 * Options of the controls' built-in detectors (schemas and shapes only): the
 * controls import these; the detectors themselves (detectors.ts) import the
 * controls, so keeping them apart leaves no import loop.
 *
 * @packageDocumentation
 */
import { z } from 'zod';
import type { Severity } from '../../incidents/types.js';

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

/** A detector option after defaults, when not turned off (`false`). */
export type DetectorOpts<S extends z.ZodType> = Exclude<z.output<S>, false>;


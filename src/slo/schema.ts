/**
 * The SLO definitions a monitor evaluates: their zod schemas, the runbooks'
 * preset table and how a preset and the user's SLOs combine. Below the
 * incidents and the monitor: the burn-rate tracker, the evaluator and the
 * monitor's options all read these.
 *
 * @packageDocumentation
 */
import { z } from 'zod';
import { MAX_NAME_LENGTH } from '../metrics/series-store.js';
import { runbookMetaSchema } from '../runbook.js';

const ratio = (what: string) =>
  z.number({ error: `${what} must be a number` }).gt(0, `${what} must be > 0`).lt(1, `${what} must be < 1`);

const sloBase = {
  /** Unique name, used in reports, events and metric labels. */
  name: z.string().min(1, 'name must not be empty').max(100),
  /** Restrict the SLO to one route template (default: all traffic); at most `MAX_NAME_LENGTH` (256) characters, the longest route name a monitor keeps. */
  route: z.string().min(1).max(MAX_NAME_LENGTH, `route must be at most ${MAX_NAME_LENGTH} characters`).optional(),
  /** Free text shown in reports. */
  description: z.string().max(500).optional(),
  /**
   * `warning` status once this fraction of the allowance is used: latency at
   * `warningRatio × thresholdMs`, ratios at `warningRatio ×` the allowed bad fraction.
   */
  warningRatio: z.number().gt(0).lte(1).default(0.8),
  /** Fewer samples than this in the window reads as `no-data` (default: the monitor's `minSamples`). */
  minSamples: z.number().int().nonnegative().optional(),
  /** Owner, runbook URL and escalation contacts; carried by `slo:<name>` scoped incidents (over their type's). */
  runbook: runbookMetaSchema.optional(),
};

/** Options of SLOs judged on requests (latency, success rate, error rate). */
const requestSlo = {
  /**
   * Absent-signal detection: once the SLO's traffic (its route, or all
   * traffic) has been seen, this long without a request opens a `service-down`
   * incident (scope `route:<r>`, or `service` for all traffic) instead of
   * reading as healthy or `no-data` forever; it resolves when traffic
   * returns. `false` turns it off (for routes that are idle by nature).
   */
  absentAfterMs: z
    .union([z.number().int('absentAfterMs must be whole milliseconds').positive('absentAfterMs must be > 0'), z.literal(false)])
    .default(300_000),
};

/**
 * Latency SLO: the `quantile` of request duration must stay at or under
 * `thresholdMs`. As a good-event ratio: at least `quantile` of requests are
 * faster than `thresholdMs` (p95 < 800 ms = 95 % of requests within 800 ms),
 * with an error budget of `1 − quantile` and burn-rate alerts like any ratio SLO.
 */
export const latencySloSchema = z.strictObject({
  ...sloBase,
  ...requestSlo,
  kind: z.literal('latency'),
  quantile: ratio('quantile'),
  thresholdMs: z.number().positive('thresholdMs must be > 0'),
});

/** Success-rate SLO: the fraction of successful requests must stay at or above `objective`. */
export const successRateSloSchema = z.strictObject({
  ...sloBase,
  ...requestSlo,
  kind: z.literal('success-rate'),
  objective: ratio('objective'),
});

/** Error-rate SLO: the fraction of failed requests must stay at or under `max`. */
export const errorRateSloSchema = z.strictObject({
  ...sloBase,
  ...requestSlo,
  kind: z.literal('error-rate'),
  max: ratio('max'),
});

/** Cache hit-rate SLO for one named cache (or, without `cache`, all caches together): hits / (hits + misses + errors) ≥ `objective`. */
export const cacheHitRateSloSchema = z.strictObject({
  ...sloBase,
  kind: z.literal('cache-hit-rate'),
  /** The cache (`monitor.cache(name)` / `recordCache(name, …)`); omitted: every cache's lookups together. */
  cache: z.string().min(1, 'cache must name a cache').max(MAX_NAME_LENGTH, `cache must be at most ${MAX_NAME_LENGTH} characters`).optional(),
  objective: ratio('objective'),
});

/**
 * Memory SLO: heap used over the heap limit, or RSS over the cgroup limit /
 * the machine's memory, ≤ `max`. `limitBytes` replaces the limit in either case.
 */
export const memorySloSchema = z.strictObject({
  ...sloBase,
  kind: z.literal('memory'),
  of: z.enum(['heap', 'rss']).default('heap'),
  max: z.number().gt(0).lte(1).default(0.8),
  limitBytes: z.number().positive().optional(),
});

/** CPU SLO: process CPU time per wall time since the last evaluation (1 = one core busy) ≤ `max`. */
export const cpuSloSchema = z.strictObject({
  ...sloBase,
  kind: z.literal('cpu'),
  max: z.number().positive().default(0.8),
});

/** Event-loop SLO: p99 event-loop delay since the last evaluation ≤ `thresholdMs`. */
export const eventLoopSloSchema = z.strictObject({
  ...sloBase,
  kind: z.literal('event-loop-delay'),
  thresholdMs: z.number().positive().default(100),
});

/** Any SLO definition, discriminated by `kind`. */
export const sloSchema = z.discriminatedUnion('kind', [
  latencySloSchema,
  successRateSloSchema,
  errorRateSloSchema,
  cacheHitRateSloSchema,
  memorySloSchema,
  cpuSloSchema,
  eventLoopSloSchema,
]);

/** An SLO as the user writes it (defaults optional). */
export type SloInput = z.input<typeof sloSchema>;
/** An SLO after defaults are applied. */
export type SloConfig = z.output<typeof sloSchema>;
/** The SLO kinds. */
export type SloKind = SloConfig['kind'];

/**
 * The runbooks' SLO table, which `preset: 'runbook'` brings: p95 < 800 ms,
 * p99 < 2000 ms, success rate > 99.5 %, error rate < 0.5 % and cache hit rate
 * > 50 % (all caches). A user SLO with the same name replaces the preset one.
 *
 * @example
 * ```ts
 * createMonitor({ service: 'api', preset: 'runbook', slos: [{ name: 'latency-p95', kind: 'latency', quantile: 0.95, thresholdMs: 500 }] });
 * ```
 */
export const RUNBOOK_SLOS: readonly SloInput[] = [
  { name: 'latency-p95', kind: 'latency', quantile: 0.95, thresholdMs: 800, description: 'Runbook: p95 latency < 800 ms' },
  { name: 'latency-p99', kind: 'latency', quantile: 0.99, thresholdMs: 2000, description: 'Runbook: p99 latency < 2000 ms' },
  { name: 'success-rate', kind: 'success-rate', objective: 0.995, description: 'Runbook: success rate > 99.5 %' },
  { name: 'error-rate', kind: 'error-rate', max: 0.005, description: 'Runbook: error rate < 0.5 %' },
  { name: 'cache-hit-rate', kind: 'cache-hit-rate', objective: 0.5, description: 'Runbook: cache hit rate > 50 % (all caches)' },
];

/**
 * The SLOs a monitor evaluates: the preset's table (if any) with each user
 * SLO replacing the preset one of the same name, then the user's others.
 */
export function resolveSlos(preset: 'runbook' | undefined, user: readonly SloConfig[]): SloConfig[] {
  if (preset !== 'runbook') return [...user];
  const byName = new Map(user.map((s) => [s.name, s]));
  const out = RUNBOOK_SLOS.map((p) => byName.get(p.name) ?? sloSchema.parse(p));
  const presetNames = new Set(RUNBOOK_SLOS.map((p) => p.name));
  return [...out, ...user.filter((s) => !presetNames.has(s.name))];
}

/**
 * Option schemas of the incident system: detectors, hysteresis, the JSONL
 * log, notifiers and burn-rate rules. `src/config.ts` plugs them into
 * `monitorOptionsSchema`; types are inferred from here, never written twice.
 */
import { z } from 'zod';
import { inhibitRulesSchema } from './inhibition.js';
import { runbookMetaSchema } from '../runbook.js';
import { SEVERITIES, type Severity } from './types.js';
import type { Direction, Thresholds } from './thresholds.js';
import { NOTIFY_EVENTS, type Notification } from './notification.js';

const isFn = (v: unknown): boolean => typeof v === 'function';
const durationMs = (what: string) =>
  z.number({ error: `${what} must be a number of milliseconds` }).int(`${what} must be whole milliseconds`).nonnegative(`${what} must be ≥ 0`);

/** A severity name. */
export const severitySchema = z.enum(SEVERITIES);

/** Per-severity threshold overrides: a number sets that level, `null` removes it. */
export const thresholdOverridesSchema = z.strictObject({
  critical: z.number().nullable().optional(),
  high: z.number().nullable().optional(),
  medium: z.number().nullable().optional(),
  low: z.number().nullable().optional(),
});
/**
 * Threshold overrides as written in options.
 *
 * @example
 * ```ts
 * createMonitor({ service: 'api', preset: 'runbook', detectors: [{ kind: 'latency', thresholds: { low: null, high: 1500 } }] });
 * ```
 */
export type ThresholdOverrides = z.input<typeof thresholdOverridesSchema>;

const detectorCommon = {
  /** Unique detector name (default: its `kind`). A preset detector is overridden by naming it. */
  name: z.string().min(1, 'name must not be empty').max(100).optional(),
  /** Incident type to open (default per kind, e.g. `high-latency`). */
  type: z.string().min(1).max(100).optional(),
  /** `false` removes the detector (e.g. one from the preset). */
  enabled: z.boolean().default(true),
  /** Threshold overrides merged over the kind's runbook thresholds. */
  thresholds: thresholdOverridesSchema.optional(),
  /** How long the condition must hold before an incident opens (default `incidents.forMs`). */
  forMs: durationMs('forMs').optional(),
  /** How long the condition must be clear before the incident resolves (default `incidents.clearForMs`). */
  clearForMs: durationMs('clearForMs').optional(),
  /** Fewer samples than this reads as no data (default: the monitor's `minSamples`). */
  minSamples: z.number().int().nonnegative().optional(),
};

const routeScoped = { route: z.string().min(1).optional() };

/** A built-in detector as configured; `kind` picks the signal. */
export const detectorConfigSchema = z.discriminatedUnion('kind', [
  z.strictObject({ ...detectorCommon, ...routeScoped, kind: z.literal('latency'), quantile: z.number().gt(0).lt(1).default(0.95) }),
  z.strictObject({ ...detectorCommon, ...routeScoped, kind: z.literal('success-rate') }),
  z.strictObject({ ...detectorCommon, ...routeScoped, kind: z.literal('error-rate') }),
  z.strictObject({ ...detectorCommon, kind: z.literal('cache-hit-rate'), cache: z.string().min(1).optional() }),
  z.strictObject({ ...detectorCommon, ...routeScoped, kind: z.literal('rate-limit') }),
  z.strictObject({
    ...detectorCommon,
    kind: z.literal('memory'),
    of: z.enum(['heap', 'rss']).default('heap'),
    limitBytes: z.number().positive().optional(),
  }),
  z.strictObject({ ...detectorCommon, kind: z.literal('cpu') }),
  z.strictObject({ ...detectorCommon, kind: z.literal('event-loop-delay') }),
  z.strictObject({ ...detectorCommon, kind: z.literal('health') }),
]);
/**
 * A built-in detector as the user writes it.
 *
 * @example
 * ```ts
 * createMonitor({ service: 'api', detectors: [{ kind: 'latency', name: 'search-p99', route: 'GET /search', quantile: 0.99 }] });
 * ```
 */
export type DetectorConfigInput = z.input<typeof detectorConfigSchema>;
/** A built-in detector after defaults. */
export type DetectorConfig = z.output<typeof detectorConfigSchema>;
/**
 * The built-in detector kinds.
 *
 * @example
 * ```ts
 * const kind: DetectorKind = 'cache-hit-rate';
 * ```
 */
export type DetectorKind = DetectorConfig['kind'];

/**
 * What each built-in kind opens and how its signal is judged (the runbooks' table).
 *
 * @example
 * ```ts
 * KIND_DEFAULTS.latency.thresholds; // { low: 800, medium: 1000, high: 2000, critical: 5000 }
 * ```
 */
export const KIND_DEFAULTS: Readonly<Record<DetectorKind, { type: string; direction: Direction; thresholds: Thresholds }>> = {
  latency: { type: 'high-latency', direction: 'above', thresholds: { low: 800, medium: 1000, high: 2000, critical: 5000 } },
  'success-rate': { type: 'high-error-rate', direction: 'below', thresholds: { low: 0.998, medium: 0.995, high: 0.99, critical: 0.95 } },
  'error-rate': { type: 'high-error-rate', direction: 'above', thresholds: { low: 0.002, medium: 0.005, high: 0.01, critical: 0.05 } },
  'cache-hit-rate': { type: 'cache-failure', direction: 'below', thresholds: { medium: 0.5 } },
  'rate-limit': { type: 'rate-limit-attack', direction: 'above', thresholds: { medium: 0.05, high: 0.1 } },
  memory: { type: 'memory-exhaustion', direction: 'above', thresholds: { high: 0.8 } },
  cpu: { type: 'cpu-saturation', direction: 'above', thresholds: { medium: 0.8, high: 0.95 } },
  'event-loop-delay': { type: 'event-loop-lag', direction: 'above', thresholds: { medium: 100, high: 500, critical: 2000 } },
  health: { type: 'service-down', direction: 'above', thresholds: {} },
};

/**
 * The `runbook` preset: one detector per row of the runbooks' severity table
 * (latency p95 and success rate for the whole service, cache hit rate per
 * cache, memory) plus the other built-in signals (429 rate, CPU, event-loop
 * delay, health checks). Thresholds are `KIND_DEFAULTS`, overridable by name.
 *
 * @example
 * ```ts
 * createMonitor({ service: 'api', preset: 'runbook', detectors: [{ kind: 'cpu', enabled: false }] });
 * ```
 */
export const RUNBOOK_PRESET: readonly DetectorConfigInput[] = [
  { kind: 'latency', quantile: 0.95 },
  { kind: 'success-rate' },
  { kind: 'cache-hit-rate' },
  { kind: 'rate-limit' },
  { kind: 'memory' },
  { kind: 'cpu' },
  { kind: 'event-loop-delay' },
  { kind: 'health' },
];

/** Hysteresis, lifecycle and bounds of the incident system. */
export const incidentOptionsSchema = z
  .strictObject({
    /** A condition must hold this long before an incident opens. */
    forMs: durationMs('forMs').default(60_000),
    /** A condition must be clear this long before the incident auto-resolves (and before severity drops). */
    clearForMs: durationMs('clearForMs').default(120_000),
    /** Re-firing within this long after resolution reopens the same incident. */
    reopenWithinMs: durationMs('reopenWithinMs').default(600_000),
    /** Resolve automatic incidents once their signal has been clear for `clearForMs`. */
    autoResolve: z.boolean().default(true),
    /** Emit `incident:overdue` when an incident is not acknowledged within its priority's response time. */
    overdue: z.boolean().default(true),
    /** Resolved incidents kept in memory (oldest evicted first). */
    maxResolved: z.number().int().positive().max(100_000).default(1_000),
    /** Unresolved incidents at most; further automatic ones are dropped and counted. */
    maxActive: z.number().int().positive().max(10_000).default(500),
    /** Timeline entries per incident; beyond it the oldest (after the first) are dropped and counted. */
    maxTimeline: z.number().int().min(10).max(100_000).default(500),
    /** Notes per incident; adding more throws a `LimitError`. */
    maxNotes: z.number().int().positive().max(10_000).default(200),
    /** Action items per incident; adding more throws a `LimitError`. */
    maxActionItems: z.number().int().positive().max(10_000).default(100),
    /** Conditions tracked while pending; beyond it new ones are ignored and counted. */
    maxPending: z.number().int().positive().max(100_000).default(1_000),
    /**
     * Inhibition rules: while an incident matching a rule's `source` is unresolved (or its
     * condition is pending), a new incident matching its `target` is recorded but pages nobody
     * and runs no auto-remediation; it pages if it still fires when the source resolves.
     * Default `DEFAULT_INHIBIT_RULES`: `high-error-rate` explains `slo-burn`, a
     * service-wide `rate-limit-attack` explains each limiter's. `[]` turns inhibition off.
     */
    inhibit: inhibitRulesSchema,
    /**
     * Per incident type settings, keyed by type (`high-latency`, a custom type…): `runbook`
     * (owner, runbook URL, escalation contacts) is carried by every incident of that type
     * (an SLO's own `runbook` wins, field by field, for `slo:<name>` scoped incidents).
     */
    types: z
      .record(z.string().min(1, 'incident type must not be empty').max(100, 'incident type must be at most 100 characters'), z.strictObject({ runbook: runbookMetaSchema.optional() }))
      .refine((t) => Object.keys(t).length <= 200, { message: 'at most 200 incident types' })
      .optional(),
  })
  .prefault({});
/**
 * Incident options as written.
 *
 * @example
 * ```ts
 * createMonitor({ service: 'api', incidents: { forMs: 30_000, clearForMs: 300_000, maxResolved: 200 } });
 * ```
 */
export type IncidentOptionsInput = z.input<typeof incidentOptionsSchema>;
/** Incident options after defaults. */
export type IncidentOptions = z.output<typeof incidentOptionsSchema>;

/** The JSONL incident log. */
export const incidentLogSchema = z.strictObject({
  /** File to append to (created with its directory). `<path>.1` holds the previous file after rotation. */
  path: z.string().min(1, 'path must not be empty'),
  /** `always`: fsync after every batch; `interval`: at most every `fsyncIntervalMs`; `never`: leave it to the OS. */
  fsync: z.enum(['always', 'interval', 'never']).default('interval'),
  fsyncIntervalMs: z.number().int().positive().default(1_000),
  /** Rotate once the file reaches this size: it becomes `<path>.1` and the new file starts with a snapshot. */
  maxBytes: z
    .number()
    .int()
    .min(4_096, 'maxBytes must be at least 4096')
    .default(10 * 1024 * 1024),
  /** Lines waiting to be written at most; beyond it new lines are dropped and counted. */
  maxBufferedLines: z.number().int().positive().max(1_000_000).default(10_000),
});
/**
 * Incident log options as written.
 *
 * @example
 * ```ts
 * createMonitor({ service: 'api', incidentLog: { path: 'logs/incidents.jsonl', fsync: 'always', maxBytes: 5 * 1024 * 1024 } });
 * ```
 */
export type IncidentLogInput = z.input<typeof incidentLogSchema>;
/** Incident log options after defaults. */
export type IncidentLogOptions = z.output<typeof incidentLogSchema>;

export { NOTIFY_EVENTS, type IncidentEventName } from './notification.js';

/**
 * A notifier function: receives each notification; may return a promise.
 * `signal` aborts when the attempt times out (`timeoutMs`) or the monitor
 * closes: pass it to `fetch` so an abandoned attempt stops.
 *
 * @example
 * ```ts
 * createMonitor({ service: 'api', notifiers: [async (n) => pager.page(n.incident.summary)] });
 * ```
 */
export type NotifierFn = (notification: Notification, signal: AbortSignal) => void | Promise<void>;

const notifierFnSchema = z.custom<NotifierFn>(isFn, { message: 'expected a function (notification) => void | Promise<void>' });

const delivery = {
  /** Shown in stats (default `notifier-<index>` or the webhook host). */
  name: z.string().min(1).max(100).optional(),
  /** An attempt taking longer is abandoned (and aborted, for webhooks). */
  timeoutMs: z.number().int().positive().default(5_000),
  /** Further attempts after a failure. */
  retries: z.number().int().min(0).max(10).default(3),
  /**
   * Backoff base: retry n waits a random time in [0, min(maxBackoffMs,
   * backoffMs × 2^(n-1))] (full jitter), unless the webhook answered with a
   * `Retry-After` (seconds or HTTP date), which is honoured up to `maxBackoffMs`.
   */
  backoffMs: z.number().int().nonnegative().default(1_000),
  /** Longest wait before a retry, `Retry-After` included. */
  maxBackoffMs: z.number().int().nonnegative().default(30_000),
  /** Notifications waiting at most; beyond it new ones are dropped and counted. */
  queueSize: z.number().int().positive().max(100_000).default(100),
  /** Events to deliver (default: all but `incident:updated`). */
  events: z.array(z.enum(NOTIFY_EVENTS)).min(1).optional(),
};

/** A notifier: a function, `{ notify: fn, …options }` or `{ webhook: url, …options }`. */
export const notifierSchema = z.union([
  notifierFnSchema,
  z.strictObject({ ...delivery, notify: notifierFnSchema }),
  z.strictObject({
    ...delivery,
    /** URL to POST a JSON body to. */
    webhook: z.url({ protocol: /^https?$/, error: 'webhook must be an http(s) URL' }),
    /** Extra request headers (e.g. authorization). */
    headers: z.record(z.string(), z.string()).optional(),
    /** `json`: `{ event, service, at, incident, text }`; `slack`: a Slack incoming-webhook payload. */
    format: z.enum(['json', 'slack']).default('json'),
  }),
]);
/**
 * A notifier as written.
 *
 * @example
 * ```ts
 * createMonitor({ service: 'api', notifiers: [{ webhook: 'https://hooks.slack.com/services/…', format: 'slack', timeoutMs: 3_000, retries: 2 }] });
 * ```
 */
export type NotifierInput = z.input<typeof notifierSchema>;
/** A notifier after defaults. */
export type NotifierConfig = z.output<typeof notifierSchema>;

/** One multi-window burn-rate rule: fires when both windows burn at ≥ `factor`. */
export const burnRuleSchema = z.strictObject({
  name: z.string().min(1).max(100),
  severity: severitySchema,
  factor: z.number().positive(),
  longMs: z.number().int().positive(),
  shortMs: z.number().int().positive(),
  /**
   * Events each window must hold before the rule is judged. Default: the
   * smallest count at which one bad event cannot reach `factor` on its own,
   * `⌊1 / (allowed × factor)⌋ + 1` (70 for 14.4× on a 99.9 % SLO), and at
   * least `burnRate.minSamples`. Lower it for low-traffic services that
   * accept a page on a handful of failures.
   */
  minEvents: z.number().int().positive().optional(),
  /**
   * `false` (default): a window younger than its length (since the monitor
   * started) is not judged, so a restart or deploy never pages on a few
   * minutes of data read as an hour. `true`: judge it on its observed part
   * (still subject to `minEvents`) — faster paging after a start, more
   * false pages on random errors.
   */
  partial: z.boolean().default(false),
});
/**
 * A burn-rate rule.
 *
 * @example
 * ```ts
 * createMonitor({ service: 'api', slos, burnRate: { rules: [{ name: 'page', severity: 'critical', factor: 10, longMs: 3_600_000, shortMs: 300_000 }] } });
 * ```
 */
export type BurnRule = z.output<typeof burnRuleSchema>;

/**
 * The SRE-workbook defaults: page at 14.4× (1 h & 5 m) and 6× (6 h & 30 m), ticket at 3× (1 d & 2 h).
 *
 * @example
 * ```ts
 * DEFAULT_BURN_RULES.map((r) => `${r.name}: ${r.factor}×`);
 * ```
 */
export const DEFAULT_BURN_RULES: readonly BurnRule[] = [
  { name: 'page-fast', severity: 'critical', factor: 14.4, longMs: 3_600_000, shortMs: 300_000, partial: false },
  { name: 'page-slow', severity: 'high', factor: 6, longMs: 21_600_000, shortMs: 1_800_000, partial: false },
  { name: 'ticket', severity: 'medium', factor: 3, longMs: 86_400_000, shortMs: 7_200_000, partial: false },
];

/** Multi-window, multi-burn-rate alerting on every good-event-ratio SLO (success rate, error rate, latency, cache hit rate). */
export const burnRateSchema = z
  .strictObject({
    enabled: z.boolean().default(true),
    /** The SLO period the error budget is spread over (default 30 days): budgets in `evaluate()` cover it. */
    periodMs: z.number().int().positive().default(30 * 86_400_000),
    /** Slot size of the coarse counters that back the long windows. */
    slotMs: z.number().int().positive().default(60_000),
    rules: z
      .array(burnRuleSchema)
      .min(1)
      .max(10)
      .default(() => DEFAULT_BURN_RULES.map((r) => ({ ...r }))),
    /** Burn-rate alerts are already windowed: by default they open as soon as a rule fires. */
    forMs: durationMs('forMs').default(0),
    /** Clear time before resolving (default `incidents.clearForMs`). */
    clearForMs: durationMs('clearForMs').optional(),
    /** Floor of every rule's default `minEvents` (default: the monitor's `minSamples`). */
    minSamples: z.number().int().nonnegative().optional(),
    /**
     * File the burn-rate windows and the budget period are saved to (every `slotMs`, on
     * `flush()` and `close()`) and restored from at start (docs/slo-semantics.md, "Across
     * restarts"). Default: `<incidentLog.path>.burn-rate.json` when `incidentLog` is set, else
     * none; `false` turns it off.
     */
    stateFile: z.union([z.string().min(1, 'stateFile must not be empty'), z.literal(false)]).optional(),
  })
  .prefault({})
  .superRefine((b, ctx) => {
    b.rules.forEach((r, i) => {
      if (r.shortMs >= r.longMs) ctx.addIssue({ code: 'custom', path: ['rules', i, 'shortMs'], message: 'shortMs must be shorter than longMs' });
      if (r.shortMs < b.slotMs) ctx.addIssue({ code: 'custom', path: ['rules', i, 'shortMs'], message: 'shortMs must be at least slotMs' });
    });
    const longest = Math.max(...b.rules.map((r) => r.longMs));
    if (longest / b.slotMs > 20_000) {
      ctx.addIssue({ code: 'custom', path: ['slotMs'], message: 'longest rule window / slotMs must be ≤ 20000 slots' });
    }
  });
/**
 * Burn-rate options as written.
 *
 * @example
 * ```ts
 * createMonitor({ service: 'api', slos, burnRate: { periodMs: 28 * 86_400_000 } });
 * ```
 */
export type BurnRateInput = z.input<typeof burnRateSchema>;
/** Burn-rate options after defaults. */
export type BurnRateOptions = z.output<typeof burnRateSchema>;

/** A thresholds record whose keys are severities. */
export type SeverityRecord<T> = { [K in Severity]?: T };

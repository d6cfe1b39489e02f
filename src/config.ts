import { historyOptionsSchema } from './history.js';
import { z } from 'zod';
import { sloSchema } from './slo/schema.js';
import type { Registry } from 'prom-client';
import type { Clock } from './clock.js';
import { ConfigError } from './errors.js';
import type { ResourceProbes } from './metrics/process.js';
import { loggerSchema } from './logger.js';
import { actionsOptionsSchema } from './actions/types.js';
import { playbooksOptionSchema } from './actions/playbooks.js';
import { autoRemediateSchema } from './actions/remediation.js';
import {
  burnRateSchema,
  detectorConfigSchema,
  incidentLogSchema,
  incidentOptionsSchema,
  notifierSchema,
} from './incidents/config.js';

const isFn = (v: unknown): boolean => typeof v === 'function';

/** zod schema of a {@link Clock}: any object with the four methods. */
export const clockSchema = z.custom<Clock>(
  (v) =>
    typeof v === 'object' &&
    v !== null &&
    ['now', 'monotonic', 'setTimeout', 'clearTimeout'].every((k) => isFn((v as Record<string, unknown>)[k])),
  { message: 'expected a Clock: an object with now(), monotonic(), setTimeout() and clearTimeout()' },
);

export {
  latencySloSchema,
  successRateSloSchema,
  errorRateSloSchema,
  cacheHitRateSloSchema,
  memorySloSchema,
  cpuSloSchema,
  eventLoopSloSchema,
  sloSchema,
  RUNBOOK_SLOS,
  resolveSlos,
  type SloInput,
  type SloConfig,
  type SloKind,
} from './slo/schema.js';

/** Options of `createMonitor()`. Types are inferred from this schema. */
export const monitorOptionsSchema = z
  .strictObject({
    /** Service name, shown in stats, messages and metric help. */
    service: z.string().min(1, 'service must not be empty').max(100),
    /** This process's name among the service's replicas: in audit entries and action executions (default `<hostname>-<pid>`; `redisFleet` sets its own). */
    replica: z.string().min(1, 'replica must not be empty').max(128).regex(/^[\w.:-]+$/, 'replica: letters, digits and . _ : - only').optional(),
    /** Time source; defaults to the system clock (which follows `vi.useFakeTimers()`). */
    clock: clockSchema.optional(),
    /** The objectives to evaluate (with `preset: 'runbook'`, added to or replacing by name the runbooks' SLO table, {@link RUNBOOK_SLOS}). */
    slos: z.array(sloSchema).max(1_000).default([]),
    /** Rolling window: `durationMs` split into slots of `slotMs` (default 5 minutes in 10-second slots). */
    window: z
      .strictObject({
        durationMs: z.number().int().positive().default(300_000),
        slotMs: z.number().int().positive().default(10_000),
      })
      .default({ durationMs: 300_000, slotMs: 10_000 })
      .refine((w) => w.durationMs % w.slotMs === 0, {
        message: 'durationMs must be a whole multiple of slotMs',
      })
      .refine((w) => w.durationMs / w.slotMs <= 360, { message: 'at most 360 slots per window' }),
    /** Cap on distinct route series; later routes share `__other__` and are counted. */
    maxRoutes: z.number().int().positive().max(10_000).default(200),
    /** Cap on distinct cache series; later caches share `__other__`. */
    maxCaches: z.number().int().positive().max(1_000).default(50),
    /** Minimum samples in the window before a request or cache SLO is judged. */
    minSamples: z.number().int().nonnegative().default(20),
    /** Period of the evaluation that `start()` schedules. */
    evaluateEveryMs: z.number().int().positive().default(10_000),
    /** Server-side history for the dashboard and `firebreak status --history`: a snapshot per `intervalMs` (default 10 s) over `durationMs` (default 1 h), within `maxBytes` (default 1 MiB). */
    history: historyOptionsSchema,
    /**
     * Decides success from a status code when `ok` is not given (default: status < 500).
     * Runs on the hot path and must be synchronous: if it throws or returns a promise,
     * the default decides (a returned promise is never left to reject unhandled).
     */
    classify: z
      .custom<(status: number) => boolean>(isFn, { message: 'classify must be a function (status) => boolean' })
      .optional(),
    /** Histogram range and accuracy (default 0.01 ms .. 1 h at 1 %). */
    histogram: z
      .strictObject({
        minMs: z.number().positive().default(0.01),
        maxMs: z.number().positive().default(3_600_000),
        relativeError: z.number().gte(0.001).lte(0.1).default(0.01),
      })
      .default({ minMs: 0.01, maxMs: 3_600_000, relativeError: 0.01 })
      .refine((h) => h.maxMs > h.minMs, { message: 'maxMs must be greater than minMs' }),
    /** Prometheus exposition. */
    prometheus: z
      .strictObject({
        /** A prom-client Registry to register into (default: a new one per monitor, never the global). */
        registry: z
          .custom<Registry>(
            (v) => typeof v === 'object' && v !== null && isFn((v as Record<string, unknown>)['registerMetric']),
            { message: 'registry must be a prom-client Registry' },
          )
          .optional(),
        /** Metric name prefix. */
        prefix: z
          .string()
          .regex(/^[a-zA-Z_:][a-zA-Z0-9_:]*$/, 'prefix must be a valid Prometheus metric name start')
          .default('firebreak_'),
        /** `le` bounds, in seconds, of the request-duration histogram. */
        buckets: z
          .array(z.number().positive())
          .min(1)
          .max(64)
          .default([0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 0.8, 1, 2, 2.5, 5, 10])
          .refine((b) => b.every((v, i) => i === 0 || v > b[i - 1]!), { message: 'buckets must be ascending' }),
        /** Also collect prom-client's default process metrics into the registry. */
        defaultMetrics: z.boolean().default(false),
      })
      .default({
        prefix: 'firebreak_',
        buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 0.8, 1, 2, 2.5, 5, 10],
        defaultMetrics: false,
      }),
    /** Replaces how memory, CPU and event-loop delay are read (tests inject fixed values). */
    probes: z
      .custom<Partial<ResourceProbes>>((v) => typeof v === 'object' && v !== null, {
        message: 'probes must be an object of probe functions',
      })
      .optional(),
    /** Emergency-action registry: audit size, executions kept, default timeout. */
    actions: actionsOptionsSchema,
    /** Playbooks by incident type: `runbook` (default), `none`, or a table (spread `RUNBOOK_PLAYBOOKS` to extend it). */
    playbooks: playbooksOptionSchema,
    /** Run the safe `auto` steps of playbooks when incidents open or escalate: `true` or a policy. Off by default. */
    autoRemediate: autoRemediateSchema,
    /**
     * `runbook`: the runbooks' SLO table as SLOs ({@link RUNBOOK_SLOS}: p95 < 800 ms, p99 < 2 s, success > 99.5 %,
     * errors < 0.5 %, cache hit rate > 50 %; a user SLO of the same name replaces one) and their severity table as
     * detectors (latency, success rate, cache, memory, 429s, CPU, event loop, health).
     */
    preset: z.enum(['runbook']).optional(),
    /** Built-in detectors: extra ones, or overrides of preset ones by name (`enabled: false` removes one). */
    detectors: z.array(detectorConfigSchema).max(100).default([]),
    /** Incident hysteresis, lifecycle and bounds. */
    incidents: incidentOptionsSchema,
    /** Append every incident change to a JSONL file and restore from it on start. */
    incidentLog: incidentLogSchema.optional(),
    /** Receive incident events off the hot path: functions or `{ webhook: url }`. */
    notifiers: z.array(notifierSchema).max(20).default([]),
    /** Multi-window, multi-burn-rate alerts and error budgets on every good-event-ratio SLO. */
    burnRate: burnRateSchema,
    /**
     * Where contained errors (listeners, notifiers, the incident log, health
     * checks, detectors, actions) are logged: a pino, console or other object
     * with `error`, `warn`, `info` and `debug` (`child()` is used when
     * present). Default: one Node process warning per kind, then counts only.
     */
    logger: loggerSchema.optional(),
  })
  .superRefine((opts, ctx) => {
    const detectorNames = new Set<string>();
    opts.detectors.forEach((d, i) => {
      const name = d.name ?? d.kind;
      if (detectorNames.has(name)) {
        ctx.addIssue({ code: 'custom', path: ['detectors', i, 'name'], message: `duplicate detector name "${name}"` });
      }
      detectorNames.add(name);
    });
    const seen = new Set<string>();
    opts.slos.forEach((slo, i) => {
      if (seen.has(slo.name)) {
        ctx.addIssue({ code: 'custom', path: ['slos', i, 'name'], message: `duplicate SLO name "${slo.name}"` });
      }
      seen.add(slo.name);
    });
  });

/** Options accepted by `createMonitor()`. */
export type MonitorOptions = z.input<typeof monitorOptionsSchema>;
/** Options after validation and defaults. */
export type ResolvedMonitorOptions = z.output<typeof monitorOptionsSchema>;

/**
 * Parses `input` with `schema`, throwing a {@link ConfigError} that names every
 * bad field path.
 *
 * @example
 * ```ts
 * const opts = parseConfig(monitorOptionsSchema, 'monitor options', { service: 'api' });
 * ```
 */
export function parseConfig<S extends z.ZodType>(schema: S, what: string, input: unknown): z.output<S> {
  const result = schema.safeParse(input);
  if (!result.success) throw ConfigError.fromZod(what, result.error);
  return result.data;
}

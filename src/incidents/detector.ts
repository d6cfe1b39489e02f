import { z } from 'zod';
import { ConfigError } from '../errors.js';
import { containAsync } from '../safe-call.js';
import type { MemoryReading } from '../metrics/process.js';
import type { SeriesStore } from '../metrics/series-store.js';
import { severitySchema, thresholdOverridesSchema } from './config.js';
import { mergeThresholds, severityFor, thresholdProblems, type Direction, type Thresholds } from './thresholds.js';
import { SEVERITIES, type Severity, type SignalReading } from './types.js';

/**
 * What a detector saw for one scope in one evaluation. `severity: null`
 * means the condition is clear. A scope the detector has no (or too little)
 * data for is simply not reported: no data neither opens nor resolves.
 */
export interface Observation {
  scope: string;
  severity: Severity | null;
  /** Overrides the detector's incident type for this observation (health checks). */
  type?: string;
  signal?: SignalReading;
  /** One line describing the condition, used as the incident summary. */
  summary?: string;
}

/** Everything a detector may read during one evaluation. */
export interface DetectionContext {
  now: number;
  store: SeriesStore;
  /** The monitor's minimum sample count. */
  minSamples: number;
  memory(): MemoryReading;
  /** Process CPU (1 = one core) since the previous evaluation, or null before two samples. */
  cpu: number | null;
  /** p99 event-loop delay (ms) since the previous evaluation, or null when not sampled. */
  eventLoopDelayMs: number | null;
  /**
   * 429s the monitor's own rate limiters produced over the last `windowMs` only because their
   * limit was lowered below the configured one (rejections of keys within the configured limit).
   * The service-wide 429-rate detector subtracts them: they are not evidence of an attack.
   */
  ownRateLimited?: ((windowMs: number) => number) | undefined;
}

/** A source of observations. Built-ins come from options; custom ones from `monitor.detector()`. */
export interface Detector {
  readonly name: string;
  /** Incident type opened (an observation may override it). */
  readonly type: string;
  readonly forMs?: number | undefined;
  readonly clearForMs?: number | undefined;
  observe(ctx: DetectionContext): Observation[];
}

/**
 * What a custom detector's `evaluate` may return.
 *
 * @example
 * ```ts
 * monitor.detector({ type: 'model-failure', evaluate: () => (model.loaded ? false : 'critical') });
 * ```
 */
export type DetectorReading = number | boolean | Severity | 'ok' | null | undefined;

/** A custom detector definition, for `monitor.detector()`. */
export const customDetectorSchema = z.strictObject({
  /** Incident type to open, e.g. `model-failure` or `certificate-expiry`. */
  type: z.string().trim().min(1, 'type must not be empty').max(100),
  /** Unique detector name (default: the type). */
  name: z.string().trim().min(1).max(100).optional(),
  /** What the incident is about (default `service`). One open incident per (type, scope). */
  scope: z.string().trim().min(1).max(200).default('service'),
  /**
   * Reads the signal, synchronously: a number (judged against `thresholds`), a
   * boolean (`true` = firing at `severity`), a severity, `false`/`'ok'` = clear,
   * `null`/`undefined` = no reading this time.
   */
  evaluate: z.custom<() => DetectorReading>((v) => typeof v === 'function', { message: 'evaluate must be a function' }),
  /** Thresholds for numeric readings; required when `evaluate` returns numbers. */
  thresholds: thresholdOverridesSchema.optional(),
  /** `above` (default): higher is worse; `below`: lower is worse (e.g. certificate days left). */
  direction: z.enum(['above', 'below']).default('above'),
  /** Severity of a `true` reading (default `high`). */
  severity: severitySchema.default('high'),
  forMs: z.number().int().nonnegative().optional(),
  clearForMs: z.number().int().nonnegative().optional(),
  /** Name of the signal in summaries (default: the detector name). */
  signal: z.string().min(1).max(100).optional(),
  unit: z.enum(['ms', 'ratio', 'count', 'number']).default('number'),
  /** Incident summary for a firing reading (default: generated from the signal). */
  summary: z.custom<(value: number | boolean | string, severity: Severity) => string>((v) => typeof v === 'function').optional(),
});
/**
 * A custom detector as written.
 *
 * @example
 * ```ts
 * monitor.detector({ type: 'disk-space-low', scope: 'disk:/data', evaluate: () => freeRatio('/data'), direction: 'below', unit: 'ratio', thresholds: { medium: 0.2, critical: 0.05 } });
 * ```
 */
export type CustomDetectorInput = z.input<typeof customDetectorSchema>;

/**
 * A detector defined by a function, for signals firebreak does not measure
 * itself: model loaded, index integrity, certificate days left, disk free,
 * drift score, canary health…
 */
export class CustomDetector implements Detector {
  readonly name: string;
  readonly type: string;
  readonly forMs: number | undefined;
  readonly clearForMs: number | undefined;
  private readonly def: z.output<typeof customDetectorSchema>;
  private readonly thresholds: Thresholds | undefined;

  constructor(input: CustomDetectorInput) {
    const r = customDetectorSchema.safeParse(input);
    if (!r.success) throw ConfigError.fromZod('detector', r.error);
    this.def = r.data;
    this.name = r.data.name ?? r.data.type;
    this.type = r.data.type;
    this.forMs = r.data.forMs;
    this.clearForMs = r.data.clearForMs;
    if (r.data.thresholds !== undefined) {
      const t = mergeThresholds({}, r.data.thresholds);
      const problems = thresholdProblems(t, r.data.direction);
      if (problems.length > 0) throw new ConfigError('detector', problems.map((message) => ({ path: 'thresholds', message })));
      this.thresholds = t;
    }
  }

  observe(ctx: DetectionContext): Observation[] {
    const reading = this.def.evaluate();
    const scope = this.def.scope;
    const signalName = this.def.signal ?? this.name;
    if (reading === null || reading === undefined) return [];
    if (reading === false || reading === 'ok') return [{ scope, severity: null }];
    if (reading === true) return [{ scope, severity: this.def.severity, summary: this.summarise(true, this.def.severity, `${signalName} is failing`) }];
    if (typeof reading === 'string') {
      if (!(SEVERITIES as readonly string[]).includes(reading)) throw new TypeError(`detector ${this.name} returned an unknown severity "${reading}"`);
      const severity = reading as Severity;
      return [{ scope, severity, summary: this.summarise(reading, severity, `${signalName}: ${severity}`) }];
    }
    if (typeof reading === 'number') {
      if (!Number.isFinite(reading)) throw new TypeError(`detector ${this.name} returned a non-finite number (${reading})`);
      if (this.thresholds === undefined) throw new TypeError(`detector ${this.name} returned a number but has no thresholds`);
      const direction: Direction = this.def.direction;
      const crossing = severityFor(reading, this.thresholds, direction);
      const signal: SignalReading = { name: signalName, value: reading, unit: this.def.unit, direction, at: ctx.now };
      if (crossing === null) return [{ scope, severity: null, signal }];
      signal.threshold = crossing.threshold;
      const word = direction === 'above' ? 'above' : 'below';
      return [
        {
          scope,
          severity: crossing.severity,
          signal,
          summary: this.summarise(reading, crossing.severity, `${signalName} ${reading} is ${word} ${crossing.threshold} (${crossing.severity})`),
        },
      ];
    }
    if (typeof (reading as { then?: unknown }).then === 'function') {
      // Counted once, as this error; the promise's own rejection must not also reach the host.
      containAsync(reading);
      throw new TypeError(`detector ${this.name} must be synchronous (evaluate returned a promise)`);
    }
    throw new TypeError(`detector ${this.name} returned an unsupported value (${typeof reading})`);
  }

  private summarise(value: number | boolean | string, severity: Severity, fallback: string): string {
    if (this.def.summary === undefined) return fallback;
    const s: unknown = this.def.summary(value, severity);
    if (typeof s === 'string') return s.trim() !== '' ? s.slice(0, 1_000) : fallback;
    if (typeof s === 'object' && s !== null && typeof (s as { then?: unknown }).then === 'function') {
      containAsync(s);
      throw new TypeError(`detector ${this.name}: summary must be synchronous (it returned a promise)`);
    }
    return fallback;
  }
}

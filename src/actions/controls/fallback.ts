import { z } from 'zod';
import type { Clock } from '../../clock.js';
import { ConfigError, ValidationError } from '../../errors.js';
import { CounterRing } from '../../metrics/counter-ring.js';
import { containAsync, guardedAbort, type AbortHandle } from '../../safe-call.js';
import type { ActionRegistry } from '../registry.js';
import { fallbackDetectorSchema } from './detector-options.js';

/**
 * Probes of a forced fallback: a small share of calls still goes to the
 * primary (half-open, as a circuit breaker), so a recovered primary is seen
 * and the model-failure incident can resolve — and its auto fallback revert —
 * by itself. Off by default (`false`): a probe sends a real call to a primary
 * known to be failing; opt in per wrapper, ideally with a `timeoutMs`.
 */
export const fallbackProbeSchema = z
  .union([
    z.literal(false),
    z.strictObject({
      /** Share of forced calls sent to the primary (0.01: one in a hundred). */
      share: z.number().gt(0, 'share must be > 0').lte(1, 'share must be ≤ 1').default(0.01),
      /** Least time between two probes. */
      minIntervalMs: z.number().int().nonnegative().max(3_600_000).default(1_000),
      /** Probes needed (since the fallback was forced) before they count as a reading. */
      minCalls: z.number().int().positive().max(10_000).default(5),
    }),
  ])
  .default(false);
import { namedParams, pick } from './named.js';
import { str, type ChangeLatch, type SharedState } from '../../change-latch.js';

const isFn = (v: unknown): boolean => typeof v === 'function';

/** Options of `monitor.fallback(name, opts)` (functions typed on {@link FallbackOptions}). */
export const fallbackOptionsSchema = z.strictObject({
  primary: z.custom<(...args: never[]) => unknown>(isFn, { message: 'primary must be a function' }).optional(),
  /** Instead of `primary`: called with an `AbortSignal` first, aborted when `timeoutMs` passes. */
  abortablePrimary: z.custom<(...args: never[]) => unknown>(isFn, { message: 'abortablePrimary must be a function' }).optional(),
  fallback: z.custom<(...args: never[]) => unknown>(isFn, { message: 'fallback must be a function' }),
  /** A primary slower than this is answered by the fallback (and counted as a timeout). No limit by default. */
  timeoutMs: z.number().int().positive().max(3_600_000).optional(),
  description: z.string().max(500).optional(),
  /** The model-failure detector on the primary's failure rate (`false`: none). */
  detector: fallbackDetectorSchema,
  /** Probes to the primary while forced (`false`, the default: none). */
  probe: fallbackProbeSchema,
}).superRefine((o, ctx) => {
  if ((o.primary === undefined) === (o.abortablePrimary === undefined)) {
    ctx.addIssue({ code: 'custom', path: ['primary'], message: 'give exactly one of primary and abortablePrimary' });
  }
});

/**
 * Options of `monitor.fallback(name, opts)`.
 *
 * @example
 * ```ts
 * const opts: FallbackOptions<[string], Hit[]> = { primary: crossEncoder, fallback: hybridOnly, timeoutMs: 300 };
 * ```
 */
export interface FallbackOptions<A extends unknown[], R> {
  /** The preferred implementation (e.g. the cross-encoder reranker). Give this or `abortablePrimary`. */
  primary?: (...args: A) => R | Promise<R>;
  /**
   * The preferred implementation, told when to stop: called as
   * `abortablePrimary(signal, ...args)`; `signal` aborts (a `TimeoutError`)
   * when `timeoutMs` passes and the fallback answers instead. Pass it to
   * `fetch`/undici so the abandoned request is cancelled, not left running.
   * A listener on it that throws is contained. Give this or `primary`.
   */
  abortablePrimary?: (signal: AbortSignal, ...args: A) => R | Promise<R>;
  /** The degraded but dependable one (e.g. hybrid search only). */
  fallback: (...args: A) => R | Promise<R>;
  timeoutMs?: number;
  description?: string;
  /** Model-failure detector settings, or `false` for none (default: on, failure rate ≥ 5 % medium, 20 % high, 50 % critical). */
  detector?: z.input<typeof fallbackDetectorSchema>;
  /** While forced, send a share of calls to the primary so recovery is observable (default `false`: no probes). */
  probe?: z.input<typeof fallbackProbeSchema>;
}

/**
 * A fallback wrapper's state and counters.
 *
 * @example
 * ```ts
 * const { forced, primaryTimeouts, recent } = ranker.stats();
 * ```
 */
export interface FallbackStats {
  name: string;
  forced: boolean;
  reason?: string;
  forcedBy?: string;
  forcedAt?: number;
  timeoutMs?: number;
  /** Calls that tried the primary, since creation. */
  primaryCalls: number;
  primarySuccesses: number;
  /** Primary throws or rejections. */
  primaryErrors: number;
  /** Primaries slower than `timeoutMs`. */
  primaryTimeouts: number;
  /** Calls answered by the fallback (forced or after a primary failure). */
  fallbackCalls: number;
  /** Calls answered by the fallback because it was forced. */
  forcedCalls: number;
  /** Fallback throws or rejections (passed on to the caller). */
  fallbackErrors: number;
  /** Over the last 5 minutes: the model-failure signal. */
  recent: { primaryCalls: number; failures: number; failureRate: number | null; windowMs: number };
  /** Probe calls to the primary while forced, since creation (also counted in `primaryCalls`). */
  probes: number;
  /** Probes that failed or timed out. */
  probeFailures: number;
}

const PRIMARY = 0;
const FAILED = 1;
const PROBE = 2;
const PROBE_FAILED = 3;

// Bounded like every other who/why a control keeps.
const forceSchema = z.strictObject({ reason: z.string().max(500).optional(), by: z.string().min(1).max(200).optional() }).default({});

/**
 * Calls a primary implementation and falls back to a secondary one when the
 * primary throws, rejects or is slower than `timeoutMs` (timed on the
 * monitor's clock) — or always, while forced. Primary failures are counted
 * over a rolling 5 minutes: the model-failure signal.
 *
 * @example
 * ```ts
 * const ranker = monitor.fallback('ranker', { primary: crossEncoder, fallback: hybridOnly, timeoutMs: 300 });
 * const results = await ranker.run(query);
 * ranker.force({ reason: 'model OOM' }); // every call goes to the fallback until restore()
 * ```
 */
export class Fallback<A extends unknown[] = unknown[], R = unknown> {
  readonly name: string;
  /** @internal Detector settings (`false`: none). */
  readonly detector: z.output<typeof fallbackDetectorSchema>;
  /** @internal Probe settings (`false`: none). */
  readonly probe: z.output<typeof fallbackProbeSchema>;
  private readonly clock: Clock;
  private readonly primary: ((...args: A) => R | Promise<R>) | undefined;
  private readonly abortable: ((signal: AbortSignal, ...args: A) => R | Promise<R>) | undefined;
  private readonly secondary: (...args: A) => R | Promise<R>;
  private readonly timeoutMs: number | undefined;
  private forced = false;
  private forcedInfo: { reason?: string; by: string; at: number } | undefined;
  private readonly recent = new CounterRing(10_000, 30, 4);
  private probeCount = 0;
  private probeFailures = 0;
  private sinceProbe = 0;
  private lastProbeAt = -Infinity;
  private primaryCalls = 0;
  private primarySuccesses = 0;
  private primaryErrors = 0;
  private primaryTimeouts = 0;
  private fallbackCalls = 0;
  private forcedCalls = 0;
  private fallbackErrors = 0;
  /** @internal The monitor's change latch (set by `Controls`). */
  shared: ChangeLatch | undefined;

  constructor(name: string, clock: Clock, options: FallbackOptions<A, R>) {
    const parsed = fallbackOptionsSchema.safeParse(options);
    if (!parsed.success) throw ConfigError.fromZod(`fallback "${name}" options`, parsed.error);
    this.name = name;
    this.clock = clock;
    this.primary = options.primary;
    this.abortable = options.abortablePrimary;
    this.secondary = options.fallback;
    this.timeoutMs = parsed.data.timeoutMs;
    this.detector = parsed.data.detector;
    this.probe = parsed.data.probe;
  }

  /**
   * Answers with the primary unless forced, failing or too slow; then with
   * the fallback. Rejects only if the fallback itself fails.
   *
   * @example
   * ```ts
   * const results = await ranker.run(query, { limit: 10 });
   * ```
   */
  run(...args: A): Promise<R> {
    if (this.forced) {
      if (!this.probeDue()) {
        this.forcedCalls++;
        return this.callFallback(args);
      }
      this.probeCount++;
      return this.callPrimary(args, true);
    }
    return this.callPrimary(args, false);
  }

  private probeDue(): boolean {
    const p = this.probe;
    if (p === false) return false;
    // Every 1/share-th forced call, at most one per minIntervalMs: deterministic, no random draw on the hot path.
    if (++this.sinceProbe < 1 / p.share) return false;
    const now = this.clock.now();
    if (now - this.lastProbeAt < p.minIntervalMs) return false;
    this.sinceProbe = 0;
    this.lastProbeAt = now;
    return true;
  }

  private callPrimary(args: A, probe: boolean): Promise<R> {
    this.primaryCalls++;
    this.recent.add(this.clock.now(), PRIMARY);
    if (probe) this.recent.add(this.clock.now(), PROBE);
    let value: R | Promise<R>;
    let then: PromiseLike<R>['then'] | undefined;
    // Only an abortable primary costs a controller per call.
    const abort: AbortHandle | undefined = this.abortable === undefined ? undefined : guardedAbort();
    try {
      value = abort === undefined ? this.primary!(...args) : this.abortable!(abort.signal, ...args);
      // Reading `then` runs user code too (a getter): a throw there is a primary failure.
      then = thenOf(value);
    } catch {
      this.primaryFailed(false, probe);
      return this.callFallback(args);
    }
    if (then === undefined) {
      this.primarySuccesses++;
      return Promise.resolve(value as R);
    }
    const pending = value;
    const subscribe = then;
    return new Promise<R>((resolve, reject) => {
      let settled = false;
      const timer =
        this.timeoutMs === undefined
          ? undefined
          : this.clock.setTimeout(() => {
              if (settled) return;
              settled = true;
              this.primaryFailed(true, probe);
              abort?.abort(`fallback "${this.name}": primary timed out after ${this.timeoutMs} ms`);
              this.callFallback(args).then(resolve, reject);
            }, this.timeoutMs);
      const failed = (): void => {
        // A rejection after the timeout already answered is swallowed here.
        if (settled) return;
        settled = true;
        if (timer !== undefined) this.clock.clearTimeout(timer);
        this.primaryFailed(false, probe);
        this.callFallback(args).then(resolve, reject);
      };
      try {
        containAsync(
          subscribe.call(
            pending,
            (v) => {
              if (settled) return;
              settled = true;
              if (timer !== undefined) this.clock.clearTimeout(timer);
              this.primarySuccesses++;
              resolve(v);
            },
            failed,
          ),
        );
      } catch {
        // A then() that throws (before calling back) is a primary failure, as a rejection is.
        failed();
      }
    });
  }

  /**
   * Sends every call to the fallback until {@link Fallback.restore}. Returns false if already forced.
   *
   * @example
   * ```ts
   * ranker.force({ reason: 'reranker OOM', by: 'alice' });
   * ```
   */
  force(options: { reason?: string; by?: string } = {}): boolean {
    const p = forceSchema.safeParse(options);
    if (!p.success) throw ValidationError.fromZod(`fallback "${this.name}" force options`, p.error);
    if (this.forced) return false;
    const o = p.data;
    this.forced = true;
    this.forcedInfo = { by: o.by ?? 'api', at: this.clock.now() };
    if (o.reason !== undefined) this.forcedInfo.reason = o.reason;
    this.shared?.changed('fallback', this.name);
    return true;
  }

  /** Lets calls reach the primary again. Returns false if it was not forced. */
  restore(): boolean {
    if (!this.forced) return false;
    this.forced = false;
    this.forcedInfo = undefined;
    this.shared?.changed('fallback', this.name);
    return true;
  }

  /** @internal The state the fleet shares. */
  exportShared(): SharedState {
    const s: SharedState = { forced: this.forced };
    if (this.forcedInfo !== undefined) {
      s['by'] = this.forcedInfo.by;
      if (this.forcedInfo.reason !== undefined) s['reason'] = this.forcedInfo.reason;
    }
    return s;
  }

  /** @internal Takes the fleet's state (idempotent). */
  applyShared(s: SharedState): void {
    if (s['forced'] === true) {
      if (this.forced) return;
      this.forced = true;
      this.forcedInfo = { by: str(s, 'by') ?? 'fleet', at: this.clock.now() };
      const reason = str(s, 'reason');
      if (reason !== undefined) this.forcedInfo.reason = reason;
    } else if (this.forced) {
      this.forced = false;
      this.forcedInfo = undefined;
    }
  }

  /** True while forced to the fallback. */
  isForced(): boolean {
    return this.forced;
  }

  /** Primary calls and failures (errors + timeouts) over the last `windowMs` (≤ 5 minutes). */
  recentCounts(windowMs = 300_000): { primaryCalls: number; failures: number } {
    const now = this.clock.now();
    return { primaryCalls: this.recent.sum(now, PRIMARY, windowMs), failures: this.recent.sum(now, FAILED, windowMs) };
  }

  /**
   * Probe calls and their failures since the fallback was forced (at most the
   * last 5 minutes), or null when not forced: while forced, the only fresh
   * reading of the primary.
   */
  probeCounts(): { calls: number; failures: number } | null {
    if (!this.forced || this.forcedInfo === undefined) return null;
    const now = this.clock.now();
    const windowMs = Math.min(300_000, Math.max(1, now - this.forcedInfo.at));
    return { calls: this.recent.sum(now, PROBE, windowMs), failures: this.recent.sum(now, PROBE_FAILED, windowMs) };
  }

  /** Counters and forced state. */
  stats(): FallbackStats {
    const r = this.recentCounts();
    const s: FallbackStats = {
      name: this.name,
      forced: this.forced,
      primaryCalls: this.primaryCalls,
      primarySuccesses: this.primarySuccesses,
      primaryErrors: this.primaryErrors,
      primaryTimeouts: this.primaryTimeouts,
      fallbackCalls: this.fallbackCalls,
      forcedCalls: this.forcedCalls,
      fallbackErrors: this.fallbackErrors,
      probes: this.probeCount,
      probeFailures: this.probeFailures,
      recent: { ...r, failureRate: r.primaryCalls > 0 ? r.failures / r.primaryCalls : null, windowMs: this.recent.windowMs },
    };
    if (this.timeoutMs !== undefined) s.timeoutMs = this.timeoutMs;
    if (this.forcedInfo !== undefined) {
      s.forcedBy = this.forcedInfo.by;
      s.forcedAt = this.forcedInfo.at;
      if (this.forcedInfo.reason !== undefined) s.reason = this.forcedInfo.reason;
    }
    return s;
  }

  private primaryFailed(timeout: boolean, probe: boolean): void {
    if (timeout) this.primaryTimeouts++;
    else this.primaryErrors++;
    this.recent.add(this.clock.now(), FAILED);
    if (probe) {
      this.probeFailures++;
      this.recent.add(this.clock.now(), PROBE_FAILED);
    }
  }

  private callFallback(args: A): Promise<R> {
    this.fallbackCalls++;
    let v: R | Promise<R>;
    let then: unknown;
    try {
      v = this.secondary(...args);
      then = thenOf(v);
    } catch (err) {
      this.fallbackErrors++;
      return Promise.reject(err);
    }
    if (then === undefined) return Promise.resolve(v as R);
    return Promise.resolve(v).catch((err: unknown) => {
      this.fallbackErrors++;
      throw err;
    });
  }
}

/** The `then` method of a thenable, or undefined; throws what a `then` getter throws. */
function thenOf<T>(v: T | PromiseLike<T>): PromiseLike<T>['then'] | undefined {
  if ((typeof v !== 'object' || v === null) && typeof v !== 'function') return undefined;
  const then = (v as { then?: unknown }).then;
  return typeof then === 'function' ? (then as PromiseLike<T>['then']) : undefined;
}

/**
 * Registers `model.fallback` (runbook: "Disable reranking", 30 s) and
 * `model.restore` (30 s) over a map of fallback wrappers.
 */
export function registerFallbackActions(actions: ActionRegistry, fallbacks: ReadonlyMap<string, Fallback>): void {
  actions.register({
    id: 'model.fallback',
    title: 'Fall back from the model',
    description: 'Forces a fallback wrapper to its fallback (e.g. disable cross-encoder reranking, serve hybrid search only). Revert restores the primary.',
    estimatedSeconds: 30,
    risk: 'safe',
    verification: 'p95 latency drops under its threshold; /stats shows the wrapper forced and fallback calls rising.',
    params: namedParams('fallback', fallbacks, { reason: z.string().max(500).optional() }),
    execute: ({ params, by }) => {
      const f = pick('fallback', fallbacks, params.name);
      const ok = f.force({ reason: params.reason ?? `action by ${by}`, by });
      return ok ? { message: `${f.name} forced to fallback`, data: { name: f.name } } : { noop: true, message: `${f.name} was already on its fallback`, data: { name: f.name } };
    },
    revert: ({ data }) => {
      const f = pick('fallback', fallbacks, data['name'] as string);
      return f.restore() ? { message: `${f.name} back on its primary` } : { noop: true };
    },
  });
  actions.register({
    id: 'model.restore',
    title: 'Restore the model',
    description: 'Lets a fallback wrapper call its primary again. Revert forces the fallback again.',
    estimatedSeconds: 30,
    risk: 'safe',
    verification: 'Primary calls succeed in /stats and p95 latency stays within its threshold.',
    params: namedParams('fallback', fallbacks, {}),
    execute: ({ params }) => {
      const f = pick('fallback', fallbacks, params.name);
      return f.restore() ? { message: `${f.name} back on its primary`, data: { name: f.name } } : { noop: true, message: `${f.name} was not forced`, data: { name: f.name } };
    },
    revert: ({ data, by }) => {
      const f = pick('fallback', fallbacks, data['name'] as string);
      return f.force({ reason: 'revert', by }) ? { message: `${f.name} forced to fallback` } : { noop: true };
    },
  });
}

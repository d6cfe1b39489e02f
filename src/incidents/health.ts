import { z } from 'zod';
import type { Clock } from '../clock.js';
import { ConfigError, LimitError } from '../errors.js';
import { containAsync, errorMessage, guardedAbort } from '../safe-call.js';
import { severitySchema } from './config.js';
import type { Detector, Observation } from './detector.js';
import type { Severity } from './types.js';

/**
 * A health check: resolves (or returns) truthy/`undefined` when healthy;
 * `false`, `{ ok: false }`, a throw or a rejection means failing. `signal`
 * aborts when the check times out: pass it to `fetch` (or any undici call)
 * so a hung dependency does not keep a socket per run.
 *
 * @example
 * ```ts
 * monitor.healthCheck('redis', async () => (await redis.ping()) === 'PONG');
 * monitor.healthCheck('search', async (signal) => (await fetch('http://search:9200/_cluster/health', { signal })).ok);
 * ```
 */
export type HealthCheckFn = (signal: AbortSignal) => unknown;

/** Options of `monitor.healthCheck()`. */
export const healthCheckOptionsSchema = z
  .strictObject({
    /** A check taking longer fails with a timeout. */
    timeoutMs: z.number().int().positive().default(5_000),
    /** A failing critical check makes the service `failing` (not ready); others make it `degraded`. */
    critical: z.boolean().default(true),
    /** Incident type when failing (default: `service-down` if critical, else `dependency-failure`). */
    type: z.string().min(1).max(100).optional(),
    /** Incident severity when failing (default: `critical` if critical, else `medium`). */
    severity: severitySchema.optional(),
  })
  .prefault({});
/**
 * Health check options as written.
 *
 * @example
 * ```ts
 * monitor.healthCheck('search-index', checkIndex, { timeoutMs: 1_000, critical: false, type: 'index-corruption', severity: 'critical' });
 * ```
 */
export type HealthCheckOptions = z.input<typeof healthCheckOptionsSchema>;

/**
 * One check's outcome.
 *
 * @example
 * ```ts
 * const failing = (await monitor.checkHealth()).checks.filter((c) => !c.ok);
 * ```
 */
export interface HealthCheckResult {
  name: string;
  ok: boolean;
  critical: boolean;
  durationMs: number;
  error?: string;
}

/**
 * The outcome of all checks: `failing` if a critical check fails, `degraded` if another does.
 *
 * @example
 * ```ts
 * const { status } = await monitor.checkHealth(); // 'ok' | 'degraded' | 'failing'
 * ```
 */
export interface HealthReport {
  status: 'ok' | 'degraded' | 'failing';
  checks: HealthCheckResult[];
  /** Clock time the run finished. */
  at: number;
}

interface Check {
  name: string;
  fn: HealthCheckFn;
  opts: z.output<typeof healthCheckOptionsSchema>;
}

/** Registered health checks at most. */
export const MAX_HEALTH_CHECKS = 100;

/**
 * The monitor's health checks: run together, each with a timeout on the
 * monitor's clock; failures are contained and reported, never thrown. The
 * last report feeds the `health` detector and readiness.
 */
export class HealthChecks {
  private readonly clock: Clock;
  private readonly checks = new Map<string, Check>();
  private running: Promise<HealthReport> | undefined;
  /** The last completed run, if any. */
  last: HealthReport | undefined;

  private readonly onError: (name: string, err: unknown) => void;

  /** `onError` hears every check that threw, rejected or timed out (not one that returned false). */
  constructor(clock: Clock, onError: (name: string, err: unknown) => void = () => {}) {
    this.clock = clock;
    this.onError = onError;
  }

  /** Number of registered checks. */
  get size(): number {
    return this.checks.size;
  }

  /** Adds (or replaces) a check. */
  register(name: string, fn: HealthCheckFn, options?: HealthCheckOptions): void {
    if (typeof name !== 'string' || name.trim() === '' || name.length > 100) {
      throw new ConfigError('health check', [{ path: 'name', message: 'name must be a non-empty string of at most 100 characters' }]);
    }
    if (typeof fn !== 'function') throw new ConfigError('health check', [{ path: 'fn', message: 'fn must be a function' }]);
    const r = healthCheckOptionsSchema.safeParse(options);
    if (!r.success) throw ConfigError.fromZod('health check options', r.error);
    if (!this.checks.has(name) && this.checks.size >= MAX_HEALTH_CHECKS) throw new LimitError('health checks', MAX_HEALTH_CHECKS);
    this.checks.set(name, { name, fn, opts: r.data });
  }

  /** Removes a check; true if it existed. */
  remove(name: string): boolean {
    return this.checks.delete(name);
  }

  /** Incident type and severity for a failing check. */
  incidentFor(name: string): { type: string; severity: Severity } | undefined {
    const c = this.checks.get(name);
    if (c === undefined) return undefined;
    return {
      type: c.opts.type ?? (c.opts.critical ? 'service-down' : 'dependency-failure'),
      severity: c.opts.severity ?? (c.opts.critical ? 'critical' : 'medium'),
    };
  }

  /** Runs every check (a run already in progress is shared). Never rejects. */
  run(): Promise<HealthReport> {
    if (this.running !== undefined) return this.running;
    const p = Promise.all([...this.checks.values()].map((c) => this.runOne(c))).then((checks) => {
      const failing = checks.some((c) => !c.ok && c.critical);
      const degraded = checks.some((c) => !c.ok);
      const report: HealthReport = { status: failing ? 'failing' : degraded ? 'degraded' : 'ok', checks, at: this.clock.now() };
      this.last = report;
      this.running = undefined;
      return report;
    });
    this.running = p;
    return p;
  }

  private report(name: string, err: unknown): void {
    try {
      this.onError(name, err);
    } catch {
      // Reporting is best effort; the result already says the check failed.
    }
  }

  private runOne(c: Check): Promise<HealthCheckResult> {
    const started = this.clock.monotonic();
    const done = (ok: boolean, error?: string): HealthCheckResult => {
      const r: HealthCheckResult = { name: c.name, ok, critical: c.opts.critical, durationMs: Math.max(0, this.clock.monotonic() - started) };
      if (error !== undefined) r.error = error;
      return r;
    };
    return new Promise<HealthCheckResult>((resolve) => {
      let settled = false;
      const abort = guardedAbort((err) => this.report(c.name, err));
      const finish = (r: HealthCheckResult): void => {
        if (settled) return;
        settled = true;
        this.clock.clearTimeout(timer);
        resolve(r);
      };
      const timer = this.clock.setTimeout(() => {
        if (settled) return;
        const message = `timed out after ${c.opts.timeoutMs} ms`;
        finish(done(false, message));
        this.report(c.name, new Error(message));
        abort.abort(`health check "${c.name}" ${message}`);
      }, c.opts.timeoutMs);
      const fail = (err: unknown): void => {
        if (settled) return;
        finish(done(false, errorText(err)));
        this.report(c.name, err);
      };
      // Runs inside the check's then() callback too: reading the result (a getter) must not throw there.
      const judge = (v: unknown): void => {
        try {
          if (v === false) finish(done(false, 'check returned false'));
          else if (typeof v === 'object' && v !== null && (v as { ok?: unknown }).ok === false) {
            const e = (v as { error?: unknown }).error;
            finish(done(false, typeof e === 'string' ? e.slice(0, 500) : 'check reported not ok'));
          } else finish(done(true));
        } catch (err) {
          fail(err);
        }
      };
      try {
        const v = c.fn(abort.signal);
        const then = typeof v === 'object' && v !== null ? (v as { then?: unknown }).then : undefined;
        if (typeof then === 'function') containAsync((then as PromiseLike<unknown>['then']).call(v, judge, fail));
        else judge(v);
      } catch (err) {
        fail(err);
      }
    });
  }
}

function errorText(err: unknown): string {
  return errorMessage(err).slice(0, 500);
}

/**
 * The built-in `health` detector: each check's last result is one scope
 * (`health:<name>`); a failing check fires at its configured severity.
 */
export class HealthDetector implements Detector {
  readonly name: string;
  readonly type = 'service-down';
  readonly forMs: number | undefined;
  readonly clearForMs: number | undefined;
  private readonly checks: HealthChecks;

  constructor(checks: HealthChecks, opts: { name: string; forMs?: number | undefined; clearForMs?: number | undefined }) {
    this.checks = checks;
    this.name = opts.name;
    this.forMs = opts.forMs;
    this.clearForMs = opts.clearForMs;
  }

  observe(): Observation[] {
    const last = this.checks.last;
    if (last === undefined) return [];
    const out: Observation[] = [];
    for (const r of last.checks) {
      const inc = this.checks.incidentFor(r.name);
      if (inc === undefined) continue; // removed since the run
      out.push(
        r.ok
          ? { scope: `health:${r.name}`, type: inc.type, severity: null }
          : {
              scope: `health:${r.name}`,
              type: inc.type,
              severity: inc.severity,
              summary: `Health check ${r.name} is failing: ${r.error ?? 'not ok'}`,
              signal: { name: `health check ${r.name}`, value: 0, unit: 'count', at: last.at },
            },
      );
    }
    return out;
  }
}

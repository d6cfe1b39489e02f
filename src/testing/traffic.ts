import { z } from 'zod';
import { canaryProbeSchema } from '../actions/controls/canary.js';
import { fallbackProbeSchema } from '../actions/controls/fallback.js';

/**
 * A seeded pseudo-random generator (mulberry32): the same seed gives the same
 * sequence on every machine, so a game day replays identically.
 */
export class Prng {
  private state: number;

  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  /** A number in [0, 1). */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** A standard normal deviate (Box–Muller). */
  normal(): number {
    const u = Math.max(this.next(), 1e-12);
    const v = this.next();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  }
}

/** z-score of the 99th percentile of the standard normal. */
const Z99 = 2.3263478740408408;

/** How long requests take: a fixed value, or log-normal with the given median and p99. */
export const latencySchema = z.union([
  z.strictObject({ fixedMs: z.number().nonnegative('fixedMs must be ≥ 0') }),
  z
    .strictObject({ medianMs: z.number().positive('medianMs must be > 0'), p99Ms: z.number().positive('p99Ms must be > 0') })
    .refine((l) => l.p99Ms >= l.medianMs, { message: 'p99Ms must be ≥ medianMs', path: ['p99Ms'] }),
]);
/**
 * Request latency of a traffic stream: `{ fixedMs }`, or `{ medianMs, p99Ms }`
 * for a log-normal distribution with that median and 99th percentile.
 *
 * @example
 * ```ts
 * const latency: LatencySpec = { medianMs: 80, p99Ms: 400 };
 * ```
 */
export type LatencySpec = z.input<typeof latencySchema>;

/** Draws one latency from `spec`. */
export function sampleLatency(spec: LatencySpec, rng: Prng): number {
  if ('fixedMs' in spec) return spec.fixedMs;
  const mu = Math.log(spec.medianMs);
  const sigma = (Math.log(spec.p99Ms) - mu) / Z99;
  return Math.exp(mu + sigma * rng.normal());
}

const share = (what: string) => z.number({ error: `${what} must be a number` }).min(0, `${what} must be ≥ 0`).max(1, `${what} must be ≤ 1`);

/** How requests behave: latency, share of failures and their status. */
const behaviour = {
  /** Request latency (default `{ fixedMs: 50 }`). */
  latency: latencySchema.optional(),
  /** Share of requests that fail (0–1). */
  errorShare: share('errorShare').optional(),
  /** Status of a failed request (default 500). */
  errorStatus: z.number().int().min(100).max(599).optional(),
};
const behaviourSchema = z.strictObject(behaviour);
/**
 * How a request behaves, as a stream or a control arm describes it.
 *
 * @example
 * ```ts
 * const outage: Behaviour = { errorShare: 1, errorStatus: 503, latency: { fixedMs: 20 } };
 * ```
 */
export type Behaviour = z.input<typeof behaviourSchema>;

const name = z.string().min(1, 'name must not be empty').max(100);

/** One stream of requests in a phase. */
export const trafficSchema = z.strictObject({
  ...behaviour,
  /** Route template recorded with each request. */
  route: z.string().min(1, 'route must not be empty').max(256),
  /** Requests per second (fractions accumulate across steps). */
  rps: z.number().nonnegative('rps must be ≥ 0').max(10_000, 'rps must be ≤ 10000'),
  /**
   * A kill switch: while feature `name` is enabled, requests behave as `whenEnabled`
   * (merged over the stream). Created with `{ risky }` (default true) if the monitor has none.
   */
  feature: z.strictObject({ name, risky: z.boolean().optional(), whenEnabled: behaviourSchema }).optional(),
  /**
   * A primary behind a fallback: each request runs fallback `name` (created by the runner);
   * the primary behaves as `primary`, the fallback as the stream. A primary slower than
   * `timeoutMs` fails and costs `timeoutMs` before the fallback answers. `probe` is the
   * fallback's half-open probe option (docs/remediation-safety.md; default off).
   */
  fallback: z
    .strictObject({ name, primary: behaviourSchema, timeoutMs: z.number().int().positive().optional(), probe: fallbackProbeSchema.optional() })
    .optional(),
  /**
   * A canary: requests are split by canary `name` (created with `percent` and `probe`, the
   * stopped canary's half-open probe option, default off), its arm behaving as `arm`.
   */
  canary: z.strictObject({ name, percent: z.number().gt(0).lte(100).optional(), arm: behaviourSchema, probe: canaryProbeSchema.optional() }).optional(),
  /**
   * Cache lookups on guarded cache `name` (created if missing): `hitShare` of lookups ask for a
   * warm key. `retain: true` stores every missed key (a cache that grows: pair it with `memory.cache`).
   */
  cache: z.strictObject({ name, hitShare: share('hitShare'), retain: z.boolean().optional() }).optional(),
  /**
   * Every request asks rate limiter `name` first (created with `maxRequests` per `windowSeconds`
   * if missing); a rejected one is answered 429 in 1 ms. Requests use `key`, or rotate over
   * `keys` distinct client keys (default 100).
   */
  limiter: z
    .strictObject({
      name,
      key: z.string().min(1).max(200).optional(),
      keys: z.number().int().positive().max(10_000).optional(),
      maxRequests: z.number().int().positive().optional(),
      windowSeconds: z.number().positive().optional(),
    })
    .optional(),
});
/**
 * One stream of requests: a route at a rate, how its requests behave, and the
 * control (feature, fallback, canary, cache, rate limiter) they go through.
 *
 * @example
 * ```ts
 * const search: TrafficSpec = { route: 'GET /search', rps: 20, latency: { medianMs: 80, p99Ms: 400 }, errorShare: 0.001 };
 * ```
 */
export type TrafficSpec = z.input<typeof trafficSchema>;

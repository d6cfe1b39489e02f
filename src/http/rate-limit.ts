import { z } from 'zod';
import { containAsync } from '../safe-call.js';
import { HttpError, mapError } from './errors.js';
import { rateLimitHeaders } from './rate-limit-headers.js';

/**
 * What the rate-limit helpers need from a limiter: `monitor.rateLimiter(…)`
 * fits, and so does anything with the same `check()`.
 *
 * @example
 * ```ts
 * const limiter: LimiterLike = monitor.rateLimiter('api', { maxRequests: 100, windowSeconds: 60 });
 * ```
 */
export interface LimiterLike {
  readonly name?: string;
  check(key: string): {
    allowed: boolean;
    remaining: number;
    retryAfterMs: number;
    limit: number;
    resetMs?: number;
    blocked?: boolean;
  };
  current?(): { maxRequests: number; windowSeconds?: number };
}

const isFn = (v: unknown): boolean => typeof v === 'function';

/**
 * zod schema of a limiter argument: an object with `check(key)`.
 *
 * @example
 * ```ts
 * limiterSchema.parse(monitor.rateLimiter('api'));
 * ```
 */
export const limiterSchema = z.custom<LimiterLike>(
  (v) => typeof v === 'object' && v !== null && isFn((v as LimiterLike).check),
  { message: 'limiter must be a rate limiter (monitor.rateLimiter(name, opts))' },
);

/**
 * Options of the Express and Fastify rate-limit helpers; `R` is the framework's request.
 *
 * @example
 * ```ts
 * rateLimitOptionsSchema<IncomingMessage>().parse({ key: (req) => req.headers['x-api-key'] });
 * ```
 */
export function rateLimitOptionsSchema<R>() {
  return z
    .strictObject({
      /** The client key to limit by (default: the request's IP address). */
      key: z.custom<(req: R) => string>(isFn, { message: 'key must be a function (req) => string' }).optional(),
      /** Send `RateLimit-*` headers on allowed responses too (429s always carry them). */
      headers: z.boolean().default(true),
    })
    .default({ headers: true });
}

/**
 * The outcome of one check, ready for an adapter to write.
 *
 * @example
 * ```ts
 * const d: RateLimitDecision = decideRateLimit(limiter, () => ip, stats, true);
 * ```
 */
export interface RateLimitDecision {
  allowed: boolean;
  /** `RateLimit-*` (and `Retry-After` when refused) headers. */
  headers: Record<string, string>;
  /** The 429 body when refused. */
  body?: string;
}

/**
 * Counters of one helper: checks that threw (let through) and requests refused.
 *
 * @example
 * ```ts
 * const mw = firebreakRateLimit(limiter);
 * setInterval(() => console.log(mw.stats.limited, mw.stats.errors), 60_000);
 * ```
 */
export interface RateLimitHelperStats {
  limited: number;
  /** `key()` or `check()` threw or returned a promise: the request was let through (fail open) and counted here. */
  errors: number;
}

/**
 * Checks `key` against `limiter` and builds the headers and 429 body. A
 * throwing key function or limiter, or one that returns a promise (async
 * functions are not supported here), lets the request through (a broken
 * limiter must not take the service down) and counts it; a promise it
 * returned is never left to reject unhandled.
 *
 * @example
 * ```ts
 * const d = decideRateLimit(limiter, () => req.socket.remoteAddress ?? 'unknown', stats, true);
 * if (!d.allowed) { res.writeHead(429, d.headers).end(d.body); }
 * ```
 */
export function decideRateLimit(limiter: LimiterLike, key: () => string, stats: RateLimitHelperStats, allowedHeaders: boolean): RateLimitDecision {
  let verdict: ReturnType<LimiterLike['check']>;
  let windowMs: number | undefined;
  let headers: Record<string, string>;
  try {
    const k: unknown = key();
    // An object is not a key: a promise (an async key function) would otherwise be limited as "[object Promise]"
    // and, if it rejects, end the process.
    if (typeof k === 'object' || typeof k === 'function') {
      containAsync(k);
      throw new TypeError(`key() returned ${k === null ? 'null' : typeof k}; expected a string`);
    }
    verdict = limiter.check(k as string);
    // An async limiter's promise carries no verdict; fail open rather than read fields of a promise.
    if (typeof verdict !== 'object' || verdict === null || typeof (verdict as { then?: unknown }).then === 'function') {
      containAsync(verdict);
      throw new TypeError('check() must return its verdict synchronously');
    }
    const w = limiter.current?.().windowSeconds;
    if (w !== undefined) windowMs = w * 1000;
    const resetMs = verdict.resetMs ?? verdict.retryAfterMs;
    const state = { limit: verdict.limit, remaining: verdict.remaining, resetMs: verdict.allowed ? resetMs : verdict.retryAfterMs };
    headers = rateLimitHeaders(windowMs === undefined ? state : { ...state, windowMs }, !verdict.allowed);
  } catch {
    stats.errors++;
    return { allowed: true, headers: {} };
  }
  if (verdict.allowed) return { allowed: true, headers: allowedHeaders ? headers : {} };
  stats.limited++;
  const seconds = Math.max(1, Math.ceil(verdict.retryAfterMs / 1000));
  const mapped = mapError(
    new HttpError('RATE_LIMITED', verdict.blocked === true ? 'Blocked; retry later' : `Too many requests; retry in ${seconds} s`, {
      limiter: limiter.name ?? null,
      retryAfterMs: verdict.retryAfterMs,
      blocked: verdict.blocked === true,
    }),
  );
  return {
    allowed: false,
    headers: { ...headers, 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' },
    body: JSON.stringify(mapped.body),
  };
}

/**
 * What the `RateLimit-*` headers describe.
 *
 * @example
 * ```ts
 * const state: RateLimitState = { limit: 100, remaining: 3, resetMs: 12_000, windowMs: 60_000 };
 * ```
 */
export interface RateLimitState {
  /** Requests allowed per window. */
  limit: number;
  /** Requests left in the current window. */
  remaining: number;
  /** Milliseconds until the quota resets (or until a blocked caller may retry). */
  resetMs: number;
  /** Window length in milliseconds, for `RateLimit-Policy`; omitted when unknown. */
  windowMs?: number;
}

/**
 * The IETF draft `RateLimit-Limit` / `RateLimit-Remaining` / `RateLimit-Reset`
 * (and `RateLimit-Policy`) headers, plus `Retry-After` when the request was
 * refused. Seconds are rounded up so a client never retries too early.
 *
 * @example
 * ```ts
 * rateLimitHeaders({ limit: 100, remaining: 0, resetMs: 1500, windowMs: 60_000 }, true);
 * // { 'ratelimit-limit': '100', 'ratelimit-remaining': '0', 'ratelimit-reset': '2', 'ratelimit-policy': '100;w=60', 'retry-after': '2' }
 * ```
 */
export function rateLimitHeaders(state: RateLimitState, refused: boolean): Record<string, string> {
  const reset = String(Math.max(0, Math.ceil(state.resetMs / 1000)));
  const headers: Record<string, string> = {
    'ratelimit-limit': String(state.limit),
    'ratelimit-remaining': String(Math.max(0, state.remaining)),
    'ratelimit-reset': reset,
  };
  if (state.windowMs !== undefined) headers['ratelimit-policy'] = `${state.limit};w=${Math.max(1, Math.ceil(state.windowMs / 1000))}`;
  if (refused) headers['retry-after'] = String(Math.max(1, Math.ceil(state.resetMs / 1000)));
  return headers;
}

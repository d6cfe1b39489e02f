import { createHash } from 'node:crypto';
import { z } from 'zod';
import { LRUCache } from 'lru-cache';
import type { Clock } from '../../clock.js';
import { ConfigError, ValidationError } from '../../errors.js';
import { CounterRing } from '../../metrics/counter-ring.js';
import type { ActionRegistry } from '../registry.js';
import { rateLimitDetectorSchema } from './detector-options.js';
import { namedParams, pick } from './named.js';
import { SpaceSaving, type HeavyHitter } from './space-saving.js';
import { num, type ChangeLatch, type SharedState } from '../../change-latch.js';

const MAX_WINDOW_SECONDS = 7 * 86_400;

/**
 * Longest key a limiter keeps as it is, in UTF-16 code units. A longer key
 * is kept as its first 48 code units, `…sha256:` and the base64url SHA-256
 * of the whole key (99 code units), so 10,000 keys of 16 KiB hold kilobytes,
 * not 156 MB. Distinct long keys stay distinct (a collision needs a SHA-256
 * collision), and `block`, `unblock`, `blockedUntil` and `reset` accept
 * either the original key or that shortened form.
 *
 * @example
 * ```ts
 * limiter.check(jwt); // a 900-character token: kept as "eyJhbGciOi…sha256:3q2-7w…"
 * ```
 */
export const MAX_KEY_LENGTH = 128;
const KEY_PREFIX = 48;

/**
 * The form a limiter keeps `key` under: `key` itself up to
 * {@link MAX_KEY_LENGTH}, else its prefix and SHA-256 (idempotent: a kept
 * form maps to itself).
 *
 * @example
 * ```ts
 * const shown = limiterKey(apiKey); // what topOffenders() and stats().blocked show
 * ```
 */
export function limiterKey(key: string): string {
  if (key.length <= MAX_KEY_LENGTH) return key;
  let end = KEY_PREFIX;
  const c = key.charCodeAt(end - 1);
  if (c >= 0xd800 && c <= 0xdbff) end--; // keep surrogate pairs whole
  // UTF-16 input: lossless, so keys differing only in lone surrogates stay distinct.
  const digest = createHash('sha256').update(key, 'utf16le').digest('base64url');
  // A round trip through a Buffer makes a flat copy: a slice would keep the long key alive.
  return Buffer.from(`${key.slice(0, end)}…sha256:${digest}`, 'utf16le').toString('utf16le');
}

/** The kept form of a runtime key, or undefined when `String(key)` throws. */
function keyOf(key: unknown): string | undefined {
  let k: string;
  if (typeof key === 'string') k = key;
  else {
    try {
      k = String(key);
    } catch {
      return undefined;
    }
  }
  return k.length > MAX_KEY_LENGTH ? limiterKey(k) : k;
}

/** Options of `monitor.rateLimiter(name, opts)`. */
export const rateLimiterOptionsSchema = z.strictObject({
  /** Requests allowed per key per window. */
  maxRequests: z.number({ error: 'maxRequests must be a number' }).int('maxRequests must be an integer').positive('maxRequests must be > 0'),
  /** Window length in seconds. */
  windowSeconds: z.number({ error: 'windowSeconds must be a number' }).positive('windowSeconds must be > 0').max(MAX_WINDOW_SECONDS),
  /** Keys whose state is kept; the least recently seen key is forgotten beyond it (counted in `evictedKeys`). */
  maxKeys: z.number().int().positive().max(10_000_000).default(10_000),
  /** Blocked keys kept; blocking one more unblocks the oldest block (counted in `blockEvictions`). */
  maxBlocked: z.number().int().positive().max(1_000_000).default(10_000),
  /** Size of the top-offenders list (Space-Saving counters). */
  topOffenders: z.number().int().positive().max(1000).default(20),
  /** Default block length when `block()` is called without one. */
  blockTtlMs: z.number().int().positive().max(MAX_WINDOW_SECONDS * 1000).default(3_600_000),
  /**
   * Floor of `tighten()` (and of the `rate-limit.tighten` action): automatic
   * tightening never sets fewer requests per window than this. Default: a
   * tenth of `maxRequests`, rounded up (at least 1). `adjust()` by a person is not bound by it.
   */
  minMaxRequests: z.number().int('minMaxRequests must be an integer').positive('minMaxRequests must be > 0').optional(),
  /**
   * The rate-limit-attack detector on the share of requests from keys over the
   * *configured* limit (`false`: none). Rejections the limiter produces
   * because it was tightened or adjusted below its configured limit are not evidence.
   */
  detector: rateLimitDetectorSchema,
});
/**
 * Options of `monitor.rateLimiter(name, opts)`.
 *
 * @example
 * ```ts
 * monitor.rateLimiter('api', { maxRequests: 100, windowSeconds: 60, maxKeys: 50_000 });
 * ```
 */
export type RateLimiterOptions = z.input<typeof rateLimiterOptionsSchema>;

const limitSchema = z.strictObject({
  maxRequests: z.number().int().positive(),
  windowSeconds: z.number().positive().max(MAX_WINDOW_SECONDS).optional(),
});

/**
 * A limit: requests per window.
 *
 * @example
 * ```ts
 * const { maxRequests, windowSeconds } = limiter.current();
 * ```
 */
export interface RateLimit {
  maxRequests: number;
  windowSeconds: number;
}

/**
 * The answer of {@link RateLimiter.check}.
 *
 * @example
 * ```ts
 * const v = limiter.check(ip);
 * if (!v.allowed) res.status(429).set('retry-after', String(Math.ceil(v.retryAfterMs / 1000))).end();
 * ```
 */
export interface RateLimitVerdict {
  allowed: boolean;
  /** Requests left for this key in the current sliding window. */
  remaining: number;
  /** When rejected: ms until a request would be allowed (0 when allowed). */
  retryAfterMs: number;
  /** The limit in force. */
  limit: number;
  /** Ms until the current fixed window rolls over. */
  resetMs: number;
  /** Rejected because the key is blocked. */
  blocked: boolean;
}

/**
 * A limiter's state and counters.
 *
 * @example
 * ```ts
 * const { limited, topOffenders, blocked } = limiter.stats();
 * ```
 */
export interface RateLimiterStats {
  name: string;
  limit: RateLimit;
  /** The limit it was created with (`restore()` returns to it). */
  configured: RateLimit;
  /** The limit differs from the configured one. */
  adjusted: boolean;
  /** Since creation. */
  allowed: number;
  limited: number;
  /** Over the last 5 minutes. */
  recent: { allowed: number; limited: number; windowMs: number };
  /** Over the last 5 minutes: requests from keys offering more than the configured limit. */
  recentExcess: number;
  /** Over the last 5 minutes: rejections of keys within the configured limit (the limiter's own 429s, from a lowered limit). */
  recentOwnRejections: number;
  /** Least `maxRequests` tightening may set. */
  floor: number;
  /** Keys with state now (≤ maxKeys). */
  keys: number;
  evictedKeys: number;
  /**
   * `check()` calls whose key could not be turned into a string (`String(key)`
   * threw): answered allowed (fail-open) and counted here, not as decisions.
   */
  invalidKeys: number;
  blocked: { key: string; until: number }[];
  blockEvictions: number;
  /** Most-rejected keys (Space-Saving estimate: count ≥ true count ≥ count − error). */
  topOffenders: HeavyHitter[];
}

/**
 * @internal Per-key state; the `f*` fields belong to the fleet limiter
 * (`firebreak/redis`) and stay zero without one.
 */
export interface KeyState {
  /** Start of the current fixed window (ms). */
  start: number;
  prev: number;
  curr: number;
  /**
   * Requests offered (allowed or not) in the previous and current fixed window of the
   * *configured* length, starting at `ostart`: the key's offered load, measured as the configured
   * limit is, whatever window an adjust put in force.
   */
  ostart: number;
  oprev: number;
  ocurr: number;
  /** Start of the window the other replicas' counts (`fprev`, `fcurr`) belong to (-1: none yet). */
  fstart: number;
  fprev: number;
  fcurr: number;
  /** Admissions this replica may make for the key before the next sync answer, and those made since the last one. */
  fbudget: number;
  fused: number;
  /** Queued in the fleet link's `touched` list. */
  fdirty: boolean;
}

/**
 * @internal What a limiter shares with the fleet limiter of `firebreak/redis`
 * (src/redis/fleet-limiter.ts): plain fields read on the hot path, no call
 * into Redis.
 */
export interface FleetLimiterLink {
  /** False while the fleet's counts are unreachable or stale: check() then enforces the local share (insurance). */
  healthy: boolean;
  /** Live replicas sharing the limit (≥ 1). */
  replicas: number;
  /** Ms between syncs: the retry-after of a rejection for an exhausted per-sync budget. */
  syncEveryMs: number;
  /** Keys checked since the last sync; bounded by `maxTouched` (the fleet drains it). */
  readonly touched: string[];
  readonly maxTouched: number;
  /** Rejections by the local insurance limit while unhealthy. */
  insuranceRejections: number;
  /** Rejections because this replica spent its share of the headroom before the next sync. */
  budgetRejections: number;
  /** A block (until > 0, ttlMs) or an unblock (until = 0) made on this replica. */
  blockChanged(key: string, ttlMs: number): void;
}

const ALLOWED = 0;
const LIMITED = 1;
/** Requests from a key whose offered load is over the configured limit: the attack signal. */
const EXCESS = 2;
/**
 * Rejections of a key whose offered load is within the configured limit: 429s that exist only
 * because the limit in force is lower than the configured one (a person's `adjust`, a `tighten`).
 */
const OWN = 3;

/**
 * A per-key rate limiter using a **sliding window counter**: per key, the
 * counts of the current and the previous fixed window, with the previous
 * one weighted by how much of it still overlaps the sliding window.
 *
 * Why this rather than a token bucket: the limit is configured (and adjusted
 * by the runbook) as "N requests per window", which this algorithm enforces
 * directly, with no burst at window boundaries (unlike a fixed window) and in
 * O(1) memory per key (two counters and a timestamp, unlike a sliding log).
 * A token bucket would need the same limit re-expressed as a rate plus a
 * burst size, and would allow a full burst after every idle period.
 *
 * Per-key state lives in an lru-cache capped at `maxKeys`: beyond it the least
 * recently seen key is forgotten (its count restarts), counted in
 * `evictedKeys`. Rejections are counted in a 5-minute window (the
 * rate-limit-attack signal) and feed a bounded top-offenders list.
 *
 * @example
 * ```ts
 * const limiter = monitor.rateLimiter('api', { maxRequests: 100, windowSeconds: 60 });
 * const verdict = limiter.check(req.ip);
 * if (!verdict.allowed) return res.status(429).end();
 * ```
 */
export class RateLimiter {
  readonly name: string;
  /** @internal Detector settings (`false`: none). */
  readonly detector: z.output<typeof rateLimitDetectorSchema>;
  private readonly clock: Clock;
  private readonly configured: RateLimit;
  private readonly configuredMs: number;
  private limit: number;
  private windowMs: number;
  private readonly states: LRUCache<string, KeyState>;
  private readonly blockedKeys = new Map<string, number>();
  private readonly maxBlocked: number;
  private readonly blockTtlMs: number;
  private readonly offenders: SpaceSaving;
  private readonly recent = new CounterRing(10_000, 30, 4);
  private readonly floor: number;
  private allowedTotal = 0;
  private limitedTotal = 0;
  private evicted = 0;
  private blockEvicted = 0;
  private invalid = 0;
  /** @internal The monitor's change latch (set by `Controls`). */
  shared: ChangeLatch | undefined;
  private fleet: FleetLimiterLink | undefined;
  /** The other replicas' sliding estimate for the key of the check in progress (0 without fresh fleet counts). */
  private fleetRemote = 0;

  constructor(name: string, clock: Clock, options: RateLimiterOptions) {
    const parsed = rateLimiterOptionsSchema.safeParse(options);
    if (!parsed.success) throw ConfigError.fromZod(`rate limiter "${name}" options`, parsed.error);
    const o = parsed.data;
    this.name = name;
    this.clock = clock;
    this.detector = o.detector;
    this.configured = { maxRequests: o.maxRequests, windowSeconds: o.windowSeconds };
    this.configuredMs = o.windowSeconds * 1000;
    this.limit = o.maxRequests;
    this.floor = Math.min(o.maxRequests, o.minMaxRequests ?? Math.max(1, Math.ceil(o.maxRequests / 10)));
    this.windowMs = o.windowSeconds * 1000;
    this.maxBlocked = o.maxBlocked;
    this.blockTtlMs = o.blockTtlMs;
    this.offenders = new SpaceSaving(o.topOffenders);
    this.states = new LRUCache<string, KeyState>({
      max: o.maxKeys,
      dispose: (_v, _k, reason) => {
        if (reason === 'evict') this.evicted++;
      },
    });
  }

  /**
   * Counts one request for `key` and says whether it is allowed. Never
   * throws: a non-string key is converted with `String`; a key longer than
   * {@link MAX_KEY_LENGTH} is kept as its prefix and hash; a key that cannot
   * be converted (`String(key)` throws) is allowed — fail-open, since such a
   * key is a bug in the host rather than a client's doing — and counted in
   * `stats().invalidKeys`.
   *
   * @example
   * ```ts
   * const { allowed, retryAfterMs } = limiter.check(apiKey);
   * ```
   */
  check(key: string): RateLimitVerdict {
    const k = typeof key === 'string' && key.length <= MAX_KEY_LENGTH ? key : keyOf(key);
    if (k === undefined) return this.invalidKey();
    key = k;
    const now = this.clock.now();
    const W = this.windowMs;
    const start = now - (now % W);
    const Wc = this.configuredMs;
    const ostart = now - (now % Wc);
    const resetMs = start + W - now;
    if (this.blockedKeys.size !== 0) {
      const until = this.blockedKeys.get(key);
      if (until !== undefined) {
        if (until > now) return this.reject(key, now, until - now, resetMs, true);
        this.blockedKeys.delete(key);
      }
    }
    let st = this.states.get(key);
    const link = this.fleet;
    if (st === undefined) {
      // Before the first sync a replica may admit its share of the limit: the cold-start term of the fleet's bound.
      const fbudget = link === undefined ? 0 : Math.ceil(this.limit / link.replicas);
      st = { start, prev: 0, curr: 0, ostart, oprev: 0, ocurr: 0, fstart: -1, fprev: 0, fcurr: 0, fbudget, fused: 0, fdirty: false };
      this.states.set(key, st);
    } else if (st.start !== start) {
      st.prev = start - st.start === W ? st.curr : 0;
      st.curr = 0;
      st.start = start;
    }
    if (st.ostart !== ostart) {
      st.oprev = ostart - st.ostart === Wc ? st.ocurr : 0;
      st.ocurr = 0;
      st.ostart = ostart;
    }
    const L = this.limit;
    const elapsed = now - start;
    const estimate = (st.prev * (W - elapsed)) / W + st.curr;
    // Offered load (rejected requests included) against the configured limit, over the configured
    // window: what the key asks for, not what this limiter lets through after being tightened or
    // adjusted to another window — so the limiter's own 429s never read as an attack, and an
    // attack is seen as fast after a 10-per-hour adjust as before it.
    st.ocurr++;
    const excess = (st.oprev * (Wc - (now - ostart))) / Wc + st.ocurr > this.configured.maxRequests;
    if (excess) this.recent.add(now, EXCESS);
    if (estimate + 1 > L) {
      if (!excess) this.recent.add(now, OWN);
      let wait: number;
      if (st.curr + 1 <= L) {
        // Only the previous window's weight is in the way: wait until it has slid out enough.
        wait = W - ((L - st.curr - 1) * W) / st.prev - elapsed;
      } else {
        // This window alone is full: after the roll-over it becomes the weighted previous window.
        wait = resetMs + Math.max(0, W - ((L - 1) * W) / st.curr);
      }
      return this.reject(key, now, Math.max(1, Math.ceil(wait)), resetMs, false);
    }
    if (link !== undefined) {
      const wait = this.fleetWait(link, key, st, L, W, elapsed, estimate, resetMs);
      if (wait > 0) {
        if (!excess) {
          // Offered load is per replica; the fleet's count says whether the key, across replicas, asks for more than
          // the configured limit (an attack spread over replicas). Otherwise the 429 is the limiter's own: a lowered
          // limit, a spent per-sync budget or the insurance share.
          if (estimate + this.fleetRemote + 1 > this.configured.maxRequests) this.recent.add(now, EXCESS);
          else this.recent.add(now, OWN);
        }
        return this.reject(key, now, wait, resetMs, false);
      }
      st.fused++;
    }
    st.curr++;
    this.allowedTotal++;
    this.recent.add(now, ALLOWED);
    return { allowed: true, remaining: Math.floor(L - estimate - 1), retryAfterMs: 0, limit: L, resetMs, blocked: false };
  }

  /**
   * The fleet's verdict for an admission the local counts allow: 0 to admit,
   * else ms to wait. Healthy: the other replicas' counts, slid like ours, plus
   * this replica's budget until the next sync; unhealthy: the local share.
   */
  private fleetWait(link: FleetLimiterLink, key: string, st: KeyState, L: number, W: number, elapsed: number, estimate: number, resetMs: number): number {
    if (!st.fdirty && link.touched.length < link.maxTouched) {
      st.fdirty = true;
      link.touched.push(key);
    }
    this.fleetRemote = 0;
    if (!link.healthy) {
      const share = Math.ceil(L / link.replicas);
      if (estimate + 1 <= share) return 0;
      link.insuranceRejections++;
      return Math.max(1, Math.ceil(st.curr + 1 <= share && st.prev > 0 ? W - ((share - st.curr - 1) * W) / st.prev - elapsed : resetMs));
    }
    const start = st.start;
    const remote = st.fstart === start ? (st.fprev * (W - elapsed)) / W + st.fcurr : st.fstart === start - W ? (st.fcurr * (W - elapsed)) / W : 0;
    this.fleetRemote = remote;
    if (estimate + remote + 1 > L) return Math.max(1, Math.min(resetMs, W));
    // A budget given under a higher limit (before an adjust or tighten) never exceeds the share of the new one.
    if (st.fused >= st.fbudget || st.fused >= Math.ceil(L / link.replicas)) {
      link.budgetRejections++;
      return Math.max(1, Math.min(link.syncEveryMs, resetMs));
    }
    return 0;
  }

  /** @internal Joins (or with undefined leaves) a fleet limiter; keys' counts restart. */
  attachFleet(link: FleetLimiterLink | undefined): void {
    this.fleet = link;
    this.states.clear();
  }

  /** @internal A key's state, without refreshing its recency (the fleet's sync reads it). */
  peekState(key: string): KeyState | undefined {
    return this.states.peek(key);
  }

  /**
   * @internal The fleet's block list replaces the local one (Redis is
   * authoritative for blocks while a fleet is attached); `remainingMs` per key.
   */
  replaceBlocks(blocks: ReadonlyArray<readonly [string, number]>): void {
    const now = this.clock.now();
    this.blockedKeys.clear();
    for (const [k, remaining] of blocks) {
      if (this.blockedKeys.size >= this.maxBlocked) {
        this.blockEvicted++;
        break;
      }
      if (remaining > 0) this.blockedKeys.set(limiterKey(k), now + remaining);
    }
  }

  /** `check(key).allowed`, for callers that need only the boolean. */
  allow(key: string): boolean {
    return this.check(key).allowed;
  }

  /** The limit in force. */
  current(): RateLimit {
    return { maxRequests: this.limit, windowSeconds: this.windowMs / 1000 };
  }

  /**
   * Sets a new limit (and optionally window). Changing the window forgets
   * every key's count, since counts of another window length cannot be
   * compared. Returns the previous limit.
   *
   * @example
   * ```ts
   * limiter.adjust({ maxRequests: 10, windowSeconds: 3600 });
   * ```
   */
  adjust(limit: { maxRequests: number; windowSeconds?: number }): RateLimit {
    const p = limitSchema.safeParse(limit);
    if (!p.success) throw ValidationError.fromZod(`rate limiter "${this.name}" limit`, p.error);
    const previous = this.current();
    this.limit = p.data.maxRequests;
    const windowMs = (p.data.windowSeconds ?? previous.windowSeconds) * 1000;
    if (windowMs !== this.windowMs) {
      this.windowMs = windowMs;
      this.states.clear();
    }
    if (previous.maxRequests !== this.limit || previous.windowSeconds * 1000 !== this.windowMs) this.shared?.changed('limit', this.name);
    return previous;
  }

  /**
   * Multiplies the limit by `factor` (0 < factor ≤ 1; default 0.5 halves it),
   * never below the floor (`minMaxRequests`). Returns the previous limit.
   *
   * @example
   * ```ts
   * limiter.tighten(0.25); // a quarter of the current limit
   * ```
   */
  tighten(factor = 0.5): RateLimit {
    // typeof first: comparing a bigint passes, and a null-prototype object throws a TypeError.
    if (typeof factor !== 'number' || !(factor > 0 && factor <= 1)) {
      throw new ValidationError(`rate limiter "${this.name}" tighten`, [{ path: 'factor', message: 'factor must be > 0 and ≤ 1' }]);
    }
    if (this.limit <= this.floor) return this.current();
    return this.adjust({ maxRequests: Math.max(this.floor, Math.floor(this.limit * factor)) });
  }

  /** Back to the configured limit. Returns the previous limit. */
  restore(): RateLimit {
    return this.adjust({ ...this.configured });
  }

  /**
   * Rejects every request of `key` for `ttlMs` (default `blockTtlMs`, 1 h).
   * Returns false if the key was already blocked (the block is extended if
   * the new one ends later).
   *
   * @example
   * ```ts
   * limiter.block('203.0.113.7', 3_600_000);
   * ```
   */
  block(key: string, ttlMs: number = this.blockTtlMs): boolean {
    if (typeof key !== 'string' || key.length === 0) {
      throw new ValidationError(`rate limiter "${this.name}" block`, [{ path: 'key', message: 'key must be a non-empty string' }]);
    }
    key = limiterKey(key);
    if (typeof ttlMs !== 'number' || !(ttlMs > 0 && Number.isFinite(ttlMs))) {
      throw new ValidationError(`rate limiter "${this.name}" block`, [{ path: 'ttlMs', message: 'ttlMs must be a positive number' }]);
    }
    const now = this.clock.now();
    const until = now + ttlMs;
    const existing = this.blockedKeys.get(key);
    this.fleet?.blockChanged(key, ttlMs);
    if (existing !== undefined && existing > now) {
      if (until > existing) {
        this.blockedKeys.set(key, until);
        this.sharedBlock(key);
      }
      return false;
    }
    this.blockedKeys.delete(key);
    if (this.blockedKeys.size >= this.maxBlocked) {
      this.sweepBlocked(now);
      if (this.blockedKeys.size >= this.maxBlocked) {
        const oldest = this.blockedKeys.keys().next().value;
        if (oldest !== undefined) this.blockedKeys.delete(oldest);
        this.blockEvicted++;
      }
    }
    this.blockedKeys.set(key, until);
    this.sharedBlock(key);
    return true;
  }

  /** Lifts a block (by the original key or its kept form). Returns false if the key was not blocked. */
  unblock(key: string): boolean {
    const k = keyOf(key);
    if (k === undefined) return false;
    const until = this.blockedKeys.get(k);
    this.blockedKeys.delete(k);
    const lifted = until !== undefined && until > this.clock.now();
    // Unblocked here means unblocked everywhere, even if this replica had not yet seen the block.
    this.fleet?.blockChanged(k, 0);
    if (lifted) this.sharedBlock(k);
    return lifted;
  }

  /** Tells the change latch (the fleet's control state carries blocks). */
  private sharedBlock(key: string): void {
    this.shared?.changed('block', this.name, key);
  }

  /** @internal The limit the fleet shares. */
  exportShared(): SharedState {
    return { maxRequests: this.limit, windowSeconds: this.windowMs / 1000 };
  }

  /** @internal Takes the fleet's limit (idempotent; called with the latch muted). */
  applyShared(s: SharedState): void {
    const maxRequests = num(s, 'maxRequests');
    const windowSeconds = num(s, 'windowSeconds');
    if (maxRequests === undefined || windowSeconds === undefined) return;
    if (maxRequests === this.limit && windowSeconds * 1000 === this.windowMs) return;
    this.adjust({ maxRequests, windowSeconds });
  }

  /** @internal One key's block as the fleet shares it (`blockedForMs` 0: not blocked). */
  exportBlock(key: string, now: number): SharedState {
    const until = this.blockedKeys.get(key);
    return { blockedForMs: until !== undefined && until > now ? until - now : 0 };
  }

  /** @internal Takes the fleet's block of `key` (idempotent; called with the latch muted). */
  applyBlock(key: string, s: SharedState, now: number): void {
    const rel = num(s, 'blockedForMs') ?? 0;
    if (rel <= 0) {
      this.blockedKeys.delete(key);
      return;
    }
    const until = now + rel;
    const existing = this.blockedKeys.get(key);
    // Within 50 ms it is the same block measured against another clock: leave it as is.
    if (existing !== undefined && Math.abs(existing - until) <= 50) return;
    if (existing !== undefined) this.blockedKeys.set(key, until);
    else this.block(key, rel);
  }

  /** When `key`'s block ends, or undefined when it is not blocked. */
  blockedUntil(key: string): number | undefined {
    const k = keyOf(key);
    const until = k === undefined ? undefined : this.blockedKeys.get(k);
    return until !== undefined && until > this.clock.now() ? until : undefined;
  }

  /** Forgets one key's count (e.g. after a successful login). */
  reset(key: string): void {
    const k = keyOf(key);
    if (k !== undefined) this.states.delete(k);
  }

  /** The most-rejected keys, highest first; at most `n` (an integer ≥ 0, else a `ValidationError`). */
  topOffenders(n?: number): HeavyHitter[] {
    if (n !== undefined && !(typeof n === 'number' && Number.isInteger(n) && n >= 0)) {
      throw new ValidationError(`rate limiter "${this.name}" top offenders`, [{ path: 'n', message: 'n must be an integer ≥ 0' }]);
    }
    return this.offenders.top(n);
  }

  /** Decisions over the last `windowMs` (≤ 5 minutes): allowed and rejected. */
  recentCounts(windowMs = 300_000): { allowed: number; limited: number } {
    const now = this.clock.now();
    return { allowed: this.recent.sum(now, ALLOWED, windowMs), limited: this.recent.sum(now, LIMITED, windowMs) };
  }

  /** Requests over the last `windowMs` (≤ 5 minutes) from keys offering more than the configured limit: the rate-limit-attack signal. */
  recentExcess(windowMs = 300_000): number {
    return this.recent.sum(this.clock.now(), EXCESS, windowMs);
  }

  /**
   * Rejections over the last `windowMs` (≤ 5 minutes) of keys offering no more than the
   * configured limit: 429s this limiter produced only because its limit was lowered (by a person
   * or a `tighten`). The service-wide 429-rate detector subtracts them. Blocked keys' rejections
   * are not among them.
   */
  recentOwnRejections(windowMs = 300_000): number {
    return this.recent.sum(this.clock.now(), OWN, windowMs);
  }

  /** State, counters, blocked keys and top offenders. */
  stats(): RateLimiterStats {
    const now = this.clock.now();
    this.sweepBlocked(now);
    const limit = this.current();
    return {
      name: this.name,
      limit,
      configured: { ...this.configured },
      adjusted: limit.maxRequests !== this.configured.maxRequests || limit.windowSeconds !== this.configured.windowSeconds,
      allowed: this.allowedTotal,
      limited: this.limitedTotal,
      recent: { ...this.recentCounts(), windowMs: this.recent.windowMs },
      recentExcess: this.recentExcess(),
      recentOwnRejections: this.recentOwnRejections(),
      floor: this.floor,
      keys: this.states.size,
      evictedKeys: this.evicted,
      invalidKeys: this.invalid,
      blocked: [...this.blockedKeys].map(([key, until]) => ({ key, until })),
      blockEvictions: this.blockEvicted,
      topOffenders: this.offenders.top(),
    };
  }

  private invalidKey(): RateLimitVerdict {
    this.invalid++;
    const now = this.clock.now();
    return { allowed: true, remaining: this.limit, retryAfterMs: 0, limit: this.limit, resetMs: this.windowMs - (now % this.windowMs), blocked: false };
  }

  private reject(key: string, now: number, retryAfterMs: number, resetMs: number, blocked: boolean): RateLimitVerdict {
    this.limitedTotal++;
    this.recent.add(now, LIMITED);
    this.offenders.offer(key);
    return { allowed: false, remaining: 0, retryAfterMs, limit: this.limit, resetMs, blocked };
  }

  private sweepBlocked(now: number): void {
    for (const [k, until] of this.blockedKeys) if (until <= now) this.blockedKeys.delete(k);
  }
}

/**
 * Registers `rate-limit.adjust` (runbook: "Adjust rate limits", 60 s),
 * `rate-limit.tighten`, `rate-limit.restore`, `rate-limit.block` ("Block
 * attacker IPs", 120 s) and `rate-limit.unblock`.
 */
export function registerRateLimitActions(actions: ActionRegistry, limiters: ReadonlyMap<string, RateLimiter>): void {
  const previousOf = (data: Record<string, unknown>): RateLimit => data['previous'] as RateLimit;
  const changed = (a: RateLimit, b: RateLimit): boolean => a.maxRequests !== b.maxRequests || a.windowSeconds !== b.windowSeconds;
  const describe = (l: RateLimit): string => `${l.maxRequests} per ${l.windowSeconds} s`;
  const restorePrevious = ({ data, execution }: { data: Record<string, unknown>; execution: { source: string } }) => {
    const l = pick('rate limiter', limiters, data['name'] as string);
    const previous = previousOf(data);
    const set = data['set'] as RateLimit | undefined;
    if (!changed(l.current(), previous)) return { noop: true, message: `${l.name} already at ${describe(previous)}` };
    // An automatic step's revert never overwrites a limit someone set after it: theirs is the newer
    // decision. A person reverting by hand asked for exactly this revert, so theirs goes through.
    if (execution.source === 'auto' && set !== undefined && changed(l.current(), set)) return { noop: true, message: `${l.name} changed since to ${describe(l.current())}; left as is` };
    l.adjust(previous);
    return { message: `${l.name}: back to ${describe(previous)}` };
  };

  actions.register({
    id: 'rate-limit.adjust',
    title: 'Adjust rate limits',
    description: 'Sets a limiter to maxRequests per windowSeconds. Revert restores the limit it replaced.',
    estimatedSeconds: 60,
    risk: 'risky',
    verification: 'Rejections (429) rise for abusive keys only; /stats/rate-limit shows the new limit.',
    params: namedParams('rate limiter', limiters, {
      maxRequests: z.number().int().positive(),
      windowSeconds: z.number().positive().max(MAX_WINDOW_SECONDS).optional(),
    }),
    execute: ({ params }) => {
      const l = pick('rate limiter', limiters, params.name);
      const target = { maxRequests: params.maxRequests, windowSeconds: params.windowSeconds ?? l.current().windowSeconds };
      if (!changed(l.current(), target)) return { noop: true, message: `${l.name} already at ${describe(target)}`, data: { name: l.name } };
      const previous = l.adjust(target);
      return { message: `${l.name}: ${describe(previous)} → ${describe(target)}`, data: { name: l.name, previous, set: l.current() } };
    },
    revert: restorePrevious,
  });
  actions.register({
    id: 'rate-limit.tighten',
    title: 'Tighten rate limits',
    description: 'Multiplies a limiter’s limit by factor (default 0.5: half). Revert restores the limit it replaced.',
    estimatedSeconds: 60,
    risk: 'safe',
    verification: 'Rejections (429) rise for abusive keys; latency and error rate recover.',
    params: namedParams('rate limiter', limiters, {
      factor: z.number().gt(0, 'factor must be > 0').lte(1, 'factor must be ≤ 1').default(0.5),
    }),
    execute: ({ params, source }) => {
      const l = pick('rate limiter', limiters, params.name);
      const before = l.current();
      if (source === 'auto' && before.maxRequests < l.stats().configured.maxRequests) {
        // Already below its configured limit (a person lowered it, or an earlier step): more 429s are
        // the limiter's own doing; tightening further needs a key offering more than the configured limit.
        if (l.recentExcess() === 0) return { noop: true, message: `${l.name}: no key over the configured limit; its 429s are its own, not an attack`, data: { name: l.name } };
      }
      const previous = l.tighten(params.factor);
      if (!changed(l.current(), before)) return { noop: true, message: `${l.name} already at its floor (${describe(before)})`, data: { name: l.name } };
      return { message: `${l.name}: ${describe(previous)} → ${describe(l.current())}`, data: { name: l.name, previous, set: l.current() } };
    },
    revert: restorePrevious,
  });
  actions.register({
    id: 'rate-limit.restore',
    title: 'Restore rate limits',
    description: 'Puts a limiter back to its configured limit. Revert re-applies the limit it replaced.',
    estimatedSeconds: 60,
    risk: 'safe',
    verification: '/stats/rate-limit shows the configured limit (adjusted: false).',
    params: namedParams('rate limiter', limiters, {}),
    execute: ({ params }) => {
      const l = pick('rate limiter', limiters, params.name);
      if (!l.stats().adjusted) return { noop: true, message: `${l.name} already at its configured limit`, data: { name: l.name } };
      const previous = l.restore();
      return { message: `${l.name}: ${describe(previous)} → ${describe(l.current())}`, data: { name: l.name, previous, set: l.current() } };
    },
    revert: restorePrevious,
  });
  actions.register({
    id: 'rate-limit.block',
    title: 'Block keys',
    description: 'Rejects every request of a key (an IP, an API key) for ttlSeconds; `top: n` blocks the n top offenders. Revert unblocks the keys it blocked.',
    estimatedSeconds: 120,
    risk: 'risky',
    requiresConfirm: true,
    verification: 'The blocked keys appear in /stats/rate-limit; traffic from them is rejected.',
    params: namedParams('rate limiter', limiters, {
      key: z.string().min(1).max(500).optional(),
      top: z.number().int().positive().max(1000).optional(),
      ttlSeconds: z.number().int().positive().max(MAX_WINDOW_SECONDS).default(3600),
    }).refine((p) => (p.key === undefined) !== (p.top === undefined), { path: ['key'], message: 'give exactly one of key or top' }),
    execute: ({ params }) => {
      const l = pick('rate limiter', limiters, params.name);
      const keys = params.key !== undefined ? [params.key] : l.topOffenders(params.top).map((o) => o.key);
      const blocked = keys.filter((k) => l.block(k, params.ttlSeconds * 1000));
      if (blocked.length === 0) return { noop: true, message: keys.length === 0 ? 'no offender to block' : 'already blocked', data: { name: l.name, blocked } };
      return { message: `${l.name}: blocked ${blocked.join(', ')} for ${params.ttlSeconds} s`, data: { name: l.name, blocked } };
    },
    revert: ({ data }) => {
      const l = pick('rate limiter', limiters, data['name'] as string);
      const lifted = ((data['blocked'] as string[] | undefined) ?? []).filter((k) => l.unblock(k));
      return lifted.length === 0 ? { noop: true } : { message: `${l.name}: unblocked ${lifted.join(', ')}` };
    },
  });
  actions.register({
    id: 'rate-limit.unblock',
    title: 'Unblock key',
    description: 'Lifts a block. Revert blocks the key again for the rest of its original block.',
    estimatedSeconds: 60,
    risk: 'safe',
    verification: 'The key no longer appears under blocked in /stats/rate-limit.',
    params: namedParams('rate limiter', limiters, { key: z.string().min(1).max(500) }),
    execute: ({ params, now }) => {
      const l = pick('rate limiter', limiters, params.name);
      const until = l.blockedUntil(params.key);
      if (until === undefined || !l.unblock(params.key)) return { noop: true, message: `${params.key} was not blocked`, data: { name: l.name } };
      return { message: `${l.name}: unblocked ${params.key}`, data: { name: l.name, key: params.key, remainingMs: until - now } };
    },
    revert: ({ data }) => {
      const l = pick('rate limiter', limiters, data['name'] as string);
      const ok = l.block(data['key'] as string, Math.max(1, data['remainingMs'] as number));
      return ok ? { message: `${l.name}: blocked ${data['key'] as string} again` } : { noop: true };
    },
  });
}

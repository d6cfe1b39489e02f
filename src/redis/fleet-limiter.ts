/**
 * Fleet-wide rate limits: every `monitor.rateLimiter(…)` of the monitor
 * enforces its limit across all replicas, with counts shared through Redis.
 *
 * **Why our own Lua script rather than rate-limiter-flexible's
 * `RateLimiterRedis`.** `RateLimiterRedis.consume()` is one Redis round trip
 * *per request*: the hot path would wait on Redis (the HTTP middleware's
 * contract is synchronous) and every request would cost a network hop. It
 * also counts a fixed window (or a bucket), not our sliding-window counter,
 * so a limiter would answer differently with and without a fleet. Our script
 * runs once per sync interval for every key checked since the last one (one
 * round trip for the whole batch), keeps the same two-window sliding counter
 * as the local limiter, and stores each replica's own count in a hash field
 * (`HSET`, not `INCRBY`): a sync that timed out but was applied, or is
 * retried, never counts twice.
 *
 * **How a decision is made without waiting.** `check()` stays local. Per key
 * it adds to its own sliding estimate the other replicas' counts learned at
 * the last sync (slid by the same weights), and between two syncs it admits at
 * most its share of the remaining headroom, `⌈(L − fleet estimate) / N⌉`
 * (before the first sync, `⌈L / N⌉`), N being the live replicas.
 *
 * **Guarantee.** With N replicas, limit L, sync interval T and round trip
 * rtt, the fleet admits per sliding window at most
 * `L + N·m − 1`, where `m = min(⌈L / N⌉, requests one replica admits for the
 * key within T + rtt)`: a replica can only act on counts at most one sync
 * old, and its budget bounds what it admits meanwhile. A slow key (m = 1)
 * overshoots by at most N − 1; the worst case (a burst faster than one
 * sync on every replica) is `L + N·⌈L/N⌉ − 1` ≈ 2L.
 *
 * **Redis unreachable** (a failed or late sync): each replica enforces its
 * share `⌈L / N⌉` locally (the insurance limit, N as last seen), counted in
 * `insuranceRejections` and reported `degraded`. The fleet then admits at most
 * `N·⌈L / N⌉` per window.
 *
 * **Blocks** live in one Redis hash per limiter (key → until, Redis `TIME`),
 * the authority for blocks: a block or unblock made on any replica is written
 * there and published; every replica replaces its local block list with the
 * hash on each message and every `reconcileEveryMs`. Changes made while Redis
 * is down are queued (one per key, bounded) and written on reconnect before
 * the hash is read again.
 *
 * **Limits**: the counts are raw request counts, so each replica compares them
 * with the limit *it* currently has: an `adjust`/`tighten` anywhere applies to
 * the fleet's counts as soon as that replica has the new limit (the control
 * state part syncs parameters). A window change uses other Redis keys.
 *
 * @packageDocumentation
 */
import type { RateLimiter, FleetLimiterLink } from '../actions/controls/rate-limiter.js';
import { key, type FleetContext, type FleetPart } from './context.js';

/**
 * Per key: `HSET` our counts of the current and previous window, sum the other
 * replicas' counts, and register this replica as live. One round trip for the
 * batch. ARGV: counts prefix, replica, windowMs, members key, member TTL ms,
 * then per key: key, window index, current count, previous count.
 */
const SYNC_SCRIPT = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local me = ARGV[2]
local W = tonumber(ARGV[3])
local ttl = tonumber(ARGV[5])
redis.call('ZADD', ARGV[4], now, me)
redis.call('ZREMRANGEBYSCORE', ARGV[4], '-inf', now - ttl)
redis.call('PEXPIRE', ARGV[4], ttl * 2)
local out = { redis.call('ZCARD', ARGV[4]) }
local function others(k)
  local v = redis.call('HGETALL', k)
  local n = 0
  for j = 1, #v, 2 do
    if v[j] ~= me then n = n + tonumber(v[j + 1]) end
  end
  return n
end
for i = 6, #ARGV, 4 do
  local base = ARGV[1] .. ARGV[i] .. ':'
  local idx = tonumber(ARGV[i + 1])
  local curr = tonumber(ARGV[i + 2])
  local prev = tonumber(ARGV[i + 3])
  local kc = base .. string.format('%d', idx)
  local kp = base .. string.format('%d', idx - 1)
  if curr > 0 then
    redis.call('HSET', kc, me, curr)
    redis.call('PEXPIRE', kc, 2 * W + 60000)
  end
  if prev > 0 then
    redis.call('HSET', kp, me, prev)
    redis.call('PEXPIRE', kp, W + 60000)
  end
  out[#out + 1] = others(kc)
  out[#out + 1] = others(kp)
end
return out
`;

/** ARGV: hash, then per change: key, ttlMs (0: unblock). Until = Redis TIME + ttl; a later block wins. */
const BLOCK_SCRIPT = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
for i = 2, #ARGV, 2 do
  local ttl = tonumber(ARGV[i + 1])
  if ttl == 0 then
    redis.call('HDEL', ARGV[1], ARGV[i])
  else
    local old = tonumber(redis.call('HGET', ARGV[1], ARGV[i]) or '0')
    if now + ttl > old then redis.call('HSET', ARGV[1], ARGV[i], now + ttl) end
    local left = redis.call('PTTL', ARGV[1])
    if left < ttl then redis.call('PEXPIRE', ARGV[1], ttl) end
  end
end
return 1
`;

/** ARGV: hash. Returns key, remaining ms pairs; drops expired entries. */
const READ_BLOCKS_SCRIPT = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local v = redis.call('HGETALL', ARGV[1])
local out = {}
for j = 1, #v, 2 do
  local left = tonumber(v[j + 1]) - now
  if left > 0 then
    out[#out + 1] = v[j]
    out[#out + 1] = left
  else
    redis.call('HDEL', ARGV[1], v[j])
  end
end
return out
`;

/** Most keys one sync sends per limiter (the rest wait for the next one). */
const MAX_BATCH = 1_000;
/** Most block changes queued per limiter while Redis is down. */
const MAX_PENDING_BLOCKS = 10_000;

/**
 * Options of {@link fleetLimiter}.
 *
 * @example
 * ```ts
 * fleetLimiter(ctx, { syncEveryMs: 25 });
 * ```
 */
export interface FleetLimiterOptions {
  /** Ms between two syncs of the counts (T in the guarantee). Default 50. */
  syncEveryMs?: number;
  /** A sync older than this marks the counts stale (insurance limit). Default max(4·syncEveryMs, 500). */
  staleAfterMs?: number;
  /**
   * Share blocks through this part's block hash (default true). `redisFleet()`
   * turns it off: there the control-state part carries blocks with every other
   * lever (loaded before ready, re-seeded after Redis loses its data), and two
   * authorities would fight over one block list.
   */
  shareBlocks?: boolean;
}

interface Link extends FleetLimiterLink {
  readonly limiter: RateLimiter;
  /** Block changes not yet written (key → ttlMs, 0 = unblock), in order. */
  readonly pendingBlocks: Map<string, number>;
  /** Bumped by every local block change: a read older than one must not replace the list. */
  blockSeq: number;
}

/**
 * `fleet.stats().parts['limiter']`.
 *
 * @example
 * ```ts
 * const s = fleet.stats().parts['limiter'] as FleetLimiterStats;
 * if (s.degraded) console.warn(`insurance limit in force: ${s.insuranceRejections} rejected`);
 * ```
 */
export interface FleetLimiterStats {
  /** True while counts are unreachable or stale: each replica enforces ⌈L / N⌉ locally. */
  degraded: boolean;
  /** Live replicas (N) as last seen in Redis. */
  replicas: number;
  limiters: number;
  syncs: number;
  syncErrors: number;
  /** Rejections by the local insurance limit while degraded. */
  insuranceRejections: number;
  /** Rejections because this replica spent its share of the headroom before the next sync. */
  budgetRejections: number;
  /** Block changes made here and not yet written to Redis. */
  pendingBlocks: number;
  blockErrors: number;
  /** Round trip of the last sync, ms. */
  lastSyncMs: number;
}

/**
 * The fleet part that shares rate-limiter counts and blocks through Redis.
 * Attaches to every limiter the monitor has (and to limiters created later,
 * at the next reconciliation).
 *
 * @example
 * ```ts
 * const part = fleetLimiter(ctx);
 * await part.start();
 * ```
 */
export function fleetLimiter(ctx: FleetContext, options: FleetLimiterOptions = {}): FleetPart & { syncNow(): Promise<void>; readBlocks(): Promise<void> } {
  const syncEveryMs = options.syncEveryMs ?? 50;
  const staleAfterMs = options.staleAfterMs ?? Math.max(4 * syncEveryMs, 500);
  const shareBlocks = options.shareBlocks ?? true;
  const membersKey = key(ctx, 'limiter', 'replicas');
  const channel = key(ctx, 'limiter', 'blocks');
  const links = new Map<string, Link>();
  let replicas = 1;
  let healthy = false;
  let lastOk = 0;
  let inFlight = false;
  let syncs = 0;
  let syncErrors = 0;
  let blockErrors = 0;
  let lastSyncMs = 0;
  let closed = false;
  let syncTimer: NodeJS.Timeout | undefined;
  let reconcileTimer: NodeJS.Timeout | undefined;

  const setHealthy = (ok: boolean): void => {
    healthy = ok;
    for (const l of links.values()) {
      l.healthy = ok;
      l.replicas = replicas;
    }
  };

  const attach = (): void => {
    for (const limiter of ctx.monitor.controls.rateLimiters.values()) {
      if (links.has(limiter.name)) continue;
      const link: Link = {
        limiter,
        healthy,
        replicas,
        syncEveryMs,
        touched: [],
        maxTouched: 20_000,
        insuranceRejections: 0,
        budgetRejections: 0,
        pendingBlocks: new Map(),
        blockSeq: 0,
        blockChanged(k, ttlMs) {
          if (!shareBlocks) return;
          link.blockSeq++;
          // Re-insert so the map keeps the order of the latest change per key.
          link.pendingBlocks.delete(k);
          if (link.pendingBlocks.size >= MAX_PENDING_BLOCKS) {
            const oldest = link.pendingBlocks.keys().next().value;
            if (oldest !== undefined) link.pendingBlocks.delete(oldest);
            blockErrors++;
          }
          link.pendingBlocks.set(k, ttlMs);
          void writeBlocks(link);
        },
      };
      links.set(limiter.name, link);
      limiter.attachFleet(link);
    }
  };

  const countsPrefix = (l: Link): string => key(ctx, 'limiter', l.limiter.name, String(l.limiter.current().windowSeconds * 1000)) + ':';
  const blocksKey = (l: Link): string => key(ctx, 'limiter', l.limiter.name, 'blocks');

  /** One round trip per limiter: our counts of every key checked since the last sync, the others' back. */
  async function syncNow(): Promise<void> {
    if (inFlight || closed) return;
    inFlight = true;
    const t0 = performance.now();
    try {
      let beat = false;
      for (const l of links.values()) if (l.touched.length > 0) beat = true;
      if (!beat) {
        // Nothing to count: only say we are alive (N for everyone's shares).
        const r = (await ctx.redis.eval(SYNC_SCRIPT, 0, 'x', ctx.replica, 1, membersKey, staleAfterMs * 4)) as number[];
        replicas = Math.max(1, Number(r[0]));
      }
      for (const l of links.values()) {
        const W = l.limiter.current().windowSeconds * 1000;
        const L = l.limiter.current().maxRequests;
        if (l.touched.length === 0) continue;
        const keys = l.touched.splice(0, MAX_BATCH);
        const argv: Array<string | number> = [countsPrefix(l), ctx.replica, W, membersKey, staleAfterMs * 4];
        const sent: Array<{ k: string; start: number; used: number } | undefined> = [];
        for (const k of keys) {
          const st = l.limiter.peekState(k);
          if (st === undefined) continue;
          st.fdirty = false;
          const prev = st.prev;
          argv.push(k, Math.floor(st.start / W), st.curr, prev);
          sent.push({ k, start: st.start, used: st.fused });
        }
        const r = (await ctx.redis.eval(SYNC_SCRIPT, 0, ...argv)) as number[];
        replicas = Math.max(1, Number(r[0]));
        const now = ctx.monitor.clock.now();
        for (let i = 0; i < sent.length; i++) {
          const s = sent[i]!;
          const st = l.limiter.peekState(s.k);
          // A key forgotten (or its window restarted by adjust) meanwhile has nothing to learn.
          if (st === undefined || st.start < s.start) continue;
          st.fstart = s.start;
          st.fcurr = Number(r[1 + 2 * i]);
          st.fprev = Number(r[2 + 2 * i]);
          st.fused = Math.max(0, st.fused - s.used);
          const elapsed = now - st.start;
          const sameWindow = st.start === s.start;
          const remote = sameWindow ? (st.fprev * (W - elapsed)) / W + st.fcurr : (st.fcurr * (W - elapsed)) / W;
          const local = (st.prev * (W - elapsed)) / W + st.curr;
          st.fbudget = Math.ceil(Math.max(0, L - local - remote) / replicas);
        }
      }
      syncs++;
      lastOk = performance.now();
      lastSyncMs = lastOk - t0;
      setHealthy(true);
    } catch {
      syncErrors++;
      setHealthy(false);
    } finally {
      inFlight = false;
    }
  }

  async function writeBlocks(l: Link): Promise<void> {
    if (l.pendingBlocks.size === 0 || closed) return;
    const batch = [...l.pendingBlocks];
    const argv: Array<string | number> = [blocksKey(l)];
    for (const [k, ttl] of batch) argv.push(k, Math.max(0, Math.ceil(ttl)));
    try {
      await ctx.redis.eval(BLOCK_SCRIPT, 0, ...argv);
      for (const [k, ttl] of batch) if (l.pendingBlocks.get(k) === ttl) l.pendingBlocks.delete(k);
      await ctx.redis.publish(channel, l.limiter.name);
    } catch {
      blockErrors++;
    }
  }

  async function readBlocks(only?: string): Promise<void> {
    if (!shareBlocks) return;
    for (const l of links.values()) {
      if (only !== undefined && l.limiter.name !== only) continue;
      // Our own changes first: the hash is the authority only once it has them.
      if (l.pendingBlocks.size > 0) await writeBlocks(l);
      if (l.pendingBlocks.size > 0) continue;
      const seq = l.blockSeq;
      try {
        const r = (await ctx.redis.eval(READ_BLOCKS_SCRIPT, 0, blocksKey(l))) as Array<string | number>;
        if (l.blockSeq !== seq || l.pendingBlocks.size > 0) continue; // a local change raced the read: next time
        const blocks: Array<[string, number]> = [];
        for (let i = 0; i + 1 < r.length; i += 2) blocks.push([String(r[i]), Number(r[i + 1])]);
        l.limiter.replaceBlocks(blocks);
      } catch {
        blockErrors++;
      }
    }
  }

  const onMessage = (ch: string, name: string): void => {
    if (ch === channel) void readBlocks(name).catch(() => undefined);
  };

  const tick = (): void => {
    if (inFlight && performance.now() - lastOk > staleAfterMs) setHealthy(false);
    if (ctx.redis.status !== 'ready') {
      if (healthy) setHealthy(false);
      return;
    }
    if (healthy && performance.now() - lastOk > staleAfterMs) setHealthy(false);
    void syncNow();
  };

  return {
    name: 'limiter',
    syncNow,
    readBlocks: () => readBlocks(),
    async start() {
      attach();
      ctx.subscriber.on('message', onMessage);
      try {
        await ctx.subscriber.subscribe(channel);
      } catch {
        // Reconciliation reads the blocks anyway; the subscription is retried by ioredis on reconnect.
      }
      syncTimer = setInterval(tick, syncEveryMs);
      syncTimer.unref();
      reconcileTimer = setInterval(() => {
        attach();
        void readBlocks().catch(() => undefined);
      }, ctx.reconcileEveryMs);
      reconcileTimer.unref();
      await syncNow();
      await readBlocks();
    },
    stats(): Record<string, unknown> {
      let insurance = 0;
      let budget = 0;
      let pending = 0;
      for (const l of links.values()) {
        insurance += l.insuranceRejections;
        budget += l.budgetRejections;
        pending += l.pendingBlocks.size;
      }
      const s: FleetLimiterStats = {
        degraded: !healthy,
        replicas,
        limiters: links.size,
        syncs,
        syncErrors,
        insuranceRejections: insurance,
        budgetRejections: budget,
        pendingBlocks: pending,
        blockErrors,
        lastSyncMs,
      };
      return { ...s };
    },
    async close() {
      closed = true;
      clearInterval(syncTimer);
      clearInterval(reconcileTimer);
      ctx.subscriber.off('message', onMessage);
      for (const l of links.values()) l.limiter.attachFleet(undefined);
      links.clear();
    },
  };
}

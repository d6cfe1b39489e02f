/**
 * Fleet part `windows`: every replica publishes a compact, mergeable
 * snapshot of its window to Redis each period, so that any replica can read
 * the fleet's window (`fleet.windows.stats()`, `GET /stats/fleet`) and judge
 * the SLOs for the whole fleet (`fleet.windows.evaluate()`). It also keeps
 * each replica's burn-rate counters in Redis, so that a restarted replica
 * does not start its 6 h and 1 d windows blind.
 *
 * Keys (all under the fleet prefix):
 * - `windows:snap:<replica>`: the snapshot (JSON), expiring `window + 2 periods` after its last publish;
 * - `windows:index`: sorted set of replicas by the Redis time of their last publish;
 * - `windows:burn:<replica>`: the replica's burn-rate state (the `burnRate.stateFile` format);
 * - `windows:burn-index`: sorted set of those by Redis time of their last save.
 *
 * @packageDocumentation
 */
import type { Redis } from 'ioredis';
import { z } from 'zod';
import { FirebreakError } from '../errors.js';
import type { BurnRateState, BurnRateTracker } from '../incidents/burn-rate.js';
import { burnStateSchema } from '../incidents/burn-state.js';
import {
  attachFleetWindows,
  mergeAndRead,
  takeSnapshot,
  windowSnapshotSchema,
  type FleetWindowStats,
  type WindowSnapshot,
} from '../fleet/snapshot.js';
import type { Monitor } from '../monitor.js';
import type { SloResult, SloStatus } from '../slo/evaluate.js';
import { key, type FleetContext, type FleetPart } from './context.js';

export type { FleetWindowStats } from '../fleet/snapshot.js';

/** Schema of `redisFleet(monitor, { windows })`. */
export const windowsOptionsSchema = z.strictObject({
  /** Publish this replica's window this often (default: the monitor's `window.slotMs`). Replicas silent for 2 periods are left out. */
  publishEveryMs: z.number().int().min(100).max(3_600_000).optional(),
  /** Largest snapshot published or read, in bytes; a larger one is replaced by a `too-large` marker that readers report. */
  maxSnapshotBytes: z.number().int().min(1_024).max(64 * 1024 * 1024).default(4 * 1024 * 1024),
  /** Most replicas read (newest first) and most burn-rate states kept. */
  maxReplicas: z.number().int().min(1).max(10_000).default(256),
  /** A read or write of Redis that takes longer fails (the host is never held). */
  timeoutMs: z.number().int().min(1).max(60_000).default(2_000),
  /** Keep the burn-rate counters in Redis and restore them at start (default true; needs SLOs with burn-rate tracking). */
  burnState: z.boolean().default(true),
});

/**
 * Options of the windows part: `redisFleet(monitor, { redis, windows: { publishEveryMs: 5_000 } })`.
 *
 * @example
 * ```ts
 * const windows: WindowsOptions = { publishEveryMs: 5_000, maxSnapshotBytes: 1_048_576 };
 * ```
 */
export type WindowsOptions = z.input<typeof windowsOptionsSchema>;

/**
 * `fleet.windows.evaluate()`: the request and cache SLOs judged on the
 * fleet's merged window.
 *
 * @example
 * ```ts
 * const { status, slos } = await fleet.windows.evaluate();
 * if (status === 'breach') console.warn(slos.filter((s) => s.status === 'breach').map((s) => s.name));
 * ```
 */
export interface FleetEvaluation {
  at: number;
  /** The worst status among SLOs with data (`no-data` when none has). */
  status: SloStatus;
  slos: SloResult[];
  replicas: FleetWindowStats['replicas'];
}

/** Counters of the windows part, in `fleet.stats().parts.windows`. */
export interface WindowsPartStats {
  publishEveryMs: number;
  publishes: number;
  publishErrors: number;
  /** Bytes of the last snapshot published. */
  lastBytes: number;
  /** Snapshots over `maxSnapshotBytes` (a marker was published instead). */
  tooLarge: number;
  burnSaves: number;
  burnErrors: number;
  /** The replica whose saved burn-rate counters this one restored at start (itself after a restart), or null. */
  burnRestoredFrom: string | null;
  burnRestoredStreams: number;
  lastError: string | undefined;
}

/**
 * The fleet's window, from any replica. `fleet.windows`.
 *
 * @example
 * ```ts
 * const s = await fleet.windows.stats();
 * console.log(`${s.overall.requests} requests over ${s.replicas.merged.length} replicas, p99 ${s.overall.latencyMs.p99} ms`);
 * ```
 */
export interface FleetWindows {
  /**
   * The fleet's window now: overall, per route, per cache and the request and
   * cache SLOs, merged from every replica's last snapshot (this replica's
   * read live). Rejects with a `FirebreakError` of code `FLEET_UNAVAILABLE`
   * when Redis cannot be read within `timeoutMs`.
   */
  stats(): Promise<FleetWindowStats>;
  /** The SLOs judged on the fleet's window (see {@link FleetWindows.stats}; same rejection). */
  evaluate(): Promise<FleetEvaluation>;
  /** Publishes this replica's snapshot now (the part also does so every period). Never rejects: false when it failed. */
  publish(): Promise<boolean>;
  /** Saves this replica's burn-rate counters to Redis now (also done every `burnRate.slotMs` and on close). Never rejects. */
  saveBurnState(): Promise<boolean>;
}

const PUBLISH = `
local t = redis.call('TIME')
local ms = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local ttl = tonumber(ARGV[2])
redis.call('SET', KEYS[1], ARGV[1], 'PX', ttl)
redis.call('ZADD', KEYS[2], ms, ARGV[3])
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', ms - ttl)
redis.call('PEXPIRE', KEYS[2], ttl)
return ms`;

const READ = `
local t = redis.call('TIME')
local ms = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local members = redis.call('ZREVRANGEBYSCORE', KEYS[1], '+inf', ms - tonumber(ARGV[1]), 'WITHSCORES', 'LIMIT', 0, tonumber(ARGV[2]))
local sizes = {}
for i = 1, #members, 2 do sizes[#sizes + 1] = redis.call('STRLEN', ARGV[3] .. members[i]) end
return {ms, members, sizes}`;

// KEYS: burn key of this replica, burn index. ARGV: state, ttl, replica, burn key prefix, max kept.
const SAVE_BURN = `
local t = redis.call('TIME')
local ms = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('SET', KEYS[1], ARGV[1], 'PX', tonumber(ARGV[2]))
redis.call('ZADD', KEYS[2], ms, ARGV[3])
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', ms - tonumber(ARGV[2]))
local max = tonumber(ARGV[5])
for _, r in ipairs(redis.call('ZRANGE', KEYS[2], 0, -(max + 1))) do redis.call('DEL', ARGV[4] .. r) end
redis.call('ZREMRANGEBYRANK', KEYS[2], 0, -(max + 1))
redis.call('PEXPIRE', KEYS[2], tonumber(ARGV[2]))
return ms`;

// KEYS: burn index, windows index. ARGV: replica, burn key prefix, live-within ms, max scanned.
// This replica's own state first (a restart under the same name); else the newest state
// of a replica no longer publishing, taken (deleted) so that one newcomer inherits it.
const CLAIM_BURN = `
local own = redis.call('GET', ARGV[2] .. ARGV[1])
if own then return {ARGV[1], own} end
local t = redis.call('TIME')
local ms = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
for _, r in ipairs(redis.call('ZREVRANGE', KEYS[1], 0, tonumber(ARGV[4]) - 1)) do
  local seen = redis.call('ZSCORE', KEYS[2], r)
  if r ~= ARGV[1] and ((not seen) or ms - tonumber(seen) > tonumber(ARGV[3])) then
    local v = redis.call('GET', ARGV[2] .. r)
    redis.call('DEL', ARGV[2] .. r)
    redis.call('ZREM', KEYS[1], r)
    if v then return {r, v} end
  end
end
return false`;

/** Rejects with FLEET_UNAVAILABLE when `p` does not settle within `ms` (a real timer: this bounds I/O, not logic). */
function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new FirebreakError('FLEET_UNAVAILABLE', `${what}: Redis did not answer within ${ms} ms`)), ms);
    timer.unref();
    p.then(
      (v) => {
        clearTimeout(timer);
        resolve(v);
      },
      (err: unknown) => {
        clearTimeout(timer);
        reject(err instanceof FirebreakError ? err : new FirebreakError('FLEET_UNAVAILABLE', `${what}: ${(err as Error)?.message ?? String(err)}`));
      },
    );
  });
}

function worst(slos: readonly SloResult[]): SloStatus {
  const rank: Record<SloStatus, number> = { 'no-data': 0, ok: 1, warning: 2, breach: 3 };
  let w: SloStatus = 'no-data';
  for (const s of slos) if (rank[s.status] > rank[w]) w = s.status;
  return w;
}

/** The monitor's burn-rate tracker, when some SLO is tracked (package-internal access). */
function trackerOf(monitor: Monitor): BurnRateTracker | undefined {
  return monitor['burn'];
}

/** True when the tracker has counted nothing: only then may saved counts be put back. */
function trackerEmpty(state: BurnRateState): boolean {
  return state.streams.every((s) => s.ring.length === 0 && s.period.length === 0);
}

/**
 * Builds the windows part of a fleet (called by `redisFleet`).
 *
 * @throws ConfigError (via the caller's parse) when an option is invalid.
 */
export function fleetWindows(ctx: FleetContext, options: z.output<typeof windowsOptionsSchema>): { part: FleetPart; api: FleetWindows } {
  const monitor = ctx.monitor;
  const redis: Redis = ctx.redis;
  const windowMs = monitor.store.slotMs * monitor.store.slots;
  const every = options.publishEveryMs ?? monitor.store.slotMs;
  const staleAfterMs = 2 * every;
  // A snapshot outlives its replica until its newest slot could have left every window.
  const snapTtlMs = windowMs + 2 * every;
  const snapKey = key(ctx, 'windows', 'snap', ctx.replica);
  const snapPrefix = key(ctx, 'windows', 'snap', '');
  const indexKey = key(ctx, 'windows', 'index');
  const burnPrefix = key(ctx, 'windows', 'burn', '');
  const burnIndexKey = key(ctx, 'windows', 'burn-index');
  const burnEveryMs = monitor.options.burnRate.slotMs;
  const rules = monitor.options.burnRate.rules;
  // Kept as long as the longest window it feeds and the budget period need; claims and the index cap bound the count.
  const burnTtlMs = Math.max(monitor.options.burnRate.periodMs, ...rules.map((r) => r.longMs));
  const counters: WindowsPartStats = {
    publishEveryMs: every,
    publishes: 0,
    publishErrors: 0,
    lastBytes: 0,
    tooLarge: 0,
    burnSaves: 0,
    burnErrors: 0,
    burnRestoredFrom: null,
    burnRestoredStreams: 0,
    lastError: undefined,
  };
  let closed = false;
  let timer: unknown;
  let publishing: Promise<boolean> | undefined;
  let queued: Promise<boolean> | undefined;
  let lastBurnSave = -Infinity;

  const fail = (err: unknown): string => {
    const msg = (err as Error)?.message ?? String(err);
    counters.lastError = msg;
    return msg;
  };

  const publishNow = async (): Promise<boolean> => {
    try {
      let text = JSON.stringify(takeSnapshot(monitor, ctx.replica));
      let bytes = Buffer.byteLength(text);
      if (bytes > options.maxSnapshotBytes) {
        counters.tooLarge++;
        fail(`snapshot of ${bytes} bytes exceeds maxSnapshotBytes (${options.maxSnapshotBytes}); published a too-large marker`);
        text = JSON.stringify({ replica: ctx.replica, tooLarge: bytes });
        bytes = Buffer.byteLength(text);
      }
      await withTimeout(redis.eval(PUBLISH, 2, snapKey, indexKey, text, snapTtlMs, ctx.replica), options.timeoutMs, 'publish window snapshot');
      counters.publishes++;
      counters.lastBytes = bytes;
      return true;
    } catch (err) {
      counters.publishErrors++;
      fail(err);
      return false;
    }
  };

  // One publish at a time, and at most one waiting: a caller always gets a snapshot taken after its call.
  const publish = (): Promise<boolean> => {
    if (publishing === undefined) {
      publishing = publishNow().finally(() => {
        publishing = undefined;
      });
      return publishing;
    }
    queued ??= publishing.then(() => {
      queued = undefined;
      return publish();
    });
    return queued;
  };

  const saveBurnState = async (): Promise<boolean> => {
    const tracker = trackerOf(monitor);
    if (!options.burnState || tracker === undefined) return false;
    try {
      lastBurnSave = monitor.clock.now();
      const text = JSON.stringify(tracker.exportState(lastBurnSave));
      await withTimeout(
        redis.eval(SAVE_BURN, 2, burnPrefix + ctx.replica, burnIndexKey, text, burnTtlMs, ctx.replica, burnPrefix, options.maxReplicas),
        options.timeoutMs,
        'save burn-rate state',
      );
      counters.burnSaves++;
      return true;
    } catch (err) {
      counters.burnErrors++;
      fail(err);
      return false;
    }
  };

  const restoreBurnState = async (): Promise<void> => {
    const tracker = trackerOf(monitor);
    if (!options.burnState || tracker === undefined) return;
    try {
      // Counted already (a state file restored, or traffic before Redis answered): saved counts would double.
      if (!trackerEmpty(tracker.exportState(monitor.clock.now()))) return;
      const got = (await withTimeout(
        redis.eval(CLAIM_BURN, 2, burnIndexKey, indexKey, ctx.replica, burnPrefix, staleAfterMs, options.maxReplicas),
        options.timeoutMs,
        'restore burn-rate state',
      )) as [string, string] | null;
      if (got === null) return;
      const [from, text] = got;
      if (Buffer.byteLength(text) > tracker.stateBound()) throw new Error(`burn-rate state of ${from} exceeds this configuration's bound`);
      const parsed = burnStateSchema.safeParse(JSON.parse(text));
      if (!parsed.success) throw new Error(`burn-rate state of ${from} is not a firebreak burn-rate state`);
      const now = monitor.clock.now();
      if (!trackerEmpty(tracker.exportState(now))) return;
      counters.burnRestoredStreams = tracker.restoreState(parsed.data as BurnRateState, now);
      counters.burnRestoredFrom = from;
    } catch (err) {
      counters.burnErrors++;
      fail(err);
    }
  };

  const read = async (): Promise<{ snapshots: WindowSnapshot[]; replicas: FleetWindowStats['replicas'] }> => {
    const [redisNow, flat, sizes] = (await withTimeout(redis.eval(READ, 1, indexKey, snapTtlMs, options.maxReplicas, snapPrefix), options.timeoutMs, 'read fleet windows')) as [
      number,
      string[],
      number[],
    ];
    const replicas: FleetWindowStats['replicas'] = { merged: [], stale: [], excluded: [] };
    const fresh: string[] = [];
    for (let i = 0; i + 1 < flat.length; i += 2) {
      const name = flat[i]!;
      if (name === ctx.replica) continue; // read live below
      const silentForMs = Math.max(0, redisNow - Number(flat[i + 1]));
      if (silentForMs > staleAfterMs) replicas.stale.push({ replica: name, silentForMs });
      // Sized before it is fetched: a read holds at most maxReplicas × maxSnapshotBytes.
      else if ((sizes[i / 2] ?? 0) > options.maxSnapshotBytes) replicas.excluded.push({ replica: name, reason: 'too-large', detail: `snapshot over maxSnapshotBytes (${options.maxSnapshotBytes})` });
      else fresh.push(name);
    }
    const snapshots: WindowSnapshot[] = [takeSnapshot(monitor, ctx.replica)];
    if (fresh.length > 0) {
      const values = await withTimeout(redis.mget(...fresh.map((r) => snapPrefix + r)), options.timeoutMs, 'read fleet windows');
      fresh.forEach((name, i) => {
        const text = values[i];
        if (text === null || text === undefined) {
          replicas.stale.push({ replica: name, silentForMs: snapTtlMs });
          return;
        }
        if (Buffer.byteLength(text) > options.maxSnapshotBytes) {
          replicas.excluded.push({ replica: name, reason: 'too-large', detail: `snapshot over maxSnapshotBytes (${options.maxSnapshotBytes})` });
          return;
        }
        let value: unknown;
        try {
          value = JSON.parse(text);
        } catch {
          replicas.excluded.push({ replica: name, reason: 'invalid', detail: 'not JSON' });
          return;
        }
        const tooLarge = (value as { tooLarge?: unknown } | null)?.tooLarge;
        if (typeof tooLarge === 'number') {
          replicas.excluded.push({ replica: name, reason: 'too-large', detail: `its snapshot is ${tooLarge} bytes, over its maxSnapshotBytes` });
          return;
        }
        const parsed = windowSnapshotSchema.safeParse(value);
        if (!parsed.success) {
          replicas.excluded.push({ replica: name, reason: 'invalid', detail: 'not a firebreak window snapshot of this version' });
          return;
        }
        snapshots.push(parsed.data as WindowSnapshot);
      });
    }
    return { snapshots, replicas };
  };

  const stats = async (): Promise<FleetWindowStats> => {
    const { snapshots, replicas } = await read();
    const now = monitor.clock.now();
    const { merged, stats: s } = mergeAndRead(monitor, snapshots, now);
    replicas.merged = merged.replicas;
    replicas.excluded.push(...merged.excluded);
    return { service: monitor.service, readBy: ctx.replica, ...s, replicas, futureSlots: merged.futureSlots, foldedRoutes: merged.foldedRoutes };
  };

  const api: FleetWindows = {
    stats,
    evaluate: async () => {
      const s = await stats();
      return { at: s.at, status: worst(s.slos), slos: s.slos, replicas: s.replicas };
    },
    publish,
    saveBurnState,
  };

  const tick = (): void => {
    if (closed) return;
    timer = monitor.clock.setTimeout(tick, every);
    void publish();
    if (monitor.clock.now() - lastBurnSave >= burnEveryMs) void saveBurnState();
  };

  let detach: (() => void) | undefined;
  const part: FleetPart = {
    name: 'windows',
    start: async () => {
      detach = attachFleetWindows(monitor, { stats });
      await restoreBurnState();
      lastBurnSave = monitor.clock.now();
      if (closed) return;
      await publish();
      if (!closed) timer = monitor.clock.setTimeout(tick, every);
    },
    stats: () => ({ ...counters }),
    close: async () => {
      closed = true;
      if (timer !== undefined) monitor.clock.clearTimeout(timer as Parameters<typeof monitor.clock.clearTimeout>[0]);
      detach?.();
      // A graceful stop hands its burn-rate counts on (to itself after a restart, or to a newcomer).
      await saveBurnState();
    },
  };
  return { part, api };
}

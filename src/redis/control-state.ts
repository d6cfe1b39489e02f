/**
 * Shared control state: every lever of the service (features, caches, rate
 * limits and blocked keys, forced fallbacks, canaries, silences, maintenance
 * windows) versioned in one Redis hash and pushed to every replica.
 *
 * - One hash per service, `<prefix>state`: field `kind:name` → JSON
 *   `{ v, e, at, r, s }` — `v` the version (INCR of `<prefix>state:version`
 *   inside the write script, so Redis orders every write), `e` the epoch of
 *   that Redis (a random id the first write stores; a Redis that lost its
 *   data has none or another), `at` Redis `TIME` of the write, `r` the
 *   replica that made it, `s` the lever's state (times relative to `at`).
 * - The write script sets the field and PUBLISHes it in one atomic step; a
 *   replica applies an entry only when its version is newer than the one it
 *   holds (so its own echo and late messages do nothing).
 * - Reconciliation re-reads the hash every `reconcileEveryMs` and on every
 *   reconnect, to catch a missed message.
 * - Redis unreachable: the replica keeps its last known state, reports
 *   degraded, and keeps local changes as pending; they are written (new
 *   versions: the newest decision) once Redis answers again.
 * - Redis restarted empty (another or no epoch): every replica re-seeds the
 *   entries it holds with their old version; a seed only replaces a seed of
 *   a lower old version and never a write made in the new epoch, so the
 *   newest state before the restart wins on every replica, whatever order
 *   they reconnect in; pending local changes are written after the seeds.
 *
 * @packageDocumentation
 */
import { createHash, randomBytes } from 'node:crypto';
import type { SharedKind, SharedListener, SharedState } from '../change-latch.js';
import type { Monitor } from '../monitor.js';
import { key, type FleetContext, type FleetPart } from './context.js';

/** Bounds of what a replica holds of the shared state (beyond: not held, counted in `dropped`). */
export const CONTROL_STATE_LIMITS = Object.freeze({
  /** Fields held (levers, blocked keys, silences, windows). */
  maxEntries: 50_000,
  /** Bytes (UTF-16) of held entries. */
  maxBytes: 16 * 1024 * 1024,
  /** Longest envelope accepted from Redis. */
  maxEntryBytes: 256 * 1024,
  /** How long `propagated` waits for Redis before answering false. */
  propagationTimeoutMs: 1_000,
});

const WRITE = `
if redis.replicate_commands then redis.replicate_commands() end
local e = redis.call('GET', KEYS[3])
if not e then e = ARGV[5]; redis.call('SET', KEYS[3], e) end
if ARGV[6] ~= '' then
  local cur = redis.call('HGET', KEYS[1], ARGV[2])
  if cur then
    local ok, d = pcall(cjson.decode, cur)
    if (not ok) or type(d) ~= 'table' or d.o == nil or tonumber(d.o) >= tonumber(ARGV[6]) then return {0, e, 0} end
  end
end
local v = redis.call('INCR', KEYS[2])
local t = redis.call('TIME')
local at = string.format('%d', tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000))
local o = ''
if ARGV[6] ~= '' then o = ',"o":' .. ARGV[6] end
local env = '{"v":' .. v .. ',"e":' .. cjson.encode(e) .. ',"at":' .. at .. ',"r":' .. cjson.encode(ARGV[4]) .. o .. ',"s":' .. ARGV[3] .. '}'
redis.call('HSET', KEYS[1], ARGV[2], env)
redis.call('PUBLISH', ARGV[1], '{"f":' .. cjson.encode(ARGV[2]) .. ',' .. string.sub(env, 2))
return {v, e, at}
`;

const LOAD = `
local t = redis.call('TIME')
local at = string.format('%d', tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000))
return {at, redis.call('GET', KEYS[2]) or '', redis.call('HGETALL', KEYS[1])}
`;

// Deletes fields only if they still hold the value read (another replica may have rewritten them since).
const PRUNE = `
local n = 0
for i = 1, #ARGV, 2 do
  if redis.call('HGET', KEYS[1], ARGV[i]) == ARGV[i + 1] then redis.call('HDEL', KEYS[1], ARGV[i]); n = n + 1 end
end
return n
`;

/** How long an inert entry (an expired block or silence, a removed window) stays in the hash. */
const INERT_KEEP_MS = { block: 60_000, silence: 86_400_000, maintenance: 86_400_000 } as const;

const sha1 = (s: string): string => createHash('sha1').update(s).digest('hex');
const WRITE_SHA = sha1(WRITE);
const LOAD_SHA = sha1(LOAD);
const PRUNE_SHA = sha1(PRUNE);

interface Envelope {
  v: number;
  e: string;
  at: number;
  r: string;
  /** Old version, on an entry re-seeded after Redis lost its data. */
  o?: number;
  s: SharedState;
}

interface Held {
  v: number;
  e: string;
  at: number;
  r: string;
  s: SharedState;
  bytes: number;
}

/** `fleet.stats().parts['control-state']`. */
export type ControlStateStats = {
  /** Redis unreachable, or the last write/read failed: acting on the last known state. */
  degraded: boolean;
  /** The first load finished. */
  loaded: boolean;
  /** Epoch of the Redis in use. */
  epoch: string;
  /** Shared entries held. */
  entries: number;
  bytes: number;
  /** Local changes not yet acknowledged by Redis (pushed on reconnect). */
  pending: number;
  /** Entries written to Redis by this replica. */
  published: number;
  /** Remote entries applied to local levers. */
  applied: number;
  /** Entries that could not be applied (malformed, over a lever's limits). */
  rejected: number;
  /** Entries not held because of {@link CONTROL_STATE_LIMITS}. */
  dropped: number;
  /** Entries re-seeded after Redis lost its data. */
  reseeded: number;
  /** Full re-reads of the hash. */
  reconciles: number;
  /** Inert entries (blocks and silences long expired, windows long removed) this replica deleted from the hash. */
  pruned: number;
  lastSyncAt?: number;
  lastError?: string;
};

function fieldOf(kind: SharedKind, name: string, k?: string): string {
  return kind === 'block' ? `block:${JSON.stringify([name, k ?? ''])}` : `${kind}:${name}`;
}

function parseField(field: string): { kind: SharedKind; name: string; key?: string } | undefined {
  const i = field.indexOf(':');
  if (i <= 0) return undefined;
  const kind = field.slice(0, i) as SharedKind;
  const rest = field.slice(i + 1);
  if (kind === 'block') {
    try {
      const v: unknown = JSON.parse(rest);
      if (Array.isArray(v) && typeof v[0] === 'string' && typeof v[1] === 'string') return { kind, name: v[0], key: v[1] };
    } catch {
      return undefined;
    }
    return undefined;
  }
  return ['feature', 'cache', 'limit', 'fallback', 'canary', 'silence', 'maintenance'].includes(kind) ? { kind, name: rest } : undefined;
}

function parseEnvelope(raw: string): (Envelope & { f?: string }) | undefined {
  if (raw.length > CONTROL_STATE_LIMITS.maxEntryBytes) return undefined;
  let v: unknown;
  try {
    v = JSON.parse(raw);
  } catch {
    return undefined;
  }
  if (typeof v !== 'object' || v === null) return undefined;
  const o = v as Record<string, unknown>;
  if (typeof o['v'] !== 'number' || typeof o['e'] !== 'string' || typeof o['at'] !== 'number') return undefined;
  if (typeof o['s'] !== 'object' || o['s'] === null || Array.isArray(o['s'])) return undefined;
  const env: Envelope & { f?: string } = { v: o['v'], e: o['e'], at: o['at'], r: typeof o['r'] === 'string' ? o['r'] : '', s: o['s'] as SharedState };
  if (typeof o['o'] === 'number') env.o = o['o'];
  if (typeof o['f'] === 'string') env.f = o['f'];
  return env;
}

/**
 * A new epoch name, drawn for every write: the write script sets it only when
 * Redis holds none (it lost its data). Reusing one name would let a replica
 * recreate the very epoch it knew after a data loss, and nobody would notice.
 */
const freshEpoch = (): string => randomBytes(8).toString('hex');

const errorText = (err: unknown): string => (err instanceof Error ? err.message : String(err)).slice(0, 300);

/**
 * The control-state part of a fleet. Internal: `redisFleet()` adds it.
 */
export class ControlStatePart implements FleetPart, SharedListener {
  readonly name = 'control-state';
  private readonly ctx: FleetContext;
  private readonly monitor: Monitor;
  private readonly hash: string;
  private readonly counter: string;
  private readonly epochKey: string;
  private readonly channel: string;
  private readonly held = new Map<string, Held>();
  private heldBytes = 0;
  /** Fields changed locally and not yet acknowledged by Redis, in change order. */
  private readonly dirty = new Set<string>();
  private epoch = '';
  /** Redis time − monitor clock, from the last load (to age held entries applied later). */
  private skew = 0;
  private flushing: Promise<void> | undefined;
  private reconciling: Promise<boolean> | undefined;
  private loaded = false;
  private subscribed = false;
  private subscribing: Promise<void> | undefined;
  private closed = false;
  private failed = false;
  private lastError: string | undefined;
  private lastSyncAt: number | undefined;
  private timer: NodeJS.Timeout | undefined;
  private resolveStart: (() => void) | undefined;
  private counts = { published: 0, applied: 0, rejected: 0, dropped: 0, reseeded: 0, reconciles: 0, pruned: 0 };
  private readonly onMessage = (channel: string, message: string): void => {
    if (channel === this.channel) this.receive(message);
  };
  private readonly onReady = (): void => {
    void this.reconcile();
  };

  constructor(ctx: FleetContext) {
    this.ctx = ctx;
    this.monitor = ctx.monitor;
    this.hash = key(ctx, 'state');
    this.counter = key(ctx, 'state', 'version');
    this.epochKey = key(ctx, 'state', 'epoch');
    this.channel = key(ctx, 'state', 'changes');
    this.monitor.actions.setReplica(ctx.replica);
  }

  async start(): Promise<void> {
    this.monitor.controls.shared.listen(this);
    this.monitor.actions.setPropagation(() => this.propagation());
    this.ctx.subscriber.on('message', this.onMessage);
    this.ctx.redis.on('ready', this.onReady);
    this.timer = setInterval(() => void this.reconcile(), this.ctx.reconcileEveryMs);
    this.timer.unref();
    const started = new Promise<void>((resolve) => {
      this.resolveStart = resolve;
    });
    await this.subscribe();
    // Not ready until the shared state is loaded: a replica that does not know which levers are
    // pulled must get no traffic. Retried on reconnect and by the timer; `syncTimeoutMs` caps the wait.
    await this.reconcile();
    return started;
  }

  /** Subscribes once; ioredis re-subscribes by itself after a reconnect of a subscription that succeeded. */
  private subscribe(): Promise<void> {
    if (this.subscribed) return Promise.resolve();
    this.subscribing ??= this.ctx.subscriber
      .subscribe(this.channel)
      .then(
        () => {
          this.subscribed = true;
        },
        (err: unknown) => this.fail(err),
      )
      .finally(() => {
        this.subscribing = undefined;
      });
    return this.subscribing;
  }

  stats(): ControlStateStats {
    const s: ControlStateStats = {
      degraded: this.ctx.redis.status !== 'ready' || this.failed || !this.subscribed,
      loaded: this.loaded,
      epoch: this.epoch,
      entries: this.held.size,
      bytes: this.heldBytes,
      pending: this.dirty.size,
      ...this.counts,
    };
    if (this.lastSyncAt !== undefined) s.lastSyncAt = this.lastSyncAt;
    if (this.lastError !== undefined) s.lastError = this.lastError;
    return s;
  }

  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.timer);
    this.monitor.controls.shared.listen(undefined);
    this.monitor.actions.setPropagation(undefined);
    this.ctx.subscriber.off('message', this.onMessage);
    this.ctx.redis.off('ready', this.onReady);
    this.resolveStart?.();
    try {
      await this.ctx.subscriber.unsubscribe(this.channel);
    } catch {
      // Leaving anyway: the subscriber connection is closed by the fleet.
    }
  }

  // ---- SharedListener: local changes --------------------------------------------------------

  changed(kind: SharedKind, name: string, k?: string): void {
    if (this.closed) return;
    const f = fieldOf(kind, name, k);
    this.dirty.delete(f);
    this.dirty.add(f);
    this.scheduleFlush();
  }

  created(kind: SharedKind, name: string): void {
    if (this.closed) return;
    const now = this.monitor.clock.now();
    const redisNow = now + this.skew;
    this.monitor.controls.shared.applying(() => {
      const own = this.held.get(fieldOf(kind, name));
      if (own !== undefined) this.applyLocal(fieldOf(kind, name), own, redisNow);
      if (kind === 'limit') {
        for (const [f, h] of this.held) {
          const p = f.startsWith('block:') ? parseField(f) : undefined;
          if (p !== undefined && p.name === name) this.applyLocal(f, h, redisNow);
        }
      }
    });
  }

  // ---- writing -------------------------------------------------------------------------------

  private scheduleFlush(): void {
    if (this.flushing !== undefined || this.closed) return;
    this.flushing = Promise.resolve()
      .then(() => this.flush())
      .catch((err: unknown) => this.fail(err))
      .finally(() => {
        this.flushing = undefined;
        // Only when a flush can make progress: before the first load or after a failure, the
        // next successful read schedules it (a busy loop of microtasks would starve the host).
        if (this.dirty.size > 0 && this.up() && this.loaded && !this.failed) this.scheduleFlush();
      });
  }

  private up(): boolean {
    return this.ctx.redis.status === 'ready';
  }

  private async flush(): Promise<void> {
    // Before the first load, local state must not overwrite the fleet's: pushed right after it.
    if (!this.up() || !this.loaded) return;
    const fields = [...this.dirty];
    const now = this.monitor.clock.now();
    const writes: Array<Promise<void>> = [];
    for (const f of fields) {
      const state = this.exportLocal(f, now);
      this.dirty.delete(f);
      if (state === undefined) continue;
      const json = JSON.stringify(state);
      writes.push(
        this.write(f, json, '').then(
          (r) => this.acknowledged(f, state, r),
          (err: unknown) => {
            // Still this replica's newest decision: pushed again once Redis answers.
            if (!this.dirty.has(f)) this.dirty.add(f);
            this.fail(err);
          },
        ),
      );
    }
    await Promise.all(writes);
  }

  private async write(f: string, json: string, oldVersion: string): Promise<{ v: number; e: string; at: number }> {
    const args = [3, this.hash, this.counter, this.epochKey, this.channel, f, json, this.ctx.replica, freshEpoch(), oldVersion] as const;
    let r: unknown;
    try {
      r = await this.ctx.redis.evalsha(WRITE_SHA, ...args);
    } catch (err) {
      if (!String(err).includes('NOSCRIPT')) throw err;
      r = await this.ctx.redis.eval(WRITE, ...args);
    }
    const [v, e, at] = r as [number, string, string | number];
    return { v: Number(v), e: String(e), at: Number(at) };
  }

  private acknowledged(f: string, state: SharedState, r: { v: number; e: string; at: number }): void {
    this.failed = false;
    this.lastError = undefined;
    if (r.v === 0) return;
    this.counts.published++;
    if (r.e !== this.epoch) {
      // Redis lost its data since the last load: re-seed from what is held, then re-read.
      void this.reconcile();
      return;
    }
    const h = this.held.get(f);
    if (h !== undefined && h.e === r.e && h.v > r.v) return; // a newer write from another replica is already applied
    const regressed = h !== undefined && h.e === r.e && h.v < r.v && JSON.stringify(h.s) !== JSON.stringify(state);
    this.hold(f, { v: r.v, e: r.e, at: r.at, r: this.ctx.replica, s: state });
    // An older write of another replica arrived while ours was in flight and was applied over
    // ours: ours is the newer one in Redis's order, so it is this replica's state again.
    if (regressed && !this.dirty.has(f)) this.monitor.controls.shared.applying(() => this.applyLocal(f, this.held.get(f)!, r.at));
  }

  /** Settles when this replica's changes so far reached Redis, or could not. */
  private async propagation(): Promise<{ propagated: boolean; pending: number }> {
    if (!this.up() || !this.loaded) return { propagated: false, pending: this.dirty.size };
    const deadline = Date.now() + CONTROL_STATE_LIMITS.propagationTimeoutMs;
    while (this.flushing !== undefined && Date.now() < deadline) {
      const f = this.flushing;
      let t: NodeJS.Timeout | undefined;
      await Promise.race([f, new Promise<void>((r) => (t = setTimeout(r, Math.max(1, deadline - Date.now()))))]);
      clearTimeout(t);
    }
    return { propagated: this.dirty.size === 0 && this.flushing === undefined && !this.failed, pending: this.dirty.size };
  }

  // ---- reading -------------------------------------------------------------------------------

  private receive(message: string): void {
    const env = parseEnvelope(message);
    if (env === undefined || env.f === undefined) return;
    if (env.e !== this.epoch) {
      // Another epoch: Redis restarted since our last load. Re-read (and re-seed) rather than guess.
      void this.reconcile();
      return;
    }
    this.take(env.f, env, env.at);
  }

  /** Applies `env` when it is newer than what is held. */
  private take(f: string, env: Envelope, redisNow: number): void {
    const h = this.held.get(f);
    if (h !== undefined && h.e === env.e && h.v >= env.v) return;
    const next: Held = { v: env.v, e: env.e, at: env.at, r: env.r, s: env.s, bytes: 0 };
    this.hold(f, next);
    // A local change not yet written is newer than anything Redis holds: it stays, and wins when written.
    if (this.dirty.has(f)) return;
    this.monitor.controls.shared.applying(() => this.applyLocal(f, next, redisNow));
  }

  private hold(f: string, h: Omit<Held, 'bytes'>): void {
    const bytes = (f.length + JSON.stringify(h.s).length + h.r.length + h.e.length) * 2 + 64;
    const old = this.held.get(f);
    const oldBytes = old?.bytes ?? 0;
    if (old === undefined && this.held.size >= CONTROL_STATE_LIMITS.maxEntries) {
      this.counts.dropped++;
      return;
    }
    if (this.heldBytes - oldBytes + bytes > CONTROL_STATE_LIMITS.maxBytes) {
      this.counts.dropped++;
      return;
    }
    this.held.set(f, { ...h, bytes });
    this.heldBytes += bytes - oldBytes;
  }

  /** Re-reads the hash (and re-seeds it when Redis lost its data); true when in sync. Never rejects. */
  private reconcile(): Promise<boolean> {
    if (this.closed) return Promise.resolve(false);
    this.reconciling ??= this.doReconcile()
      .catch((err: unknown) => {
        this.fail(err);
        return false;
      })
      .finally(() => {
        this.reconciling = undefined;
      });
    return this.reconciling;
  }

  private async doReconcile(): Promise<boolean> {
    if (!this.up()) {
      this.fail(new Error(`Redis ${this.ctx.redis.status}`));
      return false;
    }
    if (!this.subscribed) void this.subscribe();
    const loaded = await this.load();
    this.counts.reconciles++;
    if (loaded.epoch !== this.epoch) {
      const lost = this.held.size > 0 && [...this.held.values()].some((h) => h.e !== loaded.epoch);
      this.epoch = loaded.epoch;
      if (lost) {
        await this.reseed(loaded.entries);
        return this.doReconcileAfterSeed();
      }
    }
    this.applyLoaded(loaded);
    await this.prune(loaded);
    return this.synced();
  }

  /**
   * Keeps the hash (and what replicas hold) bounded: a blocked key, a silence or a window
   * adds a field, so fields long inert are deleted — only if unchanged since read.
   */
  private async prune(loaded: { now: number; entries: Map<string, Envelope>; raw: Map<string, string> }): Promise<void> {
    const args: string[] = [];
    for (const [f, env] of loaded.entries) {
      const kind = f.slice(0, f.indexOf(':'));
      const ends =
        kind === 'block'
          ? env.at + (typeof env.s['blockedForMs'] === 'number' ? env.s['blockedForMs'] : 0) + INERT_KEEP_MS.block
          : kind === 'silence'
            ? env.at + (typeof env.s['endsInMs'] === 'number' ? env.s['endsInMs'] : 0) + INERT_KEEP_MS.silence
            : kind === 'maintenance' && env.s['removed'] === true
              ? env.at + INERT_KEEP_MS.maintenance
              : Infinity;
      if (ends > loaded.now) continue;
      const raw = loaded.raw.get(f);
      if (raw === undefined) continue;
      args.push(f, raw);
      if (args.length >= 200) break;
    }
    if (args.length === 0) return;
    let n: unknown;
    try {
      n = await this.ctx.redis.evalsha(PRUNE_SHA, 1, this.hash, ...args);
    } catch (err) {
      if (!String(err).includes('NOSCRIPT')) throw err;
      n = await this.ctx.redis.eval(PRUNE, 1, this.hash, ...args);
    }
    this.counts.pruned += Number(n);
    for (let i = 0; i < args.length; i += 2) this.forget(args[i]!);
  }

  private forget(f: string): void {
    const h = this.held.get(f);
    if (h === undefined) return;
    this.held.delete(f);
    this.heldBytes -= h.bytes;
  }

  private async doReconcileAfterSeed(): Promise<boolean> {
    const loaded = await this.load();
    this.epoch = loaded.epoch;
    this.applyLoaded(loaded);
    return this.synced();
  }

  private synced(): boolean {
    const first = !this.loaded;
    this.loaded = true;
    this.lastSyncAt = this.monitor.clock.now();
    if (this.failed) {
      this.failed = false;
      this.lastError = undefined;
      this.monitor.logger.info({ replica: this.ctx.replica }, 'firebreak: fleet control state in sync with Redis again');
    }
    if (first) this.resolveStart?.();
    if (this.dirty.size > 0) this.scheduleFlush();
    return true;
  }

  private async load(): Promise<{ now: number; epoch: string; entries: Map<string, Envelope>; raw: Map<string, string> }> {
    const args = [2, this.hash, this.epochKey] as const;
    let r: unknown;
    try {
      r = await this.ctx.redis.evalsha(LOAD_SHA, ...args);
    } catch (err) {
      if (!String(err).includes('NOSCRIPT')) throw err;
      r = await this.ctx.redis.eval(LOAD, ...args);
    }
    const [at, epoch, flat] = r as [string, string, string[]];
    const now = Number(at);
    this.skew = now - this.monitor.clock.now();
    const entries = new Map<string, Envelope>();
    const raw = new Map<string, string>();
    for (let i = 0; i + 1 < flat.length; i += 2) {
      const env = parseEnvelope(flat[i + 1]!);
      if (env !== undefined && env.e === epoch) {
        entries.set(flat[i]!, env);
        raw.set(flat[i]!, flat[i + 1]!);
      }
    }
    return { now, epoch, entries, raw };
  }

  private applyLoaded(loaded: { now: number; entries: Map<string, Envelope> }): void {
    for (const [f, env] of loaded.entries) this.take(f, env, loaded.now);
  }

  /**
   * Redis lost its data (restart without persistence, failover to an empty
   * replica). Writes back every entry held from before — skipping those
   * changed locally since, which are written as new decisions right after —
   * with its old version, so that the highest old version wins everywhere.
   */
  private async reseed(present: Map<string, Envelope>): Promise<void> {
    const seeds: Array<Promise<unknown>> = [];
    for (const [f, h] of this.held) {
      if (this.dirty.has(f) || h.e === this.epoch || (present.has(f) && present.get(f)?.o === undefined)) continue;
      // The held state's times are relative to its own write: age them to now.
      const state = this.rebase(h, this.monitor.clock.now() + this.skew);
      seeds.push(
        this.write(f, JSON.stringify(state), String(h.v)).then((r) => {
          if (r.v !== 0) this.counts.reseeded++;
        }),
      );
    }
    await Promise.all(seeds);
  }

  /** A held state with its relative times re-based from its write time to `redisNow`. */
  private rebase(h: Held, redisNow: number): SharedState {
    const elapsed = Math.max(0, redisNow - h.at);
    if (elapsed === 0) return h.s;
    const out: SharedState = { ...h.s };
    for (const k of ['reenableInMs', 'blockedForMs', 'startsInMs', 'endsInMs', 'createdInMs']) {
      const v = out[k];
      if (typeof v === 'number') out[k] = k === 'blockedForMs' ? Math.max(0, v - elapsed) : v - elapsed;
    }
    return out;
  }

  // ---- the levers ----------------------------------------------------------------------------

  private exportLocal(f: string, now: number): SharedState | undefined {
    const p = parseField(f);
    if (p === undefined) return undefined;
    const c = this.monitor.controls;
    switch (p.kind) {
      case 'feature':
        return c.features.get(p.name)?.exportShared(now);
      case 'cache':
        return c.caches.get(p.name)?.exportShared();
      case 'limit':
        return c.rateLimiters.get(p.name)?.exportShared();
      case 'block':
        return c.rateLimiters.get(p.name)?.exportBlock(p.key ?? '', now);
      case 'fallback':
        return c.fallbacks.get(p.name)?.exportShared();
      case 'canary':
        return c.canaries.get(p.name)?.exportShared();
      case 'silence':
        return this.monitor.silences.exportShared(p.name, now);
      case 'maintenance':
        return this.monitor.maintenance.exportShared(p.name);
    }
  }

  /** Applies a held entry to its lever, if the lever exists here (else it waits for `created`). Call with the latch muted. */
  private applyLocal(f: string, h: Held, redisNow: number): void {
    const p = parseField(f);
    if (p === undefined) return;
    // Relative times count from the write; `base` is that instant on this replica's clock.
    const base = this.monitor.clock.now() - Math.max(0, redisNow - h.at);
    const c = this.monitor.controls;
    try {
      switch (p.kind) {
        case 'feature': {
          const x = c.features.get(p.name);
          if (x === undefined) return;
          x.applyShared(h.s, base);
          break;
        }
        case 'cache': {
          const x = c.caches.get(p.name);
          if (x === undefined) return;
          x.applyShared(h.s);
          break;
        }
        case 'limit': {
          const x = c.rateLimiters.get(p.name);
          if (x === undefined) return;
          x.applyShared(h.s);
          break;
        }
        case 'block': {
          const x = c.rateLimiters.get(p.name);
          if (x === undefined) return;
          x.applyBlock(p.key ?? '', h.s, base);
          break;
        }
        case 'fallback': {
          const x = c.fallbacks.get(p.name);
          if (x === undefined) return;
          x.applyShared(h.s);
          break;
        }
        case 'canary': {
          const x = c.canaries.get(p.name);
          if (x === undefined) return;
          x.applyShared(h.s);
          break;
        }
        case 'silence':
          this.monitor.silences.applyShared(p.name, h.s, base);
          break;
        case 'maintenance':
          this.monitor.maintenance.applyShared(p.name, h.s);
          break;
      }
      this.counts.applied++;
    } catch (err) {
      this.counts.rejected++;
      this.lastError = `${f}: ${errorText(err)}`;
    }
  }

  private fail(err: unknown): void {
    if (!this.failed) {
      this.monitor.logger.warn(
        { replica: this.ctx.replica, err: errorText(err), pending: this.dirty.size },
        'firebreak: fleet control state degraded (Redis unreachable): keeping the last known state; local changes are pending',
      );
    }
    this.failed = true;
    this.lastError = errorText(err);
  }
}

/** The control-state part of `redisFleet()`. */
export function controlState(ctx: FleetContext): FleetPart {
  return new ControlStatePart(ctx);
}

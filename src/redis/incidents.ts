/**
 * One incident per cause across the fleet. A Redis lease per
 * (service, type, scope) elects the replica that owns the incident: it opens
 * it, pages and remediates. The others adopt the owner's incident (same id)
 * and attach their own sighting to it. Every incident document lives in Redis,
 * versioned (INCR) and published on change, so acknowledge, resolve or a note
 * on any replica is seen on all, and every replica lists the same incidents.
 *
 * Detection stays local and synchronous. What waits for the lease decision
 * is what was already asynchronous: notifications (dispatched off the caller's
 * path anyway) and auto-remediation (run once the replica knows it owns).
 *
 * @packageDocumentation
 */
import { z } from 'zod';
import type { TimerHandle } from '../clock.js';
import type { IncidentEventName } from '../incidents/config.js';
import type { IncidentChange } from '../incidents/manager.js';
import type { Incident, SignalReading } from '../incidents/types.js';
import { errorMessage } from '../safe-call.js';
import { key, type FleetContext, type FleetPart } from './context.js';

/**
 * Options of the incident part: `redisFleet(monitor, { redis, incidents: { … } })`.
 *
 * @example
 * ```ts
 * redisFleet(monitor, { redis, incidents: { leaseMs: 10_000, holdPagesMs: 15_000 } });
 * ```
 */
export const incidentFleetOptionsSchema = z.strictObject({
  /** Lease of the owner of a cause; renewed every third of it. A dead owner is replaced after at most this long. */
  leaseMs: z.number().int().min(300).max(600_000).default(15_000),
  /**
   * Redis unreachable: how long a page waits for Redis to answer (a blip)
   * before this replica pages on its own. 0 pages at once.
   */
  holdPagesMs: z.number().int().min(0).max(600_000).default(10_000),
  /** Incident documents kept in Redis (resolved ones beyond it are dropped, oldest change first). */
  maxIncidents: z.number().int().min(10).max(100_000).default(500),
  /** Largest incident document written to Redis; past it the oldest timeline entries (after the first) and notes are dropped. */
  maxDocBytes: z.number().int().min(4_096).max(16_777_216).default(262_144),
  /** A resolved incident's document expires from Redis this long after its last change. */
  resolvedTtlMs: z.number().int().min(1_000).max(90 * 86_400_000).default(7 * 86_400_000),
});

/** Input form of {@link incidentFleetOptionsSchema}. */
export type IncidentFleetOptions = z.input<typeof incidentFleetOptionsSchema>;
type Resolved = z.output<typeof incidentFleetOptionsSchema>;

/** Events that page someone: sent only by the owner, once per open period (and severity). */
const PAGE_EVENTS: ReadonlySet<IncidentEventName> = new Set(['incident:opened', 'incident:reopened', 'incident:escalated', 'incident:overdue']);

/** Changes whose lifecycle fields win over the stored document when two replicas changed it at once. */
const LIFECYCLE: ReadonlySet<string> = new Set([
  'opened',
  'reopened',
  'escalated',
  'deescalated',
  'acknowledged',
  'mitigating',
  'resolved',
  'overdue',
  'suppressed',
  'unsuppressed',
]);
const LIFECYCLE_FIELDS = [
  'status',
  'severity',
  'priority',
  'summary',
  'detector',
  'acknowledgedAt',
  'acknowledgedBy',
  'mitigatingAt',
  'resolvedAt',
  'resolvedBy',
  'durationMs',
  'overdueAt',
  'reopenedAt',
  'reopenCount',
  'suppressed',
  'unpaged',
  'rootCause',
  'signalPeak',
  'runbook',
] as const;

const MAX_REPLICAS = 64;

// KEYS: cause, lease, index, counter. ARGV: doc prefix, id, replica, leaseMs, doc, channel, cause, status, version floor.
// The cause maps to the incident id while it is unresolved: a second replica joins it instead of opening its own.
const CLAIM = `
local cur = redis.call('GET', KEYS[1])
if cur then
  local h = ARGV[1] .. cur
  local st = redis.call('HGET', h, 'status')
  if st and st ~= 'resolved' then
    redis.call('SET', KEYS[2], ARGV[3], 'NX', 'PX', ARGV[4])
    local r = redis.call('HMGET', h, 'v', 'doc')
    return {'join', cur, r[1], r[2], redis.call('GET', KEYS[2])}
  end
end
redis.call('SET', KEYS[1], ARGV[2])
redis.call('SET', KEYS[2], ARGV[3], 'PX', ARGV[4])
local v = redis.call('INCR', KEYS[4])
if v <= tonumber(ARGV[9]) then
  v = tonumber(ARGV[9]) + 1
  redis.call('SET', KEYS[4], v)
end
local h = ARGV[1] .. ARGV[2]
redis.call('HSET', h, 'v', v, 'doc', ARGV[5], 'status', ARGV[8])
redis.call('PERSIST', h)
redis.call('PERSIST', h .. ':sent')
redis.call('ZADD', KEYS[3], v, ARGV[2])
redis.call('PUBLISH', ARGV[6], ARGV[2] .. ' ' .. v)
return {'own', ARGV[2], tostring(v)}
`;

// KEYS: doc, index, counter, cause. ARGV: expected v, doc, status, resolvedTtlMs, channel, id, maxIncidents, doc prefix, version floor.
// The floor keeps versions rising after a Redis restarted without its data (the counter would start again at 1).
// Compare-and-set on the version: a replica that wrote from a stale copy gets the current one back and merges.
const PUT = `
local cur = redis.call('HGET', KEYS[1], 'v')
if cur and cur ~= ARGV[1] then
  return {'conflict', cur, redis.call('HGET', KEYS[1], 'doc')}
end
local v = redis.call('INCR', KEYS[3])
if v <= tonumber(ARGV[9]) then
  v = tonumber(ARGV[9]) + 1
  redis.call('SET', KEYS[3], v)
end
redis.call('HSET', KEYS[1], 'v', v, 'doc', ARGV[2], 'status', ARGV[3])
if ARGV[3] == 'resolved' then
  redis.call('PEXPIRE', KEYS[1], ARGV[4])
  redis.call('PEXPIRE', KEYS[1] .. ':sent', ARGV[4])
  if redis.call('GET', KEYS[4]) == ARGV[6] then redis.call('DEL', KEYS[4]) end
else
  redis.call('PERSIST', KEYS[1])
  redis.call('PERSIST', KEYS[1] .. ':sent')
end
redis.call('ZADD', KEYS[2], v, ARGV[6])
local n = redis.call('ZCARD', KEYS[2])
local cap = tonumber(ARGV[7])
if n > cap then
  for _, id in ipairs(redis.call('ZRANGE', KEYS[2], 0, n - cap - 1)) do
    local st = redis.call('HGET', ARGV[8] .. id, 'status')
    if (not st) or st == 'resolved' then
      redis.call('DEL', ARGV[8] .. id, ARGV[8] .. id .. ':sent')
      redis.call('ZREM', KEYS[2], id)
    end
  end
end
redis.call('PUBLISH', ARGV[5], ARGV[6] .. ' ' .. v)
return {'ok', tostring(v)}
`;

// KEYS: lease, cause. ARGV: replica, leaseMs, id. 1: renewed, 2: taken over (the lease had expired), 0: someone else owns it.
const RENEW = `
local owner = redis.call('GET', KEYS[1])
if owner == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
if not owner and redis.call('GET', KEYS[2]) == ARGV[3] then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return 2
end
return 0
`;

// Compare-and-delete: a replica that stops hands its leases over at once, never someone else's.
const RELEASE = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`;

interface Decision {
  /** The fleet's incident id for the cause (the local one when degraded). */
  id: string;
  owner: boolean;
  /** Redis did not answer within `holdPagesMs`: this replica acts alone. */
  degraded: boolean;
}

/** The cause of an incident: `<type>:<scope>`, URI-encoded so a colon in a scope cannot collide. */
export function causeOf(i: Pick<Incident, 'type' | 'scope'>): string {
  return `${encodeURIComponent(i.type)}:${encodeURIComponent(i.scope)}`;
}

/** Resolves when `p` settles or after `ms`, whichever comes first; never rejects. */
function within(p: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const t = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, ms);
    timer.unref();
  });
  return Promise.race([p.then(() => undefined, () => undefined), t]).finally(() => clearTimeout(timer));
}

function clone<T>(v: T): T {
  return structuredClone(v);
}

function entryKey(e: Incident['timeline'][number]): string {
  return `${e.at}|${e.kind}|${e.by}|${e.message}`;
}

/**
 * Merges a replica's copy of an incident into the stored one after a
 * concurrent change: timelines, notes, action items and sightings are united;
 * the lifecycle fields come from the side that made a lifecycle change.
 */
export function mergeIncident(stored: Incident, local: Incident, change: IncidentChange | 'evidence', maxTimeline: number): Incident {
  const out = clone(stored);
  if (LIFECYCLE.has(change)) {
    const o = out as unknown as Record<string, unknown>;
    const l = local as unknown as Record<string, unknown>;
    for (const f of LIFECYCLE_FIELDS) {
      if (l[f] === undefined) delete o[f];
      else o[f] = clone(l[f]);
    }
  }
  const seen = new Set(out.timeline.map(entryKey));
  for (const e of local.timeline) if (!seen.has(entryKey(e))) out.timeline.push(clone(e));
  const first = out.timeline[0];
  out.timeline = [...out.timeline].sort((a, b) => a.at - b.at);
  // The first entry anchors the post-mortem: keep it, drop the oldest after it.
  if (first !== undefined && out.timeline[0] !== first) {
    out.timeline.splice(out.timeline.indexOf(first), 1);
    out.timeline.unshift(first);
  }
  while (out.timeline.length > maxTimeline && out.timeline.length > 1) {
    out.timeline.splice(1, 1);
    out.timelineDropped = (out.timelineDropped ?? 0) + 1;
  }
  for (const n of local.notes) if (!out.notes.includes(n)) out.notes.push(n);
  for (const a of local.actionItems) {
    const cur = out.actionItems.find((x) => x.id === a.id);
    if (cur === undefined) out.actionItems.push(clone(a));
    else if (change === 'action-item') cur.done = a.done;
  }
  if (local.fleet !== undefined) {
    if (out.fleet === undefined) out.fleet = clone(local.fleet);
    else {
      for (const r of local.fleet.replicas) {
        if (out.fleet.replicas.length >= MAX_REPLICAS) break;
        if (!out.fleet.replicas.some((x) => x.replica === r.replica)) out.fleet.replicas.push(clone(r));
      }
    }
  }
  if ((local.updatedAt ?? 0) > (out.updatedAt ?? 0)) out.updatedAt = local.updatedAt!;
  return out;
}

function sighting(replica: string, at: number, signal: SignalReading | undefined): { replica: string; at: number; signal?: SignalReading } {
  return signal === undefined ? { replica, at } : { replica, at, signal: clone(signal) };
}

function parseDoc(raw: unknown): Incident | undefined {
  if (typeof raw !== 'string') return undefined;
  try {
    const d = JSON.parse(raw) as Incident;
    return typeof d === 'object' && d !== null && typeof d.id === 'string' && Array.isArray(d.timeline) ? d : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Builds the incident part of a fleet (added by `redisFleet`).
 *
 * @example
 * ```ts
 * // inside redisFleet(): parts.push(incidentsPart(ctx, opts.incidents));
 * ```
 */
export function incidentsPart(ctx: FleetContext, options: IncidentFleetOptions | undefined): FleetPart {
  return new IncidentsPart(ctx, incidentFleetOptionsSchema.parse(options ?? {}));
}

class IncidentsPart implements FleetPart {
  readonly name = 'incidents';
  private readonly ctx: FleetContext;
  private readonly opts: Resolved;
  private readonly channel: string;
  private readonly docPrefix: string;
  /** Fleet incidents this replica holds, by id: the Redis version its copy is at. Pruned to the local store. */
  private readonly versions = new Map<string, number>();
  /** The highest version seen: the floor of the next one (see PUT). */
  private maxSeen = 0;
  /** Local incidents waiting for the lease decision. */
  private readonly pending = new Map<string, Promise<Decision>>();
  /** Incidents opened while Redis did not answer: this replica pages and acts alone. */
  private readonly alone = new Set<string>();
  /** cause → incident id whose lease this replica holds. */
  private readonly owned = new Map<string, string>();
  /** Changes made here that did not reach Redis (it was away): written again by reconcile, lifecycle kept. */
  private readonly dirty = new Map<string, IncidentChange | 'evidence'>();
  /** Per-incident chain of writes, so that compare-and-set runs one at a time. */
  private readonly chains = new Map<string, Promise<void>>();
  private readonly counts = {
    claimsWon: 0,
    claimsJoined: 0,
    takeovers: 0,
    pagesSent: 0,
    /** Page notifications not sent here because another replica owns the incident. */
    pagesHeldForOwner: 0,
    /** Notifications already sent by this or another replica (an earlier owner). */
    duplicatesSuppressed: 0,
    /** Pages sent alone because Redis did not answer within holdPagesMs. */
    pagedAlone: 0,
    writes: 0,
    conflicts: 0,
    errors: 0,
  };
  private lastError: string | undefined;
  /** Notifications waiting for the lease decision or the sent-set answer. */
  private dispatching = 0;
  private closed = false;
  private renewTimer: NodeJS.Timeout | undefined;
  private reconcileTimer: NodeJS.Timeout | undefined;
  private readonly onMessage = (channel: string, message: string): void => {
    if (channel !== this.channel || this.closed) return;
    const [id, v] = message.split(' ');
    if (id !== undefined && v !== undefined && Number(v) > (this.versions.get(id) ?? 0)) this.fetch([id]).catch((err: unknown) => this.fail(err));
  };

  constructor(ctx: FleetContext, opts: Resolved) {
    this.ctx = ctx;
    this.opts = opts;
    this.channel = key(ctx, 'incidents', 'changes');
    this.docPrefix = key(ctx, 'inc', '');
  }

  private get manager() {
    return this.ctx.monitor.incidents;
  }

  private get up(): boolean {
    return this.ctx.redis.status === 'ready';
  }

  async start(): Promise<void> {
    const hooks = this.ctx.monitor.fleetIncidentHooks();
    this.manager.onChange((change, incident) => this.changed(change, incident), true);
    this.manager.setAuthority((inc) => this.mayAuto(inc));
    hooks.system.setDispatcher((event, incident, at, _change, send) => this.dispatch(event, incident, at, send));
    hooks.setRemediationGate((inc) => this.mayRemediate(inc));
    this.ctx.subscriber.on('message', this.onMessage);
    this.renewTimer = setInterval(() => void this.renew(), Math.max(100, Math.floor(this.opts.leaseMs / 3)));
    this.renewTimer.unref();
    this.reconcileTimer = setInterval(() => void this.reconcile(), this.ctx.reconcileEveryMs);
    this.reconcileTimer.unref();
    try {
      await this.ctx.subscriber.subscribe(this.channel);
      await this.reconcile();
    } catch (err) {
      this.fail(err);
    }
  }

  stats(): Record<string, unknown> {
    const s: Record<string, unknown> = { ...this.counts, dispatching: this.dispatching, unsynced: this.dirty.size, known: this.versions.size, owned: this.owned.size, pendingClaims: this.pending.size };
    if (this.lastError !== undefined) s['lastError'] = this.lastError;
    return s;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.renewTimer);
    clearInterval(this.reconcileTimer);
    this.ctx.subscriber.off('message', this.onMessage);
    const hooks = this.ctx.monitor.fleetIncidentHooks();
    this.manager.setAuthority(undefined);
    hooks.system.setDispatcher(undefined);
    hooks.setRemediationGate(undefined);
    // Bounded: with Redis away, writes and releases would wait for a reconnect that may never come.
    await within(Promise.allSettled([...this.chains.values()]), 2_000);
    // Hand the leases over now rather than after they expire.
    await within(Promise.allSettled([...this.owned.keys()].map((cause) => this.ctx.redis.eval(RELEASE, 1, this.leaseKey(cause), this.ctx.replica))), 1_000);
    this.owned.clear();
    await this.ctx.subscriber.unsubscribe(this.channel).catch(() => undefined);
  }

  // ---- keys ----

  private leaseKey(cause: string): string {
    return key(this.ctx, 'incidents', 'lease', cause);
  }
  private causeKey(cause: string): string {
    return key(this.ctx, 'incidents', 'cause', cause);
  }
  private get indexKey(): string {
    return key(this.ctx, 'incidents', 'index');
  }
  private get counterKey(): string {
    return key(this.ctx, 'incidents', 'version');
  }

  private fail(err: unknown): void {
    this.counts.errors++;
    this.lastError = errorMessage(err).slice(0, 300);
  }

  // ---- who may act ----

  /** True where this replica may apply automatic changes to `inc`. */
  private mayAuto(inc: Incident): boolean {
    if (this.closed || !this.versions.has(inc.id) || this.pending.has(inc.id) || !this.up) return true;
    return this.owned.get(causeOf(inc)) === inc.id;
  }

  private mayRemediate(inc: Incident): boolean {
    if (this.closed || this.alone.has(inc.id)) return true;
    if (this.pending.has(inc.id)) return false; // run once the lease is decided (see claim)
    if (!this.versions.has(inc.id)) return true;
    return this.owned.get(causeOf(inc)) === inc.id;
  }

  // ---- changes made on this replica ----

  private changed(change: IncidentChange, inc: Incident): void {
    if (this.closed) return;
    if (change === 'opened' || change === 'reopened') {
      this.pending.set(inc.id, this.claim(inc, change));
      return;
    }
    this.enqueue(inc.id, change);
  }

  private enqueue(id: string, change: IncidentChange | 'evidence'): void {
    const prev = this.chains.get(id) ?? Promise.resolve();
    const next = prev
      .then(async () => {
        const d = this.pending.get(id);
        const target = d === undefined ? id : (await d).id;
        if (this.closed || this.alone.has(target)) return;
        if (this.versions.has(target)) await this.put(target, change);
        else if (this.up) {
          const live = this.manager.peek(target);
          if (live !== undefined) await this.claimLate(live, change);
        }
      })
      .catch((err: unknown) => {
        this.fail(err);
        // A lifecycle change (an acknowledge, a resolve) must not be downgraded by a later note.
        const prev = this.dirty.get(id);
        if (prev === undefined || !LIFECYCLE.has(prev) || LIFECYCLE.has(change)) this.dirty.set(id, change);
      });
    this.chains.set(id, next);
    void next.finally(() => {
      if (this.chains.get(id) === next) this.chains.delete(id);
    });
  }

  /** The document this replica writes: bounded in bytes (oldest timeline entries and notes go first). */
  private encode(inc: Incident): string {
    let json = JSON.stringify(inc);
    if (Buffer.byteLength(json) <= this.opts.maxDocBytes) return json;
    const d = clone(inc);
    while (Buffer.byteLength(json) > this.opts.maxDocBytes && (d.timeline.length > 1 || d.notes.length > 0)) {
      const drop = Math.max(1, Math.ceil(d.timeline.length / 10));
      if (d.timeline.length > 1) {
        const n = Math.min(drop, d.timeline.length - 1);
        d.timeline.splice(1, n);
        d.timelineDropped = (d.timelineDropped ?? 0) + n;
      } else d.notes.shift();
      json = JSON.stringify(d);
    }
    return json;
  }

  private withFleet(inc: Incident, owner: string): Incident {
    const d = clone(inc);
    const mine = sighting(this.ctx.replica, inc.updatedAt ?? inc.openedAt, inc.signalAtOpen ?? inc.signalPeak);
    if (d.fleet === undefined) d.fleet = { cause: causeOf(inc), owner, openedBy: this.ctx.replica, replicas: [mine] };
    else {
      d.fleet.owner = owner;
      if (!d.fleet.replicas.some((r) => r.replica === this.ctx.replica) && d.fleet.replicas.length < MAX_REPLICAS) d.fleet.replicas.push(mine);
    }
    return d;
  }

  /**
   * Elects the owner of `inc`'s cause. Waits for Redis at most `holdPagesMs`
   * (on the monitor's clock); past that, this replica acts alone.
   */
  private claim(inc: Incident, change: 'opened' | 'reopened'): Promise<Decision> {
    const clock = this.ctx.monitor.clock;
    let timer: TimerHandle | undefined;
    let settled = false;
    const alone = new Promise<Decision>((resolve) => {
      timer = clock.setTimeout(() => resolve({ id: inc.id, owner: true, degraded: true }), this.opts.holdPagesMs);
    });
    const elected = (async (): Promise<Decision> => {
      for (;;) {
        if (settled || this.closed) return { id: inc.id, owner: true, degraded: true };
        if (this.up) {
          try {
            return await this.claimOnce(inc);
          } catch (err) {
            this.fail(err);
          }
        }
        await new Promise<void>((r) => setTimeout(r, 200).unref());
      }
    })();
    return Promise.race([elected, alone]).then((d) => {
      settled = true;
      if (timer !== undefined) clock.clearTimeout(timer);
      this.pending.delete(inc.id);
      if (d.degraded) this.alone.add(d.id);
      if ((d.owner || d.degraded) && d.id === inc.id) {
        // The lease decided: only now may auto-remediation run (it was held at open).
        const live = this.manager.get(d.id);
        if (live !== undefined) {
          try {
            this.ctx.monitor.remediation.onIncident(change, live);
          } catch (err) {
            this.fail(err);
          }
        }
      }
      return d;
    });
  }

  private async claimOnce(inc: Incident, change: IncidentChange | 'evidence' = 'evidence'): Promise<Decision> {
    const cause = causeOf(inc);
    const live = this.manager.peek(inc.id) ?? inc;
    const doc = this.withFleet(live, this.ctx.replica);
    const r = (await this.ctx.redis.eval(
      CLAIM,
      4,
      this.causeKey(cause),
      this.leaseKey(cause),
      this.indexKey,
      this.counterKey,
      this.docPrefix,
      inc.id,
      this.ctx.replica,
      String(this.opts.leaseMs),
      this.encode(doc),
      this.channel,
      cause,
      doc.status,
      String(this.maxSeen),
    )) as (string | null)[];
    if (r[0] === 'own') {
      this.counts.claimsWon++;
      this.owned.set(cause, inc.id);
      this.manager.replace(undefined, doc);
      this.setVersion(inc.id, Number(r[2]));
      return { id: inc.id, owner: true, degraded: false };
    }
    const id = r[1] ?? inc.id;
    const stored = parseDoc(r[3]);
    const owner = r[4] === this.ctx.replica;
    this.counts.claimsJoined++;
    if (stored === undefined) return { id: inc.id, owner: true, degraded: true };
    // Adopt the fleet's incident and add this replica's sighting to it.
    const mine = this.manager.peek(inc.id) ?? inc;
    const evidence = this.withFleet(mine, owner ? this.ctx.replica : (stored.fleet?.owner ?? r[4] ?? ''));
    const sig = mine.signalAtOpen ?? mine.signalPeak;
    const note: Incident['timeline'][number] = {
      at: mine.updatedAt ?? mine.openedAt,
      kind: 'note',
      by: 'firebreak',
      message: `Also detected on replica ${this.ctx.replica}${sig === undefined ? '' : ` (${sig.name} ${sig.value}${sig.unit === 'ms' ? ' ms' : ''})`}`,
      data: sig === undefined ? { replica: this.ctx.replica } : { replica: this.ctx.replica, signal: clone(sig) },
    };
    const maxTimeline = this.ctx.monitor.options.incidents.maxTimeline;
    // The same incident shared again (Redis came back): what was done here meanwhile is merged, not dropped.
    const merged =
      id === inc.id ? mergeIncident(stored, evidence, change, maxTimeline) : mergeIncident(stored, { ...evidence, id, timeline: [note] }, 'evidence', maxTimeline);
    if (owner) {
      this.owned.set(cause, id);
      merged.fleet!.owner = this.ctx.replica;
    }
    this.manager.replace(inc.id, merged);
    this.setVersion(id, Number(r[2] ?? 0));
    this.forget(inc.id, id);
    this.enqueue(id, id === inc.id ? change : 'evidence');
    return { id, owner, degraded: false };
  }

  private setVersion(id: string, v: number): void {
    if (!Number.isFinite(v)) return;
    this.versions.set(id, v);
    if (v > this.maxSeen) this.maxSeen = v;
  }

  private forget(localId: string, fleetId: string): void {
    if (localId !== fleetId) this.versions.delete(localId);
  }

  /** An incident opened while Redis was away (or before the fleet started): share it now. */
  private async claimLate(inc: Incident, change: IncidentChange | 'evidence'): Promise<void> {
    if (this.pending.has(inc.id)) return;
    const d = await this.claimOnce(inc, change);
    if (d.owner && d.id === inc.id) {
      // It paged on its own while Redis was away: record that, so no owner pages it again.
      const members = [`incident:opened:${inc.reopenCount}`, `incident:reopened:${inc.reopenCount}`];
      await this.ctx.redis.sadd(`${this.docPrefix}${inc.id}:sent`, ...members);
    }
  }

  private async put(id: string, change: IncidentChange | 'evidence'): Promise<void> {
    for (let attempt = 0; attempt < 5; attempt++) {
      const live = this.manager.peek(id);
      if (live === undefined || this.closed) return;
      const cause = causeOf(live);
      const doc = this.owned.get(cause) === id && live.fleet !== undefined ? { ...live, fleet: { ...live.fleet, owner: this.ctx.replica } } : live;
      const r = (await this.ctx.redis.eval(
        PUT,
        4,
        `${this.docPrefix}${id}`,
        this.indexKey,
        this.counterKey,
        this.causeKey(cause),
        String(this.versions.get(id) ?? 0),
        this.encode(doc),
        live.status,
        String(this.opts.resolvedTtlMs),
        this.channel,
        id,
        String(this.opts.maxIncidents),
        this.docPrefix,
        String(this.maxSeen),
      )) as (string | null)[];
      if (r[0] === 'ok') {
        this.counts.writes++;
        this.setVersion(id, Number(r[1]));
        return;
      }
      this.counts.conflicts++;
      const stored = parseDoc(r[2]);
      if (stored === undefined) {
        this.setVersion(id, Number(r[1]));
        continue;
      }
      const merged = mergeIncident(stored, live, change, this.ctx.monitor.options.incidents.maxTimeline);
      this.manager.replace(undefined, merged);
      this.setVersion(id, Number(r[1]));
    }
  }

  // ---- notifications ----

  private dispatch(event: IncidentEventName, inc: Incident, _at: number, send: () => void): void {
    if (this.closed) return send();
    const pending = this.pending.get(inc.id);
    this.dispatching++;
    void (async () => {
      const d = pending === undefined ? undefined : await pending;
      if (d?.degraded === true || this.alone.has(inc.id)) {
        if (PAGE_EVENTS.has(event)) this.counts.pagedAlone++;
        return send();
      }
      const id = d?.id ?? inc.id;
      if (!this.versions.has(id)) return send(); // not shared (yet): local behaviour
      if (PAGE_EVENTS.has(event) && (id !== inc.id || this.owned.get(causeOf(inc)) !== id)) {
        this.counts.pagesHeldForOwner++;
        return;
      }
      if (event !== 'incident:updated') {
        const member = `${event}:${inc.reopenCount}${event === 'incident:escalated' ? `:${inc.severity}` : ''}`;
        let added = 1;
        try {
          added = await this.ctx.redis.sadd(`${this.docPrefix}${id}:sent`, member);
        } catch (err) {
          // Redis failed between the decision and the page: a duplicate page beats a missed one.
          this.fail(err);
        }
        if (added === 0) {
          this.counts.duplicatesSuppressed++;
          return;
        }
      }
      if (PAGE_EVENTS.has(event)) this.counts.pagesSent++;
      send();
    })()
      .catch((err: unknown) => {
        this.fail(err);
        send();
      })
      .finally(() => this.dispatching--);
  }

  // ---- reading the fleet ----

  private async fetch(ids: string[]): Promise<void> {
    if (ids.length === 0) return;
    const pipe = this.ctx.redis.pipeline();
    for (const id of ids) pipe.hmget(`${this.docPrefix}${id}`, 'v', 'doc');
    const res = (await pipe.exec()) ?? [];
    res.forEach(([err, val], i) => {
      const id = ids[i]!;
      if (err !== null) return this.fail(err);
      const [v, raw] = val as [string | null, string | null];
      const doc = parseDoc(raw);
      if (v === null || doc === undefined || doc.id !== id) return;
      this.apply(doc, Number(v));
    });
  }

  /** Takes the fleet's copy unless this replica has a newer write of its own in flight. */
  private apply(doc: Incident, v: number): void {
    if (v <= (this.versions.get(doc.id) ?? 0) || this.chains.has(doc.id) || this.pending.has(doc.id)) return;
    // A claim for the same cause is being decided here: it adopts the fleet's incident itself.
    for (const [localId] of this.pending) {
      const local = this.manager.peek(localId);
      if (local !== undefined && local.type === doc.type && local.scope === doc.scope) return;
    }
    this.manager.replace(undefined, doc);
    this.setVersion(doc.id, v);
    if (doc.status === 'resolved') {
      const cause = causeOf(doc);
      if (this.owned.get(cause) === doc.id) this.owned.delete(cause);
    }
  }

  private async reconcile(): Promise<void> {
    if (this.closed || !this.up) return;
    try {
      const flat = await this.ctx.redis.zrange(this.indexKey, 0, -1, 'WITHSCORES');
      const stale: string[] = [];
      const listed = new Set<string>();
      for (let i = 0; i + 1 < flat.length; i += 2) {
        const id = flat[i]!;
        listed.add(id);
        if (Number(flat[i + 1]) > (this.versions.get(id) ?? 0)) stale.push(id);
      }
      for (let i = 0; i < stale.length; i += 100) await this.fetch(stale.slice(i, i + 100));
      // Keep versions only for incidents the local store still holds (it evicts old resolved ones).
      for (const id of this.versions.keys()) if (this.manager.peek(id) === undefined) this.versions.delete(id);
      // Redis lost the document (restarted without its data): share it again, as a new claim.
      for (const inc of this.manager.activeIncidents()) {
        if (this.versions.has(inc.id) && !listed.has(inc.id) && !this.pending.has(inc.id) && !this.chains.has(inc.id)) this.versions.delete(inc.id);
      }
      for (const [id, change] of [...this.dirty]) {
        this.dirty.delete(id);
        if (this.manager.peek(id) !== undefined) this.enqueue(id, change);
      }
      // Incidents that paged alone while Redis was away join the fleet now.
      for (const inc of [...this.manager.activeIncidents()]) {
        if (!this.versions.has(inc.id) && !this.pending.has(inc.id) && !this.chains.has(inc.id)) {
          this.alone.delete(inc.id);
          this.enqueue(inc.id, 'evidence');
        }
      }
      for (const id of this.alone) if (this.manager.peek(id) === undefined) this.alone.delete(id);
    } catch (err) {
      this.fail(err);
    }
  }

  /** Renews this replica's leases and takes over the ones whose owner stopped renewing. */
  private async renew(): Promise<void> {
    if (this.closed || !this.up) return;
    const active = [...this.manager.activeIncidents()].filter((i) => this.versions.has(i.id) && !this.pending.has(i.id));
    for (const inc of active) {
      const cause = causeOf(inc);
      try {
        const r = await this.ctx.redis.eval(RENEW, 2, this.leaseKey(cause), this.causeKey(cause), this.ctx.replica, String(this.opts.leaseMs), inc.id);
        if (r === 1) this.owned.set(cause, inc.id);
        else if (r === 2) {
          this.owned.set(cause, inc.id);
          this.counts.takeovers++;
          const was = inc.fleet?.owner;
          const live = this.manager.peek(inc.id);
          if (live?.fleet !== undefined) live.fleet.owner = this.ctx.replica;
          // The incident already paged (its document says so): the new owner carries on without paging again.
          this.manager.record(inc.id, {
            kind: 'note',
            by: 'firebreak',
            message: `Replica ${this.ctx.replica} owns this incident now${was !== undefined && was !== this.ctx.replica ? ` (${was} stopped renewing its lease)` : ''}`,
            data: { owner: this.ctx.replica, ...(was === undefined ? {} : { previous: was }) },
          });
        } else if (this.owned.get(cause) === inc.id) this.owned.delete(cause);
      } catch (err) {
        this.fail(err);
      }
    }
  }
}

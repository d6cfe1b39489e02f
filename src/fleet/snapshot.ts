/**
 * Mergeable window snapshots: what one process publishes so that any process
 * of the fleet can read the window of all of them (docs/fleet.md,
 * "Fleet-wide SLOs in process").
 *
 * A snapshot holds, per route and per cache, the slots of the window that
 * counted something, each under its absolute slot number (time / slotMs).
 * Log-bucket counts add up exactly, so the merge of N snapshots, slot by
 * slot, is the window one process would hold had it seen all the traffic,
 * and every quantile, rate and SLO read from it is the one that process
 * would report.
 *
 * @packageDocumentation
 */
import { z } from 'zod';
import { resolveSlos, type SloConfig } from '../slo/schema.js';
import { SloEvaluator, type SloResult } from '../slo/evaluate.js';
import type { ResourceProbes } from '../metrics/process.js';
import { SeriesStore, OTHER, type CacheStats, type RouteStats } from '../metrics/series-store.js';
import { slotRowFits, type WindowSlotRow } from '../metrics/latency-window.js';
import type { Monitor } from '../monitor.js';

/** Version of the snapshot format; a reader leaves out snapshots of another version. */
export const SNAPSHOT_VERSION = 1;

/**
 * One route slot as published: `[slot, requests, failures, rateLimited,
 * maxMs, buckets]`, the buckets as {@link encodeBuckets} writes them.
 */
export type EncodedRouteSlot = [number, number, number, number, number, string];

/**
 * The window of one process, compact and mergeable. Build it with
 * {@link takeSnapshot}; merge several with {@link mergeSnapshots}.
 *
 * @example
 * ```ts
 * const snap = takeSnapshot(monitor, 'checkout-1');
 * console.log(JSON.stringify(snap).length, 'bytes');
 * ```
 */
export interface WindowSnapshot {
  v: number;
  service: string;
  replica: string;
  /** The publisher's clock when it took the snapshot (ms since the epoch). */
  at: number;
  slotMs: number;
  slots: number;
  /** Histogram layout `[minMs, maxMs, relativeError]`: only equal layouts merge. */
  layout: [number, number, number];
  /**
   * Per route with traffic in the window: `[route, its non-empty slots, oldest
   * first]`. Pairs, not an object: a route named `__proto__` survives JSON
   * parsing and validation.
   */
  routes: [string, EncodedRouteSlot[]][];
  /** Per cache with lookups in the window: `[cache, [slot, hits, misses, errors] of its non-empty slots]`. */
  caches: [string, number[][]][];
}

const finite = z.number().finite();
const count = z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER);
const nameKey = z.string().min(1).max(1024);
/** Schema a snapshot read back from a shared store must satisfy (it may come from another version, or be corrupt). */
export const windowSnapshotSchema = z.strictObject({
  v: z.literal(SNAPSHOT_VERSION),
  service: z.string().max(256),
  replica: z.string().max(128),
  at: finite,
  slotMs: z.number().int().positive(),
  slots: z.number().int().positive().max(360),
  layout: z.tuple([finite, finite, finite]),
  routes: z.array(z.tuple([nameKey, z.array(z.tuple([z.number().int(), count, count, count, z.number().nonnegative().finite(), z.string().max(8192)])).max(360)])).max(100_000),
  caches: z.array(z.tuple([nameKey, z.array(z.array(z.number().finite()).max(8)).max(360)])).max(100_000),
});

/** Appends `n` (a non-negative integer below 2^53) as a LEB128 varint. */
function pushVarint(out: number[], n: number): void {
  while (n >= 0x80) {
    out.push((n % 0x80) | 0x80);
    n = Math.floor(n / 0x80);
  }
  out.push(n);
}

/**
 * Sparse log-bucket counts (`[bucket, count, …]`, buckets ascending) as
 * base64: each pair is the bucket's distance from the previous one and the
 * count, both LEB128 varints. A slot of a few dozen distinct latencies takes
 * a few dozen bytes.
 *
 * @example
 * ```ts
 * decodeBuckets(encodeBuckets([3, 1, 700, 2])); // [3, 1, 700, 2]
 * ```
 */
export function encodeBuckets(pairs: readonly number[]): string {
  const bytes: number[] = [];
  let prev = 0;
  for (let i = 0; i + 1 < pairs.length; i += 2) {
    pushVarint(bytes, pairs[i]! - prev);
    pushVarint(bytes, pairs[i + 1]!);
    prev = pairs[i]!;
  }
  return Buffer.from(bytes).toString('base64');
}

/**
 * Reverses {@link encodeBuckets}. Throws a `RangeError` on truncated or
 * oversized input (a snapshot that fails is left out of the merge).
 */
export function decodeBuckets(text: string, maxBucket: number): number[] {
  const bytes = Buffer.from(text, 'base64');
  const out: number[] = [];
  let at = 0;
  let bucket = 0;
  const read = (): number => {
    let n = 0;
    let scale = 1;
    for (;;) {
      if (at >= bytes.length) throw new RangeError('bucket counts truncated');
      const b = bytes[at++]!;
      n += (b & 0x7f) * scale;
      if (b < 0x80) return n;
      scale *= 0x80;
      if (scale > 2 ** 49) throw new RangeError('bucket count too large');
    }
  };
  while (at < bytes.length) {
    bucket += read();
    const c = read();
    if (bucket > maxBucket) throw new RangeError(`bucket ${bucket} outside the layout`);
    out.push(bucket, c);
  }
  return out;
}

/**
 * The window of `monitor` now, as a snapshot named after `replica`.
 * Reads only: recording is not disturbed.
 *
 * @example
 * ```ts
 * const bytes = Buffer.byteLength(JSON.stringify(takeSnapshot(monitor, 'a')));
 * ```
 */
export function takeSnapshot(monitor: Monitor, replica: string): WindowSnapshot {
  const store = monitor.store;
  const now = monitor.clock.now();
  const routes: WindowSnapshot['routes'] = [];
  for (const [name, s] of store.routes) {
    const rows = s.slotRows(now);
    if (rows.length === 0) continue;
    routes.push([name, rows.map((r) => [r.slot, r.requests, r.failures, r.rateLimited, r.maxMs, encodeBuckets(r.buckets)])]);
  }
  const caches: WindowSnapshot['caches'] = [];
  for (const [name, c] of store.caches) {
    const rows = c.ring.slotCounts(now);
    if (rows.length > 0) caches.push([name, rows]);
  }
  const l = store.layout;
  return { v: SNAPSHOT_VERSION, service: monitor.service, replica, at: now, slotMs: store.slotMs, slots: store.slots, layout: [l.minMs, l.maxMs, l.relativeError], routes, caches };
}

/** Why a snapshot was left out of a merge. */
export type SnapshotExclusion = 'stale' | 'incompatible' | 'invalid';

/**
 * The window of several processes merged: a {@link SeriesStore} shaped like
 * the local one, holding the sum of their slots, plus what was left out.
 */
export interface MergedWindow {
  store: SeriesStore;
  /** Replicas whose snapshot was merged. */
  replicas: string[];
  /** Route slots dropped because they lie after `now` (a publisher's clock ahead of the reader's). */
  futureSlots: number;
  /** Routes folded into `__other__` because the fleet has more distinct routes than `maxRoutes`. */
  foldedRoutes: number;
  /** Snapshots left out, and why. */
  excluded: { replica: string; reason: SnapshotExclusion; detail: string }[];
}

/**
 * Merges snapshots into a fresh store shaped like `monitor`'s, holding the
 * window ending at `now`. A snapshot of another service, version, window or
 * histogram layout is left out (reported in `excluded`), as is one whose
 * bucket data is corrupt. Routes (and caches) beyond the monitor's caps go
 * to `__other__`, as they would in one process.
 */
export function mergeSnapshots(monitor: Monitor, snapshots: readonly WindowSnapshot[], now: number): MergedWindow {
  const local = monitor.store;
  const store = new SeriesStore({
    slotMs: local.slotMs,
    slots: local.slots,
    maxRoutes: monitor.options.maxRoutes,
    maxCaches: monitor.options.maxCaches,
    layout: local.layout,
    promBucketsSeconds: monitor.options.prometheus.buckets,
  });
  const l = local.layout;
  const nowSlot = Math.floor(now / local.slotMs);
  const oldest = nowSlot - local.slots + 1;
  const routeRows = new Map<string, Map<number, WindowSlotRow>>();
  const cacheRows = new Map<string, Map<number, number[]>>();
  const merged: MergedWindow = { store, replicas: [], futureSlots: 0, foldedRoutes: 0, excluded: [] };
  for (const snap of snapshots) {
    if (snap.service !== monitor.service || snap.slotMs !== local.slotMs || snap.slots !== local.slots || snap.layout[0] !== l.minMs || snap.layout[1] !== l.maxMs || snap.layout[2] !== l.relativeError) {
      merged.excluded.push({ replica: snap.replica, reason: 'incompatible', detail: 'another service, window or histogram layout' });
      continue;
    }
    // Decode everything first: a corrupt snapshot is left out whole, never half-merged.
    const decoded: [string, WindowSlotRow][] = [];
    let future = 0;
    try {
      for (const [name, slots] of snap.routes) {
        for (const r of slots) {
          if (r[0] < oldest) continue;
          if (r[0] > nowSlot) {
            future++;
            continue;
          }
          const row: WindowSlotRow = { slot: r[0], requests: r[1], failures: r[2], rateLimited: r[3], maxMs: r[4], buckets: decodeBuckets(r[5], l.last) };
          // A slot no process could have recorded (bucket counts that do not add up to its requests) is corruption.
          if (!slotRowFits(row, l.size)) throw new RangeError(`route ${JSON.stringify(name.slice(0, 64))}: slot ${r[0]} counts do not add up`);
          decoded.push([name, row]);
        }
      }
    } catch (err) {
      merged.excluded.push({ replica: snap.replica, reason: 'invalid', detail: (err as Error).message });
      continue;
    }
    merged.futureSlots += future;
    merged.replicas.push(snap.replica);
    for (const [name, row] of decoded) {
      let bySlot = routeRows.get(name);
      if (bySlot === undefined) routeRows.set(name, (bySlot = new Map()));
      addRow(bySlot, row);
    }
    for (const [name, slots] of snap.caches) {
      let bySlot = cacheRows.get(name);
      if (bySlot === undefined) cacheRows.set(name, (bySlot = new Map()));
      for (const r of slots) {
        if (r.length !== 4) continue;
        const have = bySlot.get(r[0]!);
        if (have === undefined) bySlot.set(r[0]!, [...r]);
        else for (let f = 1; f < 4; f++) have[f]! += r[f]!;
      }
    }
  }
  // Routes past the cap fold into one __other__ row set first: a series takes its rows oldest first.
  const targets = new Map<string, Map<number, WindowSlotRow>>();
  for (const [name, bySlot] of routeRows) {
    const target = targets.has(name) || targets.size < monitor.options.maxRoutes ? name : OTHER;
    if (target === OTHER && name !== OTHER) merged.foldedRoutes++;
    let into = targets.get(target);
    if (into === undefined) targets.set(target, (into = new Map()));
    for (const row of bySlot.values()) addRow(into, row);
  }
  // The overall series is recorded beside the routes in one process (global SLOs and stats().overall
  // read it): it gets the sum of every route's slot, as that process's would hold.
  const overall = new Map<number, WindowSlotRow>();
  for (const [name, bySlot] of targets) {
    const series = store.route(name);
    for (const slot of [...bySlot.keys()].sort((a, b) => a - b)) {
      const row = bySlot.get(slot)!;
      series.addSlotRow(row);
      addRow(overall, { ...row });
    }
    series.advance(now);
  }
  for (const slot of [...overall.keys()].sort((a, b) => a - b)) store.all.addSlotRow(overall.get(slot)!);
  store.all.advance(now);
  for (const [name, bySlot] of cacheRows) store.cache(name).ring.restoreSlots([...bySlot.values()], now);
  return merged;
}

function addRow(bySlot: Map<number, WindowSlotRow>, row: WindowSlotRow): void {
  const have = bySlot.get(row.slot);
  if (have === undefined) {
    // Rows are decoded per merge and owned here: kept as they are, summed into in place.
    bySlot.set(row.slot, row);
    return;
  }
  have.requests += row.requests;
  have.failures += row.failures;
  have.rateLimited += row.rateLimited;
  if (row.maxMs > have.maxMs) have.maxMs = row.maxMs;
  have.buckets = addPairs(have.buckets, row.buckets);
}

/** Sum of two ascending `[bucket, count, …]` lists. */
function addPairs(a: readonly number[], b: readonly number[]): number[] {
  const out: number[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    if (j >= b.length || (i < a.length && a[i]! < b[j]!)) {
      out.push(a[i]!, a[i + 1]!);
      i += 2;
    } else if (i >= a.length || b[j]! < a[i]!) {
      out.push(b[j]!, b[j + 1]!);
      j += 2;
    } else {
      out.push(a[i]!, a[i + 1]! + b[j + 1]!);
      i += 2;
      j += 2;
    }
  }
  return out;
}

/** SLO kinds read from request and cache windows: the ones a fleet merge can judge. */
const WINDOW_KINDS: ReadonlySet<string> = new Set(['latency', 'success-rate', 'error-rate', 'cache-hit-rate']);

/** Probes of a merged window: never called (resource SLOs are per process and not judged for the fleet). */
const NO_PROBES: ResourceProbes = {
  memory: () => ({ heapUsed: Number.NaN, heapLimit: Number.NaN, rss: Number.NaN, rssLimit: Number.NaN }),
  cpuMicros: () => Number.NaN,
  eventLoopDelayP99: () => null,
  start: () => undefined,
  stop: () => undefined,
};

/**
 * The window figures of a merged store, shaped like `monitor.stats()`'s:
 * overall, per route, per cache, and the request and cache SLOs.
 */
export interface MergedStats {
  at: number;
  windowMs: number;
  overall: RouteStats;
  routes: Record<string, RouteStats>;
  caches: Record<string, CacheStats>;
  /**
   * The monitor's latency, success-rate, error-rate and cache-hit-rate SLOs
   * judged on the merged window (resource SLOs are per process: left out).
   * No error budget or burn rate over the SLO period: those come from each
   * process's burn-rate tracker.
   */
  slos: SloResult[];
}

/** Reads a merged window as {@link MergedStats}, judging `slos` as the local evaluator would. */
export function readMerged(store: SeriesStore, slos: readonly SloConfig[], minSamples: number, now: number): MergedStats {
  const routes = Object.create(null) as Record<string, RouteStats>;
  for (const [name, s] of store.routes) routes[name] = store.routeStats(s, now);
  const caches = Object.create(null) as Record<string, CacheStats>;
  for (const [name, c] of store.caches) caches[name] = c.stats(now);
  const evaluator = new SloEvaluator({ slos: slos.filter((s) => WINDOW_KINDS.has(s.kind)), store, probes: NO_PROBES, minSamples, monotonic: () => 0 });
  return { at: now, windowMs: store.slotMs * store.slots, overall: store.overall(now).stats, routes, caches, slos: evaluator.evaluate(now) };
}

/**
 * Merges `snapshots` as {@link mergeSnapshots} does and reads the result as
 * {@link readMerged} does, judging `monitor`'s own request and cache SLOs.
 *
 * @example
 * ```ts
 * const { stats } = mergeAndRead(monitor, [takeSnapshot(a, 'a'), takeSnapshot(b, 'b')], monitor.clock.now());
 * console.log(stats.overall.latencyMs.p99);
 * ```
 */
export function mergeAndRead(monitor: Monitor, snapshots: readonly WindowSnapshot[], now: number): { merged: MergedWindow; stats: MergedStats } {
  const merged = mergeSnapshots(monitor, snapshots, now);
  const slos = resolveSlos(monitor.options.preset, monitor.options.slos);
  return { merged, stats: readMerged(merged.store, slos, monitor.options.minSamples, now) };
}

/**
 * The fleet's window as one replica reads it: {@link MergedStats} plus which
 * replicas it covers. What `fleet.windows.stats()` and `GET /stats/fleet`
 * answer.
 *
 * @example
 * ```ts
 * const s: FleetWindowStats = await fleet.windows.stats();
 * if (s.replicas.stale.length > 0) console.warn('fleet stats leave out', s.replicas.stale.map((r) => r.replica));
 * ```
 */
export interface FleetWindowStats extends MergedStats {
  service: string;
  /** The replica that read and merged the snapshots. */
  readBy: string;
  replicas: {
    /** Replicas whose window is in the figures. */
    merged: string[];
    /** Replicas that published nothing for 2 periods (or more): left out. `silentForMs` is by Redis time. */
    stale: { replica: string; silentForMs: number }[];
    /** Snapshots left out for another reason (another window or layout, corrupt, too large). */
    excluded: { replica: string; reason: SnapshotExclusion | 'too-large'; detail: string }[];
  };
  /** Route slots dropped because they lie after the reader's time (clock skew between replicas). */
  futureSlots: number;
  /** Routes folded into `__other__`: the fleet has more distinct routes than `maxRoutes`. */
  foldedRoutes: number;
}

/** What the HTTP surface needs of an attached fleet: read the fleet's window. */
export interface FleetWindowsReader {
  stats(): Promise<FleetWindowStats>;
}

const readers = new WeakMap<Monitor, FleetWindowsReader>();

/**
 * Makes `reader` answer `GET /stats/fleet` for `monitor` (the Redis fleet
 * does this; the HTTP layer never imports Redis). Returns the detach function.
 */
export function attachFleetWindows(monitor: Monitor, reader: FleetWindowsReader): () => void {
  readers.set(monitor, reader);
  return () => {
    if (readers.get(monitor) === reader) readers.delete(monitor);
  };
}

/** The fleet reader attached to `monitor`, if any. */
export function fleetWindowsOf(monitor: Monitor): FleetWindowsReader | undefined {
  return readers.get(monitor);
}

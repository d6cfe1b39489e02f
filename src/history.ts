import { z } from 'zod';
import type { SloResult, SloStatus } from './slo/evaluate.js';
import type { RouteStats, CacheStats } from './metrics/series-store.js';

/**
 * Options of the server-side history (the `history` monitor option): one
 * snapshot every `intervalMs` of evaluation, `durationMs` of them kept, in at
 * most `maxBytes` of column storage.
 */
export const historyOptionsSchema = z
  .strictObject({
    /** How far back the ring reaches (default 1 hour). */
    durationMs: z.number().int().positive().max(7 * 24 * 3_600_000).default(3_600_000),
    /** Snapshot spacing (default 10 s; snapshots are taken by evaluations, so a shorter spacing than `evaluateEveryMs` has no effect). */
    intervalMs: z.number().int().min(1000, 'intervalMs must be at least 1000').default(10_000),
    /** Ceiling on the ring's storage; the ring keeps fewer snapshots rather than exceed it (default 1 MiB). */
    maxBytes: z.number().int().min(4096).max(64 * 1024 * 1024).default(1024 * 1024),
  })
  .default({ durationMs: 3_600_000, intervalMs: 10_000, maxBytes: 1024 * 1024 });

/** Largest number of SLOs a snapshot carries (the first ones in configuration order). */
export const HISTORY_MAX_SLOS = 32;
/** Markers (incident opened/resolved, action applied/reverted) kept. */
export const HISTORY_MAX_MARKERS = 256;
/** A marker's label is cut to this many UTF-16 code units. */
export const HISTORY_MARKER_LABEL = 120;

/** What a history marker records. */
export type HistoryMarkerKind = 'incident-opened' | 'incident-resolved' | 'action-applied' | 'action-reverted';

/**
 * An event drawn on the dashboard's time axis.
 *
 * @example
 * ```ts
 * const m: HistoryMarker = { at: Date.now(), kind: 'incident-opened', label: 'latency high' };
 * ```
 */
export interface HistoryMarker {
  at: number;
  kind: HistoryMarkerKind;
  label: string;
  /** The incident the event belongs to, when there is one. */
  incidentId?: string;
}

/** One SLO in a history point (null where the SLO had no data or no budget). */
export interface HistorySloPoint {
  status: SloStatus;
  value: number | null;
  /** Share of the error budget left (1 = untouched). */
  budget: number | null;
  /** Window burn rate (1 = spending exactly the budget). */
  burn: number | null;
}

/**
 * One snapshot of the rolling window, taken at an evaluation.
 *
 * @example
 * ```ts
 * const { points } = monitor.history.read();
 * console.log(points.at(-1)?.p95);
 * ```
 */
export interface HistoryPoint {
  at: number;
  /** Requests per second, averaged over the rolling window. */
  rate: number;
  successRate: number | null;
  p50: number | null;
  p95: number | null;
  p99: number | null;
  /** All caches' hits over all lookups in the window. */
  cacheHitRate: number | null;
  /** By SLO name (at most {@link HISTORY_MAX_SLOS}). */
  slos: Record<string, HistorySloPoint>;
}

/** Static description of an SLO in the history. */
export interface HistorySlo {
  name: string;
  kind: string;
  unit: 'ms' | 'ratio';
  direction: 'max' | 'min';
  target: number;
}

/**
 * What `monitor.history.read()` and `GET /stats/history` return.
 *
 * @example
 * ```ts
 * const h: HistoryReport = monitor.history.read({ sinceMs: Date.now() - 600_000 });
 * ```
 */
export interface HistoryReport {
  intervalMs: number;
  durationMs: number;
  /** Snapshots the ring holds at most (durationMs / intervalMs, lowered to fit maxBytes). */
  capacity: number;
  slos: HistorySlo[];
  /** Oldest first. */
  points: HistoryPoint[];
  /** Oldest first. */
  markers: HistoryMarker[];
}

const FIXED = 7; // at, rate, success, p50, p95, p99, cacheHit
const PER_SLO = 4; // status, value, budget, burn
const STATUS: readonly SloStatus[] = ['no-data', 'ok', 'warning', 'breach'];

function nn(v: number): number | null {
  return Number.isNaN(v) ? null : v;
}

/**
 * A bounded ring of per-interval snapshots, stored column-wise in one
 * Float64Array so its size in bytes is fixed at construction: `capacity ×
 * (7 + 4 × slos) × 8` bytes, plus at most {@link HISTORY_MAX_MARKERS} markers.
 * Filled by the monitor's evaluations (so a fake clock drives it), never by
 * the request hot path.
 */
export class HistoryRing {
  readonly intervalMs: number;
  readonly durationMs: number;
  readonly capacity: number;
  readonly slos: readonly HistorySlo[];
  private readonly row: number;
  private readonly data: Float64Array;
  private start = 0;
  private size = 0;
  private lastAt = Number.NEGATIVE_INFINITY;
  private readonly markers: HistoryMarker[] = [];

  constructor(options: z.output<typeof historyOptionsSchema>, slos: readonly HistorySlo[]) {
    this.intervalMs = options.intervalMs;
    this.durationMs = options.durationMs;
    this.slos = slos.slice(0, HISTORY_MAX_SLOS);
    this.row = FIXED + PER_SLO * this.slos.length;
    const wanted = Math.max(1, Math.ceil(options.durationMs / options.intervalMs));
    this.capacity = Math.max(1, Math.min(wanted, Math.floor(options.maxBytes / (this.row * 8))));
    this.data = new Float64Array(this.capacity * this.row);
  }

  /** Bytes of the snapshot storage (markers not included: ≤ 256 × ≈ 400 B). */
  get bytes(): number {
    return this.data.byteLength;
  }

  /** Snapshots held now. */
  get length(): number {
    return this.size;
  }

  /**
   * Takes a snapshot when at least `intervalMs` passed since the last one
   * (a few ms of timer jitter tolerated). Returns whether it did.
   */
  record(at: number, windowMs: number, overall: RouteStats, caches: Record<string, CacheStats>, slos: readonly SloResult[]): boolean {
    if (at - this.lastAt < this.intervalMs * 0.9) return false;
    this.lastAt = at;
    const i = (this.start + this.size) % this.capacity;
    if (this.size < this.capacity) this.size++;
    else this.start = (this.start + 1) % this.capacity;
    const d = this.data;
    let o = i * this.row;
    let hits = 0;
    let lookups = 0;
    for (const c of Object.values(caches)) {
      hits += c.hits;
      lookups += c.hits + c.misses + c.errors;
    }
    d[o++] = at;
    d[o++] = windowMs > 0 ? overall.requests / (windowMs / 1000) : 0;
    d[o++] = overall.successRate ?? NaN;
    d[o++] = overall.latencyMs.p50 ?? NaN;
    d[o++] = overall.latencyMs.p95 ?? NaN;
    d[o++] = overall.latencyMs.p99 ?? NaN;
    d[o++] = lookups > 0 ? hits / lookups : NaN;
    for (const s of this.slos) {
      const r = slos.find((x) => x.name === s.name);
      d[o++] = r === undefined ? 0 : STATUS.indexOf(r.status);
      d[o++] = r?.value ?? NaN;
      d[o++] = r?.errorBudgetRemaining ?? NaN;
      d[o++] = r?.burnRate ?? NaN;
    }
    return true;
  }

  /** Adds a marker; the oldest goes past {@link HISTORY_MAX_MARKERS}. */
  mark(at: number, kind: HistoryMarkerKind, label: string, incidentId?: string): void {
    const cut = label.length > HISTORY_MARKER_LABEL ? `${label.slice(0, HISTORY_MARKER_LABEL - 1)}…` : label;
    const m: HistoryMarker = { at, kind, label: cut };
    if (incidentId !== undefined) m.incidentId = incidentId.slice(0, 100);
    this.markers.push(m);
    if (this.markers.length > HISTORY_MAX_MARKERS) this.markers.shift();
  }

  /**
   * The snapshots and markers, oldest first; `sinceMs` keeps those after it,
   * `limit` the newest `limit` points.
   */
  read(opts: { sinceMs?: number; limit?: number } = {}): HistoryReport {
    const since = opts.sinceMs ?? Number.NEGATIVE_INFINITY;
    const points: HistoryPoint[] = [];
    const d = this.data;
    for (let k = 0; k < this.size; k++) {
      let o = ((this.start + k) % this.capacity) * this.row;
      const at = d[o++]!;
      if (at <= since) continue;
      const p: HistoryPoint = {
        at,
        rate: d[o++]!,
        successRate: nn(d[o++]!),
        p50: nn(d[o++]!),
        p95: nn(d[o++]!),
        p99: nn(d[o++]!),
        cacheHitRate: nn(d[o++]!),
        slos: Object.create(null) as Record<string, HistorySloPoint>,
      };
      for (const s of this.slos) {
        p.slos[s.name] = { status: STATUS[d[o++]!] ?? 'no-data', value: nn(d[o++]!), budget: nn(d[o++]!), burn: nn(d[o++]!) };
      }
      points.push(p);
    }
    const limited = opts.limit !== undefined && points.length > opts.limit ? points.slice(points.length - opts.limit) : points;
    const from = limited[0]?.at ?? since;
    return {
      intervalMs: this.intervalMs,
      durationMs: this.durationMs,
      capacity: this.capacity,
      slos: this.slos.map((s) => ({ ...s })),
      points: limited,
      markers: this.markers.filter((m) => m.at > since && (limited.length === 0 || m.at >= from - this.intervalMs)).map((m) => ({ ...m })),
    };
  }
}

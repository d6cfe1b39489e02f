import { BucketLayout, promBucketMap, type PromBucketMap } from './log-buckets.js';
import { LatencyWindow, REQUESTS, FAILURES, RATE_LIMITED, type LatencySummary } from './latency-window.js';
import { DenseWindow } from './dense-window.js';
import { CounterRing } from './counter-ring.js';

/** The quantiles `stats()` reports: p50, p90, p95, p99. */
const STANDARD_QS: readonly number[] = [0.5, 0.9, 0.95, 0.99];

/** Name of the series that absorbs routes or caches beyond the cap. */
export const OTHER = '__other__';

/**
 * Longest route, cache or arm name kept, in UTF-16 code units. A longer route
 * or cache name is cut to this length (ending in `…`) and its record counted
 * in `stats().recording.rejectedBy`; the request itself is still recorded.
 *
 * @example
 * ```ts
 * if (route.length > MAX_NAME_LENGTH) console.warn('route will be truncated');
 * ```
 */
export const MAX_NAME_LENGTH = 256;

/**
 * `name` cut to {@link MAX_NAME_LENGTH} code units, ending in `…`, never
 * splitting a surrogate pair, and copied so that the result does not keep
 * the (possibly huge) original alive: V8 represents a slice as a view into
 * its parent string.
 */
export function truncateName(name: string): string {
  let end = MAX_NAME_LENGTH - 1;
  const c = name.charCodeAt(end - 1);
  if (c >= 0xd800 && c <= 0xdbff) end--; // a high surrogate would lose its pair
  return Buffer.from(`${name.slice(0, end)}…`, 'utf16le').toString('utf16le');
}

/** Window figures of one request series, as `stats()` reports them. */
export interface RouteStats {
  requests: number;
  failures: number;
  rateLimited: number;
  /** successes / requests, or null with no requests in the window. */
  successRate: number | null;
  latencyMs: LatencySummary;
}

/** Window figures of one cache, as `stats()` reports them. */
export interface CacheStats {
  hits: number;
  misses: number;
  errors: number;
  /** hits / (hits + misses + errors), or null with no lookups in the window. */
  hitRate: number | null;
}

export const HIT = 0;
export const MISS = 1;
export const ERROR = 2;

/** A cache's rolling counters and cumulative totals. */
export class CacheSeries {
  readonly ring: CounterRing;
  readonly cumulative = new Float64Array(3);
  constructor(slotMs: number, slots: number) {
    this.ring = new CounterRing(slotMs, slots, 3);
  }
  record(now: number, result: number): void {
    this.ring.add(now, result);
    this.cumulative[result]!++;
  }
  /** {@link CacheSeries.record} at time `time[0]` (see LatencyWindow.recordStaged for why). */
  recordStaged(time: Float64Array, result: number): void {
    this.ring.addStaged(time, result);
    this.cumulative[result]!++;
  }
  stats(now: number): CacheStats {
    const hits = this.ring.total(now, HIT);
    const misses = this.ring.total(now, MISS);
    const errors = this.ring.total(now, ERROR);
    const n = hits + misses + errors;
    return { hits, misses, errors, hitRate: n > 0 ? hits / n : null };
  }
}

/** Sizing shared by every series of a monitor. */
export interface SeriesStoreOptions {
  slotMs: number;
  slots: number;
  maxRoutes: number;
  maxCaches: number;
  layout: BucketLayout;
  promBucketsSeconds: readonly number[];
}

/**
 * Every series a monitor records into: a bounded map of route series, the
 * overall series (every request is recorded there too, so global reads cost
 * the same at 10,000 routes as at one), and a bounded map of caches.
 */
export class SeriesStore {
  readonly layout: BucketLayout;
  readonly prom: PromBucketMap;
  readonly slotMs: number;
  readonly slots: number;
  readonly routes = new Map<string, LatencyWindow>();
  /**
   * Every request of every route, recorded on the hot path beside its route:
   * global SLOs, detectors and `stats().overall` read it instead of merging
   * every route. Dense (64 KiB at the default window): there is one.
   */
  readonly all: DenseWindow;
  readonly caches = new Map<string, CacheSeries>();
  /**
   * The route series again, for the recording lookup: a prototype-less object
   * in dictionary mode. A keyed load internalises the route string (V8 turns
   * it into a pointer to the interned copy), so later lookups compare
   * pointers; a Map compares the contents of colliding strings through a
   * runtime call instead, about a quarter of a record's cost when measured.
   */
  private readonly byName: Record<string, LatencyWindow | undefined> = dictionary();
  /** Records that went to `__other__` because the route cap was reached. */
  routeOverflow = 0;
  /** Cache records that went to `__other__` because the cache cap was reached. */
  cacheOverflow = 0;
  /** Records whose route name was cut to {@link MAX_NAME_LENGTH}. */
  routeNamesCut = 0;
  /** Cache records whose name was cut to {@link MAX_NAME_LENGTH}. */
  cacheNamesCut = 0;
  private readonly maxRoutes: number;
  private readonly maxCaches: number;
  /** `[time, durationMs]` of the record being made: see {@link LatencyWindow.recordStaged}. */
  readonly input = new Float64Array(2);

  constructor(opts: SeriesStoreOptions) {
    this.layout = opts.layout;
    this.slotMs = opts.slotMs;
    this.slots = opts.slots;
    this.maxRoutes = opts.maxRoutes;
    this.maxCaches = opts.maxCaches;
    this.prom = promBucketMap(opts.layout, opts.promBucketsSeconds);
    this.all = new DenseWindow(this.layout, this.slotMs, this.slots, this.prom, new Float64Array(this.layout.size), this.input);
  }

  /** The series for `route`, creating it (or falling back to `__other__` past the cap). */
  route(route: string): LatencyWindow {
    // Small on purpose: it sits on the recording path, where V8's inlining budget is spent.
    return this.byName[route] ?? this.newRoute(route);
  }

  private newRoute(route: string): LatencyWindow {
    if (route.length > MAX_NAME_LENGTH) {
      // Only over-long names pay for this (a copy per record): the lookup above
      // already missed, and storing the long name as a key is what must not happen.
      this.routeNamesCut++;
      route = truncateName(route);
      const s = this.byName[route];
      if (s !== undefined) return s;
    }
    if (this.routes.size >= this.maxRoutes) {
      this.routeOverflow++;
      return this.routes.get(OTHER) ?? this.createRoute(OTHER);
    }
    return this.createRoute(route);
  }

  /** The series for `name`, creating it (or `__other__` past the cap). */
  cache(name: string): CacheSeries {
    let s = this.caches.get(name);
    if (s !== undefined) return s;
    if (name.length > MAX_NAME_LENGTH) {
      this.cacheNamesCut++;
      name = truncateName(name);
      s = this.caches.get(name);
      if (s !== undefined) return s;
    }
    if (this.caches.size >= this.maxCaches) {
      this.cacheOverflow++;
      return this.caches.get(OTHER) ?? this.createCache(OTHER);
    }
    return this.createCache(name);
  }

  /** Stats of one route over the window ending at `now`. */
  routeStats(series: LatencyWindow | DenseWindow, now: number): RouteStats {
    const latencyMs = series.summary(now);
    const requests = series.total(REQUESTS);
    const failures = series.total(FAILURES);
    return {
      requests,
      failures,
      rateLimited: series.total(RATE_LIMITED),
      successRate: requests > 0 ? (requests - failures) / requests : null,
      latencyMs,
    };
  }

  /**
   * Totals and quantiles over all routes (the overall series), read from
   * {@link SeriesStore.all}: no route is visited.
   */
  overall(now: number, qs: readonly number[] = STANDARD_QS): { stats: RouteStats; quantiles: (number | null)[] } {
    const all = this.all;
    const stats = this.routeStats(all, now);
    // The default call (stats()) asks for the standard set: read it once.
    const quantiles = qs === STANDARD_QS ? [stats.latencyMs.p50, stats.latencyMs.p90, stats.latencyMs.p95, stats.latencyMs.p99] : all.quantiles(qs);
    return { stats, quantiles };
  }

  /** Window counts over all routes ending at `now`: requests, failures, 429s. */
  overallCounts(now: number): { n: number; failures: number; rateLimited: number } {
    const all = this.all;
    all.advance(now);
    return { n: all.total(REQUESTS), failures: all.total(FAILURES), rateLimited: all.total(RATE_LIMITED) };
  }

  /** Values clamped to the histogram's range, across all routes. */
  clamped(): number {
    return this.all.clamped;
  }

  private createRoute(route: string): LatencyWindow {
    const s = new LatencyWindow(this.layout, this.slotMs, this.slots, this.prom, this.input);
    this.routes.set(route, s);
    this.byName[route] = s;
    return s;
  }

  private createCache(name: string): CacheSeries {
    const c = new CacheSeries(this.slotMs, this.slots);
    this.caches.set(name, c);
    return c;
  }
}

/**
 * A prototype-less record of `map`'s entries, for snapshots: a series named
 * `constructor` or `__proto__` is an own property like any other, and a name
 * never recorded reads `undefined` rather than an `Object.prototype` member.
 */
export function byName<T, R>(map: ReadonlyMap<string, T>, f: (v: T) => R): Record<string, R> {
  const out = Object.create(null) as Record<string, R>;
  for (const [k, v] of map) out[k] = f(v);
  return out;
}

/** An empty object with no prototype, switched to dictionary mode (fast for many dynamic keys). */
function dictionary<T>(): Record<string, T | undefined> {
  const d = Object.create(null) as Record<string, T | undefined>;
  d['x'] = undefined;
  delete d['x']; // a deleted property moves V8 objects to dictionary mode
  return d;
}

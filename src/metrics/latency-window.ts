import type { BucketLayout } from './log-buckets.js';
import { quantilesFromCounts } from './log-buckets.js';
import type { PromBucketMap } from './log-buckets.js';

/** Counter fields kept per slot. */
export const REQUESTS = 0;
export const FAILURES = 1;
export const RATE_LIMITED = 2;
const FIELDS = 3;

/** Latency quantiles of a window, in ms (`null` when it holds no sample). */
export interface LatencySummary {
  p50: number | null;
  p90: number | null;
  p95: number | null;
  p99: number | null;
  max: number | null;
}

/** Cumulative (since start) totals of a series, for Prometheus counters. */
export interface CumulativeTotals {
  requests: number;
  failures: number;
  rateLimited: number;
  sumMs: number;
}

const U16_WRAP = 65_536;

/**
 * One request series (a route, or `__other__`): a rolling window of latency
 * histograms and outcome counters, plus cumulative twins for Prometheus.
 *
 * Per-slot bucket counts are 16-bit to keep a series under 64 KiB at the
 * default window; a cell that wraps is carried in a small map, so no count is
 * lost. The window aggregate `agg` is maintained on write and on expiry, so
 * reading a quantile scans one array, never the slots.
 */
export class LatencyWindow {
  readonly layout: BucketLayout;
  readonly slotMs: number;
  readonly slots: number;
  private readonly ring: Uint16Array;
  private readonly agg: Uint32Array;
  private readonly counts: Uint32Array;
  private readonly windowTotals = new Float64Array(FIELDS);
  private readonly slotMax: Float64Array;
  private carry: Map<number, number> | undefined;
  private head = -1;
  private headIndex = 0;
  /** Cumulative counts per Prometheus bucket (see {@link LatencyWindow.promBuckets}). */
  readonly promCounts: Float64Array;
  readonly cumulative: CumulativeTotals = { requests: 0, failures: 0, rateLimited: 0, sumMs: 0 };
  /** Values recorded outside the layout's range (clamped, still counted). */
  clamped = 0;
  private readonly promIndex: Uint8Array;

  private readonly promBoundsMs: Float64Array;

  constructor(layout: BucketLayout, slotMs: number, slots: number, prom: PromBucketMap) {
    this.layout = layout;
    this.slotMs = slotMs;
    this.slots = slots;
    this.ring = new Uint16Array(slots * layout.size);
    this.agg = new Uint32Array(layout.size);
    this.counts = new Uint32Array(slots * FIELDS);
    this.slotMax = new Float64Array(slots);
    this.promIndex = prom.index;
    this.promBoundsMs = prom.boundsMs;
    this.promCounts = new Float64Array(prom.boundsMs.length);
  }

  /** Records one request at time `now`. The hot path: no allocation. */
  record(now: number, durationMs: number, failure: boolean, rateLimited: boolean): void {
    const abs = Math.floor(now / this.slotMs);
    if (abs !== this.head) this.roll(abs);
    const layout = this.layout;
    const b = layout.index(durationMs);
    if (b === 0 || b === layout.last) {
      if (layout.clamps(durationMs)) this.clamped++;
    }
    const cell = this.headIndex * layout.size + b;
    const v = (this.ring[cell]! + 1) & 0xffff;
    this.ring[cell] = v;
    if (v === 0) this.addCarry(cell);
    this.agg[b]!++;
    const base = this.headIndex * FIELDS;
    this.counts[base]!++;
    this.windowTotals[REQUESTS]!++;
    const cum = this.cumulative;
    cum.requests++;
    cum.sumMs += durationMs;
    if (failure) {
      this.counts[base + FAILURES]!++;
      this.windowTotals[FAILURES]!++;
      cum.failures++;
    }
    if (rateLimited) {
      this.counts[base + RATE_LIMITED]!++;
      this.windowTotals[RATE_LIMITED]!++;
      cum.rateLimited++;
    }
    if (durationMs > this.slotMax[this.headIndex]!) this.slotMax[this.headIndex] = durationMs;
    // A log bucket may straddle a Prometheus bound: comparing the value keeps `le` exact.
    let p = this.promIndex[b]!;
    while (durationMs > this.promBoundsMs[p]!) p++;
    this.promCounts[p]!++;
  }

  /** Brings the window up to `now`, expiring old slots. */
  advance(now: number): void {
    this.roll(Math.floor(now / this.slotMs));
  }

  /** Window total of a counter field (`REQUESTS`, `FAILURES`, `RATE_LIMITED`). Call {@link advance} first. */
  total(field: number): number {
    return this.windowTotals[field]!;
  }

  /** Largest value in the window, or 0 when empty. Call {@link advance} first. */
  max(): number {
    let m = 0;
    for (let i = 0; i < this.slots; i++) if (this.slotMax[i]! > m) m = this.slotMax[i]!;
    return m;
  }

  /** Adds this window's bucket counts into `into` (for merged series such as the overall one). */
  addCountsTo(into: Float64Array): void {
    const agg = this.agg;
    for (let b = 0; b < agg.length; b++) {
      const c = agg[b]!;
      if (c !== 0) into[b]! += c;
    }
  }

  /** Quantiles (ascending `qs`) over the window. Call {@link advance} first. */
  quantiles(qs: readonly number[]): (number | null)[] {
    return quantilesFromCounts(this.layout, this.agg, this.windowTotals[REQUESTS]!, qs, this.max());
  }

  /** p50/p90/p95/p99/max over the window ending at `now`. */
  summary(now: number): LatencySummary {
    this.advance(now);
    const [p50, p90, p95, p99] = this.quantiles([0.5, 0.9, 0.95, 0.99]);
    const n = this.windowTotals[REQUESTS]!;
    return { p50: p50 ?? null, p90: p90 ?? null, p95: p95 ?? null, p99: p99 ?? null, max: n > 0 ? this.max() : null };
  }

  /** Bytes held by this series' arrays. */
  get bytes(): number {
    return (
      this.ring.byteLength +
      this.agg.byteLength +
      this.counts.byteLength +
      this.windowTotals.byteLength +
      this.slotMax.byteLength +
      this.promCounts.byteLength
    );
  }

  private addCarry(cell: number): void {
    this.carry ??= new Map();
    this.carry.set(cell, (this.carry.get(cell) ?? 0) + 1);
  }

  private roll(abs: number): void {
    if (abs <= this.head) return; // same slot, or the clock went back
    const steps = abs - this.head;
    if (this.head < 0 || steps >= this.slots) {
      this.ring.fill(0);
      this.agg.fill(0);
      this.counts.fill(0);
      this.windowTotals.fill(0);
      this.slotMax.fill(0);
      this.carry?.clear();
    } else {
      for (let k = 1; k <= steps; k++) this.expire((this.headIndex + k) % this.slots);
    }
    this.head = abs;
    this.headIndex = abs % this.slots;
  }

  private expire(idx: number): void {
    const size = this.layout.size;
    const base = idx * size;
    const ring = this.ring;
    const agg = this.agg;
    for (let b = 0; b < size; b++) {
      const c = ring[base + b]!;
      if (c !== 0) {
        agg[b]! -= c;
        ring[base + b] = 0;
      }
    }
    if (this.carry !== undefined && this.carry.size > 0) {
      for (const [cell, wraps] of this.carry) {
        if (cell >= base && cell < base + size) {
          agg[cell - base]! -= wraps * U16_WRAP;
          this.carry.delete(cell);
        }
      }
    }
    const cbase = idx * FIELDS;
    for (let f = 0; f < FIELDS; f++) {
      this.windowTotals[f]! -= this.counts[cbase + f]!;
      this.counts[cbase + f] = 0;
    }
    this.slotMax[idx] = 0;
  }
}

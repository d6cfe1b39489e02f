import type { BucketLayout } from './log-buckets.js';
import { quantilesFromCounts, quantilesFromSum } from './log-buckets.js';
import type { PromBucketMap } from './log-buckets.js';

import { REQUESTS, FAILURES, RATE_LIMITED, FIELDS, U32_MAX, slotRowFits, type LatencySummary, type CumulativeTotals, type WindowSlotRow } from './latency-window.js';

const U16_WRAP = 65_536;

/**
 * The dense twin of {@link LatencyWindow}: every slot holds a full array of
 * bucket counts. It costs 64 KiB whatever the traffic, and records a little
 * faster (one increment, no range checks), so it serves the overall series,
 * which every request feeds and there is one of per monitor.
 *
 * Memory: per-slot bucket counts are 16-bit, so a series stays under 64 KiB
 * at the default window (30 slots × 986 buckets); a cell that wraps is carried
 * in a small map, so no count is lost. All arrays are views of one
 * ArrayBuffer per series, which saves the per-buffer overhead and keeps what
 * a record touches close together.
 *
 * Recording touches only the head slot. The sums over the window's other
 * ("closed") slots — bucket counts and counter fields — and the cumulative
 * totals of expired slots are folded in when the head moves (once per slot),
 * so a record is a handful of typed-array writes and a read is one pass over
 * the closed sums plus the head, never over every slot.
 */
export class DenseWindow {
  readonly layout: BucketLayout;
  readonly slotMs: number;
  readonly slots: number;
  /** Bucket counts per slot: `slots × layout.size` 16-bit cells. */
  private readonly ring: Uint16Array;
  /**
   * 32-bit counts: `[0, layout.size)` bucket counts summed over the closed
   * slots (4.29e9 per bucket per window), then from `countsOff` the per-slot
   * counter fields (REQUESTS, FAILURES, RATE_LIMITED). One view for both
   * keeps the per-series object count (and heap) down.
   */
  private readonly u32: Uint32Array;
  private readonly countsOff: number;
  /** Where reads merge closed and head counts; shared by the series of a store. */
  private readonly scratch: Float64Array;
  /** Where the recording path stages `[time, durationMs]` for {@link LatencyWindow.recordStaged}; shared by a store's series. */
  readonly input: Float64Array;
  /**
   * Every other number: per-slot max, Prometheus bucket counts, closed and
   * expired counter totals, the cumulative sum.
   */
  private readonly cells: Float64Array;
  private readonly maxOff = 0;
  /** Prometheus bucket counts of expired slots (log buckets that no bound splits). */
  private readonly promExpiredOff: number;
  /** Prometheus bucket counts, since creation, of values in log buckets that a bound splits. */
  private readonly promSplitOff: number;
  private readonly closedOff: number;
  private readonly expiredOff: number;
  private readonly sumOff: number;
  private readonly promSize: number;
  /** Overflow of 16-bit ring cells: cell → number of wraps. */
  private carry: Map<number, number> | undefined;
  /** Absolute slot number (time / slotMs) of the head, -1 before the first record. */
  private head = -1;
  private headIndex = 0;
  /** Offsets of the head slot in `ring` (bucket counts), in `u32` (counter fields) and in `cells` (max). */
  private headBase = 0;
  private countBase = 0;
  private maxCell = 0;
  /** Clock time at which the head slot ends: the only time check on the hot path. */
  private headEnd = -Infinity;
  /** Values recorded outside the layout's range (clamped, still counted). */
  clamped = 0;
  private readonly promIndex: Uint8Array;
  private readonly promStraddles: Uint8Array;
  private readonly promBoundsMs: Float64Array;

  constructor(
    layout: BucketLayout,
    slotMs: number,
    slots: number,
    prom: PromBucketMap,
    scratch: Float64Array = new Float64Array(layout.size),
    input: Float64Array = new Float64Array(2),
  ) {
    this.layout = layout;
    this.slotMs = slotMs;
    this.slots = slots;
    this.scratch = scratch;
    this.input = input;
    this.promIndex = prom.index;
    this.promStraddles = prom.straddles;
    this.promBoundsMs = prom.boundsMs;
    this.promSize = prom.boundsMs.length;
    this.promExpiredOff = this.maxOff + slots;
    this.promSplitOff = this.promExpiredOff + this.promSize;
    this.closedOff = this.promSplitOff + this.promSize;
    this.expiredOff = this.closedOff + FIELDS;
    this.sumOff = this.expiredOff + FIELDS;
    // One buffer, widest elements first so every view stays aligned.
    const floats = this.sumOff + 1;
    const buffer = new ArrayBuffer(8 * floats + 4 * layout.size + 4 * slots * FIELDS + 2 * slots * layout.size);
    let at = 0;
    this.cells = new Float64Array(buffer, at, floats);
    at += 8 * floats;
    this.u32 = new Uint32Array(buffer, at, layout.size + slots * FIELDS);
    this.countsOff = layout.size;
    this.countBase = this.countsOff;
    at += 4 * (layout.size + slots * FIELDS);
    this.ring = new Uint16Array(buffer, at, slots * layout.size);
  }

  /** Records one request at time `now`. */
  record(now: number, durationMs: number, failure: boolean, rateLimited: boolean): void {
    this.input[0] = now;
    this.input[1] = durationMs;
    this.recordStaged(failure, rateLimited);
  }

  /**
   * Records one request whose time and duration are in `input[0]` and
   * `input[1]`. The hot path: no allocation. The numbers travel through a
   * typed array because a double passed to a call V8 does not inline is
   * boxed (an allocation per request), and whether it inlines depends on the
   * caller's code, not ours.
   */
  recordStaged(failure: boolean, rateLimited: boolean): void {
    const now = this.input[0]!;
    const durationMs = this.input[1]!;
    // A clock that went back keeps writing to the head slot.
    if (now >= this.headEnd) this.roll(Math.floor(now / this.slotMs));
    const layout = this.layout;
    layout.stage[0] = durationMs;
    const b = layout.indexOfStaged();
    if (b === 0 || b === layout.last) this.countClamp(durationMs);
    const ring = this.ring;
    const cell = this.headBase + b;
    const v = (ring[cell]! + 1) & 0xffff;
    ring[cell] = v;
    if (v === 0) this.addCarry(cell);
    const counts = this.u32;
    const cb = this.countBase;
    counts[cb]!++;
    if (failure) counts[cb + FAILURES]!++;
    if (rateLimited) counts[cb + RATE_LIMITED]!++;
    const cells = this.cells;
    cells[this.sumOff]! += durationMs;
    const m = this.maxCell;
    if (durationMs > cells[m]!) cells[m] = durationMs;
    // Prometheus buckets are derived from the log buckets when scraped; only a
    // log bucket that a bound splits needs the value compared, here.
    if (this.promStraddles[b] !== 0) this.countSplit(b);
  }

  /**
   * Records the request staged in `input` whose bucket `b` a route series
   * has just computed: the overall series' share of a record. It keeps no
   * Prometheus buckets (the routes export those), so their counts stay 0.
   */
  recordIndexed(b: number, failure: boolean, rateLimited: boolean): void {
    const now = this.input[0]!;
    const durationMs = this.input[1]!;
    if (now >= this.headEnd) this.roll(Math.floor(now / this.slotMs));
    if (b === 0 || b === this.layout.last) this.countClamp(durationMs);
    const ring = this.ring;
    const cell = this.headBase + b;
    const v = (ring[cell]! + 1) & 0xffff;
    ring[cell] = v;
    if (v === 0) this.addCarry(cell);
    const counts = this.u32;
    const cb = this.countBase;
    counts[cb]!++;
    if (failure) counts[cb + FAILURES]!++;
    if (rateLimited) counts[cb + RATE_LIMITED]!++;
    const cells = this.cells;
    cells[this.sumOff]! += durationMs;
    const m = this.maxCell;
    if (durationMs > cells[m]!) cells[m] = durationMs;
  }

  /** Counts the staged value of split log bucket `b` in its exact Prometheus bucket. */
  private countSplit(b: number): void {
    const durationMs = this.input[1]!;
    let p = this.promIndex[b]!;
    while (durationMs > this.promBoundsMs[p]!) p++;
    this.cells[this.promSplitOff + p]!++;
  }

  /** Brings the window up to `now`, expiring old slots. */
  advance(now: number): void {
    if (now >= this.headEnd) this.roll(Math.floor(now / this.slotMs));
  }

  /** Window total of a counter field (`REQUESTS`, `FAILURES`, `RATE_LIMITED`). Call {@link advance} first. */
  total(field: number): number {
    return this.cells[this.closedOff + field]! + this.u32[this.countBase + field]!;
  }

  /** Totals since the series was created, for Prometheus counters. */
  get cumulative(): CumulativeTotals {
    const all = (f: number): number => this.cells[this.expiredOff + f]! + this.total(f);
    return { requests: all(REQUESTS), failures: all(FAILURES), rateLimited: all(RATE_LIMITED), sumMs: this.cells[this.sumOff]! };
  }

  /**
   * Requests since the series was created per Prometheus bucket: `into[i]`
   * counts values between bound i-1 (exclusive) and bound i (inclusive), not
   * yet summed across `le`. Exact: log buckets that a bound splits were
   * counted per value when recorded.
   */
  promCounts(into: Float64Array): Float64Array {
    const cells = this.cells;
    for (let p = 0; p < this.promSize; p++) into[p] = cells[this.promExpiredOff + p]! + cells[this.promSplitOff + p]!;
    this.foldWindow(into, 1);
    return into;
  }

  /** Adds `sign ×` the window's counts of unsplit log buckets into Prometheus buckets `into`. */
  private foldWindow(into: Float64Array, sign: number): void {
    const index = this.promIndex;
    const split = this.promStraddles;
    const closed = this.u32;
    const ring = this.ring;
    const base = this.headBase;
    const size = this.layout.size;
    for (let b = 0; b < size; b++) {
      const c = closed[b]! + ring[base + b]!;
      if (c !== 0 && split[b] === 0) into[index[b]!]! += sign * c;
    }
    if (this.carry !== undefined && this.carry.size > 0) {
      for (const [cell, wraps] of this.carry) {
        const b = cell - base;
        if (b >= 0 && b < size && split[b] === 0) into[index[b]!]! += sign * wraps * U16_WRAP;
      }
    }
  }

  /** Largest value in the window, or 0 when empty. Call {@link advance} first. */
  max(): number {
    let m = 0;
    const cells = this.cells;
    for (let i = this.maxOff; i < this.maxOff + this.slots; i++) if (cells[i]! > m) m = cells[i]!;
    return m;
  }

  /** Adds this window's bucket counts into `into` (for merged series such as the overall one). Call {@link advance} first. */
  addCountsTo(into: Float64Array): void {
    const closed = this.u32;
    const ring = this.ring;
    const base = this.headBase;
    const size = this.layout.size;
    for (let b = 0; b < size; b++) into[b]! += closed[b]! + ring[base + b]!;
    if (this.carry !== undefined && this.carry.size > 0) {
      for (const [cell, wraps] of this.carry) {
        if (cell >= base && cell < base + size) into[cell - base]! += wraps * U16_WRAP;
      }
    }
  }

  /** Quantiles (ascending `qs`) over the window. Call {@link advance} first. */
  quantiles(qs: readonly number[]): (number | null)[] {
    if (this.carry === undefined || this.carry.size === 0) {
      return quantilesFromSum(this.layout, this.u32, this.ring, this.headBase, this.total(REQUESTS), qs, this.max());
    }
    // A 16-bit cell has wrapped (65,536 equal values in one slot): merge with the carries.
    const scratch = this.scratch;
    scratch.fill(0);
    this.addCountsTo(scratch);
    return quantilesFromCounts(this.layout, scratch, this.total(REQUESTS), qs, this.max());
  }

  /** p50/p90/p95/p99/max over the window ending at `now`. */
  summary(now: number): LatencySummary {
    this.advance(now);
    const [p50, p90, p95, p99] = this.quantiles([0.5, 0.9, 0.95, 0.99]);
    const n = this.total(REQUESTS);
    return { p50: p50 ?? null, p90: p90 ?? null, p95: p95 ?? null, p99: p99 ?? null, max: n > 0 ? this.max() : null };
  }

  /**
   * Adds one slot of counts (`LatencyWindow.slotRows` rows, summed over every
   * route of every process for that slot) into this window: how a fleet
   * merge fills its overall series. Rows must come in ascending slot order
   * and not before the head (an older row is refused, returning false), and
   * must satisfy `slotRowFits`; a refused row changes nothing.
   */
  addSlotRow(row: WindowSlotRow): boolean {
    if (row.slot < this.head || !slotRowFits(row, this.layout.size)) return false;
    const had = row.slot === this.head ? this.u32[this.countBase]! : 0;
    if (had + row.requests > U32_MAX) return false;
    this.roll(row.slot);
    const ring = this.ring;
    const buckets = row.buckets;
    for (let i = 0; i < buckets.length; i += 2) {
      const cell = this.headBase + buckets[i]!;
      const sum = ring[cell]! + buckets[i + 1]!;
      ring[cell] = sum % U16_WRAP;
      const wraps = Math.floor(sum / U16_WRAP);
      if (wraps > 0) {
        this.carry ??= new Map();
        this.carry.set(cell, (this.carry.get(cell) ?? 0) + wraps);
      }
    }
    const counts = this.u32;
    counts[this.countBase + REQUESTS]! += row.requests;
    counts[this.countBase + FAILURES]! += row.failures;
    counts[this.countBase + RATE_LIMITED]! += row.rateLimited;
    if (row.maxMs > this.cells[this.maxCell]!) this.cells[this.maxCell] = row.maxMs;
    return true;
  }

  /** Bytes held by this series' buffer (the store's scratch and the layout's tables excluded). */
  get bytes(): number {
    return this.cells.buffer.byteLength;
  }

  /** Out of line: rare, and it keeps `record` small enough for V8 to inline whole. */
  private countClamp(durationMs: number): void {
    if (this.layout.clamps(durationMs)) this.clamped++;
  }

  private addCarry(cell: number): void {
    this.carry ??= new Map();
    this.carry.set(cell, (this.carry.get(cell) ?? 0) + 1);
  }

  private roll(abs: number): void {
    if (abs <= this.head) return; // the clock went back: keep writing to the head
    const steps = abs - this.head;
    const cells = this.cells;
    if (this.head < 0 || steps >= this.slots) {
      // Everything in the window expires at once; keep what cumulative totals need.
      for (let f = 0; f < FIELDS; f++) cells[this.expiredOff + f]! += this.total(f);
      if (this.head >= 0) this.foldWindow(cells.subarray(this.promExpiredOff, this.promExpiredOff + this.promSize), 1);
      this.ring.fill(0);
      this.u32.fill(0);
      cells.fill(0, this.maxOff, this.maxOff + this.slots);
      cells.fill(0, this.closedOff, this.closedOff + FIELDS);
      this.carry?.clear();
    } else {
      // The old head becomes a closed slot; the slots the head moves onto leave the window.
      this.closeHead();
      for (let k = 1; k <= steps; k++) this.expire((this.headIndex + k) % this.slots);
    }
    this.head = abs;
    this.headIndex = abs % this.slots;
    this.headBase = this.headIndex * this.layout.size;
    this.countBase = this.countsOff + this.headIndex * FIELDS;
    this.maxCell = this.maxOff + this.headIndex;
    this.headEnd = (abs + 1) * this.slotMs;
  }

  private closeHead(): void {
    const size = this.layout.size;
    const base = this.headBase;
    const ring = this.ring;
    const agg = this.u32;
    for (let b = 0; b < size; b++) agg[b]! += ring[base + b]!;
    if (this.carry !== undefined && this.carry.size > 0) {
      for (const [cell, wraps] of this.carry) {
        if (cell >= base && cell < base + size) agg[cell - base]! += wraps * U16_WRAP;
      }
    }
    for (let f = 0; f < FIELDS; f++) this.cells[this.closedOff + f]! += this.u32[this.countBase + f]!;
  }

  private expire(idx: number): void {
    const size = this.layout.size;
    const base = idx * size;
    const ring = this.ring;
    const agg = this.u32;
    const cells = this.cells;
    const promExpired = this.promExpiredOff;
    const index = this.promIndex;
    const split = this.promStraddles;
    for (let b = 0; b < size; b++) {
      const c = ring[base + b]!;
      if (c !== 0) {
        agg[b]! -= c;
        ring[base + b] = 0;
        if (split[b] === 0) cells[promExpired + index[b]!]! += c;
      }
    }
    if (this.carry !== undefined && this.carry.size > 0) {
      for (const [cell, wraps] of this.carry) {
        if (cell >= base && cell < base + size) {
          const b = cell - base;
          agg[b]! -= wraps * U16_WRAP;
          if (split[b] === 0) cells[promExpired + index[b]!]! += wraps * U16_WRAP;
          this.carry.delete(cell);
        }
      }
    }
    const counts = this.u32;
    const cbase = this.countsOff + idx * FIELDS;
    for (let f = 0; f < FIELDS; f++) {
      const c = counts[cbase + f]!;
      cells[this.closedOff + f]! -= c;
      cells[this.expiredOff + f]! += c;
      counts[cbase + f] = 0;
    }
    cells[this.maxOff + idx] = 0;
  }
}

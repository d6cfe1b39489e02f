import type { BucketLayout, PromBucketMap } from './log-buckets.js';
import { quantilesFromRange } from './log-buckets.js';

/** Counter fields kept per slot. */
export const REQUESTS = 0;
export const FAILURES = 1;
export const RATE_LIMITED = 2;
/** Number of counter fields per slot. */
export const FIELDS = 3;

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

/**
 * Records the head slot keeps as a log of bucket numbers before it switches
 * to a dense array of counts: past this many, the dense array (4 bytes per
 * bucket) is about the size of the log.
 */
export const HEAD_LOG_MAX = 512;

/** How a closed slot's bucket counts are stored in the data buffer. */
const ENC_BYTES = 0; // one byte per record: bucket − base, 255 escapes to a 16-bit offset in the next two bytes
const ENC_LOG16 = 1; // one 16-bit bucket per record
const ENC_DENSE16 = 2; // 16-bit counts of buckets base … base + len − 1
const ENC_DENSE32 = 3; // 32-bit counts (two 16-bit halves, low first) of buckets base … base + len − 1
const ESCAPE = 255;

const EMPTY_U8 = new Uint8Array(0);
const EMPTY_U16 = new Uint16Array(0);
const EMPTY_U32 = new Uint32Array(0);
const EMPTY_F64 = new Float64Array(0);

/**
 * One slot of a window as a fleet snapshot carries it: the absolute slot
 * number, the counter fields, the largest value and the non-zero log-bucket
 * counts as flat `[bucket, count, bucket, count, …]` pairs, buckets ascending.
 */
export interface WindowSlotRow {
  slot: number;
  requests: number;
  failures: number;
  rateLimited: number;
  maxMs: number;
  buckets: number[];
}

/** Largest count a slot's 32-bit counter fields (and dense head counts) hold. */
export const U32_MAX = 0xffff_ffff;

/**
 * Whether `row` is a slot a window of `size` buckets could have recorded:
 * whole non-negative counts, buckets inside the layout, bucket counts adding
 * up to `requests` (every record counts in one bucket), failures and 429s
 * among the requests. What `addSlotRow` checks before it changes anything.
 */
export function slotRowFits(row: WindowSlotRow, size: number): boolean {
  const { requests, failures, rateLimited, buckets } = row;
  if (!Number.isSafeInteger(row.slot) || row.slot < 0) return false;
  if (!Number.isSafeInteger(requests) || !Number.isSafeInteger(failures) || !Number.isSafeInteger(rateLimited)) return false;
  if (requests > U32_MAX || failures < 0 || failures > requests || rateLimited < 0 || rateLimited > requests) return false;
  if (buckets.length % 2 !== 0) return false;
  let sum = 0;
  for (let i = 0; i < buckets.length; i += 2) {
    const b = buckets[i]!;
    const c = buckets[i + 1]!;
    if (!Number.isInteger(b) || b < 0 || b >= size || !Number.isSafeInteger(c) || c < 0) return false;
    sum += c;
  }
  return sum === requests;
}

/**
 * One request series (a route, an arm, or `__other__`): a rolling window of
 * latency histograms and outcome counters, plus cumulative twins for
 * Prometheus. Its memory follows its traffic.
 *
 * - The window's bucket counts are kept once, as running totals over a range
 *   of buckets (`agg`, the buckets seen so far; it grows, allocating, only when
 *   a value lands outside it), so a read is one pass over that range.
 * - Each slot keeps only what expiring it needs. The head slot logs the
 *   bucket of each record (2 bytes; past {@link HEAD_LOG_MAX} records it
 *   switches to a dense array of counts). When it closes it is re-encoded in
 *   the smallest of four forms: a byte per record relative to its lowest
 *   bucket, 2 bytes per record, or 16- or 32-bit counts over its bucket
 *   range. The closed slots lie oldest first in one buffer, compacted as the
 *   oldest leaves.
 * - A window that empties gives back everything but its cumulative totals:
 *   an idle series costs under 1 KiB.
 *
 * The worst case is a slot of more than 512 records spread over every
 * bucket: 2 bytes per bucket per slot (4 with more than 65,535 records in one
 * bucket of one slot), plus the head's dense array: at the default layout and
 * window, 62 KiB (121 KiB) per series, docs/limits.md.
 *
 * Recording writes the head's log (or dense array), the range totals and
 * the head's counters: no allocation unless a buffer has to grow, which stops
 * once traffic is steady (buffers are sized at each slot roll).
 */
export class LatencyWindow {
  readonly layout: BucketLayout;
  readonly slotMs: number;
  readonly slots: number;
  /** Where the recording path stages `[time, durationMs]` for {@link LatencyWindow.recordStaged}; shared by a store's series. */
  readonly input: Float64Array;
  /** Window count of bucket `aggLo + i` (head included). */
  private agg: Uint32Array = EMPTY_U32;
  private aggLo = 0;
  /** Per-slot max (ms), `slots` entries; empty while the window is. */
  private slotMax: Float64Array = EMPTY_F64;
  /**
   * Per slot: FIELDS counters (`slots × FIELDS`), then the byte offset of its
   * data (`slots`), then its encoding `enc | base << 2 | len << 17` (`slots`).
   * One buffer with `slotMax`; empty while the window is.
   */
  private meta: Uint32Array = EMPTY_U32;
  private readonly offAt: number;
  private readonly infoAt: number;
  /** Closed slots' encoded counts, oldest first, then the head's log; two views of one buffer. */
  private data8: Uint8Array = EMPTY_U8;
  private data16: Uint16Array = EMPTY_U16;
  /** Byte offset of the oldest live closed slot's data. */
  private dataStart = 0;
  /** Where the head's log starts, and the next entry goes, in 16-bit units. */
  private headStart = 0;
  private headAt = 0;
  /** The head's counts once it passed {@link HEAD_LOG_MAX} records. */
  private headDense: Uint32Array | undefined;
  /** A zeroed dense array kept from the last busy slot, for the next. */
  private spareDense: Uint32Array | undefined;
  /** Records in the last closed head: how much log room the next one gets. */
  private lastHeadRecords = 0;
  /**
   * Prometheus bucket counts of expired slots and of split log buckets,
   * closed and expired counter totals, the cumulative sum.
   */
  private readonly cells: Float64Array;
  private readonly promExpiredOff = 0;
  private readonly promSplitOff: number;
  private readonly closedOff: number;
  private readonly expiredOff: number;
  private readonly sumOff: number;
  private readonly promSize: number;
  /** Absolute slot number (time / slotMs) of the head, -1 before the first record. */
  private head = -1;
  private headIndex = 0;
  private countBase = 0;
  /** Clock time at which the head slot ends: the only time check on the hot path (-Infinity when memory was given back). */
  private headEnd = -Infinity;
  /** Values recorded outside the layout's range (clamped, still counted). */
  clamped = 0;
  private readonly promIndex: Uint8Array;
  private readonly promStraddles: Uint8Array;
  private readonly promBoundsMs: Float64Array;

  constructor(layout: BucketLayout, slotMs: number, slots: number, prom: PromBucketMap, input: Float64Array = new Float64Array(2)) {
    this.layout = layout;
    this.slotMs = slotMs;
    this.slots = slots;
    this.input = input;
    this.promIndex = prom.index;
    this.promStraddles = prom.straddles;
    this.promBoundsMs = prom.boundsMs;
    this.promSize = prom.boundsMs.length;
    this.promSplitOff = this.promExpiredOff + this.promSize;
    this.closedOff = this.promSplitOff + this.promSize;
    this.expiredOff = this.closedOff + FIELDS;
    this.sumOff = this.expiredOff + FIELDS;
    this.cells = new Float64Array(this.sumOff + 1);
    this.offAt = slots * FIELDS;
    this.infoAt = this.offAt + slots;
  }

  /** Records one request at time `now`. */
  record(now: number, durationMs: number, failure: boolean, rateLimited: boolean): void {
    this.input[0] = now;
    this.input[1] = durationMs;
    this.recordStaged(failure, rateLimited);
  }

  /**
   * Records one request whose time and duration are in `input[0]` and
   * `input[1]`. The hot path: no allocation in the steady state. The numbers
   * travel through a typed array because a double passed to a call V8 does
   * not inline is boxed (an allocation per request). Returns the value's
   * bucket, so that the overall series need not compute it again.
   */
  recordStaged(failure: boolean, rateLimited: boolean): number {
    const now = this.input[0]!;
    const durationMs = this.input[1]!;
    // A clock that went back keeps writing to the head slot.
    if (now >= this.headEnd) this.roll(Math.floor(now / this.slotMs), true);
    const layout = this.layout;
    layout.stage[0] = durationMs;
    const b = layout.indexOfStaged();
    if (b === 0 || b === layout.last) this.countClamp(durationMs);
    if (((b - this.aggLo) >>> 0) >= this.agg.length) this.widen(b);
    this.agg[b - this.aggLo]!++;
    const dense = this.headDense;
    if (dense !== undefined) dense[b]!++;
    else {
      const at = this.headAt;
      if (at < this.data16.length && at - this.headStart < HEAD_LOG_MAX) {
        this.data16[at] = b;
        this.headAt = at + 1;
      } else this.logSlow(b);
    }
    const meta = this.meta;
    const cb = this.countBase;
    meta[cb]!++;
    if (failure) meta[cb + FAILURES]!++;
    if (rateLimited) meta[cb + RATE_LIMITED]!++;
    const cells = this.cells;
    cells[this.sumOff]! += durationMs;
    const max = this.slotMax;
    if (durationMs > max[this.headIndex]!) max[this.headIndex] = durationMs;
    // Prometheus buckets are derived from the log buckets when scraped; only a
    // log bucket that a bound splits needs the value compared, here.
    if (this.promStraddles[b] !== 0) this.countSplit(b);
    return b;
  }

  /** Counts the staged value of split log bucket `b` in its exact Prometheus bucket. */
  private countSplit(b: number): void {
    const durationMs = this.input[1]!;
    let p = this.promIndex[b]!;
    while (durationMs > this.promBoundsMs[p]!) p++;
    this.cells[this.promSplitOff + p]!++;
  }

  /** Brings the window up to `now`, expiring old slots (and giving back memory once empty). */
  advance(now: number): void {
    if (now >= this.headEnd) this.roll(Math.floor(now / this.slotMs), false);
  }

  /** Window total of a counter field (`REQUESTS`, `FAILURES`, `RATE_LIMITED`). Call {@link advance} first. */
  total(field: number): number {
    return this.cells[this.closedOff + field]! + (this.meta[this.countBase + field] ?? 0);
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
    const agg = this.agg;
    const lo = this.aggLo;
    for (let i = 0; i < agg.length; i++) {
      const c = agg[i]!;
      if (c !== 0 && split[lo + i] === 0) into[index[lo + i]!]! += sign * c;
    }
  }

  /** Largest value in the window, or 0 when empty. Call {@link advance} first. */
  max(): number {
    let m = 0;
    const max = this.slotMax;
    for (let i = 0; i < max.length; i++) if (max[i]! > m) m = max[i]!;
    return m;
  }

  /** Adds this window's bucket counts into `into` (indexed by bucket). Call {@link advance} first. */
  addCountsTo(into: Float64Array): void {
    const agg = this.agg;
    const lo = this.aggLo;
    for (let i = 0; i < agg.length; i++) into[lo + i]! += agg[i]!;
  }

  /** Quantiles (ascending `qs`) over the window. Call {@link advance} first. */
  quantiles(qs: readonly number[]): (number | null)[] {
    return quantilesFromRange(this.layout, this.agg, this.aggLo, this.total(REQUESTS), qs, this.max());
  }

  /**
   * One quantile over the window, or -1 when it is empty: what ranking
   * thousands of routes needs, without an array per route. Call {@link advance} first.
   */
  quantile(q: number): number {
    const n = this.total(REQUESTS);
    if (n <= 0) return -1;
    const layout = this.layout;
    const max = this.max();
    const agg = this.agg;
    const lo = this.aggLo;
    const allowed = n - Math.max(1, Math.ceil(q * n));
    let b = layout.index(max);
    let above = 0;
    // As quantilesFromRange, for one quantile.
    while (b > 0) {
      const i = b - lo;
      if (i < 0) {
        b = 0;
        break;
      }
      const c = i < agg.length ? agg[i]! : 0;
      if (above + c > allowed) break;
      above += c;
      b--;
    }
    return Math.min(layout.value(b), max);
  }

  /** p50/p90/p95/p99/max over the window ending at `now`. */
  summary(now: number): LatencySummary {
    this.advance(now);
    const [p50, p90, p95, p99] = this.quantiles([0.5, 0.9, 0.95, 0.99]);
    const n = this.total(REQUESTS);
    return { p50: p50 ?? null, p90: p90 ?? null, p95: p95 ?? null, p99: p99 ?? null, max: n > 0 ? this.max() : null };
  }

  /**
   * The slots of the window ending at `now` that counted something, oldest
   * first: what a fleet snapshot publishes (src/fleet/snapshot.ts). Each
   * row carries the absolute slot number (time / slotMs), so snapshots of
   * several processes line up slot by slot and merge exactly.
   */
  slotRows(now: number): WindowSlotRow[] {
    this.advance(now);
    const rows: WindowSlotRow[] = [];
    const meta = this.meta;
    // An empty window has given its slot table back.
    if (this.head < 0 || meta.length === 0) return rows;
    for (let k = this.head - this.slots + 1; k <= this.head; k++) {
      if (k < 0) continue;
      const idx = k % this.slots;
      const cb = idx * FIELDS;
      const requests = meta[cb + REQUESTS]!;
      if (requests === 0) continue;
      rows.push({
        slot: k,
        requests,
        failures: meta[cb + FAILURES]!,
        rateLimited: meta[cb + RATE_LIMITED]!,
        maxMs: this.slotMax[idx]!,
        buckets: k === this.head ? this.headPairs() : this.closedPairs(idx),
      });
    }
    return rows;
  }

  /**
   * Adds one {@link LatencyWindow.slotRows} row (counts of any number of
   * processes for that slot) into this window. Rows must come in ascending
   * slot order and not before the head (a row older than the head is
   * refused, returning false): the fleet builds a fresh window per read.
   * A row no process could have recorded is refused too, changing nothing
   * ({@link slotRowFits}), as is one that would take the slot past
   * 4,294,967,295 requests.
   */
  addSlotRow(row: WindowSlotRow): boolean {
    if (row.slot < this.head) return false;
    if (!slotRowFits(row, this.layout.size)) return false;
    const buckets = row.buckets;
    const { requests, failures, rateLimited } = row;
    const had = row.slot === this.head && this.meta.length > 0 ? this.meta[this.countBase]! : 0;
    if (had + requests > U32_MAX) return false;
    // As a record at that slot would: the head moves (or its arrays come back).
    this.roll(row.slot, true);
    for (let i = 0; i < buckets.length; i += 2) {
      const b = buckets[i]!;
      const c = buckets[i + 1]!;
      if (c === 0) continue;
      if (((b - this.aggLo) >>> 0) >= this.agg.length) this.widen(b);
      this.agg[b - this.aggLo]! += c;
      if (this.headDense === undefined && this.headAt - this.headStart + c <= HEAD_LOG_MAX) {
        // Small counts stay a log, so the slot closes in the same compact form as if recorded.
        this.reserve(2 * this.headAt, 2 * c, false);
        this.data16.fill(b, this.headAt, this.headAt + c);
        this.headAt += c;
      } else {
        const dense = this.headDense ?? this.headToDense();
        dense[b]! += c;
      }
    }
    const meta = this.meta;
    const cb = this.countBase;
    meta[cb + REQUESTS]! += requests;
    meta[cb + FAILURES]! += failures;
    meta[cb + RATE_LIMITED]! += rateLimited;
    if (row.maxMs > this.slotMax[this.headIndex]!) this.slotMax[this.headIndex] = row.maxMs;
    return true;
  }

  /** The head slot's bucket counts as ascending `[bucket, count, …]` pairs. */
  private headPairs(): number[] {
    const pairs: number[] = [];
    const dense = this.headDense;
    if (dense !== undefined) {
      for (let b = 0; b < dense.length; b++) if (dense[b]! !== 0) pairs.push(b, dense[b]!);
      return pairs;
    }
    const tally = this.layout.tally;
    let lo = this.layout.size;
    let hi = -1;
    const d16 = this.data16;
    for (let i = this.headStart; i < this.headAt; i++) {
      const b = d16[i]!;
      tally[b]!++;
      if (b < lo) lo = b;
      if (b > hi) hi = b;
    }
    return this.drainTally(lo, hi, pairs);
  }

  /** Closed slot `idx`'s bucket counts, decoded, as ascending `[bucket, count, …]` pairs. */
  private closedPairs(idx: number): number[] {
    const pairs: number[] = [];
    const meta = this.meta;
    const off = meta[this.offAt + idx]!;
    const info = meta[this.infoAt + idx]!;
    const enc = info & 3;
    const base = (info >>> 2) & 0x7fff;
    const len = info >>> 17;
    const d8 = this.data8;
    const d16 = this.data16;
    if (enc === ENC_DENSE16 || enc === ENC_DENSE32) {
      const at = off >> 1;
      for (let i = 0; i < len; i++) {
        const c = enc === ENC_DENSE16 ? d16[at + i]! : d16[at + 2 * i]! + d16[at + 2 * i + 1]! * 0x10000;
        if (c !== 0) pairs.push(base + i, c);
      }
      return pairs;
    }
    // A log: tally it (the layout's scratch, left zeroed), then read the range back in order.
    const tally = this.layout.tally;
    let lo = this.layout.size;
    let hi = -1;
    const count = (b: number): void => {
      tally[b]!++;
      if (b < lo) lo = b;
      if (b > hi) hi = b;
    };
    if (enc === ENC_BYTES) {
      for (let at = off; at < off + len; ) {
        let v = d8[at++]!;
        if (v === ESCAPE) {
          v = d8[at]! | (d8[at + 1]! << 8);
          at += 2;
        }
        count(base + v);
      }
    } else {
      const at = off >> 1;
      for (let i = 0; i < len; i++) count(d16[at + i]!);
    }
    return this.drainTally(lo, hi, pairs);
  }

  /** Appends the layout tally's non-zero counts of buckets `lo … hi` to `pairs`, zeroing them. */
  private drainTally(lo: number, hi: number, pairs: number[]): number[] {
    const tally = this.layout.tally;
    for (let b = lo; b <= hi; b++) {
      const c = tally[b]!;
      if (c !== 0) pairs.push(b, c);
    }
    if (hi >= lo) tally.fill(0, lo, hi + 1);
    return pairs;
  }

  /** Bytes held by this series' typed arrays (the layout's shared tables excluded). */
  get bytes(): number {
    return (
      this.cells.byteLength +
      this.agg.byteLength +
      (this.meta.length > 0 ? this.meta.buffer.byteLength : 0) +
      this.data8.byteLength +
      (this.headDense?.byteLength ?? 0) +
      (this.spareDense?.byteLength ?? 0)
    );
  }

  /** Out of line: rare, and it keeps `record` small enough for V8 to inline whole. */
  private countClamp(durationMs: number): void {
    if (this.layout.clamps(durationMs)) this.clamped++;
  }

  /** Extends the range of window counts to hold bucket `b` (with a little room, so a tail does not reallocate per new bucket). */
  private widen(b: number): void {
    const old = this.agg;
    const size = this.layout.size;
    let lo: number;
    let hi: number;
    if (old.length === 0) {
      lo = Math.max(0, b - 4);
      hi = Math.min(size, b + 5);
    } else {
      lo = Math.max(0, Math.min(this.aggLo, b - 8));
      hi = Math.min(size, Math.max(this.aggLo + old.length, b + 9));
    }
    const next = new Uint32Array(hi - lo);
    if (old.length > 0) next.set(old, this.aggLo - lo);
    this.agg = next;
    this.aggLo = lo;
  }

  /** Appends `b` to the head's log when it is full: grow it, or switch the head to dense counts. */
  private logSlow(b: number): void {
    const n = this.headAt - this.headStart;
    if (n >= HEAD_LOG_MAX) {
      this.headToDense()[b]!++;
      return;
    }
    this.reserve(2 * this.headAt, 2 * Math.max(n, 32), false);
    this.data16[this.headAt] = b;
    this.headAt++;
  }

  /** Switches the head from its log to dense counts (the log's entries counted in). */
  private headToDense(): Uint32Array {
    const dense = this.spareDense ?? new Uint32Array(this.layout.size);
    this.spareDense = undefined;
    const d16 = this.data16;
    for (let i = this.headStart; i < this.headAt; i++) dense[d16[i]!]!++;
    this.headDense = dense;
    this.headAt = this.headStart;
    return dense;
  }

  /**
   * Makes the data buffer hold `used` bytes plus `room` more, copying what
   * is there; shrinks it when it is more than twice what is asked.
   */
  private reserve(used: number, room: number, shrink: boolean): void {
    const want = (used + room + 7) & ~7;
    const cap = this.data8.length;
    if (cap >= want && (!shrink || cap <= 2 * want + 256)) return;
    const next = new Uint8Array(want);
    next.set(this.data8.subarray(0, Math.min(used, cap)));
    this.data8 = next;
    this.data16 = new Uint16Array(next.buffer, 0, want >> 1);
  }

  private allocMeta(): void {
    const slots = this.slots;
    const buffer = new ArrayBuffer(8 * slots + 4 * (slots * FIELDS + 2 * slots));
    this.slotMax = new Float64Array(buffer, 0, slots);
    this.meta = new Uint32Array(buffer, 8 * slots, slots * FIELDS + 2 * slots);
  }

  /** Gives back every buffer the window holds: it is empty. */
  private release(keepMeta: boolean): void {
    this.agg = EMPTY_U32;
    this.aggLo = 0;
    this.data8 = EMPTY_U8;
    this.data16 = EMPTY_U16;
    this.dataStart = 0;
    this.headStart = 0;
    this.headAt = 0;
    this.headDense = undefined;
    this.spareDense = undefined;
    if (keepMeta) {
      this.meta.fill(0);
      this.slotMax.fill(0);
    } else {
      this.meta = EMPTY_U32;
      this.slotMax = EMPTY_F64;
      // The next record must come through roll() to get its arrays back.
      this.headEnd = -Infinity;
    }
  }

  private roll(abs: number, forRecord: boolean): void {
    if (abs <= this.head) {
      // The clock went back, or memory was given back within the head's slot.
      if (forRecord && this.meta.length === 0) {
        this.allocMeta();
        this.headEnd = (this.head + 1) * this.slotMs;
      }
      return;
    }
    const steps = abs - this.head;
    const cells = this.cells;
    let end = 0;
    if (this.head < 0 || steps >= this.slots || this.meta.length === 0) {
      // Everything in the window expires at once; keep what cumulative totals need.
      if (this.head >= 0) {
        for (let f = 0; f < FIELDS; f++) cells[this.expiredOff + f]! += this.total(f);
        this.foldWindow(cells.subarray(this.promExpiredOff, this.promExpiredOff + this.promSize), 1);
      }
      cells.fill(0, this.closedOff, this.closedOff + FIELDS);
      this.release(false);
      this.lastHeadRecords = 0;
    } else {
      // The old head becomes a closed slot; the slots the head moves onto leave the window.
      this.closeHead();
      for (let k = 1; k <= steps; k++) this.expire((this.headIndex + k) % this.slots);
      if (cells[this.closedOff + REQUESTS] === 0) this.release(forRecord);
      else end = this.compact();
    }
    this.head = abs;
    this.headIndex = abs % this.slots;
    this.countBase = this.headIndex * FIELDS;
    this.headStart = end >> 1;
    this.headAt = this.headStart;
    this.headEnd = (abs + 1) * this.slotMs;
    if (forRecord && this.meta.length === 0) this.allocMeta();
    else if (!forRecord && this.meta.length === 0) this.headEnd = -Infinity;
  }

  /** Bytes a closed slot's data takes, rounded to an even number. */
  private slotBytes(info: number): number {
    const enc = info & 3;
    const len = info >>> 17;
    const bytes = enc === ENC_BYTES ? len : enc === ENC_DENSE32 ? 4 * len : 2 * len;
    return (bytes + 1) & ~1;
  }

  /**
   * Moves the closed slots' data to the start of the buffer (dropping what
   * expired) and sizes the buffer for the window plus the next head's log.
   * Returns where the closed slots' data ends, in bytes.
   */
  private compact(): number {
    const meta = this.meta;
    const start = this.dataStart;
    let end = start;
    for (let i = 0; i < this.slots; i++) {
      if (meta[i * FIELDS] === 0) continue;
      const e = meta[this.offAt + i]! + this.slotBytes(meta[this.infoAt + i]!);
      if (e > end) end = e;
    }
    if (start > 0) {
      this.data8.copyWithin(0, start, end);
      for (let i = 0; i < this.slots; i++) if (meta[i * FIELDS] !== 0) meta[this.offAt + i]! -= start;
      this.dataStart = 0;
    }
    const used = end - start;
    this.reserve(used, 2 * Math.min(HEAD_LOG_MAX, Math.ceil(this.lastHeadRecords * 1.25) + 8), true);
    return used;
  }

  /** Re-encodes the head's counts, in the smallest form, as a closed slot. */
  private closeHead(): void {
    const idx = this.headIndex;
    const meta = this.meta;
    const n = meta[this.countBase]!;
    for (let f = 0; f < FIELDS; f++) this.cells[this.closedOff + f]! += meta[this.countBase + f]!;
    this.lastHeadRecords = n;
    if (n === 0) {
      meta[this.infoAt + idx] = 0;
      meta[this.offAt + idx] = 2 * this.headStart;
      return;
    }
    const tally = this.layout.tally;
    let lo = this.layout.size;
    let hi = -1;
    let most = 0;
    const dense = this.headDense;
    if (dense !== undefined) {
      for (let b = 0; b < dense.length; b++) {
        const c = dense[b]!;
        if (c === 0) continue;
        tally[b] = c;
        dense[b] = 0;
        if (b < lo) lo = b;
        hi = b;
        if (c > most) most = c;
      }
      this.headDense = undefined;
      this.spareDense = dense;
    } else {
      const d16 = this.data16;
      for (let i = this.headStart; i < this.headAt; i++) {
        const b = d16[i]!;
        const c = ++tally[b]!;
        if (b < lo) lo = b;
        if (b > hi) hi = b;
        if (c > most) most = c;
      }
      if (this.spareDense !== undefined && n <= HEAD_LOG_MAX >> 2) this.spareDense = undefined; // traffic dropped: give it back
    }
    const range = hi - lo + 1;
    // Sizes of the candidate forms (logs only while the head was a log).
    let bytesLog8 = Infinity;
    let bytesLog16 = Infinity;
    if (dense === undefined) {
      bytesLog16 = 2 * n;
      bytesLog8 = 0;
      for (let b = lo; b <= hi; b++) bytesLog8 += tally[b]! * (b - lo < ESCAPE ? 1 : 3);
    }
    const bytesDense16 = most <= 0xffff ? 2 * range : Infinity;
    const bytesDense32 = 4 * range;
    let enc = ENC_DENSE32;
    let bytes = bytesDense32;
    let len = range;
    if (bytesDense16 <= bytes) ((enc = ENC_DENSE16), (bytes = bytesDense16));
    if (bytesLog16 <= bytes) ((enc = ENC_LOG16), (bytes = bytesLog16), (len = n));
    if (bytesLog8 <= bytes) ((enc = ENC_BYTES), (bytes = bytesLog8), (len = bytesLog8));
    const off = 2 * this.headStart;
    this.reserve(off, bytes + 2, false);
    const d8 = this.data8;
    const d16 = this.data16;
    if (enc === ENC_BYTES) {
      let at = off;
      for (let b = lo; b <= hi; b++) {
        const c = tally[b]!;
        const v = b - lo;
        for (let k = 0; k < c; k++) {
          if (v < ESCAPE) d8[at++] = v;
          else {
            d8[at++] = ESCAPE;
            d8[at++] = v & 0xff;
            d8[at++] = v >>> 8;
          }
        }
      }
    } else if (enc === ENC_LOG16) {
      let at = off >> 1;
      for (let b = lo; b <= hi; b++) for (let k = tally[b]!; k > 0; k--) d16[at++] = b;
    } else if (enc === ENC_DENSE16) {
      const at = off >> 1;
      for (let b = lo; b <= hi; b++) d16[at + b - lo] = tally[b]!;
    } else {
      const at = off >> 1;
      for (let b = lo; b <= hi; b++) {
        const c = tally[b]!;
        d16[at + 2 * (b - lo)] = c & 0xffff;
        d16[at + 2 * (b - lo) + 1] = c >>> 16;
      }
    }
    tally.fill(0, lo, hi + 1);
    meta[this.offAt + idx] = off;
    meta[this.infoAt + idx] = enc | (lo << 2) | (len << 17);
  }

  /** Takes slot `idx` out of the window: its counts leave the running totals. */
  private expire(idx: number): void {
    const meta = this.meta;
    const cells = this.cells;
    const cbase = idx * FIELDS;
    const n = meta[cbase]!;
    for (let f = 0; f < FIELDS; f++) {
      const c = meta[cbase + f]!;
      cells[this.closedOff + f]! -= c;
      cells[this.expiredOff + f]! += c;
      meta[cbase + f] = 0;
    }
    this.slotMax[idx] = 0;
    if (n === 0) return;
    const off = meta[this.offAt + idx]!;
    const info = meta[this.infoAt + idx]!;
    const enc = info & 3;
    const base = (info >>> 2) & 0x7fff;
    const len = info >>> 17;
    const d8 = this.data8;
    const d16 = this.data16;
    if (enc === ENC_BYTES) {
      for (let at = off; at < off + len; ) {
        let v = d8[at++]!;
        if (v === ESCAPE) {
          v = d8[at]! | (d8[at + 1]! << 8);
          at += 2;
        }
        this.leave(base + v, 1);
      }
    } else if (enc === ENC_LOG16) {
      const at = off >> 1;
      for (let i = 0; i < len; i++) this.leave(d16[at + i]!, 1);
    } else if (enc === ENC_DENSE16) {
      const at = off >> 1;
      for (let i = 0; i < len; i++) {
        const c = d16[at + i]!;
        if (c !== 0) this.leave(base + i, c);
      }
    } else {
      const at = off >> 1;
      for (let i = 0; i < len; i++) {
        const c = d16[at + 2 * i]! + d16[at + 2 * i + 1]! * 0x10000;
        if (c !== 0) this.leave(base + i, c);
      }
    }
    const end = off + this.slotBytes(info);
    // The oldest slot leaves first: the live data now starts after it.
    if (end > this.dataStart) this.dataStart = end;
    meta[this.infoAt + idx] = 0;
  }

  /** `c` records of bucket `b` leave the window (their Prometheus counts stay, as expired). */
  private leave(b: number, c: number): void {
    this.agg[b - this.aggLo]! -= c;
    if (this.promStraddles[b] === 0) this.cells[this.promExpiredOff + this.promIndex[b]!]! += c;
  }
}

/**
 * Log-scale bucket layout (DDSketch style): bucket i holds values in
 * (γ^(i-1), γ^i] and reports 2γ^i/(γ+1), so any quantile read from the
 * buckets is within `relativeError` of a value that was recorded.
 */
export interface BucketLayoutOptions {
  /** Smallest value kept distinct, in ms; smaller values are clamped to it. */
  minMs: number;
  /** Largest value kept distinct, in ms; larger values are clamped to it. */
  maxMs: number;
  /** Relative accuracy α of any quantile. */
  relativeError: number;
}

/** The default layout: 0.01 ms .. 1 h at 1 % relative error (986 buckets). */
export const DEFAULT_BUCKET_LAYOUT: BucketLayoutOptions = { minMs: 0.01, maxMs: 3_600_000, relativeError: 0.01 };

/** Index of the high 32-bit word of a float64 in a Uint32Array view (platform endianness). */
const HI_WORD = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1 ? 1 : 0;
/** Table entries whose cell holds a bucket boundary carry this flag. */
const STRADDLE = 0x8000;

/**
 * Precomputed bucket math, shared by every series of a monitor.
 *
 * Bucket i holds values in (u(i-1), u(i)] with u(i) = γ^(i+offset). Finding
 * it with `Math.ceil(Math.log(v) / log γ)` costs a software logarithm (about
 * 7 ns, more than the rest of a record), so {@link BucketLayout.index} reads
 * the float's exponent and top mantissa bits instead and looks the bucket up
 * in a table of cells, each narrower than a bucket. A cell that holds a bucket
 * boundary is flagged and settled with one comparison, so the result is the
 * exact bucket, not an approximation.
 */
export class BucketLayout {
  readonly minMs: number;
  readonly maxMs: number;
  readonly relativeError: number;
  /** Number of buckets, including the two clamp buckets at either end. */
  readonly size: number;
  /** Index of the last bucket. */
  readonly last: number;
  private readonly offset: number;
  private readonly gamma: number;
  /** Upper bound of each bucket; the last is +Infinity. */
  private readonly upper: Float64Array;
  /** Bucket (| STRADDLE) per cell: one row of 2^cellBits cells per binary exponent. */
  private readonly cells: Uint16Array;
  private readonly cellBits: number;
  private readonly cellMask: number;
  /** Biased binary exponent of the first row. */
  private readonly firstExponent: number;
  /** One float64, also read as two 32-bit words: where a value is staged for {@link BucketLayout.indexOfStaged}. */
  readonly stage = new Float64Array(1);
  private readonly u32 = new Uint32Array(this.stage.buffer);
  /**
   * Scratch counts per bucket, all zero between uses: where a sparse window
   * tallies a slot when it closes. Shared by every series of the layout, as
   * closing runs synchronously and leaves it zeroed.
   */
  readonly tally: Float64Array;

  constructor(opts: BucketLayoutOptions = DEFAULT_BUCKET_LAYOUT) {
    this.minMs = opts.minMs;
    this.maxMs = opts.maxMs;
    this.relativeError = opts.relativeError;
    const gamma = (1 + opts.relativeError) / (1 - opts.relativeError);
    this.gamma = gamma;
    const invLogGamma = 1 / Math.log(gamma);
    this.offset = Math.ceil(Math.log(opts.minMs) * invLogGamma);
    this.last = Math.ceil(Math.log(opts.maxMs) * invLogGamma) - this.offset;
    this.size = this.last + 1;
    this.tally = new Float64Array(this.size);
    if (this.size >= STRADDLE) throw new RangeError('histogram layout: too many buckets (raise relativeError or narrow the range)');
    this.upper = new Float64Array(this.size);
    for (let i = 0; i < this.last; i++) this.upper[i] = Math.pow(gamma, i + this.offset);
    this.upper[this.last] = Infinity;

    // Cells an eighth of a bucket wide or narrower: few straddle a boundary, none holds two.
    this.cellBits = Math.min(12, Math.max(6, Math.ceil(Math.log2(8 / (gamma - 1)))));
    this.cellMask = (1 << this.cellBits) - 1;
    this.firstExponent = this.exponentOf(opts.minMs);
    const rows = this.exponentOf(opts.maxMs) - this.firstExponent + 1;
    const perRow = 1 << this.cellBits;
    this.cells = new Uint16Array(rows * perRow);
    let b = 0;
    for (let r = 0; r < rows; r++) {
      const scale = Math.pow(2, this.firstExponent + r - 1023);
      for (let c = 0; c < perRow; c++) {
        const lo = scale * (1 + c / perRow);
        const hi = scale * (1 + (c + 1) / perRow);
        while (this.upper[b]! < lo) b++; // first bucket whose upper bound reaches the cell
        this.cells[r * perRow + c] = this.upper[b]! < hi ? b | STRADDLE : b;
      }
    }
  }

  /** Bucket of a non-negative finite value; out-of-range values land in the end buckets. */
  index(valueMs: number): number {
    this.stage[0] = valueMs;
    return this.indexOfStaged();
  }

  /**
   * Bucket of the value last written to `stage[0]`. The recording path passes
   * its value this way: a double argument to a call V8 does not inline gets
   * boxed (an allocation per record), a typed-array slot does not.
   */
  indexOfStaged(): number {
    const valueMs = this.stage[0]!;
    if (valueMs <= this.minMs) return 0;
    if (valueMs >= this.maxMs) return this.last;
    const hi = this.u32[HI_WORD]!;
    const cell = (((hi >>> 20) - this.firstExponent) << this.cellBits) | ((hi >>> (20 - this.cellBits)) & this.cellMask);
    const t = this.cells[cell]!;
    if (t < STRADDLE) return t;
    const b = t & ~STRADDLE;
    return valueMs > this.upper[b]! ? b + 1 : b;
  }

  /** True when `valueMs` lies outside [minMs, maxMs] and so is clamped. */
  clamps(valueMs: number): boolean {
    return valueMs < this.minMs || valueMs > this.maxMs;
  }

  /** The value a bucket reports: within `relativeError` of everything in it. */
  value(index: number): number {
    if (index <= 0) return this.minMs;
    return (2 * Math.pow(this.gamma, index + this.offset)) / (this.gamma + 1);
  }

  /** Upper bound of a bucket (inclusive). */
  upperBound(index: number): number {
    if (index >= this.last) return this.maxMs;
    return this.upper[index]!;
  }

  /** Biased IEEE-754 exponent of a positive finite number. */
  private exponentOf(v: number): number {
    this.stage[0] = v;
    return this.u32[HI_WORD]! >>> 20;
  }
}

/**
 * Reads several quantiles from bucket counts in one pass, using the
 * nearest-rank definition (the value at rank ⌈q·n⌉). `qs` must be ascending.
 * Returns `null` for each quantile when the counts are empty.
 */
export function quantilesFromCounts(
  layout: BucketLayout,
  counts: ArrayLike<number>,
  total: number,
  qs: readonly number[],
  maxSeen: number,
): (number | null)[] {
  const out: (number | null)[] = new Array<number | null>(qs.length).fill(null);
  if (total <= 0) return out;
  let qi = 0;
  let target = Math.max(1, Math.ceil(qs[0]! * total));
  let cum = 0;
  for (let b = 0; b < layout.size && qi < qs.length; b++) {
    cum += counts[b]!;
    while (qi < qs.length && cum >= target) {
      // Never report more than the largest value actually seen.
      out[qi] = Math.min(layout.value(b), maxSeen);
      qi++;
      if (qi < qs.length) target = Math.max(1, Math.ceil(qs[qi]! * total));
    }
  }
  return out;
}

/**
 * {@link quantilesFromCounts} over the element-wise sum of two count arrays,
 * `a[b] + h[hOffset + b]`, without materialising it: a window's closed slots
 * plus its head slot, read in one pass.
 *
 * It scans down from the bucket of `maxSeen` (nothing lies above it) rather
 * than up from zero: SLO quantiles sit in the tail, a few buckets below the
 * maximum, while the scan from zero would cross every empty bucket below the
 * fastest request first.
 */
export function quantilesFromSum(
  layout: BucketLayout,
  a: Uint32Array,
  h: Uint16Array,
  hOffset: number,
  total: number,
  qs: readonly number[],
  maxSeen: number,
): (number | null)[] {
  const out: (number | null)[] = new Array<number | null>(qs.length).fill(null);
  if (total <= 0) return out;
  // The nearest-rank bucket is the lowest b with (count at or below b) ≥ ⌈q·n⌉,
  // i.e. the lowest b whose count strictly above it is ≤ n − ⌈q·n⌉.
  let b = layout.index(maxSeen);
  let above = 0;
  for (let qi = qs.length - 1; qi >= 0; qi--) {
    const allowed = total - Math.max(1, Math.ceil(qs[qi]! * total));
    while (b > 0) {
      const c = a[b]! + h[hOffset + b]!;
      if (above + c > allowed) break;
      above += c;
      b--;
    }
    out[qi] = Math.min(layout.value(b), maxSeen);
  }
  return out;
}

/**
 * {@link quantilesFromCounts} over counts held for a range of buckets only:
 * `counts[i]` is bucket `lo + i`, every bucket outside the range is empty.
 * Scans down from the bucket of `maxSeen`, as {@link quantilesFromSum} does.
 */
export function quantilesFromRange(
  layout: BucketLayout,
  counts: Uint32Array,
  lo: number,
  total: number,
  qs: readonly number[],
  maxSeen: number,
): (number | null)[] {
  const out: (number | null)[] = new Array<number | null>(qs.length).fill(null);
  if (total <= 0) return out;
  const len = counts.length;
  let b = layout.index(maxSeen);
  let above = 0;
  for (let qi = qs.length - 1; qi >= 0; qi--) {
    const allowed = total - Math.max(1, Math.ceil(qs[qi]! * total));
    while (b > 0) {
      const i = b - lo;
      if (i < 0) {
        // Nothing is counted below the range: the rank lies in bucket 0's direction.
        b = 0;
        break;
      }
      const c = i < len ? counts[i]! : 0;
      if (above + c > allowed) break;
      above += c;
      b--;
    }
    out[qi] = Math.min(layout.value(b), maxSeen);
  }
  return out;
}

/**
 * Maps log buckets onto Prometheus `le` bounds. `index[b]` is the first bound
 * at or above bucket b's lower edge: every value of b falls in that
 * Prometheus bucket unless a bound lies inside b, which `straddles[b]` flags
 * (then the value itself is compared). `boundsMs` ends with +Infinity.
 */
export interface PromBucketMap {
  index: Uint8Array;
  straddles: Uint8Array;
  boundsMs: Float64Array;
}

/** Builds the {@link PromBucketMap} for ascending bounds given in seconds. */
export function promBucketMap(layout: BucketLayout, boundsSeconds: readonly number[]): PromBucketMap {
  const boundsMs = new Float64Array(boundsSeconds.length + 1);
  boundsSeconds.forEach((s, i) => (boundsMs[i] = s * 1000));
  boundsMs[boundsSeconds.length] = Infinity;
  const index = new Uint8Array(layout.size);
  const straddles = new Uint8Array(layout.size);
  let j = 0;
  for (let b = 0; b < layout.size; b++) {
    const lower = b === 0 ? 0 : layout.upperBound(b - 1);
    // The last bucket also takes every clamped value above maxMs.
    const upper = b === layout.last ? Infinity : layout.upperBound(b);
    while (boundsMs[j]! < lower) j++;
    index[b] = j;
    straddles[b] = upper > boundsMs[j]! ? 1 : 0;
  }
  return { index, straddles, boundsMs };
}

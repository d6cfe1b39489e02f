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

/** Precomputed bucket math, shared by every series of a monitor. */
export class BucketLayout {
  readonly minMs: number;
  readonly maxMs: number;
  readonly relativeError: number;
  /** Number of buckets, including the two clamp buckets at either end. */
  readonly size: number;
  /** Index of the last bucket. */
  readonly last: number;
  private readonly invLogGamma: number;
  private readonly offset: number;
  private readonly gamma: number;

  constructor(opts: BucketLayoutOptions = DEFAULT_BUCKET_LAYOUT) {
    this.minMs = opts.minMs;
    this.maxMs = opts.maxMs;
    this.relativeError = opts.relativeError;
    this.gamma = (1 + opts.relativeError) / (1 - opts.relativeError);
    this.invLogGamma = 1 / Math.log(this.gamma);
    this.offset = Math.ceil(Math.log(opts.minMs) * this.invLogGamma);
    this.last = Math.ceil(Math.log(opts.maxMs) * this.invLogGamma) - this.offset;
    this.size = this.last + 1;
  }

  /** Bucket of a non-negative finite value; out-of-range values land in the end buckets. */
  index(valueMs: number): number {
    if (valueMs <= this.minMs) return 0;
    const i = Math.ceil(Math.log(valueMs) * this.invLogGamma) - this.offset;
    return i > this.last ? this.last : i;
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
    return Math.pow(this.gamma, index + this.offset);
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
 * Maps log buckets onto Prometheus `le` bounds: `index[b]` is the first bound
 * at or above bucket b's lower edge; `boundsMs` ends with +Infinity.
 */
export interface PromBucketMap {
  index: Uint8Array;
  boundsMs: Float64Array;
}

/** Builds the {@link PromBucketMap} for ascending bounds given in seconds. */
export function promBucketMap(layout: BucketLayout, boundsSeconds: readonly number[]): PromBucketMap {
  const boundsMs = new Float64Array(boundsSeconds.length + 1);
  boundsSeconds.forEach((s, i) => (boundsMs[i] = s * 1000));
  boundsMs[boundsSeconds.length] = Infinity;
  const index = new Uint8Array(layout.size);
  let j = 0;
  for (let b = 0; b < layout.size; b++) {
    const lower = b === 0 ? 0 : layout.upperBound(b - 1);
    while (boundsMs[j]! < lower) j++;
    index[b] = j;
  }
  return { index, boundsMs };
}

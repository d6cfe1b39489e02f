/** Upper bounds (seconds) of the time-to-detect/acknowledge/resolve histograms: 10 s .. 1 day. */
export const RESPONSE_BUCKETS_SECONDS: readonly number[] = [10, 30, 60, 120, 300, 600, 900, 1_800, 3_600, 7_200, 14_400, 43_200, 86_400];

const RECENT = 256;

/**
 * A summary of one response-time measure, as `stats().incidents` reports it.
 *
 * @example
 * ```ts
 * monitor.stats().incidents.timeToResolve.p50Ms;
 * ```
 */
export interface DurationSummary {
  /** Measurements so far (since the process started). */
  count: number;
  /** Mean in ms, or null without measurements. */
  meanMs: number | null;
  /** Median / 90th percentile of the last 256 measurements, in ms. */
  p50Ms: number | null;
  p90Ms: number | null;
  maxMs: number | null;
  lastMs: number | null;
}

/**
 * Cumulative figures of one duration (time to detect, acknowledge or
 * resolve): histogram buckets for Prometheus, plus the last 256 values for
 * quantiles in stats. Fixed memory.
 */
export class DurationStats {
  readonly buckets = new Float64Array(RESPONSE_BUCKETS_SECONDS.length + 1);
  count = 0;
  sumMs = 0;
  private max = 0;
  private last: number | null = null;
  private readonly recent = new Float64Array(RECENT);
  private next = 0;

  /** Records one duration in ms (negative values, from a clock that went back, count as 0). */
  observe(ms: number): void {
    const v = Number.isFinite(ms) && ms > 0 ? ms : 0;
    let b = 0;
    while (b < RESPONSE_BUCKETS_SECONDS.length && v / 1000 > RESPONSE_BUCKETS_SECONDS[b]!) b++;
    this.buckets[b]!++;
    this.count++;
    this.sumMs += v;
    if (v > this.max) this.max = v;
    this.last = v;
    this.recent[this.next % RECENT] = v;
    this.next++;
  }

  summary(): DurationSummary {
    if (this.count === 0) return { count: 0, meanMs: null, p50Ms: null, p90Ms: null, maxMs: null, lastMs: null };
    const n = Math.min(this.next, RECENT);
    const sorted = Array.from(this.recent.subarray(0, n)).sort((a, b) => a - b);
    const q = (p: number) => sorted[Math.min(n - 1, Math.ceil(p * n) - 1)]!;
    return { count: this.count, meanMs: this.sumMs / this.count, p50Ms: q(0.5), p90Ms: q(0.9), maxMs: this.max, lastMs: this.last };
  }
}

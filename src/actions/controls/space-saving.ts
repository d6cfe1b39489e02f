/**
 * One heavy hitter: its estimated count and the most that estimate can overstate it by.
 *
 * @example
 * ```ts
 * for (const { key, count, error } of limiter.topOffenders(5)) console.log(key, count - error, '..', count);
 * ```
 */
export interface HeavyHitter {
  key: string;
  /** Estimated count (never below the true count). */
  count: number;
  /** Overestimation bound: the true count is in [count − error, count]. */
  error: number;
}

interface Counter {
  count: number;
  error: number;
}

/**
 * Space-Saving (Metwally, Agrawal, El Abbadi 2005): the top keys of a stream
 * in a fixed `capacity` of counters. A key that is not tracked replaces the
 * key with the smallest count and inherits that count as its error bound, so
 * any key whose true count exceeds total/capacity is guaranteed to be
 * tracked. Memory is O(capacity) whatever the number of distinct keys;
 * replacing scans the counters (O(capacity)), which is why the capacity is
 * kept small (tens).
 */
export class SpaceSaving {
  readonly capacity: number;
  private readonly counters = new Map<string, Counter>();

  constructor(capacity: number) {
    this.capacity = capacity;
  }

  /** Counts `n` occurrences of `key`. */
  offer(key: string, n = 1): void {
    const c = this.counters.get(key);
    if (c !== undefined) {
      c.count += n;
      return;
    }
    if (this.counters.size < this.capacity) {
      this.counters.set(key, { count: n, error: 0 });
      return;
    }
    let minKey: string | undefined;
    let min = Infinity;
    for (const [k, v] of this.counters) {
      if (v.count < min) {
        min = v.count;
        minKey = k;
      }
    }
    this.counters.delete(minKey!);
    this.counters.set(key, { count: min + n, error: min });
  }

  /** The `n` keys with the highest counts, highest first. */
  top(n = this.capacity): HeavyHitter[] {
    return [...this.counters]
      .map(([key, c]) => ({ key, count: c.count, error: c.error }))
      .sort((a, b) => b.count - a.count || (a.key < b.key ? -1 : 1))
      .slice(0, n);
  }

  /** Forgets every key. */
  clear(): void {
    this.counters.clear();
  }

  /** Keys tracked now (≤ capacity). */
  get size(): number {
    return this.counters.size;
  }
}

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

// A tracked key. Nodes are created up to `capacity` and then reused: a
// replacement rewrites the evicted node's key, so a full summary allocates
// no node, whatever the stream.
interface Node {
  key: string;
  error: number;
  bucket: Bucket;
  prev: Node | null;
  next: Node | null;
}

// All nodes with one count, in arrival order (head = longest at this count).
// Buckets form a list in ascending count order; `min` is its head.
interface Bucket {
  count: number;
  head: Node | null;
  tail: Node | null;
  prev: Bucket | null;
  next: Bucket | null;
}

/**
 * Space-Saving (Metwally, Agrawal, El Abbadi 2005): the top keys of a stream
 * in a fixed `capacity` of counters. A key that is not tracked replaces the
 * key with the smallest count and inherits that count as its error bound, so
 * any key whose true count exceeds total/capacity is guaranteed to be
 * tracked. Memory is O(capacity) whatever the number of distinct keys.
 *
 * Kept as the paper's stream-summary: counters grouped in buckets of equal
 * count, buckets in a list ordered by count. The smallest counter is the head
 * of the first bucket and a unit increment moves a counter to the next bucket
 * (or re-labels its own), so `offer(key)` is O(1) — a rejected request pays
 * the same whether the summary tracks 20 keys or 1,000. Emptied buckets go to
 * a free list (at most `capacity` buckets ever exist), so a full summary
 * allocates nothing but the key's map entry on a replacement.
 */
export class SpaceSaving {
  readonly capacity: number;
  private readonly nodes = new Map<string, Node>();
  private min: Bucket | null = null;
  private free: Bucket | null = null;
  private buckets = 0;

  constructor(capacity: number) {
    this.capacity = capacity;
  }

  /**
   * Counts `n` occurrences of `key` (a positive integer; 1 by default). O(1)
   * for n = 1; a larger `n` walks past the buckets it overtakes.
   */
  offer(key: string, n = 1): void {
    const node = this.nodes.get(key);
    if (node !== undefined) {
      this.bump(node, n);
      return;
    }
    if (this.nodes.size < this.capacity) {
      const b = this.min !== null && this.min.count === 0 ? this.min : this.insertBucket(null, 0);
      const fresh: Node = { key, error: 0, bucket: b, prev: null, next: null };
      this.append(b, fresh);
      this.nodes.set(key, fresh);
      this.bump(fresh, n);
      return;
    }
    // Full: the longest-standing of the smallest counters makes way.
    const victim = this.min!.head!;
    this.nodes.delete(victim.key);
    victim.key = key;
    victim.error = victim.bucket.count;
    this.nodes.set(key, victim);
    this.bump(victim, n);
  }

  /** The `n` keys with the highest counts, highest first (ties by key). */
  top(n = this.capacity): HeavyHitter[] {
    const out: HeavyHitter[] = [];
    for (const [key, node] of this.nodes) out.push({ key, count: node.bucket.count, error: node.error });
    return out.sort((a, b) => b.count - a.count || (a.key < b.key ? -1 : 1)).slice(0, n);
  }

  /** Forgets every key. */
  clear(): void {
    this.nodes.clear();
    this.min = null;
    this.free = null;
    this.buckets = 0;
  }

  /** Keys tracked now (≤ capacity). */
  get size(): number {
    return this.nodes.size;
  }

  /** Distinct counts held now (buckets in use, ≤ size): the structure's memory besides its keys. */
  get bucketCount(): number {
    return this.buckets;
  }

  // Moves `node` from its bucket to the one for count + n.
  private bump(node: Node, n: number): void {
    const from = node.bucket;
    const target = from.count + n;
    let before = from;
    while (before.next !== null && before.next.count <= target) before = before.next;
    if (before.count === target && before !== from) {
      this.unlink(from, node);
      this.append(before, node);
      return;
    }
    if (before === from && from.head === node && from.tail === node) {
      // Alone in its bucket and no bucket in the way: re-label the bucket, no move.
      from.count = target;
      return;
    }
    const b = this.insertBucket(before, target);
    this.unlink(from, node);
    this.append(b, node);
  }

  private append(b: Bucket, node: Node): void {
    node.bucket = b;
    node.next = null;
    node.prev = b.tail;
    if (b.tail === null) b.head = node;
    else b.tail.next = node;
    b.tail = node;
  }

  // Takes `node` out of `b`, and `b` out of the list when it empties.
  private unlink(b: Bucket, node: Node): void {
    if (node.prev === null) b.head = node.next;
    else node.prev.next = node.next;
    if (node.next === null) b.tail = node.prev;
    else node.next.prev = node.prev;
    node.prev = node.next = null;
    if (b.head !== null) return;
    if (b.prev === null) this.min = b.next;
    else b.prev.next = b.next;
    if (b.next !== null) b.next.prev = b.prev;
    b.prev = null;
    b.next = this.free;
    this.free = b;
    this.buckets--;
  }

  // A bucket for `count` right after `after` (at the head of the list when null).
  private insertBucket(after: Bucket | null, count: number): Bucket {
    let b = this.free;
    if (b !== null) {
      this.free = b.next;
      b.count = count;
      b.head = b.tail = null;
    } else b = { count, head: null, tail: null, prev: null, next: null };
    b.prev = after;
    b.next = after === null ? this.min : after.next;
    if (b.next !== null) b.next.prev = b;
    if (after === null) this.min = b;
    else after.next = b;
    this.buckets++;
    return b;
  }
}

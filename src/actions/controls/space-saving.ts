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

const NIL = -1;

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
 * the same whether the summary tracks 20 keys or 1,000. Everything lives in
 * typed arrays sized once from `capacity` (counters, buckets, and an
 * open-addressing index of twice that many slots): replacing a key allocates
 * nothing. The index is ours rather than a `Map` because a `Map` that deletes
 * and inserts a key on every replacement keeps rehashing its table, which
 * cost several times a lookup.
 */
export class SpaceSaving {
  readonly capacity: number;
  // Counters: key, hash, error bound, bucket, and neighbours within the bucket.
  private readonly keys: (string | undefined)[];
  private readonly hashes: Int32Array;
  private readonly errors: Float64Array;
  private readonly bucketOf: Int32Array;
  private readonly nprev: Int32Array;
  private readonly nnext: Int32Array;
  // Buckets: count, first/last counter, neighbours in count order (bnext doubles as the free list).
  private readonly counts: Float64Array;
  private readonly bhead: Int32Array;
  private readonly btail: Int32Array;
  private readonly bprev: Int32Array;
  private readonly bnext: Int32Array;
  // Index: key hash → counter, linear probing, at most half full.
  private readonly slots: Int32Array;
  private readonly mask: number;
  // Per instance, so a client cannot precompute keys that collide in every process.
  private readonly seed = (Math.random() * 0x100000000) >>> 0;
  private used = 0;
  private min = NIL;
  private free = NIL;
  private buckets = 0;

  constructor(capacity: number) {
    this.capacity = capacity;
    this.keys = new Array<string | undefined>(capacity).fill(undefined);
    this.hashes = new Int32Array(capacity);
    this.errors = new Float64Array(capacity);
    this.bucketOf = new Int32Array(capacity);
    this.nprev = new Int32Array(capacity);
    this.nnext = new Int32Array(capacity);
    // One bucket per counter, plus one: a move takes its new bucket before it frees the old one.
    this.counts = new Float64Array(capacity + 1);
    this.bhead = new Int32Array(capacity + 1);
    this.btail = new Int32Array(capacity + 1);
    this.bprev = new Int32Array(capacity + 1);
    this.bnext = new Int32Array(capacity + 1);
    let size = 4;
    while (size < capacity * 2) size *= 2;
    this.slots = new Int32Array(size).fill(NIL);
    this.mask = size - 1;
    this.resetBuckets();
  }

  /**
   * Counts `n` occurrences of `key` (a positive integer; 1 by default). O(1)
   * for n = 1; a larger `n` walks past the buckets it overtakes.
   */
  offer(key: string, n = 1): void {
    const h = this.hash(key);
    let node = this.find(key, h);
    if (node !== NIL) {
      this.bump(node, n);
      return;
    }
    if (this.used < this.capacity) {
      node = this.used++;
      let b = this.min;
      if (b === NIL || this.counts[b] !== 0) b = this.insertBucket(NIL, 0);
      this.errors[node] = 0;
      this.append(b, node);
    } else {
      // Full: the longest-standing of the smallest counters makes way.
      node = this.bhead[this.min]!;
      this.unindex(node);
      this.errors[node] = this.counts[this.bucketOf[node]!]!;
    }
    this.keys[node] = key;
    this.hashes[node] = h;
    this.index(node);
    this.bump(node, n);
  }

  /** The `n` keys with the highest counts, highest first (ties by key). */
  top(n = this.capacity): HeavyHitter[] {
    const out: HeavyHitter[] = [];
    for (let i = 0; i < this.used; i++) out.push({ key: this.keys[i]!, count: this.counts[this.bucketOf[i]!]!, error: this.errors[i]! });
    return out.sort((a, b) => b.count - a.count || (a.key < b.key ? -1 : 1)).slice(0, n);
  }

  /** Forgets every key. */
  clear(): void {
    this.keys.fill(undefined);
    this.slots.fill(NIL);
    this.used = 0;
    this.resetBuckets();
  }

  /** Keys tracked now (≤ capacity). */
  get size(): number {
    return this.used;
  }

  /** Distinct counts held now (buckets in use, ≤ size): the structure's memory besides its keys. */
  get bucketCount(): number {
    return this.buckets;
  }

  private resetBuckets(): void {
    this.min = NIL;
    this.buckets = 0;
    for (let b = 0; b < this.bnext.length; b++) this.bnext[b] = b + 1 < this.bnext.length ? b + 1 : NIL;
    this.free = 0;
  }

  // FNV-1a, seeded. Keys reaching here are at most MAX_KEY_LENGTH characters (the limiter hashes longer ones).
  private hash(key: string): number {
    let h = this.seed ^ 0x811c9dc5;
    for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 0x01000193);
    return (h ^ (h >>> 15)) | 0;
  }

  private find(key: string, h: number): number {
    const { slots, mask } = this;
    for (let i = h & mask; ; i = (i + 1) & mask) {
      const node = slots[i]!;
      if (node === NIL) return NIL;
      if (this.hashes[node] === h && this.keys[node] === key) return node;
    }
  }

  private index(node: number): void {
    const { slots, mask } = this;
    let i = this.hashes[node]! & mask;
    while (slots[i] !== NIL) i = (i + 1) & mask;
    slots[i] = node;
  }

  // Removes `node` from the index, shifting back the entries after it so every probe chain stays unbroken.
  private unindex(node: number): void {
    const { slots, mask } = this;
    let i = this.hashes[node]! & mask;
    while (slots[i] !== node) i = (i + 1) & mask;
    let j = i;
    for (;;) {
      j = (j + 1) & mask;
      const other = slots[j]!;
      if (other === NIL) break;
      const home = this.hashes[other]! & mask;
      // `other` may fill the hole at i unless its home lies cyclically in (i, j].
      const between = i <= j ? home > i && home <= j : home > i || home <= j;
      if (!between) {
        slots[i] = other;
        i = j;
      }
    }
    slots[i] = NIL;
  }

  // Moves `node` from its bucket to the one for count + n.
  private bump(node: number, n: number): void {
    const { counts, bnext } = this;
    const from = this.bucketOf[node]!;
    const target = counts[from]! + n;
    let before = from;
    while (bnext[before] !== NIL && counts[bnext[before]!]! <= target) before = bnext[before]!;
    if (before !== from && counts[before] === target) {
      this.unlink(from, node);
      this.append(before, node);
      return;
    }
    if (before === from && this.bhead[from] === node && this.btail[from] === node) {
      // Alone in its bucket and no bucket in the way: re-label the bucket, no move.
      counts[from] = target;
      return;
    }
    const b = this.insertBucket(before, target);
    this.unlink(from, node);
    this.append(b, node);
  }

  private append(b: number, node: number): void {
    const tail = this.btail[b]!;
    this.bucketOf[node] = b;
    this.nnext[node] = NIL;
    this.nprev[node] = tail;
    if (tail === NIL) this.bhead[b] = node;
    else this.nnext[tail] = node;
    this.btail[b] = node;
  }

  // Takes `node` out of `b`, and `b` out of the list when it empties.
  private unlink(b: number, node: number): void {
    const p = this.nprev[node]!;
    const nx = this.nnext[node]!;
    if (p === NIL) this.bhead[b] = nx;
    else this.nnext[p] = nx;
    if (nx === NIL) this.btail[b] = p;
    else this.nprev[nx] = p;
    if (this.bhead[b] !== NIL) return;
    const bp = this.bprev[b]!;
    const bn = this.bnext[b]!;
    if (bp === NIL) this.min = bn;
    else this.bnext[bp] = bn;
    if (bn !== NIL) this.bprev[bn] = bp;
    this.bnext[b] = this.free;
    this.free = b;
    this.buckets--;
  }

  // A bucket for `count` right after `after` (at the head of the list when NIL).
  private insertBucket(after: number, count: number): number {
    const b = this.free;
    this.free = this.bnext[b]!;
    this.counts[b] = count;
    this.bhead[b] = this.btail[b] = NIL;
    const next = after === NIL ? this.min : this.bnext[after]!;
    this.bprev[b] = after;
    this.bnext[b] = next;
    if (next !== NIL) this.bprev[next] = b;
    if (after === NIL) this.min = b;
    else this.bnext[after] = b;
    this.buckets++;
    return b;
  }
}

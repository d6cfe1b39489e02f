/**
 * A rolling window of counters: a ring of `slots` time slots of `slotMs`
 * each, with `fields` counters per slot. Slots expire lazily from the time
 * passed in; nothing runs in the background.
 *
 * Each cell holds the running total of its field up to the end of its slot,
 * not the slot's own count, so the sum over any window is one subtraction:
 * the head's running total minus the running total of the slot just before
 * the window (or `base`, the total that has left the ring). Reading a 6-hour
 * window of 1-minute slots costs the same as reading one slot, which is what
 * burn-rate alerting over 5 m … 1 d windows needs.
 */
export class CounterRing {
  readonly slotMs: number;
  readonly slots: number;
  readonly fields: number;
  /** Running totals at the end of each slot (the head's is still growing). */
  private readonly cells: Float64Array;
  /** Running total of each field that has left the ring. */
  private readonly base: Float64Array;
  /** Absolute slot number (time / slotMs) of the newest slot. */
  private head = -1;
  private headIndex = 0;
  /** Offset of the head slot in `cells`. */
  private headBase = 0;
  /** Clock time at which the head slot ends: the one time check when adding. */
  private headEnd = -Infinity;

  constructor(slotMs: number, slots: number, fields: number) {
    this.slotMs = slotMs;
    this.slots = slots;
    this.fields = fields;
    this.cells = new Float64Array(slots * fields);
    this.base = new Float64Array(fields);
  }

  /** Length of the whole window in ms. */
  get windowMs(): number {
    return this.slotMs * this.slots;
  }

  /** Adds `n` to `field` at time `now`. */
  add(now: number, field: number, n = 1): void {
    if (now >= this.headEnd) this.roll(Math.floor(now / this.slotMs));
    this.cells[this.headBase + field]! += n;
  }

  /** Adds 1 to `field` at time `time[0]`: the time never crosses a call as a boxed number. */
  addStaged(time: Float64Array, field: number): void {
    const now = time[0]!;
    if (now >= this.headEnd) this.roll(Math.floor(now / this.slotMs));
    this.cells[this.headBase + field]!++;
  }

  /** Sum of `field` over the whole window ending at `now`. */
  total(now: number, field: number): number {
    this.roll(Math.floor(now / this.slotMs));
    return this.cells[this.headBase + field]! - this.base[field]!;
  }

  /**
   * Sum of `field` over the last `windowMs` ending at `now` (rounded up to
   * whole slots, the current partial slot included; capped at the ring).
   */
  sum(now: number, field: number, windowMs: number): number {
    this.roll(Math.floor(now / this.slotMs));
    return this.windowSum(field, windowMs);
  }

  /** {@link CounterRing.sum} for several windows at once. */
  sums(now: number, field: number, windowsMs: readonly number[]): number[] {
    this.roll(Math.floor(now / this.slotMs));
    return windowsMs.map((w) => this.windowSum(field, w));
  }

  /**
   * Sums of `field` over exactly the last `windowsMs` ending at `now`, each
   * capped at what the ring holds.
   *
   * A window of W ms is `[now − W, now]`: the head slot up to `now`, every
   * whole slot after the one holding `now − W`, and of that oldest slot the
   * share that lies inside the window, `((k₀ + 1)·slotMs − (now − W)) / slotMs`,
   * assuming its events were spread evenly over it. So a 5-minute window
   * always covers 5 minutes (neither the 4–5 of whole slots back to the
   * head's start nor the 5–6 of whole slots plus the head), and a burn stops
   * counting exactly W after it ended. The ring must hold
   * `⌈W / slotMs⌉ + 1` slots for the oldest slot to be known.
   */
  exactSums(now: number, field: number, windowsMs: readonly number[]): number[] {
    this.roll(Math.floor(now / this.slotMs));
    return windowsMs.map((w) => this.exactSum(now, field, w));
  }

  private exactSum(now: number, field: number, windowMs: number): number {
    const from = now - windowMs;
    const k0 = Math.floor(from / this.slotMs);
    const upTo = this.cells[this.headBase + field]!;
    if (this.head < 0 || k0 >= this.head) {
      // The whole window lies in the head slot: its share of the head's count.
      const headCount = upTo - this.cumAt(this.head - 1, field);
      const headStart = this.head * this.slotMs;
      const span = Math.max(now - headStart, 1);
      return k0 >= this.head && from > headStart ? (headCount * (now - from)) / span : headCount;
    }
    const endK0 = this.cumAt(k0, field);
    const countK0 = endK0 - this.cumAt(k0 - 1, field);
    const inside = ((k0 + 1) * this.slotMs - from) / this.slotMs;
    return upTo - endK0 + countK0 * inside;
  }

  /** Running total at the end of absolute slot `k`; before the ring, what left it. */
  private cumAt(k: number, field: number): number {
    if (k < this.head - this.slots + 1) return this.base[field]!;
    const i = ((k % this.slots) + this.slots) % this.slots;
    return this.cells[i * this.fields + field]!;
  }

  private windowSum(field: number, windowMs: number): number {
    const n = Math.min(this.slots, Math.max(1, Math.ceil(windowMs / this.slotMs)));
    const upTo = this.cells[this.headBase + field]!;
    if (n === this.slots) return upTo - this.base[field]!;
    const before = (this.headIndex - n + this.slots) % this.slots; // the slot just before the window
    return upTo - this.cells[before * this.fields + field]!;
  }

  /** Moves the head to absolute slot `abs`, expiring what fell out. */
  private roll(abs: number): void {
    if (abs <= this.head) return; // same slot, or the clock went back: keep writing to the head
    const cells = this.cells;
    const fields = this.fields;
    const from = this.headBase;
    const steps = abs - this.head;
    // Stryker disable next-line EqualityOperator: at steps === slots the loop below gives the same result (every slot leaves); this branch is the fast path, tested in counter-ring.mutants.test.ts
    if (this.head < 0 || steps >= this.slots) {
      // Everything leaves the ring: what was counted so far becomes the base.
      for (let f = 0; f < fields; f++) {
        const upTo = cells[from + f]!;
        this.base[f] = upTo;
        // Stryker disable next-line EqualityOperator: `<=` only adds a write past the end of a typed array, which is ignored
        for (let i = f; i < cells.length; i += fields) cells[i] = upTo;
      }
      this.moveHead(abs);
      return;
    }
    // Each slot the head moves onto is the oldest leaving the window: its total
    // becomes the base, and it starts from the head's total (nothing added since).
    for (let k = 1; k <= steps; k++) {
      const at = ((this.headIndex + k) % this.slots) * fields;
      for (let f = 0; f < fields; f++) {
        this.base[f] = cells[at + f]!;
        cells[at + f] = cells[from + f]!;
      }
    }
    this.moveHead(abs);
  }

  private moveHead(abs: number): void {
    this.head = abs;
    this.headIndex = abs % this.slots;
    this.headBase = this.headIndex * this.fields;
    this.headEnd = (abs + 1) * this.slotMs;
  }

  /**
   * The slots the ring holds at `now` that counted something, oldest first,
   * each as `[absolute slot number (time / slotMs), count of field 0, …]`:
   * what a state file needs to put the counts back in the same slots.
   */
  slotCounts(now: number): number[][] {
    this.roll(Math.floor(now / this.slotMs));
    const rows: number[][] = [];
    if (this.head < 0) return rows;
    for (let k = this.head - this.slots + 1; k <= this.head; k++) {
      let any = false;
      const row = [k];
      for (let f = 0; f < this.fields; f++) {
        const n = this.cumAt(k, f) - this.cumAt(k - 1, f);
        if (n !== 0) any = true;
        row.push(n);
      }
      if (any) rows.push(row);
    }
    return rows;
  }

  /**
   * Puts {@link CounterRing.slotCounts} rows back into a ring that has
   * counted nothing yet, read or not (returns false otherwise, changing nothing). Rows
   * outside the ring at `now` (older than it, or after `now`'s slot) and rows
   * of another width are skipped.
   */
  restoreSlots(rows: readonly (readonly number[])[], now: number): boolean {
    if (this.head >= 0) {
      // A read moves the head without counting anything: such a ring is still empty and may be restored.
      if (this.cells.some((c) => c !== 0) || this.base.some((c) => c !== 0)) return false;
      this.head = -1;
      this.headIndex = 0;
      this.headBase = 0;
      this.headEnd = -Infinity;
    }
    const nowSlot = Math.floor(now / this.slotMs);
    const kept = rows
      .filter((r) => r.length === this.fields + 1 && r[0]! > nowSlot - this.slots && r[0]! <= nowSlot)
      .sort((a, b) => a[0]! - b[0]!);
    for (const r of kept) for (let f = 0; f < this.fields; f++) if (r[f + 1]! !== 0) this.add(r[0]! * this.slotMs, f, r[f + 1]!);
    return true;
  }

  /** Bytes held by this ring's arrays. */
  get bytes(): number {
    return this.cells.byteLength + this.base.byteLength;
  }
}

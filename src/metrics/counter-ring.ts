/**
 * A rolling window of counters: a ring of `slots` time slots of `slotMs`
 * each, with `fields` counters per slot and running totals over the whole
 * ring, so reading the full window is O(1) and a shorter window is O(slots).
 * Slots expire lazily from the time passed in; nothing runs in the background.
 */
export class CounterRing {
  readonly slotMs: number;
  readonly slots: number;
  readonly fields: number;
  private readonly cells: Float64Array;
  private readonly totals: Float64Array;
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
    this.totals = new Float64Array(fields);
  }

  /** Length of the whole window in ms. */
  get windowMs(): number {
    return this.slotMs * this.slots;
  }

  /** Adds `n` to `field` at time `now`. */
  add(now: number, field: number, n = 1): void {
    if (now >= this.headEnd) this.roll(Math.floor(now / this.slotMs));
    this.cells[this.headBase + field]! += n;
    this.totals[field]! += n;
  }

  /** Sum of `field` over the whole window ending at `now`. */
  total(now: number, field: number): number {
    this.roll(Math.floor(now / this.slotMs));
    return this.totals[field]!;
  }

  /**
   * Sum of `field` over the last `windowMs` ending at `now` (rounded up to
   * whole slots, the current partial slot included; capped at the ring).
   */
  sum(now: number, field: number, windowMs: number): number {
    this.roll(Math.floor(now / this.slotMs));
    const n = Math.min(this.slots, Math.max(1, Math.ceil(windowMs / this.slotMs)));
    if (n === this.slots) return this.totals[field]!;
    let s = 0;
    let idx = this.headIndex;
    for (let k = 0; k < n; k++) {
      s += this.cells[idx * this.fields + field]!;
      idx = idx === 0 ? this.slots - 1 : idx - 1;
    }
    return s;
  }

  /**
   * {@link CounterRing.sum} for several windows at once (`windowsMs`
   * ascending), in one backward pass over the slots.
   */
  sums(now: number, field: number, windowsMs: readonly number[]): number[] {
    this.roll(Math.floor(now / this.slotMs));
    const out = new Array<number>(windowsMs.length);
    let s = 0;
    let taken = 0;
    let idx = this.headIndex;
    for (let w = 0; w < windowsMs.length; w++) {
      const n = Math.min(this.slots, Math.max(1, Math.ceil(windowsMs[w]! / this.slotMs)));
      if (n === this.slots) {
        out[w] = this.totals[field]!;
        continue;
      }
      for (; taken < n; taken++) {
        s += this.cells[idx * this.fields + field]!;
        idx = idx === 0 ? this.slots - 1 : idx - 1;
      }
      out[w] = s;
    }
    return out;
  }

  /** Moves the head to absolute slot `abs`, expiring what fell out. */
  private roll(abs: number): void {
    if (abs <= this.head) return; // same slot, or the clock went back: keep writing to the head
    const steps = abs - this.head;
    if (this.head < 0 || steps >= this.slots) {
      this.cells.fill(0);
      this.totals.fill(0);
      this.moveHead(abs);
      return;
    }
    for (let k = 1; k <= steps; k++) {
      const idx = (this.headIndex + k) % this.slots;
      const base = idx * this.fields;
      for (let f = 0; f < this.fields; f++) {
        this.totals[f]! -= this.cells[base + f]!;
        this.cells[base + f] = 0;
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

  /** Bytes held by this ring's arrays. */
  get bytes(): number {
    return this.cells.byteLength + this.totals.byteLength;
  }
}

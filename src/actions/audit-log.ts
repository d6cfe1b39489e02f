import type { AuditEntry, AuditFilter } from './types.js';

/**
 * A bounded, append-only audit log. Holds the last `capacity` entries in a
 * ring; when full, the oldest entry is overwritten and counted in `dropped`,
 * so a long-running service keeps constant memory and an operator can see
 * that history was truncated.
 */
export class AuditLog {
  readonly capacity: number;
  /** Entries overwritten because the log was full. */
  dropped = 0;
  private readonly ring: (AuditEntry | undefined)[];
  private next = 0;
  private size = 0;
  private seq = 0;

  constructor(capacity: number) {
    this.capacity = capacity;
    this.ring = new Array<AuditEntry | undefined>(capacity);
  }

  /** Appends an entry (its `seq` is assigned here). */
  append(entry: Omit<AuditEntry, 'seq'>): AuditEntry {
    const full: AuditEntry = { seq: ++this.seq, ...entry };
    if (this.size === this.capacity) this.dropped++;
    else this.size++;
    this.ring[this.next] = full;
    this.next = (this.next + 1) % this.capacity;
    return full;
  }

  /** Total entries ever appended. */
  get total(): number {
    return this.seq;
  }

  /** Entries matching `filter`, oldest first (`limit` keeps the newest). */
  query(filter: AuditFilter = {}): AuditEntry[] {
    const out: AuditEntry[] = [];
    const start = (this.next - this.size + this.capacity) % this.capacity;
    for (let k = 0; k < this.size; k++) {
      const e = this.ring[(start + k) % this.capacity]!;
      if (filter.action !== undefined && e.action !== filter.action) continue;
      if (filter.incidentId !== undefined && e.incidentId !== filter.incidentId) continue;
      if (filter.by !== undefined && e.by !== filter.by) continue;
      if (filter.kind !== undefined && e.kind !== filter.kind) continue;
      if (filter.outcome !== undefined && e.outcome !== filter.outcome) continue;
      if (filter.since !== undefined && e.at < filter.since) continue;
      out.push(e);
    }
    return filter.limit !== undefined && out.length > filter.limit ? out.slice(out.length - filter.limit) : out;
  }
}

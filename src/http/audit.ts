import type { Monitor } from '../monitor.js';
import { callSafely } from '../safe-call.js';
import type { AdminAuditEntry } from './options.js';

/**
 * Filter of {@link AdminAuditLog.list}.
 *
 * @example
 * ```ts
 * adminAuditLog(monitor).list({ caller: 'alice', since: Date.parse('2026-01-01'), limit: 50 });
 * ```
 */
export interface AdminAuditFilter {
  caller?: string;
  /** Only entries at or after this clock time (epoch ms). */
  since?: number;
  /** Newest entries only, at most this many. */
  limit?: number;
}

/**
 * The bounded log of admin HTTP calls: who called what, with which validated
 * body, and what came back. A ring of `capacity` entries; when full the
 * oldest entry is dropped and counted in `dropped`.
 *
 * @example
 * ```ts
 * adminAuditLog(monitor).list({ caller: 'alice', limit: 20 });
 * ```
 */
export class AdminAuditLog {
  private readonly ring: (AdminAuditEntry | undefined)[];
  private next = 0;
  private seq = 0;
  /** Entries pushed out because the log was full. */
  dropped = 0;
  /** `onAudit` listeners that threw, or whose returned promise rejected (contained). */
  listenerErrors = 0;
  private readonly listeners = new Set<(entry: AdminAuditEntry) => unknown>();
  private readonly countListenerError = (): void => {
    this.listenerErrors++;
  };

  constructor(readonly capacity: number) {
    this.ring = new Array<AdminAuditEntry | undefined>(capacity);
  }

  /** Appends an entry (its `seq` is assigned here) and notifies listeners. */
  record(entry: Omit<AdminAuditEntry, 'seq'>): AdminAuditEntry {
    const full: AdminAuditEntry = { seq: ++this.seq, ...entry };
    if (this.ring[this.next] !== undefined) this.dropped++;
    this.ring[this.next] = full;
    this.next = (this.next + 1) % this.capacity;
    // An async onAudit that fails (the log shipper is down) must not become an unhandled rejection.
    for (const fn of this.listeners) callSafely(this.countListenerError, fn, full);
    return full;
  }

  /**
   * Calls `fn` with every new entry; returns a function that stops it. A
   * throw or a rejected promise from `fn` is counted in `listenerErrors`.
   */
  subscribe(fn: (entry: AdminAuditEntry) => unknown): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  /** Entries, oldest first, filtered. */
  list(filter: AdminAuditFilter = {}): AdminAuditEntry[] {
    const out: AdminAuditEntry[] = [];
    for (let i = 0; i < this.capacity; i++) {
      const e = this.ring[(this.next + i) % this.capacity];
      if (e === undefined) continue;
      if (filter.caller !== undefined && e.caller !== filter.caller) continue;
      if (filter.since !== undefined && e.at < filter.since) continue;
      out.push(e);
    }
    return filter.limit !== undefined && out.length > filter.limit ? out.slice(out.length - filter.limit) : out;
  }

  /** Entries currently held. */
  get size(): number {
    return Math.min(this.seq, this.capacity);
  }
}

const logs = new WeakMap<Monitor, AdminAuditLog>();

/**
 * The admin audit log of a monitor, shared by every router, plugin and
 * handler mounted for it. The first mount's `auditLimit` sets its capacity.
 *
 * @example
 * ```ts
 * import { adminAuditLog } from 'firebreak/http';
 * for (const e of adminAuditLog(monitor).list()) console.log(e.caller, e.method, e.route, e.status);
 * ```
 */
export function adminAuditLog(monitor: Monitor, capacity = 1_000): AdminAuditLog {
  let log = logs.get(monitor);
  if (log === undefined) logs.set(monitor, (log = new AdminAuditLog(capacity)));
  return log;
}

import type { Incident, IncidentStatus, Severity } from './types.js';

/**
 * Which incidents `list()` returns. `active` means every state but `resolved`.
 *
 * @example
 * ```ts
 * monitor.incidents.list({ status: 'active', severity: 'critical', type: 'high-latency' });
 * ```
 */
export interface IncidentFilter {
  status?: IncidentStatus | 'active';
  severity?: Severity;
  type?: string;
}

/**
 * The in-memory incident store: every unresolved incident, plus the last
 * `maxResolved` resolved ones (the oldest resolution is evicted first and
 * counted in {@link IncidentStore.evicted}). Unresolved incidents are bounded
 * by the manager (`incidents.maxActive`).
 */
export class IncidentStore {
  private readonly active = new Map<string, Incident>();
  /** Insertion order is resolution order, so the first entry is the one to evict. */
  private readonly resolved = new Map<string, Incident>();
  private readonly maxResolved: number;
  /** Resolved incidents dropped because `maxResolved` was reached. */
  evicted = 0;

  constructor(maxResolved: number) {
    this.maxResolved = maxResolved;
  }

  /** Number of unresolved incidents. */
  get activeCount(): number {
    return this.active.size;
  }

  /** Number of resolved incidents held. */
  get resolvedCount(): number {
    return this.resolved.size;
  }

  get(id: string): Incident | undefined {
    return this.active.get(id) ?? this.resolved.get(id);
  }

  /** Stores `incident` under its id, filing it by status (after a change of status, call again). */
  put(incident: Incident): void {
    if (incident.status === 'resolved') {
      this.active.delete(incident.id);
      this.resolved.delete(incident.id); // re-insert at the end: most recently resolved
      this.resolved.set(incident.id, incident);
      while (this.resolved.size > this.maxResolved) {
        const oldest = this.resolved.keys().next().value as string;
        this.resolved.delete(oldest);
        this.evicted++;
      }
    } else {
      this.resolved.delete(incident.id);
      this.active.set(incident.id, incident);
    }
  }

  /** Forgets the incident with `id` (replaced by the fleet's incident for the same cause). */
  remove(id: string): void {
    this.active.delete(id);
    this.resolved.delete(id);
  }

  /** Unresolved incidents. */
  activeIncidents(): IterableIterator<Incident> {
    return this.active.values();
  }

  /** Every incident held, unresolved first, in insertion order. */
  all(): Incident[] {
    return [...this.active.values(), ...this.resolved.values()];
  }

  /** The unresolved incident for (type, scope), if any. */
  findActive(type: string, scope: string): Incident | undefined {
    for (const i of this.active.values()) if (i.type === type && i.scope === scope) return i;
    return undefined;
  }

  /** The most recently resolved incident for (type, scope) resolved at or after `since`. */
  recentlyResolved(type: string, scope: string, since: number): Incident | undefined {
    const list = [...this.resolved.values()];
    for (let i = list.length - 1; i >= 0; i--) {
      const inc = list[i]!;
      if ((inc.resolvedAt ?? 0) < since) break; // resolution order: older ones follow
      if (inc.type === type && inc.scope === scope) return inc;
    }
    return undefined;
  }

  /** Incidents matching `filter`, newest (by id) first. */
  list(filter: IncidentFilter = {}): Incident[] {
    const out: Incident[] = [];
    const source = filter.status === undefined ? this.all() : filter.status === 'resolved' ? [...this.resolved.values()] : [...this.active.values()];
    for (const i of source) {
      if (filter.status !== undefined && filter.status !== 'active' && i.status !== filter.status) continue;
      if (filter.severity !== undefined && i.severity !== filter.severity) continue;
      if (filter.type !== undefined && i.type !== filter.type) continue;
      out.push(i);
    }
    return out.sort((a, b) => (a.id < b.id ? 1 : a.id > b.id ? -1 : 0));
  }
}

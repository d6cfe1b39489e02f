import type { Clock } from '../clock.js';
import { LimitError, NotFoundError, ValidationError } from '../errors.js';
import type { IncidentOptions } from './config.js';
import { DurationStats, type DurationSummary } from './duration-stats.js';
import { IdGenerator } from './ids.js';
import { mergeRunbook, type RunbookMeta, type RunbookMetaInput } from '../runbook.js';
import {
  actionItemInputSchema,
  filterInputSchema,
  noteInputSchema,
  openInputSchema,
  parseInput,
  recordInputSchema,
  resolveInputSchema,
  stepInputSchema,
  type ActionItemInput,
  type NoteInput,
  type OpenIncidentInput,
  type RecordInput,
  type ResolveInput,
  type StepInput,
} from './inputs.js';
import { isActive, nextStatus } from './lifecycle.js';
import { renderPostmortem } from './postmortem.js';
import { IncidentStore, type IncidentFilter } from './store.js';
import {
  SEVERITY_POLICY,
  compareSeverity,
  type ActionItem,
  type Incident,
  type Severity,
  type SignalReading,
  type Suppression,
  type TimelineEntry,
  type TimelineKind,
} from './types.js';

/**
 * What changed on an incident; every change is one log line and one or two events.
 *
 * @example
 * ```ts
 * // the `change` field of each JSONL log line
 * const lines = readFileSync(path, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l).change);
 * ```
 */
export type IncidentChange =
  | 'opened'
  | 'escalated'
  | 'deescalated'
  | 'acknowledged'
  | 'mitigating'
  | 'resolved'
  | 'reopened'
  | 'overdue'
  | 'note'
  | 'action-item'
  | 'timeline'
  | 'suppressed'
  | 'unsuppressed';

/**
 * @internal Decides whether an incident pages: the suppression that holds for
 * it now (inhibition, silence, maintenance), or undefined.
 */
export type SuppressionGate = (incident: Incident) => Suppression | undefined;

/** Changes that page someone (and trigger auto-remediation) unless the incident is suppressed. */
const PAGE_CHANGES: ReadonlySet<IncidentChange> = new Set(['opened', 'reopened', 'escalated', 'overdue']);

/** Receives every change with a snapshot of the incident after it. */
export type ChangeListener = (change: IncidentChange, incident: Incident) => void;

/**
 * Returns the emergency procedures for an incident (issue 4's playbooks supply this).
 *
 * @example
 * ```ts
 * monitor.incidents.setProcedureProvider((incident) => playbooks[incident.type] ?? []);
 * ```
 */
export type ProcedureProvider = (incident: Incident) => readonly unknown[];

/** What a detector asks the manager to open. */
export interface AutoOpenRequest {
  type: string;
  scope: string;
  severity: Severity;
  detector: string;
  detectedAt: number;
  summary: string;
  signal?: SignalReading;
}

/**
 * Counters of the manager, since the process started.
 *
 * @example
 * ```ts
 * const { opened, resolved, suppressed } = monitor.stats().incidents.totals;
 * ```
 */
export interface IncidentTotals {
  opened: number;
  reopened: number;
  escalated: number;
  deescalated: number;
  acknowledged: number;
  resolved: number;
  overdue: number;
  /** Automatic incidents not opened because `maxActive` incidents were unresolved. */
  suppressed: number;
  /** Resolved incidents dropped from memory because `maxResolved` was reached. */
  evicted: number;
}

/**
 * Time to detect / acknowledge / resolve, as reported in stats.
 *
 * @example
 * ```ts
 * const { timeToAcknowledge } = monitor.stats().incidents; // { count, meanMs, p50Ms, … }
 * ```
 */
export interface ResponseTimes {
  timeToDetect: DurationSummary;
  timeToAcknowledge: DurationSummary;
  timeToResolve: DurationSummary;
}

const SYSTEM = 'firebreak';

/** Timeline data is logged and served as JSON: keep only what survives JSON, refuse what cannot. */
function jsonData(data: Record<string, unknown>): Record<string, unknown> {
  try {
    return JSON.parse(JSON.stringify(data)) as Record<string, unknown>;
  } catch (err) {
    throw new ValidationError('timeline entry', [{ path: 'data', message: `data must be JSON-serialisable (${err instanceof Error ? err.message : String(err)})` }]);
  }
}

function clone<T>(v: T): T {
  return structuredClone(v);
}

/**
 * The incident lifecycle: opens (manually or for a detector), acknowledges,
 * mitigates, resolves and reopens incidents, keeps their timelines, notes and
 * action items, and reports every change to its listeners (the JSONL log,
 * notifiers and the monitor's events). Available as `monitor.incidents`.
 *
 * Every read returns a copy: mutating it changes nothing.
 *
 * @example
 * ```ts
 * const inc = monitor.incidents.open({ type: 'high-latency', severity: 'high', summary: 'Search is slow' });
 * monitor.incidents.acknowledge(inc.id, { by: 'alice' });
 * monitor.incidents.resolve(inc.id, { by: 'alice', notes: 'Fixed by restart' });
 * console.log(monitor.incidents.postmortem(inc.id));
 * ```
 */
export class IncidentManager {
  private readonly clock: Clock;
  private readonly service: string;
  private readonly opts: IncidentOptions;
  private readonly store: IncidentStore;
  private readonly ids: IdGenerator;
  private readonly listeners: ChangeListener[] = [];
  private procedureProvider: ProcedureProvider | undefined;
  private gate: SuppressionGate | undefined;
  private authority: ((incident: Incident) => boolean) | undefined;
  private readonly totalsCounter: Omit<IncidentTotals, 'evicted'> = {
    opened: 0,
    reopened: 0,
    escalated: 0,
    deescalated: 0,
    acknowledged: 0,
    resolved: 0,
    overdue: 0,
    suppressed: 0,
  };
  /** Opened incidents by `type` and severity at open, for `incidents_total`. Bounded: see {@link IncidentManager.countOpened}. */
  readonly openedByLabel = new Map<string, { type: string; severity: Severity; count: number }>();
  readonly timeToDetect = new DurationStats();
  readonly timeToAcknowledge = new DurationStats();
  readonly timeToResolve = new DurationStats();
  private readonly sloRunbooks: ReadonlyMap<string, RunbookMetaInput>;
  /** Change listeners that threw (contained). */
  listenerErrors = 0;
  lastListenerError: unknown;

  /** @internal Built by the monitor; use `monitor.incidents`. */
  constructor(opts: { clock: Clock; service: string; options: IncidentOptions; ids?: IdGenerator; sloRunbooks?: ReadonlyMap<string, RunbookMetaInput> }) {
    this.sloRunbooks = opts.sloRunbooks ?? new Map();
    this.clock = opts.clock;
    this.service = opts.service;
    this.opts = opts.options;
    this.store = new IncidentStore(opts.options.maxResolved);
    this.ids = opts.ids ?? new IdGenerator(() => opts.clock.now());
  }

  /** @internal Sets what decides, at every paging change, whether the incident is suppressed. */
  setGate(fn: SuppressionGate | undefined): void {
    this.gate = fn;
  }

  /**
   * @internal Sets who may apply automatic changes (escalation, de-escalation,
   * resolution, recovery notes, overdue) to an incident: across a fleet, only
   * the replica that owns it, so one replica's local reading cannot resolve
   * the fleet's incident. Undefined: this process decides alone.
   */
  setAuthority(fn: ((incident: Incident) => boolean) | undefined): void {
    this.authority = fn;
  }

  private mayAuto(inc: Incident): boolean {
    if (this.authority === undefined) return true;
    try {
      return this.authority(inc);
    } catch (err) {
      this.listenerErrors++;
      this.lastListenerError = err;
      return true;
    }
  }

  /**
   * @internal Puts `incident` (a copy of the fleet's) in place of the local
   * incident `replacedId`, without events: the fleet's incident for the same
   * cause wins over the one this process opened a moment earlier.
   */
  replace(replacedId: string | undefined, incident: Incident): void {
    if (replacedId !== undefined && replacedId !== incident.id) this.store.remove(replacedId);
    this.restore([clone(incident)]);
  }

  /**
   * @internal Starts (or changes) the suppression of an unresolved incident;
   * returns undefined when nothing changed.
   */
  suppress(id: string, s: Suppression): Incident | undefined {
    const inc = this.store.get(id);
    if (inc === undefined || !isActive(inc) || !this.setSuppression(inc, s)) return undefined;
    return this.commit(inc, 'suppressed');
  }

  /**
   * @internal Ends the suppression of an incident. `page` is true when it
   * opened suppressed and never paged: the caller pages it now.
   */
  unsuppress(id: string, reason: string): { incident: Incident; page: boolean } | undefined {
    const inc = this.store.get(id);
    if (inc === undefined || inc.suppressed === undefined) return undefined;
    const page = inc.unpaged === true && isActive(inc);
    const was = inc.suppressed;
    delete inc.suppressed;
    if (page) delete inc.unpaged;
    this.push(inc, {
      at: this.clock.now(),
      kind: 'unsuppressed',
      by: SYSTEM,
      message: `${reason}${page ? '; paging now' : ''}`,
      data: { kind: was.kind, by: was.by },
    });
    return { incident: this.commit(inc, 'unsuppressed'), page };
  }

  /**
   * @internal Registers a change listener (log, notifiers, events). `first`
   * runs it before the others: the fleet must know of an incident before its
   * notification is dispatched and its remediation considered.
   */
  onChange(fn: ChangeListener, first = false): void {
    if (first) this.listeners.unshift(fn);
    else this.listeners.push(fn);
  }

  /**
   * Incidents matching `filter`, newest first. `status: 'active'` means not resolved.
   *
   * @example
   * ```ts
   * monitor.incidents.list({ status: 'active', severity: 'critical' });
   * ```
   */
  list(filter?: IncidentFilter): Incident[] {
    const f = parseInput(filterInputSchema, 'incident filter', filter) as IncidentFilter | undefined;
    return this.store.list(f ?? {}).map(clone);
  }

  /**
   * The incident with `id`, or `undefined`.
   *
   * @example
   * ```ts
   * const inc = monitor.incidents.get(id);
   * ```
   */
  get(id: string): Incident | undefined {
    const i = this.store.get(id);
    return i === undefined ? undefined : clone(i);
  }

  /**
   * The incident with `id`, or throws `NotFoundError` (code `NOT_FOUND`).
   *
   * @example
   * ```ts
   * const inc = monitor.incidents.require(req.params.id);
   * ```
   */
  require(id: string): Incident {
    return clone(this.find(id));
  }

  /**
   * Opens a manual incident. If an unresolved incident of the same type and
   * scope exists, the report is added to it instead (as a note, raising its
   * severity if higher): one open incident per (type, scope).
   *
   * @example
   * ```ts
   * monitor.incidents.open({ type: 'index-corruption', severity: 'critical', summary: 'Index checksum mismatch', by: 'bob' });
   * ```
   */
  open(input: OpenIncidentInput): Incident {
    const o = parseInput(openInputSchema, 'incident', input);
    const now = this.clock.now();
    const existing = this.store.findActive(o.type, o.scope);
    if (existing !== undefined) {
      this.push(existing, { at: now, kind: 'note', by: o.by, message: `Reported again: ${o.summary}` });
      if (compareSeverity(o.severity, existing.severity) > 0) {
        this.setSeverity(existing, o.severity, now, o.by, `Escalated to ${o.severity} by a manual report`, 'escalated');
        return this.commit(existing, 'escalated');
      }
      return this.commit(existing, 'note');
    }
    if (this.store.activeCount >= this.opts.maxActive) throw new LimitError('active incidents', this.opts.maxActive);
    const inc = this.create({ type: o.type, scope: o.scope, severity: o.severity, summary: o.summary, source: 'manual', at: now, detectedAt: now });
    this.push(inc, { at: now, kind: 'opened', by: o.by, message: `Opened manually: ${o.summary}`, data: { severity: o.severity } });
    this.countOpened(inc);
    return this.commit(inc, 'opened');
  }

  /**
   * open → acknowledged. Stops the response-time (overdue) clock.
   *
   * @example
   * ```ts
   * monitor.incidents.acknowledge(id, { by: 'alice', note: 'Looking at it' });
   * ```
   */
  acknowledge(id: string, input: StepInput): Incident {
    const s = parseInput(stepInputSchema, 'acknowledge', input);
    const inc = this.find(id);
    inc.status = nextStatus(inc, 'acknowledge');
    const now = this.clock.now();
    this.markAcknowledged(inc, now, s.by);
    this.push(inc, this.entry(now, 'acknowledged', s.by, `Acknowledged by ${s.by}`, s.note));
    return this.commit(inc, 'acknowledged');
  }

  /**
   * open/acknowledged → mitigating (starting work also acknowledges).
   *
   * @example
   * ```ts
   * monitor.incidents.mitigate(id, { by: 'alice', note: 'Disabling reranking' });
   * ```
   */
  mitigate(id: string, input: StepInput): Incident {
    const s = parseInput(stepInputSchema, 'mitigate', input);
    const inc = this.find(id);
    inc.status = nextStatus(inc, 'mitigate');
    const now = this.clock.now();
    this.markAcknowledged(inc, now, s.by);
    inc.mitigatingAt = now;
    this.push(inc, this.entry(now, 'mitigating', s.by, `Mitigation started by ${s.by}`, s.note));
    return this.commit(inc, 'mitigating');
  }

  /**
   * Resolves an unresolved incident, with resolution notes and root cause.
   *
   * @example
   * ```ts
   * monitor.incidents.resolve(id, { by: 'alice', notes: 'Fixed by restart', rootCause: 'Leaked connections' });
   * ```
   */
  resolve(id: string, input: ResolveInput): Incident {
    const r = parseInput(resolveInputSchema, 'resolve', input);
    const inc = this.find(id);
    nextStatus(inc, 'resolve');
    const now = this.clock.now();
    if (r.notes !== undefined && r.notes !== '') this.addNoteText(inc, r.notes);
    if (r.rootCause !== undefined && r.rootCause !== '') inc.rootCause = r.rootCause;
    const notes = r.notes !== undefined && r.notes !== '' ? r.notes : undefined;
    this.markResolved(inc, now, r.by, notes !== undefined ? `Resolved by ${r.by}: ${notes}` : `Resolved by ${r.by}`, notes);
    return this.commit(inc, 'resolved');
  }

  /**
   * resolved → open: the response-time clock restarts.
   *
   * @example
   * ```ts
   * monitor.incidents.reopen(id, { by: 'bob', note: 'Latency is back' });
   * ```
   */
  reopen(id: string, input: StepInput): Incident {
    const s = parseInput(stepInputSchema, 'reopen', input);
    const inc = this.find(id);
    nextStatus(inc, 'reopen');
    this.markReopened(inc, this.clock.now(), s.by, `Reopened by ${s.by}`, s.note);
    return this.commit(inc, 'reopened');
  }

  /**
   * Adds a note (in any state, resolved included). Throws `LimitError` past `incidents.maxNotes`.
   *
   * @example
   * ```ts
   * monitor.incidents.addNote(id, { by: 'alice', text: 'Traffic from one tenant doubled' });
   * ```
   */
  addNote(id: string, input: NoteInput): Incident {
    const n = parseInput(noteInputSchema, 'note', input);
    const inc = this.find(id);
    if (inc.notes.length >= this.opts.maxNotes) throw new LimitError('notes on this incident', this.opts.maxNotes);
    this.addNoteText(inc, n.text);
    this.push(inc, { at: this.clock.now(), kind: 'note', by: n.by, message: n.text });
    return this.commit(inc, 'note');
  }

  /**
   * Adds a follow-up action item. Throws `LimitError` past `incidents.maxActionItems`.
   *
   * @example
   * ```ts
   * monitor.incidents.addActionItem(id, { text: 'Alert on connection pool saturation', owner: 'alice' });
   * ```
   */
  addActionItem(id: string, input: ActionItemInput): ActionItem {
    const a = parseInput(actionItemInputSchema, 'action item', input);
    const inc = this.find(id);
    if (inc.actionItems.length >= this.opts.maxActionItems) throw new LimitError('action items on this incident', this.opts.maxActionItems);
    const item: ActionItem = { id: `${inc.id}-a${inc.actionItems.length + 1}`, text: a.text, done: false };
    if (a.owner !== undefined) item.owner = a.owner;
    inc.actionItems.push(item);
    this.commit(inc, 'action-item');
    return { ...item };
  }

  /**
   * Marks an action item done (or not done).
   *
   * @example
   * ```ts
   * monitor.incidents.completeActionItem(id, itemId);
   * ```
   */
  completeActionItem(id: string, itemId: string, done = true): ActionItem {
    if (typeof done !== 'boolean') throw new ValidationError('action item', [{ path: 'done', message: 'done must be a boolean' }]);
    const inc = this.find(id);
    const item = inc.actionItems.find((a) => a.id === itemId);
    if (item === undefined) throw new NotFoundError('action item', itemId);
    item.done = done;
    this.commit(inc, 'action-item');
    return { ...item };
  }

  /**
   * Appends a timeline entry on behalf of another component (emergency
   * actions record `action`, `action-failed` and `action-reverted` here).
   *
   * @example
   * ```ts
   * monitor.incidents.record(id, { kind: 'action', by: 'alice', message: 'Cleared cache search', data: { executionId } });
   * ```
   */
  record(id: string, input: RecordInput): Incident {
    const r = parseInput(recordInputSchema, 'timeline entry', input);
    const inc = this.find(id);
    const entry: TimelineEntry = { at: this.clock.now(), kind: r.kind, by: r.by, message: r.message };
    if (r.data !== undefined) entry.data = jsonData(r.data);
    this.push(inc, entry);
    return this.commit(inc, 'timeline');
  }

  /**
   * The emergency procedures for an incident, from the provider set with
   * {@link IncidentManager.setProcedureProvider} (empty without one).
   *
   * @example
   * ```ts
   * for (const step of monitor.incidents.procedures(id)) console.log(step);
   * ```
   */
  procedures(id: string): readonly unknown[] {
    const inc = clone(this.find(id));
    return this.procedureProvider === undefined ? [] : this.procedureProvider(inc);
  }

  /**
   * Sets what {@link IncidentManager.procedures} returns (the actions layer supplies its playbooks).
   *
   * @example
   * ```ts
   * monitor.incidents.setProcedureProvider((incident) => playbook[incident.type] ?? []);
   * ```
   */
  setProcedureProvider(fn: ProcedureProvider | undefined): void {
    this.procedureProvider = fn;
  }

  /**
   * A markdown post-mortem: timeline relative to open, detection delay,
   * duration, signal peak, root cause and action items.
   *
   * @example
   * ```ts
   * await writeFile(`postmortem-${id}.md`, monitor.incidents.postmortem(id));
   * ```
   */
  postmortem(id: string): string {
    return renderPostmortem(this.find(id), { service: this.service, now: this.clock.now() });
  }

  /** Counters since the process started. */
  totals(): IncidentTotals {
    return { ...this.totalsCounter, evicted: this.store.evicted };
  }

  /** Time to detect, acknowledge and resolve. */
  responseTimes(): ResponseTimes {
    return {
      timeToDetect: this.timeToDetect.summary(),
      timeToAcknowledge: this.timeToAcknowledge.summary(),
      timeToResolve: this.timeToResolve.summary(),
    };
  }

  // ---- used by the detection engine, the log replay and stats (internal) ----

  /** @internal Unresolved incidents, live objects: read only. */
  activeIncidents(): IterableIterator<Incident> {
    return this.store.activeIncidents();
  }

  /** @internal Every incident held, live objects: read only. */
  allIncidents(): Incident[] {
    return this.store.all();
  }

  /** @internal */
  findActive(type: string, scope: string): Incident | undefined {
    return this.store.findActive(type, scope);
  }

  /** @internal Live incident by id (read only). */
  peek(id: string): Incident | undefined {
    return this.store.get(id);
  }

  /** @internal Restores incidents read from the log, without events. */
  restore(incidents: Iterable<Incident>): void {
    for (const inc of incidents) {
      this.ids.observe(inc.id);
      this.store.put(inc);
    }
  }

  /**
   * @internal Opens an incident for a detector, or reopens the same
   * (type, scope) incident if it was resolved within `reopenWithinMs`.
   * Returns undefined when `maxActive` is reached (counted).
   */
  autoOpen(req: AutoOpenRequest): { incident: Incident; reopened: boolean } | undefined {
    const now = this.clock.now();
    const recent = this.store.recentlyResolved(req.type, req.scope, now - this.opts.reopenWithinMs);
    if (this.store.activeCount >= this.opts.maxActive) {
      this.totalsCounter.suppressed++;
      return undefined;
    }
    const signal = req.signal === undefined ? {} : { signal: req.signal };
    if (recent !== undefined) {
      const inc = recent;
      inc.summary = req.summary;
      inc.detector = req.detector;
      this.markReopened(inc, now, SYSTEM, `Reopened: ${req.summary} (re-fired within ${Math.round(this.opts.reopenWithinMs / 60_000)} min of resolution)`, undefined, {
        severity: req.severity,
        ...signal,
      });
      if (inc.severity !== req.severity) inc.severity = req.severity;
      inc.priority = SEVERITY_POLICY[inc.severity].priority;
      if (req.signal !== undefined) this.updatePeakOf(inc, req.signal);
      return { incident: this.commit(inc, 'reopened'), reopened: true };
    }
    const inc = this.create({ type: req.type, scope: req.scope, severity: req.severity, summary: req.summary, source: 'auto', at: now, detectedAt: req.detectedAt });
    inc.detector = req.detector;
    if (req.signal !== undefined) {
      inc.signalAtOpen = clone(req.signal);
      inc.signalPeak = clone(req.signal);
    }
    this.push(inc, { at: req.detectedAt, kind: 'detected', by: SYSTEM, message: `Condition detected by ${req.detector}`, data: { severity: req.severity } });
    this.push(inc, { at: now, kind: 'opened', by: SYSTEM, message: req.summary, data: { severity: req.severity, ...signal } });
    this.countOpened(inc);
    this.timeToDetect.observe(now - req.detectedAt);
    return { incident: this.commit(inc, 'opened'), reopened: false };
  }

  /** @internal A detector saw a worse severity. */
  autoEscalate(id: string, severity: Severity, summary: string, signal: SignalReading | undefined): Incident | undefined {
    const inc = this.store.get(id);
    if (inc === undefined || !isActive(inc) || compareSeverity(severity, inc.severity) <= 0 || !this.mayAuto(inc)) return undefined;
    if (signal !== undefined) this.updatePeakOf(inc, signal);
    inc.summary = summary;
    this.setSeverity(inc, severity, this.clock.now(), SYSTEM, `Escalated to ${severity}: ${summary}`, 'escalated', signal);
    return this.commit(inc, 'escalated');
  }

  /** @internal A detector has seen a lower severity for the whole clear window. */
  autoDeescalate(id: string, severity: Severity, summary: string, signal: SignalReading | undefined): Incident | undefined {
    const inc = this.store.get(id);
    if (inc === undefined || !isActive(inc) || compareSeverity(severity, inc.severity) >= 0 || !this.mayAuto(inc)) return undefined;
    this.setSeverity(inc, severity, this.clock.now(), SYSTEM, `De-escalated to ${severity}: ${summary}`, 'deescalated', signal);
    return this.commit(inc, 'deescalated');
  }

  /** @internal The signal has been clear for the clear window. */
  autoResolve(id: string, clearForMs: number): Incident | undefined {
    const inc = this.store.get(id);
    if (inc === undefined || !isActive(inc) || !this.mayAuto(inc)) return undefined;
    this.markResolved(inc, this.clock.now(), SYSTEM, `Resolved automatically: signal clear for ${Math.round(clearForMs / 1000)} s`);
    return this.commit(inc, 'resolved');
  }

  /** @internal The signal recovered but auto-resolve is off (or the incident is manual): note it once. */
  noteRecovered(id: string, clearForMs: number): void {
    const inc = this.store.get(id);
    if (inc === undefined || !isActive(inc) || !this.mayAuto(inc)) return;
    this.push(inc, { at: this.clock.now(), kind: 'recovered', by: SYSTEM, message: `Signal clear for ${Math.round(clearForMs / 1000)} s` });
    this.commit(inc, 'timeline');
  }

  /** @internal Keeps the worst reading seen; persisted with the next change. */
  updatePeak(id: string, signal: SignalReading): void {
    const inc = this.store.get(id);
    if (inc !== undefined && isActive(inc)) this.updatePeakOf(inc, signal);
  }

  /** @internal Marks unacknowledged incidents past their response time; returns the ones newly overdue. */
  checkOverdue(now: number): Incident[] {
    if (!this.opts.overdue) return [];
    const due: Incident[] = [];
    for (const inc of this.store.activeIncidents()) {
      if (inc.status !== 'open' || inc.overdueAt !== undefined || !this.mayAuto(inc)) continue;
      const since = inc.reopenedAt ?? inc.openedAt;
      const policy = SEVERITY_POLICY[inc.severity];
      if (now - since < policy.respondWithinMs) continue;
      inc.overdueAt = now;
      this.totalsCounter.overdue++;
      this.push(inc, {
        at: now,
        kind: 'overdue',
        by: SYSTEM,
        message: `Not acknowledged within ${Math.round(policy.respondWithinMs / 60_000)} min (${inc.priority} response time)`,
      });
      due.push(inc);
    }
    return due.map((inc) => this.commit(inc, 'overdue'));
  }

  // ---- internals ----

  private find(id: string): Incident {
    const inc = typeof id === 'string' ? this.store.get(id) : undefined;
    if (inc === undefined) throw new NotFoundError('incident', id);
    return inc;
  }

  private create(o: { type: string; scope: string; severity: Severity; summary: string; source: 'auto' | 'manual'; at: number; detectedAt: number }): Incident {
    const inc: Incident = {
      id: this.ids.next(),
      type: o.type,
      scope: o.scope,
      severity: o.severity,
      priority: SEVERITY_POLICY[o.severity].priority,
      status: 'open',
      summary: o.summary,
      source: o.source,
      detectedAt: o.detectedAt,
      openedAt: o.at,
      reopenCount: 0,
      notes: [],
      actionItems: [],
      timeline: [],
    };
    this.applyRunbook(inc);
    this.store.put(inc);
    return inc;
  }

  /**
   * @internal The runbook metadata an incident of `type` on `scope` carries:
   * the type's, overridden field by field by the SLO's for `slo:<name>` scopes.
   */
  runbookFor(type: string, scope: string): RunbookMeta | undefined {
    const types = this.opts.types;
    const byType = types !== undefined && Object.hasOwn(types, type) ? types[type]?.runbook : undefined;
    const bySlo = scope.startsWith('slo:') ? this.sloRunbooks.get(scope.slice(4)) : undefined;
    return mergeRunbook(byType, bySlo);
  }

  // Resolved again on reopen, so an incident restored from the log picks up the current configuration.
  private applyRunbook(inc: Incident): void {
    const rb = this.runbookFor(inc.type, inc.scope);
    if (rb === undefined) delete inc.runbook;
    else inc.runbook = rb;
  }

  private entry(at: number, kind: TimelineKind, by: string, message: string, note: string | undefined): TimelineEntry {
    return note !== undefined && note !== '' ? { at, kind, by, message: `${message}: ${note}` } : { at, kind, by, message };
  }

  private push(inc: Incident, entry: TimelineEntry): void {
    if (inc.timeline.length >= this.opts.maxTimeline) {
      inc.timeline.splice(1, 1); // keep the first entry: it anchors the post-mortem
      inc.timelineDropped = (inc.timelineDropped ?? 0) + 1;
    }
    inc.timeline.push(entry);
  }

  private addNoteText(inc: Incident, text: string): void {
    if (inc.notes.length >= this.opts.maxNotes) inc.notes.shift();
    inc.notes.push(text);
  }

  private setSeverity(
    inc: Incident,
    severity: Severity,
    at: number,
    by: string,
    message: string,
    kind: 'escalated' | 'deescalated',
    signal?: SignalReading,
  ): void {
    const from = inc.severity;
    inc.severity = severity;
    inc.priority = SEVERITY_POLICY[severity].priority;
    const data: Record<string, unknown> = { from, to: severity };
    if (signal !== undefined) data['signal'] = clone(signal);
    this.push(inc, { at, kind, by, message, data });
    if (kind === 'escalated') this.totalsCounter.escalated++;
    else this.totalsCounter.deescalated++;
  }

  private markAcknowledged(inc: Incident, now: number, by: string): void {
    if (inc.acknowledgedAt !== undefined) return;
    inc.acknowledgedAt = now;
    inc.acknowledgedBy = by;
    this.totalsCounter.acknowledged++;
    this.timeToAcknowledge.observe(now - (inc.reopenedAt ?? inc.openedAt));
  }

  private markResolved(inc: Incident, now: number, by: string, message: string, notes?: string): void {
    inc.status = 'resolved';
    inc.resolvedAt = now;
    inc.resolvedBy = by;
    inc.durationMs = now - inc.openedAt;
    this.totalsCounter.resolved++;
    this.timeToResolve.observe(now - (inc.reopenedAt ?? inc.openedAt));
    const data: Record<string, unknown> = { durationMs: inc.durationMs };
    if (notes !== undefined) data['notes'] = notes;
    this.push(inc, { at: now, kind: 'resolved', by, message, data });
  }

  private markReopened(inc: Incident, now: number, by: string, message: string, note: string | undefined, data?: Record<string, unknown>): void {
    inc.status = 'open';
    inc.reopenedAt = now;
    this.applyRunbook(inc);
    inc.reopenCount++;
    // The previous resolution stays on the timeline; the fields describe the current open period.
    delete inc.resolvedAt;
    delete inc.resolvedBy;
    delete inc.durationMs;
    delete inc.acknowledgedAt;
    delete inc.acknowledgedBy;
    delete inc.mitigatingAt;
    delete inc.overdueAt;
    // A reopened incident is judged afresh: it pages unless a suppression still holds (the gate sets it again).
    delete inc.suppressed;
    delete inc.unpaged;
    this.totalsCounter.reopened++;
    const entry = this.entry(now, 'reopened', by, message, note);
    if (data !== undefined) entry.data = clone(data);
    this.push(inc, entry);
  }

  private updatePeakOf(inc: Incident, signal: SignalReading): void {
    const peak = inc.signalPeak;
    if (peak === undefined || peak.name !== signal.name) {
      if (peak === undefined) inc.signalPeak = clone(signal);
      return;
    }
    const worse = signal.direction === 'below' ? signal.value < peak.value : signal.value > peak.value;
    if (worse) inc.signalPeak = clone(signal);
  }

  /** Label combinations kept for `incidents_total` (custom types could otherwise grow without bound). */
  private static readonly MAX_LABELS = 500;

  private countOpened(inc: Incident): void {
    this.totalsCounter.opened++;
    let key = `${inc.type}\u0000${inc.severity}`;
    let type = inc.type;
    if (!this.openedByLabel.has(key) && this.openedByLabel.size >= IncidentManager.MAX_LABELS) {
      type = '__other__';
      key = `${type}\u0000${inc.severity}`;
    }
    const cur = this.openedByLabel.get(key);
    if (cur !== undefined) cur.count++;
    else this.openedByLabel.set(key, { type, severity: inc.severity, count: 1 });
  }

  /** Sets `s` on `inc` with a timeline entry; false when the same suppression already holds. */
  private setSuppression(inc: Incident, s: Suppression): boolean {
    const cur = inc.suppressed;
    if (cur !== undefined && cur.kind === s.kind && cur.by === s.by) return false;
    inc.suppressed = { ...s };
    const data: Record<string, unknown> = { kind: s.kind, by: s.by };
    if (s.rule !== undefined) data['rule'] = s.rule;
    this.push(inc, { at: s.since, kind: 'suppressed', by: SYSTEM, message: `Not paged: ${s.reason}`, data });
    return true;
  }

  /** The source of an inhibition says what it explains, once per target. */
  private linkSource(sourceId: string, target: Incident): void {
    const src = this.store.get(sourceId);
    if (src === undefined) return;
    this.push(src, {
      at: this.clock.now(),
      kind: 'note',
      by: SYSTEM,
      message: `Explains ${target.id} (${target.type} on ${target.scope}), which is not paged`,
      data: { inhibits: target.id },
    });
    this.commit(src, 'timeline');
  }

  private commit(inc: Incident, change: IncidentChange): Incident {
    inc.updatedAt = this.clock.now();
    let linked: string | undefined;
    if (this.gate !== undefined && (PAGE_CHANGES.has(change) || change === 'suppressed') && isActive(inc)) {
      let s: Suppression | undefined;
      try {
        s = change === 'suppressed' ? inc.suppressed : this.gate(inc);
      } catch (err) {
        // The gate is ours; should it ever throw, paging wins over silence.
        this.listenerErrors++;
        this.lastListenerError = err;
      }
      if (s !== undefined) {
        if (change === 'opened' || change === 'reopened') inc.unpaged = true;
        const fresh = change === 'suppressed' || this.setSuppression(inc, s);
        if (fresh && s.kind === 'inhibition' && this.store.get(s.by) !== undefined) linked = s.by;
      }
    }
    this.store.put(inc);
    const snapshot = clone(inc);
    for (const fn of this.listeners) {
      try {
        fn(change, snapshot);
      } catch (err) {
        // Listeners are the log, the notifiers and the monitor's events; none may break a lifecycle call.
        this.listenerErrors++;
        this.lastListenerError = err;
      }
    }
    if (linked !== undefined) this.linkSource(linked, inc);
    return clone(inc);
  }
}

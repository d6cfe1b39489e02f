import { ConfigError } from '../errors.js';
import { errorMessage } from '../safe-call.js';
import type { IncidentOptions } from './config.js';
import type { DetectionContext, Detector, Observation } from './detector.js';
import { Condition } from './hysteresis.js';
import { isActive } from './lifecycle.js';
import type { IncidentManager } from './manager.js';
import { SEVERITIES, compareSeverity, type Incident, type Severity } from './types.js';

/**
 * What one evaluation changed, as `evaluate().incidents` reports it
 * (snapshots taken right after each change).
 *
 * @example
 * ```ts
 * const { opened, escalated, resolved } = monitor.evaluate().incidents;
 * ```
 */
export interface IncidentChanges {
  opened: Incident[];
  /** Re-fired within `reopenWithinMs` of resolution: the same incident reopened. */
  reopened: Incident[];
  escalated: Incident[];
  deescalated: Incident[];
  resolved: Incident[];
  /** Not acknowledged within the priority's response time (reported once). */
  overdue: Incident[];
}

/**
 * A condition seen firing that has not held for `forMs` yet.
 *
 * @example
 * ```ts
 * for (const p of monitor.stats().incidents.pending) console.log(`${p.type} opens at ${new Date(p.opensAt).toISOString()}`);
 * ```
 */
export interface PendingCondition {
  type: string;
  scope: string;
  detector: string;
  severity: Severity;
  /** When it was first seen. */
  since: number;
  /** When it opens an incident if it keeps firing. */
  opensAt: number;
}

/**
 * A detector's health: evaluations that threw or returned garbage are counted here.
 *
 * @example
 * ```ts
 * monitor.stats().incidents.detectors.filter((d) => d.errors > 0);
 * ```
 */
export interface DetectorStatus {
  name: string;
  type: string;
  errors: number;
  lastError?: string;
  lastErrorAt?: number;
}

interface Tracked {
  type: string;
  scope: string;
  detector: string;
  forMs: number;
  cond: Condition;
  incidentId: string | undefined;
  recoveredNoted: boolean;
}

interface Merged {
  type: string;
  scope: string;
  severity: Severity | null;
  obs: Observation;
  detector: Detector;
}

/** Empty changes, for evaluations that detect nothing. */
export function noChanges(): IncidentChanges {
  return { opened: [], reopened: [], escalated: [], deescalated: [], resolved: [], overdue: [] };
}

function worse(a: Severity | null, b: Severity | null): boolean {
  if (a === null) return false;
  if (b === null) return true;
  return compareSeverity(a, b) > 0;
}

/**
 * Runs every detector inside `evaluate()`, merges their observations per
 * (type, scope) (the worst wins; clear only when every detector says so),
 * applies the hysteresis and turns verdicts into incident changes. A detector
 * that throws is contained, counted and reported; it never breaks evaluation.
 */
export class DetectionEngine {
  private readonly manager: IncidentManager;
  private readonly opts: IncidentOptions;
  private readonly detectors = new Map<string, Detector>();
  private readonly conditions = new Map<string, Tracked>();
  private readonly errors = new Map<string, { count: number; last: string; at: number }>();
  private readonly onError: (detector: string, error: unknown) => void;
  private readonly applyLast: ((type: string, scope: string) => boolean) | undefined;
  /** New conditions ignored because `maxPending` were tracked. */
  pendingOverflow = 0;

  constructor(opts: {
    manager: IncidentManager;
    options: IncidentOptions;
    onError: (detector: string, error: unknown) => void;
    /** Conditions to apply after the others in a run (inhibition targets: their sources must be seen first). */
    applyLast?: (type: string, scope: string) => boolean;
  }) {
    this.manager = opts.manager;
    this.opts = opts.options;
    this.onError = opts.onError;
    this.applyLast = opts.applyLast;
  }

  /** Adds a detector; returns a function that removes it. A duplicate name throws a ConfigError. */
  add(detector: Detector): () => void {
    if (this.detectors.has(detector.name)) {
      throw new ConfigError('detector', [{ path: 'name', message: `a detector named "${detector.name}" already exists` }]);
    }
    if (this.detectors.size >= 1_000) throw new ConfigError('detector', [{ path: 'name', message: 'at most 1000 detectors' }]);
    this.detectors.set(detector.name, detector);
    return () => {
      if (this.detectors.get(detector.name) === detector) this.detectors.delete(detector.name);
    };
  }

  /** Runs every detector at `ctx.now` and applies what changed. */
  run(ctx: DetectionContext): IncidentChanges {
    const changes = noChanges();
    const merged = this.observeAll(ctx);
    let keys = [...new Set<string>([...merged.keys(), ...this.conditions.keys()])];
    const last = this.applyLast;
    if (last !== undefined) {
      const isLast = (key: string): boolean => {
        const t = merged.get(key) ?? this.conditions.get(key);
        return t !== undefined && last(t.type, t.scope);
      };
      keys = [...keys.filter((k) => !isLast(k)), ...keys.filter(isLast)];
    }
    for (const key of keys) {
      try {
        this.apply(key, merged.get(key), ctx.now, changes);
      } catch (err) {
        // A bug here must not cost the other conditions their evaluation.
        this.recordError('detection', err, ctx.now);
      }
    }
    changes.overdue.push(...this.manager.checkOverdue(ctx.now));
    return changes;
  }

  /** Conditions seen firing that have not opened an incident yet. */
  pending(): PendingCondition[] {
    const out: PendingCondition[] = [];
    for (const t of this.conditions.values()) {
      const since = t.cond.pendingSince;
      const severity = t.cond.pendingSeverity;
      if (since === undefined || severity === undefined) continue;
      out.push({ type: t.type, scope: t.scope, detector: t.detector, severity, since, opensAt: since + t.forMs });
    }
    return out;
  }

  /** Every detector with its error count. */
  detectorStatus(): DetectorStatus[] {
    const out: DetectorStatus[] = [];
    for (const d of this.detectors.values()) {
      const e = this.errors.get(d.name);
      const s: DetectorStatus = { name: d.name, type: d.type, errors: e?.count ?? 0 };
      if (e !== undefined) {
        s.lastError = e.last;
        s.lastErrorAt = e.at;
      }
      out.push(s);
    }
    return out;
  }

  /** Total detector errors since start. */
  get errorCount(): number {
    let n = 0;
    for (const e of this.errors.values()) n += e.count;
    return n;
  }

  private observeAll(ctx: DetectionContext): Map<string, Merged> {
    const merged = new Map<string, Merged>();
    for (const d of this.detectors.values()) {
      let observations: Observation[];
      try {
        observations = d.observe(ctx);
        if (!Array.isArray(observations)) throw new TypeError('observe() must return an array');
      } catch (err) {
        this.recordError(d.name, err, ctx.now);
        continue;
      }
      for (const o of observations) {
        if (o.severity !== null && !(SEVERITIES as readonly string[]).includes(o.severity)) {
          this.recordError(d.name, new TypeError(`unknown severity "${String(o.severity)}"`), ctx.now);
          continue;
        }
        const type = o.type ?? d.type;
        const key = `${type}\u0000${o.scope}`;
        const cur = merged.get(key);
        if (cur === undefined || worse(o.severity, cur.severity)) merged.set(key, { type, scope: o.scope, severity: o.severity, obs: o, detector: d });
      }
    }
    return merged;
  }

  private apply(key: string, m: Merged | undefined, now: number, changes: IncidentChanges): void {
    let t = this.conditions.get(key);
    if (t === undefined) {
      if (m === undefined || m.severity === null) return; // nothing firing, nothing to remember
      if (this.conditions.size >= this.opts.maxPending + this.opts.maxActive) {
        this.pendingOverflow++;
        return;
      }
      t = { type: m.type, scope: m.scope, detector: m.detector.name, forMs: this.opts.forMs, cond: new Condition(), incidentId: undefined, recoveredNoted: false };
      this.conditions.set(key, t);
    }
    const mgr = this.manager;
    let active: Incident | undefined = t.incidentId === undefined ? undefined : mgr.peek(t.incidentId);
    if (active === undefined || !isActive(active)) active = mgr.findActive(t.type, t.scope);
    t.incidentId = active?.id;
    if (m !== undefined) {
      t.detector = m.detector.name;
      t.forMs = m.detector.forMs ?? this.opts.forMs;
    }
    const clearForMs = m?.detector.clearForMs ?? this.opts.clearForMs;
    const verdict = t.cond.step(now, m === undefined ? undefined : m.severity, active?.severity, { forMs: t.forMs, clearForMs });
    const summary = m?.obs.summary ?? `${t.type} on ${t.scope}`;
    const signal = m?.obs.signal;

    switch (verdict.kind) {
      case 'open': {
        const req = { type: t.type, scope: t.scope, severity: verdict.severity, detector: t.detector, detectedAt: verdict.detectedAt, summary };
        const r = mgr.autoOpen(signal === undefined ? req : { ...req, signal });
        if (r !== undefined) {
          t.incidentId = r.incident.id;
          (r.reopened ? changes.reopened : changes.opened).push(r.incident);
        }
        break;
      }
      case 'escalate': {
        const inc = mgr.autoEscalate(active!.id, verdict.severity, summary, signal);
        if (inc !== undefined) changes.escalated.push(inc);
        break;
      }
      case 'deescalate': {
        const inc = mgr.autoDeescalate(active!.id, verdict.severity, summary, signal);
        if (inc !== undefined) changes.deescalated.push(inc);
        break;
      }
      case 'clear': {
        if (this.opts.autoResolve && active!.source === 'auto') {
          const inc = mgr.autoResolve(active!.id, clearForMs);
          if (inc !== undefined) changes.resolved.push(inc);
          t.incidentId = undefined;
          t.cond = new Condition();
        } else if (!t.recoveredNoted) {
          mgr.noteRecovered(active!.id, clearForMs);
          t.recoveredNoted = true;
        }
        break;
      }
      default:
        break;
    }
    if (m !== undefined && m.severity !== null) {
      t.recoveredNoted = false;
      if (signal !== undefined && t.incidentId !== undefined && verdict.kind !== 'open') mgr.updatePeak(t.incidentId, signal);
    }
    const stillActive = t.incidentId !== undefined && mgr.peek(t.incidentId)?.status !== 'resolved';
    if (!stillActive && t.cond.idle) this.conditions.delete(key);
  }

  private recordError(detector: string, err: unknown, now: number): void {
    const message = errorMessage(err).slice(0, 500);
    const e = this.errors.get(detector);
    if (e === undefined) {
      if (this.errors.size < 1_000) this.errors.set(detector, { count: 1, last: message, at: now });
    } else {
      e.count++;
      e.last = message;
      e.at = now;
    }
    this.onError(detector, err);
  }
}

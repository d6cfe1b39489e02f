/**
 * The incident domain, from the runbooks: severities and their priorities,
 * incident types, lifecycle states and the timeline.
 */
import type { RunbookMeta } from '../runbook.js';

/**
 * Severity ladder, lowest first.
 *
 * @example
 * ```ts
 * SEVERITIES.indexOf('high'); // 2
 * ```
 */
export const SEVERITIES = ['low', 'medium', 'high', 'critical'] as const;
/**
 * How bad an incident is.
 *
 * @example
 * ```ts
 * const s: Severity = 'critical';
 * ```
 */
export type Severity = (typeof SEVERITIES)[number];

/**
 * Priority that goes with each severity (critical = P0 … low = P3).
 *
 * @example
 * ```ts
 * SEVERITY_POLICY.high.priority; // 'P1'
 * ```
 */
export type Priority = 'P0' | 'P1' | 'P2' | 'P3';

/**
 * Priority and response-time target of each severity, from the runbooks.
 *
 * @example
 * ```ts
 * SEVERITY_POLICY.critical.respondWithinMs; // 900000 (15 min)
 * ```
 */
export const SEVERITY_POLICY: Record<Severity, { priority: Priority; respondWithinMs: number }> = {
  critical: { priority: 'P0', respondWithinMs: 15 * 60_000 },
  high: { priority: 'P1', respondWithinMs: 60 * 60_000 },
  medium: { priority: 'P2', respondWithinMs: 4 * 60 * 60_000 },
  low: { priority: 'P3', respondWithinMs: 24 * 60 * 60_000 },
};

/**
 * Compares severities: negative when `a` is lower than `b`.
 *
 * @example
 * ```ts
 * compareSeverity('critical', 'low') > 0; // true
 * ```
 */
export function compareSeverity(a: Severity, b: Severity): number {
  return SEVERITIES.indexOf(a) - SEVERITIES.indexOf(b);
}

/**
 * The incident types the runbooks name; any other string is allowed for custom detectors.
 *
 * @example
 * ```ts
 * INCIDENT_TYPES.includes('cache-failure'); // true
 * ```
 */
export const INCIDENT_TYPES = [
  'high-latency',
  'high-error-rate',
  'model-failure',
  'index-corruption',
  'memory-exhaustion',
  'cache-failure',
  'rate-limit-attack',
  'canary-failure',
  'service-down',
  'dependency-failure',
  'disk-space-low',
  'certificate-expiry',
  'model-drift',
  'auth-failure-spike',
  'cpu-saturation',
  'event-loop-lag',
  'slo-burn',
] as const;
/**
 * A known incident type, or a custom one.
 *
 * @example
 * ```ts
 * monitor.detector({ type: 'certificate-expiry', evaluate: () => daysLeft, direction: 'below', thresholds: { high: 7 } });
 * ```
 */
export type IncidentType = (typeof INCIDENT_TYPES)[number] | (string & {});

/**
 * Lifecycle: open → acknowledged → mitigating → resolved (and reopen).
 *
 * @example
 * ```ts
 * monitor.incidents.list({ status: 'acknowledged' });
 * ```
 */
export type IncidentStatus = 'open' | 'acknowledged' | 'mitigating' | 'resolved';

/**
 * What a timeline entry records.
 *
 * @example
 * ```ts
 * incident.timeline.filter((e) => e.kind === 'action');
 * ```
 */
export type TimelineKind =
  | 'detected'
  | 'opened'
  | 'escalated'
  | 'deescalated'
  | 'acknowledged'
  | 'mitigating'
  | 'action'
  | 'action-failed'
  | 'action-reverted'
  | 'note'
  | 'overdue'
  | 'resolved'
  | 'reopened'
  | 'recovered'
  | 'suppressed'
  | 'unsuppressed';

/**
 * Every timeline kind, for validating input from outside (HTTP, actions).
 *
 * @example
 * ```ts
 * TIMELINE_KINDS.includes('overdue'); // true
 * ```
 */
export const TIMELINE_KINDS: readonly TimelineKind[] = [
  'detected',
  'opened',
  'escalated',
  'deescalated',
  'acknowledged',
  'mitigating',
  'action',
  'action-failed',
  'action-reverted',
  'note',
  'overdue',
  'resolved',
  'reopened',
  'recovered',
  'suppressed',
  'unsuppressed',
];

/**
 * Every lifecycle state.
 *
 * @example
 * ```ts
 * INCIDENT_STATUSES.length; // 4
 * ```
 */
export const INCIDENT_STATUSES: readonly IncidentStatus[] = ['open', 'acknowledged', 'mitigating', 'resolved'];

/**
 * One step in an incident's life.
 *
 * @example
 * ```ts
 * for (const e of incident.timeline) console.log(new Date(e.at).toISOString(), e.kind, e.by, e.message);
 * ```
 */
export interface TimelineEntry {
  /** Clock time (epoch ms). */
  at: number;
  kind: TimelineKind;
  /** Who did it: `firebreak` for automatic steps, else the caller's identity. */
  by: string;
  /** Human-readable description. */
  message: string;
  /** Structured detail (signal values, action execution id, params…). */
  data?: Record<string, unknown>;
}

/**
 * A follow-up task recorded on an incident.
 *
 * @example
 * ```ts
 * const item = monitor.incidents.addActionItem(id, { text: 'Add an alert', owner: 'alice' }); // item.done === false
 * ```
 */
export interface ActionItem {
  id: string;
  text: string;
  owner?: string;
  done: boolean;
}

/**
 * A signal reading kept on an incident (at open, and the worst seen).
 *
 * @example
 * ```ts
 * const { value, unit, threshold } = incident.signalPeak!;
 * ```
 */
export interface SignalReading {
  /** What was measured, e.g. `p95 latency`. */
  name: string;
  value: number;
  unit: 'ms' | 'ratio' | 'count' | 'number';
  /** The threshold it was compared with, if any. */
  threshold?: number;
  /** `above`: higher is worse (latency); `below`: lower is worse (success rate). Decides the peak. */
  direction?: 'above' | 'below';
  at: number;
}

/**
 * Why an incident does not page: an inhibition rule (another incident explains
 * it), a silence, or a maintenance window. Kept while it holds; removed (with
 * an `unsuppressed` timeline entry) when it ends.
 *
 * @example
 * ```ts
 * if (incident.suppressed?.kind === 'inhibition') console.log(`explained by ${incident.suppressed.by}`);
 * ```
 */
export interface Suppression {
  kind: 'inhibition' | 'silence' | 'maintenance';
  /** The source incident's id (or `pending <type> on <scope>` while it has not opened yet), the silence id or the window id. */
  by: string;
  /** The inhibition rule's name, when `kind` is `inhibition`. */
  rule?: string;
  /** Clock time it started holding. */
  since: number;
  /** One line, as on the timeline. */
  reason: string;
}

/**
 * An incident, as stored, logged and served.
 *
 * @example
 * ```ts
 * monitor.on('incident:opened', (i) => console.log(`[${i.priority}] ${i.type}: ${i.summary}`));
 * ```
 */
export interface Incident {
  /** Sortable, unique id (time-ordered). */
  id: string;
  type: IncidentType;
  /** What the incident is about: `service`, a route, a cache, a feature… */
  scope: string;
  severity: Severity;
  priority: Priority;
  status: IncidentStatus;
  summary: string;
  /** Opened by a detector (`auto`) or by a person (`manual`). */
  source: 'auto' | 'manual';
  /** Detector or SLO that raised it, when automatic. */
  detector?: string;
  signalAtOpen?: SignalReading;
  signalPeak?: SignalReading;
  /** When the condition was first seen (before `forMs` elapsed). */
  detectedAt: number;
  openedAt: number;
  acknowledgedAt?: number;
  acknowledgedBy?: string;
  mitigatingAt?: number;
  resolvedAt?: number;
  resolvedBy?: string;
  /** resolvedAt − openedAt, once resolved. */
  durationMs?: number;
  /** Set when not acknowledged within the priority's response time. */
  overdueAt?: number;
  /** When the incident was last reopened (the response-time clock restarts here). */
  reopenedAt?: number;
  reopenCount: number;
  /** Clock time of the last change. */
  updatedAt?: number;
  /** Timeline entries dropped because the timeline reached its cap (oldest after the first are dropped). */
  timelineDropped?: number;
  /** Set while the incident is inhibited, silenced or in a maintenance window: it pages nobody and runs no auto-remediation. */
  suppressed?: Suppression;
  /** True when the incident opened (or reopened) suppressed and has not paged since; it pages when the suppression ends. */
  unpaged?: boolean;
  /**
   * Owner, runbook URL and escalation contacts resolved when the incident opened
   * (or reopened): its type's `incidents.types[type].runbook`, overridden field by
   * field by the SLO's `runbook` for `slo:<name>` scoped incidents.
   */
  runbook?: RunbookMeta;
  /** Set when the incident is shared by a fleet (`firebreak/redis`): its cause, owner and the replicas that saw it. */
  fleet?: IncidentFleetInfo;
  notes: string[];
  rootCause?: string;
  actionItems: ActionItem[];
  timeline: TimelineEntry[];
}

/**
 * What a fleet (`firebreak/redis`) records on the one incident it opens for a
 * cause: who owns it (opens, pages, remediates, resolves) and which replicas
 * saw it, with their readings.
 *
 * @example
 * ```ts
 * const seenBy = incident.fleet?.replicas.map((r) => r.replica) ?? [];
 * ```
 */
export interface IncidentFleetInfo {
  /** `<type>:<scope>` of the cause (URI-encoded parts). */
  cause: string;
  /** The replica that holds the incident's lease now. */
  owner: string;
  /** The replica that opened it. */
  openedBy: string;
  /** Replicas that detected it (the owner included), first sighting first; at most 64. */
  replicas: { replica: string; at: number; signal?: SignalReading }[];
}

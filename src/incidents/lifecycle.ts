import { InvalidTransitionError } from '../errors.js';
import type { Incident, IncidentStatus } from './types.js';

/**
 * A lifecycle step a person (or the monitor) can take on an incident.
 *
 * @example
 * ```ts
 * const step: LifecycleStep = 'acknowledge';
 * LIFECYCLE.open[step]; // 'acknowledged'
 * ```
 */
export type LifecycleStep = 'acknowledge' | 'mitigate' | 'resolve' | 'reopen';

/**
 * The lifecycle as data: from each state, the steps allowed and the state
 * they lead to. open → acknowledged → mitigating → resolved; mitigation may
 * start without a separate acknowledgement (starting work acknowledges it);
 * any unresolved state can resolve; only a resolved incident can reopen.
 *
 * @example
 * ```ts
 * LIFECYCLE.open.acknowledge; // 'acknowledged'
 * LIFECYCLE.resolved.acknowledge; // undefined: not allowed
 * ```
 */
export const LIFECYCLE: Readonly<Record<IncidentStatus, Readonly<Partial<Record<LifecycleStep, IncidentStatus>>>>> = {
  open: { acknowledge: 'acknowledged', mitigate: 'mitigating', resolve: 'resolved' },
  acknowledged: { mitigate: 'mitigating', resolve: 'resolved' },
  mitigating: { resolve: 'resolved' },
  resolved: { reopen: 'open' },
};

/**
 * The state `step` leads to from the incident's current state, or throws
 * {@link InvalidTransitionError} (code `INVALID_TRANSITION`).
 *
 * @example
 * ```ts
 * const next = nextStatus(incident, 'acknowledge');
 * ```
 */
export function nextStatus(incident: Pick<Incident, 'id' | 'status'>, step: LifecycleStep): IncidentStatus {
  const to = LIFECYCLE[incident.status][step];
  if (to === undefined) throw new InvalidTransitionError(incident.id, incident.status, step);
  return to;
}

/**
 * True while an incident is not resolved.
 *
 * @example
 * ```ts
 * isActive(incident); // false once resolved
 * ```
 */
export function isActive(incident: Pick<Incident, 'status'>): boolean {
  return incident.status !== 'resolved';
}

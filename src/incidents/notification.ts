import type { Incident } from './types.js';

/** Events a notifier can receive. */
export const NOTIFY_EVENTS = [
  'incident:opened',
  'incident:escalated',
  'incident:acknowledged',
  'incident:mitigating',
  'incident:resolved',
  'incident:reopened',
  'incident:overdue',
  'incident:updated',
] as const;
/**
 * An incident event name.
 *
 * @example
 * ```ts
 * createMonitor({ service: 'api', notifiers: [{ webhook: url, events: ['incident:opened', 'incident:resolved'] }] });
 * ```
 */
export type IncidentEventName = (typeof NOTIFY_EVENTS)[number];

/**
 * What a notifier receives for one incident event.
 *
 * @example
 * ```ts
 * createMonitor({ service: 'api', notifiers: [(n) => console.log(n.event, n.incident.summary)] });
 * ```
 */
export interface Notification {
  event: IncidentEventName;
  service: string;
  /** Clock time of the event. */
  at: number;
  /** A snapshot of the incident right after the change. */
  incident: Incident;
}

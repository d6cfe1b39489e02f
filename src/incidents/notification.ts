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
  /**
   * `<service>:<type>:<scope>`: the same for every notification about one
   * cause, on every replica of a fleet. Use it as PagerDuty's `dedup_key` or
   * as an Alertmanager-style group key: a receiver that sees it twice while
   * the first is unresolved has one incident, not two.
   */
  dedupKey: string;
}

/**
 * The dedup key of an incident's notifications: `<service>:<type>:<scope>`.
 *
 * @example
 * ```ts
 * notificationDedupKey('checkout', { type: 'high-error-rate', scope: 'service' }); // 'checkout:high-error-rate:service'
 * ```
 */
export function notificationDedupKey(service: string, incident: Pick<Incident, 'type' | 'scope'>): string {
  return `${service}:${incident.type}:${incident.scope}`;
}

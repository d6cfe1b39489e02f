import type { IncidentEventName } from './config.js';
import type { Incident } from './types.js';

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

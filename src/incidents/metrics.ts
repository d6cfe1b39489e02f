import type { Registry } from 'prom-client';
import { registerCollector, type PromSample } from '../metrics/prometheus.js';
import type { DetectionEngine } from './detection.js';
import { RESPONSE_BUCKETS_SECONDS, type DurationStats } from './duration-stats.js';
import type { IncidentLog } from './log.js';
import type { IncidentManager } from './manager.js';
import type { Notifiers } from './notifiers.js';

function histogram(name: string, d: DurationStats): PromSample[] {
  const out: PromSample[] = [];
  let cum = 0;
  for (let i = 0; i <= RESPONSE_BUCKETS_SECONDS.length; i++) {
    cum += d.buckets[i]!;
    const le = i < RESPONSE_BUCKETS_SECONDS.length ? String(RESPONSE_BUCKETS_SECONDS[i]) : '+Inf';
    out.push({ metricName: `${name}_bucket`, labels: { le }, value: cum });
  }
  out.push({ metricName: `${name}_sum`, labels: {}, value: d.sumMs / 1000 });
  out.push({ metricName: `${name}_count`, labels: {}, value: d.count });
  return out;
}

/**
 * Registers the incident metrics, all computed at scrape time:
 * `incidents_open{type,severity}`, `incidents_total{type,severity}`,
 * `incident_time_to_{detect,acknowledge,resolve}_seconds` histograms,
 * `incidents_pending`, `incident_notifications_total{notifier,result}`,
 * `incident_log_lines_total{result}` and `detector_errors_total{detector}`.
 */
export function registerIncidentMetrics(
  reg: Registry,
  prefix: string,
  parts: { manager: IncidentManager; detection: DetectionEngine; notifiers: Notifiers; log: IncidentLog | undefined },
): void {
  const { manager, detection, notifiers, log } = parts;
  registerCollector(reg, `${prefix}incidents_open`, 'Unresolved incidents by type and current severity.', 'gauge', () => {
    const counts = new Map<string, PromSample>();
    for (const i of manager.activeIncidents()) {
      const key = `${i.type}\u0000${i.severity}`;
      const s = counts.get(key);
      if (s !== undefined) s.value++;
      else counts.set(key, { labels: { type: i.type, severity: i.severity }, value: 1 });
    }
    return [...counts.values()];
  }, 'max'); // across workers: the most any one has open (replicas sharing incidents all show the same ones)
  registerCollector(reg, `${prefix}incidents_total`, 'Incidents opened since start, by type and severity at open.', 'counter', () =>
    [...manager.openedByLabel.values()].map((e) => ({ labels: { type: e.type, severity: e.severity }, value: e.count })),
  );
  const times: [string, string, DurationStats][] = [
    ['detect', 'Time from a condition first seen to its incident opening.', manager.timeToDetect],
    ['acknowledge', 'Time from an incident opening to its acknowledgement.', manager.timeToAcknowledge],
    ['resolve', 'Time from an incident opening to its resolution.', manager.timeToResolve],
  ];
  for (const [what, help, stats] of times) {
    const name = `${prefix}incident_time_to_${what}_seconds`;
    registerCollector(reg, name, help, 'histogram', () => histogram(name, stats));
  }
  registerCollector(reg, `${prefix}incidents_pending`, 'Conditions firing that have not held for forMs yet.', 'gauge', () => [
    { labels: {}, value: detection.pending().length },
  ], 'max');
  registerCollector(reg, `${prefix}incident_notifications_total`, 'Incident notifications by notifier and result.', 'counter', () =>
    notifiers.stats().flatMap((s) =>
      (['delivered', 'failed', 'dropped'] as const).map((result) => ({ labels: { notifier: s.name, result }, value: s[result] })),
    ),
  );
  if (log !== undefined) {
    registerCollector(reg, `${prefix}incident_log_lines_total`, 'Incident log lines by result (corrupt: skipped at replay).', 'counter', () => {
      const s = log.stats();
      return (['written', 'dropped', 'failed', 'corrupt'] as const).map((result) => ({ labels: { result }, value: s[result] }));
    });
  }
  registerCollector(reg, `${prefix}detector_errors_total`, 'Detector evaluations that threw or returned an invalid value.', 'counter', () =>
    detection.detectorStatus().map((d) => ({ labels: { detector: d.name }, value: d.errors })),
  );
}

/**
 * firebreak: incident-response runbooks as code inside a Node.js service.
 *
 * @example
 * ```ts
 * import { createMonitor } from 'firebreak';
 * const monitor = createMonitor({ service: 'search-api', slos: [{ name: 'availability', kind: 'success-rate', objective: 0.995 }] });
 * monitor.recordRequest({ route: 'GET /search', durationMs: 183, status: 200 });
 * console.log(monitor.evaluate().slos);
 * ```
 *
 * @packageDocumentation
 */
export { createMonitor, Monitor } from './monitor.js';
export type {
  RequestRecord,
  TimerOutcome,
  EvaluationReport,
  SloTransition,
  MonitorStats,
  MonitorEvents,
  RecordingHealth,
  RejectReason,
} from './monitor.js';
export { systemClock, every } from './clock.js';
export type { Clock, TimerHandle } from './clock.js';
export { monitorOptionsSchema, sloSchema, parseConfig } from './config.js';
export type { MonitorOptions, ResolvedMonitorOptions, SloInput, SloConfig, SloKind } from './config.js';
export { FirebreakError, ConfigError, ValidationError, NotFoundError } from './errors.js';
export type { FieldIssue } from './errors.js';
export type { SloResult, SloStatus } from './slo/evaluate.js';
export type { RouteStats, CacheStats } from './metrics/series-store.js';
export type { LatencySummary } from './metrics/latency-window.js';
export type { ResourceProbes, MemoryReading } from './metrics/process.js';
export { SafeEmitter } from './events.js';

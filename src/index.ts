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
/**
 * The zod 4 that firebreak validates with, for an action's `params` when the
 * service itself uses another zod (zod 3): a schema built with it has the
 * types and internals `register()` expects (see docs/controls-and-actions.md,
 * "zod versions").
 *
 * @example
 * ```ts
 * import { z } from 'firebreak';
 * monitor.actions.register({ id: 'batch.resize', title: 'Resize', params: z.object({ size: z.number().int().positive() }), execute: ({ params }) => pool.resize(params.size) });
 * ```
 */
export { z } from 'zod';
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
export { MAX_ARMS, DEFAULT_CLOSE_TIMEOUT_MS, TOP_ROUTES, DEFAULT_STATS_ROUTES } from './monitor.js';
export type { CloseOptions, CloseResult, StatsOptions, RouteSort, RoutePage, RouteRank, TopRoutes } from './monitor.js';
export type { Logger, ContainedKind } from './logger.js';
export { CONTAINED_KINDS } from './logger.js';
export { MAX_NAME_LENGTH } from './metrics/series-store.js';
export { ActionRegistry } from './actions/registry.js';
export type { ActionRegistryStats, ActionEventName } from './actions/registry.js';
export type {
  ActionDefinition,
  ActionContext,
  RevertContext,
  ActionResult,
  ActionInfo,
  ActionExecution,
  ExecutionFleet,
  ActionOutcome,
  ActionRisk,
  ActionSource,
  AuditEntry,
  AuditFilter,
  ExecuteOptions,
  RevertOptions,
  RevertRecord,
  ActionsOptions,
  JsonSchema,
} from './actions/types.js';
export { Controls, MAX_CONTROLS_PER_KIND } from './actions/controls/controls.js';
export type { ControlsStats } from './actions/controls/controls.js';
export { Feature, featureOptionsSchema } from './actions/controls/feature.js';
export type { FeatureOptions, FeatureStats, FeatureChange, DisableFeatureOptions, EnableFeatureOptions } from './actions/controls/feature.js';
export { GuardedCache } from './actions/controls/cache.js';
export type { CacheOptions, GuardedCacheStats } from './actions/controls/cache.js';
export { RateLimiter, rateLimiterOptionsSchema } from './actions/controls/rate-limiter.js';
export { MAX_KEY_LENGTH, limiterKey } from './actions/controls/rate-limiter.js';
export type { RateLimiterOptions, RateLimiterStats, RateLimitVerdict, RateLimit } from './actions/controls/rate-limiter.js';
export type { HeavyHitter } from './actions/controls/space-saving.js';
export { Fallback, fallbackOptionsSchema } from './actions/controls/fallback.js';
export type { FallbackOptions, FallbackStats } from './actions/controls/fallback.js';
export { Canary, CANARY_BUCKETS, canaryOptionsSchema } from './actions/controls/canary.js';
export type { CanaryOptions, CanaryStats, CanaryArm, CanaryRequest } from './actions/controls/canary.js';
export type { ControlDetectorSpec, SeverityLadder } from './actions/controls/detectors.js';
export { Playbooks, RUNBOOK_PLAYBOOKS, SCOPE_PREFIX, scopedTo } from './actions/playbooks.js';
export type { PlaybookStep, PlaybookStepInput, PlaybookTable, PlaybooksOption, StepContext, StepParamsFn } from './actions/playbooks.js';
export { buildProcedures } from './actions/procedures.js';
export type { ProcedureStep, ProcedureStatus, ProcedureSources } from './actions/procedures.js';
export { AutoRemediation } from './actions/remediation.js';
export type {
  AutoRemediateOption,
  RemediationPolicy,
  RemediationPolicyInput,
  RemediationRun,
  RemediationStats,
  RemediationStepResult,
  RemediationTrigger,
} from './actions/remediation.js';
export { systemClock, every } from './clock.js';
export type { Clock, TimerHandle } from './clock.js';
export { monitorOptionsSchema, sloSchema, parseConfig, RUNBOOK_SLOS } from './config.js';
export type { MonitorOptions, ResolvedMonitorOptions, SloInput, SloConfig, SloKind } from './config.js';
export { FirebreakError, ConfigError, ValidationError, NotFoundError, ActionError, isFirebreakError } from './errors.js';
export type { FieldIssue, ActionErrorCode } from './errors.js';
export type { SloResult, SloStatus, ErrorBudget } from './slo/evaluate.js';
export type { RouteStats, CacheStats } from './metrics/series-store.js';
export type { HistoryRing, HistoryReport, HistoryPoint, HistorySloPoint, HistorySlo, HistoryMarker, HistoryMarkerKind } from './history.js';
export { HISTORY_MAX_SLOS, HISTORY_MAX_MARKERS } from './history.js';
export type { LatencySummary } from './metrics/latency-window.js';
export type { ResourceProbes, MemoryReading } from './metrics/process.js';
export { SafeEmitter } from './events.js';
export { InvalidTransitionError, LimitError } from './errors.js';

// Incidents: detection, lifecycle, log, messages (issue 3)
export { SEVERITIES, SEVERITY_POLICY, INCIDENT_TYPES, compareSeverity } from './incidents/types.js';
export type {
  Incident,
  IncidentStatus,
  IncidentType,
  Severity,
  Priority,
  TimelineEntry,
  TimelineKind,
  ActionItem,
  SignalReading,
  IncidentFleetInfo,
  Suppression,
} from './incidents/types.js';
export { IncidentManager } from './incidents/manager.js';
export type { IncidentChange, ProcedureProvider, IncidentTotals, ResponseTimes } from './incidents/manager.js';
export type { IncidentFilter } from './incidents/store.js';
export type { OpenIncidentInput, StepInput, ResolveInput, NoteInput, ActionItemInput, RecordInput } from './incidents/inputs.js';
export { LIFECYCLE } from './incidents/lifecycle.js';
export type { LifecycleStep } from './incidents/lifecycle.js';
export { renderAlert, renderUpdate, renderResolved } from './incidents/templates.js';
export type { RenderedMessage, RenderOptions, SlackPayload, SlackBlock, SlackText } from './incidents/templates.js';
export { renderPostmortem } from './incidents/postmortem.js';
export type { PostmortemOptions } from './incidents/postmortem.js';
export type { RunbookMeta, RunbookMetaInput } from './runbook.js';
export { formatDuration } from './incidents/format.js';
export type { IncidentChanges, PendingCondition, DetectorStatus } from './incidents/detection.js';
export type { CustomDetectorInput, DetectorReading } from './incidents/detector.js';
export type { HealthCheckFn, HealthCheckOptions, HealthReport, HealthCheckResult } from './incidents/health.js';
export type { IncidentStats, IncidentSummary, IncidentEvents, DetectorHandle } from './incidents/system.js';
export { summarizeIncident } from './incidents/system.js';
export type { Notification } from './incidents/notification.js';
export { notificationDedupKey } from './incidents/notification.js';
export type { NotifierStats, DeadLetter } from './incidents/notifiers.js';
export { replayLog, replayBound, REPLAY_MIN_BYTES } from './incidents/log.js';
export type { CorruptLine, LogFlushResult, LogStats, LogRecord, ReplayOptions, ReplayResult } from './incidents/log.js';
export type { BurnRateState, BurnStatus, BurnWindow } from './incidents/burn-rate.js';
export type { BurnStateStats } from './incidents/burn-state.js';
export { defaultMinEvents } from './incidents/burn-rate.js';
export type { DurationSummary } from './incidents/duration-stats.js';
export { KIND_DEFAULTS, RUNBOOK_PRESET, DEFAULT_BURN_RULES } from './incidents/config.js';
export { DEFAULT_INHIBIT_RULES } from './incidents/inhibition.js';
export type { InhibitRule, InhibitRuleInput } from './incidents/inhibition.js';
export { Silences, SILENCE_LIMITS } from './incidents/silences.js';
export type { Silence, SilenceInput, SilenceState } from './incidents/silences.js';
export { Maintenance, MAINTENANCE_LIMITS, WEEKDAYS } from './incidents/maintenance.js';
export type { MaintenanceInput, MaintenanceWindow, Weekday } from './incidents/maintenance.js';
export { MATCHER_NAMES } from './incidents/matchers.js';
export type { Matcher, MatcherInput, MatcherName } from './incidents/matchers.js';
export type {
  BurnRule,
  BurnRateInput,
  DetectorConfigInput,
  DetectorKind,
  IncidentEventName,
  IncidentLogInput,
  IncidentOptionsInput,
  NotifierFn,
  NotifierInput,
  ThresholdOverrides,
} from './incidents/config.js';
export { generateRules, rulesToYaml, promDuration, rulesOptionsSchema, PROMETHEUS_SLOW_TICKET } from './prometheus/rules.js';
export type { RulesOptions, RuleFile, RecordingRule, AlertingRule } from './prometheus/rules.js';
export type { ClusterAggregator } from './metrics/prometheus.js';
export { clusterMetrics, clusterWorkerMetrics } from './cluster/index.js';
export type { ClusterMetrics, ClusterMetricsOptions, ClusterMetricsSource } from './cluster/index.js';

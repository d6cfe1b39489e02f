import type { IncidentType, Severity } from '../incidents/types.js';

/** One step of the quick reference: what to do, the action that does it (if automated) and how long it takes. */
export interface EmergencyStep {
  title: string;
  /** The firebreak action id, or undefined for a step a person does by hand. */
  actionId?: string;
  estimatedSeconds: number;
}

/** One row of the emergency quick reference. */
export interface EmergencyRefRow {
  type: IncidentType;
  severity: Severity;
  primary: string;
  secondary: string;
  /** Primary plus secondary step. */
  estimatedSeconds: number;
  steps: [EmergencyStep, EmergencyStep];
}

function row(type: IncidentType, severity: Severity, primary: EmergencyStep, secondary: EmergencyStep): EmergencyRefRow {
  const label = (s: EmergencyStep): string => (s.actionId === undefined ? `${s.title} (manual)` : `${s.title} (${s.actionId})`);
  return {
    type,
    severity,
    primary: label(primary),
    secondary: label(secondary),
    estimatedSeconds: primary.estimatedSeconds + secondary.estimatedSeconds,
    steps: [primary, secondary],
  };
}

/**
 * The runbooks' "Emergency Procedures / Quick Reference" table with the step
 * durations of their detailed procedures. Interim copy: it is replaced by the
 * library's runbook-preset playbooks once those land, so the two cannot drift.
 */
export const EMERGENCY_REFERENCE: readonly EmergencyRefRow[] = [
  row('high-latency', 'high', { title: 'Disable reranking', actionId: 'model.fallback', estimatedSeconds: 30 }, { title: 'Clear cache', actionId: 'cache.clear', estimatedSeconds: 60 }),
  row('high-error-rate', 'critical', { title: 'Emergency stop', actionId: 'feature.emergency-stop', estimatedSeconds: 30 }, { title: 'Check logs', estimatedSeconds: 60 }),
  row('model-failure', 'high', { title: 'Disable reranking', actionId: 'model.fallback', estimatedSeconds: 30 }, { title: 'Check model files', estimatedSeconds: 30 }),
  row('index-corruption', 'critical', { title: 'Verify index', estimatedSeconds: 60 }, { title: 'Rebuild index', estimatedSeconds: 1800 }),
  row('memory-exhaustion', 'high', { title: 'Clear cache', actionId: 'cache.clear', estimatedSeconds: 60 }, { title: 'Restart service', estimatedSeconds: 120 }),
  row('cache-failure', 'medium', { title: 'Disable cache', actionId: 'cache.disable', estimatedSeconds: 30 }, { title: 'Clear cache', actionId: 'cache.clear', estimatedSeconds: 60 }),
  row('rate-limit-attack', 'high', { title: 'Adjust limits', actionId: 'rate-limit.tighten', estimatedSeconds: 60 }, { title: 'Block IPs', actionId: 'rate-limit.block', estimatedSeconds: 120 }),
  row('canary-failure', 'high', { title: 'Emergency stop', actionId: 'canary.emergency-stop', estimatedSeconds: 30 }, { title: 'Disable canary', actionId: 'canary.disable', estimatedSeconds: 30 }),
];

import type { IncidentType, Severity } from '../incidents/types.js';

/** One step of the quick reference: the action, its title and how long the runbooks say it takes. */
export interface EmergencyStep {
  action: string;
  title: string;
  mode: 'auto' | 'manual';
  estimatedSeconds: number | null;
}

/** One row of the emergency quick reference. */
export interface EmergencyRefRow {
  type: IncidentType;
  severity: Severity;
  primary: string;
  secondary: string;
  /** All the playbook's steps together (null when an action has no estimate). */
  estimatedSeconds: number | null;
  steps: EmergencyStep[];
}

/**
 * The severity each incident type usually has: the "Severity" column of the
 * runbooks' quick-reference table. (The live severity of an incident comes
 * from its detector's thresholds.)
 */
const TYPICAL_SEVERITY: Readonly<Record<string, Severity>> = {
  'high-latency': 'high',
  'high-error-rate': 'critical',
  'model-failure': 'high',
  'index-corruption': 'critical',
  'memory-exhaustion': 'high',
  'cache-failure': 'medium',
  'rate-limit-attack': 'high',
  'canary-failure': 'high',
};

/**
 * The playbook quick reference, built from the library's own data so it
 * cannot drift: the `runbook` preset's playbooks (incident type → ordered
 * steps) and the metadata of the actions the controls register (title,
 * estimated time). A throwaway monitor with one control of each kind
 * supplies the action metadata; nothing is started. The library is loaded
 * through the package's own name, so the CLI bundle stays small and the
 * other commands start without it.
 *
 * @example
 * ```ts
 * for (const row of await emergencyReference()) console.log(row.type, row.primary, row.estimatedSeconds);
 * ```
 */
export async function emergencyReference(): Promise<EmergencyRefRow[]> {
  const { createMonitor, RUNBOOK_PLAYBOOKS } = await import('firebreak');
  const monitor = createMonitor({ service: 'emergency-reference' });
  monitor.feature('feature');
  monitor.cache('cache', { max: 1 });
  monitor.rateLimiter('limiter', { maxRequests: 1, windowSeconds: 1 });
  monitor.fallback('model', { primary: () => null, fallback: () => null });
  monitor.canary('canary');
  const actions = new Map(monitor.actions.list().map((a) => [a.id, a]));

  return Object.entries(RUNBOOK_PLAYBOOKS).map(([type, playbook]) => {
    const steps: EmergencyStep[] = playbook.map((s) => {
      const info = actions.get(s.action);
      return { action: s.action, title: s.title ?? info?.title ?? s.action, mode: s.mode ?? 'manual', estimatedSeconds: info?.estimatedSeconds ?? null };
    });
    const label = (s: EmergencyStep | undefined): string => (s === undefined ? '—' : `${s.title} [${s.action}, ${s.mode}]`);
    const total = steps.every((s) => s.estimatedSeconds !== null) ? steps.reduce((n, s) => n + (s.estimatedSeconds ?? 0), 0) : null;
    return { type, severity: TYPICAL_SEVERITY[type] ?? 'medium', primary: label(steps[0]), secondary: label(steps[1]), estimatedSeconds: total, steps };
  });
}

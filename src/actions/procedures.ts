import type { RunbookMeta } from '../runbook.js';
import type { Incident } from '../incidents/types.js';
import type { Controls } from './controls/controls.js';
import { resolveParams, type PlaybookStep, type Playbooks } from './playbooks.js';
import type { ActionRegistry } from './registry.js';
import type { ActionExecution, ActionRisk } from './types.js';

/**
 * Where a procedure step stands for one incident.
 *
 * @example
 * ```ts
 * const open = (monitor.incidents.procedures(id) as ProcedureStep[]).filter((s) => s.status === 'pending');
 * ```
 */
export type ProcedureStatus = 'pending' | 'done' | 'failed' | 'reverted';

/**
 * One step of an incident's procedure (`monitor.incidents.procedures(id)`):
 * the playbook step joined with the action's metadata and what has been done
 * about it on this incident.
 *
 * @example
 * ```ts
 * for (const s of monitor.incidents.procedures(id) as ProcedureStep[]) {
 *   console.log(`${s.step}. ${s.title} (${s.estimatedSeconds} s) [${s.mode}] ${s.status}`);
 * }
 * ```
 */
export interface ProcedureStep {
  /** 1-based position in the playbook. */
  step: number;
  action: string;
  title: string;
  description: string;
  mode: 'auto' | 'manual';
  /** Params the step runs with for this incident. */
  params: Record<string, unknown>;
  /** The runbook estimate, or null when the action is not registered. */
  estimatedSeconds: number | null;
  risk: ActionRisk | null;
  requiresConfirm: boolean;
  verification?: string;
  /** The action's owner, runbook URL and escalation contacts, when registered with them. */
  runbook?: RunbookMeta;
  /** The action is registered (its control exists). */
  available: boolean;
  /** Auto-remediation would run it: `auto` mode, available, safe, no confirmation. */
  automatic: boolean;
  status: ProcedureStatus;
  /** The execution the status comes from (the latest matching one). */
  executionId?: string;
  /** When that execution finished (or was reverted). */
  at?: number;
  by?: string;
  error?: string;
  /** The step's params function threw; the step cannot run. */
  paramsError?: string;
}

/**
 * What procedures are built from.
 *
 * @example
 * ```ts
 * buildProcedures(incident, { playbooks: monitor.playbooks, actions: monitor.actions, controls: monitor.controls });
 * ```
 */
export interface ProcedureSources {
  playbooks: Playbooks;
  actions: ActionRegistry;
  controls: Controls;
}

/** True when every param the step names has the same value in the execution's params. */
export function paramsMatch(step: Record<string, unknown>, executed: Record<string, unknown>): boolean {
  for (const [k, v] of Object.entries(step)) if (executed[k] !== v) return false;
  return true;
}

/** Whether auto-remediation may run `step`, given the action's metadata. */
export function isAutomatic(step: PlaybookStep, actions: ActionRegistry): boolean {
  const info = actions.get(step.action);
  return step.mode === 'auto' && info !== undefined && info.risk === 'safe' && !info.requiresConfirm;
}

/**
 * The procedure of `incident`: its type's playbook steps with estimates,
 * risk, availability and status (pending / done / failed / reverted).
 *
 * @example
 * ```ts
 * monitor.incidents.setProcedureProvider((incident) => buildProcedures(incident, sources));
 * ```
 */
export function buildProcedures(incident: Incident, sources: ProcedureSources): ProcedureStep[] {
  const { playbooks, actions, controls } = sources;
  const executions = actions.executions({ incidentId: incident.id });
  return playbooks.get(incident.type).map((step, i) => {
    const info = actions.get(step.action);
    const { params, error: paramsError } = resolveParams(step, incident, { controls });
    const out: ProcedureStep = {
      step: i + 1,
      action: step.action,
      title: step.title ?? info?.title ?? step.action,
      description: info?.description ?? '',
      mode: step.mode,
      params,
      estimatedSeconds: info?.estimatedSeconds ?? null,
      risk: info?.risk ?? null,
      requiresConfirm: info?.requiresConfirm ?? false,
      available: info !== undefined,
      automatic: isAutomatic(step, actions),
      status: 'pending',
    };
    const verification = step.verification ?? info?.verification;
    if (verification !== undefined) out.verification = verification;
    if (info?.runbook !== undefined) out.runbook = info.runbook;
    if (paramsError !== undefined) out.paramsError = paramsError;
    const last = latest(executions, step.action, params);
    if (last !== undefined) applyStatus(out, last);
    return out;
  });
}

function latest(executions: ActionExecution[], action: string, params: Record<string, unknown>): ActionExecution | undefined {
  for (let i = executions.length - 1; i >= 0; i--) {
    const ex = executions[i]!;
    if (ex.action === action && paramsMatch(params, ex.params)) return ex;
  }
  return undefined;
}

function applyStatus(out: ProcedureStep, ex: ActionExecution): void {
  out.executionId = ex.id;
  out.by = ex.by;
  out.at = ex.finishedAt;
  if (!ex.ok) {
    out.status = 'failed';
    if (ex.error !== undefined) out.error = ex.error;
  } else if (ex.revert !== undefined && (ex.revert.outcome === 'success' || ex.revert.outcome === 'noop')) {
    out.status = 'reverted';
    out.at = ex.revert.at;
    out.by = ex.revert.by;
  } else {
    out.status = 'done';
  }
}

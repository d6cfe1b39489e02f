import type { ActionExecution } from '../../actions/types.js';
import { NotFoundError, ValidationError, type FieldIssue } from '../../errors.js';
import type { Monitor } from '../../monitor.js';
import { HttpError } from '../errors.js';
import type { Caller } from '../options.js';
import type { RouteResult } from '../route.js';

/** What an admin call passes to `monitor.actions.execute()`. */
export interface ExecuteRequest {
  params?: Record<string, unknown>;
  incidentId?: string;
  confirm?: boolean;
}

/** The control an admin route acts on, checked before the action runs. */
export interface ControlTarget {
  /** `cache`, `rate limiter`, `canary`, `feature`, `fallback` (for messages). */
  kind: string;
  controls: ReadonlyMap<string, unknown>;
  /** As the caller named it; undefined means "the only one". */
  name: string | undefined;
}

/**
 * 404 for a control that does not exist: the named one, or any of its kind
 * when none is named. (Several and none named is left to the action: a 400
 * asking for the name.)
 */
export function requireControl(target: ControlTarget): void {
  const { kind, controls, name } = target;
  if (name !== undefined ? !controls.has(name) : controls.size === 0) throw new NotFoundError(kind, name ?? '(none configured)');
}

/** The parts of the admin call that `runAction` needs. */
export interface ActionCall {
  monitor: Monitor;
  caller: Caller;
}

/**
 * Runs an action as the caller and turns the execution into a reply: 200
 * with the execution when it succeeded (or was a no-op), 500 `ACTION_FAILED`
 * / 504 `ACTION_TIMEOUT` with the execution in `details` otherwise. Every
 * run is in the action audit log and, when tied to one, on the incident's
 * timeline — the registry does that.
 *
 * `rename` maps the action's param names to the body fields the route
 * exposes (`name` → `cache`), so a 400 names the field the caller sent.
 */
export async function runAction(
  call: ActionCall,
  actionId: string,
  req: ExecuteRequest,
  opts: { control?: ControlTarget; rename?: Record<string, string> } = {},
): Promise<RouteResult> {
  if (opts.control !== undefined) requireControl(opts.control);
  const options: { params?: Record<string, unknown>; incidentId?: string; by: string; confirm?: boolean } = { by: call.caller.name };
  if (req.params !== undefined) options.params = req.params;
  if (req.incidentId !== undefined) options.incidentId = req.incidentId;
  if (req.confirm !== undefined) options.confirm = req.confirm;
  let ex: ActionExecution;
  try {
    ex = await call.monitor.actions.execute(actionId, options);
  } catch (err) {
    const rename = opts.rename;
    if (err instanceof ValidationError && rename !== undefined) {
      const issues: FieldIssue[] = err.issues.map((i) => {
        const [head, ...rest] = i.path.split('.');
        const to = head === undefined ? undefined : rename[head];
        return to === undefined ? i : { path: [to, ...rest].join('.'), message: i.message };
      });
      throw new ValidationError('request body', issues);
    }
    throw err;
  }
  return executionReply(ex);
}

/** 200 for a success or no-op; 500 / 504 in the error shape for a failed or timed-out run. */
export function executionReply(ex: ActionExecution, outcome = ex.outcome, error = ex.error): RouteResult {
  if (outcome === 'failed') throw new HttpError('ACTION_FAILED', `${ex.action} failed: ${error ?? 'unknown error'}`, ex);
  if (outcome === 'timeout') throw new HttpError('ACTION_TIMEOUT', `${ex.action} timed out`, ex);
  return { json: ex };
}

/** Drops undefined fields: the action schemas treat a present `undefined` like a value. */
export function defined(o: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(o)) if (v !== undefined) out[k] = v;
  return out;
}

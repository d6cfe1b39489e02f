import type { Clock } from '../clock.js';
import type { ActionOutcome, ActionResult } from './types.js';

/** How an isolated call ended. */
export interface Settled {
  outcome: ActionOutcome;
  result: ActionResult;
  error?: string;
}

/** Renders anything thrown as a short string (never throws itself). */
export function errorMessage(err: unknown): string {
  try {
    if (err instanceof Error) return err.message || err.name;
    return typeof err === 'string' ? err : JSON.stringify(err) ?? String(err);
  } catch {
    return 'unprintable error';
  }
}

/** Keeps only the documented fields of whatever an action returned. */
function normalise(value: unknown): ActionResult {
  if (typeof value !== 'object' || value === null) return {};
  const v = value as Record<string, unknown>;
  const out: ActionResult = {};
  if (v['noop'] === true) out.noop = true;
  if (typeof v['message'] === 'string') out.message = v['message'];
  if (typeof v['data'] === 'object' && v['data'] !== null) out.data = v['data'] as Record<string, unknown>;
  return out;
}

function settleValue(value: unknown): Settled {
  const result = normalise(value);
  return { outcome: result.noop === true ? 'noop' : 'success', result };
}

/**
 * Calls `fn` now (synchronously, so a synchronous action takes effect before
 * the caller's next line) and settles without ever rejecting: a throw or a
 * rejection is `failed`; a promise still pending after `timeoutMs` on the
 * clock is `timeout`, and `controller` is aborted so the action can stop.
 * A late rejection of a timed-out promise is swallowed.
 */
export function runIsolated(
  clock: Clock,
  timeoutMs: number,
  controller: AbortController,
  fn: () => unknown,
): Promise<Settled> {
  let value: unknown;
  try {
    value = fn();
  } catch (err) {
    return Promise.resolve({ outcome: 'failed', result: {}, error: errorMessage(err) });
  }
  if (typeof value !== 'object' || value === null || typeof (value as { then?: unknown }).then !== 'function') {
    return Promise.resolve(settleValue(value));
  }
  return new Promise<Settled>((resolve) => {
    let done = false;
    const timer = clock.setTimeout(() => {
      if (done) return;
      done = true;
      controller.abort(new Error(`timed out after ${timeoutMs} ms`));
      resolve({ outcome: 'timeout', result: {}, error: `timed out after ${timeoutMs} ms` });
    }, timeoutMs);
    (value as PromiseLike<unknown>).then(
      (v) => {
        if (done) return;
        done = true;
        clock.clearTimeout(timer);
        resolve(settleValue(v));
      },
      (err: unknown) => {
        if (done) return;
        done = true;
        clock.clearTimeout(timer);
        resolve({ outcome: 'failed', result: {}, error: errorMessage(err) });
      },
    );
  });
}

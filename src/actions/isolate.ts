import type { Clock } from '../clock.js';
import { containAsync, errorMessage } from '../safe-call.js';
import type { ActionOutcome, ActionResult } from './types.js';

export { errorMessage };

/** How an isolated call ended. */
export interface Settled {
  outcome: ActionOutcome;
  result: ActionResult;
  error?: string;
}

class ResultShapeError extends Error {}

function describeType(value: unknown): string {
  if (Array.isArray(value)) return 'an array';
  if (value === null) return 'null';
  const t = typeof value;
  return t === 'object' || t === 'undefined' ? t : `a ${t}`;
}

/**
 * Keeps only the documented fields of what an action returned, and refuses
 * anything else: nothing (`undefined`/`null`) is an empty result; a value
 * that is not a plain object, or a documented field of the wrong type, is a
 * bug in the action, reported as such rather than recorded as a success the
 * operator would trust. `data` must be JSON-serialisable: it goes to the
 * audit log, the timeline, the HTTP answer and back to `revert`.
 */
function normalise(value: unknown): ActionResult {
  if (value === undefined || value === null) return {};
  if (typeof value !== 'object' || Array.isArray(value)) {
    throw new ResultShapeError(`returned ${describeType(value)}; expected nothing or an object { noop?, message?, data? }`);
  }
  const v = value as Record<string, unknown>;
  const out: ActionResult = {};
  const noop = v['noop'];
  if (noop !== undefined && typeof noop !== 'boolean') throw new ResultShapeError(`returned noop as ${describeType(noop)}; expected a boolean`);
  if (noop === true) out.noop = true;
  const message = v['message'];
  if (message !== undefined && typeof message !== 'string') throw new ResultShapeError(`returned message as ${describeType(message)}; expected a string`);
  if (message !== undefined) out.message = message;
  const data = v['data'];
  if (data !== undefined) {
    if (typeof data !== 'object' || data === null || Array.isArray(data)) {
      throw new ResultShapeError(`returned data as ${describeType(data)}; expected an object`);
    }
    try {
      JSON.stringify(data);
    } catch (err) {
      throw new ResultShapeError(`returned data that is not JSON-serialisable (${errorMessage(err)})`);
    }
    out.data = data as Record<string, unknown>;
  }
  return out;
}

/** Settles a value the action produced; never throws (a getter on the result may). */
function settleValue(value: unknown): Settled {
  try {
    const result = normalise(value);
    return { outcome: result.noop === true ? 'noop' : 'success', result };
  } catch (err) {
    return failed(err);
  }
}

function failed(err: unknown): Settled {
  return { outcome: 'failed', result: {}, error: errorMessage(err) };
}

/**
 * Calls `fn` now (synchronously, so a synchronous action takes effect before
 * the caller's next line) and settles without ever rejecting or throwing: a
 * throw, a rejection, a thenable whose `then` getter or method throws, or a
 * result of the wrong shape is `failed`; a promise still pending after
 * `timeoutMs` on the clock is `timeout`, and `controller` is aborted so the
 * action can stop. A late rejection of a timed-out promise is swallowed.
 */
export function runIsolated(
  clock: Clock,
  timeoutMs: number,
  controller: AbortController,
  fn: () => unknown,
): Promise<Settled> {
  let value: unknown;
  let then: unknown;
  try {
    value = fn();
    // Reading `then` runs user code too (a getter); it fails the call like a throw.
    if ((typeof value === 'object' && value !== null) || typeof value === 'function') then = (value as { then?: unknown }).then;
  } catch (err) {
    return Promise.resolve(failed(err));
  }
  if (typeof then !== 'function') return Promise.resolve(settleValue(value));
  const thenFn = then as (this: unknown, ok: (v: unknown) => void, ko: (e: unknown) => void) => unknown;
  return new Promise<Settled>((resolve) => {
    let done = false;
    const settle = (s: () => Settled): void => {
      if (done) return;
      done = true;
      clock.clearTimeout(timer);
      resolve(s());
    };
    const timer = clock.setTimeout(() => {
      if (done) return;
      done = true;
      controller.abort(new Error(`timed out after ${timeoutMs} ms`));
      resolve({ outcome: 'timeout', result: {}, error: `timed out after ${timeoutMs} ms` });
    }, timeoutMs);
    try {
      // As a promise would: the first callback wins, and a throw after it is ignored.
      containAsync(
        thenFn.call(
          value,
          (v) => settle(() => settleValue(v)),
          (err) => settle(() => failed(err)),
        ),
      );
    } catch (err) {
      settle(() => failed(err));
    }
  });
}

/**
 * Containment of user code (listeners, hooks, key functions, checks…):
 * whatever a callback does — throw, return a promise that rejects, return a
 * thenable whose `then` getter or method throws — must never reach the host
 * as an exception or an unhandled rejection, which would end the process.
 *
 * @packageDocumentation
 */

/**
 * Receives what user code threw or rejected with, to count it. Must not
 * throw; if it does, the error is dropped rather than escaping.
 */
export type ErrorSink = (err: unknown) => void;

const ignore: ErrorSink = () => {};
const nativeThen = Promise.prototype.then;

/**
 * Renders anything thrown as a short string, and never throws itself (not
 * even for an error whose `message` getter or `toString` throws).
 */
export function errorMessage(err: unknown): string {
  try {
    if (err instanceof Error) return String(err.message || err.name);
    return typeof err === 'string' ? err : (JSON.stringify(err) ?? String(err));
  } catch {
    try {
      return String(err);
    } catch {
      return 'unprintable error';
    }
  }
}

function report(onError: ErrorSink, err: unknown): void {
  try {
    onError(err);
  } catch {
    // The sink is firebreak's own counter; a throw here has nowhere safer to go.
  }
}

/**
 * Attaches a rejection handler to `value` if it is a thenable, so that a
 * promise returned by user code and then ignored cannot become an unhandled
 * rejection; the rejection, or a throw of its `then` getter or method, goes to
 * `onError` (at most once). Returns `value` unchanged. For anything that is
 * not an object or a function this is one `typeof`, cheap enough for the hot
 * path.
 *
 * @example
 * ```ts
 * const skipped = containAsync(skip(req)) === true;
 * ```
 */
export function containAsync<T>(value: T, onError: ErrorSink = ignore): T {
  if (typeof value !== 'object' && typeof value !== 'function') return value;
  if (value === null) return value;
  let reported = false;
  const fail = (err: unknown): void => {
    if (reported) return;
    reported = true;
    report(onError, err);
  };
  try {
    const then = (value as { then?: unknown }).then;
    if (typeof then !== 'function') return value;
    const derived: unknown = then.call(value, undefined, fail);
    // A hand-written then() may return a promise of its own that rejects;
    // a native then() returns one that cannot (the handler above never throws).
    if (then !== nativeThen && derived instanceof Promise) derived.then(undefined, ignore);
  } catch (err) {
    fail(err);
  }
  return value;
}

/**
 * Calls user code whose result firebreak ignores (a listener, an audit hook…):
 * a synchronous throw and a rejection of the promise it returns both go to
 * `onError`, counted the same way; nothing escapes to the caller.
 *
 * @example
 * ```ts
 * callSafely(() => this.listenerErrors++, listener, entry);
 * ```
 */
export function callSafely<A extends unknown[]>(onError: ErrorSink, fn: (...args: A) => unknown, ...args: A): void {
  let result: unknown;
  try {
    result = fn(...args);
  } catch (err) {
    report(onError, err);
    return;
  }
  containAsync(result, onError);
}

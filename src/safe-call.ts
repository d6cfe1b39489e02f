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

type EventListener = (ev: Event) => unknown;
type AbortListener = EventListener | { handleEvent(ev: Event): unknown };

/**
 * An `AbortSignal` to hand to user code that fires when `timeoutMs` passes
 * (or {@link AbortHandle.abort} is called), with an abort reason shaped like
 * `AbortSignal.timeout()`'s (a `TimeoutError` DOMException). Node reports a
 * throw in an abort listener as an uncaught exception, which would end the
 * host: listeners added to this signal (`addEventListener`, `onabort`) are
 * wrapped so that a throw or a rejection goes to `onError` instead. Signals
 * derived from it (`AbortSignal.any([signal])`) are the caller's own.
 */
export interface AbortHandle {
  readonly signal: AbortSignal;
  /** Aborts with a `TimeoutError` saying `message`; a second call does nothing. */
  abort(message: string): void;
}

/**
 * Creates an {@link AbortHandle} whose listeners cannot crash the host.
 *
 * @example
 * ```ts
 * const h = guardedAbort(onError);
 * const timer = clock.setTimeout(() => h.abort(`timed out after ${ms} ms`), ms);
 * await check(h.signal);
 * ```
 */
export function guardedAbort(onError: ErrorSink = ignore): AbortHandle {
  const controller = new AbortController();
  const signal = controller.signal;
  const add = EventTarget.prototype.addEventListener;
  const remove = EventTarget.prototype.removeEventListener;
  const wrappers = new Map<string, Map<AbortListener, EventListener>>();
  const wrap = (type: string, listener: AbortListener): EventListener => {
    let byType = wrappers.get(type);
    if (byType === undefined) wrappers.set(type, (byType = new Map()));
    let w = byType.get(listener);
    if (w === undefined) {
      w = function (this: unknown, ev: Event): void {
        try {
          const r: unknown = typeof listener === 'function' ? listener.call(this, ev) : listener.handleEvent(ev);
          containAsync(r, onError);
        } catch (err) {
          report(onError, err);
        }
      };
      byType.set(listener, w);
    }
    return w;
  };
  let onabort: ((this: AbortSignal, ev: Event) => unknown) | null = null;
  let onabortWrapper: EventListener | undefined;
  Object.defineProperties(signal, {
    addEventListener: {
      configurable: true,
      value(type: string, listener: AbortListener | null, options?: boolean | { once?: boolean; signal?: AbortSignal }): void {
        if (listener === null || listener === undefined) return;
        add.call(signal, type, wrap(type, listener), options);
      },
    },
    removeEventListener: {
      configurable: true,
      value(type: string, listener: AbortListener | null, options?: boolean | { capture?: boolean }): void {
        if (listener === null || listener === undefined) return;
        const w = wrappers.get(type)?.get(listener);
        if (w !== undefined) remove.call(signal, type, w, options);
      },
    },
    onabort: {
      configurable: true,
      get: () => onabort,
      set(fn: unknown) {
        if (onabortWrapper !== undefined) remove.call(signal, 'abort', onabortWrapper);
        onabortWrapper = undefined;
        onabort = typeof fn === 'function' ? (fn as (this: AbortSignal, ev: Event) => unknown) : null;
        if (onabort !== null) {
          const f = onabort;
          onabortWrapper = wrap('\0onabort', f as EventListener);
          add.call(signal, 'abort', onabortWrapper);
        }
      },
    },
  });
  return {
    signal,
    abort(message: string): void {
      if (signal.aborted) return;
      controller.abort(new DOMException(message, 'TimeoutError'));
    },
  };
}

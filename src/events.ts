import { EventEmitter } from 'eventemitter3';
import { callSafely } from './safe-call.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- the widest listener type, internal only
type Listener = (...args: any[]) => void;

/**
 * A typed event emitter (eventemitter3 underneath) whose listeners cannot
 * throw into the emitter: a listener that throws, or returns a promise that
 * rejects, is counted and skipped, and the remaining listeners still run.
 * Events fire from evaluation timers, where an escaping error (or an
 * unhandled rejection) would crash the host.
 *
 * @example
 * ```ts
 * monitor.on('slo:breach', (slo) => console.log(slo.name));
 * ```
 */
export class SafeEmitter<Events extends { [K in keyof Events]: Listener }> {
  private readonly ee = new EventEmitter();
  private readonly wrappers = new Map<Listener, Map<PropertyKey, Listener>>();
  /** Listener calls that threw, or whose returned promise rejected. */
  listenerErrors = 0;
  /** The last error a listener threw or rejected with, for diagnosis. */
  lastListenerError: unknown;
  // One sink per emitter, so that containing a listener allocates nothing per call.
  private readonly countListenerError = (err: unknown): void => {
    this.listenerErrors++;
    this.lastListenerError = err;
  };

  /** Calls `fn` every time `event` fires. */
  on<K extends keyof Events & (string | symbol)>(event: K, fn: Events[K]): this {
    this.ee.on(event, this.wrap(event, fn, false));
    return this;
  }

  /** Calls `fn` the next time `event` fires only. */
  once<K extends keyof Events & (string | symbol)>(event: K, fn: Events[K]): this {
    this.ee.once(event, this.wrap(event, fn, true));
    return this;
  }

  /** Removes a listener added with `on` or `once`. */
  off<K extends keyof Events & (string | symbol)>(event: K, fn: Events[K]): this {
    const byEvent = this.wrappers.get(fn);
    const w = byEvent?.get(event);
    if (w !== undefined) {
      this.ee.off(event, w);
      byEvent!.delete(event);
      if (byEvent!.size === 0) this.wrappers.delete(fn);
    }
    return this;
  }

  /** Number of listeners for `event`. */
  listenerCount<K extends keyof Events & (string | symbol)>(event: K): number {
    return this.ee.listenerCount(event);
  }

  /** @internal Fires `event`; listener errors are contained. */
  protected emit<K extends keyof Events & (string | symbol)>(event: K, ...args: Parameters<Events[K]>): void {
    if (this.ee.listenerCount(event) === 0) return;
    this.ee.emit(event, ...(args as unknown[]));
  }

  /** @internal Hears every listener error after it is counted (the monitor logs it); must not throw. */
  protected onListenerError(_event: string, _err: unknown): void {}

  private wrap(event: PropertyKey, fn: Listener, once: boolean): Listener {
    // One sink per listener, made here: containing a call allocates nothing.
    const sink = (err: unknown): void => {
      this.countListenerError(err);
      try {
        this.onListenerError(String(event), err);
      } catch {
        // The hook is firebreak's own logging; it is already contained there.
      }
    };
    const wrapper = (...args: unknown[]): void => {
      if (once) this.forget(fn, event);
      callSafely(sink, fn as (...a: unknown[]) => unknown, ...args);
    };
    let byEvent = this.wrappers.get(fn);
    if (byEvent === undefined) this.wrappers.set(fn, (byEvent = new Map()));
    byEvent.set(event, wrapper);
    return wrapper;
  }

  private forget(fn: Listener, event: PropertyKey): void {
    const byEvent = this.wrappers.get(fn);
    byEvent?.delete(event);
    if (byEvent?.size === 0) this.wrappers.delete(fn);
  }
}

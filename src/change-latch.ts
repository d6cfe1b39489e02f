/**
 * The one small latch every lever shares: a control tells it when its state
 * changed locally, and a fleet (`firebreak/redis`) listens. State applied
 * from the fleet is applied while the latch is muted, so it never echoes
 * back as a local change.
 *
 * @packageDocumentation
 */

/**
 * Kinds of shared lever state: one entry per control (`feature`, `cache`,
 * `limit`, `fallback`, `canary`), per blocked key of a limiter (`block`), per
 * silence and per maintenance window.
 */
export type SharedKind = 'feature' | 'cache' | 'limit' | 'block' | 'fallback' | 'canary' | 'silence' | 'maintenance';

/**
 * A lever's state as the fleet stores it: plain JSON. Every time in it is
 * relative (`…InMs`: milliseconds from the moment it was exported), so that
 * a replica whose clock differs converts it against Redis `TIME`, not its own clock.
 */
export type SharedState = Record<string, unknown>;

/** What listens to the latch (the fleet's control-state part). */
export interface SharedListener {
  /** A lever changed locally (an API call, an action, an HTTP route, the CLI, a playbook). `key`: the blocked key, for `block`. */
  changed(kind: SharedKind, name: string, key?: string): void;
  /** A control was created (it may pick up state the fleet already holds). */
  created(kind: SharedKind, name: string): void;
}

/**
 * The change latch of one monitor (`monitor.controls.shared`). Internal:
 * controls, silences and maintenance windows call {@link ChangeLatch.changed};
 * the fleet applies remote state inside {@link ChangeLatch.applying}.
 */
export class ChangeLatch {
  private listener: SharedListener | undefined;
  private muted = 0;

  /** @internal Installs (or, with undefined, removes) the one listener. */
  listen(listener: SharedListener | undefined): void {
    this.listener = listener;
  }

  /** @internal True while a listener is installed. */
  get attached(): boolean {
    return this.listener !== undefined;
  }

  /** @internal A lever changed locally; ignored while applying remote state. */
  changed(kind: SharedKind, name: string, key?: string): void {
    if (this.muted !== 0 || this.listener === undefined) return;
    try {
      this.listener.changed(kind, name, key);
    } catch {
      // The listener is the fleet's: a failure there must not fail the lever's own call.
    }
  }

  /** @internal A control was created. */
  created(kind: SharedKind, name: string): void {
    if (this.listener === undefined) return;
    try {
      this.listener.created(kind, name);
    } catch {
      // As above: creating a control never fails because of the fleet.
    }
  }

  /** @internal Runs `fn` (applying remote state) without reporting changes. */
  applying<T>(fn: () => T): T {
    this.muted++;
    try {
      return fn();
    } finally {
      this.muted--;
    }
  }
}

/** A relative time (ms from `now`) of an absolute one, or undefined. */
export function relTime(at: number | undefined, now: number): number | undefined {
  return at === undefined ? undefined : at - now;
}

/** Reads a string field of shared state. */
export function str(s: SharedState, k: string): string | undefined {
  const v = s[k];
  return typeof v === 'string' ? v : undefined;
}

/** Reads a finite number field of shared state. */
export function num(s: SharedState, k: string): number | undefined {
  const v = s[k];
  return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
}

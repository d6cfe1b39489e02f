import type { ZodError } from 'zod';

// A registry symbol, so the ESM and the CJS build (each with its own copy of every class) share it.
const BRAND = Symbol.for('firebreak.error');

/**
 * Gives one of our classes the `name` its errors report. Bundlers rename
 * classes (esbuild emits `class _ConfigError` for a class whose body refers
 * to itself), so `new.target.name` would print `_ConfigError` in dist/.
 *
 * @internal
 */
export function nameErrorClass(cls: abstract new (...args: never[]) => Error, name: string): void {
  Object.defineProperty(cls.prototype, 'name', { value: name, writable: true, configurable: true, enumerable: false });
}

/**
 * Base class of every error firebreak throws on purpose. `code` is stable and
 * is what the HTTP layer maps to a status, in one table. Prefer
 * {@link isFirebreakError} to `instanceof`: the ESM and CJS builds (and each
 * CJS entry point) hold their own copies of these classes.
 *
 * @example
 * ```ts
 * try { monitor.incidents.acknowledge('nope', { by: 'alice' }); }
 * catch (err) { if (isFirebreakError(err)) console.log(err.code); }
 * ```
 */
export class FirebreakError extends Error {
  static {
    nameErrorClass(this, 'FirebreakError');
    Object.defineProperty(this.prototype, BRAND, { value: true, enumerable: false });
  }

  /** Stable machine-readable code, e.g. `CONFIG_INVALID`. */
  readonly code: string;
  /** Structured detail (field issues, ids…), safe to show to an operator. */
  readonly details: unknown;

  constructor(code: string, message: string, details?: unknown) {
    super(message);
    // Our classes carry their name on the prototype (see nameErrorClass); a user's subclass keeps its own.
    const proto = new.target.prototype as Error;
    this.name = Object.prototype.hasOwnProperty.call(proto, 'name') ? proto.name : new.target.name;
    this.code = code;
    this.details = details;
  }
}

/** One problem with an input: the dotted field path and what is wrong with it. */
export interface FieldIssue {
  /** Dotted path of the offending field, e.g. `slos.0.quantile` (empty for the root). */
  path: string;
  /** What is wrong, in words. */
  message: string;
}

/** Turns zod issues into `{ path, message }` pairs. */
export function fieldIssues(error: ZodError): FieldIssue[] {
  return error.issues.map((issue) => ({
    path: issue.path.map(String).join('.'),
    message: issue.message,
  }));
}

function describe(issues: FieldIssue[]): string {
  return issues.map((i) => `${i.path === '' ? '(root)' : i.path}: ${i.message}`).join('; ');
}

/**
 * Invalid options: thrown at construction time, naming every bad field path.
 *
 * @example
 * ```ts
 * try { createMonitor({ service: '' }); }
 * catch (err) { if (err instanceof ConfigError) console.log(err.issues); }
 * ```
 */
export class ConfigError extends FirebreakError {
  static {
    nameErrorClass(this, 'ConfigError');
  }

  /** Every problem found, not just the first. */
  readonly issues: FieldIssue[];

  constructor(what: string, issues: FieldIssue[]) {
    super('CONFIG_INVALID', `Invalid ${what}: ${describe(issues)}`, issues);
    this.issues = issues;
  }

  /** Builds a ConfigError from a failed zod parse. */
  static fromZod(what: string, error: ZodError): ConfigError {
    return new ConfigError(what, fieldIssues(error));
  }
}

/**
 * Bad input to an operation at runtime (unknown field, wrong type), as
 * opposed to configuration. Mapped to HTTP 400.
 *
 * @example
 * ```ts
 * throw new ValidationError('action params', [{ path: 'factor', message: 'Expected number' }]);
 * ```
 */
export class ValidationError extends FirebreakError {
  static {
    nameErrorClass(this, 'ValidationError');
  }

  /** Every problem found. */
  readonly issues: FieldIssue[];

  constructor(what: string, issues: FieldIssue[]) {
    super('VALIDATION_FAILED', `Invalid ${what}: ${describe(issues)}`, issues);
    this.issues = issues;
  }

  /** Builds a ValidationError from a failed zod parse. */
  static fromZod(what: string, error: ZodError): ValidationError {
    return new ValidationError(what, fieldIssues(error));
  }
}

/**
 * Something named does not exist (incident id, action id, cache name). Mapped to HTTP 404.
 *
 * @example
 * ```ts
 * throw new NotFoundError('incident', 'inc_01');
 * ```
 */
export class NotFoundError extends FirebreakError {
  static {
    nameErrorClass(this, 'NotFoundError');
  }

  constructor(kind: string, id: string) {
    const shown = printable(id);
    super('NOT_FOUND', `Unknown ${kind}: ${shown}`, { kind, id: shown });
  }
}

/**
 * An id as text, for an error about it: a caller may pass anything, and
 * `String()` of a null-prototype object or a throwing `toString` would turn
 * a clear "not found" into a TypeError.
 */
function printable(id: unknown): string {
  if (typeof id === 'string') return id;
  try {
    return String(id);
  } catch {
    return `(${typeof id})`;
  }
}

/** Stable codes of {@link ActionError}. */
export type ActionErrorCode =
  | 'ACTION_NOT_FOUND'
  | 'CONFIRMATION_REQUIRED'
  | 'ACTION_BUSY'
  | 'EXECUTION_NOT_FOUND'
  | 'NOT_REVERTIBLE'
  | 'ACTION_EXISTS';

/**
 * An action request that cannot be honoured: unknown action (404), missing
 * confirmation (400), the same action already running (409), unknown
 * execution (404), or an execution that cannot be reverted (409). Bad params
 * are a {@link ValidationError} (`VALIDATION_FAILED`, 400) naming the field.
 * A failing or hanging action is never thrown: it is recorded as a failed
 * execution.
 *
 * @example
 * ```ts
 * try { await monitor.actions.execute('cache.clear', { params: { name: 'nope' } }); }
 * catch (err) { if (err instanceof ActionError && err.code === 'ACTION_BUSY') retryLater(); }
 * ```
 */
export class ActionError extends FirebreakError {
  static {
    nameErrorClass(this, 'ActionError');
  }

  declare readonly code: ActionErrorCode;

  constructor(code: ActionErrorCode, message: string, details?: unknown) {
    super(code, message, details);
  }
}

/**
 * A lifecycle step that is not allowed from the incident's current state
 * (acknowledging a resolved incident, reopening an open one…). Mapped to HTTP 409.
 *
 * @example
 * ```ts
 * try { monitor.incidents.reopen(id, { by: 'alice' }); }
 * catch (err) { if (err instanceof InvalidTransitionError) console.log(err.from, err.to); }
 * ```
 */
export class InvalidTransitionError extends FirebreakError {
  static {
    nameErrorClass(this, 'InvalidTransitionError');
  }

  /** The incident's state when the step was attempted. */
  readonly from: string;
  /** The step that was refused. */
  readonly to: string;

  constructor(id: string, from: string, to: string) {
    super('INVALID_TRANSITION', `Incident ${id} is ${from}: cannot ${to}`, { id, from, to });
    this.from = from;
    this.to = to;
  }
}

/**
 * A bounded collection is full and the caller asked for one more (e.g. a
 * manual incident while `incidents.maxActive` incidents are open). Mapped to HTTP 409.
 *
 * @example
 * ```ts
 * throw new LimitError('active incidents', 500);
 * ```
 */
export class LimitError extends FirebreakError {
  static {
    nameErrorClass(this, 'LimitError');
  }

  constructor(what: string, limit: number) {
    super('LIMIT_REACHED', `Too many ${what} (limit ${limit})`, { what, limit });
  }
}

/**
 * True when `err` is an error firebreak threw (any {@link FirebreakError}
 * subclass, including the HTTP layer's), and, given `code`, when its `code`
 * is that one. Works across the ESM and CJS builds and across entry points,
 * where `instanceof` does not: it reads a `Symbol.for('firebreak.error')`
 * brand, not the class.
 *
 * @example
 * ```ts
 * try { await monitor.actions.execute('cache.clear'); }
 * catch (err) {
 *   if (isFirebreakError(err, 'ACTION_BUSY')) retryLater();
 *   else if (isFirebreakError(err)) console.warn(err.code, err.message);
 *   else throw err;
 * }
 * ```
 */
export function isFirebreakError<C extends string = string>(err: unknown, code?: C): err is FirebreakError & { readonly code: C } {
  if (typeof err !== 'object' || err === null) return false;
  if ((err as Record<symbol, unknown>)[BRAND] !== true) return false;
  return code === undefined || (err as { code?: unknown }).code === code;
}

import type { ZodError } from 'zod';

/**
 * Base class of every error firebreak throws on purpose. `code` is stable and
 * is what the HTTP layer maps to a status, in one table.
 *
 * @example
 * ```ts
 * try { monitor.incidents.acknowledge('nope', { by: 'alice' }); }
 * catch (err) { if (err instanceof FirebreakError) console.log(err.code); }
 * ```
 */
export class FirebreakError extends Error {
  /** Stable machine-readable code, e.g. `CONFIG_INVALID`. */
  readonly code: string;
  /** Structured detail (field issues, ids…), safe to show to an operator. */
  readonly details: unknown;

  constructor(code: string, message: string, details?: unknown) {
    super(message);
    this.name = new.target.name;
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
  constructor(kind: string, id: string) {
    super('NOT_FOUND', `Unknown ${kind}: ${id}`, { kind, id });
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
  constructor(what: string, limit: number) {
    super('LIMIT_REACHED', `Too many ${what} (limit ${limit})`, { what, limit });
  }
}

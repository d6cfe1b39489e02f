import { FirebreakError, isFirebreakError, nameErrorClass } from '../errors.js';

/**
 * Errors raised by the HTTP layer itself (authentication, body handling,
 * throttling). Every other status comes from the `code` of a
 * {@link FirebreakError} thrown by the monitor, through {@link STATUS_BY_CODE}.
 *
 * @example
 * ```ts
 * throw new HttpError('PAYLOAD_TOO_LARGE', 'Body exceeds 16384 bytes', { limit: 16384 });
 * ```
 */
export class HttpError extends FirebreakError {
  static {
    nameErrorClass(this, 'HttpError');
  }

  /** Headers the error response must carry (`WWW-Authenticate`, `Retry-After`…). */
  readonly headers: Readonly<Record<string, string>>;

  constructor(code: HttpErrorCode, message: string, details?: unknown, headers: Record<string, string> = {}) {
    super(code, message, details);
    this.headers = headers;
  }
}

/**
 * Codes the HTTP layer raises on its own.
 *
 * @example
 * ```ts
 * const code: HttpErrorCode = 'RATE_LIMITED';
 * ```
 */
export type HttpErrorCode =
  | 'UNAUTHORIZED'
  | 'FORBIDDEN'
  | 'INVALID_JSON'
  | 'PAYLOAD_TOO_LARGE'
  | 'UNSUPPORTED_MEDIA_TYPE'
  | 'RATE_LIMITED'
  | 'REQUEST_TIMEOUT'
  | 'ROUTE_NOT_FOUND'
  | 'NOT_READY'
  | 'ACTION_FAILED'
  | 'ACTION_TIMEOUT'
  | 'STATS_SECTION_FAILED'
  | 'STATS_SECTION_TIMEOUT';

/**
 * The one table from error `code` to HTTP status. Codes not listed are
 * internal errors (500) and their message is not shown to the caller.
 *
 * @example
 * ```ts
 * STATUS_BY_CODE['INVALID_TRANSITION']; // 409
 * ```
 */
export const STATUS_BY_CODE: Readonly<Record<string, number>> = Object.freeze(
  // Null prototype: a code like `constructor` must not find an inherited entry.
  Object.assign(Object.create(null) as Record<string, number>, {
    VALIDATION_FAILED: 400,
    INVALID_JSON: 400,
    CONFIRMATION_REQUIRED: 400,
    // A control rejecting new settings at runtime (adjust with a zero limit…) is bad input, not a crash.
    CONFIG_INVALID: 400,
    UNAUTHORIZED: 401,
    FORBIDDEN: 403,
    NOT_FOUND: 404,
    // The client did not finish sending its body in time (the connection is closed after the reply).
    REQUEST_TIMEOUT: 408,
    ROUTE_NOT_FOUND: 404,
    ACTION_NOT_FOUND: 404,
    EXECUTION_NOT_FOUND: 404,
    INCIDENT_NOT_FOUND: 404,
    INVALID_TRANSITION: 409,
    LIMIT_REACHED: 409,
    ACTION_BUSY: 409,
    ACTION_EXISTS: 409,
    NOT_REVERTIBLE: 409,
    PAYLOAD_TOO_LARGE: 413,
    UNSUPPORTED_MEDIA_TYPE: 415,
    RATE_LIMITED: 429,
    // The action ran and failed (or hung): its message is for the operator who ran it.
    ACTION_FAILED: 500,
    // A host stats provider (statsSections) threw, rejected or returned too much.
    STATS_SECTION_FAILED: 500,
    NOT_READY: 503,
    ACTION_TIMEOUT: 504,
    STATS_SECTION_TIMEOUT: 504,
  }),
);

/**
 * The JSON body of every error response.
 *
 * @example
 * ```ts
 * const body = (await res.json()) as ErrorBody;
 * console.log(body.error.code, body.error.details);
 * ```
 */
export interface ErrorBody {
  error: {
    code: string;
    message: string;
    /** Field issues, ids or limits; `null` when there is nothing more to say. */
    details: unknown;
  };
}

/**
 * An error turned into a status and a JSON body.
 *
 * @example
 * ```ts
 * const { status, headers, body }: MappedError = mapError(err);
 * ```
 */
export interface MappedError {
  status: number;
  headers: Readonly<Record<string, string>>;
  body: ErrorBody;
}

const NO_HEADERS: Readonly<Record<string, string>> = Object.freeze({});

/**
 * Maps anything thrown to a status and an `{ error: { code, message, details } }`
 * body. Unknown errors become a 500 `INTERNAL_ERROR` whose message does not
 * leak internals.
 *
 * @example
 * ```ts
 * const { status, body } = mapError(new NotFoundError('incident', 'inc_1')); // 404
 * ```
 */
export function mapError(err: unknown): MappedError {
  // The brand, not instanceof: an action built against the CJS entry may throw into the ESM HTTP layer.
  if (isFirebreakError(err)) {
    const status = STATUS_BY_CODE[err.code];
    if (status !== undefined) {
      const headers = 'headers' in err && typeof err.headers === 'object' && err.headers !== null ? (err.headers as Record<string, string>) : NO_HEADERS;
      return { status, headers, body: { error: { code: err.code, message: err.message, details: err.details ?? null } } };
    }
  }
  return {
    status: 500,
    headers: NO_HEADERS,
    body: { error: { code: 'INTERNAL_ERROR', message: 'Internal error in a firebreak route', details: null } },
  };
}

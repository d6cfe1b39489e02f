/**
 * Exit codes of the `firebreak` CLI, stable for scripts.
 *
 * @example
 * ```sh
 * firebreak status || case $? in 1) echo "request failed";; 2) echo "usage";; 3) echo "auth";; esac
 * ```
 */
export const EXIT = {
  /** The command did what was asked. */
  ok: 0,
  /** The request failed: unreachable server, timeout, 4xx/5xx other than auth. */
  requestFailed: 1,
  /** Bad command line: unknown command or option, missing argument, bad `--param`. */
  usage: 2,
  /** The server refused the credentials: 401 (missing or wrong token) or 403 (role too low). */
  auth: 3,
} as const;

/** One of the {@link EXIT} values. */
export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/**
 * An error that ends the CLI with a given exit code and a message for stderr.
 * `body` is what `--json` prints on stderr instead of the message.
 *
 * @example
 * ```ts
 * throw new CliError(EXIT.requestFailed, 'UNREACHABLE', 'cannot reach http://127.0.0.1:3000: connection refused');
 * ```
 */
export class CliError extends Error {
  readonly exitCode: ExitCode;
  readonly body: { error: { code: string; message: string; status?: number; details?: unknown } };

  constructor(exitCode: ExitCode, code: string, message: string, extra: { status?: number; details?: unknown } = {}) {
    super(message);
    this.name = 'CliError';
    this.exitCode = exitCode;
    this.body = { error: { code, message, ...extra } };
  }
}

/**
 * A command-line mistake (exit 2).
 *
 * @example
 * ```ts
 * if (notes.trim() === '') throw usageError('--notes must not be empty');
 * ```
 */
export function usageError(message: string): CliError {
  return new CliError(EXIT.usage, 'USAGE', message);
}

/**
 * The logger a monitor reports contained errors to: the shape pino, console,
 * winston and Fastify's `request.log` share.
 *
 * @packageDocumentation
 */
import { z } from 'zod';
import { containAsync, errorMessage } from './safe-call.js';

/**
 * A logger with pino's (and console's) methods. Each is called as pino
 * expects, a context object first and the message second:
 * `logger.warn({ kind, name, err }, 'firebreak: …')`. `child(bindings)`, when
 * present, is called once to bind `{ name: 'firebreak', service }`.
 *
 * @example
 * ```ts
 * import pino from 'pino';
 * const monitor = createMonitor({ service: 'api', logger: pino() });
 * ```
 */
export interface Logger {
  error(obj: unknown, msg?: string): unknown;
  warn(obj: unknown, msg?: string): unknown;
  info(obj: unknown, msg?: string): unknown;
  debug(obj: unknown, msg?: string): unknown;
  child?(bindings: Record<string, unknown>): Logger;
}

const LEVELS = ['error', 'warn', 'info', 'debug'] as const;

/** zod schema of a {@link Logger}: the object itself is kept (pino methods need their `this`). */
export const loggerSchema = z.custom<Logger>((v) => typeof v === 'object' && v !== null, { message: 'logger must be an object with error, warn, info and debug methods (pino, console…)' }).superRefine((v, ctx) => {
  if (typeof v !== 'object' || v === null) return;
  const rec = v as unknown as Record<string, unknown>;
  for (const level of LEVELS) {
    if (typeof rec[level] !== 'function') ctx.addIssue({ code: 'custom', path: [level], message: `logger.${level} must be a function` });
  }
  if (rec['child'] !== undefined && typeof rec['child'] !== 'function') {
    ctx.addIssue({ code: 'custom', path: ['child'], message: 'logger.child must be a function when present' });
  }
});

/** What kind of user code or I/O failed and was contained. */
export type ContainedKind = 'listener' | 'notifier' | 'incident-log' | 'health-check' | 'detector' | 'action';

/** Every {@link ContainedKind}, in a stable order. */
export const CONTAINED_KINDS: readonly ContainedKind[] = ['listener', 'notifier', 'incident-log', 'health-check', 'detector', 'action'];

/** Level each kind is logged at: failures that lose data are errors, the rest warnings. */
const LEVEL_OF: Record<ContainedKind, 'error' | 'warn'> = {
  listener: 'warn',
  notifier: 'warn',
  'incident-log': 'error',
  'health-check': 'warn',
  detector: 'warn',
  action: 'warn',
};

/**
 * The default logger: quiet. It emits one Node process warning per kind
 * (`process.emitWarning`, type `FirebreakWarning`, code
 * `FIREBREAK_CONTAINED_<KIND>`) and nothing more, so a host that never
 * configured logging learns that something fails without its output being
 * flooded; the counts stay in `stats().recording.contained`. A process
 * warning, not `console.warn`: it goes through Node's warning channel, which
 * the host already controls (`--no-warnings`, `process.on('warning')`,
 * `--trace-warnings`) and which never writes into its own log format.
 */
export class QuietLogger implements Logger {
  private readonly warned = new Set<string>();

  error(obj: unknown, msg?: string): void {
    this.once(obj, msg);
  }

  warn(obj: unknown, msg?: string): void {
    this.once(obj, msg);
  }

  info(): void {}

  debug(): void {}

  private once(obj: unknown, msg?: string): void {
    const kind = typeof obj === 'object' && obj !== null && typeof (obj as { kind?: unknown }).kind === 'string' ? (obj as { kind: string }).kind : undefined;
    // Without a kind (a plain message, e.g. the auth: 'none' notice), the message itself is what is said once.
    const text = kind === undefined ? (typeof obj === 'string' ? obj : (msg ?? 'firebreak warning')) : (msg ?? `firebreak: ${kind} failed`);
    const key = kind ?? text;
    if (this.warned.has(key) || this.warned.size >= MAX_QUIET_KEYS) return;
    this.warned.add(key);
    try {
      process.emitWarning(
        kind === undefined ? text : `${text} (further ${kind} errors are only counted, in stats().recording.contained; pass a logger to see each one)`,
        { type: 'FirebreakWarning', code: kind === undefined ? 'FIREBREAK_WARNING' : `FIREBREAK_CONTAINED_${kind.toUpperCase().replace(/-/g, '_')}` },
      );
    } catch {
      // A host that made emitWarning throw (--throw-deprecation does not, but a patched process may) still runs.
    }
  }
}

/** Distinct messages the quiet logger remembers having said (kinds are few; free-text messages are bounded here). */
const MAX_QUIET_KEYS = 64;

/**
 * Logs and counts contained errors for one monitor. Never throws: a logger
 * that throws or returns a rejecting promise is itself contained (and
 * counted in `loggerErrors`).
 */
export class ContainedErrors {
  readonly logger: Logger;
  readonly counts: Record<ContainedKind, number> = { listener: 0, notifier: 0, 'incident-log': 0, 'health-check': 0, detector: 0, action: 0 };
  /** Calls to the logger that threw or rejected. */
  loggerErrors = 0;
  private readonly countLoggerError = (): void => {
    this.loggerErrors++;
  };

  constructor(logger: Logger | undefined, bindings: Record<string, unknown>) {
    this.logger = bind(logger ?? new QuietLogger(), bindings);
  }

  /** Counts one contained error of `kind` from `name` and logs it once. */
  report(kind: ContainedKind, name: string, err: unknown, detail?: Record<string, unknown>): void {
    this.counts[kind]++;
    const level = LEVEL_OF[kind];
    this.log(level, { kind, name, err: asError(err), ...detail }, `firebreak: ${kind} "${name}" failed: ${errorMessage(err)}`);
  }

  /** Logs at `level`, containing whatever the logger does. */
  log(level: 'error' | 'warn' | 'info' | 'debug', obj: Record<string, unknown>, msg: string): void {
    try {
      containAsync(this.logger[level](obj, msg), this.countLoggerError);
    } catch {
      this.loggerErrors++;
    }
  }
}

function bind(logger: Logger, bindings: Record<string, unknown>): Logger {
  if (typeof logger.child !== 'function') return logger;
  try {
    const child: unknown = logger.child(bindings);
    // A child that is not itself a logger (a mock returning undefined) is ignored.
    if (loggerSchema.safeParse(child).success) return child as Logger;
  } catch {
    // A throwing child() leaves the parent logger in use.
  }
  return logger;
}

function asError(err: unknown): Error {
  return err instanceof Error ? err : new Error(errorMessage(err));
}

/** Where the CLI writes: injected so tests can run it in-process. */
export interface OutStream {
  write(chunk: string): unknown;
  /** True when connected to a terminal; colours are used only then. */
  isTTY?: boolean | undefined;
}

const CODES = {
  bold: [1, 22],
  dim: [2, 22],
  red: [31, 39],
  green: [32, 39],
  yellow: [33, 39],
  blue: [34, 39],
  magenta: [35, 39],
  cyan: [36, 39],
  gray: [90, 39],
} as const;

/** A colour name the CLI uses. */
export type Colour = keyof typeof CODES;

/** Paints text, or returns it unchanged when colours are off. */
export type Paint = (colour: Colour, text: string) => string;

/**
 * Colours only when stdout is a terminal and `NO_COLOR` is unset or empty
 * (https://no-color.org), so piped output and CI logs stay plain.
 *
 * @example
 * ```ts
 * const paint = painter(process.stdout, process.env);
 * console.log(paint('red', 'breach'));
 * ```
 */
export function painter(out: OutStream, env: Record<string, string | undefined>): Paint {
  const on = out.isTTY === true && (env['NO_COLOR'] === undefined || env['NO_COLOR'] === '');
  if (!on) return (_c, text) => text;
  return (c, text) => `\u001b[${CODES[c][0]}m${text}\u001b[${CODES[c][1]}m`;
}

// eslint-disable-next-line no-control-regex
const ANSI = /\u001b\[[0-9;]*m/g;
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g;

/**
 * Makes server-supplied text safe for a terminal: control characters
 * (escape sequences could rewrite the screen or the title) become `?`.
 *
 * @example
 * ```ts
 * clean('evil\u001b[2J'); // 'evil?[2J'
 * ```
 */
export function clean(text: unknown): string {
  if (text === null || text === undefined) return '';
  return String(text).replace(CONTROL, '?');
}

/** One-line form of a cell: newlines and tabs folded to spaces, cut to `max` characters. */
function cell(text: string, max: number): string {
  const flat = text.replace(/[\n\r\t]+/g, ' ');
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}

function width(text: string): number {
  return text.replace(ANSI, '').length;
}

/** A column: header and how to get (and optionally colour) its cell from a row. */
export interface Column<R> {
  header: string;
  value: (row: R) => string;
  colour?: (row: R) => Colour | undefined;
  /** Longest cell before it is cut with `…` (default 60). */
  max?: number;
  align?: 'left' | 'right';
}

/**
 * Renders rows as an aligned text table with a header line.
 *
 * @example
 * ```ts
 * out.write(table([{ id: 'a' }], [{ header: 'ID', value: (r) => r.id }], paint));
 * ```
 */
export function table<R>(rows: readonly R[], columns: readonly Column<R>[], paint: Paint): string {
  const cells = rows.map((row) => columns.map((c) => cell(clean(c.value(row)), c.max ?? 60)));
  const widths = columns.map((c, i) => Math.max(width(c.header), ...cells.map((r) => width(r[i]!))));
  const last = columns.length - 1;
  const pad = (text: string, i: number): string => {
    const gap = ' '.repeat(widths[i]! - width(text));
    if (columns[i]!.align === 'right') return gap + text;
    return i === last ? text : text + gap; // no trailing blanks (they would sit inside colour codes)
  };
  const lines = [columns.map((c, i) => paint('bold', pad(c.header, i))).join('  ')];
  rows.forEach((row, r) => {
    const line = columns.map((c, i) => {
      const text = pad(cells[r]![i]!, i);
      const colour = c.colour?.(row);
      return colour === undefined ? text : paint(colour, text);
    });
    lines.push(line.join('  '));
  });
  return `${lines.join('\n')}\n`;
}

/**
 * `key: value` lines with aligned keys; undefined values are skipped.
 *
 * @example
 * ```ts
 * out.write(fields([['Type', incident.type], ['Root cause', incident.rootCause]], paint));
 * ```
 */
export function fields(entries: ReadonlyArray<readonly [string, string | undefined]>, paint: Paint): string {
  const shown = entries.filter((e): e is readonly [string, string] => e[1] !== undefined && e[1] !== '');
  const w = Math.max(0, ...shown.map(([k]) => k.length));
  return shown.map(([k, v]) => `${paint('bold', `${k}:`.padEnd(w + 1))} ${clean(v)}`).join('\n') + '\n';
}

/** A stream that reports write failures as `'error'` events, as `process.stdout` does. */
export interface ErrorEmitter {
  on(event: 'error', listener: (err: Error) => void): unknown;
}

/**
 * Lets the CLI end quietly when the reader of its output goes away
 * (`firebreak emergency-ref | head -1`): `EPIPE` on the stream is ignored, as
 * a Unix tool killed by SIGPIPE would say nothing (Node ignores SIGPIPE and
 * would otherwise crash on the unhandled `'error'` event with a stack trace).
 * The stream is destroyed by then, so later writes are dropped, and the
 * process ends with the exit code the command earned: 0 for a command that
 * worked, rather than a 141 that `set -o pipefail` would count as a failure.
 * Other write errors (a full disk…) are rethrown, as Node would report them.
 *
 * @example
 * ```ts
 * quietOnClosedPipe(process.stdout);
 * quietOnClosedPipe(process.stderr);
 * ```
 */
export function quietOnClosedPipe(stream: ErrorEmitter): void {
  stream.on('error', (err) => {
    if ((err as NodeJS.ErrnoException).code === 'EPIPE') return;
    throw err;
  });
}

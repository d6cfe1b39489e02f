/**
 * Parsing of the `silence` and `maintenance` flags into the admin API's
 * request bodies. Everything the server would refuse with a 400 that the
 * command line alone can tell is refused here first, as a usage error (exit 2)
 * naming the flag, so a typo never reaches the server or the audit log.
 *
 * The lists below mirror the library's `MATCHER_NAMES` and `WEEKDAYS`; they are
 * copied rather than imported because those modules carry zod, which the CLI
 * bundle does not need (test/cli/schedule.test.ts keeps them in step).
 */
import { usageError } from './exit-codes.js';

/** Incident fields a `--match` may name (the library's `MATCHER_NAMES`). */
export const CLI_MATCHER_NAMES = ['type', 'scope', 'severity', 'priority', 'detector', 'source'] as const;
/** Day names `--weekly` takes (the library's `WEEKDAYS`, UTC). */
export const CLI_WEEKDAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'] as const;

/** A matcher as the API takes it. */
export interface MatcherBody {
  name: string;
  op: '=' | '!=' | '=~' | '!~';
  value: string;
}

const MINUTE_MS = 60_000;
const HOUR_MS = 60 * MINUTE_MS;
const DAY_MS = 24 * HOUR_MS;
/** Longest silence the server accepts. */
export const MAX_SILENCE_MS = 366 * DAY_MS;
/** Longest daily maintenance opening the server accepts. */
export const MAX_DAILY_MS = DAY_MS;
/** Longest weekly maintenance opening the server accepts. */
export const MAX_WEEKLY_MS = 7 * DAY_MS;

const MAX_MATCHERS = 20;
const MAX_MATCHER_VALUE = 256;

/**
 * Parses one `--match` flag: `name=value`, `name!=value`, `name=~regex` or
 * `name!~regex` (regexes match the whole field, as the server anchors them).
 *
 * @example
 * ```ts
 * parseMatcher('scope=~route:.*'); // { name: 'scope', op: '=~', value: 'route:.*' }
 * ```
 */
export function parseMatcher(text: string): MatcherBody {
  const m = /^([A-Za-z_]*)(=~|!~|!=|=)(.*)$/s.exec(text);
  if (m === null || m[1] === '') {
    throw usageError(`--match expects name=value, name!=value, name=~regex or name!~regex, got "${text}"`);
  }
  const name = m[1]!;
  const op = m[2] as MatcherBody['op'];
  const value = m[3]!;
  if (!(CLI_MATCHER_NAMES as readonly string[]).includes(name)) {
    throw usageError(`--match "${text}": the name must be one of ${CLI_MATCHER_NAMES.join(', ')}, got "${name}"`);
  }
  if (value.length > MAX_MATCHER_VALUE) throw usageError(`--match "${name}": the value must be at most ${MAX_MATCHER_VALUE} characters`);
  if (op === '=~' || op === '!~') {
    try {
      new RegExp(`^(?:${value})$`);
    } catch {
      throw usageError(`--match "${text}": "${value}" is not a valid regular expression`);
    }
  }
  return { name, op, value };
}

/**
 * Parses every `--match` flag; `required` demands at least one.
 *
 * @example
 * ```ts
 * parseMatchers(['type=high-latency'], true); // [{ name: 'type', op: '=', value: 'high-latency' }]
 * ```
 */
export function parseMatchers(texts: readonly string[], required: boolean): MatcherBody[] {
  if (required && texts.length === 0) throw usageError('--match is required at least once, e.g. --match type=high-latency');
  if (texts.length > MAX_MATCHERS) throw usageError(`--match may be given at most ${MAX_MATCHERS} times`);
  return texts.map(parseMatcher);
}

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: MINUTE_MS, h: HOUR_MS, d: DAY_MS, w: 7 * DAY_MS };

/**
 * Parses a duration flag: whole numbers with units `ms`, `s`, `m`, `h`, `d`,
 * `w`, concatenated (`90s`, `30m`, `2h`, `1h30m`, `7d`). A bare number is
 * refused: minutes or milliseconds would be a guess.
 *
 * @example
 * ```ts
 * parseDuration('1h30m', '--duration', 86_400_000); // 5_400_000
 * ```
 */
export function parseDuration(text: string, flag: string, maxMs: number): number {
  const trimmed = text.trim();
  if (!/^(?:\d+(?:ms|s|m|h|d|w))+$/.test(trimmed)) {
    throw usageError(`${flag} expects a duration such as 90s, 30m, 2h, 1h30m or 7d, got "${text}"`);
  }
  let ms = 0;
  for (const [, n, unit] of trimmed.matchAll(/(\d+)(ms|s|m|h|d|w)/g)) ms += Number(n) * UNIT_MS[unit!]!;
  if (ms <= 0) throw usageError(`${flag} must be longer than zero, got "${text}"`);
  if (ms > maxMs) throw usageError(`${flag} must be at most ${describeMs(maxMs)}, got "${text}"`);
  return ms;
}

function describeMs(ms: number): string {
  if (ms > DAY_MS && ms % DAY_MS === 0) return `${ms / DAY_MS} days`;
  if (ms % HOUR_MS === 0) return `${ms / HOUR_MS} h`;
  return `${ms} ms`;
}

/**
 * Parses an instant flag: ISO 8601 with a date, a time and an explicit zone
 * (`2030-01-05T02:00Z`, `2030-01-05T04:00:00+02:00`). A zone is required so the
 * same command means the same instant on every operator's machine.
 *
 * @example
 * ```ts
 * parseInstant('2030-01-05T02:00:00Z', '--until'); // 1893808800000
 * ```
 */
export function parseInstant(text: string, flag: string): number {
  const iso = /^(\d{4})-(\d{2})-(\d{2})T(?:[01]\d|2[0-3]):[0-5]\d(?::[0-5]\d(?:\.\d{1,3})?)?(?:Z|[+-](?:[01]\d|2[0-3]):[0-5]\d)$/i;
  const m = iso.exec(text.trim());
  const at = m === null ? Number.NaN : Date.parse(text.trim());
  // Date.parse rolls 2030-02-30 over to March 2: a day the calendar lacks is a typo, not a date.
  const day = m === null ? undefined : new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])));
  const real = day !== undefined && day.getUTCFullYear() === Number(m![1]) && day.getUTCMonth() === Number(m![2]) - 1 && day.getUTCDate() === Number(m![3]);
  if (!real || !Number.isFinite(at) || at < 0) {
    throw usageError(`${flag} expects an ISO 8601 time with a zone, e.g. 2030-01-05T02:00:00Z, got "${text}"`);
  }
  return at;
}

/**
 * Parses `--at`: a UTC time of day `HH:MM`.
 *
 * @example
 * ```ts
 * parseTimeOfDay('02:00'); // '02:00'
 * ```
 */
export function parseTimeOfDay(text: string): string {
  const t = text.trim();
  if (!/^([01]\d|2[0-3]):[0-5]\d$/.test(t)) throw usageError(`--at expects a UTC time HH:MM (00:00 to 23:59), got "${text}"`);
  return t;
}

/**
 * Parses `--weekly`: comma-separated day names (`sat,sun`), case-insensitive,
 * duplicates dropped, in week order.
 *
 * @example
 * ```ts
 * parseWeekdays('Sun,sat'); // ['sun', 'sat']
 * ```
 */
export function parseWeekdays(text: string): string[] {
  const days = text
    .split(',')
    .map((d) => d.trim().toLowerCase())
    .filter((d) => d !== '');
  if (days.length === 0) throw usageError(`--weekly expects day names such as sat,sun (${CLI_WEEKDAYS.join(', ')}), got "${text}"`);
  for (const d of days) {
    if (!(CLI_WEEKDAYS as readonly string[]).includes(d)) throw usageError(`--weekly: "${d}" is not a day; use ${CLI_WEEKDAYS.join(', ')}`);
  }
  return CLI_WEEKDAYS.filter((d) => days.includes(d));
}

/** `silence add` flags as commander hands them over. */
export interface SilenceFlags {
  match: string[];
  duration?: string;
  until?: string;
  start?: string;
  comment?: string;
}

/**
 * The `POST /admin/silences` body for `silence add`.
 *
 * @example
 * ```ts
 * silenceBody({ match: ['type=high-latency'], duration: '2h', comment: 'deploy' });
 * // { matchers: [{ name: 'type', op: '=', value: 'high-latency' }], durationMs: 7_200_000, comment: 'deploy' }
 * ```
 */
export function silenceBody(flags: SilenceFlags): Record<string, unknown> {
  const matchers = parseMatchers(flags.match, true);
  if ((flags.duration === undefined) === (flags.until === undefined)) {
    throw usageError('give exactly one of --duration (e.g. 2h) or --until (an ISO time such as 2030-01-05T02:00:00Z)');
  }
  const comment = (flags.comment ?? '').trim();
  if (comment === '') throw usageError('--comment is required: say why (it is shown on every incident the silence holds)');
  if (comment.length > 1000) throw usageError('--comment must be at most 1000 characters');
  const body: Record<string, unknown> = { matchers, comment };
  const startsAt = flags.start === undefined ? undefined : parseInstant(flags.start, '--start');
  if (startsAt !== undefined) body['startsAt'] = startsAt;
  if (flags.duration !== undefined) body['durationMs'] = parseDuration(flags.duration, '--duration', MAX_SILENCE_MS);
  if (flags.until !== undefined) {
    const endsAt = parseInstant(flags.until, '--until');
    if (startsAt !== undefined && endsAt <= startsAt) throw usageError('--until must be after --start');
    body['endsAt'] = endsAt;
  }
  return body;
}

/** `maintenance add` flags as commander hands them over. */
export interface MaintenanceFlags {
  name: string;
  match: string[];
  comment?: string;
  start?: string;
  end?: string;
  daily?: boolean;
  weekly?: string;
  at?: string;
  duration?: string;
}

/**
 * The `POST /admin/maintenance` body for `maintenance add`: a one-off window
 * (`--start` with `--end` or `--duration`), or a recurring one (`--daily` or
 * `--weekly <days>`, with `--at HH:MM` UTC and `--duration`).
 *
 * @example
 * ```ts
 * maintenanceBody({ name: 'nightly reindex', match: [], daily: true, at: '02:00', duration: '30m' });
 * // { name: 'nightly reindex', matchers: [], daily: { at: '02:00', durationMs: 1_800_000 } }
 * ```
 */
export function maintenanceBody(flags: MaintenanceFlags): Record<string, unknown> {
  const name = flags.name.trim();
  if (name === '') throw usageError('--name must not be empty');
  if (name.length > 100) throw usageError('--name must be at most 100 characters');
  const matchers = parseMatchers(flags.match, false);
  const body: Record<string, unknown> = { name, matchers };
  if (flags.comment !== undefined) {
    if (flags.comment.trim().length > 1000) throw usageError('--comment must be at most 1000 characters');
    body['comment'] = flags.comment;
  }
  const kinds = [flags.start !== undefined, flags.daily === true, flags.weekly !== undefined].filter(Boolean).length;
  if (kinds !== 1) {
    throw usageError('give exactly one schedule: --start <ISO> (one-off, with --end or --duration), --daily, or --weekly <days> (with --at HH:MM and --duration)');
  }
  if (flags.start !== undefined) {
    if (flags.at !== undefined) throw usageError('--at is for --daily or --weekly; a one-off window takes --start with --end or --duration');
    if ((flags.end === undefined) === (flags.duration === undefined)) throw usageError('a one-off window (--start) needs exactly one of --end or --duration');
    const startsAt = parseInstant(flags.start, '--start');
    const endsAt = flags.end !== undefined ? parseInstant(flags.end, '--end') : startsAt + parseDuration(flags.duration!, '--duration', MAX_SILENCE_MS);
    if (endsAt <= startsAt) throw usageError('--end must be after --start');
    body['once'] = { startsAt, endsAt };
    return body;
  }
  if (flags.end !== undefined) throw usageError('--end is for a one-off window (--start); a recurring one takes --duration');
  const kind = flags.daily === true ? '--daily' : '--weekly';
  if (flags.at === undefined) throw usageError(`${kind} needs --at HH:MM (UTC)`);
  if (flags.duration === undefined) throw usageError(`${kind} needs --duration, e.g. 30m`);
  const at = parseTimeOfDay(flags.at);
  if (flags.daily === true) {
    body['daily'] = { at, durationMs: parseDuration(flags.duration, '--duration', MAX_DAILY_MS) };
  } else {
    body['weekly'] = { days: parseWeekdays(flags.weekly!), at, durationMs: parseDuration(flags.duration, '--duration', MAX_WEEKLY_MS) };
  }
  return body;
}

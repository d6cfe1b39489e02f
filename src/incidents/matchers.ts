import { z } from 'zod';
import type { Incident } from './types.js';

/**
 * The incident fields a silence or maintenance window can match on.
 *
 * @example
 * ```ts
 * const field: MatcherName = 'scope';
 * ```
 */
export const MATCHER_NAMES = ['type', 'scope', 'severity', 'priority', 'detector', 'source'] as const;
/** A field a matcher reads. */
export type MatcherName = (typeof MATCHER_NAMES)[number];

function compiles(source: string): boolean {
  try {
    new RegExp(`^(?:${source})$`);
    return true;
  } catch {
    return false;
  }
}

/** One matcher, as validated. */
export const matcherSchema = z
  .strictObject({
    name: z.enum(MATCHER_NAMES, { error: `name must be one of ${MATCHER_NAMES.join(', ')}` }),
    /** The value, or the regular expression for `=~` / `!~` (matched against the whole field, as Alertmanager does). */
    value: z.string().max(256, 'must be at most 256 characters'),
    /** `=` equal, `!=` not equal, `=~` matches the regex, `!~` does not match it. */
    op: z.enum(['=', '!=', '=~', '!~']).default('='),
  })
  .superRefine((m, ctx) => {
    if ((m.op === '=~' || m.op === '!~') && !compiles(m.value)) ctx.addIssue({ code: 'custom', path: ['value'], message: 'must be a valid regular expression' });
  });
/**
 * A matcher as written: `{ name: 'type', value: 'high-latency' }` (equality by
 * default), `{ name: 'scope', op: '=~', value: 'route:GET /search.*' }`.
 *
 * @example
 * ```ts
 * const m: MatcherInput = { name: 'scope', op: '=~', value: 'limiter:.*' };
 * ```
 */
export type MatcherInput = z.input<typeof matcherSchema>;
/**
 * A matcher with its default operator.
 *
 * @example
 * ```ts
 * const m: Matcher = { name: 'type', op: '=', value: 'slo-burn' };
 * ```
 */
export type Matcher = z.output<typeof matcherSchema>;

/** Matchers compiled once: every one must hold (an empty list matches everything). */
export type CompiledMatchers = (incident: Incident) => boolean;

function field(i: Incident, name: MatcherName): string {
  switch (name) {
    case 'type':
      return i.type;
    case 'scope':
      return i.scope;
    case 'severity':
      return i.severity;
    case 'priority':
      return i.priority;
    case 'detector':
      return i.detector ?? '';
    case 'source':
      return i.source;
  }
}

/** Compiles validated matchers (regexes are anchored at both ends). */
export function compileMatchers(matchers: readonly Matcher[]): CompiledMatchers {
  const tests = matchers.map((m): ((i: Incident) => boolean) => {
    if (m.op === '=') return (i) => field(i, m.name) === m.value;
    if (m.op === '!=') return (i) => field(i, m.name) !== m.value;
    const re = new RegExp(`^(?:${m.value})$`);
    return m.op === '=~' ? (i) => re.test(field(i, m.name)) : (i) => !re.test(field(i, m.name));
  });
  return (i) => tests.every((t) => t(i));
}

/** The matchers as one line: `type="slo-burn", scope=~"limiter:.*"`. */
export function describeMatchers(matchers: readonly Matcher[]): string {
  return matchers.length === 0 ? 'every incident' : matchers.map((m) => `${m.name}${m.op}${JSON.stringify(m.value)}`).join(', ');
}

import { z } from 'zod';
import { SEVERITIES, compareSeverity, type Incident, type Severity } from './types.js';

const typeName = z.string().trim().min(1, 'must not be empty').max(100, 'must be at most 100 characters');

/** A scope matcher: the exact scope, or `{ regex }` matched against the whole scope. */
const scopeMatcherSchema = z.union([
  z.string().min(1, 'must not be empty').max(256, 'must be at most 256 characters'),
  z.strictObject({
    regex: z
      .string()
      .min(1, 'must not be empty')
      .max(256, 'must be at most 256 characters')
      .refine((r) => compiles(r), 'must be a valid regular expression'),
  }),
]);

function compiles(source: string): boolean {
  try {
    new RegExp(`^(?:${source})$`);
    return true;
  } catch {
    return false;
  }
}

/** One inhibition rule, as validated. */
export const inhibitRuleSchema = z.strictObject({
  /** A name for the timeline and stats (default `<source type> → <target type>`). */
  name: z.string().trim().min(1).max(100).optional(),
  /** The incident that explains the others. */
  source: z.strictObject({
    type: typeName,
    /** Only a source at least this severe inhibits (default: any). */
    minSeverity: z.enum(SEVERITIES).optional(),
    scope: scopeMatcherSchema.optional(),
  }),
  /** The incidents it explains. */
  target: z.strictObject({
    type: typeName,
    scope: scopeMatcherSchema.optional(),
  }),
  /**
   * How the two scopes must relate: `equal` (the same scope, Alertmanager's `equal: [scope]`)
   * or `any` (the `source.scope` and `target.scope` matchers are the whole mapping).
   */
  scope: z.enum(['equal', 'any']).default('equal'),
});
/**
 * An inhibition rule as written: while an unresolved incident matching
 * `source` exists (or is about to open: its condition is pending), a new
 * incident matching `target` is recorded but does not page and does not
 * run auto-remediation.
 *
 * @example
 * ```ts
 * const rule: InhibitRuleInput = { source: { type: 'dependency-failure', scope: 'database' }, target: { type: 'high-latency' }, scope: 'any' };
 * ```
 */
export type InhibitRuleInput = z.input<typeof inhibitRuleSchema>;
/** An inhibition rule with defaults applied. */
export type InhibitRule = z.output<typeof inhibitRuleSchema>;

/**
 * The rules `incidents.inhibit` defaults to: a `high-error-rate` incident
 * explains the `slo-burn` of the same errors (burn-rate alerts are on
 * success-rate and error-rate SLOs only), and a service-wide
 * `rate-limit-attack` explains the same attack seen by each limiter.
 * Set `incidents.inhibit: []` to page for every incident.
 *
 * @example
 * ```ts
 * createMonitor({ service: 'api', incidents: { inhibit: [...DEFAULT_INHIBIT_RULES, { source: { type: 'service-down' }, target: { type: 'high-latency' }, scope: 'any' }] } });
 * ```
 */
export const DEFAULT_INHIBIT_RULES: readonly InhibitRuleInput[] = Object.freeze([
  { name: 'errors explain the SLO burn', source: { type: 'high-error-rate' }, target: { type: 'slo-burn' }, scope: 'any' },
  {
    name: 'service-wide attack explains each limiter',
    source: { type: 'rate-limit-attack', scope: 'service' },
    target: { type: 'rate-limit-attack', scope: { regex: 'limiter:.*' } },
    scope: 'any',
  },
]);

/** `incidents.inhibit`. */
export const inhibitRulesSchema = z
  .array(inhibitRuleSchema)
  .max(100, 'at most 100 inhibition rules')
  .default(() => DEFAULT_INHIBIT_RULES.map((r) => inhibitRuleSchema.parse(r)));

/** A condition firing that has not opened its incident yet (from the detection engine). */
export interface PendingSource {
  type: string;
  scope: string;
  severity: Severity;
}

/** Why an incident is inhibited. */
export interface Inhibition {
  rule: string;
  /** The source incident's id, or `undefined` while the source is only pending. */
  sourceId: string | undefined;
  sourceType: string;
  sourceScope: string;
}

interface CompiledRule {
  name: string;
  rule: InhibitRule;
  sourceScope: ((s: string) => boolean) | undefined;
  targetScope: ((s: string) => boolean) | undefined;
}

function scopeTest(m: InhibitRule['target']['scope']): ((s: string) => boolean) | undefined {
  if (m === undefined) return undefined;
  if (typeof m === 'string') return (s) => s === m;
  const re = new RegExp(`^(?:${m.regex})$`);
  return (s) => re.test(s);
}

/**
 * Alertmanager-style inhibition between incidents of one monitor. Stateless:
 * asked about one target at a time, against the unresolved incidents and the
 * pending conditions.
 */
export class Inhibitor {
  private readonly rules: CompiledRule[];
  /** Types some rule may inhibit: detection applies their conditions last, so their sources are seen first. */
  readonly targetTypes: ReadonlySet<string>;

  constructor(rules: readonly InhibitRule[]) {
    this.rules = rules.map((rule) => ({
      name: rule.name ?? `${rule.source.type} → ${rule.target.type}`,
      rule,
      sourceScope: scopeTest(rule.source.scope),
      targetScope: scopeTest(rule.target.scope),
    }));
    this.targetTypes = new Set(rules.map((r) => r.target.type));
  }

  /** True when some rule may inhibit an incident of `type` on `scope`. */
  mayInhibit(type: string, scope: string): boolean {
    return this.targetTypes.has(type) && this.rules.some((r) => r.rule.target.type === type && (r.targetScope === undefined || r.targetScope(scope)));
  }

  get size(): number {
    return this.rules.length;
  }

  /**
   * The first rule that inhibits `target`: an unresolved source incident wins
   * over a pending one. An incident never inhibits itself, and a source that is
   * itself inhibited by `target` does not count (no mutual silence).
   */
  find(target: Incident, active: Iterable<Incident>, pending: readonly PendingSource[]): Inhibition | undefined {
    if (!this.targetTypes.has(target.type)) return undefined;
    const candidates = this.rules.filter((r) => r.rule.target.type === target.type && (r.targetScope === undefined || r.targetScope(target.scope)));
    if (candidates.length === 0) return undefined;
    for (const src of active) {
      if (src.id === target.id || src.status === 'resolved') continue;
      if (src.suppressed?.kind === 'inhibition' && src.suppressed.by === target.id) continue;
      for (const r of candidates) {
        if (this.sourceMatches(r, src.type, src.scope, src.severity, target.scope)) {
          return { rule: r.name, sourceId: src.id, sourceType: src.type, sourceScope: src.scope };
        }
      }
    }
    for (const p of pending) {
      if (p.type === target.type && p.scope === target.scope) continue;
      for (const r of candidates) {
        if (this.sourceMatches(r, p.type, p.scope, p.severity, target.scope)) {
          return { rule: r.name, sourceId: undefined, sourceType: p.type, sourceScope: p.scope };
        }
      }
    }
    return undefined;
  }

  private sourceMatches(r: CompiledRule, type: string, scope: string, severity: Severity, targetScope: string): boolean {
    const s = r.rule.source;
    if (type !== s.type) return false;
    if (s.minSeverity !== undefined && compareSeverity(severity, s.minSeverity) < 0) return false;
    if (r.sourceScope !== undefined && !r.sourceScope(scope)) return false;
    if (r.rule.scope === 'equal' && scope !== targetScope) return false;
    return true;
  }
}

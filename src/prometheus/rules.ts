import { z } from 'zod';
import { parseConfig, resolveSlos, sloSchema, type SloConfig, type SloInput } from '../config.js';
import { ConfigError } from '../errors.js';
import { burnRuleSchema, DEFAULT_BURN_RULES, type BurnRule } from '../incidents/config.js';
import { defaultMinEvents } from '../incidents/burn-rate.js';
import { routeLabels } from '../metrics/prometheus.js';

/**
 * The Prometheus-only slow ticket (sloth / pyrra, SRE workbook): 1× burn over
 * 3 d and 6 h. The in-process tracker keeps no 3-day ring by default, so this
 * rule is added to the generated alerts only when `burnRules` is not given.
 */
export const PROMETHEUS_SLOW_TICKET: Readonly<BurnRule> = Object.freeze({
  name: 'ticket-slow',
  severity: 'low',
  factor: 1,
  longMs: 3 * 86_400_000,
  shortMs: 6 * 3_600_000,
  partial: false,
});

const labelName = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

/** Options of {@link generateRules}. */
export const rulesOptionsSchema = z.strictObject({
  /** Service name: the `service` label of every generated rule, and part of the group names. */
  service: z.string().min(1, 'service must not be empty').max(100),
  /** `'runbook'`: add the runbooks' SLO table, as `createMonitor({ preset })` does. */
  preset: z.enum(['runbook']).optional(),
  /** Metric name prefix the monitor exports with (`prometheus.prefix`). */
  prefix: z
    .string()
    .regex(/^[a-zA-Z_:][a-zA-Z0-9_:]*$/, 'prefix must be a valid Prometheus metric name start')
    .default('firebreak_'),
  /** `le` bounds (seconds) of the monitor's request histogram (`prometheus.buckets`): a latency SLO's threshold must be one. */
  buckets: z
    .array(z.number().positive())
    .min(1)
    .max(64)
    .default([0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 0.8, 1, 2, 2.5, 5, 10]),
  /**
   * The burn rules: pass the monitor's `burnRate.rules` when it sets them. Default: the
   * in-process defaults (page 14.4× 1 h & 5 m, 6× 6 h & 30 m; ticket 3× 1 d & 2 h) plus
   * {@link PROMETHEUS_SLOW_TICKET} (1× 3 d & 6 h).
   */
  burnRules: z.array(burnRuleSchema).min(1).max(10).optional(),
  /** The monitor's `burnRate.minSamples` or `minSamples` (default 20): floor of each rule's default `minEvents`. */
  minSamples: z.number().int().nonnegative().default(20),
  /** Equality matchers added to every selector, e.g. `{ job: 'checkout' }` when several services export firebreak metrics. */
  matchers: z
    .record(z.string().regex(labelName, 'matcher names must be Prometheus label names'), z.string())
    .default({}),
  /** The monitor's `burnRate.forMs` (default 0): how long an alert holds before it fires. */
  forMs: z.number().int().nonnegative().default(0),
  /** Labels added to every alert (e.g. `team`). */
  alertLabels: z.record(z.string().regex(labelName, 'label names must be Prometheus label names'), z.string()).default({}),
});

/** Input of {@link generateRules}' options. */
export type RulesOptions = z.input<typeof rulesOptionsSchema>;

/** One recording rule. */
export interface RecordingRule {
  record: string;
  expr: string;
  labels: Record<string, string>;
}

/** One alerting rule. */
export interface AlertingRule {
  alert: string;
  expr: string;
  /** `for:` duration, present when the burn rules ask for one (never by default: the windows already smooth). */
  for?: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
}

/** A Prometheus rule file: `groups` of recording and alerting rules. Serialise with {@link rulesToYaml}. */
export interface RuleFile {
  groups: { name: string; rules: (RecordingRule | AlertingRule)[] }[];
}

/** A PromQL duration: the largest unit that divides `ms` evenly. */
export function promDuration(ms: number): string {
  const units: [string, number][] = [['d', 86_400_000], ['h', 3_600_000], ['m', 60_000], ['s', 1000]];
  for (const [u, n] of units) if (ms % n === 0) return `${ms / n}${u}`;
  return `${ms}ms`;
}

/** A PromQL / label-value string literal. */
function quote(s: string): string {
  return `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`;
}

function selector(matchers: Record<string, string>): string {
  return Object.entries(matchers)
    .map(([k, v]) => `${k}=${quote(v)}`)
    .join(',');
}

/** How one SLO's bad and total events read from the exported counters. */
interface Sli {
  slo: SloConfig;
  allowed: number;
  /** `rate()` of bad events, over `[W]`. */
  bad: (w: string) => string;
  /** `rate()` of all events, over `[W]`. */
  total: (w: string) => string;
}

function sliOf(slo: SloConfig, i: number, o: z.output<typeof rulesOptionsSchema>): Sli | undefined {
  const p = o.prefix;
  const base = { ...o.matchers };
  const req = (extra: Record<string, string>): Record<string, string> => {
    const m = { ...base, ...extra };
    if ('route' in slo && slo.route !== undefined) Object.assign(m, routeLabels(slo.route));
    return m;
  };
  const rate = (metric: string, m: Record<string, string>, w: string, re?: string): string =>
    `sum(rate(${metric}{${[selector(m), re].filter((x) => x !== undefined && x !== '').join(',')}}[${w}]))`;
  switch (slo.kind) {
    case 'success-rate':
    case 'error-rate':
      return {
        slo,
        allowed: slo.kind === 'success-rate' ? 1 - slo.objective : slo.max,
        bad: (w) => rate(`${p}requests_total`, req({ outcome: 'failure' }), w),
        total: (w) => rate(`${p}requests_total`, req({}), w),
      };
    case 'latency': {
      const le = slo.thresholdMs / 1000;
      if (!o.buckets.some((b) => Math.abs(b - le) <= 1e-12 * le)) {
        throw new ConfigError('rules options', [
          {
            path: `slos.${i}.thresholdMs`,
            message: `${slo.thresholdMs} ms is not a bucket bound of the request histogram (${o.buckets.join(', ')} s): add ${le} to prometheus.buckets (and to the rules' buckets) so Prometheus can count requests over it`,
          },
        ]);
      }
      const m = req({});
      return {
        slo,
        allowed: 1 - slo.quantile,
        // Requests over the threshold: all of them minus those in the `le` bucket.
        bad: (w) =>
          `(${rate(`${p}request_duration_seconds_count`, m, w)} - ${rate(`${p}request_duration_seconds_bucket`, { ...m, le: String(le) }, w)})`,
        total: (w) => rate(`${p}request_duration_seconds_count`, m, w),
      };
    }
    case 'cache-hit-rate': {
      const m = slo.cache === undefined ? { ...base } : { ...base, cache: slo.cache };
      return {
        slo,
        allowed: 1 - slo.objective,
        bad: (w) => rate(`${p}cache_requests_total`, m, w, 'result=~"miss|error"'),
        total: (w) => rate(`${p}cache_requests_total`, m, w),
      };
    }
    default:
      return undefined; // resource SLOs are per process: no burn rate, nothing to aggregate
  }
}

function num(n: number): string {
  // Shortest round-trip form: the same float the in-process tracker compares against.
  return String(n);
}

/**
 * Prometheus recording and alerting rules for the same SLOs and burn rules the
 * in-process tracker evaluates (sloth / pyrra style, multi-window
 * multi-burn-rate): per SLO, `<prefix>slo:error_ratio:rate<W>` and
 * `<prefix>slo:events:rate<W>` for every window, and one alert per burn rule
 * that fires when both windows burn at ≥ `factor` × the allowed error ratio
 * and both hold at least `minEvents` events, as in process. Resource SLOs
 * (memory, cpu, event-loop delay) have no burn rate and get no rules.
 *
 * Throws {@link ConfigError} naming the field on bad options, and for a
 * latency SLO whose threshold is not a histogram bucket bound.
 *
 * @example
 * ```ts
 * const file = generateRules([{ name: 'availability', kind: 'success-rate', objective: 0.999 }], { service: 'checkout' });
 * writeFileSync('firebreak.rules.yml', rulesToYaml(file));
 * ```
 */
export function generateRules(slos: readonly SloInput[], options: RulesOptions): RuleFile {
  const o = parseConfig(rulesOptionsSchema, 'rules options', options);
  const parsed = parseConfig(z.array(sloSchema).max(1_000), 'slos', slos);
  const all = resolveSlos(o.preset, parsed);
  const rules: BurnRule[] = o.burnRules ?? [...DEFAULT_BURN_RULES, PROMETHEUS_SLOW_TICKET];
  const windows = [...new Set(rules.flatMap((r) => [r.shortMs, r.longMs]))].sort((a, b) => a - b);
  const p = o.prefix;
  const ratioName = (w: number): string => `${p}slo:error_ratio:rate${promDuration(w)}`;
  const eventsName = (w: number): string => `${p}slo:events:rate${promDuration(w)}`;

  const recording: RecordingRule[] = [];
  const alerting: AlertingRule[] = [];
  all.forEach((slo, i) => {
    const sli = sliOf(slo, i, o);
    if (sli === undefined) return;
    const labels = { service: o.service, slo: slo.name };
    const sel = `{${selector(labels)}}`;
    for (const w of windows) {
      const d = promDuration(w);
      recording.push({ record: ratioName(w), expr: `${sli.bad(d)} / ${sli.total(d)}`, labels });
      recording.push({ record: eventsName(w), expr: sli.total(d), labels });
    }
    for (const rule of rules) {
      const threshold = rule.factor * sli.allowed;
      const minEvents = rule.minEvents ?? defaultMinEvents(sli.allowed, rule.factor, o.minSamples);
      const page = rule.severity === 'critical' || rule.severity === 'high';
      const alert: AlertingRule = {
        alert: `${toAlertName(slo.name)}BurnRate${toAlertName(rule.name)}`,
        expr: [
          `${ratioName(rule.longMs)}${sel} >= ${num(threshold)}`,
          `and ${ratioName(rule.shortMs)}${sel} >= ${num(threshold)}`,
          `and ${eventsName(rule.longMs)}${sel} * ${rule.longMs / 1000} >= ${minEvents}`,
          `and ${eventsName(rule.shortMs)}${sel} * ${rule.shortMs / 1000} >= ${minEvents}`,
        ].join('\n'),
        labels: { ...o.alertLabels, ...labels, severity: page ? 'page' : 'ticket', firebreak_severity: rule.severity, burn_rule: rule.name },
        annotations: {
          summary: `${o.service}: SLO ${slo.name} burns its error budget at ≥ ${rule.factor}× over ${promDuration(rule.longMs)} and ${promDuration(rule.shortMs)}`,
          description: `Bad-event ratio over ${promDuration(rule.longMs)} and ${promDuration(rule.shortMs)} ≥ ${num(threshold)} (${rule.factor}× the allowed ${num(sli.allowed)}), each window with ≥ ${minEvents} events.`,
        },
      };
      if (o.forMs > 0) alert.for = promDuration(o.forMs);
      alerting.push(alert);
    }
  });
  const groups: RuleFile['groups'] = [];
  if (recording.length > 0) groups.push({ name: `firebreak-${o.service}-slo-recordings`, rules: recording });
  if (alerting.length > 0) groups.push({ name: `firebreak-${o.service}-slo-alerts`, rules: alerting });
  return { groups };
}

/** `availability-p99` → `AvailabilityP99`: alert names are Prometheus metric-name-like. */
function toAlertName(s: string): string {
  const out = s
    .split(/[^a-zA-Z0-9]+/)
    .filter((x) => x !== '')
    .map((x) => x[0]!.toUpperCase() + x.slice(1))
    .join('');
  return /^[a-zA-Z_]/.test(out) ? out : `Slo${out}`;
}

/** A YAML double-quoted scalar: JSON string syntax is a subset of it. */
function y(s: string): string {
  return JSON.stringify(s);
}

/**
 * The rule file as YAML, for `promtool check rules` and Prometheus'
 * `rule_files`. Every string is a double-quoted scalar, so no value (a
 * route with `: ` or `#` in it) can change the document's structure.
 */
export function rulesToYaml(file: RuleFile): string {
  const out: string[] = ['groups:'];
  const map = (indent: string, key: string, rec: Record<string, string>): void => {
    const entries = Object.entries(rec);
    if (entries.length === 0) return;
    out.push(`${indent}${key}:`);
    for (const [k, v] of entries) out.push(`${indent}  ${k}: ${y(v)}`);
  };
  for (const g of file.groups) {
    out.push(`  - name: ${y(g.name)}`, '    rules:');
    for (const r of g.rules) {
      if ('record' in r) out.push(`      - record: ${y(r.record)}`);
      else out.push(`      - alert: ${y(r.alert)}`);
      out.push(`        expr: ${y(r.expr)}`);
      if ('alert' in r && r.for !== undefined) out.push(`        for: ${y(r.for)}`);
      map('        ', 'labels', r.labels);
      if ('alert' in r) map('        ', 'annotations', r.annotations);
    }
  }
  return `${out.join('\n')}\n`;
}

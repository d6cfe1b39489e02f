import type { SloConfig } from '../config.js';
import { CounterRing } from '../metrics/counter-ring.js';
import type { BurnRateOptions, BurnRule } from './config.js';
import type { DetectionContext, Detector, Observation } from './detector.js';
import { formatDuration } from './format.js';
import { compareSeverity, type Severity, type SignalReading } from './types.js';

const REQ = 0;
const BAD = 1;

interface Target {
  slo: string;
  route: string | undefined;
  /** Allowed bad fraction: 1 − objective for success rate, `max` for error rate. */
  allowed: number;
  ring: CounterRing;
}

/**
 * One window of one rule, as reported in stats.
 *
 * @example
 * ```ts
 * monitor.stats().incidents.burnRate[0]!.rules[0]!.short.burnRate; // e.g. 1000 during a full outage
 * ```
 */
export interface BurnWindow {
  windowMs: number;
  requests: number;
  /** Bad fraction over allowed bad fraction, or null without requests. */
  burnRate: number | null;
}

/**
 * Where one SLO stands against every rule.
 *
 * @example
 * ```ts
 * for (const s of monitor.stats().incidents.burnRate) console.log(s.slo, s.rules.filter((r) => r.firing).map((r) => r.name));
 * ```
 */
export interface BurnStatus {
  slo: string;
  route?: string;
  rules: { name: string; severity: Severity; factor: number; long: BurnWindow; short: BurnWindow; firing: boolean }[];
}

/**
 * Multi-window, multi-burn-rate alerting (SRE workbook) for success-rate and
 * error-rate SLOs. Counts live in coarse rings (`slotMs`, 1 minute by
 * default) that cover the longest rule window, one for all traffic and one
 * per route an SLO is scoped to, fed from `recordRequest`. A rule fires when
 * both its long and its short window burn the error budget at ≥ `factor`;
 * the short window makes the alert reset soon after the problem stops.
 */
export class BurnRateTracker {
  private readonly opts: BurnRateOptions;
  private readonly minSamples: number;
  private readonly targets: Target[] = [];
  private overall: CounterRing | undefined;
  private readonly byRoute = new Map<string, CounterRing>();

  constructor(opts: BurnRateOptions, slos: readonly SloConfig[], minSamples: number) {
    this.opts = opts;
    this.minSamples = opts.minSamples ?? minSamples;
    if (!opts.enabled) return;
    const slots = Math.ceil(Math.max(...opts.rules.map((r) => r.longMs)) / opts.slotMs);
    const ringFor = (route: string | undefined): CounterRing => {
      if (route === undefined) return (this.overall ??= new CounterRing(opts.slotMs, slots, 2));
      let r = this.byRoute.get(route);
      if (r === undefined) this.byRoute.set(route, (r = new CounterRing(opts.slotMs, slots, 2)));
      return r;
    };
    for (const slo of slos) {
      if (slo.kind !== 'success-rate' && slo.kind !== 'error-rate') continue;
      const allowed = slo.kind === 'success-rate' ? 1 - slo.objective : slo.max;
      this.targets.push({ slo: slo.name, route: slo.route, allowed, ring: ringFor(slo.route) });
    }
  }

  /** True when at least one SLO is tracked. */
  get active(): boolean {
    return this.targets.length > 0;
  }

  /** Hot path: counts one request. No allocation. */
  record(now: number, route: string, failure: boolean): void {
    const o = this.overall;
    if (o !== undefined) {
      o.add(now, REQ);
      if (failure) o.add(now, BAD);
    }
    if (this.byRoute.size === 0) return;
    const r = this.byRoute.get(route);
    if (r !== undefined) {
      r.add(now, REQ);
      if (failure) r.add(now, BAD);
    }
  }

  /** Every tracked SLO against every rule at `now`. */
  status(now: number): BurnStatus[] {
    return this.targets.map((t) => {
      const s: BurnStatus = { slo: t.slo, rules: this.opts.rules.map((rule) => this.judge(t, rule, now)) };
      if (t.route !== undefined) s.route = t.route;
      return s;
    });
  }

  /** The detector that opens `slo-burn` incidents, one scope per SLO (`slo:<name>`). */
  detector(): Detector {
    const tracker = this;
    return {
      name: 'burn-rate',
      type: 'slo-burn',
      forMs: this.opts.forMs,
      clearForMs: this.opts.clearForMs,
      observe(ctx: DetectionContext): Observation[] {
        return tracker.observe(ctx.now);
      },
    };
  }

  private observe(now: number): Observation[] {
    const out: Observation[] = [];
    for (const t of this.targets) {
      const rules = this.opts.rules.map((rule) => ({ rule, r: this.judge(t, rule, now) }));
      const judged = rules.filter(({ r }) => r.short.requests >= this.minSamples && r.short.requests > 0 && r.long.burnRate !== null);
      if (judged.length === 0) continue; // not enough traffic: no data
      let worst: (typeof judged)[number] | undefined;
      for (const j of judged) if (j.r.firing && (worst === undefined || compareSeverity(j.rule.severity, worst.rule.severity) > 0)) worst = j;
      const shown = worst ?? judged[0]!;
      const signal: SignalReading = {
        name: `error-budget burn rate (${formatDuration(shown.rule.longMs)})`,
        value: round(shown.r.long.burnRate ?? 0),
        unit: 'number',
        direction: 'above',
        at: now,
      };
      if (worst === undefined) {
        out.push({ scope: `slo:${t.slo}`, severity: null, signal });
        continue;
      }
      signal.threshold = worst.rule.factor;
      const long = worst.r.long.burnRate ?? 0;
      const lasts = long > 0 ? formatDuration(this.opts.periodMs / long) : 'forever';
      out.push({
        scope: `slo:${t.slo}`,
        severity: worst.rule.severity,
        signal,
        summary:
          `SLO ${t.slo} is burning its error budget at ${round(long)}× over ${formatDuration(worst.rule.longMs)} and ` +
          `${round(worst.r.short.burnRate ?? 0)}× over ${formatDuration(worst.rule.shortMs)} (rule ${worst.rule.name}, ≥ ${worst.rule.factor}×): ` +
          `the ${formatDuration(this.opts.periodMs)} budget lasts ${lasts} at this rate`,
      });
    }
    return out;
  }

  private judge(t: Target, rule: BurnRule, now: number): BurnStatus['rules'][number] {
    const window = (windowMs: number): BurnWindow => {
      const requests = t.ring.sum(now, REQ, windowMs);
      const bad = t.ring.sum(now, BAD, windowMs);
      return { windowMs, requests, burnRate: requests > 0 ? bad / requests / t.allowed : null };
    };
    const long = window(rule.longMs);
    const short = window(rule.shortMs);
    const firing =
      long.burnRate !== null && short.burnRate !== null && short.requests >= this.minSamples && long.burnRate >= rule.factor && short.burnRate >= rule.factor;
    return { name: rule.name, severity: rule.severity, factor: rule.factor, long, short, firing };
  }
}

function round(n: number): number {
  return Math.round(n * 10) / 10;
}

import type { SloConfig } from '../slo/schema.js';
import { CounterRing } from '../metrics/counter-ring.js';
import { HIT } from '../metrics/series-store.js';
import type { ErrorBudget, RatioReader } from '../slo/evaluate.js';
import type { BurnRateOptions, BurnRule } from './config.js';
import type { DetectionContext, Detector, Observation } from './detector.js';
import { formatDuration } from './format.js';
import { compareSeverity, type Severity, type SignalReading } from './types.js';

/** Ring fields: every event, failed requests (or cache misses and errors), then one per latency threshold. */
const EVENTS = 0;
const FAILED = 1;
const SLOW = 2;

/** `format` of a burn-rate state file: a file without it is not ours. */
export const BURN_STATE_FORMAT = 'firebreak-burn-rate-state';
/** Version of the state file layout. */
export const BURN_STATE_VERSION = 1;

/**
 * What a burn-rate state file holds (JSON): see docs/slo-semantics.md, "Across restarts".
 *
 * @example
 * ```ts
 * const state: BurnRateState = JSON.parse(readFileSync('logs/incidents.jsonl.burn-rate.json', 'utf8'));
 * state.streams.map((s) => s.scope); // ['service', 'route:GET /search']
 * ```
 */
export interface BurnRateState {
  format: typeof BURN_STATE_FORMAT;
  version: typeof BURN_STATE_VERSION;
  /** Clock time of the save. */
  savedAt: number;
  /** `burnRate.slotMs` of the window rings. */
  slotMs: number;
  /** Slot size of the budget-period rings. */
  periodSlotMs: number;
  /** `[window ms, observed since]` per rule window. */
  since: [number, number][];
  /** Since when the budget period has been observed. */
  periodSince: number;
  /** Per stream: `[absolute slot, count per field…]` rows of the window ring and of the period ring. */
  streams: { scope: string; thresholds: number[]; ring: number[][]; period: number[][] }[];
}

/** Budget-period rings are kept to about this many slots (1 h slots for 30 days). */
const PERIOD_SLOTS = 720;

/**
 * One stream of good/bad events: all requests, one route's requests, one
 * cache's lookups or all caches' lookups. SLOs on the same stream share it.
 */
interface Source {
  /** `service`, `route:<r>`, `cache:<name>` or `caches`. */
  scope: string;
  /** Coarse ring behind the burn-rate windows. */
  ring: CounterRing;
  /** Coarser ring behind the error budget over the SLO period. */
  period: CounterRing;
  /** Counts not yet in the rings, one per ring field. */
  pending: Float64Array;
  /** Latency thresholds (ms) counted for this stream; field `SLOW + i` counts requests slower than `thresholds[i]`. */
  thresholds: Float64Array;
  /** Time of the newest event moved into the rings (`-Infinity` before any). */
  lastSeen: number;
  /** Smallest `absentAfterMs` of the SLOs on this stream, or undefined when none asks. */
  absentAfterMs: number | undefined;
  /** Names of the SLOs on this stream, for summaries. */
  slos: string[];
}

interface Target {
  slo: string;
  route: string | undefined;
  /** Allowed bad fraction: 1 − objective, `max` for error rate, 1 − quantile for latency. */
  allowed: number;
  source: Source;
  /** Ring field holding this SLO's bad events. */
  field: number;
  /** Per rule (same order as `opts.rules`), the events each window needs before it is judged. */
  minEvents: number[];
  /**
   * SLOs that measure the same bad events on the same stream with the same
   * allowance as this one (a success rate > 99.5 % and an error rate < 0.5 %):
   * they burn identically, so only the first of them opens incidents.
   */
  twins: string[];
  /** Set on the later twins: the first one speaks for them. */
  twinOf?: string;
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
  /** Events in exactly the last `windowMs` (the oldest slot pro rata, so it may be fractional). */
  requests: number;
  /** Bad fraction over allowed bad fraction, or null without events. */
  burnRate: number | null;
  /** True when the window counts: observed for its whole length (or the rule is `partial`) and holding at least `minEvents`. */
  judged: boolean;
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
  rules: {
    name: string;
    severity: Severity;
    factor: number;
    /** Events each window needs before it is judged (see docs/slo-semantics.md). */
    minEvents: number;
    long: BurnWindow;
    short: BurnWindow;
    /** Both windows judged: the rule has enough data to fire or to clear. */
    judged: boolean;
    firing: boolean;
  }[];
}

/**
 * The events a burn-rate window needs before it is judged, by default: the
 * smallest count at which one bad event cannot reach `factor` on its own,
 * `⌊1 / (allowed × factor)⌋ + 1`, and never fewer than `floor`.
 *
 * @example
 * ```ts
 * defaultMinEvents(0.001, 14.4, 20); // 70: one failure in 70 requests burns at 14.3×
 * ```
 */
export function defaultMinEvents(allowed: number, factor: number, floor: number): number {
  // The epsilon keeps an exact quotient (1 / (0.01 × 10) = 10) from flooring to one below it.
  return Math.max(floor, Math.floor(1 / (allowed * factor) + 1e-9) + 1);
}

/**
 * Multi-window, multi-burn-rate alerting (SRE workbook) for every
 * good-event-ratio SLO (success rate, error rate, latency as the share of
 * requests faster than `thresholdMs`, cache hit rate), the error budget over
 * the SLO period, and absent-traffic detection.
 *
 * Counts live in coarse rings (`slotMs`, 1 minute by default) fed from
 * `recordRequest` / `recordCache`, one per stream (all traffic, a route, a
 * cache). A rule fires when both its long and its short window burn the
 * budget at ≥ `factor`, and only on windows it may trust: each observed for
 * its whole length since the monitor started (unless the rule is `partial`)
 * and holding at least `minEvents`. Windows are exact (see
 * {@link CounterRing.exactSums}).
 */
export class BurnRateTracker implements RatioReader {
  private readonly opts: BurnRateOptions;
  private readonly targets: Target[] = [];
  private readonly startedAt: number;
  /**
   * Per rule window (ms), since when it has been observed without a break:
   * the start, or a restored earlier time (see {@link BurnRateTracker.restoreState}).
   */
  private readonly since = new Map<number, number>();
  /** Since when the budget period has been observed without a break. */
  private periodSince: number;
  private overall: Source | undefined;
  private readonly byRoute = new Map<string, Source>();
  private allCaches: Source | undefined;
  private readonly byCache = new Map<string, Source>();
  /**
   * Events counted at time `pendingAt` and not yet in the rings. While the
   * monitor runs, `record` gets the slot ticker's time, which changes once per
   * window slot, so an event costs a compare and a few increments; the counts
   * move into the rings when the time changes and before every read.
   */
  private pendingAt = Number.NaN;
  /** True when events were counted since the last move into the rings: reads skip the move otherwise. */
  private dirty = false;
  private readonly byName = new Map<string, Target>();
  /** Every rule window, ascending: one pass over a ring reads them all. */
  private readonly windowsMs: number[];
  private readonly staged = new Float64Array(2);

  /**
   * @param startedAt - when observation began (read only when some SLO is tracked): a window younger than its length is not judged.
   * @param minSamples - floor of every rule's default `minEvents` (`burnRate.minSamples`, else the monitor's).
   */
  constructor(opts: BurnRateOptions, slos: readonly SloConfig[], minSamples: number, startedAt: () => number) {
    this.opts = opts;
    const floor = opts.minSamples ?? minSamples;
    this.windowsMs = [...new Set(opts.rules.flatMap((r) => [r.longMs, r.shortMs]))].sort((a, b) => a - b);
    const ringSlots = Math.ceil(Math.max(...opts.rules.map((r) => r.longMs)) / opts.slotMs) + 1;
    const periodSlotMs = Math.max(opts.slotMs, Math.ceil(opts.periodMs / PERIOD_SLOTS));
    const periodSlots = Math.ceil(opts.periodMs / periodSlotMs) + 1;

    // Latency thresholds per stream first: they decide each stream's ring width.
    const thresholdsOf = new Map<string, number[]>();
    const streamOf = (slo: SloConfig): string | undefined => {
      switch (slo.kind) {
        case 'latency':
        case 'success-rate':
        case 'error-rate':
          return slo.route === undefined ? 'service' : `route:${slo.route}`;
        case 'cache-hit-rate':
          return slo.cache === undefined ? 'caches' : `cache:${slo.cache}`;
        default:
          return undefined;
      }
    };
    for (const slo of slos) {
      const key = streamOf(slo);
      if (key === undefined) continue;
      const th = thresholdsOf.get(key) ?? [];
      if (slo.kind === 'latency' && !th.includes(slo.thresholdMs)) th.push(slo.thresholdMs);
      thresholdsOf.set(key, th);
    }
    const sources = new Map<string, Source>();
    for (const [scope, th] of thresholdsOf) {
      th.sort((a, b) => a - b); // ascending: a fast request stops at the first compare
      const fields = SLOW + th.length;
      sources.set(scope, {
        scope,
        ring: new CounterRing(opts.slotMs, ringSlots, fields),
        period: new CounterRing(periodSlotMs, periodSlots, fields),
        pending: new Float64Array(fields),
        thresholds: Float64Array.from(th),
        lastSeen: -Infinity,
        absentAfterMs: undefined,
        slos: [],
      });
    }
    for (const slo of slos) {
      const key = streamOf(slo);
      if (key === undefined) continue;
      const source = sources.get(key)!;
      let allowed: number;
      let field = FAILED;
      if (slo.kind === 'success-rate' || slo.kind === 'cache-hit-rate') allowed = 1 - slo.objective;
      else if (slo.kind === 'error-rate') allowed = slo.max;
      else if (slo.kind === 'latency') {
        allowed = 1 - slo.quantile;
        field = SLOW + [...source.thresholds].indexOf(slo.thresholdMs);
      } else continue;
      source.slos.push(slo.name);
      if (slo.kind !== 'cache-hit-rate' && slo.absentAfterMs !== false) {
        source.absentAfterMs = Math.min(source.absentAfterMs ?? Infinity, slo.absentAfterMs);
      }
      const minEvents = opts.rules.map((r) => r.minEvents ?? defaultMinEvents(allowed, r.factor, floor));
      const twin = this.targets.find((x) => x.source === source && x.field === field && Math.abs(x.allowed - allowed) <= 1e-12 && x.twinOf === undefined);
      const target: Target = { slo: slo.name, route: slo.route, allowed, source, field, minEvents, twins: [] };
      if (twin !== undefined && opts.rules.every((_, i) => twin.minEvents[i] === minEvents[i])) {
        target.twinOf = twin.slo;
        twin.twins.push(slo.name);
      }
      this.targets.push(target);
    }
    this.startedAt = this.targets.length > 0 ? startedAt() : 0;
    for (const w of this.windowsMs) this.since.set(w, this.startedAt);
    this.periodSince = this.startedAt;
    for (const t of this.targets) this.byName.set(t.slo, t);
    for (const [scope, s] of sources) {
      if (scope === 'service') this.overall = s;
      else if (scope === 'caches') this.allCaches = s;
      else if (scope.startsWith('route:')) this.byRoute.set(scope.slice('route:'.length), s);
      else this.byCache.set(scope.slice('cache:'.length), s);
    }
  }

  /** True when at least one SLO is tracked. */
  get active(): boolean {
    return this.targets.length > 0;
  }

  /** True when some SLO asks for absent-traffic detection. */
  get watchesAbsence(): boolean {
    return [this.overall, ...this.byRoute.values()].some((s) => s?.absentAfterMs !== undefined);
  }

  /** Counts one request at `now` (tests and tools; the monitor uses {@link BurnRateTracker.recordStaged}). */
  record(now: number, route: string, failure: boolean, durationMs = 0): void {
    this.staged[0] = now;
    this.staged[1] = durationMs;
    this.recordStaged(this.staged, route, failure);
  }

  /**
   * Hot path: counts one request at time `input[0]` lasting `input[1]` ms.
   * No allocation, no call unless the time changed; time and duration come in
   * a typed array so they are never boxed (see LatencyWindow.recordStaged).
   * A latency SLO costs one compare of the duration against its threshold.
   */
  recordStaged(input: Float64Array, route: string, failure: boolean): void {
    const now = input[0]!;
    if (now !== this.pendingAt) this.flush(now);
    this.dirty = true;
    const o = this.overall;
    if (o !== undefined) {
      // Inlined rather than a call to count(): this runs for every request.
      const p = o.pending;
      p[EVENTS]!++;
      if (failure) p[FAILED]!++;
      if (o.thresholds.length !== 0) countSlow(p, o.thresholds, input[1]!);
    }
    if (this.byRoute.size !== 0) this.recordRoute(route, input, failure);
  }

  private recordRoute(route: string, input: Float64Array, failure: boolean): void {
    const r = this.byRoute.get(route);
    if (r !== undefined) count(r, input[1]!, failure);
  }

  /** Counts one cache lookup at time `time[0]`; `result` is HIT, MISS or ERROR. */
  recordCacheStaged(time: Float64Array, cache: string, result: number): void {
    const all = this.allCaches;
    if (all === undefined && this.byCache.size === 0) return;
    const now = time[0]!;
    if (now !== this.pendingAt) this.flush(now);
    this.dirty = true;
    const bad = result !== HIT;
    if (all !== undefined) count(all, 0, bad);
    const c = this.byCache.get(cache);
    if (c !== undefined) count(c, 0, bad);
  }

  /** Before a read: moves what was counted since the last move into the rings. */
  private settle(): void {
    if (this.dirty) this.flush(this.pendingAt);
  }

  /** Moves pending counts into the rings at `pendingAt`; later counts are taken at `next`. */
  private flush(next: number): void {
    const at = this.pendingAt;
    if (this.overall !== undefined) move(this.overall, at);
    for (const s of this.byRoute.values()) move(s, at);
    if (this.allCaches !== undefined) move(this.allCaches, at);
    for (const s of this.byCache.values()) move(s, at);
    this.pendingAt = next;
    this.dirty = false;
  }

  /** Every tracked SLO against every rule at `now` (empty when burn-rate alerts are off). */
  status(now: number): BurnStatus[] {
    if (!this.opts.enabled) return [];
    this.settle();
    const sums = this.windowSums(now);
    return this.targets.map((t) => {
      const s: BurnStatus = { slo: t.slo, rules: this.opts.rules.map((rule, i) => this.judge(now, t, rule, t.minEvents[i]!, sums(t.source))) };
      if (t.route !== undefined) s.route = t.route;
      return s;
    });
  }

  /**
   * The error budget of SLO `slo` over the SLO period at `now` (the observed
   * part of it, when the monitor is younger than the period), or undefined for
   * an SLO that is not a good-event ratio.
   */
  budget(slo: string, now: number): ErrorBudget | undefined {
    const t = this.byName.get(slo);
    if (t === undefined) return undefined;
    this.settle();
    const periodMs = this.opts.periodMs;
    const [events] = t.source.period.exactSums(now, EVENTS, [periodMs]);
    const [bad] = t.source.period.exactSums(now, t.field, [periodMs]);
    const allowedBad = events! * t.allowed;
    return {
      periodMs,
      observedMs: Math.max(0, Math.min(periodMs, now - this.periodSince)),
      events: events!,
      badEvents: bad!,
      allowedBadEvents: allowedBad,
      remaining: events! > 0 ? 1 - bad! / allowedBad : null,
    };
  }

  /** SLO `slo`'s burn rate over exactly the last `windowMs` (null without events; undefined when not tracked). */
  burn(slo: string, now: number, windowMs: number): number | null | undefined {
    const t = this.byName.get(slo);
    if (t === undefined) return undefined;
    this.settle();
    const [events] = t.source.ring.exactSums(now, EVENTS, [windowMs]);
    const [bad] = t.source.ring.exactSums(now, t.field, [windowMs]);
    return events! > 0 ? bad! / events! / t.allowed : null;
  }

  /**
   * Everything a restart needs to carry on at `now` (see docs/slo-semantics.md,
   * "Across restarts"): per stream the slots of both rings that counted
   * something, and since when each window and the period have been observed.
   */
  exportState(now: number): BurnRateState {
    this.settle();
    const streams: BurnRateState['streams'] = [];
    for (const s of this.sources()) {
      streams.push({ scope: s.scope, thresholds: [...s.thresholds], ring: s.ring.slotCounts(now), period: s.period.slotCounts(now) });
    }
    return {
      format: BURN_STATE_FORMAT,
      version: BURN_STATE_VERSION,
      savedAt: now,
      slotMs: this.opts.slotMs,
      periodSlotMs: this.sources()[0]?.period.slotMs ?? this.opts.slotMs,
      since: this.windowsMs.map((w) => [w, this.since.get(w)!]),
      periodSince: this.periodSince,
      streams,
    };
  }

  /**
   * Restores a state saved by {@link BurnRateTracker.exportState} into a
   * tracker that has counted nothing yet, at `now`. Slots that left the rings
   * meanwhile are dropped. A window (or the period) of length W keeps its
   * observed-since time only when the gap `now − savedAt` is shorter than W;
   * otherwise its warm-up starts again at `now`. A stream whose latency
   * thresholds changed, or rings whose slot size changed, start empty.
   *
   * @returns the streams restored.
   */
  restoreState(state: BurnRateState, now: number): number {
    const gap = Math.max(0, now - state.savedAt);
    const ringFits = state.slotMs === this.opts.slotMs;
    const saved = new Map(state.since);
    // A window the saved state did not know gets the latest saved time: never judged earlier than any known one.
    const latest = Math.max(...state.since.map(([, t]) => t), state.periodSince);
    for (const w of this.windowsMs) {
      if (ringFits && gap < w) this.since.set(w, Math.min(saved.get(w) ?? latest, now));
      else this.since.set(w, now);
    }
    const bySource = new Map(this.sources().map((s) => [s.scope, s]));
    const periodFits = state.periodSlotMs === (this.sources()[0]?.period.slotMs ?? Number.NaN);
    this.periodSince = periodFits && gap < this.opts.periodMs ? Math.min(state.periodSince, now) : now;
    let restored = 0;
    for (const st of state.streams) {
      const s = bySource.get(st.scope);
      if (s === undefined || st.thresholds.length !== s.thresholds.length || st.thresholds.some((t, i) => t !== s.thresholds[i])) continue;
      if (ringFits) s.ring.restoreSlots(st.ring, now);
      if (periodFits) s.period.restoreSlots(st.period, now);
      restored++;
    }
    return restored;
  }

  private sources(): Source[] {
    const out: Source[] = [];
    if (this.overall !== undefined) out.push(this.overall);
    out.push(...this.byRoute.values());
    if (this.allCaches !== undefined) out.push(this.allCaches);
    out.push(...this.byCache.values());
    return out;
  }

  /**
   * The largest state file {@link BurnRateTracker.exportState} can produce,
   * in bytes: every slot of every ring counted something, every number at its
   * longest in JSON (24 characters), every scope escaped at its longest.
   */
  stateBound(): number {
    let bytes = 1_024 + this.windowsMs.length * 52;
    for (const s of this.sources()) {
      const row = 2 + (s.pending.length + 1) * 25;
      bytes += 128 + s.scope.length * 6 + s.thresholds.length * 25 + (s.ring.slots + s.period.slots) * row;
    }
    return bytes;
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

  /**
   * The detector that opens `service-down` when a stream that had traffic
   * receives none for its SLOs' `absentAfterMs` (scope `service` for all
   * traffic, `route:<r>` for a route), and resolves it at the first evaluation
   * after traffic returns. The wait is the condition itself: no `forMs`.
   */
  absenceDetector(): Detector {
    const tracker = this;
    return {
      name: 'absent-traffic',
      type: 'service-down',
      forMs: 0,
      clearForMs: 0,
      observe(ctx: DetectionContext): Observation[] {
        return tracker.observeAbsence(ctx.now);
      },
    };
  }

  private observeAbsence(now: number): Observation[] {
    this.settle();
    const out: Observation[] = [];
    for (const s of [this.overall, ...this.byRoute.values()]) {
      if (s === undefined || s.absentAfterMs === undefined || s.lastSeen === -Infinity) continue;
      const silentMs = Math.max(0, now - s.lastSeen);
      const signal: SignalReading = { name: 'time since the last request', value: silentMs, unit: 'ms', direction: 'above', at: now };
      if (silentMs < s.absentAfterMs) {
        out.push({ scope: s.scope, severity: null, signal });
        continue;
      }
      signal.threshold = s.absentAfterMs;
      const where = s.scope === 'service' ? '' : ` on ${s.scope.slice('route:'.length)}`;
      out.push({
        scope: s.scope,
        severity: 'critical',
        signal,
        summary: `No requests${where} for ${formatDuration(silentMs)} (≥ ${formatDuration(s.absentAfterMs)}) after traffic: SLO${s.slos.length > 1 ? 's' : ''} ${s.slos.join(', ')} cannot be judged`,
      });
    }
    return out;
  }

  private observe(now: number): Observation[] {
    if (!this.opts.enabled) return [];
    this.settle();
    const sums = this.windowSums(now);
    const out: Observation[] = [];
    for (const t of this.targets) {
      if (t.twinOf !== undefined) continue; // one incident per cause: the first twin opens it
      const judged = this.opts.rules
        .map((rule, i) => ({ rule, r: this.judge(now, t, rule, t.minEvents[i]!, sums(t.source)) }))
        .filter(({ r }) => r.judged);
      if (judged.length === 0) continue; // too young or too little traffic: no data, neither opens nor resolves
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
          `${t.twins.length > 0 ? `SLOs ${[t.slo, ...t.twins].join(', ')} are` : `SLO ${t.slo} is`} burning the error budget at ${round(long)}× over ${formatDuration(worst.rule.longMs)} and ` +
          `${round(worst.r.short.burnRate ?? 0)}× over ${formatDuration(worst.rule.shortMs)} (rule ${worst.rule.name}, ≥ ${worst.rule.factor}×): ` +
          `the ${formatDuration(this.opts.periodMs)} budget lasts ${lasts} at this rate`,
      });
    }
    return out;
  }

  /**
   * Window sums per stream at `now`, read once per stream however many SLOs
   * share it (a route's success-rate, error-rate and latency SLOs do) and for
   * all windows in one pass.
   */
  private windowSums(now: number): (source: Source) => Float64Array[] {
    const memo = new Map<Source, Float64Array[]>();
    return (source) => {
      let s = memo.get(source);
      if (s === undefined) {
        s = [];
        for (let f = 0; f < source.pending.length; f++) s.push(Float64Array.from(source.ring.exactSums(now, f, this.windowsMs)));
        memo.set(source, s);
      }
      return s;
    };
  }

  private judge(now: number, t: Target, rule: BurnRule, minEvents: number, sums: Float64Array[]): BurnStatus['rules'][number] {
    const window = (windowMs: number): BurnWindow => {
      const i = this.windowsMs.indexOf(windowMs);
      const requests = sums[EVENTS]![i]!;
      const bad = sums[t.field]![i]!;
      const observed = rule.partial || now - (this.since.get(windowMs) ?? this.startedAt) >= windowMs;
      return {
        windowMs,
        requests,
        burnRate: requests > 0 ? bad / requests / t.allowed : null,
        // Fractional counts come from the oldest slot's share; a tiny float shortfall must not hide a full window.
        judged: observed && requests + 1e-9 >= minEvents && requests > 0,
      };
    };
    const long = window(rule.longMs);
    const short = window(rule.shortMs);
    const judged = long.judged && short.judged;
    const firing = judged && long.burnRate! >= rule.factor && short.burnRate! >= rule.factor;
    return { name: rule.name, severity: rule.severity, factor: rule.factor, minEvents, long, short, judged, firing };
  }
}

/** Counts one event of `durationMs` (0 for cache lookups) into a stream's pending counts. */
function count(s: Source, durationMs: number, bad: boolean): void {
  const p = s.pending;
  p[EVENTS]!++;
  if (bad) p[FAILED]!++;
  if (s.thresholds.length !== 0) countSlow(p, s.thresholds, durationMs);
}

/** Counts a request slower than each of the ascending `thresholds`: one compare for a fast request. */
function countSlow(p: Float64Array, thresholds: Float64Array, durationMs: number): void {
  for (let i = 0; i < thresholds.length; i++) {
    if (durationMs <= thresholds[i]!) return;
    p[SLOW + i]!++;
  }
}

function move(s: Source, at: number): void {
  const p = s.pending;
  if (p[EVENTS] === 0) return;
  for (let f = 0; f < p.length; f++) {
    const n = p[f]!;
    if (n === 0) continue;
    s.ring.add(at, f, n);
    s.period.add(at, f, n);
    p[f] = 0;
  }
  if (at > s.lastSeen) s.lastSeen = at;
}

function round(n: number): number {
  return Math.round(n * 10) / 10;
}

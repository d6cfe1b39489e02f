import { z } from 'zod';
import type { Clock, TimerHandle } from '../../clock.js';
import { ConfigError, ValidationError } from '../../errors.js';
import type { ActionRegistry } from '../registry.js';
import { namedParams, pick } from './named.js';
import { num, relTime, str, type ChangeLatch, type SharedState } from '../../change-latch.js';

/** Options of `monitor.feature(name, opts)`. */
export const featureOptionsSchema = z
  .strictObject({
    /** Risky features are all turned off by `feature.emergency-stop`. */
    risky: z.boolean().default(false),
    /** Initial state. */
    enabled: z.boolean().default(true),
    description: z.string().max(500).optional(),
    /** State changes kept in `history()` (oldest dropped first). */
    historySize: z.number().int().positive().max(10_000).default(50),
  })
  .default({ risky: false, enabled: true, historySize: 50 });
/**
 * Options of `monitor.feature(name, opts)`.
 *
 * @example
 * ```ts
 * monitor.feature('rerank', { risky: true, historySize: 100 });
 * ```
 */
export type FeatureOptions = z.input<typeof featureOptionsSchema>;

const disableSchema = z
  .strictObject({
    reason: z.string().max(500).optional(),
    /** Re-enable automatically after this long (on the monitor's clock). */
    ttlMs: z.number().int().positive().max(30 * 86_400_000).optional(),
    by: z.string().min(1).max(200).optional(),
  })
  .default({});
/**
 * Options of {@link Feature.disable}.
 *
 * @example
 * ```ts
 * rerank.disable({ reason: 'GPU saturated', ttlMs: 600_000, by: 'alice' });
 * ```
 */
export type DisableFeatureOptions = z.input<typeof disableSchema>;

const enableSchema = z.strictObject({ reason: z.string().max(500).optional(), by: z.string().min(1).max(200).optional() }).default({});
/**
 * Options of {@link Feature.enable}.
 *
 * @example
 * ```ts
 * rerank.enable({ reason: 'GPU healthy', by: 'alice' });
 * ```
 */
export type EnableFeatureOptions = z.input<typeof enableSchema>;

/**
 * One state change of a feature.
 *
 * @example
 * ```ts
 * for (const c of rerank.history()) console.log(c.at, c.enabled, c.by, c.reason);
 * ```
 */
export interface FeatureChange {
  at: number;
  enabled: boolean;
  by: string;
  reason?: string;
  /** Set when the disable will lift by itself. */
  reenableAt?: number;
}

/**
 * A feature's state, as stats show it.
 *
 * @example
 * ```ts
 * const { enabled, reason, reenableAt } = rerank.stats();
 * ```
 */
export interface FeatureStats {
  name: string;
  enabled: boolean;
  risky: boolean;
  description?: string;
  /** When the current state began. */
  since: number;
  /** Who and why of the current state. */
  by: string;
  reason?: string;
  /** When a TTL disable lifts. */
  reenableAt?: number;
  /** State changes since creation. */
  changes: number;
  /** The last `historySize` changes, oldest first. */
  history: FeatureChange[];
}

/**
 * A kill switch. `isEnabled()` is a plain property read, cheap enough for
 * every request; `disable()` can lift itself after a TTL on the monitor's
 * clock. Each change is kept in a bounded history.
 *
 * @example
 * ```ts
 * const rerank = monitor.feature('rerank', { risky: true });
 * if (rerank.isEnabled()) results = await crossEncoder(results);
 * rerank.disable({ reason: 'p95 over 2 s', ttlMs: 15 * 60_000 });
 * ```
 */
export class Feature {
  readonly name: string;
  readonly risky: boolean;
  readonly description: string | undefined;
  private enabled: boolean;
  private readonly clock: Clock;
  private readonly historySize: number;
  private readonly changes: FeatureChange[] = [];
  private changeCount = 0;
  private since: number;
  private by = 'config';
  private reason: string | undefined;
  private reenableAt: number | undefined;
  private timer: TimerHandle | undefined;
  private stopped = false;
  /** @internal The monitor's change latch (set by `Controls`). */
  shared: ChangeLatch | undefined;

  constructor(name: string, clock: Clock, options: FeatureOptions = {}) {
    const parsed = featureOptionsSchema.safeParse(options);
    if (!parsed.success) throw ConfigError.fromZod(`feature "${name}" options`, parsed.error);
    const o = parsed.data;
    this.name = name;
    this.clock = clock;
    this.risky = o.risky;
    this.enabled = o.enabled;
    this.description = o.description;
    this.historySize = o.historySize;
    this.since = clock.now();
  }

  /**
   * Whether the feature is on. A property read: safe on the hottest path.
   *
   * @example
   * ```ts
   * if (rerank.isEnabled()) await rerankResults();
   * ```
   */
  isEnabled(): boolean {
    return this.enabled;
  }

  /**
   * Turns the feature off; with `ttlMs` it turns itself back on after that
   * long. Returns `false` (and changes nothing) if it was already off.
   *
   * @example
   * ```ts
   * rerank.disable({ reason: 'model timeouts', ttlMs: 600_000, by: 'alice' });
   * ```
   */
  disable(options: DisableFeatureOptions = {}): boolean {
    const p = disableSchema.safeParse(options);
    if (!p.success) throw ValidationError.fromZod(`feature "${this.name}" disable options`, p.error);
    if (!this.enabled) return false;
    const o = p.data;
    this.enabled = false;
    this.reenableAt = o.ttlMs !== undefined ? this.clock.now() + o.ttlMs : undefined;
    this.change(o.by ?? 'api', o.reason);
    this.arm();
    this.shared?.changed('feature', this.name);
    return true;
  }

  /**
   * Turns the feature on (cancelling a pending TTL). Returns `false` if it was already on.
   *
   * @example
   * ```ts
   * rerank.enable({ by: 'alice', reason: 'model healthy again' });
   * ```
   */
  enable(options: EnableFeatureOptions = {}): boolean {
    const p = enableSchema.safeParse(options);
    if (!p.success) throw ValidationError.fromZod(`feature "${this.name}" enable options`, p.error);
    if (this.enabled) return false;
    this.enabled = true;
    this.reenableAt = undefined;
    this.disarm();
    this.change(p.data.by ?? 'api', p.data.reason);
    this.shared?.changed('feature', this.name);
    return true;
  }

  /** @internal The state the fleet shares (times relative to `now`). */
  exportShared(now: number): SharedState {
    const s: SharedState = { enabled: this.enabled, by: this.by };
    if (this.reason !== undefined) s['reason'] = this.reason;
    const rel = relTime(this.reenableAt, now);
    if (rel !== undefined) s['reenableInMs'] = rel;
    return s;
  }

  /** @internal Takes the fleet's state (idempotent; history records who changed it, on which replica). */
  applyShared(s: SharedState, now: number): void {
    const rel = num(s, 'reenableInMs');
    // A disable whose TTL already passed fleet-wide reads as enabled, as the TTL timer would have made it.
    const enabled = s['enabled'] !== false || (rel !== undefined && rel <= 0);
    const by = str(s, 'by') ?? 'fleet';
    const reason = str(s, 'reason');
    if (enabled) {
      if (this.enabled) return;
      this.enabled = true;
      this.reenableAt = undefined;
      this.disarm();
      this.change(rel !== undefined && rel <= 0 ? 'ttl' : by, rel !== undefined && rel <= 0 ? 'disable TTL expired' : reason);
      return;
    }
    const reenableAt = rel === undefined ? undefined : now + rel;
    if (this.enabled) {
      this.enabled = false;
      this.reenableAt = reenableAt;
      this.change(by, reason);
      this.arm();
    } else if (reenableAt === undefined ? this.reenableAt !== undefined : this.reenableAt === undefined || Math.abs(this.reenableAt - reenableAt) > 50) {
      // Same state, another TTL (extended, or measured against Redis time): re-arm, no history line.
      this.reenableAt = reenableAt;
      this.arm();
    }
  }

  /** The last `historySize` state changes, oldest first. */
  history(): FeatureChange[] {
    return this.changes.map((c) => ({ ...c }));
  }

  /** State and history. */
  stats(): FeatureStats {
    const s: FeatureStats = {
      name: this.name,
      enabled: this.enabled,
      risky: this.risky,
      since: this.since,
      by: this.by,
      changes: this.changeCount,
      history: this.history(),
    };
    if (this.description !== undefined) s.description = this.description;
    if (this.reason !== undefined) s.reason = this.reason;
    if (this.reenableAt !== undefined) s.reenableAt = this.reenableAt;
    return s;
  }

  /** @internal Re-arms a pending TTL after `stop()`. */
  start(): void {
    this.stopped = false;
    this.arm();
  }

  /** @internal Cancels the TTL timer; the re-enable time is kept for `start()`. */
  stop(): void {
    this.stopped = true;
    this.disarm();
  }

  private change(by: string, reason: string | undefined): void {
    const at = this.clock.now();
    this.since = at;
    this.by = by;
    this.reason = reason;
    this.changeCount++;
    const c: FeatureChange = { at, enabled: this.enabled, by };
    if (reason !== undefined) c.reason = reason;
    if (this.reenableAt !== undefined) c.reenableAt = this.reenableAt;
    this.changes.push(c);
    if (this.changes.length > this.historySize) this.changes.shift();
  }

  private arm(): void {
    this.disarm();
    if (this.stopped || this.reenableAt === undefined || this.enabled) return;
    const delay = Math.max(0, this.reenableAt - this.clock.now());
    this.timer = this.clock.setTimeout(() => {
      this.timer = undefined;
      // Every replica expires the shared TTL by itself: not a change to publish.
      const expire = (): boolean => this.enable({ by: 'ttl', reason: 'disable TTL expired' });
      if (this.shared !== undefined) this.shared.applying(expire);
      else expire();
    }, delay);
  }

  private disarm(): void {
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    this.timer = undefined;
  }
}

/**
 * Registers `feature.disable`, `feature.enable` and `feature.emergency-stop`
 * over a map of features (the runbook: "Disable reranking", 30 s;
 * "Emergency stop all features", 30 s).
 */
export function registerFeatureActions(actions: ActionRegistry, features: ReadonlyMap<string, Feature>): void {
  actions.register({
    id: 'feature.disable',
    title: 'Disable feature',
    description: 'Turns a feature off (kill switch), optionally for a limited time. Revert turns it back on.',
    estimatedSeconds: 30,
    risk: 'safe',
    verification: 'Latency and error rate recover; the feature reads disabled in /stats.',
    params: namedParams('feature', features, {
      reason: z.string().max(500).optional(),
      ttlSeconds: z.number().int().positive().max(30 * 86_400).optional(),
    }),
    execute: ({ params, by }) => {
      const f = pick('feature', features, params.name);
      const opts: DisableFeatureOptions = { by, reason: params.reason ?? `action by ${by}` };
      if (params.ttlSeconds !== undefined) opts.ttlMs = params.ttlSeconds * 1000;
      if (!f.disable(opts)) return { noop: true, message: `${f.name} was already disabled`, data: { name: f.name } };
      return { message: `${f.name} disabled`, data: { name: f.name } };
    },
    revert: ({ data, by }) => {
      const f = pick('feature', features, data['name'] as string);
      return f.enable({ by, reason: 'revert' }) ? { message: `${f.name} enabled` } : { noop: true, message: `${f.name} was already enabled` };
    },
  });
  actions.register({
    id: 'feature.enable',
    title: 'Enable feature',
    description: 'Turns a feature back on. Revert turns it off again.',
    estimatedSeconds: 30,
    risk: 'safe',
    verification: 'The feature reads enabled in /stats; latency and error rate stay within SLO.',
    params: namedParams('feature', features, { reason: z.string().max(500).optional() }),
    execute: ({ params, by }) => {
      const f = pick('feature', features, params.name);
      if (!f.enable({ by, reason: params.reason ?? `action by ${by}` })) {
        return { noop: true, message: `${f.name} was already enabled`, data: { name: f.name } };
      }
      return { message: `${f.name} enabled`, data: { name: f.name } };
    },
    revert: ({ data, by }) => {
      const f = pick('feature', features, data['name'] as string);
      return f.disable({ by, reason: 'revert' }) ? { message: `${f.name} disabled` } : { noop: true };
    },
  });
  actions.register({
    id: 'feature.emergency-stop',
    title: 'Emergency stop of risky features',
    description: 'Disables every feature created with { risky: true } at once. Revert re-enables exactly those it disabled.',
    estimatedSeconds: 30,
    risk: 'safe',
    verification: 'Error rate drops; every risky feature reads disabled in /stats.',
    params: z.strictObject({ reason: z.string().max(500).optional() }),
    execute: ({ params, by }) => {
      const disabled: string[] = [];
      for (const f of features.values()) {
        if (f.risky && f.disable({ by, reason: params.reason ?? 'emergency stop' })) disabled.push(f.name);
      }
      if (disabled.length === 0) return { noop: true, message: 'no risky feature was enabled', data: { disabled } };
      return { message: `disabled ${disabled.join(', ')}`, data: { disabled } };
    },
    revert: ({ data, by }) => {
      const enabled: string[] = [];
      for (const name of (data['disabled'] as string[] | undefined) ?? []) {
        if (features.get(name)?.enable({ by, reason: 'revert emergency stop' }) === true) enabled.push(name);
      }
      return enabled.length === 0 ? { noop: true } : { message: `enabled ${enabled.join(', ')}` };
    },
  });
}

/**
 * `firebreak/openfeature`: firebreak's kill switches and canaries as an
 * OpenFeature provider, so a service that already evaluates flags through
 * OpenFeature gets the emergency levers without changing a call site.
 *
 * - A feature (`monitor.feature(name)`) is a boolean flag named after it:
 *   `true` while enabled (reason `STATIC`), `false` once disabled (reason
 *   `DISABLED`, with who, why, until when and the incident in `flagMetadata`).
 * - A canary (`monitor.canary(name)`) is a boolean flag (`true` in the canary
 *   arm, reason `SPLIT`) or a string flag (`'canary'` / `'stable'`, the
 *   variant), assigned by the context's `targetingKey`; while emergency-stopped
 *   it answers the stable arm with reason `DISABLED`.
 * - Any change of a lever, by an operator, a playbook, auto-remediation or a
 *   TTL, emits `PROVIDER_CONFIGURATION_CHANGED` with the flags that changed.
 *
 * `@openfeature/server-sdk` is an optional peer dependency.
 *
 * @example
 * ```ts
 * import { OpenFeature } from '@openfeature/server-sdk';
 * import { createMonitor } from 'firebreak';
 * import { FirebreakProvider } from 'firebreak/openfeature';
 *
 * const monitor = createMonitor({ service: 'search' });
 * monitor.feature('rerank', { risky: true });
 * await OpenFeature.setProviderAndWait(new FirebreakProvider(monitor));
 * const flags = OpenFeature.getClient();
 * if (await flags.getBooleanValue('rerank', true)) { … }
 * ```
 *
 * @packageDocumentation
 */
import {
  ErrorCode,
  OpenFeatureEventEmitter,
  ProviderEvents,
  StandardResolutionReasons,
  type EvaluationContext,
  type FlagMetadata,
  type JsonValue,
  type Provider,
  type ResolutionDetails,
} from '@openfeature/server-sdk';
import { z } from 'zod';
import type { TimerHandle } from '../clock.js';
import { ConfigError } from '../errors.js';
import type { Monitor } from '../monitor.js';

const optionsSchema = z.strictObject({
  /** How often the provider looks for lever changes made without an action (direct calls, TTLs), in ms of the monitor's clock. */
  pollMs: z.number().int().min(10).max(3_600_000).default(1_000),
});

/**
 * Options of {@link FirebreakProvider}.
 *
 * @example
 * ```ts
 * new FirebreakProvider(monitor, { pollMs: 500 });
 * ```
 */
export type FirebreakProviderOptions = z.input<typeof optionsSchema>;

const FEATURE_ACTIONS = new Set(['feature.disable', 'feature.emergency-stop', 'feature.enable']);

/**
 * An OpenFeature server provider reading a monitor's features and canaries.
 * Evaluation is a property read (plus the canary's hash); nothing is cached,
 * so a lever pulled is seen by the next evaluation.
 */
export class FirebreakProvider implements Provider {
  /** Provider metadata OpenFeature reports. */
  readonly metadata = { name: 'firebreak' } as const;
  /** This provider runs on the server SDK. */
  readonly runsOn = 'server' as const;
  /** Provider events: `PROVIDER_CONFIGURATION_CHANGED` when a lever changes. */
  readonly events = new OpenFeatureEventEmitter();
  private readonly monitor: Monitor;
  private readonly pollMs: number;
  private readonly seen = new Map<string, string>();
  private timer: TimerHandle | undefined;
  private closed = true;
  private readonly onAction = (): void => this.check();

  /** @throws ConfigError when an option is invalid. */
  constructor(monitor: Monitor, options: FirebreakProviderOptions = {}) {
    const parsed = optionsSchema.safeParse(options);
    if (!parsed.success) throw ConfigError.fromZod('FirebreakProvider options', parsed.error);
    this.monitor = monitor;
    this.pollMs = parsed.data.pollMs;
  }

  /** Starts watching the levers (called by OpenFeature when the provider is set). */
  async initialize(): Promise<void> {
    if (!this.closed) return;
    this.closed = false;
    this.snapshot();
    this.monitor.on('action:executed', this.onAction);
    this.monitor.on('action:reverted', this.onAction);
    this.arm();
  }

  /** Stops watching (called by OpenFeature on close or when replaced). */
  async onClose(): Promise<void> {
    this.closed = true;
    this.monitor.off('action:executed', this.onAction);
    this.monitor.off('action:reverted', this.onAction);
    if (this.timer !== undefined) this.monitor.clock.clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** A feature's state, or the canary arm for `context.targetingKey`. */
  async resolveBooleanEvaluation(flagKey: string, defaultValue: boolean, context: EvaluationContext): Promise<ResolutionDetails<boolean>> {
    const feature = this.monitor.controls.features.get(flagKey);
    if (feature !== undefined) {
      const s = feature.stats();
      if (s.enabled) return { value: true, reason: StandardResolutionReasons.STATIC, variant: 'enabled', flagMetadata: this.featureMeta(flagKey) };
      return { value: false, reason: StandardResolutionReasons.DISABLED, variant: 'disabled', flagMetadata: this.featureMeta(flagKey) };
    }
    const arm = this.canaryArm(flagKey, context);
    if (arm !== undefined) {
      if ('errorCode' in arm) return { value: defaultValue, ...arm };
      return { ...arm, value: arm.variant === 'canary' };
    }
    return notFound(flagKey, defaultValue);
  }

  /** A canary's arm (`'canary'` or `'stable'`) for `context.targetingKey`. */
  async resolveStringEvaluation(flagKey: string, defaultValue: string, context: EvaluationContext): Promise<ResolutionDetails<string>> {
    const arm = this.canaryArm(flagKey, context);
    if (arm !== undefined) {
      if ('errorCode' in arm) return { value: defaultValue, ...arm };
      return { ...arm, value: arm.variant };
    }
    return this.monitor.controls.features.has(flagKey) ? mismatch(flagKey, 'boolean', defaultValue) : notFound(flagKey, defaultValue);
  }

  /** A canary's configured percent (0–100). */
  async resolveNumberEvaluation(flagKey: string, defaultValue: number): Promise<ResolutionDetails<number>> {
    const canary = this.monitor.controls.canaries.get(flagKey);
    if (canary !== undefined) {
      const stopped = canary.isStopped();
      return {
        value: stopped ? 0 : canary.percent,
        reason: stopped ? StandardResolutionReasons.DISABLED : StandardResolutionReasons.STATIC,
        flagMetadata: { configuredPercent: canary.percent, stopped },
      };
    }
    return this.monitor.controls.features.has(flagKey) ? mismatch(flagKey, 'boolean', defaultValue) : notFound(flagKey, defaultValue);
  }

  /** Not served: firebreak has no object flags. */
  async resolveObjectEvaluation<T extends JsonValue>(flagKey: string, defaultValue: T): Promise<ResolutionDetails<T>> {
    const known = this.monitor.controls.features.has(flagKey) || this.monitor.controls.canaries.has(flagKey);
    return known ? mismatch(flagKey, 'boolean or string', defaultValue) : notFound(flagKey, defaultValue);
  }

  private canaryArm(flagKey: string, context: EvaluationContext): Omit<ResolutionDetails<string>, 'value'> & { variant: 'canary' | 'stable' } | Omit<ResolutionDetails<never>, 'value'> & { errorCode: ErrorCode } | undefined {
    const canary = this.monitor.controls.canaries.get(flagKey);
    if (canary === undefined) return undefined;
    const key = context.targetingKey;
    const stopped = canary.isStopped();
    const flagMetadata: FlagMetadata = { percent: canary.percent, stopped };
    if (typeof key !== 'string' || key === '') {
      return { reason: StandardResolutionReasons.ERROR, errorCode: ErrorCode.TARGETING_KEY_MISSING, errorMessage: `canary "${flagKey}" needs a targetingKey to assign an arm`, flagMetadata };
    }
    const variant = canary.assign(key);
    if (stopped) return { variant, reason: StandardResolutionReasons.DISABLED, flagMetadata };
    return { variant, reason: StandardResolutionReasons.SPLIT, flagMetadata };
  }

  private featureMeta(name: string): FlagMetadata {
    const s = this.monitor.controls.features.get(name)!.stats();
    const meta: FlagMetadata = { by: s.by, since: s.since, risky: s.risky };
    if (s.reason !== undefined) meta['reason'] = s.reason;
    if (s.reenableAt !== undefined) meta['reenableAt'] = s.reenableAt;
    if (!s.enabled) {
      const incidentId = this.incidentOf(name, s.since);
      if (incidentId !== undefined) meta['incidentId'] = incidentId;
    }
    return meta;
  }

  /** The incident of the newest execution that turned `name` off, if it ran for one. */
  private incidentOf(name: string, since: number): string | undefined {
    const executions = this.monitor.actions.executions();
    for (let i = executions.length - 1; i >= 0; i--) {
      const ex = executions[i]!;
      if (!FEATURE_ACTIONS.has(ex.action) || ex.action === 'feature.enable') continue;
      if (ex.startedAt > since) continue;
      const target = ex.params['name'];
      if (ex.action === 'feature.disable' && target !== name) continue;
      return ex.incidentId;
    }
    return undefined;
  }

  private signatures(): Map<string, string> {
    const out = new Map<string, string>();
    for (const [name, f] of this.monitor.controls.features) {
      const s = f.stats();
      out.set(name, `f:${s.enabled}:${s.changes}`);
    }
    for (const [name, c] of this.monitor.controls.canaries) out.set(name, `c:${c.percent}:${c.isStopped()}`);
    return out;
  }

  private snapshot(): void {
    this.seen.clear();
    for (const [k, v] of this.signatures()) this.seen.set(k, v);
  }

  private check(): void {
    if (this.closed) return;
    const now = this.signatures();
    const changed: string[] = [];
    for (const [k, v] of now) if (this.seen.get(k) !== v) changed.push(k);
    if (changed.length === 0) return;
    for (const k of changed) this.seen.set(k, now.get(k)!);
    this.events.emit(ProviderEvents.ConfigurationChanged, { flagsChanged: changed, message: `firebreak levers changed: ${changed.join(', ')}` });
  }

  private arm(): void {
    if (this.closed) return;
    this.timer = this.monitor.clock.setTimeout(() => {
      this.check();
      this.arm();
    }, this.pollMs);
  }
}

function notFound<T>(flagKey: string, defaultValue: T): ResolutionDetails<T> {
  return { value: defaultValue, reason: StandardResolutionReasons.ERROR, errorCode: ErrorCode.FLAG_NOT_FOUND, errorMessage: `no feature or canary named "${flagKey}"` };
}

function mismatch<T>(flagKey: string, type: string, defaultValue: T): ResolutionDetails<T> {
  return { value: defaultValue, reason: StandardResolutionReasons.ERROR, errorCode: ErrorCode.TYPE_MISMATCH, errorMessage: `"${flagKey}" is a ${type} flag` };
}

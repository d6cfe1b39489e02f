import type { Clock } from '../../clock.js';
import { ConfigError } from '../../errors.js';
import type { ActionRegistry } from '../registry.js';
import { GuardedCache, registerCacheActions, type CacheOptions, type CacheRecorder, type GuardedCacheStats } from './cache.js';
import { Canary, registerCanaryActions, type CanaryHost, type CanaryOptions, type CanaryStats } from './canary.js';
import { Fallback, registerFallbackActions, type FallbackOptions, type FallbackStats } from './fallback.js';
import { Feature, registerFeatureActions, type FeatureOptions, type FeatureStats } from './feature.js';
import { canaryDetector, fallbackDetector, rateLimitDetector, type ControlDetectorSpec } from './detectors.js';
import { byName } from '../../metrics/series-store.js';
import { controlNameSchema } from './named.js';
import { ChangeLatch } from '../../change-latch.js';
import { RateLimiter, registerRateLimitActions, type RateLimiterOptions, type RateLimiterStats } from './rate-limiter.js';

/**
 * Controls of one kind a monitor accepts; creating one more throws a `ConfigError`.
 *
 * @example
 * ```ts
 * if (monitor.controls.features.size < MAX_CONTROLS_PER_KIND) monitor.feature(name);
 * ```
 */
export const MAX_CONTROLS_PER_KIND = 100;

/** What the controls need from the monitor. */
export interface ControlsHost {
  clock: Clock;
  actions: ActionRegistry;
  recordCache: CacheRecorder;
  canary: CanaryHost;
  /** Adds a detector to incident detection (absent: the controls' detectors are not run). */
  detector?(spec: ControlDetectorSpec): unknown;
}

/**
 * `monitor.controls.stats()`: every control's state, by kind and name.
 *
 * @example
 * ```ts
 * const { rateLimiters } = monitor.controls.stats();
 * console.log(rateLimiters['api']?.topOffenders);
 * ```
 */
export interface ControlsStats {
  features: Record<string, FeatureStats>;
  caches: Record<string, GuardedCacheStats>;
  rateLimiters: Record<string, RateLimiterStats>;
  fallbacks: Record<string, FallbackStats>;
  canaries: Record<string, CanaryStats>;
}

/**
 * The levers a service consults on its hot path — features, caches, rate
 * limiters, fallbacks, canaries — kept by name (`monitor.controls`). The
 * first control of each kind registers that kind's actions with
 * `monitor.actions`. Asking again for an existing name without options
 * returns the same control.
 *
 * @example
 * ```ts
 * monitor.feature('rerank', { risky: true });
 * monitor.controls.features.get('rerank')?.isEnabled();
 * ```
 */
export class Controls {
  /** Features by name. */
  readonly features: ReadonlyMap<string, Feature> = new Map();
  /** Guarded caches by name. */
  readonly caches: ReadonlyMap<string, GuardedCache<{}, {}>> = new Map();
  /** Rate limiters by name. */
  readonly rateLimiters: ReadonlyMap<string, RateLimiter> = new Map();
  /** Fallback wrappers by name. */
  readonly fallbacks: ReadonlyMap<string, Fallback> = new Map();
  /** Canaries by name. */
  readonly canaries: ReadonlyMap<string, Canary> = new Map();
  /** @internal The change latch every lever (and the silences and maintenance windows) reports to; the fleet listens. */
  readonly shared = new ChangeLatch();
  private readonly host: ControlsHost;

  constructor(host: ControlsHost) {
    this.host = host;
  }

  /** See `monitor.feature()`. */
  feature(name: string, options?: FeatureOptions): Feature {
    const map = this.features as Map<string, Feature>;
    const existing = lookup('feature', map, name, options);
    if (existing !== undefined) return existing;
    const f = new Feature(name, this.host.clock, options);
    if (map.size === 0) registerFeatureActions(this.host.actions, map);
    f.shared = this.shared;
    map.set(name, f);
    this.shared.created('feature', name);
    return f;
  }

  /** See `monitor.cache()`. */
  cache<K extends {}, V extends {}>(name: string, options?: CacheOptions<K, V>): GuardedCache<K, V> {
    const map = this.caches as Map<string, GuardedCache<{}, {}>>;
    const existing = lookup('cache', map, name, options);
    if (existing !== undefined) return existing as unknown as GuardedCache<K, V>;
    if (options === undefined) throw missing('cache', name, 'options', 'lru-cache options (e.g. { max }) or an LRUCache');
    const c = new GuardedCache<K, V>(name, this.host.clock, options, this.host.recordCache);
    if (map.size === 0) registerCacheActions(this.host.actions, map);
    c.shared = this.shared;
    map.set(name, c as unknown as GuardedCache<{}, {}>);
    this.shared.created('cache', name);
    return c;
  }

  /** See `monitor.rateLimiter()`. */
  rateLimiter(name: string, options?: RateLimiterOptions): RateLimiter {
    const map = this.rateLimiters as Map<string, RateLimiter>;
    const existing = lookup('rate limiter', map, name, options);
    if (existing !== undefined) return existing;
    if (options === undefined) throw missing('rate limiter', name, 'maxRequests', 'required');
    const l = new RateLimiter(name, this.host.clock, options);
    if (map.size === 0) registerRateLimitActions(this.host.actions, map);
    l.shared = this.shared;
    map.set(name, l);
    this.shared.created('limit', name);
    if (l.detector !== false) this.host.detector?.(rateLimitDetector(l, l.detector));
    return l;
  }

  /** See `monitor.fallback()`. */
  fallback<A extends unknown[], R>(name: string, options?: FallbackOptions<A, R>): Fallback<A, R> {
    const map = this.fallbacks as Map<string, Fallback>;
    const existing = lookup('fallback', map, name, options);
    if (existing !== undefined) return existing as unknown as Fallback<A, R>;
    if (options === undefined) throw missing('fallback', name, 'primary', 'required');
    const f = new Fallback<A, R>(name, this.host.clock, options);
    if (map.size === 0) registerFallbackActions(this.host.actions, map);
    f.shared = this.shared;
    map.set(name, f as unknown as Fallback);
    this.shared.created('fallback', name);
    if (f.detector !== false) this.host.detector?.(fallbackDetector(f as unknown as Fallback, f.detector));
    return f;
  }

  /** See `monitor.canary()`. */
  canary(name: string, options?: CanaryOptions): Canary {
    const map = this.canaries as Map<string, Canary>;
    const existing = lookup('canary', map, name, options);
    if (existing !== undefined) return existing;
    const c = new Canary(name, this.host.clock, this.host.canary, options);
    for (const other of map.values()) {
      if (other.series.canary === c.series.canary || other.series.stable === c.series.stable) {
        throw new ConfigError(`canary "${name}" options`, [
          { path: 'series', message: `series labels already used by canary "${other.name}": give each canary its own labels` },
        ]);
      }
    }
    if (map.size === 0) registerCanaryActions(this.host.actions, map);
    c.shared = this.shared;
    map.set(name, c);
    this.shared.created('canary', name);
    if (c.detector !== false) this.host.detector?.(canaryDetector(c, c.detector));
    return c;
  }

  /** Every control's state. */
  stats(): ControlsStats {
    const of = <T extends { stats(): S }, S>(m: ReadonlyMap<string, T>): Record<string, S> => byName(m, (v) => v.stats());
    return {
      features: of(this.features),
      caches: of(this.caches),
      rateLimiters: of(this.rateLimiters),
      fallbacks: of(this.fallbacks),
      canaries: of(this.canaries),
    };
  }

  /** @internal Re-arms feature TTLs. */
  start(): void {
    for (const f of this.features.values()) f.start();
  }

  /** @internal Cancels every timer the controls hold. */
  stop(): void {
    for (const f of this.features.values()) f.stop();
  }
}

function lookup<T>(kind: string, map: Map<string, T>, name: string, options: unknown): T | undefined {
  const n = controlNameSchema.safeParse(name);
  if (!n.success) throw ConfigError.fromZod(`${kind} name`, n.error);
  const existing = map.get(name);
  if (existing !== undefined) {
    if (options !== undefined) {
      throw new ConfigError(`${kind} "${name}"`, [{ path: '', message: `a ${kind} named "${name}" already exists; call without options to get it` }]);
    }
    return existing;
  }
  if (map.size >= MAX_CONTROLS_PER_KIND) {
    throw new ConfigError(`${kind} "${name}"`, [{ path: '', message: `at most ${MAX_CONTROLS_PER_KIND} ${kind}s per monitor` }]);
  }
  return undefined;
}

function missing(kind: string, name: string, field: string, message: string): ConfigError {
  return new ConfigError(`${kind} "${name}" options`, [{ path: field, message }]);
}

import { z } from 'zod';
import { LRUCache } from 'lru-cache';
import type { Clock } from '../../clock.js';
import { ConfigError, ValidationError } from '../../errors.js';
import type { ActionRegistry } from '../registry.js';
import { namedParams, pick } from './named.js';

/**
 * What `monitor.cache(name, …)` accepts: lru-cache options (`max`, `ttl`,
 * `maxSize`…; at least one bound is required by lru-cache) or an existing
 * `LRUCache` to guard.
 *
 * @example
 * ```ts
 * monitor.cache('search', { max: 10_000, ttl: 60_000 }); monitor.cache('users', existingLru);
 * ```
 */
export type CacheOptions<K extends {}, V extends {}> = LRUCache.Options<K, V, unknown> | LRUCache<K, V, unknown>;

/** Where a cache reports each lookup: the monitor's cache series. */
export type CacheRecorder = (cache: string, result: 'hit' | 'miss' | 'error') => void;

/**
 * A guarded cache's state and counters.
 *
 * @example
 * ```ts
 * const { hitRate, size, disabled } = cache.stats();
 * ```
 */
export interface GuardedCacheStats {
  name: string;
  /** Entries held now. */
  size: number;
  /** lru-cache's `max` (0 when bounded by size or TTL only). */
  max: number;
  hits: number;
  misses: number;
  errors: number;
  /** hits / (hits + misses + errors) since creation, or null before any lookup. */
  hitRate: number | null;
  disabled: boolean;
  reason?: string;
  /** Lookups answered as pass-through while disabled (not recorded as misses). */
  bypassed: number;
  /** Entries removed by `clear()` since creation. */
  cleared: number;
}

const disableSchema = z.strictObject({ reason: z.string().max(500).optional(), by: z.string().max(200).optional() }).default({});

/**
 * An lru-cache that records its own hits, misses and errors into the
 * monitor's cache series, and that an operator (or a playbook) can clear or
 * turn into a pass-through. Lookups never throw into the host: an error
 * inside the cache is recorded and answered as a miss.
 *
 * TTLs follow the monitor's clock (the cache's `perf` is the clock unless you
 * pass your own), so a test's ManualClock expires entries too.
 *
 * @example
 * ```ts
 * const cache = monitor.cache<string, Result[]>('search', { max: 10_000, ttl: 60_000 });
 * const results = await cache.getOrLoad(query, () => search(query));
 * ```
 */
export class GuardedCache<K extends {}, V extends {}> {
  readonly name: string;
  /** The underlying lru-cache (reads through it are not recorded). */
  readonly lru: LRUCache<K, V, unknown>;
  private readonly record: CacheRecorder;
  private disabled = false;
  private reason: string | undefined;
  private hits = 0;
  private misses = 0;
  private errors = 0;
  private bypassed = 0;
  private cleared = 0;
  // Concurrent loads of one key share one loader call; entries live only while the load is in flight.
  private readonly inflight = new Map<K, Promise<V>>();

  constructor(name: string, clock: Clock, options: CacheOptions<K, V>, record: CacheRecorder) {
    this.name = name;
    this.record = record;
    if (options instanceof LRUCache) {
      this.lru = options;
    } else if (typeof options === 'object' && options !== null) {
      // TTLs read the monitor's clock; ttlResolution 0 because lru-cache would otherwise cache
      // "now" behind a real setTimeout, which neither follows a manual clock nor belongs here.
      const timing = 'perf' in options ? {} : { perf: { now: () => clock.monotonic() }, ttlResolution: 0 };
      const opts = { ...timing, ...options } as LRUCache.Options<K, V, unknown>;
      try {
        this.lru = new LRUCache<K, V, unknown>(opts);
      } catch (err) {
        throw new ConfigError(`cache "${name}" options`, [{ path: '', message: err instanceof Error ? err.message : String(err) }]);
      }
    } else {
      throw new ConfigError(`cache "${name}" options`, [{ path: '', message: 'expected lru-cache options or an LRUCache' }]);
    }
  }

  /**
   * The cached value, recording a hit or a miss (nothing while disabled:
   * every lookup is a pass-through miss).
   *
   * @example
   * ```ts
   * const hit = cache.get(key);
   * ```
   */
  get(key: K): V | undefined {
    if (this.disabled) {
      this.bypassed++;
      return undefined;
    }
    let v: V | undefined;
    try {
      v = this.lru.get(key);
    } catch {
      this.errors++;
      this.record(this.name, 'error');
      return undefined;
    }
    if (v === undefined) {
      this.misses++;
      this.record(this.name, 'miss');
    } else {
      this.hits++;
      this.record(this.name, 'hit');
    }
    return v;
  }

  /**
   * Stores a value (a no-op while disabled). An error inside the cache (e.g.
   * a throwing `sizeCalculation`) is recorded, not thrown.
   *
   * @example
   * ```ts
   * cache.set(key, results, { ttl: 30_000 });
   * ```
   */
  set(key: K, value: V, options?: LRUCache.SetOptions<K, V, unknown>): this {
    if (this.disabled) return this;
    try {
      this.lru.set(key, value, options);
    } catch {
      this.errors++;
      this.record(this.name, 'error');
    }
    return this;
  }

  /** Whether `key` is cached (not recorded as a lookup; false while disabled). */
  has(key: K): boolean {
    if (this.disabled) return false;
    try {
      return this.lru.has(key);
    } catch {
      return false;
    }
  }

  /** Removes one entry. */
  delete(key: K): boolean {
    try {
      return this.lru.delete(key);
    } catch {
      return false;
    }
  }

  /**
   * Returns the cached value or loads, caches and returns it. Exactly one
   * result is recorded per call: a hit, a miss whose load succeeded, or an
   * error whose load failed (the loader's error is rethrown: it is the
   * host's). Concurrent calls for one key share one load. While disabled the
   * loader is called directly.
   *
   * @example
   * ```ts
   * const user = await cache.getOrLoad(id, (id) => db.users.find(id));
   * ```
   */
  async getOrLoad(key: K, loader: (key: K) => V | Promise<V>): Promise<V> {
    if (this.disabled) {
      this.bypassed++;
      return loader(key);
    }
    let cached: V | undefined;
    try {
      cached = this.lru.get(key);
    } catch {
      cached = undefined;
    }
    if (cached !== undefined) {
      this.hits++;
      this.record(this.name, 'hit');
      return cached;
    }
    let load = this.inflight.get(key);
    if (load === undefined) {
      load = (async () => loader(key))();
      this.inflight.set(key, load);
      const clear = (): void => void this.inflight.delete(key);
      load.then(clear, clear);
    }
    let value: V;
    try {
      value = await load;
    } catch (err) {
      this.errors++;
      this.record(this.name, 'error');
      throw err;
    }
    this.misses++;
    this.record(this.name, 'miss');
    this.set(key, value);
    return value;
  }

  /**
   * Empties the cache; returns how many entries it held.
   *
   * @example
   * ```ts
   * const dropped = cache.clear();
   * ```
   */
  clear(): number {
    const n = this.lru.size;
    try {
      this.lru.clear();
    } catch {
      // A throwing dispose hook must not break an emergency clear.
    }
    this.cleared += n;
    return n;
  }

  /** Makes the cache a pass-through (get misses, set no-ops). Returns false if already disabled. */
  disable(options: { reason?: string; by?: string } = {}): boolean {
    const p = disableSchema.safeParse(options);
    if (!p.success) throw ValidationError.fromZod(`cache "${this.name}" disable options`, p.error);
    const o = p.data;
    if (this.disabled) return false;
    this.disabled = true;
    this.reason = o.reason;
    return true;
  }

  /** Turns caching back on. Returns false if it was on. */
  enable(): boolean {
    if (!this.disabled) return false;
    this.disabled = false;
    this.reason = undefined;
    return true;
  }

  /** True unless disabled. */
  isEnabled(): boolean {
    return !this.disabled;
  }

  /** Size, counters, hit rate, disabled state. */
  stats(): GuardedCacheStats {
    const n = this.hits + this.misses + this.errors;
    const s: GuardedCacheStats = {
      name: this.name,
      size: this.lru.size,
      max: this.lru.max,
      hits: this.hits,
      misses: this.misses,
      errors: this.errors,
      hitRate: n > 0 ? this.hits / n : null,
      disabled: this.disabled,
      bypassed: this.bypassed,
      cleared: this.cleared,
    };
    if (this.reason !== undefined) s.reason = this.reason;
    return s;
  }
}

/**
 * Registers `cache.clear` (runbook: 60 s), `cache.disable` (30 s) and
 * `cache.enable` (30 s) over a map of guarded caches.
 */
export function registerCacheActions(actions: ActionRegistry, caches: ReadonlyMap<string, GuardedCache<{}, {}>>): void {
  actions.register({
    id: 'cache.clear',
    title: 'Clear cache',
    description: 'Empties a cache (stale or poisoned entries, memory pressure). Cannot be reverted.',
    estimatedSeconds: 60,
    risk: 'safe',
    verification: 'Cache size drops to 0 in /stats/cache; memory usage falls; hit rate recovers as it refills.',
    params: namedParams('cache', caches, {}),
    execute: ({ params }) => {
      const c = pick('cache', caches, params.name);
      const n = c.clear();
      return n === 0
        ? { noop: true, message: `${c.name} was already empty`, data: { name: c.name, cleared: 0 } }
        : { message: `${c.name}: cleared ${n} entries`, data: { name: c.name, cleared: n } };
    },
  });
  actions.register({
    id: 'cache.disable',
    title: 'Disable cache',
    description: 'Turns a cache into a pass-through (every get misses, set is ignored). Revert re-enables it.',
    estimatedSeconds: 30,
    risk: 'safe',
    verification: 'Cache reads disabled in /stats/cache; cache errors stop.',
    params: namedParams('cache', caches, { reason: z.string().max(500).optional() }),
    execute: ({ params, by }) => {
      const c = pick('cache', caches, params.name);
      const ok = c.disable({ reason: params.reason ?? `action by ${by}`, by });
      return ok ? { message: `${c.name} disabled`, data: { name: c.name } } : { noop: true, message: `${c.name} was already disabled`, data: { name: c.name } };
    },
    revert: ({ data }) => {
      const c = pick('cache', caches, data['name'] as string);
      return c.enable() ? { message: `${c.name} enabled` } : { noop: true };
    },
  });
  actions.register({
    id: 'cache.enable',
    title: 'Enable cache',
    description: 'Turns a disabled cache back on. Revert disables it again.',
    estimatedSeconds: 30,
    risk: 'safe',
    verification: 'Cache reads enabled in /stats/cache; hit rate climbs back over its objective.',
    params: namedParams('cache', caches, {}),
    execute: ({ params }) => {
      const c = pick('cache', caches, params.name);
      return c.enable() ? { message: `${c.name} enabled`, data: { name: c.name } } : { noop: true, message: `${c.name} was already enabled`, data: { name: c.name } };
    },
    revert: ({ data, by }) => {
      const c = pick('cache', caches, data['name'] as string);
      return c.disable({ reason: 'revert', by }) ? { message: `${c.name} disabled` } : { noop: true };
    },
  });
}

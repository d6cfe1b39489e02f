import { z } from 'zod';
import { LRUCache } from 'lru-cache';
import type { Clock } from '../../clock.js';
import { ConfigError, ValidationError } from '../../errors.js';
import type { ActionRegistry } from '../registry.js';
import { namedParams, pick } from './named.js';
import { str, type ChangeLatch, type SharedState } from '../../change-latch.js';

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

interface InflightLoad<V> {
  readonly promise: Promise<V>;
  superseded: boolean;
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
 * Disabling never makes it serve stale data afterwards. Entries cached before
 * the disable are kept (re-enabling after a short disable does not send a
 * burst of misses to the backend) and keep expiring on their own TTL, but
 * every write made while disabled still invalidates: `set(key)` deletes the
 * key's entry instead of storing, `delete` and `clear` act as usual. So once
 * re-enabled, the cache answers a key either with a value nobody has
 * overwritten since it was cached, or with a miss. Writes also win over
 * loads in flight: a `getOrLoad` whose key was set or deleted (or the cache
 * cleared or disabled) while it was loading returns its value to its caller
 * but does not store it.
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
  // A write to the key marks its load superseded: the load's (older) result must not overwrite the write.
  private readonly inflight = new Map<K, InflightLoad<V>>();
  /** @internal The monitor's change latch (set by `Controls`). */
  shared: ChangeLatch | undefined;

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
   * Stores a value. While disabled nothing is stored but the key's existing
   * entry is deleted, so the value cached before the disable cannot come back
   * once the cache is re-enabled. An error inside the cache (e.g. a throwing
   * `sizeCalculation`) is recorded, not thrown.
   *
   * @example
   * ```ts
   * cache.set(key, results, { ttl: 30_000 });
   * ```
   */
  set(key: K, value: V, options?: LRUCache.SetOptions<K, V, unknown>): this {
    this.supersede(key);
    if (this.disabled) {
      this.remove(key);
      return this;
    }
    this.store(key, value, options);
    return this;
  }

  private store(key: K, value: V, options?: LRUCache.SetOptions<K, V, unknown>): void {
    try {
      this.lru.set(key, value, options);
    } catch {
      this.errors++;
      this.record(this.name, 'error');
      // A failed set can leave the previous value in place; it is no longer the current one.
      this.remove(key);
    }
  }

  private remove(key: K): boolean {
    try {
      return this.lru.delete(key);
    } catch {
      return false;
    }
  }

  /** Stops the key's load in flight (if any) from storing its result, and lets the next lookup load afresh. */
  private supersede(key: K): void {
    const load = this.inflight.get(key);
    if (load === undefined) return;
    load.superseded = true;
    this.inflight.delete(key);
  }

  private supersedeAll(): void {
    for (const load of this.inflight.values()) load.superseded = true;
    this.inflight.clear();
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

  /** Removes one entry (also while disabled, so it stays removed once re-enabled). */
  delete(key: K): boolean {
    this.supersede(key);
    return this.remove(key);
  }

  /**
   * Returns the cached value or loads, caches and returns it. Exactly one
   * result is recorded per call: a hit, a miss whose load succeeded, or an
   * error whose load failed (the loader's error is rethrown: it is the
   * host's). Concurrent calls for one key share one load. While disabled the
   * loader is called directly and nothing is stored. A load's result is not
   * stored if the key was written (`set`, `delete`) or the cache cleared,
   * disabled or re-enabled while it was loading: the caller still gets it.
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
      const started: InflightLoad<V> = { promise: (async () => loader(key))(), superseded: false };
      this.inflight.set(key, started);
      // Only its own entry: a superseded load must not remove the fresh load that replaced it.
      const done = (): void => {
        if (this.inflight.get(key) === started) this.inflight.delete(key);
      };
      started.promise.then(done, done);
      load = started;
    }
    let value: V;
    try {
      value = await load.promise;
    } catch (err) {
      this.errors++;
      this.record(this.name, 'error');
      throw err;
    }
    this.misses++;
    this.record(this.name, 'miss');
    if (!load.superseded && !this.disabled) this.store(key, value);
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
    this.supersedeAll();
    const n = this.lru.size;
    try {
      this.lru.clear();
    } catch {
      // A throwing dispose hook must not break an emergency clear.
    }
    this.cleared += n;
    return n;
  }

  /**
   * Makes the cache a pass-through: `get` misses, `getOrLoad` calls its
   * loader, `set` stores nothing but deletes the key's entry, `delete` and
   * `clear` still remove. Entries cached before stay (and expire on their
   * TTL) so `enable()` resumes warm, never with a value overwritten or
   * removed meanwhile. Loads in flight when disabling are not stored.
   * Returns false if already disabled.
   */
  disable(options: { reason?: string; by?: string } = {}): boolean {
    const p = disableSchema.safeParse(options);
    if (!p.success) throw ValidationError.fromZod(`cache "${this.name}" disable options`, p.error);
    const o = p.data;
    if (this.disabled) return false;
    this.supersedeAll();
    this.disabled = true;
    this.reason = o.reason;
    this.shared?.changed('cache', this.name);
    return true;
  }

  /**
   * Turns caching back on, with the entries kept through the disable minus
   * every key written, deleted or cleared meanwhile (see {@link disable}).
   * Returns false if it was on.
   */
  enable(): boolean {
    if (!this.disabled) return false;
    this.disabled = false;
    this.reason = undefined;
    this.shared?.changed('cache', this.name);
    return true;
  }

  /** @internal The state the fleet shares. */
  exportShared(): SharedState {
    return this.reason === undefined ? { disabled: this.disabled } : { disabled: this.disabled, reason: this.reason };
  }

  /** @internal Takes the fleet's state (idempotent). */
  applyShared(s: SharedState): void {
    if (s['disabled'] === true) {
      if (this.disabled) return;
      this.supersedeAll();
      this.disabled = true;
      this.reason = str(s, 'reason');
    } else if (this.disabled) {
      this.disabled = false;
      this.reason = undefined;
    }
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
    description: 'Turns a cache into a pass-through (every get misses; a set deletes the key instead of storing, so nothing stale survives). Revert re-enables it.',
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

/**
 * `firebreak/redis`: many replicas of one service as one fleet, on the Redis
 * the service already runs. Attach it to a monitor after its controls exist.
 *
 * @example
 * ```ts
 * import { Redis } from 'ioredis';
 * import { createMonitor } from 'firebreak';
 * import { redisFleet } from 'firebreak/redis';
 *
 * const monitor = createMonitor({ service: 'checkout' });
 * monitor.feature('recommendations');
 * const fleet = redisFleet(monitor, { redis: new Redis(process.env.REDIS_URL!) });
 * await fleet.ready; // shared state loaded (or degraded after syncTimeoutMs)
 * ```
 *
 * @packageDocumentation
 */
import { hostname } from 'node:os';
import type { Redis } from 'ioredis';
import { z } from 'zod';
import { ConfigError } from '../errors.js';
import type { Monitor } from '../monitor.js';
import type { FleetContext, FleetPart } from './context.js';
import { controlState } from './control-state.js';
import { fleetLimiter } from './fleet-limiter.js';
import { incidentFleetOptionsSchema, incidentsPart } from './incidents.js';
import { fleetWindows, windowsOptionsSchema, type FleetWindows } from './windows.js';

export type { FleetContext, FleetPart } from './context.js';
export { CONTROL_STATE_LIMITS, type ControlStateStats } from './control-state.js';
export type { IncidentFleetOptions } from './incidents.js';
export type { FleetLimiterStats } from './fleet-limiter.js';
export type { FleetWindows, FleetWindowStats, FleetEvaluation, WindowsOptions, WindowsPartStats } from './windows.js';
// The snapshot format, for a transport other than Redis (and the bench).
export { takeSnapshot, mergeAndRead, encodeBuckets, decodeBuckets, windowSnapshotSchema, SNAPSHOT_VERSION } from '../fleet/snapshot.js';
export type { WindowSnapshot, EncodedRouteSlot, MergedWindow, MergedStats, SnapshotExclusion } from '../fleet/snapshot.js';

const fleetOptionsSchema = z.strictObject({
  /** An ioredis client (`new Redis(url)`); the fleet duplicates it for pub/sub and never closes it. */
  redis: z.custom<Redis>(
    (v) => typeof v === 'object' && v !== null && typeof (v as { duplicate?: unknown }).duplicate === 'function' && typeof (v as { eval?: unknown }).eval === 'function',
    { message: 'redis must be an ioredis client (new Redis(url))' },
  ),
  /** This replica's name (default `<hostname>-<pid>`). */
  replica: z.string().min(1).max(128).regex(/^[\w.:-]+$/, 'letters, digits and . _ : - only').optional(),
  /** Keys and channels start with `<keyPrefix>:<service>:` (default `firebreak`). */
  keyPrefix: z.string().min(1).max(64).regex(/^[\w.-]+$/, 'letters, digits and . _ - only').default('firebreak'),
  /** Re-read shared state this often, to catch a missed pub/sub message. */
  reconcileEveryMs: z.number().int().min(100).max(3_600_000).default(5_000),
  /** How long `ready` (and `/health/ready`) wait for the first sync. */
  syncTimeoutMs: z.number().int().min(1).max(600_000).default(5_000),
  /** Fleet-wide windows and SLOs, and burn-rate counters kept across restarts (docs/fleet.md, "Fleet-wide SLOs in process"). */
  windows: windowsOptionsSchema.prefault({}),
  /** One incident per cause: lease, page hold while Redis is away, bounds (see docs/fleet.md). */
  incidents: incidentFleetOptionsSchema.optional(),
});

/**
 * Options of {@link redisFleet}.
 *
 * @example
 * ```ts
 * redisFleet(monitor, { redis, replica: process.env.HOSTNAME, reconcileEveryMs: 2_000 });
 * ```
 */
export type FleetOptions = z.input<typeof fleetOptionsSchema>;

/**
 * `fleet.stats()`: this replica, whether Redis answers, and each part's state.
 *
 * @example
 * ```ts
 * if (fleet.stats().degraded) console.warn('acting on last known fleet state');
 * ```
 */
export interface FleetStats {
  replica: string;
  /** True once every part finished its first sync. */
  synced: boolean;
  /** True while Redis is unreachable (or the first sync timed out). */
  degraded: boolean;
  parts: Record<string, Record<string, unknown>>;
}

/**
 * A monitor joined to its fleet. Create with {@link redisFleet}.
 */
export interface Fleet {
  /** This replica's name. */
  readonly replica: string;
  /** Resolves when every part loaded the shared state, or after `syncTimeoutMs` (then degraded). Never rejects. */
  readonly ready: Promise<void>;
  /** The fleet's state as this replica sees it. */
  stats(): FleetStats;
  /** The fleet's merged window: stats and SLOs of every replica's traffic. */
  readonly windows: FleetWindows;
  /** Leaves the fleet: unsubscribes, stops timers and closes the subscriber connection (not `redis`). */
  close(): Promise<void>;
}

/**
 * Joins `monitor` to the fleet of every replica of `monitor.service` that
 * uses the same Redis. Registers two health checks: `fleet-sync` (critical:
 * not ready until the shared state is loaded) and `fleet-redis` (not
 * critical: degraded while Redis is unreachable).
 *
 * @throws ConfigError when an option is invalid (the message names the field).
 */
export function redisFleet(monitor: Monitor, options: FleetOptions): Fleet {
  const parsed = fleetOptionsSchema.safeParse(options);
  if (!parsed.success) throw ConfigError.fromZod('redisFleet options', parsed.error);
  const opts = parsed.data;
  const subscriber = opts.redis.duplicate();
  // A subscriber connection that errors must not crash the host (ioredis emits 'error').
  subscriber.on('error', () => {});
  const ctx: FleetContext = {
    monitor,
    redis: opts.redis,
    subscriber,
    replica: opts.replica ?? monitor.options.replica ?? `${hostname()}-${process.pid}`,
    prefix: `${opts.keyPrefix}:${monitor.service}:`,
    reconcileEveryMs: opts.reconcileEveryMs,
    syncTimeoutMs: opts.syncTimeoutMs,
  };
  // Each part of the fleet, in start order (add new parts here).
  const windows = fleetWindows(ctx, opts.windows);
  // Control state first: a replica is not ready before it knows which levers are pulled.
  const parts: FleetPart[] = [controlState(ctx), fleetLimiter(ctx, { shareBlocks: false }), windows.part];
  parts.push(incidentsPart(ctx, opts.incidents));

  let synced = false;
  let timedOut = false;
  const started = Promise.all(parts.map((p) => p.start().catch(() => undefined))).then(() => {
    synced = true;
  });
  let timer: NodeJS.Timeout | undefined;
  const ready = Promise.race([
    started,
    new Promise<void>((resolve) => {
      timer = setTimeout(() => {
        timedOut = true;
        resolve();
      }, opts.syncTimeoutMs);
      timer.unref();
    }),
  ]).finally(() => clearTimeout(timer));

  const redisUp = (): boolean => opts.redis.status === 'ready';
  monitor.healthCheck('fleet-sync', () => synced || timedOut, { critical: true });
  monitor.healthCheck('fleet-redis', () => redisUp(), { critical: false, type: 'fleet-degraded', severity: 'low' });

  return {
    replica: ctx.replica,
    ready,
    windows: windows.api,
    stats: () => {
      const partStats: Record<string, Record<string, unknown>> = Object.fromEntries(parts.map((p) => [p.name, p.stats()]));
      // A part that cannot reach Redis (a failed script, a lost subscription) degrades the fleet too.
      const partDegraded = Object.values(partStats).some((p) => p['degraded'] === true);
      return { replica: ctx.replica, synced, degraded: !redisUp() || (timedOut && !synced) || partDegraded, parts: partStats };
    },
    close: async () => {
      clearTimeout(timer);
      await Promise.all(parts.map((p) => p.close().catch(() => undefined)));
      subscriber.disconnect();
    },
  };
}

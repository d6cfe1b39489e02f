/**
 * What every fleet part shares: the monitor it serves, the Redis connections,
 * the key namespace of this service and the name of this replica.
 *
 * @packageDocumentation
 */
import type { Redis } from 'ioredis';
import type { Monitor } from '../monitor.js';

/**
 * One part of the fleet (control state, incidents, limiter counts, windows).
 * `start()` resolves when the part is in sync with Redis (it must not reject:
 * a part that cannot reach Redis reports itself degraded and keeps retrying).
 */
export interface FleetPart {
  /** Short name used in `fleet.stats()` and in degraded reasons. */
  readonly name: string;
  /** Loads shared state and subscribes; resolves once in sync (or on the first failure, degraded). */
  start(): Promise<void>;
  /** What the part reports in `fleet.stats()`. */
  stats(): Record<string, unknown>;
  /** Unsubscribes and stops timers; never rejects. */
  close(): Promise<void>;
}

/** Resolved options and connections handed to every part. */
export interface FleetContext {
  readonly monitor: Monitor;
  /** The command connection the user gave. */
  readonly redis: Redis;
  /** A duplicate of `redis` in subscriber mode (pub/sub needs its own connection). */
  readonly subscriber: Redis;
  /** This replica's name: in audit entries, incident evidence and `fleet.stats()`. */
  readonly replica: string;
  /** Every key and channel starts with this (`<keyPrefix>:<service>:`). */
  readonly prefix: string;
  /** How often parts re-read Redis to catch missed messages. */
  readonly reconcileEveryMs: number;
  /** How long `ready` waits for the first sync before reporting degraded. */
  readonly syncTimeoutMs: number;
}

/** `ctx.prefix + parts.join(':')`: one key of this service. */
export function key(ctx: FleetContext, ...parts: string[]): string {
  return ctx.prefix + parts.join(':');
}

import { LRUCache } from 'lru-cache';
import type { Clock } from '../clock.js';

/** What a limiter says about one request. */
export interface LimitVerdict {
  allowed: boolean;
  limit: number;
  remaining: number;
  /** Milliseconds until the current window ends. */
  resetMs: number;
  windowMs: number;
}

interface Window {
  start: number;
  count: number;
}

/**
 * A fixed-window counter per key (caller name or remote address), used to
 * rate-limit the admin routes themselves. Fixed windows are enough here: the
 * point is to stop a runaway script or a token-guessing loop, not to shape
 * traffic. Bounded: at most `maxKeys` keys; the least recently seen key is
 * forgotten first (it starts a fresh window when it comes back).
 */
export class CallerLimiter {
  private readonly windows: LRUCache<string, Window>;

  constructor(
    private readonly clock: Clock,
    private readonly max: number,
    private readonly windowMs: number,
    maxKeys: number,
  ) {
    this.windows = new LRUCache({ max: maxKeys });
  }

  private current(key: string, now: number): Window {
    let w = this.windows.get(key);
    if (w === undefined || now - w.start >= this.windowMs) {
      w = { start: now, count: 0 };
      this.windows.set(key, w);
    }
    return w;
  }

  /** Counts one request for `key` and says whether it is within the limit. */
  hit(key: string): LimitVerdict {
    const now = this.clock.now();
    const w = this.current(key, now);
    w.count++;
    return this.verdict(w, now, w.count <= this.max);
  }

  /** Whether `key` is already over the limit, without counting. */
  peek(key: string): LimitVerdict {
    const now = this.clock.now();
    const w = this.current(key, now);
    return this.verdict(w, now, w.count < this.max);
  }

  private verdict(w: Window, now: number, allowed: boolean): LimitVerdict {
    return {
      allowed,
      limit: this.max,
      remaining: Math.max(0, this.max - w.count),
      resetMs: Math.max(0, w.start + this.windowMs - now),
      windowMs: this.windowMs,
    };
  }
}

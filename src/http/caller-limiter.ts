import { isIPv4, isIPv6 } from 'node:net';
import { LRUCache } from 'lru-cache';
import type { Clock } from '../clock.js';

const MAX_KEY = 64;

/** The eight 16-bit groups of a valid IPv6 address (embedded IPv4 tail included). */
function ipv6Groups(address: string): number[] {
  let text = address;
  const lastColon = text.lastIndexOf(':');
  const tail = text.slice(lastColon + 1);
  if (tail.includes('.')) {
    const [a, b, c, d] = tail.split('.').map(Number) as [number, number, number, number];
    text = `${text.slice(0, lastColon + 1)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head = '', rest] = text.split('::');
  const left = head === '' ? [] : head.split(':');
  const right = rest === undefined || rest === '' ? [] : rest.split(':');
  const fill = rest === undefined ? [] : Array.from({ length: 8 - left.length - right.length }, () => '0');
  return [...left, ...fill, ...right].map((g) => parseInt(g, 16));
}

/**
 * The key a remote address is counted under by the failed-auth budget:
 * IPv4 as is; IPv4-mapped IPv6 (`::ffff:1.2.3.4`, any spelling) as the IPv4
 * address; other IPv6 grouped by /64 (one subscriber usually holds a whole
 * /64, so counting single addresses would give an attacker 2^64 budgets);
 * zone ids dropped; `undefined` as `unknown`; anything else (a value from
 * the host's own proxy logic) kept, cut to 64 characters.
 *
 * @example
 * ```ts
 * addressKey('2001:db8:1:2::7'); // '2001:db8:1:2::/64'
 * addressKey('::ffff:10.0.0.1'); // '10.0.0.1'
 * ```
 */
export function addressKey(ip: string | undefined): string {
  if (ip === undefined || ip === '') return 'unknown';
  const zone = ip.indexOf('%');
  const address = (zone === -1 ? ip : ip.slice(0, zone)).toLowerCase();
  if (isIPv4(address)) return address;
  if (!isIPv6(address)) return ip.slice(0, MAX_KEY);
  const g = ipv6Groups(address);
  if (g[0] === 0 && g[1] === 0 && g[2] === 0 && g[3] === 0 && g[4] === 0 && g[5] === 0xffff) {
    const hi = g[6]!;
    const lo = g[7]!;
    return `${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`;
  }
  return `${g.slice(0, 4).map((x) => x.toString(16)).join(':')}::/64`;
}

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

  /** Requests counted for `key` in its current window, without counting (0 for an unknown key). */
  count(key: string): number {
    const w = this.windows.peek(key);
    return w === undefined || this.clock.now() - w.start >= this.windowMs ? 0 : w.count;
  }

  /** True when `key` has used its whole budget this window; unlike {@link CallerLimiter.peek}, stores nothing for an unknown key. */
  spent(key: string): boolean {
    return this.count(key) >= this.max;
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

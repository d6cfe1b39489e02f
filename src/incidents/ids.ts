import { randomInt } from 'node:crypto';

/** Crockford base32, lower case: ASCII order equals numeric order, and no I, L, O or U to misread. */
const ALPHABET = '0123456789abcdefghjkmnpqrstvwxyz';
const TIME_CHARS = 10; // 50 bits of milliseconds: good until the year 37 000
const COUNTER_CHARS = 3;
const RANDOM_CHARS = 5;
const COUNTER_MAX = 32 ** COUNTER_CHARS;

function encode(n: number, chars: number): string {
  let out = '';
  for (let i = 0; i < chars; i++) {
    out = ALPHABET[n % 32]! + out;
    n = Math.floor(n / 32);
  }
  return out;
}

function decode(s: string): number {
  let n = 0;
  for (const c of s) {
    const d = ALPHABET.indexOf(c);
    if (d < 0) return NaN;
    n = n * 32 + d;
  }
  return n;
}

/**
 * Generates sortable unique ids: `prefix` + base32 time (ms) + a per-millisecond
 * counter + random characters. Ids sort (as strings) in creation order within
 * a process even if the clock stands still or steps back, and across restarts
 * once the previous ids are passed to {@link IdGenerator.observe}.
 *
 * @example
 * ```ts
 * const ids = new IdGenerator(() => clock.now());
 * const a = ids.next(); const b = ids.next();
 * a < b; // true
 * ```
 */
export class IdGenerator {
  private lastTime = -1;
  private counter = 0;
  private readonly now: () => number;
  private readonly prefix: string;
  private readonly random: () => number;

  /**
   * @param now - time source (the monitor's clock).
   * @param prefix - prepended to every id.
   * @param random - returns an integer in [0, 32^5); defaults to crypto randomness.
   */
  constructor(now: () => number, prefix = 'inc_', random: () => number = () => randomInt(32 ** RANDOM_CHARS)) {
    this.now = now;
    this.prefix = prefix;
    this.random = random;
  }

  /** A new id, greater than every id generated or observed before. */
  next(): string {
    let t = Math.max(Math.floor(this.now()), this.lastTime, 0);
    if (t === this.lastTime) {
      this.counter++;
      if (this.counter >= COUNTER_MAX) {
        t++;
        this.counter = 0;
      }
    } else {
      this.counter = 0;
    }
    this.lastTime = t;
    return this.prefix + encode(t, TIME_CHARS) + encode(this.counter, COUNTER_CHARS) + encode(this.random() % 32 ** RANDOM_CHARS, RANDOM_CHARS);
  }

  /** Makes later ids sort after `id` (used when replaying a log written by an earlier process). */
  observe(id: string): void {
    const parsed = parseId(id, this.prefix);
    if (parsed === undefined) return;
    if (parsed.time > this.lastTime || (parsed.time === this.lastTime && parsed.counter > this.counter)) {
      this.lastTime = parsed.time;
      this.counter = parsed.counter;
    }
  }
}

/**
 * Reads the creation time (epoch ms) and counter back out of an id made by
 * {@link IdGenerator}, or `undefined` if it is not one.
 *
 * @example
 * ```ts
 * parseId('inc_01jh5x0z8k000abcde')?.time;
 * ```
 */
export function parseId(id: string, prefix = 'inc_'): { time: number; counter: number } | undefined {
  if (!id.startsWith(prefix) || id.length !== prefix.length + TIME_CHARS + COUNTER_CHARS + RANDOM_CHARS) return undefined;
  const body = id.slice(prefix.length);
  const time = decode(body.slice(0, TIME_CHARS));
  const counter = decode(body.slice(TIME_CHARS, TIME_CHARS + COUNTER_CHARS));
  if (!Number.isFinite(time) || !Number.isFinite(counter) || !Number.isFinite(decode(body.slice(TIME_CHARS + COUNTER_CHARS)))) {
    return undefined;
  }
  return { time, counter };
}

/**
 * Formatting shared by the message templates and the post-mortem. Everything
 * is UTC and locale-free so the same incident always renders the same text.
 */
import type { SignalReading } from './types.js';

const pad = (n: number): string => String(n).padStart(2, '0');

/**
 * A duration in words: `45s`, `3m 20s`, `2h 05m`, `3d 4h`.
 *
 * @example
 * ```ts
 * formatDuration(200_000); // '3m 20s'
 * ```
 */
export function formatDuration(ms: number): string {
  const neg = ms < 0;
  let s = Math.round(Math.abs(ms) / 1000);
  const d = Math.floor(s / 86_400);
  s -= d * 86_400;
  const h = Math.floor(s / 3_600);
  s -= h * 3_600;
  const m = Math.floor(s / 60);
  s -= m * 60;
  let out: string;
  if (d > 0) out = `${d}d ${h}h`;
  else if (h > 0) out = `${h}h ${pad(m)}m`;
  else if (m > 0) out = `${m}m ${pad(s)}s`;
  else out = `${s}s`;
  return neg ? `-${out}` : out;
}

/**
 * A clock time as `2026-01-01 00:01:10 UTC`.
 *
 * @example
 * ```ts
 * formatTime(Date.UTC(2026, 0, 1, 0, 1, 10)); // '2026-01-01 00:01:10 UTC'
 * ```
 */
export function formatTime(ms: number): string {
  const d = new Date(ms);
  return `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())} UTC`;
}

/**
 * A time relative to an origin, `T+1m 10s` or `T-1m 00s`.
 *
 * @example
 * ```ts
 * formatRelative(70_000); // 'T+1m 10s'
 * ```
 */
export function formatRelative(ms: number): string {
  // Under a second, whole seconds would print "T-0s" for an event 400 ms before the origin: show milliseconds.
  if (Math.abs(ms) < 1000) {
    const r = Math.round(ms);
    return r === 0 ? 'T+0s' : r < 0 ? `T-${-r}ms` : `T+${r}ms`;
  }
  return ms < 0 ? `T-${formatDuration(-ms)}` : `T+${formatDuration(ms)}`;
}

/**
 * A value in its unit: `2500 ms`, `97.50 %`, `12`.
 *
 * @example
 * ```ts
 * formatValue(0.975, 'ratio'); // '97.50 %'
 * ```
 */
export function formatValue(value: number, unit: SignalReading['unit']): string {
  if (!Number.isFinite(value)) return String(value);
  switch (unit) {
    case 'ms':
      return `${value >= 100 ? Math.round(value) : Number(value.toPrecision(3))} ms`;
    case 'ratio':
      return `${(value * 100).toFixed(2)} %`;
    case 'count':
      return String(Math.round(value));
    default:
      return String(Number(value.toPrecision(4)));
  }
}

/**
 * A signal reading in words: `p95 latency 2500 ms (threshold 2000 ms)`.
 *
 * @example
 * ```ts
 * formatSignal({ name: 'p95 latency', value: 2500, unit: 'ms', threshold: 2000, at: 0 });
 * ```
 */
export function formatSignal(signal: SignalReading): string {
  const t = signal.threshold === undefined ? '' : ` (threshold ${formatValue(signal.threshold, signal.unit)})`;
  return `${signal.name} ${formatValue(signal.value, signal.unit)}${t}`;
}

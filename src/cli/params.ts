import { usageError } from './exit-codes.js';

const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

/**
 * Parses repeated `--param key=value` into an action's params. A value that
 * parses as JSON is used as JSON (`factor=0.5` → 0.5, `on=true` → true,
 * `keys=["a","b"]` → an array), anything else is a string (`name=rerank`).
 * The first `=` splits, so values may contain `=`.
 *
 * @example
 * ```ts
 * parseParams(['factor=0.5', 'name=rerank']); // { factor: 0.5, name: 'rerank' }
 * ```
 */
export function parseParams(pairs: readonly string[]): Record<string, unknown> {
  const params: Record<string, unknown> = {};
  for (const pair of pairs) {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw usageError(`--param expects key=value, got "${pair}"`);
    const key = pair.slice(0, eq).trim();
    if (key === '') throw usageError(`--param expects key=value, got "${pair}"`);
    if (FORBIDDEN_KEYS.has(key)) throw usageError(`--param key "${key}" is not allowed`);
    const raw = pair.slice(eq + 1);
    let value: unknown = raw;
    try {
      value = JSON.parse(raw);
    } catch {
      // Not JSON: keep the text as given.
    }
    Object.defineProperty(params, key, { value, enumerable: true, writable: true, configurable: true });
  }
  return params;
}

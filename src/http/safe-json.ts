import { ValidationError, type FieldIssue } from '../errors.js';

/** Keys that could reach an object's prototype if a body were ever merged into another object. */
const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

/** Deepest nesting accepted; deeper bodies are refused rather than walked (stack safety). */
export const MAX_JSON_DEPTH = 32;

/**
 * Copies a parsed JSON value into null-prototype objects, refusing
 * `__proto__`, `constructor` and `prototype` keys at any depth (400 naming
 * the path) and nesting deeper than {@link MAX_JSON_DEPTH}.
 *
 * JSON.parse itself never pollutes (it defines `__proto__` as an own key),
 * but a later `Object.assign` or spread of such a value would; refusing the
 * keys up front means no code downstream has to remember that.
 *
 * @example
 * ```ts
 * sanitizeJson(JSON.parse('{"__proto__":{"admin":true}}')); // throws ValidationError
 * ```
 */
export function sanitizeJson(value: unknown): unknown {
  const issues: FieldIssue[] = [];
  const out = copy(value, [], issues);
  if (issues.length > 0) throw new ValidationError('request body', issues);
  return out;
}

function copy(value: unknown, path: string[], issues: FieldIssue[]): unknown {
  if (typeof value !== 'object' || value === null) return value;
  if (path.length >= MAX_JSON_DEPTH) {
    issues.push({ path: path.join('.'), message: `nesting deeper than ${MAX_JSON_DEPTH} levels` });
    return undefined;
  }
  if (Array.isArray(value)) return value.map((v, i) => copy(v, [...path, String(i)], issues));
  const out: Record<string, unknown> = Object.create(null) as Record<string, unknown>;
  for (const key of Object.keys(value)) {
    if (FORBIDDEN_KEYS.has(key)) {
      issues.push({ path: [...path, key].join('.'), message: `key "${key}" is not allowed` });
      continue;
    }
    out[key] = copy((value as Record<string, unknown>)[key], [...path, key], issues);
  }
  return out;
}

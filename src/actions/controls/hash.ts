/** FNV-1a 32-bit offset basis. */
export const FNV_OFFSET = 0x811c9dc5;
const FNV_PRIME = 0x01000193;

/**
 * FNV-1a (32-bit) over the UTF-16 code units of `s`, continuing from `seed`
 * (default: the offset basis). Fast, non-cryptographic and stable across
 * processes and versions, which is what deterministic canary assignment needs.
 *
 * @example
 * ```ts
 * const bucket = fnv1a('user-42') % 10_000;
 * ```
 */
export function fnv1a(s: string, seed: number = FNV_OFFSET): number {
  let h = seed | 0;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, FNV_PRIME);
  }
  return h >>> 0;
}

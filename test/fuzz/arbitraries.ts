import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import fc from 'fast-check';

/**
 * Seed and run count of every fuzz property. CI runs the fixed seed below;
 * `FUZZ_SEED=123 FUZZ_RUNS=20000 npx vitest run test/fuzz` explores further.
 * A failure prints its seed and path, so it can be replayed exactly.
 */
export const FUZZ_SEED = envInt('FUZZ_SEED', 0x5eed_f1b);

function envInt(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isSafeInteger(n)) throw new Error(`${name} must be an integer, got ${JSON.stringify(raw)}`);
  return n;
}

/** fast-check parameters: the fixed (or overridden) seed, and `FUZZ_RUNS` or the property's own default. */
export function fuzzParams(defaultRuns: number): fc.Parameters<unknown> {
  return { seed: FUZZ_SEED, numRuns: envInt('FUZZ_RUNS', defaultRuns), endOnFailure: true };
}

/**
 * What the hostile values below throw: the host's own code (a getter, a
 * `toString`, a proxy trap) failing. Where an API runs host code, that error
 * may pass through untouched; anything else escaping is a firebreak defect.
 */
export class HostError extends Error {}

/** Values whose `String(v)` or property reads throw: a host's bug, never a reason to crash. */
export function hostileObjects(): unknown[] {
  return [
    Object.create(null),
    {
      toString() {
        throw new HostError('toString');
      },
    },
    { [Symbol.toPrimitive]: () => ({}) },
    // Throws on every string-keyed read; symbol probes (fast-check's own clone/print hooks) answer normally.
    new Proxy(
      {},
      {
        get(target, key) {
          if (typeof key === 'symbol') return Reflect.get(target, key);
          throw new HostError('trap');
        },
        has(target, key) {
          if (typeof key === 'symbol') return Reflect.has(target, key);
          throw new HostError('trap');
        },
        ownKeys() {
          throw new HostError('trap');
        },
      },
    ),
    Object.defineProperty({}, 'then', {
      get() {
        throw new HostError('then getter');
      },
      enumerable: true,
    }),
    { then: (_: unknown, reject: (e: unknown) => void) => reject(new HostError('thenable rejects')) },
    Promise.resolve(1),
    Symbol('sym'),
    () => 1,
    10n,
    new Date(Number.NaN),
    /re/g,
    new Map([['a', 1]]),
    new Uint8Array(4),
  ];
}

/** Strings an attacker picks: huge, lone surrogates, control characters, prototype keys. */
export function nastyString(): fc.Arbitrary<string> {
  return fc.oneof(
    { weight: 4, arbitrary: fc.string({ unit: 'binary', maxLength: 40 }) },
    { weight: 2, arbitrary: fc.string({ unit: 'grapheme', maxLength: 20 }) },
    {
      weight: 2,
      arbitrary: fc.constantFrom(
        '',
        '__proto__',
        'constructor',
        'prototype',
        'toString',
        'hasOwnProperty',
        'valueOf',
        '__other__',
        '\ud800',
        '\udfff\ud800',
        'a\u0000b',
        '\r\nX-Injected: 1',
        '../../etc/passwd',
        '%E0%A4%A',
        '…',
      ),
    },
    { weight: 1, arbitrary: fc.integer({ min: 200, max: 70_000 }).chain((n) => fc.constantFrom('x', '\ud83d\ude00', '\u00e9').map((c) => c.repeat(n))) },
  );
}

/** Any value a buggy or hostile host might pass: JSON, non-JSON, hostile objects. */
export function anyValue(): fc.Arbitrary<unknown> {
  return fc.oneof(
    { weight: 4, arbitrary: fc.anything({ withBigInt: true, withNullPrototype: true, withMap: true, withSet: true, withBoxedValues: true, withSparseArray: true, withTypedArray: true, withDate: true, maxDepth: 3 }) },
    { weight: 2, arbitrary: nastyString() },
    { weight: 2, arbitrary: fc.oneof(fc.double(), fc.integer(), fc.constantFrom(Number.NaN, Infinity, -Infinity, -0, Number.MAX_VALUE, Number.MIN_VALUE, 1e300)) },
    { weight: 1, arbitrary: fc.constantFrom(...hostileObjects()) },
  );
}

/**
 * The garbage collector, exposed at run time (vitest workers start without
 * `--expose-gc`), so that heap bounds measure what is retained, not garbage.
 */
export function gc(): () => void {
  setFlagsFromString('--expose-gc');
  const fn = runInNewContext('gc') as () => void;
  return () => {
    fn();
    fn();
  };
}

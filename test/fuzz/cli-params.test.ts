import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseParams } from '../../src/cli/params.js';
import { CliError, EXIT } from '../../src/cli/exit-codes.js';
import { fuzzParams, nastyString } from './arbitraries.js';

/**
 * `firebreak execute … --param key=value`: whatever the operator types, the
 * CLI either builds params (JSON values as JSON, the rest as text, never a
 * prototype key) or stops with a usage error (exit code 2) — never a crash.
 */
describe('fuzz: CLI --param parsing', () => {
  it('returns own-property params or a usage error for any argument list, and pollutes nothing', () => {
    const pair = fc.oneof(
      nastyString(),
      fc.tuple(fc.oneof(nastyString(), fc.constantFrom('__proto__', ' constructor ', 'prototype', 'a b')), fc.oneof(nastyString(), fc.jsonValue().map((v) => JSON.stringify(v)))).map(([k, v]) => `${k}=${v}`),
      fc.constantFrom('=x', 'x=', '==', 'a={"__proto__":{"polluted":1}}', `deep=${'['.repeat(5_000)}${']'.repeat(5_000)}`),
    );
    fc.assert(
      fc.property(fc.array(pair, { maxLength: 6 }), (pairs) => {
        let params: Record<string, unknown> | undefined;
        try {
          params = parseParams(pairs);
        } catch (err) {
          expect(err).toBeInstanceOf(CliError);
          expect((err as CliError).exitCode).toBe(EXIT.usage);
          return;
        }
        for (const key of Object.keys(params)) {
          expect(['__proto__', 'constructor', 'prototype']).not.toContain(key);
          expect(Object.prototype.hasOwnProperty.call(params, key)).toBe(true);
        }
        expect((Object.prototype as Record<string, unknown>)['polluted']).toBeUndefined();
        expect(Object.getPrototypeOf(params)).toBe(Object.prototype);
      }),
      fuzzParams(150),
    );
  });

  it('gives back any JSON value it was given, under its key', () => {
    fc.assert(
      fc.property(fc.stringMatching(/^[a-z_][a-z0-9_]{0,15}$/), fc.jsonValue(), (key, value) => {
        fc.pre(!['constructor', 'prototype'].includes(key));
        const params = parseParams([`${key}=${JSON.stringify(value)}`]);
        expect(JSON.stringify(params[key])).toBe(JSON.stringify(value));
      }),
      fuzzParams(300),
    );
  });
});

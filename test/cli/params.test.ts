import { describe, expect, it } from 'vitest';
import { parseParams } from '../../src/cli/params.js';
import { CliError, EXIT } from '../../src/cli/exit-codes.js';

describe('firebreak execute --param parsing', () => {
  it('parses JSON values and keeps anything else as a string', () => {
    expect(parseParams(['factor=0.5', 'on=true', 'name=rerank', 'keys=["a","b"]', 'empty='])).toEqual({
      factor: 0.5,
      on: true,
      name: 'rerank',
      keys: ['a', 'b'],
      empty: '',
    });
  });

  it('splits on the first = so values may contain =', () => {
    expect(parseParams(['query=a=b'])).toEqual({ query: 'a=b' });
  });

  it('rejects a pair without a key as a usage error (exit 2)', () => {
    for (const bad of ['novalue', '=x']) {
      const err = (() => {
        try {
          parseParams([bad]);
        } catch (e) {
          return e;
        }
        return undefined;
      })();
      expect(err).toBeInstanceOf(CliError);
      expect((err as CliError).exitCode).toBe(EXIT.usage);
      expect((err as CliError).message).toContain(bad);
    }
  });

  it('refuses prototype keys instead of polluting anything', () => {
    expect(() => parseParams(['__proto__={"polluted":true}'])).toThrow(/not allowed/);
    expect(() => parseParams(['constructor=1'])).toThrow(/not allowed/);
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
  });
});

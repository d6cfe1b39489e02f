/**
 * The error classes and `isFirebreakError`, in the source and across the
 * built ESM and CJS outputs (each holds its own copy of every class, so
 * `instanceof` fails across them; the brand does not). The built half needs
 * `npm run build` (`npm test` builds first).
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import * as src from '../src/index.js';
import * as srcHttp from '../src/http/index.js';

type Lib = typeof src;
type HttpLib = typeof srcHttp;

const root = fileURLToPath(new URL('..', import.meta.url));
const require = createRequire(import.meta.url);

/** One instance of every error class a library build exports, built with that build's classes. */
function samples(lib: Lib, http: HttpLib) {
  return [
    { name: 'FirebreakError', code: 'CUSTOM', err: new lib.FirebreakError('CUSTOM', 'custom') },
    { name: 'ConfigError', code: 'CONFIG_INVALID', err: new lib.ConfigError('options', [{ path: 'service', message: 'Required' }]) },
    { name: 'ValidationError', code: 'VALIDATION_FAILED', err: new lib.ValidationError('params', [{ path: 'factor', message: 'Expected number' }]) },
    { name: 'NotFoundError', code: 'NOT_FOUND', err: new lib.NotFoundError('incident', 'inc_1') },
    { name: 'ActionError', code: 'ACTION_BUSY', err: new lib.ActionError('ACTION_BUSY', 'busy') },
    { name: 'InvalidTransitionError', code: 'INVALID_TRANSITION', err: new lib.InvalidTransitionError('inc_1', 'resolved', 'acknowledge') },
    { name: 'LimitError', code: 'LIMIT_REACHED', err: new lib.LimitError('active incidents', 500) },
    { name: 'HttpError', code: 'RATE_LIMITED', err: new http.HttpError('RATE_LIMITED', 'slow down') },
  ];
}

describe('isFirebreakError (source)', () => {
  it('recognises every firebreak error, and its code when one is given', () => {
    for (const { code, err } of samples(src, srcHttp)) {
      expect(src.isFirebreakError(err)).toBe(true);
      expect(src.isFirebreakError(err, code)).toBe(true);
      expect(src.isFirebreakError(err, 'SOMETHING_ELSE')).toBe(false);
    }
  });

  it('rejects anything else, including look-alikes without the brand', () => {
    const lookAlike = Object.assign(new Error('x'), { name: 'ConfigError', code: 'CONFIG_INVALID' });
    for (const value of [lookAlike, new Error('x'), { code: 'NOT_FOUND' }, 'NOT_FOUND', null, undefined, 42]) {
      expect(src.isFirebreakError(value)).toBe(false);
      expect(src.isFirebreakError(value, 'NOT_FOUND')).toBe(false);
    }
  });

  it('recognises an error thrown by firebreak itself, by the code an operator would branch on', () => {
    let thrown: unknown;
    try {
      src.createMonitor({ service: '' });
    } catch (err) {
      thrown = err;
    }
    expect(src.isFirebreakError(thrown, 'CONFIG_INVALID')).toBe(true);
  });

  it("names each class after itself; a user's subclass keeps its own name and the brand", () => {
    for (const { name, err } of samples(src, srcHttp)) expect(err.name).toBe(name);
    class QuotaError extends src.LimitError {}
    const err = new QuotaError('queries', 10);
    expect(err.name).toBe('QuotaError');
    expect(src.isFirebreakError(err, 'LIMIT_REACHED')).toBe(true);
  });

  it('shows the class name in String(err) and in the stack header', () => {
    const err = new src.ConfigError('options', [{ path: 'service', message: 'Required' }]);
    expect(String(err)).toMatch(/^ConfigError: Invalid options/);
    expect(err.stack).toMatch(/^ConfigError: Invalid options/);
  });
});

describe('built output (dist/)', () => {
  let esm: Lib;
  let esmHttp: HttpLib;
  let cjs: Lib;
  let cjsHttp: HttpLib;

  beforeAll(async () => {
    expect(existsSync(`${root}dist/index.cjs`), 'dist/ is missing: run `npm run build` first').toBe(true);
    esm = (await import(pathToFileURL(`${root}dist/index.js`).href)) as Lib;
    esmHttp = (await import(pathToFileURL(`${root}dist/http.js`).href)) as HttpLib;
    cjs = require(`${root}dist/index.cjs`) as Lib;
    cjsHttp = require(`${root}dist/http.cjs`) as HttpLib;
  });

  it('holds separate classes in each build, so instanceof cannot tell', () => {
    const [first] = samples(cjs, cjsHttp);
    expect(first!.err instanceof esm.FirebreakError).toBe(false);
  });

  it('isFirebreakError from one build recognises errors made by the other, with and without a code', () => {
    for (const [maker, makerHttp, guard] of [
      [esm, esmHttp, cjs],
      [cjs, cjsHttp, esm],
    ] as const) {
      for (const { name, code, err } of samples(maker, makerHttp)) {
        expect(guard.isFirebreakError(err), name).toBe(true);
        expect(guard.isFirebreakError(err, code), name).toBe(true);
        expect(guard.isFirebreakError(err, 'SOMETHING_ELSE'), name).toBe(false);
      }
      expect(guard.isFirebreakError(new Error('plain'))).toBe(false);
    }
  });

  it('recognises the HTTP entry point’s errors from the main entry point in the same format', () => {
    expect(cjs.isFirebreakError(new cjsHttp.HttpError('UNAUTHORIZED', 'no'), 'UNAUTHORIZED')).toBe(true);
    expect(esm.isFirebreakError(new esmHttp.HttpError('UNAUTHORIZED', 'no'), 'UNAUTHORIZED')).toBe(true);
  });

  it('reports err.name as the class name in both builds (not a bundler-renamed _ConfigError)', () => {
    for (const [lib, http] of [
      [esm, esmHttp],
      [cjs, cjsHttp],
    ] as const) {
      for (const { name, err } of samples(lib, http)) {
        expect(err.name).toBe(name);
        expect(err.stack).toMatch(new RegExp(`^${name}: `));
      }
    }
  });

  it('names errors thrown by the built library itself', () => {
    for (const lib of [esm, cjs]) {
      let thrown: unknown;
      try {
        lib.createMonitor({ service: '' });
      } catch (err) {
        thrown = err;
      }
      expect((thrown as Error).name).toBe('ConfigError');
      expect(lib.isFirebreakError(thrown, 'CONFIG_INVALID')).toBe(true);
      expect(esm.isFirebreakError(thrown) && cjs.isFirebreakError(thrown)).toBe(true);
    }
  });

  it('maps an error thrown by the other build to its status, not a 500', () => {
    for (const [lib, http] of [
      [cjs, esmHttp],
      [esm, cjsHttp],
    ] as const) {
      expect(http.mapError(new lib.ValidationError('params', [{ path: 'factor', message: 'Expected number' }])).status).toBe(400);
      expect(http.mapError(new lib.NotFoundError('incident', 'inc_1')).status).toBe(404);
    }
    const limited = esmHttp.mapError(new cjsHttp.HttpError('RATE_LIMITED', 'slow down', undefined, { 'retry-after': '3' }));
    expect(limited.status).toBe(429);
    expect(limited.headers).toEqual({ 'retry-after': '3' });
  });
});

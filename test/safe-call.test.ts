import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { callSafely, containAsync, errorMessage } from '../src/safe-call.js';
import { watchUnhandledRejections } from './helpers/unhandled.js';

let watch: ReturnType<typeof watchUnhandledRejections>;
beforeEach(() => {
  watch = watchUnhandledRejections();
});
afterEach(() => watch.stop());

describe('callSafely', () => {
  it('counts a synchronous throw and a rejected promise through the same sink', async () => {
    const errors: unknown[] = [];
    const sink = (e: unknown) => errors.push(e);
    const sync = new Error('sync');
    const async = new Error('async');
    callSafely(sink, () => {
      throw sync;
    });
    callSafely(sink, (reason: Error) => Promise.reject(reason), async);
    await watch.settle();
    expect(errors).toEqual([sync, async]);
    expect(watch.seen).toEqual([]);
  });

  it('passes the arguments through and counts nothing when the callback succeeds', async () => {
    const errors: unknown[] = [];
    const got: unknown[] = [];
    callSafely((e) => errors.push(e), (a: number, b: string) => got.push(a, b), 1, 'x');
    callSafely((e) => errors.push(e), async () => 'fine');
    await watch.settle();
    expect(got).toEqual([1, 'x']);
    expect(errors).toEqual([]);
  });

  it('survives a sink that throws', async () => {
    expect(() =>
      callSafely(
        () => {
          throw new Error('sink');
        },
        () => Promise.reject(new Error('user')),
      ),
    ).not.toThrow();
    await watch.settle();
    expect(watch.seen).toEqual([]);
  });
});

describe('containAsync', () => {
  it('returns primitives and plain objects unchanged without calling the sink', () => {
    const errors: unknown[] = [];
    const obj = { a: 1 };
    expect(containAsync(true, (e) => errors.push(e))).toBe(true);
    expect(containAsync(obj, (e) => errors.push(e))).toBe(obj);
    expect(containAsync(null, (e) => errors.push(e))).toBeNull();
    expect(errors).toEqual([]);
  });

  it('contains thenables whose then getter throws, whose then method throws, or that reject twice', async () => {
    const errors: unknown[] = [];
    const sink = (e: unknown) => errors.push(e);
    containAsync({ get then(): never { throw new Error('getter'); } }, sink);
    containAsync({ then(): never { throw new Error('method'); } }, sink);
    containAsync({ then(_: unknown, reject: (e: unknown) => void) { reject(new Error('once')); reject(new Error('twice')); } }, sink);
    // A hand-written then() that itself returns a rejected promise.
    containAsync({ then: () => Promise.reject(new Error('derived')) }, sink);
    await watch.settle();
    expect(errors.map(errorMessage)).toEqual(['getter', 'method', 'once']);
    expect(watch.seen).toEqual([]);
  });

  it('contains a function that is also a thenable', async () => {
    const errors: unknown[] = [];
    const fn = Object.assign(() => {}, { then: (_: unknown, reject: (e: unknown) => void) => reject('no') });
    containAsync(fn, (e) => errors.push(e));
    await watch.settle();
    expect(errors).toEqual(['no']);
  });
});

describe('errorMessage', () => {
  it('never throws, whatever was thrown', () => {
    const hostile = Object.create(null) as object;
    const badMessage = new Error('x');
    Object.defineProperty(badMessage, 'message', { get: () => { throw new Error('no'); } });
    const circular: Record<string, unknown> = {};
    circular['self'] = circular;
    expect(errorMessage(new Error('disk on fire'))).toBe('disk on fire');
    expect(errorMessage('plain')).toBe('plain');
    expect(typeof errorMessage(hostile)).toBe('string');
    expect(typeof errorMessage(badMessage)).toBe('string');
    expect(errorMessage(circular)).toBe('[object Object]');
    expect(errorMessage(10n)).toBe('10');
  });
});

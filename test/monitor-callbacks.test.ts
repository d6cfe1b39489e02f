import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { setup } from './actions/helpers.js';
import { watchUnhandledRejections } from './helpers/unhandled.js';

let watch: ReturnType<typeof watchUnhandledRejections>;
beforeEach(() => {
  watch = watchUnhandledRejections();
});
afterEach(() => watch.stop());

describe('a request classifier is user code on the hot path', () => {
  it.each([
    ['returns a rejecting promise', () => Promise.reject(new Error('classifier bug')) as never],
    ['throws', (): boolean => { throw new Error('classifier bug'); }],
  ])('one that %s falls back to the default (5xx = failure) and leaves no rejection behind', async (_what, classify) => {
    const { clock, monitor } = setup({ classify });
    monitor.recordRequest({ route: 'GET /search', durationMs: 10, status: 200 });
    monitor.recordRequest({ route: 'GET /search', durationMs: 10, status: 503 });
    clock.advance(1_000);
    await watch.settle();
    expect(monitor.stats().overall).toMatchObject({ requests: 2, failures: 1 });
    expect(watch.seen).toEqual([]);
  });

  it('a classifier that returns a boolean is still obeyed', () => {
    const { monitor } = setup({ classify: (status) => status < 400 });
    monitor.recordRequest({ route: 'GET /search', durationMs: 10, status: 404 });
    expect(monitor.stats().overall).toMatchObject({ requests: 1, failures: 1 });
  });
});

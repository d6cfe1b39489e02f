import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ActionExecution } from '../../src/index.js';
import { resolveParams, type PlaybookStep } from '../../src/actions/playbooks.js';
import { watchUnhandledRejections } from '../helpers/unhandled.js';
import { setup } from './helpers.js';

let watch: ReturnType<typeof watchUnhandledRejections>;
beforeEach(() => {
  watch = watchUnhandledRejections();
});
afterEach(() => watch.stop());

/** What a broken action can hand back; each must become a failed (or timed out), audited execution. */
const BROKEN: [string, () => unknown, RegExp][] = [
  ['throws synchronously', () => { throw new Error('sync boom'); }, /sync boom/],
  ['returns a rejecting promise', () => Promise.reject(new Error('async boom')), /async boom/],
  ['returns a thenable whose then() throws', () => ({ then(): never { throw new Error('then boom'); } }), /then boom/],
  ['returns a thenable whose then getter throws', () => ({ get then(): never { throw new Error('getter boom'); } }), /getter boom/],
  ['returns a number', () => 42, /number/],
  ['returns a string', () => 'done', /string/],
  ['resolves to a number', async () => 7, /number/],
  ['returns an array', () => [1, 2], /array/],
  ['returns a message that is not a string', () => ({ message: 12 }), /message/],
  ['returns noop that is not a boolean', () => ({ noop: 'yes' }), /noop/],
  ['returns data that is not an object', () => ({ data: 'x' }), /data/],
  ['returns data that is not JSON-serialisable', () => { const d: Record<string, unknown> = {}; d['self'] = d; return { data: d }; }, /data/],
  ['returns a result whose getter throws', () => ({ get message(): never { throw new Error('getter on result'); } }), /getter on result/],
];

describe('an action whose code misbehaves settles as failed, audited, and frees its lock', () => {
  it.each(BROKEN)('execute: an action that %s', async (_what, execute, error) => {
    const { clock, monitor } = setup();
    let calls = 0;
    monitor.actions.register({
      id: 'broken',
      title: 'Broken',
      execute: () => {
        calls++;
        return execute() as never;
      },
      revert: () => {},
    });
    const failed: ActionExecution[] = [];
    monitor.on('action:failed', (ex) => failed.push(ex));

    const ex = await monitor.actions.execute('broken', { by: 'alice' });
    clock.advance(60_000);
    await watch.settle();

    expect(ex).toMatchObject({ outcome: 'failed', ok: false, revertible: false });
    expect(ex.error).toMatch(error);
    expect(monitor.actions.audit({ action: 'broken' })).toMatchObject([{ kind: 'execute', outcome: 'failed', by: 'alice' }]);
    expect(failed).toHaveLength(1);
    expect(monitor.actions.get('broken')?.running).toBe(false);
    // Not ACTION_BUSY: the next execution runs.
    await expect(monitor.actions.execute('broken')).resolves.toMatchObject({ outcome: 'failed' });
    expect(calls).toBe(2);
    expect(watch.seen).toEqual([]);
  });

  it.each(BROKEN)('revert: a revert that %s', async (_what, revert, error) => {
    const { clock, monitor } = setup();
    monitor.actions.register({ id: 'flip', title: 'Flip', execute: () => ({ data: { was: 'on' } }), revert: () => revert() as never });
    const ex = await monitor.actions.execute('flip', { by: 'alice' });
    expect(ex.outcome).toBe('success');

    const after = await monitor.actions.revert(ex.id, { by: 'bob' });
    clock.advance(60_000);
    await watch.settle();

    expect(after.revert).toMatchObject({ outcome: 'failed', by: 'bob' });
    expect(after.revert?.error).toMatch(error);
    expect(after.revertible).toBe(true); // a failed revert can be retried
    expect(monitor.actions.audit({ kind: 'revert' })).toMatchObject([{ outcome: 'failed', by: 'bob' }]);
    expect(monitor.actions.get('flip')?.running).toBe(false);
    await expect(monitor.actions.execute('flip')).resolves.toMatchObject({ outcome: 'success' });
    expect(watch.seen).toEqual([]);
  });

  it('a thenable that never settles times out, is audited, and frees the lock', async () => {
    const { clock, monitor } = setup();
    monitor.actions.register({ id: 'stuck', title: 'Stuck', timeoutMs: 1_000, execute: () => ({ then() {} }) as never });
    const p = monitor.actions.execute('stuck');
    clock.advance(1_000);
    expect(await p).toMatchObject({ outcome: 'timeout' });
    expect(monitor.actions.audit()).toMatchObject([{ outcome: 'timeout' }]);
    expect(monitor.actions.get('stuck')?.running).toBe(false);
    expect(clock.pendingTimers()).toBe(0);
  });

  it('judges a thenable that fulfils and then throws by what it fulfilled with, as a promise would', async () => {
    const { monitor } = setup();
    monitor.actions.register({
      id: 'odd',
      title: 'Odd',
      execute: () => ({ then(ok: (v: unknown) => void) { ok({ message: 'applied' }); throw new Error('after'); } }) as never,
    });
    expect(await monitor.actions.execute('odd')).toMatchObject({ outcome: 'success', message: 'applied' });
    expect(monitor.actions.get('odd')?.running).toBe(false);
    await watch.settle();
    expect(watch.seen).toEqual([]);
  });

  it('still accepts the documented results: nothing, null, and a well-formed object', async () => {
    const { monitor } = setup();
    monitor.actions.register({ id: 'a', title: 'A', execute: () => {} });
    monitor.actions.register({ id: 'b', title: 'B', execute: async () => null as never });
    monitor.actions.register({ id: 'c', title: 'C', execute: () => ({ message: 'ok', data: { n: 1, at: new Date(0) }, extra: true }) as never });
    monitor.actions.register({ id: 'd', title: 'D', execute: () => ({ noop: true, message: undefined, data: undefined }) as never });
    expect(await monitor.actions.execute('a')).toMatchObject({ outcome: 'success' });
    expect(await monitor.actions.execute('b')).toMatchObject({ outcome: 'success' });
    expect(await monitor.actions.execute('c')).toMatchObject({ outcome: 'success', message: 'ok', data: { n: 1 } });
    expect(await monitor.actions.execute('d')).toMatchObject({ outcome: 'noop' });
  });
});

describe('playbook params functions are user code', () => {
  it.each([
    ['returns a rejecting promise', () => Promise.reject(new Error('lookup down')) as never, /synchronous/],
    ['throws', (): Record<string, unknown> => { throw new Error('lookup bug'); }, /lookup bug/],
    ['returns a string', () => 'cache:search' as never, /object/],
  ])('one that %s gives empty params and an error, and leaves no rejection behind', async (_what, params, error) => {
    const { monitor } = setup();
    const incident = monitor.incidents.open({ type: 'cache-failure', scope: 'cache:search', severity: 'high', summary: 'x', by: 'alice' });
    const step = { action: 'cache.disable', mode: 'suggest', params } as unknown as PlaybookStep;
    const r = resolveParams(step, incident, { controls: monitor.controls });
    await watch.settle();
    expect(r.params).toEqual({});
    expect(r.error).toMatch(error);
    expect(watch.seen).toEqual([]);
  });
});

describe('a fallback primary is user code', () => {
  it.each([
    ['returns a thenable whose then() throws', () => ({ then(): never { throw new Error('then boom'); } })],
    ['returns a thenable whose then getter throws', () => ({ get then(): never { throw new Error('getter boom'); } })],
  ])('a primary that %s is a primary failure: the fallback answers', async (_what, primary) => {
    const { clock, monitor } = setup();
    const ranker = monitor.fallback('ranker', { primary: primary as unknown as () => Promise<string>, fallback: () => 'hybrid', timeoutMs: 300 });
    await expect(ranker.run()).resolves.toBe('hybrid');
    clock.advance(1_000);
    await watch.settle();
    expect(ranker.stats()).toMatchObject({ primaryCalls: 1, primaryErrors: 1, fallbackCalls: 1, primaryTimeouts: 0 });
    expect(clock.pendingTimers()).toBe(0);
    expect(watch.seen).toEqual([]);
  });
});

import { describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import { ActionError, ActionRegistry, ConfigError, NotFoundError, ValidationError, type ActionExecution } from '../../src/index.js';
import { ManualClock } from '../../src/testing/index.js';
import { deferred, setup } from './helpers.js';

function counterAction(state = { value: 0 }) {
  return {
    id: 'counter.bump',
    title: 'Bump the counter',
    description: 'Adds `by` to the counter.',
    estimatedSeconds: 30,
    risk: 'safe' as const,
    params: z.strictObject({ by: z.number().int().positive().default(1) }),
    execute: ({ params }: { params: { by: number } }) => {
      state.value += params.by;
      return { message: `now ${state.value}`, data: { by: params.by } };
    },
    revert: ({ data }: { data: Record<string, unknown> }) => {
      state.value -= data['by'] as number;
      return { message: `back to ${state.value}` };
    },
  };
}

describe('registering and listing actions', () => {
  it('lists serialisable metadata with params as JSON Schema', () => {
    const { monitor } = setup();
    monitor.actions.register(counterAction());
    const [info] = monitor.actions.list();
    expect(info).toMatchObject({
      id: 'counter.bump',
      title: 'Bump the counter',
      estimatedSeconds: 30,
      risk: 'safe',
      requiresConfirm: false,
      revertible: true,
      timeoutMs: 30_000,
      running: false,
    });
    expect(info!.params).toMatchObject({ type: 'object', properties: { by: { type: 'integer', default: 1 } } });
    expect(JSON.parse(JSON.stringify(monitor.actions.list()))).toEqual(monitor.actions.list());
    expect(monitor.actions.get('counter.bump')?.id).toBe('counter.bump');
    expect(monitor.actions.get('nope')).toBeUndefined();
  });

  it('defaults an undeclared risk to risky, so nothing unvetted runs automatically', () => {
    const { monitor } = setup();
    const info = monitor.actions.register({ id: 'x', title: 'X', execute: () => {} });
    expect(info.risk).toBe('risky');
    expect(info.revertible).toBe(false);
  });

  it('rejects a bad definition with a ConfigError naming each field', () => {
    const { monitor } = setup();
    let err: unknown;
    try {
      monitor.actions.register({ id: 'bad id!', title: '', risk: 'medium' as 'safe', execute: () => {} });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    const paths = (err as ConfigError).issues.map((i) => i.path);
    expect(paths).toEqual(expect.arrayContaining(['id', 'title', 'risk']));
  });

  it('refuses a zod 3 schema as params with a ConfigError naming params (its JSON Schema would be lost)', () => {
    const { monitor } = setup();
    // The shape of a zod 3 schema: `_def` and `safeParse`, no zod 4 `_zod` internals.
    const zod3Like = { _def: { typeName: 'ZodObject' }, safeParse: (v: unknown) => ({ success: true, data: v }) };
    let err: unknown;
    try {
      monitor.actions.register({ id: 'zod3.action', title: 'Zod 3', params: zod3Like as unknown as z.ZodType, execute: () => {} });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    const issue = (err as ConfigError).issues.find((i) => i.path === 'params');
    expect(issue?.message).toMatch(/zod 3/);
    expect(monitor.actions.get('zod3.action')).toBeUndefined();
  });

  it('refuses a second action with the same id', () => {
    const { monitor } = setup();
    monitor.actions.register(counterAction());
    expect(() => monitor.actions.register(counterAction())).toThrowError(expect.objectContaining({ code: 'ACTION_EXISTS' }));
  });
});

describe('executing', () => {
  it('runs with validated params, records who/when/outcome and emits action:executed', async () => {
    const { clock, monitor } = setup();
    const state = { value: 0 };
    monitor.actions.register(counterAction(state));
    const seen: ActionExecution[] = [];
    monitor.on('action:executed', (e) => seen.push(e));
    clock.advance(5_000);
    const ex = await monitor.actions.execute('counter.bump', { params: { by: 3 }, by: 'alice' });
    expect(state.value).toBe(3);
    expect(ex).toMatchObject({
      action: 'counter.bump',
      by: 'alice',
      params: { by: 3 },
      outcome: 'success',
      ok: true,
      noop: false,
      message: 'now 3',
      startedAt: clock.now(),
      revertible: true,
      source: 'manual',
    });
    expect(seen.map((e) => e.id)).toEqual([ex.id]);
    expect(monitor.actions.execution(ex.id)?.outcome).toBe('success');
  });

  it('applies a synchronous action before execute() returns its promise', () => {
    const { monitor } = setup();
    const state = { value: 0 };
    monitor.actions.register(counterAction(state));
    void monitor.actions.execute('counter.bump');
    expect(state.value).toBe(1);
  });

  it('rejects unknown actions, bad params (naming the field) and missing confirmation without running', async () => {
    const { monitor } = setup();
    const run = vi.fn();
    monitor.actions.register({ ...counterAction(), execute: run });
    monitor.actions.register({ id: 'danger', title: 'Danger', requiresConfirm: true, execute: run });

    await expect(monitor.actions.execute('nope')).rejects.toMatchObject({ code: 'ACTION_NOT_FOUND' });
    const bad = await monitor.actions.execute('counter.bump', { params: { by: -2 } }).catch((e: unknown) => e);
    expect(bad).toBeInstanceOf(ValidationError);
    expect((bad as ValidationError).issues[0]!.path).toBe('by');
    expect((bad as ValidationError).message).toMatch(/by/);
    const extra = await monitor.actions.execute('counter.bump', { params: { factor: 2 } }).catch((e: unknown) => e);
    expect(extra).toBeInstanceOf(ValidationError);
    const unconfirmed = await monitor.actions.execute('danger').catch((e: unknown) => e);
    expect(unconfirmed).toBeInstanceOf(ActionError);
    expect((unconfirmed as ActionError).code).toBe('CONFIRMATION_REQUIRED');
    expect(run).not.toHaveBeenCalled();

    await expect(monitor.actions.execute('danger', { confirm: true })).resolves.toMatchObject({ outcome: 'success' });
    expect(run).toHaveBeenCalledTimes(1);
  });

  it('records a throwing action as failed instead of throwing', async () => {
    const { monitor } = setup();
    monitor.actions.register({ id: 'boom', title: 'Boom', execute: () => { throw new Error('disk on fire'); } });
    const failed: ActionExecution[] = [];
    monitor.on('action:failed', (e) => failed.push(e));
    const ex = await monitor.actions.execute('boom', { by: 'bob' });
    expect(ex).toMatchObject({ outcome: 'failed', ok: false, error: 'disk on fire', revertible: false });
    expect(failed).toHaveLength(1);
    expect(monitor.actions.audit({ action: 'boom' })[0]).toMatchObject({ outcome: 'failed', by: 'bob', error: 'disk on fire' });
  });

  it('records a rejecting async action as failed', async () => {
    const { monitor } = setup();
    monitor.actions.register({ id: 'reject', title: 'Reject', execute: async () => { throw new Error('nope'); } });
    expect(await monitor.actions.execute('reject')).toMatchObject({ outcome: 'failed', error: 'nope' });
  });

  it('records a hanging action as timed out once the clock passes timeoutMs, and aborts its signal', async () => {
    const { clock, monitor } = setup();
    let signal: AbortSignal | undefined;
    monitor.actions.register({
      id: 'hang',
      title: 'Hang',
      timeoutMs: 2_000,
      execute: (ctx) => {
        signal = ctx.signal;
        return new Promise<void>(() => {});
      },
    });
    let settled: ActionExecution | undefined;
    const p = monitor.actions.execute('hang').then((e) => (settled = e));
    clock.advance(1_999);
    await Promise.resolve();
    expect(settled).toBeUndefined();
    expect(monitor.actions.get('hang')?.running).toBe(true);
    clock.advance(1);
    await p;
    expect(settled).toMatchObject({ outcome: 'timeout', ok: false, durationMs: 2_000 });
    expect(settled!.error).toMatch(/timed out after 2000 ms/);
    expect(signal?.aborted).toBe(true);
    // The lock is released: the action can be tried again.
    expect(monitor.actions.get('hang')?.running).toBe(false);
    const again = monitor.actions.execute('hang');
    clock.advance(2_000);
    expect((await again).outcome).toBe('timeout');
  });

  it('never runs the same action twice at once', async () => {
    const { clock, monitor } = setup();
    const gate = deferred();
    monitor.actions.register({ id: 'slow', title: 'Slow', execute: () => gate.promise });
    monitor.actions.register({ id: 'other', title: 'Other', execute: () => {} });
    const first = monitor.actions.execute('slow');
    await expect(monitor.actions.execute('slow')).rejects.toMatchObject({ code: 'ACTION_BUSY' });
    await expect(monitor.actions.execute('other')).resolves.toMatchObject({ outcome: 'success' });
    clock.advance(1_500);
    gate.resolve();
    expect(await first).toMatchObject({ outcome: 'success', durationMs: 1_500 });
    await expect(monitor.actions.execute('slow')).resolves.toMatchObject({ outcome: 'success' });
  });

  it('reports a no-op when the state is already applied, and a no-op is not revertible', async () => {
    const { monitor } = setup();
    let on = false;
    monitor.actions.register({
      id: 'switch.on',
      title: 'Switch on',
      risk: 'safe',
      execute: () => {
        if (on) return { noop: true, message: 'already on' };
        on = true;
        return {};
      },
      revert: () => {
        on = false;
      },
    });
    const first = await monitor.actions.execute('switch.on');
    const second = await monitor.actions.execute('switch.on');
    expect(first).toMatchObject({ outcome: 'success', noop: false, revertible: true });
    expect(second).toMatchObject({ outcome: 'noop', noop: true, ok: true, revertible: false, message: 'already on' });
    await expect(monitor.actions.revert(second.id)).rejects.toMatchObject({ code: 'NOT_REVERTIBLE' });
    expect(on).toBe(true);
  });
});

describe('reverting', () => {
  it('reverts with what execute returned, once, and audits it', async () => {
    const { clock, monitor } = setup();
    const state = { value: 10 };
    monitor.actions.register(counterAction(state));
    const reverted: ActionExecution[] = [];
    monitor.on('action:reverted', (e) => reverted.push(e));
    const ex = await monitor.actions.execute('counter.bump', { params: { by: 5 }, by: 'alice' });
    clock.advance(60_000);
    const after = await monitor.actions.revert(ex.id, { by: 'bob' });
    expect(state.value).toBe(10);
    expect(after.revertible).toBe(false);
    expect(after.revert).toMatchObject({ at: clock.now(), by: 'bob', outcome: 'success', message: 'back to 10' });
    expect(reverted).toHaveLength(1);
    await expect(monitor.actions.revert(ex.id)).rejects.toMatchObject({ code: 'NOT_REVERTIBLE' });
    expect(monitor.actions.audit().map((e) => [e.kind, e.by, e.outcome])).toEqual([
      ['execute', 'alice', 'success'],
      ['revert', 'bob', 'success'],
    ]);
  });

  it('refuses unknown executions, actions without revert and failed executions', async () => {
    const { monitor } = setup();
    monitor.actions.register({ id: 'once', title: 'Once', execute: () => {} });
    monitor.actions.register({ id: 'fail', title: 'Fail', execute: () => { throw new Error('x'); }, revert: () => {} });
    await expect(monitor.actions.revert('ex_nope')).rejects.toMatchObject({ code: 'EXECUTION_NOT_FOUND' });
    const once = await monitor.actions.execute('once');
    expect(once.revertible).toBe(false);
    await expect(monitor.actions.revert(once.id)).rejects.toMatchObject({ code: 'NOT_REVERTIBLE' });
    const fail = await monitor.actions.execute('fail');
    await expect(monitor.actions.revert(fail.id)).rejects.toMatchObject({ code: 'NOT_REVERTIBLE' });
  });

  it('records a failing revert and lets it be retried', async () => {
    const { monitor } = setup();
    let attempts = 0;
    monitor.actions.register({
      id: 'flaky',
      title: 'Flaky revert',
      execute: () => {},
      revert: () => {
        if (++attempts === 1) throw new Error('still locked');
      },
    });
    const failed: ActionExecution[] = [];
    monitor.on('action:failed', (e) => failed.push(e));
    const ex = await monitor.actions.execute('flaky');
    const first = await monitor.actions.revert(ex.id);
    expect(first.revert).toMatchObject({ outcome: 'failed', error: 'still locked' });
    expect(first.revertible).toBe(true);
    expect(failed).toHaveLength(1);
    const second = await monitor.actions.revert(ex.id);
    expect(second.revert?.outcome).toBe('success');
    expect(second.revertible).toBe(false);
  });
});

describe('audit log, timeline and metrics', () => {
  it('is bounded: keeps the newest entries and counts what it dropped', async () => {
    const clock = new ManualClock();
    const registry = new ActionRegistry(clock, { auditSize: 3 });
    registry.register(counterAction());
    for (let i = 0; i < 5; i++) {
      clock.advance(1_000);
      await registry.execute('counter.bump', { by: `user${i}` });
    }
    const audit = registry.audit();
    expect(audit.map((e) => e.by)).toEqual(['user2', 'user3', 'user4']);
    expect(registry.stats()).toMatchObject({ auditEntries: 5, auditDropped: 2, executions: 5 });
    expect(registry.audit({ limit: 1 }).map((e) => e.by)).toEqual(['user4']);
    expect(registry.audit({ since: clock.now() - 1_000 }).map((e) => e.by)).toEqual(['user3', 'user4']);
    expect(() => registry.audit({ limit: -1 })).toThrow(ValidationError);
  });

  it('forgets the oldest executions beyond maxExecutions, counting them', async () => {
    const clock = new ManualClock();
    const registry = new ActionRegistry(clock, { maxExecutions: 2 });
    registry.register(counterAction());
    const first = await registry.execute('counter.bump');
    await registry.execute('counter.bump');
    await registry.execute('counter.bump');
    expect(registry.executions()).toHaveLength(2);
    expect(registry.stats().executionsDropped).toBe(1);
    await expect(registry.revert(first.id)).rejects.toMatchObject({ code: 'EXECUTION_NOT_FOUND' });
  });

  it('puts executions and reverts tied to an incident on its timeline, and refuses unknown incidents', async () => {
    const clock = new ManualClock();
    const timeline: { id: string; kind: string; by: string; message: string; data: Record<string, unknown> }[] = [];
    const registry = new ActionRegistry(clock, {}, {
      timeline: (id, e) => timeline.push({ id, ...e }),
      requireIncident: (id) => {
        if (id !== 'inc_1') throw new NotFoundError('incident', id);
      },
    });
    const run = vi.fn();
    registry.register({ ...counterAction(), execute: (ctx) => (run(), counterAction().execute(ctx)) });
    await expect(registry.execute('counter.bump', { incidentId: 'inc_9' })).rejects.toBeInstanceOf(NotFoundError);
    expect(run).not.toHaveBeenCalled();
    const ex = await registry.execute('counter.bump', { incidentId: 'inc_1', by: 'alice', params: { by: 2 } });
    clock.advance(30_000);
    await registry.revert(ex.id, { by: 'bob' });
    expect(timeline.map((t) => [t.id, t.kind, t.by])).toEqual([
      ['inc_1', 'action', 'alice'],
      ['inc_1', 'action-reverted', 'bob'],
    ]);
    expect(timeline[0]!.message).toMatch(/Bump the counter \(counter.bump\)/);
    expect(timeline[0]!.data).toMatchObject({ executionId: ex.id, action: 'counter.bump', params: { by: 2 }, outcome: 'success' });
    expect(registry.audit({ incidentId: 'inc_1' })).toHaveLength(2);
  });

  it('contains a throwing timeline hook', async () => {
    const registry = new ActionRegistry(new ManualClock(), {}, { timeline: () => { throw new Error('store down'); } });
    registry.register(counterAction());
    expect((await registry.execute('counter.bump', { incidentId: 'i' })).outcome).toBe('success');
    expect(registry.stats().timelineErrors).toBe(1);
  });

  it('counts executions and reverts in Prometheus', async () => {
    const { monitor } = setup();
    monitor.actions.register(counterAction());
    monitor.actions.register({ id: 'boom', title: 'Boom', execute: () => { throw new Error('x'); } });
    const ex = await monitor.actions.execute('counter.bump');
    await monitor.actions.execute('counter.bump');
    await monitor.actions.execute('boom');
    await monitor.actions.revert(ex.id);
    const text = await monitor.metrics();
    expect(text).toContain('firebreak_actions_total{action="counter.bump",outcome="success"} 2');
    expect(text).toContain('firebreak_actions_total{action="boom",outcome="failed"} 1');
    expect(text).toContain('firebreak_action_reverts_total{action="counter.bump",outcome="success"} 1');
  });

  it('validates the registry options', () => {
    expect(() => setup({ actions: { auditSize: 0 } })).toThrowError(/actions\.auditSize/);
    expect(() => setup({ actions: { auditSize: 0 } })).toThrowError(ConfigError);
  });
});

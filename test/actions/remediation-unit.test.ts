// Playbooks, procedures and auto-remediation on their own, with a stand-in for the incident store.
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/index.js';
import type { Incident } from '../../src/incidents/types.js';
import { Playbooks, RUNBOOK_PLAYBOOKS } from '../../src/actions/playbooks.js';
import { buildProcedures, type ProcedureStep } from '../../src/actions/procedures.js';
import { AutoRemediation, autoRemediateSchema, type RemediationPolicyInput } from '../../src/actions/remediation.js';
import { setup } from './helpers.js';

function incident(over: Partial<Incident> = {}): Incident {
  return {
    id: 'inc_1',
    type: 'high-latency',
    scope: 'service',
    severity: 'high',
    priority: 'P1',
    status: 'open',
    summary: 'p95 2500 ms',
    source: 'auto',
    detectedAt: 0,
    openedAt: 0,
    reopenCount: 0,
    notes: [],
    actionItems: [],
    timeline: [],
    ...over,
  };
}

function world(policy: RemediationPolicyInput | boolean = true, playbooks?: ConstructorParameters<typeof Playbooks>[0]) {
  const { clock, monitor } = setup();
  const notes: { id: string; message: string; at: number }[] = [];
  const book = new Playbooks(playbooks);
  // A remediation of our own, driven by hand; the monitor's own is off (no autoRemediate option).
  const remediation = new AutoRemediation(
    {
      clock,
      actions: monitor.actions,
      playbooks: book,
      controls: monitor.controls,
      incident: (id) => monitor.incidents.get(id),
      note: (id, message) => notes.push({ id, message, at: clock.now() }),
    },
    autoRemediateSchema.parse(policy),
  );
  let n = 0;
  const add = (over: { type?: string; scope?: string } = {}) =>
    monitor.incidents.open({ type: over.type ?? 'high-latency', scope: over.scope ?? `s${n++}`, severity: 'high', summary: 'p95 2500 ms', by: 'test' });
  const resolve = (inc: Incident) => monitor.incidents.resolve(inc.id, { by: 'alice', notes: 'ok' });
  const reopen = (inc: Incident) => monitor.incidents.reopen(inc.id, { by: 'alice' });
  return { clock, monitor, remediation, notes, add, resolve, reopen, book };
}

describe('playbooks', () => {
  it('ship the runbook table by default', () => {
    const book = new Playbooks();
    const table = Object.fromEntries(book.types().map((t) => [t, book.get(t).map((s) => `${s.action}:${s.mode}`)]));
    expect(table).toEqual({
      'high-latency': ['model.fallback:auto', 'cache.clear:manual'],
      'high-error-rate': ['feature.emergency-stop:auto'],
      'model-failure': ['model.fallback:auto'],
      'memory-exhaustion': ['cache.clear:auto'],
      'cache-failure': ['cache.disable:auto', 'cache.clear:auto'],
      'rate-limit-attack': ['rate-limit.tighten:auto', 'rate-limit.block:manual'],
      'canary-failure': ['canary.emergency-stop:auto', 'canary.disable:manual'],
    });
    expect(new Playbooks('none').types()).toEqual([]);
  });

  it('accept a table of their own, default steps to manual, and validate naming the field', () => {
    const book = new Playbooks({ ...RUNBOOK_PLAYBOOKS, 'disk-space-low': [{ action: 'logs.rotate' }] });
    expect(book.get('disk-space-low')[0]).toMatchObject({ action: 'logs.rotate', mode: 'manual' });
    expect(() => new Playbooks({ x: [{ action: '', mode: 'sometimes' as 'auto' }] })).toThrowError(ConfigError);
    expect(() => new Playbooks({ x: [{ action: '', mode: 'sometimes' as 'auto' }] })).toThrowError(/x\.0\.action.*x\.0\.mode|x\.0\.mode.*x\.0\.action/);
    expect(() => new Playbooks({ x: [{ action: '', mode: 'sometimes' as 'auto' }] })).toThrowError(ConfigError);
    book.set('disk-space-low', []);
    expect(book.get('disk-space-low')).toEqual([]);
  });
});

describe('procedures', () => {
  it('list the steps with estimated time, availability and status pending/done/failed/reverted', async () => {
    const { monitor, book, add } = world();
    const ranker = monitor.fallback('ranker', { primary: () => 1, fallback: () => 2 });
    monitor.cache('search', { max: 10 }).set('k', 1);
    const inc = add();
    const sources = { playbooks: book, actions: monitor.actions, controls: monitor.controls };
    let steps = buildProcedures(inc, sources);
    expect(steps.map((s) => [s.step, s.action, s.estimatedSeconds, s.mode, s.automatic, s.status])).toEqual([
      [1, 'model.fallback', 30, 'auto', true, 'pending'],
      [2, 'cache.clear', 60, 'manual', false, 'pending'],
    ]);
    expect(steps[0]).toMatchObject({ title: 'Disable reranking (model fallback)', risk: 'safe', available: true, verification: 'p95 latency back under its threshold' });

    const ex = await monitor.actions.execute('model.fallback', { incidentId: inc.id, by: 'alice' });
    steps = buildProcedures(inc, sources);
    expect(steps[0]).toMatchObject({ status: 'done', executionId: ex.id, by: 'alice' });
    await monitor.actions.revert(ex.id, { by: 'bob' });
    expect(buildProcedures(inc, sources)[0]).toMatchObject({ status: 'reverted', by: 'bob' });
    expect(ranker.isForced()).toBe(false);

    monitor.actions.register({ id: 'x.fail', title: 'Fails', execute: () => { throw new Error('nope'); } });
    book.set('high-latency', [{ action: 'x.fail', mode: 'manual' }, { action: 'not.registered', mode: 'auto' }]);
    await monitor.actions.execute('x.fail', { incidentId: inc.id });
    const [failed, missing] = buildProcedures(inc, sources) as [ProcedureStep, ProcedureStep];
    expect(failed).toMatchObject({ status: 'failed', error: 'nope' });
    expect(missing).toMatchObject({ available: false, automatic: false, estimatedSeconds: null, status: 'pending' });
  });

  it('target the control named by the incident scope', () => {
    const { monitor, book } = world();
    monitor.cache('search', { max: 10 });
    monitor.cache('users', { max: 10 });
    const steps = buildProcedures(incident({ type: 'cache-failure', scope: 'cache:users' }), { playbooks: book, actions: monitor.actions, controls: monitor.controls });
    expect(steps.map((s) => s.params)).toEqual([{ name: 'users' }, { name: 'users' }]);
    const unscoped = buildProcedures(incident({ type: 'cache-failure', scope: 'GET /x' }), { playbooks: book, actions: monitor.actions, controls: monitor.controls });
    expect(unscoped[0]!.params).toEqual({});
  });
});

describe('auto-remediation', () => {
  it('runs the auto steps of safe actions, skipping manual ones, tied to the incident', async () => {
    const { monitor, remediation, add } = world();
    const ranker = monitor.fallback('ranker', { primary: () => 1, fallback: () => 2 });
    const cache = monitor.cache('search', { max: 10 });
    cache.set('k', 1);
    const inc = add();
    remediation.onIncident('opened', inc);
    expect(ranker.isForced()).toBe(true); // synchronously, inside the event that opened the incident
    await remediation.settled();
    expect(cache.stats().size).toBe(1); // cache.clear is manual for high latency
    expect(monitor.actions.audit()).toMatchObject([{ action: 'model.fallback', by: 'firebreak', source: 'auto', incidentId: inc.id, outcome: 'success' }]);
    expect(remediation.stats().recentRuns[0]!.steps).toMatchObject([{ action: 'model.fallback', result: 'executed' }]);
  });

  it('never runs risky or confirm-required steps automatically, and says so', async () => {
    const { monitor, remediation, add, notes } = world(true, {
      'rate-limit-attack': [
        { action: 'rate-limit.adjust', mode: 'auto', params: { maxRequests: 1 } },
        { action: 'rate-limit.block', mode: 'auto', params: { top: 1 } },
        { action: 'rate-limit.tighten', mode: 'auto' },
      ],
    });
    const limiter = monitor.rateLimiter('api', { maxRequests: 100, windowSeconds: 60 });
    remediation.onIncident('opened', add({ type: 'rate-limit-attack' }));
    await remediation.settled();
    expect(limiter.current().maxRequests).toBe(50);
    expect(monitor.actions.audit().map((e) => e.action)).toEqual(['rate-limit.tighten']);
    expect(notes.map((n) => n.message)).toEqual([
      'Auto-remediation skipped rate-limit.adjust: risky action; run it by hand if needed',
      'Auto-remediation skipped rate-limit.block: needs confirmation; run it by hand if needed',
    ]);
  });

  it('respects the cooldown and the maximum number of runs per incident', async () => {
    const { clock, monitor, remediation, add, notes } = world({ cooldownMs: 60_000, maxRunsPerIncident: 2 });
    const ranker = monitor.fallback('ranker', { primary: () => 1, fallback: () => 2 });
    const inc = add();
    remediation.onIncident('opened', inc);
    await remediation.settled();
    ranker.restore(); // someone undoes it by hand
    clock.advance(30_000);
    remediation.onIncident('escalated', inc);
    await remediation.settled();
    expect(ranker.isForced()).toBe(false);
    expect(notes.at(-1)?.message).toMatch(/cooldown/);
    clock.advance(30_000);
    remediation.onIncident('escalated', inc);
    await remediation.settled();
    expect(ranker.isForced()).toBe(true);
    ranker.restore();
    clock.advance(600_000);
    remediation.onIncident('escalated', inc);
    remediation.onIncident('escalated', inc);
    await remediation.settled();
    expect(ranker.isForced()).toBe(false);
    expect(notes.filter((n) => /limit of 2/.test(n.message))).toHaveLength(1);
    expect(remediation.stats()).toMatchObject({ runs: 2, skipped: { cooldown: 1, maxRuns: 2 } });
  });

  it('runs the steps again on escalation: an already-applied state is a recorded no-op', async () => {
    const { clock, monitor, remediation, add } = world({ cooldownMs: 0 });
    monitor.fallback('ranker', { primary: () => 1, fallback: () => 2 });
    const inc = add();
    remediation.onIncident('opened', inc);
    await remediation.settled();
    clock.advance(1_000);
    remediation.onIncident('escalated', inc);
    await remediation.settled();
    expect(monitor.actions.audit().map((e) => e.outcome)).toEqual(['success', 'noop']);
    expect(remediation.stats().recentRuns[1]!.steps[0]!.result).toBe('noop');
  });

  it('dry run: records what it would do and changes nothing', async () => {
    const { monitor, remediation, add, notes } = world({ dryRun: true });
    const ranker = monitor.fallback('ranker', { primary: () => 1, fallback: () => 2 });
    remediation.onIncident('opened', add());
    await remediation.settled();
    expect(ranker.isForced()).toBe(false);
    expect(monitor.actions.audit()).toEqual([]);
    expect(notes.map((n) => n.message)).toEqual(['[dry-run] Auto-remediation would run Fall back from the model (model.fallback)']);
  });

  it('global pause: nothing runs while paused', async () => {
    const { monitor, remediation, add, notes } = world();
    const ranker = monitor.fallback('ranker', { primary: () => 1, fallback: () => 2 });
    remediation.pause('alice');
    remediation.onIncident('opened', add());
    await remediation.settled();
    expect(ranker.isForced()).toBe(false);
    expect(notes[0]!.message).toMatch(/paused \(by alice\)/);
    expect(remediation.stats()).toMatchObject({ paused: true, pausedBy: 'alice', skipped: { paused: 1 } });
    remediation.resume();
    remediation.onIncident('escalated', add());
    await remediation.settled();
    expect(ranker.isForced()).toBe(true);
  });

  it('is off unless asked for', async () => {
    const { monitor, remediation, add } = world(false);
    const ranker = monitor.fallback('ranker', { primary: () => 1, fallback: () => 2 });
    remediation.onIncident('opened', add());
    await remediation.settled();
    expect(ranker.isForced()).toBe(false);
  });

  it('reverts auto-applied actions in reverse order after resolve + delay, leaving manual ones alone', async () => {
    const { clock, monitor, remediation, add, resolve } = world({ revertAfterMs: 120_000 }, {
      'cache-failure': [
        { action: 'cache.disable', mode: 'auto' },
        { action: 'feature.disable', mode: 'auto', params: { name: 'rerank' } },
      ],
    });
    const cache = monitor.cache('search', { max: 10 });
    const rerank = monitor.feature('rerank');
    const other = monitor.feature('other');
    const inc = add({ type: 'cache-failure' });
    remediation.onIncident('opened', inc);
    await remediation.settled();
    await monitor.actions.execute('feature.disable', { params: { name: 'other' }, incidentId: inc.id, by: 'alice' });
    expect([cache.isEnabled(), rerank.isEnabled(), other.isEnabled()]).toEqual([false, false, false]);

    remediation.onResolved(resolve(inc));
    expect(remediation.stats().pendingReverts).toEqual([{ incidentId: inc.id, dueAt: clock.now() + 120_000 }]);
    clock.advance(119_999);
    await remediation.settled();
    expect(cache.isEnabled()).toBe(false);
    clock.advance(1);
    await remediation.settled();
    expect([cache.isEnabled(), rerank.isEnabled(), other.isEnabled()]).toEqual([true, true, false]);
    expect(monitor.actions.audit({ kind: 'revert' }).map((e) => e.action)).toEqual(['feature.disable', 'cache.disable']);
    expect(remediation.stats()).toMatchObject({ reverts: 2, pendingReverts: [] });
  });

  it('cancels the pending revert when the incident reopens', async () => {
    const { clock, monitor, remediation, add, resolve, reopen } = world({ revertAfterMs: 60_000, cooldownMs: 0 });
    const ranker = monitor.fallback('ranker', { primary: () => 1, fallback: () => 2 });
    const inc = add();
    remediation.onIncident('opened', inc);
    await remediation.settled();
    remediation.onResolved(resolve(inc));
    clock.advance(30_000);
    remediation.onIncident('reopened', reopen(inc));
    clock.advance(60_000);
    await remediation.settled();
    expect(ranker.isForced()).toBe(true);
    expect(remediation.stats().pendingReverts).toEqual([]);
  });

  it('holds reverts while paused and runs them on resume; stop() cancels its timers and start() re-arms them', async () => {
    const { clock, monitor, remediation, add, resolve } = world({ revertAfterMs: 10_000 });
    const ranker = monitor.fallback('ranker', { primary: () => 1, fallback: () => 2 });
    const inc = add();
    remediation.onIncident('opened', inc);
    await remediation.settled();
    const resolved = resolve(inc);
    const before = clock.pendingTimers();
    remediation.onResolved(resolved);
    expect(clock.pendingTimers()).toBe(before + 1);
    remediation.stop();
    expect(clock.pendingTimers()).toBe(before);
    remediation.start();
    remediation.pause('bob');
    clock.advance(10_000);
    await remediation.settled();
    expect(ranker.isForced()).toBe(true);
    remediation.resume();
    await remediation.settled();
    expect(ranker.isForced()).toBe(false);
  });

  it('validates the policy, naming the field', () => {
    expect(autoRemediateSchema.parse(true)).toMatchObject({ enabled: true, cooldownMs: 300_000, maxRunsPerIncident: 3, dryRun: false, revertAfterMs: 300_000 });
    expect(autoRemediateSchema.parse(undefined).enabled).toBe(false);
    const r = autoRemediateSchema.safeParse({ cooldownMs: -1 });
    expect(r.success).toBe(false);
    expect(r.error?.issues[0]?.path).toEqual(['cooldownMs']);
  });
});

import { describe, expect, it } from 'vitest';
import type { Incident } from '../../src/incidents/types.js';
import { Playbooks } from '../../src/actions/playbooks.js';
import { AutoRemediation, autoRemediateSchema, type RemediationPolicyInput } from '../../src/actions/remediation.js';
import { setup } from './helpers.js';

function world(policy: RemediationPolicyInput | boolean = true, playbooks?: ConstructorParameters<typeof Playbooks>[0], extra: Parameters<typeof setup>[0] = {}) {
  const { clock, monitor } = setup(extra);
  const notes: { id: string; message: string }[] = [];
  const remediation = new AutoRemediation(
    {
      clock,
      actions: monitor.actions,
      playbooks: new Playbooks(playbooks),
      controls: monitor.controls,
      incident: (id) => monitor.incidents.get(id),
      note: (id, message) => notes.push({ id, message }),
    },
    autoRemediateSchema.parse(policy),
  );
  let n = 0;
  const add = (type = 'custom-failure') => monitor.incidents.open({ type, scope: `s${n++}`, severity: 'high', summary: 's', by: 'test' });
  const resolve = (inc: Incident) => monitor.incidents.resolve(inc.id, { by: 'alice', notes: 'ok' });
  return { clock, monitor, remediation, notes, add, resolve };
}

/** A safe, revertible action whose revert fails while `failing.revert` is set; counts applied state. */
function flaky(monitor: ReturnType<typeof setup>['monitor'], id: string, state: { applied: Set<string>; failRevert: boolean; order: string[] }) {
  monitor.actions.register({
    id,
    title: id,
    description: 'test action',
    estimatedSeconds: 1,
    risk: 'safe',
    execute: () => {
      state.applied.add(id);
      return { message: `${id} applied` };
    },
    revert: () => {
      state.order.push(id);
      if (state.failRevert && id === 'test.b') throw new Error(`${id} revert broke`);
      state.applied.delete(id);
      return { message: `${id} reverted` };
    },
  });
}

describe('auto-remediation reverts', () => {
  it('a revert that fails is noted on the incident; the others are still reverted, in reverse order', async () => {
    const state = { applied: new Set<string>(), failRevert: true, order: [] as string[] };
    const { clock, monitor, remediation, notes, add, resolve } = world({ revertAfterMs: 1_000 }, {
      'custom-failure': [
        { action: 'test.a', mode: 'auto' },
        { action: 'test.b', mode: 'auto' },
        { action: 'test.c', mode: 'auto' },
      ],
    });
    for (const id of ['test.a', 'test.b', 'test.c']) flaky(monitor, id, state);
    const inc = add();
    remediation.onIncident('opened', inc);
    await remediation.settled();
    expect([...state.applied].sort()).toEqual(['test.a', 'test.b', 'test.c']);
    remediation.onResolved(resolve(inc));
    clock.advance(1_000);
    await remediation.settled();
    expect(state.order).toEqual(['test.c', 'test.b', 'test.a']);
    expect([...state.applied]).toEqual(['test.b']);
    expect(remediation.stats()).toMatchObject({ pendingReverts: [] });
    const failed = monitor.actions.audit({ kind: 'revert' }).filter((e) => e.action === 'test.b');
    expect(failed).toMatchObject([{ outcome: 'failed', error: 'test.b revert broke', incidentId: inc.id, source: 'auto' }]);
    // The failure is on the incident's timeline, between the two successful reverts.
    expect(monitor.incidents.require(inc.id).timeline.slice(-3).map((e) => [e.kind, e.data?.['action']])).toEqual([
      ['action-reverted', 'test.c'],
      ['action-failed', 'test.b'],
      ['action-reverted', 'test.a'],
    ]);
    expect(notes).toEqual([]);
  });

  it('nothing is reverted while paused, even when the incident resolves during the pause; resume runs what fell due', async () => {
    const state = { applied: new Set<string>(), failRevert: false, order: [] as string[] };
    const { clock, monitor, remediation, add, resolve } = world({ revertAfterMs: 5_000 }, { 'custom-failure': [{ action: 'test.a', mode: 'auto' }] });
    flaky(monitor, 'test.a', state);
    const inc = add();
    remediation.onIncident('opened', inc);
    await remediation.settled();
    remediation.pause('carol');
    remediation.onResolved(resolve(inc));
    clock.advance(60_000);
    await remediation.settled();
    expect(state.applied.has('test.a')).toBe(true);
    expect(remediation.stats()).toMatchObject({ paused: true, pausedBy: 'carol', reverts: 0, pendingReverts: [{ incidentId: inc.id }] });
    remediation.resume();
    await remediation.settled();
    expect(state.applied.has('test.a')).toBe(false);
    expect(remediation.stats()).toMatchObject({ paused: false, reverts: 1, pendingReverts: [] });
    expect(remediation.stats().pausedBy).toBeUndefined();
  });

  it('resume() before a revert is due leaves it to its timer', async () => {
    const state = { applied: new Set<string>(), failRevert: false, order: [] as string[] };
    const { clock, monitor, remediation, add, resolve } = world({ revertAfterMs: 5_000 }, { 'custom-failure': [{ action: 'test.a', mode: 'auto' }] });
    flaky(monitor, 'test.a', state);
    const inc = add();
    remediation.onIncident('opened', inc);
    await remediation.settled();
    remediation.onResolved(resolve(inc));
    remediation.pause('carol');
    clock.advance(1_000);
    remediation.resume();
    await remediation.settled();
    expect(state.applied.has('test.a')).toBe(true);
    clock.advance(4_000);
    await remediation.settled();
    expect(state.applied.has('test.a')).toBe(false);
  });

  it('an incident no longer resolved when its revert falls due keeps what was applied', async () => {
    const state = { applied: new Set<string>(), failRevert: false, order: [] as string[] };
    const { clock, monitor, remediation, add, resolve } = world({ revertAfterMs: 5_000 }, { 'custom-failure': [{ action: 'test.a', mode: 'auto' }] });
    flaky(monitor, 'test.a', state);
    const inc = add();
    remediation.onIncident('opened', inc);
    await remediation.settled();
    remediation.onResolved(resolve(inc));
    // Reopened without remediation hearing of it (e.g. by hand through the manager).
    monitor.incidents.reopen(inc.id, { by: 'alice' });
    clock.advance(5_000);
    await remediation.settled();
    expect(state.applied.has('test.a')).toBe(true);
    expect(remediation.stats().pendingReverts).toEqual([]);
  });

  it('on reopen the pending revert is cancelled, and a later resolve schedules it afresh', async () => {
    const state = { applied: new Set<string>(), failRevert: false, order: [] as string[] };
    const { clock, monitor, remediation, add, resolve } = world({ revertAfterMs: 5_000, cooldownMs: 0 }, { 'custom-failure': [{ action: 'test.a', mode: 'auto' }] });
    flaky(monitor, 'test.a', state);
    const inc = add();
    remediation.onIncident('opened', inc);
    await remediation.settled();
    remediation.onResolved(resolve(inc));
    clock.advance(4_000);
    remediation.onIncident('reopened', monitor.incidents.reopen(inc.id, { by: 'alice' }));
    await remediation.settled();
    expect(remediation.stats().pendingReverts).toEqual([]);
    clock.advance(10_000);
    await remediation.settled();
    expect(state.applied.has('test.a')).toBe(true);
    remediation.onResolved(resolve(monitor.incidents.require(inc.id)));
    expect(remediation.stats().pendingReverts).toEqual([{ incidentId: inc.id, dueAt: clock.now() + 5_000 }]);
    clock.advance(5_000);
    await remediation.settled();
    expect(state.applied.has('test.a')).toBe(false);
  });

  it('revertOnResolve: false and dry runs schedule nothing; an incident with nothing auto-applied neither', async () => {
    for (const policy of [{ revertOnResolve: false }, { dryRun: true }]) {
      const state = { applied: new Set<string>(), failRevert: false, order: [] as string[] };
      const { remediation, monitor, add, resolve } = world(policy, { 'custom-failure': [{ action: 'test.a', mode: 'auto' }] });
      flaky(monitor, 'test.a', state);
      const inc = add();
      remediation.onIncident('opened', inc);
      await remediation.settled();
      remediation.onResolved(resolve(inc));
      expect(remediation.stats().pendingReverts).toEqual([]);
    }
    const { remediation, add, resolve } = world({}, { 'custom-failure': [] });
    const inc = add();
    remediation.onResolved(resolve(inc));
    expect(remediation.stats().pendingReverts).toEqual([]);
  });

  it('the pending-revert table is bounded: one too many runs the oldest revert early instead of forgetting it', async () => {
    const state = { applied: new Set<string>(), failRevert: false, order: [] as string[] };
    // Room for every incident and execution: the bound under test is the remediation's own.
    const { clock, monitor, remediation, add, resolve } = world(
      { revertAfterMs: 3_600_000, cooldownMs: 0 },
      { 'custom-failure': [{ action: 'test.a', mode: 'auto' }] },
      { incidents: { maxResolved: 5_000, maxActive: 5_000 }, actions: { auditSize: 10_000, maxExecutions: 10_000 } } as never,
    );
    flaky(monitor, 'test.a', state);
    const first = add();
    remediation.onIncident('opened', first);
    await remediation.settled();
    remediation.onResolved(resolve(first));
    // Fill the table with incidents that each auto-applied something.
    for (let i = 1; i < 1_000; i++) {
      const inc = add();
      await monitor.actions.execute('test.a', { params: {}, incidentId: inc.id, by: 'firebreak', source: 'auto' } as never).catch(() => undefined);
      remediation.onResolved(resolve(inc));
    }
    expect(remediation.stats().pendingReverts).toHaveLength(1_000);
    expect(remediation.stats().reverts).toBe(0);
    const extra = add();
    await monitor.actions.execute('test.a', { params: {}, incidentId: extra.id, by: 'firebreak', source: 'auto' } as never).catch(() => undefined);
    remediation.onResolved(resolve(extra));
    await remediation.settled();
    const pending = remediation.stats().pendingReverts;
    expect(pending).toHaveLength(1_000);
    expect(pending.some((p) => p.incidentId === first.id)).toBe(false); // the oldest ran early…
    expect(pending.at(-1)!.incidentId).toBe(extra.id); // …and the newest waits its turn
    expect(monitor.actions.audit({ kind: 'revert' }).filter((e) => e.incidentId === first.id)).toHaveLength(1);
  });
});

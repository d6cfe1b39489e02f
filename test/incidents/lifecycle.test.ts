import { describe, expect, it } from 'vitest';
import {
  InvalidTransitionError,
  LimitError,
  NotFoundError,
  ValidationError,
  type Incident,
  type IncidentStatus,
  type Monitor,
} from '../../src/index.js';
import { setup } from './helpers.js';

const STATES: IncidentStatus[] = ['open', 'acknowledged', 'mitigating', 'resolved'];
const STEPS = ['acknowledge', 'mitigate', 'resolve', 'reopen'] as const;
type Step = (typeof STEPS)[number];

/** Expected state after each step from each state; absent = INVALID_TRANSITION. */
const ALLOWED: Record<IncidentStatus, Partial<Record<Step, IncidentStatus>>> = {
  open: { acknowledge: 'acknowledged', mitigate: 'mitigating', resolve: 'resolved' },
  acknowledged: { mitigate: 'mitigating', resolve: 'resolved' },
  mitigating: { resolve: 'resolved' },
  resolved: { reopen: 'open' },
};

function incidentIn(monitor: Monitor, state: IncidentStatus): Incident {
  const inc = monitor.incidents.open({ type: 'high-latency', severity: 'high', summary: `in ${state}`, scope: `test:${state}:${Math.random()}` });
  if (state === 'acknowledged') monitor.incidents.acknowledge(inc.id, { by: 'alice' });
  if (state === 'mitigating') monitor.incidents.mitigate(inc.id, { by: 'alice' });
  if (state === 'resolved') monitor.incidents.resolve(inc.id, { by: 'alice' });
  return monitor.incidents.require(inc.id);
}

function take(monitor: Monitor, id: string, step: Step): Incident {
  const by = { by: 'bob' };
  switch (step) {
    case 'acknowledge':
      return monitor.incidents.acknowledge(id, by);
    case 'mitigate':
      return monitor.incidents.mitigate(id, by);
    case 'resolve':
      return monitor.incidents.resolve(id, by);
    case 'reopen':
      return monitor.incidents.reopen(id, by);
  }
}

describe('lifecycle: every transition', () => {
  for (const from of STATES) {
    for (const step of STEPS) {
      const to = ALLOWED[from][step];
      it(`${from} --${step}--> ${to ?? 'INVALID_TRANSITION'}`, () => {
        const { clock, monitor } = setup();
        const inc = incidentIn(monitor, from);
        clock.advance(5_000);
        const before = inc.timeline.length;
        if (to === undefined) {
          let err: unknown;
          try {
            take(monitor, inc.id, step);
          } catch (e) {
            err = e;
          }
          expect(err).toBeInstanceOf(InvalidTransitionError);
          expect(err).toMatchObject({ code: 'INVALID_TRANSITION', from, to: step, details: { id: inc.id, from, to: step } });
          expect(monitor.incidents.require(inc.id)).toEqual(inc); // unchanged
        } else {
          const after = take(monitor, inc.id, step);
          expect(after.status).toBe(to);
          expect(after.timeline).toHaveLength(before + 1);
          const entry = after.timeline.at(-1)!;
          expect(entry).toMatchObject({ at: clock.now(), by: 'bob' });
          expect(entry.kind).toBe({ acknowledge: 'acknowledged', mitigate: 'mitigating', resolve: 'resolved', reopen: 'reopened' }[step]);
        }
      });
    }
  }
});

describe('lifecycle: fields, events and notes', () => {
  it('records who and when for each step, durations, and emits one event per step', () => {
    const { clock, monitor } = setup();
    const seen: string[] = [];
    for (const e of ['incident:opened', 'incident:acknowledged', 'incident:mitigating', 'incident:resolved', 'incident:reopened', 'incident:updated'] as const) {
      monitor.on(e, (i) => seen.push(`${e}:${i.status}`));
    }
    const t0 = clock.now();
    const inc = monitor.incidents.open({ type: 'index-corruption', severity: 'critical', summary: 'Checksum mismatch on shard 3', by: 'carol' });
    expect(inc).toMatchObject({ source: 'manual', status: 'open', priority: 'P0', scope: 'service', detectedAt: t0, openedAt: t0, reopenCount: 0 });
    expect(inc.id).toMatch(/^inc_[0-9a-z]{18}$/);
    clock.advance(4 * 60_000);
    monitor.incidents.acknowledge(inc.id, { by: 'alice', note: 'on it' });
    clock.advance(60_000);
    monitor.incidents.mitigate(inc.id, { by: 'alice', note: 'rebuilding the index' });
    clock.advance(10 * 60_000);
    const resolved = monitor.incidents.resolve(inc.id, { by: 'alice', notes: 'Index rebuilt from snapshot', rootCause: 'Disk full during compaction' });
    expect(resolved).toMatchObject({
      status: 'resolved',
      acknowledgedAt: t0 + 4 * 60_000,
      acknowledgedBy: 'alice',
      mitigatingAt: t0 + 5 * 60_000,
      resolvedAt: t0 + 15 * 60_000,
      resolvedBy: 'alice',
      durationMs: 15 * 60_000,
      rootCause: 'Disk full during compaction',
      notes: ['Index rebuilt from snapshot'],
    });
    expect(resolved.timeline.map((e) => [e.kind, e.by, e.message])).toEqual([
      ['opened', 'carol', 'Opened manually: Checksum mismatch on shard 3'],
      ['acknowledged', 'alice', 'Acknowledged by alice: on it'],
      ['mitigating', 'alice', 'Mitigation started by alice: rebuilding the index'],
      ['resolved', 'alice', 'Resolved by alice: Index rebuilt from snapshot'],
    ]);
    const reopened = monitor.incidents.reopen(inc.id, { by: 'bob', note: 'errors again' });
    expect(reopened).toMatchObject({ status: 'open', reopenCount: 1, reopenedAt: clock.now() });
    expect(reopened.resolvedAt).toBeUndefined();
    expect(reopened.acknowledgedAt).toBeUndefined();
    expect(seen).toEqual([
      'incident:opened:open',
      'incident:updated:open',
      'incident:acknowledged:acknowledged',
      'incident:updated:acknowledged',
      'incident:mitigating:mitigating',
      'incident:updated:mitigating',
      'incident:resolved:resolved',
      'incident:updated:resolved',
      'incident:reopened:open',
      'incident:updated:open',
    ]);
    const { timeToAcknowledge, timeToResolve } = monitor.stats().incidents;
    expect(timeToAcknowledge).toMatchObject({ count: 1, lastMs: 4 * 60_000 });
    expect(timeToResolve).toMatchObject({ count: 1, lastMs: 15 * 60_000 });
  });

  it('mitigating straight from open also acknowledges', () => {
    const { monitor } = setup();
    const inc = monitor.incidents.open({ type: 'cache-failure', severity: 'medium', summary: 'cache down' });
    const m = monitor.incidents.mitigate(inc.id, { by: 'dave' });
    expect(m).toMatchObject({ status: 'mitigating', acknowledgedBy: 'dave' });
    expect(monitor.stats().incidents.totals.acknowledged).toBe(1);
  });

  it('notes, action items and recorded entries work in any state, resolved included', () => {
    const { clock, monitor } = setup();
    const inc = monitor.incidents.open({ type: 'high-error-rate', severity: 'high', summary: '5xx on /search' });
    const updated: number[] = [];
    monitor.on('incident:updated', () => updated.push(clock.now()));
    monitor.incidents.addNote(inc.id, { by: 'alice', text: 'Started after deploy 412' });
    const item = monitor.incidents.addActionItem(inc.id, { text: 'Add canary for deploys', owner: 'alice' });
    expect(item).toEqual({ id: `${inc.id}-a1`, text: 'Add canary for deploys', owner: 'alice', done: false });
    monitor.incidents.record(inc.id, { kind: 'action', by: 'alice', message: 'Executed disable-rerank', data: { executionId: 'ex_1' } });
    monitor.incidents.resolve(inc.id, { by: 'alice' });
    monitor.incidents.addNote(inc.id, { by: 'bob', text: 'Post-incident: add alert' });
    expect(monitor.incidents.completeActionItem(inc.id, item.id)).toMatchObject({ done: true });
    const after = monitor.incidents.require(inc.id);
    expect(after.notes).toEqual(['Started after deploy 412', 'Post-incident: add alert']);
    expect(after.actionItems).toEqual([{ ...item, done: true }]);
    expect(after.timeline.map((e) => e.kind)).toEqual(['opened', 'note', 'action', 'resolved', 'note']);
    expect(after.timeline[2]!.data).toEqual({ executionId: 'ex_1' });
    expect(updated).toHaveLength(6);
  });

  it('rejects bad input with ValidationError naming the field, unknown ids with NotFoundError', () => {
    const { monitor } = setup();
    const inc = monitor.incidents.open({ type: 'x', severity: 'low', summary: 's' });
    const check = (fn: () => unknown, code: string, pattern?: RegExp) => {
      let err: unknown;
      try {
        fn();
      } catch (e) {
        err = e;
      }
      expect(err).toMatchObject({ code });
      if (pattern !== undefined) expect((err as Error).message).toMatch(pattern);
    };
    check(() => monitor.incidents.open({ type: '', severity: 'huge' as never, summary: 's' }), 'VALIDATION_FAILED', /type: type must not be empty.*severity/);
    check(() => monitor.incidents.acknowledge(inc.id, { by: '' }), 'VALIDATION_FAILED', /by: by must not be empty/);
    check(() => monitor.incidents.addNote(inc.id, { by: 'a', text: '   ' }), 'VALIDATION_FAILED', /text/);
    check(() => monitor.incidents.record(inc.id, { kind: 'resolved' as never, by: 'a', message: 'm' }), 'VALIDATION_FAILED', /kind/);
    check(() => monitor.incidents.list({ status: 'gone' as never }), 'VALIDATION_FAILED', /status/);
    check(() => monitor.incidents.record(inc.id, { kind: 'action', by: 'a', message: 'm', data: { n: 1n } }), 'VALIDATION_FAILED', /data: data must be JSON-serialisable/);
    expect(monitor.incidents.record(inc.id, { kind: 'action', by: 'a', message: 'm', data: { fn: () => 1, ok: 1 } }).timeline.at(-1)!.data).toEqual({ ok: 1 });
    check(() => monitor.incidents.acknowledge('inc_nope', { by: 'a' }), 'NOT_FOUND');
    check(() => monitor.incidents.require('inc_nope'), 'NOT_FOUND');
    check(() => monitor.incidents.completeActionItem(inc.id, 'nope'), 'NOT_FOUND');
    expect(monitor.incidents.get('inc_nope')).toBeUndefined();
    expect(new NotFoundError('incident', 'x')).toBeInstanceOf(Error);
    expect(ValidationError).toBeDefined();
    // The codes above come from the exported classes callers catch by.
    expect(() => monitor.incidents.acknowledge(inc.id, { by: '' })).toThrowError(ValidationError);
    expect(() => monitor.incidents.require('inc_nope')).toThrowError(NotFoundError);
  });

  it('returns copies: mutating a returned incident changes nothing', () => {
    const { monitor } = setup();
    const inc = monitor.incidents.open({ type: 'x', severity: 'low', summary: 'original' });
    inc.summary = 'hacked';
    inc.timeline.length = 0;
    monitor.incidents.list()[0]!.notes.push('sneaky');
    expect(monitor.incidents.require(inc.id)).toMatchObject({ summary: 'original', notes: [] });
    expect(monitor.incidents.require(inc.id).timeline).toHaveLength(1);
  });

  it('filters list() by status, severity and type, newest first', () => {
    const { clock, monitor } = setup();
    const a = monitor.incidents.open({ type: 'high-latency', severity: 'high', summary: 'a' });
    clock.advance(1);
    const b = monitor.incidents.open({ type: 'cache-failure', severity: 'medium', summary: 'b' });
    clock.advance(1);
    const c = monitor.incidents.open({ type: 'high-latency', severity: 'critical', summary: 'c', scope: 'route:GET /x' });
    monitor.incidents.acknowledge(b.id, { by: 'x' });
    monitor.incidents.resolve(a.id, { by: 'x' });
    const ids = (f?: Parameters<Monitor['incidents']['list']>[0]) => monitor.incidents.list(f).map((i) => i.id);
    expect(ids()).toEqual([c.id, b.id, a.id]);
    expect(ids({ status: 'active' })).toEqual([c.id, b.id]);
    expect(ids({ status: 'open' })).toEqual([c.id]);
    expect(ids({ status: 'acknowledged' })).toEqual([b.id]);
    expect(ids({ status: 'resolved' })).toEqual([a.id]);
    expect(ids({ type: 'high-latency' })).toEqual([c.id, a.id]);
    expect(ids({ severity: 'critical' })).toEqual([c.id]);
  });

  it('a manual report for an open (type, scope) joins that incident, raising its severity if higher', () => {
    const { monitor } = setup();
    const first = monitor.incidents.open({ type: 'high-latency', severity: 'medium', summary: 'slow', by: 'alice' });
    const again = monitor.incidents.open({ type: 'high-latency', severity: 'high', summary: 'very slow', by: 'bob' });
    expect(again.id).toBe(first.id);
    expect(again).toMatchObject({ severity: 'high', priority: 'P1' });
    expect(again.timeline.map((e) => [e.kind, e.by])).toEqual([
      ['opened', 'alice'],
      ['note', 'bob'],
      ['escalated', 'bob'],
    ]);
    expect(monitor.incidents.list()).toHaveLength(1);
    expect(monitor.incidents.open({ type: 'high-latency', severity: 'low', summary: 'other scope', scope: 'route:GET /a' }).id).not.toBe(first.id);
  });

  it('procedures() delegates to the provider set by the actions layer', () => {
    const { monitor } = setup();
    const inc = monitor.incidents.open({ type: 'cache-failure', severity: 'medium', summary: 'x' });
    // The monitor's own provider lists the runbook playbook (actions layer, issue 4).
    expect((monitor.incidents.procedures(inc.id) as { action: string }[]).map((s) => s.action)).toEqual(['cache.disable', 'cache.clear']);
    monitor.incidents.setProcedureProvider((i) => (i.type === 'cache-failure' ? [{ action: 'cache.disable' }, { action: 'cache.clear' }] : []));
    expect(monitor.incidents.procedures(inc.id)).toEqual([{ action: 'cache.disable' }, { action: 'cache.clear' }]);
    expect(() => monitor.incidents.procedures('inc_missing')).toThrow(NotFoundError);
  });
});

describe('response-time targets', () => {
  it('an unacknowledged P0 emits incident:overdue once after 15 minutes, and records it', () => {
    const { clock, monitor } = setup();
    const overdue: Incident[] = [];
    monitor.on('incident:overdue', (i) => overdue.push(i));
    const inc = monitor.incidents.open({ type: 'service-down', severity: 'critical', summary: 'down' });
    const acked = monitor.incidents.open({ type: 'service-down', severity: 'critical', summary: 'down too', scope: 'other' });
    monitor.incidents.acknowledge(acked.id, { by: 'alice' });
    const reports = [];
    for (let m = 1; m <= 60; m++) {
      clock.advance(60_000);
      reports.push(monitor.evaluate());
    }
    expect(reports.map((r, i) => (r.incidents.overdue.length > 0 ? i + 1 : 0)).filter(Boolean)).toEqual([15]);
    expect(overdue.map((i) => i.id)).toEqual([inc.id]);
    const after = monitor.incidents.require(inc.id);
    expect(after.overdueAt).toBe(clock.now() - 45 * 60_000);
    expect(after.timeline.filter((e) => e.kind === 'overdue')).toHaveLength(1);
    expect(after.timeline.at(-1)!.message).toMatch(/Not acknowledged within 15 min \(P0/);
    expect(monitor.stats().incidents.open.find((o) => o.id === inc.id)!.overdue).toBe(true);
    expect(monitor.stats().incidents.totals.overdue).toBe(1);
  });

  it('uses each priority’s response time (P3: 24 h) and restarts the clock on reopen', () => {
    const { clock, monitor } = setup();
    const inc = monitor.incidents.open({ type: 'x', severity: 'low', summary: 'minor' });
    clock.advance(24 * 3_600_000 - 1);
    expect(monitor.evaluate().incidents.overdue).toEqual([]);
    clock.advance(1);
    expect(monitor.evaluate().incidents.overdue.map((i) => i.id)).toEqual([inc.id]);
    monitor.incidents.resolve(inc.id, { by: 'a' });
    monitor.incidents.reopen(inc.id, { by: 'a' });
    clock.advance(23 * 3_600_000);
    expect(monitor.evaluate().incidents.overdue).toEqual([]);
    clock.advance(3_600_000);
    expect(monitor.evaluate().incidents.overdue.map((i) => i.id)).toEqual([inc.id]);
  });
});

describe('bounds', () => {
  it('keeps the last maxResolved resolved incidents and counts the evicted ones', () => {
    const { clock, monitor } = setup({ incidents: { maxResolved: 3 } });
    const ids = [];
    for (let i = 0; i < 5; i++) {
      const inc = monitor.incidents.open({ type: 't', severity: 'low', summary: `#${i}`, scope: `s${i}` });
      clock.advance(1_000);
      monitor.incidents.resolve(inc.id, { by: 'a' });
      ids.push(inc.id);
    }
    const open = monitor.incidents.open({ type: 't', severity: 'low', summary: 'still open' });
    expect(monitor.incidents.list({ status: 'resolved' }).map((i) => i.id)).toEqual(ids.slice(2).reverse());
    expect(monitor.incidents.get(ids[0]!)).toBeUndefined();
    expect(monitor.incidents.get(open.id)).toBeDefined();
    expect(monitor.stats().incidents.totals.evicted).toBe(2);
  });

  it('caps active incidents: manual opens throw LimitError, automatic ones are suppressed and counted', () => {
    const { monitor } = setup({ incidents: { maxActive: 2, forMs: 0 } });
    monitor.incidents.open({ type: 't', severity: 'low', summary: 'a', scope: 'a' });
    monitor.incidents.open({ type: 't', severity: 'low', summary: 'b', scope: 'b' });
    expect(() => monitor.incidents.open({ type: 't', severity: 'low', summary: 'c', scope: 'c' })).toThrow(LimitError);
    monitor.detector({ type: 'model-failure', evaluate: () => true });
    expect(monitor.evaluate().incidents.opened).toEqual([]);
    expect(monitor.stats().incidents.totals.suppressed).toBe(1);
  });

  it('caps notes and action items per incident, and the timeline (dropping the oldest after the first)', () => {
    const { monitor } = setup({ incidents: { maxNotes: 2, maxActionItems: 1, maxTimeline: 10 } });
    const inc = monitor.incidents.open({ type: 't', severity: 'low', summary: 'x' });
    monitor.incidents.addNote(inc.id, { by: 'a', text: '1' });
    monitor.incidents.addNote(inc.id, { by: 'a', text: '2' });
    expect(() => monitor.incidents.addNote(inc.id, { by: 'a', text: '3' })).toThrow(LimitError);
    monitor.incidents.addActionItem(inc.id, { text: 'a' });
    expect(() => monitor.incidents.addActionItem(inc.id, { text: 'b' })).toThrow(/Too many action items/);
    for (let i = 0; i < 20; i++) monitor.incidents.record(inc.id, { kind: 'action', by: 'bot', message: `step ${i}` });
    const after = monitor.incidents.require(inc.id);
    expect(after.timeline).toHaveLength(10);
    expect(after.timeline[0]!.kind).toBe('opened');
    expect(after.timeline.at(-1)!.message).toBe('step 19');
    expect(after.timelineDropped).toBe(13);
  });
});

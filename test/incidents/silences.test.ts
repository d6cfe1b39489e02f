// Silences and maintenance windows: matching incidents are recorded with their timelines but
// page nobody and run no auto-remediation; times are on the injected clock.
import { describe, expect, it } from 'vitest';
import { isFirebreakError, type Incident, type Notification } from '../../src/index.js';
import { windowAt } from '../../src/incidents/maintenance.js';
import { flush, setup } from '../actions/helpers.js';

const MIN = 60_000;
const H = 60 * MIN;
const DAY = 24 * H;

function pager() {
  const sent: Notification[] = [];
  return { sent, notifier: { notify: (n: Notification) => void sent.push(n) } };
}

describe('silence matchers', () => {
  it('match on equality, inequality and anchored regexes; every matcher must hold', () => {
    type M = Parameters<ReturnType<typeof setup>['monitor']['silences']['add']>[0]['matchers'];
    // Opens a manual incident under one silence; reports whether the silence held it.
    const silencedBy = (matchers: M, over: { type?: string; scope?: string; severity?: 'high' | 'critical' } = {}) => {
      const { monitor } = setup();
      const s = monitor.silences.add({ matchers, durationMs: H, createdBy: 'alice', comment: 'test' });
      const inc = monitor.incidents.open({ type: over.type ?? 'high-latency', scope: over.scope ?? 'route:GET /search', severity: over.severity ?? 'high', summary: 's', by: 'bob' });
      return inc.suppressed?.by === s.id;
    };
    expect(silencedBy([{ name: 'type', value: 'high-latency' }])).toBe(true);
    expect(silencedBy([{ name: 'type', value: 'high-latency' }], { type: 'slo-burn' })).toBe(false);
    const both: M = [{ name: 'scope', op: '=~', value: 'route:GET /.*' }, { name: 'severity', op: '!=', value: 'critical' }];
    expect(silencedBy(both)).toBe(true);
    expect(silencedBy(both, { severity: 'critical' })).toBe(false);
    expect(silencedBy([{ name: 'scope', op: '=~', value: 'GET' }])).toBe(false); // anchored at both ends
    expect(silencedBy([{ name: 'type', op: '!~', value: 'high-.*' }])).toBe(false);
    expect(silencedBy([{ name: 'type', op: '!~', value: 'high-.*' }], { type: 'slo-burn' })).toBe(true);
    expect(silencedBy([{ name: 'source', value: 'manual' }])).toBe(true);
  });

  it('refuses bad input with a ValidationError naming the field', () => {
    const { monitor } = setup();
    const bad = (input: unknown) => {
      try {
        monitor.silences.add(input as Parameters<typeof monitor.silences.add>[0]);
      } catch (err) {
        expect(isFirebreakError(err, 'VALIDATION_FAILED') || isFirebreakError(err, 'VALIDATION')).toBe(true);
        return (err as Error).message;
      }
      throw new Error('accepted');
    };
    expect(bad({ matchers: [], durationMs: H, createdBy: 'a', comment: 'c' })).toMatch(/matchers/);
    expect(bad({ matchers: [{ name: 'colour', value: 'x' }], durationMs: H, createdBy: 'a', comment: 'c' })).toMatch(/matchers\.0\.name/);
    expect(bad({ matchers: [{ name: 'type', op: '=~', value: '(' }], durationMs: H, createdBy: 'a', comment: 'c' })).toMatch(/matchers\.0\.value/);
    expect(bad({ matchers: [{ name: 'type', value: 'x' }], createdBy: 'a', comment: 'c' })).toMatch(/endsAt/);
    expect(bad({ matchers: [{ name: 'type', value: 'x' }], durationMs: H, comment: 'c' })).toMatch(/createdBy/);
    expect(bad({ matchers: [{ name: 'type', value: 'x' }], durationMs: H, createdBy: 'a', comment: '' })).toMatch(/comment/);
  });

  it('holds from startsAt and stops exactly at endsAt', () => {
    const { clock, monitor } = setup();
    const t0 = clock.now();
    const s = monitor.silences.add({ matchers: [{ name: 'type', value: 'x' }], startsAt: t0 + MIN, endsAt: t0 + 2 * MIN, createdBy: 'alice', comment: 'c' });
    expect(s.state).toBe('pending');
    clock.advance(MIN);
    expect(monitor.silences.get(s.id)!.state).toBe('active');
    clock.advance(MIN - 1);
    expect(monitor.silences.get(s.id)!.state).toBe('active');
    clock.advance(1);
    expect(monitor.silences.get(s.id)!.state).toBe('expired');
    expect(() => monitor.silences.expire(s.id)).toThrow(expect.objectContaining({ code: 'NOT_FOUND' }));
  });

  it('is bounded in count and frees its room when it expires', () => {
    const { monitor } = setup();
    const ids: string[] = [];
    for (let i = 0; i < 1000; i++) ids.push(monitor.silences.add({ matchers: [{ name: 'type', value: `t${i}` }], durationMs: H, createdBy: 'a', comment: 'c' }).id);
    expect(() => monitor.silences.add({ matchers: [{ name: 'type', value: 'one-more' }], durationMs: H, createdBy: 'a', comment: 'c' })).toThrow(
      expect.objectContaining({ code: 'LIMIT_REACHED' }),
    );
    monitor.silences.expire(ids[0]!, 'alice');
    expect(monitor.silences.add({ matchers: [{ name: 'type', value: 'one-more' }], durationMs: H, createdBy: 'a', comment: 'c' }).state).toBe('active');
    expect(monitor.silences.list({ state: 'expired' }).map((s) => s.expiredBy)).toEqual(['alice']);
  });

  it('a silenced incident records its timeline but calls no notifier and runs no remediation; it pages when the silence ends', async () => {
    const p = pager();
    const { clock, monitor } = setup({ incidents: { forMs: 0, clearForMs: 0 }, notifiers: [p.notifier], autoRemediate: true });
    const cache = monitor.cache('search', { max: 10 });
    cache.set('k', 1);
    const s = monitor.silences.add({ matchers: [{ name: 'type', value: 'memory-exhaustion' }], durationMs: 10 * MIN, createdBy: 'alice', comment: 'load test' });
    const suppressed: Incident[] = [];
    monitor.on('incident:suppressed', (i) => suppressed.push(i));
    monitor.detector({ name: 'mem', type: 'memory-exhaustion', evaluate: () => 'high' });
    monitor.evaluate();
    await flush();
    await monitor.flush();
    await monitor.remediation.settled();
    const inc = monitor.incidents.list({ type: 'memory-exhaustion' })[0]!;
    expect(inc.status).toBe('open');
    expect(inc.suppressed).toMatchObject({ kind: 'silence', by: s.id });
    expect(inc.timeline.find((e) => e.kind === 'suppressed')!.message).toContain(`silenced by ${s.id}`);
    expect(p.sent).toEqual([]);
    expect(suppressed.map((i) => i.id)).toEqual([inc.id]);
    expect(monitor.remediation.stats().runs).toBe(0);
    expect(cache.has('k')).toBe(true);

    clock.advance(10 * MIN); // exactly at endsAt
    monitor.evaluate();
    await flush();
    await monitor.flush();
    await monitor.remediation.settled();
    expect(p.sent.map((n) => n.event)).toEqual(['incident:opened']);
    expect(monitor.remediation.stats().runs).toBe(1);
    expect(cache.has('k')).toBe(false);
    expect(monitor.incidents.require(inc.id).timeline.map((e) => e.kind)).toEqual(['detected', 'opened', 'suppressed', 'unsuppressed', 'action']);
  });

  it('a silence added after the page mutes the escalation and its remediation', async () => {
    const p = pager();
    const { clock, monitor } = setup({ incidents: { forMs: 0 }, notifiers: [p.notifier] });
    let sev: 'medium' | 'critical' = 'medium';
    monitor.detector({ name: 'lat', type: 'high-latency', evaluate: () => sev });
    monitor.evaluate();
    await monitor.flush();
    expect(p.sent.map((n) => n.event)).toEqual(['incident:opened']);
    monitor.silences.add({ matchers: [{ name: 'type', value: 'high-latency' }], durationMs: H, createdBy: 'bob', comment: 'known' });
    sev = 'critical';
    clock.advance(10_000);
    monitor.evaluate();
    await monitor.flush();
    expect(p.sent.map((n) => n.event)).toEqual(['incident:opened']);
    expect(monitor.incidents.list()[0]!.severity).toBe('critical');
  });
});

describe('maintenance windows', () => {
  it('a daily window across midnight holds from its start until just before its end, every day', () => {
    const day = Date.UTC(2030, 0, 7); // a Monday
    const w = { daily: { at: '23:30', durationMs: H } };
    expect(windowAt(w, day + 23 * H + 29 * MIN).activeUntil).toBeUndefined();
    expect(windowAt(w, day + 23 * H + 29 * MIN).nextStartAt).toBe(day + 23 * H + 30 * MIN);
    expect(windowAt(w, day + 23 * H + 30 * MIN).activeUntil).toBe(day + DAY + 30 * MIN);
    expect(windowAt(w, day + DAY + 29 * MIN).activeUntil).toBe(day + DAY + 30 * MIN); // after midnight
    expect(windowAt(w, day + DAY + 30 * MIN).activeUntil).toBeUndefined(); // exactly at the end
    expect(windowAt(w, day + 5 * DAY + 23 * H + 45 * MIN).activeUntil).toBe(day + 6 * DAY + 30 * MIN);
  });

  it('a weekly window opens only on its days', () => {
    const monday = Date.UTC(2030, 0, 7);
    const w = { weekly: { days: ['sat' as const, 'sun' as const], at: '22:00', durationMs: 4 * H } };
    expect(windowAt(w, monday + 22 * H).activeUntil).toBeUndefined();
    expect(windowAt(w, monday + 22 * H).nextStartAt).toBe(monday + 5 * DAY + 22 * H); // Saturday
    expect(windowAt(w, monday + 5 * DAY + 23 * H).activeUntil).toBe(monday + 6 * DAY + 2 * H);
    expect(windowAt(w, monday + 7 * DAY + H).activeUntil).toBe(monday + 7 * DAY + 2 * H); // Sunday's, into Monday
    expect(windowAt(w, monday + 7 * DAY + 2 * H).activeUntil).toBeUndefined();
  });

  it('holds pages for the incidents it covers and lets them page once removed; validates the schedule', async () => {
    const p = pager();
    const { monitor } = setup({ incidents: { forMs: 0 }, notifiers: [p.notifier] });
    const now = monitor.clock.now();
    const w = monitor.maintenance.add({ name: 'db upgrade', once: { startsAt: now, endsAt: now + H }, matchers: [{ name: 'type', value: 'dependency-failure' }], createdBy: 'alice' });
    expect(monitor.maintenance.list()).toMatchObject([{ id: w.id, active: true, activeUntil: now + H }]);
    monitor.detector({ name: 'db', type: 'dependency-failure', evaluate: () => 'critical' });
    monitor.detector({ name: 'lat', type: 'high-latency', evaluate: () => 'high' });
    monitor.evaluate();
    await monitor.flush();
    expect(p.sent.map((n) => n.incident.type)).toEqual(['high-latency']);
    const db = monitor.incidents.list({ type: 'dependency-failure' })[0]!;
    expect(db.suppressed).toMatchObject({ kind: 'maintenance', by: w.id });
    monitor.maintenance.remove(w.id);
    await monitor.flush();
    expect(p.sent.map((n) => n.incident.type)).toEqual(['high-latency', 'dependency-failure']);
    expect(() => monitor.maintenance.add({ name: 'x', createdBy: 'a' })).toThrow(/once/);
    expect(() => monitor.maintenance.add({ name: 'x', daily: { at: '25:00', durationMs: H }, createdBy: 'a' })).toThrow(/daily\.at/);
    expect(() => monitor.maintenance.remove('mw_nope')).toThrow(expect.objectContaining({ code: 'NOT_FOUND' }));
  });
});


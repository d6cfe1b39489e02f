import { describe, expect, it } from 'vitest';
import type { Incident } from '../../src/index.js';
import { setup, step, steps, STEP_MS } from './helpers.js';

const S = 1_000;

describe('latency spike: one incident, escalation, recovery (runbook preset, forMs 60 s, clearForMs 120 s)', () => {
  it('opens exactly one high-latency incident after forMs, escalates to critical at 6000 ms, resolves after clearForMs', () => {
    const { clock, monitor } = setup({ preset: 'runbook' });
    const events: string[] = [];
    for (const e of ['incident:opened', 'incident:escalated', 'incident:resolved', 'incident:reopened'] as const) {
      monitor.on(e, (i: Incident) => events.push(`${e} ${i.severity} @${(clock.now() - T1) / S}`));
    }
    // 5 minutes of healthy traffic fill the 5-minute window (20 requests every 10 s).
    steps(clock, monitor, 30, 100);
    const T1 = clock.now();

    // Spike to 2500 ms for 3 minutes. At T1 the spike is 20 of 600 samples (p95 still 100 ms);
    // from T1+10 s it is over 5 % of the window, so p95 reads 2500 ms (> 2000 ms: high).
    const spike = steps(clock, monitor, 18, 2500);
    expect(spike[0]!.incidents.opened).toHaveLength(0);
    const pendingAt = spike[3]!; // T1+30 s: seen for 20 s, not yet 60 s
    expect(pendingAt.incidents.opened).toHaveLength(0);
    const openedIn = spike.findIndex((r) => r.incidents.opened.length > 0);
    expect(openedIn * STEP_MS).toBe(70 * S); // first seen at T1+10 s, + forMs 60 s
    const opened = spike[openedIn]!.incidents.opened[0]!;
    expect(opened).toMatchObject({ type: 'high-latency', scope: 'service', severity: 'high', priority: 'P1', status: 'open', source: 'auto', detector: 'latency' });
    expect(opened.detectedAt).toBe(T1 + 10 * S);
    expect(opened.openedAt).toBe(T1 + 70 * S);
    expect(opened.signalAtOpen).toMatchObject({ name: 'p95 latency', unit: 'ms', threshold: 2000 });
    expect(Math.abs(opened.signalAtOpen!.value - 2500) / 2500).toBeLessThanOrEqual(0.01);

    // 6000 ms for one minute: p95 crosses 5000 ms at T1+190 s and escalates at once.
    const worse = steps(clock, monitor, 6, 6000);
    const escalatedIn = worse.findIndex((r) => r.incidents.escalated.length > 0);
    expect(T1 + 180 * S + escalatedIn * STEP_MS).toBe(T1 + 190 * S);
    expect(worse[escalatedIn]!.incidents.escalated[0]).toMatchObject({ severity: 'critical', priority: 'P0' });

    // Recovery: p95 stays critical while two 6000 ms slots are in the window (until T1+510 s),
    // reads clear from T1+520 s, and the incident resolves after 120 s clear, at T1+640 s.
    const recovery = steps(clock, monitor, 45, 100);
    const resolvedIn = recovery.findIndex((r) => r.incidents.resolved.length > 0);
    expect(T1 + 240 * S + resolvedIn * STEP_MS).toBe(T1 + 640 * S);
    expect(recovery.slice(0, resolvedIn).every((r) => r.incidents.deescalated.length === 0)).toBe(true);

    const all = monitor.incidents.list();
    expect(all).toHaveLength(1);
    const inc = all[0]!;
    expect(inc).toMatchObject({ status: 'resolved', severity: 'critical', resolvedBy: 'firebreak', durationMs: 570 * S, reopenCount: 0 });
    expect(inc.timeline.map((e) => [e.kind, (e.at - T1) / S])).toEqual([
      ['detected', 10],
      ['opened', 70],
      ['escalated', 190],
      ['resolved', 640],
    ]);
    expect(inc.signalPeak!.value).toBeGreaterThan(5900);
    expect(events).toEqual(['incident:opened high @70', 'incident:escalated critical @190', 'incident:resolved critical @640']);
  });

  it('shows the pending condition in stats().incidents while forMs has not elapsed', () => {
    const { clock, monitor } = setup({ preset: 'runbook' });
    steps(clock, monitor, 3, 2500); // t0, +10 s, +20 s: seen since t0
    const t0 = clock.now() - 30 * S;
    const stats = monitor.stats().incidents;
    expect(stats.active).toBe(0);
    expect(stats.pending).toEqual([{ type: 'high-latency', scope: 'service', detector: 'latency', severity: 'high', since: t0, opensAt: t0 + 60 * S }]);
    steps(clock, monitor, 4, 2500);
    const after = monitor.stats().incidents;
    expect(after.pending).toEqual([]);
    expect(after.open).toEqual([expect.objectContaining({ type: 'high-latency', severity: 'high', status: 'open', overdue: false })]);
  });

  it('needs the minimum sample count: a few slow requests open nothing', () => {
    const { clock, monitor } = setup({ preset: 'runbook', minSamples: 20 });
    steps(clock, monitor, 30, 9000, { n: 0 }); // nothing
    for (let i = 0; i < 12; i++) step(clock, monitor, 9000, { n: 1 });
    expect(monitor.stats().incidents.pending).toEqual([]);
    expect(monitor.incidents.list()).toEqual([]);
  });
});

describe('no flapping', () => {
  function oscillating(values: number[]) {
    let i = 0;
    return () => values[i++ % values.length]!;
  }

  it('a signal oscillating around the threshold every evaluation never holds for forMs: no incident', () => {
    const { clock, monitor } = setup();
    monitor.detector({ type: 'model-drift', evaluate: oscillating([1900, 2100]), thresholds: { high: 2000 } });
    let pendingSeen = 0;
    for (let i = 0; i < 120; i++) {
      const r = monitor.evaluate();
      expect(r.incidents.opened).toEqual([]);
      if (monitor.stats().incidents.pending.length > 0) pendingSeen++;
      clock.advance(STEP_MS);
    }
    expect(pendingSeen).toBe(60); // visible every other evaluation, reset by each clear reading
    expect(monitor.incidents.list()).toEqual([]);
  });

  it('with forMs 0 it opens once, and the oscillation neither resolves nor reopens it', () => {
    const { clock, monitor } = setup();
    monitor.detector({ type: 'model-drift', evaluate: oscillating([2100, 1900]), thresholds: { high: 2000 }, forMs: 0 });
    const changes = { opened: 0, resolved: 0, reopened: 0 };
    for (let i = 0; i < 120; i++) {
      const r = monitor.evaluate();
      changes.opened += r.incidents.opened.length;
      changes.resolved += r.incidents.resolved.length;
      changes.reopened += r.incidents.reopened.length;
      clock.advance(STEP_MS);
    }
    expect(changes).toEqual({ opened: 1, resolved: 0, reopened: 0 });
    expect(monitor.incidents.list()).toHaveLength(1);
    expect(monitor.incidents.list()[0]!.status).toBe('open');
  });

  it('severity rises at once but drops only after the clear window, to the worst severity seen in it', () => {
    const { clock, monitor } = setup();
    let value = 2500;
    monitor.detector({ type: 'queue-depth', evaluate: () => value, thresholds: { medium: 1000, high: 2000, critical: 5000 }, forMs: 0, clearForMs: 60_000 });
    expect(monitor.evaluate().incidents.opened[0]!.severity).toBe('high');
    clock.advance(STEP_MS);
    value = 6000;
    expect(monitor.evaluate().incidents.escalated[0]!.severity).toBe('critical');
    const downAt = clock.now() + STEP_MS;
    const seen: string[] = [];
    for (const v of [1500, 2500, 1500, 1500, 1500, 1500, 1500, 1500]) {
      clock.advance(STEP_MS);
      value = v;
      const r = monitor.evaluate();
      for (const i of r.incidents.deescalated) seen.push(`${i.severity} @${(clock.now() - downAt) / S}`);
      expect(r.incidents.escalated).toEqual([]);
    }
    // Lower since downAt; the worst seen in the 60 s window was high (2500).
    expect(seen).toEqual(['high @60']);
    expect(monitor.incidents.list()[0]!.timeline.filter((e) => e.kind === 'deescalated')).toHaveLength(1);
  });

  it('re-firing within reopenWithinMs reopens the same incident; later it opens a new one', () => {
    const { clock, monitor } = setup({ incidents: { forMs: 0, clearForMs: 30_000, reopenWithinMs: 600_000 } });
    let failing = true;
    monitor.detector({ type: 'model-failure', evaluate: () => failing, severity: 'high' });
    const reopened: Incident[] = [];
    monitor.on('incident:reopened', (i) => reopened.push(i));
    const first = monitor.evaluate().incidents.opened[0]!;
    failing = false;
    clock.advance(STEP_MS);
    monitor.evaluate();
    clock.advance(30_000);
    expect(monitor.evaluate().incidents.resolved[0]!.id).toBe(first.id);

    clock.advance(5 * 60_000);
    failing = true;
    const r = monitor.evaluate();
    expect(r.incidents.opened).toEqual([]);
    expect(r.incidents.reopened.map((i) => i.id)).toEqual([first.id]);
    expect(reopened).toHaveLength(1);
    const inc = monitor.incidents.get(first.id)!;
    expect(inc).toMatchObject({ status: 'open', reopenCount: 1 });
    expect(inc.resolvedAt).toBeUndefined();
    expect(inc.timeline.map((e) => e.kind)).toEqual(['detected', 'opened', 'resolved', 'reopened']);

    failing = false;
    clock.advance(STEP_MS);
    monitor.evaluate();
    clock.advance(30_000);
    monitor.evaluate();
    clock.advance(11 * 60_000); // past reopenWithinMs
    failing = true;
    const later = monitor.evaluate();
    expect(later.incidents.reopened).toEqual([]);
    expect(later.incidents.opened).toHaveLength(1);
    expect(later.incidents.opened[0]!.id).not.toBe(first.id);
    expect(later.incidents.opened[0]!.id > first.id).toBe(true); // ids sort by time
  });

  it('no data neither opens nor resolves: a gap restarts the pending wait and keeps an incident open', () => {
    const { clock, monitor } = setup({ incidents: { forMs: 30_000, clearForMs: 30_000 } });
    let reading: number | null = 10;
    monitor.detector({ type: 'disk-space-low', evaluate: () => reading, direction: 'below', thresholds: { high: 20 } });
    monitor.evaluate();
    clock.advance(20_000);
    reading = null;
    monitor.evaluate();
    clock.advance(20_000);
    reading = 10;
    expect(monitor.evaluate().incidents.opened).toEqual([]); // 40 s since first seen, but the gap reset it
    clock.advance(30_000);
    expect(monitor.evaluate().incidents.opened).toHaveLength(1);
    reading = null;
    for (let i = 0; i < 20; i++) {
      clock.advance(STEP_MS);
      expect(monitor.evaluate().incidents.resolved).toEqual([]);
    }
    expect(monitor.incidents.list({ status: 'active' })).toHaveLength(1);
  });
});

describe('detectors and people working the same incident', () => {
  it('a detector adopts a manual incident of its (type, scope) but never auto-resolves it: it notes the recovery once', () => {
    const { clock, monitor } = setup({ incidents: { forMs: 0, clearForMs: 20_000 } });
    let failing = true;
    monitor.detector({ type: 'model-failure', evaluate: () => failing });
    const manual = monitor.incidents.open({ type: 'model-failure', severity: 'medium', summary: 'Reranker errors reported by support', by: 'carol' });
    const r = monitor.evaluate();
    expect(r.incidents.opened).toEqual([]);
    expect(r.incidents.escalated.map((i) => [i.id, i.severity])).toEqual([[manual.id, 'high']]);
    failing = false;
    for (let i = 0; i < 10; i++) {
      clock.advance(10_000);
      expect(monitor.evaluate().incidents.resolved).toEqual([]);
    }
    const after = monitor.incidents.require(manual.id);
    expect(after.status).toBe('open');
    expect(after.timeline.filter((e) => e.kind === 'recovered').map((e) => e.message)).toEqual(['Signal clear for 20 s']);
  });

  it('with autoResolve: false automatic incidents stay open too', () => {
    const { clock, monitor } = setup({ incidents: { forMs: 0, clearForMs: 10_000, autoResolve: false } });
    let failing = true;
    monitor.detector({ type: 'model-failure', evaluate: () => failing });
    monitor.evaluate();
    failing = false;
    for (let i = 0; i < 5; i++) {
      clock.advance(10_000);
      monitor.evaluate();
    }
    expect(monitor.incidents.list()[0]).toMatchObject({ status: 'open' });
  });

  it('resolved by hand while still firing: it reopens after forMs (within reopenWithinMs)', () => {
    const { clock, monitor } = setup({ incidents: { forMs: 20_000 } });
    monitor.detector({ type: 'model-failure', evaluate: () => true });
    for (let i = 0; i < 3; i++) {
      monitor.evaluate();
      clock.advance(10_000);
    }
    const [inc] = monitor.incidents.list();
    monitor.incidents.resolve(inc!.id, { by: 'alice', notes: 'I think it is fine' });
    const reopenedAt: number[] = [];
    for (let i = 0; i < 4; i++) {
      if (monitor.evaluate().incidents.reopened.length > 0) reopenedAt.push(i);
      clock.advance(10_000);
    }
    expect(reopenedAt).toEqual([2]); // seen again at 0, held 20 s at 2
    expect(monitor.incidents.list()).toHaveLength(1);
    expect(monitor.incidents.list()[0]).toMatchObject({ status: 'open', reopenCount: 1 });
  });
});

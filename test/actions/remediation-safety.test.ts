// Issue 12, "decisions an on-call can trust": remediation that cannot hurt. Every story runs on a
// ManualClock: no sleeping, every step at a known clock time.
import { describe, expect, it } from 'vitest';
import { createMonitor, type Incident, type MonitorOptions } from '../../src/index.js';
import type { ProcedureStep } from '../../src/actions/procedures.js';
import { ManualClock } from '../../src/testing/index.js';
import { fixedProbes, flush } from './helpers.js';

function world(extra: Partial<MonitorOptions> = {}) {
  const clock = new ManualClock();
  const monitor = createMonitor({
    service: 'search-api',
    clock,
    probes: fixedProbes,
    window: { durationMs: 60_000, slotMs: 10_000 },
    incidents: { forMs: 10_000, clearForMs: 30_000 },
    autoRemediate: true,
    ...extra,
  });
  const escalated: Incident[] = [];
  monitor.on('incident:escalated', (i) => escalated.push(i));
  return { clock, monitor, escalated, t0: clock.now() };
}

async function tick(clock: ManualClock, ms: number): Promise<void> {
  clock.advance(ms);
  await flush();
}

describe('finding 3: a bypassed source is no signal', () => {
  it('a forced fallback does not escalate over 10 minutes with no call to the primary', async () => {
    const { clock, monitor, escalated, t0 } = world();
    let broken = false;
    const ranker = monitor.fallback('ranker', {
      primary: () => {
        if (broken) throw new Error('model OOM');
        return 'rerank';
      },
      fallback: () => 'hybrid',
    });
    monitor.start();
    // 4 healthy minutes, then the model breaks: the failure share climbs past 5 % and the incident opens.
    for (let s = 0; s < 24; s++) {
      for (let i = 0; i < 20; i++) await ranker.run();
      await tick(clock, 10_000);
    }
    broken = true;
    while (!ranker.isForced() && clock.now() - t0 < 600_000) {
      for (let i = 0; i < 20; i++) await ranker.run();
      await tick(clock, 10_000);
    }
    expect(ranker.isForced()).toBe(true);
    const [incident] = monitor.incidents.list({ status: 'active' });
    expect(incident?.type).toBe('model-failure');
    const severity = incident!.severity;
    const primaryCalls = ranker.stats().primaryCalls;
    // Ten more minutes of traffic, all answered by the fallback: the primary is never called.
    for (let s = 0; s < 60; s++) {
      for (let i = 0; i < 20; i++) await ranker.run();
      await tick(clock, 10_000);
    }
    monitor.stop();
    expect(ranker.stats().primaryCalls).toBe(primaryCalls);
    expect(escalated).toEqual([]);
    expect(monitor.incidents.get(incident!.id)).toMatchObject({ severity, status: expect.not.stringMatching('resolved') });
  });

  it('with probes, a recovered primary resolves the incident and the fallback is reverted automatically', async () => {
    const { clock, monitor } = world({ autoRemediate: { revertAfterMs: 60_000 } });
    let broken = true;
    const ranker = monitor.fallback('ranker', {
      primary: () => {
        if (broken) throw new Error('model OOM');
        return 'rerank';
      },
      fallback: () => 'hybrid',
      probe: { share: 0.05, minIntervalMs: 1_000 },
    });
    monitor.start();
    for (let s = 0; s < 6 && !ranker.isForced(); s++) {
      for (let i = 0; i < 20; i++) await ranker.run();
      await tick(clock, 10_000);
    }
    expect(ranker.isForced()).toBe(true);
    const [incident] = monitor.incidents.list({ status: 'active' });
    broken = false; // the model comes back; only probes can tell
    for (let s = 0; s < 60 && ranker.isForced(); s++) {
      for (let i = 0; i < 20; i++) await ranker.run();
      await tick(clock, 10_000);
    }
    await monitor.remediation.settled();
    monitor.stop();
    expect(monitor.incidents.get(incident!.id)?.status).toBe('resolved');
    expect(ranker.isForced()).toBe(false);
    expect(ranker.stats().probes).toBeGreaterThan(0);
  });
});

describe('finding 4: a shared first step is a linked no-op, not a failure', () => {
  it('high-latency and model-failure opening together both show model.fallback done', async () => {
    const { clock, monitor } = world({ preset: 'runbook', detectors: [{ kind: 'cpu', enabled: false }, { kind: 'event-loop-delay', enabled: false }] });
    const ranker = monitor.fallback('ranker', {
      primary: () => {
        throw new Error('reranker slower than the fallback timeout');
      },
      fallback: () => 'hybrid',
    });
    monitor.start();
    for (let s = 0; s < 6 && monitor.incidents.list({ status: 'active' }).length < 2; s++) {
      for (let i = 0; i < 20; i++) {
        await ranker.run();
        monitor.recordRequest({ route: 'GET /search', durationMs: 2500, status: 200 });
      }
      await tick(clock, 10_000);
    }
    await monitor.remediation.settled();
    monitor.stop();
    const active = monitor.incidents.list({ status: 'active' });
    expect(active.map((i) => i.type).sort()).toEqual(['high-latency', 'model-failure']);
    const steps = monitor.remediation.stats().recentRuns.map((r) => r.steps[0]!);
    expect(steps.map((s) => s.result).sort()).toEqual(['executed', 'noop']);
    const linked = steps.find((s) => s.result === 'noop')!;
    expect(linked.reason).toMatch(/^already applied by inc_/);
    for (const i of active) {
      const timeline = monitor.incidents.get(i.id)!.timeline.map((e) => e.message ?? '');
      expect(timeline.some((m) => m.includes('could not run'))).toBe(false);
      const [first] = monitor.incidents.procedures(i.id) as ProcedureStep[];
      expect(first).toMatchObject({ action: 'model.fallback', status: 'done' });
    }
  });
});

/** The demo's traffic: 5 clients, 5 requests a second each, through a 100/s limiter, recorded as the middleware does. */
async function demoTraffic(clock: ManualClock, monitor: ReturnType<typeof world>['monitor'], limiter: ReturnType<ReturnType<typeof world>['monitor']['rateLimiter']>, seconds: number, extra: (s: number) => void = () => {}) {
  for (let s = 0; s < seconds; s++) {
    for (let r = 0; r < 5; r++) {
      for (let c = 0; c < 5; c++) {
        const v = limiter.check(`client-${c}`);
        monitor.recordRequest({ route: 'GET /search', durationMs: 40, status: v.allowed ? 200 : 429 });
      }
    }
    extra(s);
    await tick(clock, 1_000);
  }
}

describe('finding 5: remediation does not feed on its own effects', () => {
  const demo = (): Partial<MonitorOptions> => ({
    preset: 'runbook',
    detectors: [{ kind: 'cpu', enabled: false }, { kind: 'event-loop-delay', enabled: false }],
    window: { durationMs: 8_000, slotMs: 500 },
    evaluateEveryMs: 500,
    minSamples: 10,
    incidents: { forMs: 2_000, clearForMs: 3_000, reopenWithinMs: 1_000 },
    autoRemediate: { cooldownMs: 1_000, revertAfterMs: 1_500 },
  });

  it("the demo's 10/hour adjust is not tightened further by firebreak", async () => {
    const { clock, monitor } = world(demo());
    const limiter = monitor.rateLimiter('api', { maxRequests: 100, windowSeconds: 1 });
    monitor.start();
    await demoTraffic(clock, monitor, limiter, 5);
    await monitor.actions.execute('rate-limit.adjust', { params: { maxRequests: 10, windowSeconds: 3600 }, by: 'alice' });
    await demoTraffic(clock, monitor, limiter, 60);
    await monitor.remediation.settled();
    monitor.stop();
    expect(limiter.current()).toEqual({ maxRequests: 10, windowSeconds: 3600 });
    expect(monitor.actions.audit({ action: 'rate-limit.tighten', outcome: 'success' })).toEqual([]);
  });

  it('with defaults an attack is tightened once, then the incident clears and the revert comes', async () => {
    const { clock, monitor } = world({ incidents: { forMs: 10_000, clearForMs: 30_000 }, autoRemediate: { revertAfterMs: 60_000 } });
    const limiter = monitor.rateLimiter('api', { maxRequests: 100, windowSeconds: 60 });
    monitor.start();
    // 5 clients at 72/min (under the limit, over half of it); an attacker at 600/min for 2 minutes.
    for (let s = 0; s < 60; s++) {
      for (let c = 0; c < 5; c++) for (let i = 0; i < 12; i++) limiter.check(`client-${c}`);
      if (s < 12) for (let i = 0; i < 100; i++) limiter.check('attacker');
      await tick(clock, 10_000);
    }
    await monitor.remediation.settled();
    monitor.stop();
    expect(monitor.actions.audit({ action: 'rate-limit.tighten', kind: 'execute' }).filter((e) => e.outcome === 'success')).toHaveLength(1);
    const [incident] = monitor.incidents.list({ type: 'rate-limit-attack' });
    expect(incident?.status).toBe('resolved');
    expect(limiter.current().maxRequests).toBe(100);
  });

  it('a revert never overwrites a change a person made after the auto step', async () => {
    const { clock, monitor } = world();
    const limiter = monitor.rateLimiter('api', { maxRequests: 100, windowSeconds: 60, minMaxRequests: 1 });
    await monitor.actions.execute('rate-limit.adjust', { params: { maxRequests: 10, windowSeconds: 3600 }, by: 'alice' });
    // A real attack: one key offering more than the configured 100/min (6,000 per hour).
    for (let i = 0; i < 6_100; i++) limiter.check('attacker');
    const auto = await monitor.actions.execute('rate-limit.tighten', { params: { factor: 0.5 }, by: 'firebreak', source: 'auto' });
    expect(limiter.current().maxRequests).toBe(5);
    await monitor.actions.execute('rate-limit.adjust', { params: { maxRequests: 100, windowSeconds: 60 }, by: 'alice' });
    const after = await monitor.actions.revert(auto.id, { by: 'firebreak' });
    expect(after.revert?.outcome).toBe('noop');
    expect(limiter.current()).toEqual({ maxRequests: 100, windowSeconds: 60 });
    await tick(clock, 1);
  });

  it('tighten never goes below the floor', async () => {
    const { monitor } = world();
    const limiter = monitor.rateLimiter('api', { maxRequests: 100, windowSeconds: 60, minMaxRequests: 30 });
    await monitor.actions.execute('rate-limit.tighten', { params: { factor: 0.5 } });
    const second = await monitor.actions.execute('rate-limit.tighten', { params: { factor: 0.5 } });
    expect(limiter.current().maxRequests).toBe(30);
    const third = await monitor.actions.execute('rate-limit.tighten', { params: { factor: 0.5 } });
    expect([second.outcome, third.outcome]).toEqual(['success', 'noop']);
    expect(limiter.current().maxRequests).toBe(30);
  });
});

describe('closed loop', () => {
  it('an auto step that does not help is reverted and the incident handed to a person', async () => {
    const { clock, monitor } = world({
      playbooks: { 'model-failure': [{ action: 'feature.disable', params: { name: 'recommendations' }, mode: 'auto' }] },
      autoRemediate: { verifyAfterMs: 120_000 },
    });
    const recs = monitor.feature('recommendations');
    const handed: unknown[] = [];
    monitor.on('remediation:handed-over', (h) => handed.push(h));
    monitor.start(); // verification rides on evaluations
    const incident = monitor.incidents.open({ type: 'model-failure', severity: 'high', summary: 'model down' });
    await flush();
    expect(recs.isEnabled()).toBe(false);
    await tick(clock, 119_000);
    expect(recs.isEnabled()).toBe(false);
    await tick(clock, 1_000);
    await monitor.remediation.settled();
    expect(recs.isEnabled()).toBe(true);
    expect(handed).toEqual([expect.objectContaining({ incidentId: incident.id, action: 'feature.disable' })]);
    const messages = monitor.incidents.get(incident.id)!.timeline.map((e) => e.message ?? '');
    expect(messages).toContain('auto step feature.disable did not help; reverted; needs a person');
    expect(monitor.remediation.stats().handedOver).toBe(1);
    monitor.stop();
  });

  it('a step whose incident improved is kept', async () => {
    const { clock, monitor } = world({
      playbooks: { 'model-failure': [{ action: 'feature.disable', params: { name: 'recommendations' }, mode: 'auto' }] },
      autoRemediate: { verifyAfterMs: 120_000 },
    });
    const recs = monitor.feature('recommendations');
    monitor.start(); // verification rides on evaluations
    const incident = monitor.incidents.open({ type: 'model-failure', severity: 'high', summary: 'model down' });
    await flush();
    monitor.incidents.resolve(incident.id, { notes: 'fixed', by: 'alice' });
    await tick(clock, 120_000);
    await monitor.remediation.settled();
    expect(monitor.remediation.stats().handedOver).toBe(0);
    expect(recs.isEnabled()).toBe(false);
    monitor.stop();
  });

  it('a global budget caps auto actions per hour', async () => {
    const { monitor } = world({
      playbooks: { 'model-failure': [{ action: 'feature.disable', params: (i) => ({ name: i.scope }), mode: 'auto' }] },
      autoRemediate: { maxActionsPerHour: 2 },
    });
    for (const name of ['a', 'b', 'c']) monitor.feature(name);
    for (const name of ['a', 'b', 'c']) monitor.incidents.open({ type: 'model-failure', scope: name, severity: 'high', summary: name });
    await monitor.remediation.settled();
    expect(['a', 'b', 'c'].map((n) => monitor.feature(n).isEnabled())).toEqual([false, false, true]);
    const last = monitor.remediation.stats().recentRuns.at(-1)!;
    expect(last.steps[0]).toMatchObject({ result: 'skipped', reason: expect.stringMatching(/budget/) });
  });
});

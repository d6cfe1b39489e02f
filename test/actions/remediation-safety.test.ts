// Issue 12, "decisions an on-call can trust": remediation that cannot hurt. Every story runs on a
// ManualClock: no sleeping, every step at a known clock time.
import { describe, expect, it } from 'vitest';
import { ConfigError, createMonitor, type Incident, type MonitorOptions } from '../../src/index.js';
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

describe('finding 3 (canary): a stopped canary is no signal; probes may only clear it', () => {
  /** One second of traffic: `perSecond` users, each assigned and recorded as the canary's host would. */
  async function traffic(clock: ManualClock, canary: ReturnType<ReturnType<typeof world>['monitor']['canary']>, seconds: number, canaryOutcome: () => { durationMs: number; status: number }, from = { n: 0 }) {
    let canaryHits = 0;
    for (let s = 0; s < seconds; s++) {
      for (let i = 0; i < 20; i++) {
        const arm = canary.assign(`user-${from.n++}`);
        if (arm === 'canary') canaryHits++;
        canary.record(arm, { route: 'GET /search', ...(arm === 'canary' ? canaryOutcome() : { durationMs: 100, status: 200 }) });
      }
      await tick(clock, 1_000);
    }
    return canaryHits;
  }
  const failing = () => ({ durationMs: 100, status: 500 });
  const healthy = () => ({ durationMs: 100, status: 200 });

  /** Runs failing traffic until the canary-failure incident opened and auto-remediation stopped the canary. */
  async function stopped(clock: ManualClock, monitor: ReturnType<typeof world>['monitor'], canary: ReturnType<ReturnType<typeof world>['monitor']['canary']>, outcome: () => { durationMs: number; status: number }, from: { n: number }) {
    for (let s = 0; s < 12 && !canary.isStopped(); s++) await traffic(clock, canary, 10, outcome, from);
    await monitor.remediation.settled();
    expect(canary.isStopped()).toBe(true);
    const [incident] = monitor.incidents.list({ status: 'active' });
    expect(incident).toMatchObject({ type: 'canary-failure', scope: `canary:${canary.name}` });
    return incident!;
  }

  it('a stopped canary without probes gets no traffic and does not escalate over 10 minutes', async () => {
    const { clock, monitor, escalated } = world();
    const canary = monitor.canary('new-index', { percent: 10 });
    monitor.start();
    const from = { n: 0 };
    const incident = await stopped(clock, monitor, canary, failing, from);
    const before = escalated.length;
    const hits = await traffic(clock, canary, 600, failing, from);
    await monitor.remediation.settled();
    monitor.stop();
    expect(hits).toBe(0);
    expect(canary.stats().probes).toBe(0);
    expect(escalated.length).toBe(before);
    expect(monitor.incidents.get(incident.id)).toMatchObject({ severity: incident.severity, status: expect.not.stringMatching('resolved') });
    expect(canary.isStopped()).toBe(true);
  });

  it('with probes, a recovered canary resolves the incident and the stop is reverted automatically', async () => {
    const { clock, monitor } = world({ autoRemediate: { revertAfterMs: 60_000 } });
    const canary = monitor.canary('new-index', { percent: 10, probe: { share: 0.05, minIntervalMs: 1_000 } });
    monitor.start();
    const from = { n: 0 };
    const incident = await stopped(clock, monitor, canary, failing, from);
    // The canary is fixed; with everything on stable, only probes can tell.
    for (let s = 0; s < 60 && canary.isStopped(); s++) await traffic(clock, canary, 10, healthy, from);
    await monitor.remediation.settled();
    monitor.stop();
    expect(monitor.incidents.get(incident.id)?.status).toBe('resolved');
    expect(canary.isStopped()).toBe(false);
    expect(canary.stats().probes).toBeGreaterThanOrEqual(5);
    expect(monitor.actions.audit({ action: 'canary.emergency-stop', kind: 'revert' })).toEqual([expect.objectContaining({ outcome: 'success' })]);
  });

  it('with probes, a still-failing canary does not escalate on them and its incident stays open', async () => {
    const { clock, monitor, escalated } = world();
    const canary = monitor.canary('new-index', { percent: 10, probe: { share: 0.05, minIntervalMs: 1_000 } });
    monitor.start();
    const from = { n: 0 };
    // Opens at medium: the canary is 1.6× slower than stable, every request succeeds.
    const incident = await stopped(clock, monitor, canary, () => ({ durationMs: 160, status: 200 }), from);
    expect(incident.severity).toBe('medium');
    const before = escalated.length;
    // While stopped it gets much worse: every probe fails (a critical success drop, were it read).
    await traffic(clock, canary, 600, failing, from);
    await monitor.remediation.settled();
    monitor.stop();
    expect(canary.stats().probes).toBeGreaterThanOrEqual(100);
    expect(escalated.length).toBe(before);
    expect(monitor.incidents.get(incident.id)).toMatchObject({ severity: 'medium', status: expect.not.stringMatching('resolved') });
    expect(canary.isStopped()).toBe(true);
  });

  it('minutes of failing probes do not hold back a canary that recovers afterwards', async () => {
    const { clock, monitor } = world({ autoRemediate: { revertAfterMs: 60_000 } });
    const canary = monitor.canary('new-index', { percent: 10, probe: { share: 0.05, minIntervalMs: 1_000 } });
    monitor.start();
    const from = { n: 0 };
    const incident = await stopped(clock, monitor, canary, failing, from);
    await traffic(clock, canary, 300, failing, from); // ~300 failing probes
    expect(monitor.incidents.get(incident.id)?.status).not.toBe('resolved');
    for (let s = 0; s < 30 && canary.isStopped(); s++) await traffic(clock, canary, 10, healthy, from);
    await monitor.remediation.settled();
    monitor.stop();
    expect(monitor.incidents.get(incident.id)?.status).toBe('resolved');
    expect(canary.isStopped()).toBe(false);
  });

  it('probes take exactly their share, never above the configured percent, at most one per minIntervalMs', () => {
    const { monitor } = world({ autoRemediate: false });
    const count = (c: ReturnType<typeof monitor.canary>, n: number) => Array.from({ length: n }, (_, i) => c.assign(`user-${i}`)).filter((a) => a === 'canary').length;
    const tenth = monitor.canary('a', { percent: 10, series: { canary: 'a-c', stable: 'a-s' }, probe: { share: 0.05, minIntervalMs: 0 } });
    tenth.emergencyStop();
    expect(count(tenth, 10_000)).toBe(500);
    expect(tenth.stats().probes).toBe(500);
    // A 1 % canary is probed at most 1 in 100, whatever the share.
    const small = monitor.canary('b', { percent: 1, series: { canary: 'b-c', stable: 'b-s' }, probe: { share: 0.05, minIntervalMs: 0 } });
    small.emergencyStop();
    expect(count(small, 10_000)).toBe(100);
    // All at one clock time: one probe per minIntervalMs.
    const spaced = monitor.canary('c', { percent: 10, series: { canary: 'c-c', stable: 'c-s' }, probe: { share: 0.05, minIntervalMs: 1_000 } });
    spaced.emergencyStop();
    expect(count(spaced, 10_000)).toBe(1);
    // Disabled (0 %) and stopped: no probe at all.
    tenth.setPercent(0);
    expect(count(tenth, 10_000)).toBe(0);
    // Resumed: the deterministic split again, no probes counted.
    tenth.setPercent(10);
    tenth.resume();
    const keys = Array.from({ length: 10_000 }, (_, i) => `user-${i}`);
    expect(keys.filter((k) => tenth.assign(k) === 'canary')).toEqual(keys.filter((k) => tenth.bucket(k) < 1_000));
    expect(tenth.stats().probes).toBe(500);
  });

  it('probe options are validated and errors name the field', () => {
    const { monitor } = world();
    for (const [probe, field] of [
      [{ share: 0 }, 'probe.share'],
      [{ share: 2 }, 'probe.share'],
      [{ minIntervalMs: -1 }, 'probe.minIntervalMs'],
      [{ minSamples: 0 }, 'probe.minSamples'],
      [{ extra: 1 }, 'probe'],
    ] as const) {
      let error: unknown;
      try {
        monitor.canary('x', { percent: 5, probe: probe as never });
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(ConfigError);
      expect((error as ConfigError).code).toBe('CONFIG_INVALID');
      expect((error as ConfigError).issues.map((i) => i.path).join(' ')).toContain(field);
    }
    expect(() => monitor.canary('off', { percent: 5, probe: false })).not.toThrow();
  });
});

// Game days on a ManualClock: every runbook scenario against a monitor configured like production
// (the runbook preset, auto-remediation on, default timings), with detection, mitigation, resolution
// and revert times checked against what the configured windows predict.
import { describe, expect, it } from 'vitest';
import { ConfigError, RUNBOOK_PLAYBOOKS, createMonitor, isFirebreakError, type MonitorOptions } from '../../src/index.js';
import { GameDayAssertionError, gameDay, scenarios, type GameDayEnv, type ManualClock, type Scenario } from '../../src/testing/index.js';

const prod: Omit<MonitorOptions, 'clock'> = { service: 'search-api', preset: 'runbook', autoRemediate: true };
const factory = (clock: ManualClock, { probes }: GameDayEnv) => createMonitor({ ...prod, clock, probes });

// The defaults the production options above run with: the theory every timing below derives from.
const EVAL = 10_000; // evaluateEveryMs
const FOR = 60_000; // incidents.forMs
const CLEAR = 120_000; // incidents.clearForMs
const WINDOW = 300_000; // window.durationMs
const REVERT = 300_000; // autoRemediate.revertAfterMs
/** The first evaluation at or after `ms` of fault: when the condition is first seen. */
const seenAfter = (ms: number) => Math.ceil(ms / EVAL) * EVAL;

const run = (s: Scenario, seed = 1) => gameDay({ monitor: factory, seed }).scenario(s).run();

describe('shipped scenarios follow the runbook playbooks', () => {
  it('each scenario that expects a mitigation names the first automatic step of its playbook', () => {
    for (const build of Object.values(scenarios)) {
      const s = build();
      const auto = (RUNBOOK_PLAYBOOKS[s.type] ?? []).filter((step) => step.mode === 'auto').map((step) => step.action);
      expect(s.mitigation).toBe(auto[0]);
    }
  });
});

describe('game days: one per runbook incident type', () => {
  it('high latency: opens once p95 of the window is slow, falls back at once, resolves, reverts', async () => {
    const result = await run(scenarios.highLatency());
    // p95 of the 5-minute window turns slow once more than 5 % of it is slow.
    const seen = seenAfter(0.05 * WINDOW + 1);
    const e = result.expect({ type: 'high-latency', scope: 'service' }).openedWithin(seen + FOR).openedAs('high').pages(1).mitigatedBy('model.fallback', 0).resolved().reverted(REVERT);
    // After the fallback the slow requests leave the window, then the signal must stay clear for clearForMs.
    expect(e.incident.resolvedAt! - e.incident.openedAt).toBeLessThanOrEqual(WINDOW + CLEAR);
  });

  it('high error rate: a risky feature failing every request is emergency-stopped in the evaluation that opens the incident', async () => {
    const result = await run(scenarios.highErrorRate());
    const e = result.expect({ type: 'high-error-rate' }).openedWithin(seenAfter(1) + FOR).openedAs('critical').pages(1).mitigatedBy('feature.emergency-stop', 0).resolved().reverted(REVERT);
    expect(e.incident.resolvedAt! - e.incident.openedAt).toBeLessThanOrEqual(WINDOW + CLEAR);
    expect(result.monitor.feature('rerank').isEnabled()).toBe(true); // reverted: the feature is back on
  });

  it('model failure: a failing primary is forced to the fallback; its probes see the model recover, the incident resolves and the model is restored', async () => {
    const s = scenarios.modelFailure();
    const result = await run(s);
    const fault = result.phases.find((p) => p.fault)!;
    // A probe is every 1/share-th forced call: at 20 rps and share 0.01, one every 5 s; a reading after minCalls of them.
    const probeEveryMs = 1000 / (20 * 0.01);
    const e = result.expect({ type: 'model-failure', scope: 'fallback:ranker' }).openedWithin(seenAfter(1) + EVAL + FOR).pages(1).mitigatedBy('model.fallback', 0);
    // The failed probes of the fault stay in the 5-minute probe window: the reading turns healthy once they aged out,
    // then it must stay clear for clearForMs. Under the 5 % medium threshold, at most 2 of the window's 60 probes may
    // have failed, so the window reaches back at most 3 probe intervals into the fault (plus one 10 s counter slot).
    e.resolved(WINDOW + EVAL + CLEAR).reverted(REVERT);
    expect(e.incident.resolvedAt! - result.startedAt).toBeGreaterThanOrEqual(fault.end + WINDOW - 3 * probeEveryMs - 10_000 + CLEAR);
    // Held while forced: the probes only clear, the incident never escalated past the severity it opened at.
    expect(result.timeline.filter((x) => x.kind === 'escalated')).toEqual([]);
    const ranker = result.monitor.fallback('ranker');
    expect(ranker.isForced()).toBe(false);
    // Probes went out while forced: about one every probeEveryMs from the opening to the revert.
    const forcedMs = e.incident.resolvedAt! + REVERT - e.incident.openedAt;
    expect(ranker.stats().probes).toBeGreaterThanOrEqual(Math.floor(forcedMs / probeEveryMs) - 2);
    expect(ranker.stats().probes).toBeLessThanOrEqual(Math.ceil(forcedMs / probeEveryMs) + 2);
  });

  it('model failure without probes: the fallback holds forced and the incident neither escalates nor resolves', async () => {
    const result = await run(scenarios.modelFailure({ probe: false }));
    result.expect({ type: 'model-failure', scope: 'fallback:ranker' }).openedWithin(seenAfter(1) + EVAL + FOR).pages(1).mitigatedBy('model.fallback', 0);
    expect(result.incidents().map((i) => i.status)).toEqual(['open']);
    expect(result.timeline.filter((x) => x.kind === 'escalated')).toEqual([]);
    expect(result.monitor.fallback('ranker').isForced()).toBe(true);
  });

  it('model failure: detected and forced to the fallback in the opening evaluation (the part that works today)', async () => {
    const result = await run(scenarios.modelFailure({ probe: false }));
    // minCalls (20) failed calls out of the window's calls must reach the 5 % medium threshold: the second evaluation.
    result.expect({ type: 'model-failure', scope: 'fallback:ranker' }).openedWithin(seenAfter(1) + EVAL + FOR).pages(1).mitigatedBy('model.fallback', 0);
    expect(result.monitor.fallback('ranker').isForced()).toBe(true);
  });

  it('memory exhaustion: a cache that keeps every miss fills the heap; clearing it resolves the incident', async () => {
    const result = await run(scenarios.memoryExhaustion());
    // 0.5 of the heap plus 40 % of 20 rps retained at 250 kB each crosses 0.8 after 0.3 GB / (8 × 250 kB/s) = 150 s.
    const crossing = (0.3e9 / (0.4 * 20 * 250_000)) * 1000;
    const e = result.expect({ type: 'memory-exhaustion' }).openedWithin(seenAfter(crossing + 1) + FOR).pages(1).mitigatedBy('cache.clear', 0).resolved();
    // Memory drops at once: the incident resolves one clearForMs (plus an evaluation) after the clear.
    expect(e.incident.resolvedAt! - e.incident.openedAt).toBeLessThanOrEqual(CLEAR + 2 * EVAL);
    // cache.clear cannot be undone: nothing is left to revert.
    expect(result.monitor.actions.executions({ incidentId: e.incident.id }).filter((x) => x.revertible)).toEqual([]);
  });

  it('cache failure: disabled and cleared, holds while disabled, resolves after a person re-enables the fixed cache; one page', async () => {
    const result = await run(scenarios.cacheFailure());
    const fault = result.phases.find((p) => p.fault)!;
    const e = result.expect({ type: 'cache-failure', scope: 'cache:search' }).openedWithin(seenAfter(0.5 * WINDOW + 1) + FOR).openedAs('medium').pages(1).mitigatedBy('cache.disable', 0).mitigatedBy('cache.clear', 0);
    const opened = e.incident.openedAt - result.startedAt;
    // Disabled, the cache records no lookups: no reading, so nothing escalated before the person acted.
    expect(result.timeline.filter((x) => x.kind === 'escalated')).toEqual([]);
    // The runbook's person re-enables it when the recovery starts.
    const enabled = result.monitor.actions.executions({ action: 'cache.enable' });
    expect(enabled.map((x) => [x.source, x.by, x.outcome, x.startedAt - result.startedAt])).toEqual([['manual', 'oncall', 'success', fault.end]]);
    // The window then holds the broken lookups (fault start → disable, 10 % hits) and the healthy ones since the
    // re-enable (90 %): the rate is back over 50 % once healthy time covers broken time still in the window.
    const clearAt = (fault.end + opened + WINDOW) / 2;
    e.resolved(seenAfter(clearAt) - fault.end + CLEAR);
    expect(e.incident.resolvedAt! - result.startedAt).toBeGreaterThanOrEqual(fault.end + CLEAR);
    // The automatic disable was already undone by the person: its revert after the resolution is a no-op.
    const disable = result.monitor.actions.executions({ incidentId: e.incident.id, action: 'cache.disable' })[0]!;
    expect(disable.revert?.outcome).toBe('noop');
    expect(disable.revert!.at - e.incident.resolvedAt!).toBeLessThanOrEqual(REVERT);
    expect(result.monitor.controls.caches.get('search')?.isEnabled()).toBe(true);
  });

  it('cache failure nobody re-enables: the incident holds open without escalating, the cache stays disabled', async () => {
    const result = await run(scenarios.cacheFailure({ reenableAfterMs: false }));
    result.expect({ type: 'cache-failure', scope: 'cache:search' }).pages(1).mitigatedBy('cache.disable', 0);
    expect(result.incidents().map((i) => [i.status, i.severity])).toEqual([['open', 'medium']]);
    expect(result.monitor.controls.caches.get('search')?.isEnabled()).toBe(false);
  });

  it('cache failure: opens when the window hit rate falls under 50 % and disables the cache at once', async () => {
    const result = await run(scenarios.cacheFailure({ reenableAfterMs: false }));
    // 90 % hits fall to 10 %: the window's rate is under 50 % once more than half of it is broken (150 s).
    result.expect({ type: 'cache-failure', scope: 'cache:search' }).openedWithin(seenAfter(0.5 * WINDOW + 1) + FOR).openedAs('medium').pages(1).mitigatedBy('cache.disable', 0);
    expect(result.monitor.controls.caches.get('search')?.isEnabled()).toBe(false);
  });

  it('rate-limit attack: one page on the service-wide incident, its limiter twin inhibited, the limit tightened once, resolved, restored', async () => {
    const result = await run(scenarios.rateLimitAttack());
    const fault = result.phases.find((p) => p.fault)!;
    const e = result.expect({ type: 'rate-limit-attack', scope: 'service' }).openedWithin(6 * EVAL + FOR).pages(1).mitigatedBy('rate-limit.tighten', 0);
    // The one page is the service-wide incident's.
    expect(result.pages.map((p) => [p.event, p.incident.id])).toEqual([['incident:opened', e.incident.id]]);
    // The limiter saw the same flood: its incident exists, inhibited by the service-wide one, never paged.
    const twin = result.expect({ type: 'rate-limit-attack', scope: 'limiter:api' }).incident;
    expect(twin.suppressed).toMatchObject({ kind: 'inhibition', by: e.incident.id });
    // Tightened once (50 of 100 per minute), by the paged incident; nothing ran for the twin.
    const tightened = result.monitor.actions.executions({ action: 'rate-limit.tighten' });
    expect(tightened.map((x) => [x.outcome, x.incidentId, x.startedAt])).toEqual([['success', e.incident.id, e.incident.openedAt]]);
    expect(result.monitor.actions.executions({ incidentId: twin.id })).toEqual([]);
    // The attack's 429s leave the 5-minute window after it ends, then the rate must stay clear for clearForMs.
    e.resolved(WINDOW + CLEAR).reverted(REVERT);
    expect(e.incident.resolvedAt! - result.startedAt).toBeGreaterThanOrEqual(fault.end + CLEAR);
    expect(twin.status).toBe('resolved');
    expect(result.monitor.controls.rateLimiters.get('api')?.current().maxRequests).toBe(100);
  });

  it('rate-limit attack: the limiter tightens in the evaluation that opens the incident', async () => {
    const result = await run(scenarios.rateLimitAttack());
    // 10 rps from one key over a 100-per-minute limit: the rejected share crosses 10 % within the first minute.
    const e = result.expect({ type: 'rate-limit-attack', scope: 'limiter:api' }).openedWithin(6 * EVAL + FOR).resolved();
    const tightened = result.monitor.actions.executions({ action: 'rate-limit.tighten' }).filter((x) => x.outcome === 'success');
    expect(tightened.map((x) => x.startedAt)).toEqual([e.incident.openedAt]);
  });

  it('canary failure: stopped; its probes see the fixed canary, the incident resolves and the canary resumes; one page', async () => {
    const result = await run(scenarios.canaryFailure());
    const fault = result.phases.find((p) => p.fault)!;
    const e = result.expect({ type: 'canary-failure', scope: 'canary:new-index' }).openedWithin(WINDOW).pages(1).mitigatedBy('canary.emergency-stop', 0);
    // A probe is every 1/share-th request (share 0.05 of 20 rps: one a second); a failing probe drops its batch, so
    // after the fix a batch of minSamples (20) healthy probes is the reading, then it must stay clear for clearForMs.
    const batchMs = 20 * (1000 / (20 * 0.05));
    e.resolved(batchMs + EVAL + CLEAR).reverted(REVERT);
    // Never before a first batch plus clearForMs after the stop. (A batch during the fault may look clean: 20 probes
    // of a 2 % failing canary all succeed 67 % of the time; each later failure drops the batch and restarts the clear.)
    expect(e.incident.resolvedAt! - e.incident.openedAt).toBeGreaterThanOrEqual(batchMs + CLEAR);
    expect(result.timeline.filter((x) => x.kind === 'escalated')).toEqual([]);
    const canary = result.monitor.canary('new-index');
    expect(canary.isStopped()).toBe(false);
  });

  it('canary failure: a 2 % failing canary pages once and is stopped, without a service-wide page', async () => {
    const result = await run(scenarios.canaryFailure({ probe: false }));
    // Both arms need 20 requests in the window; the canary's success must fall a full point under stable's.
    result.expect({ type: 'canary-failure', scope: 'canary:new-index' }).openedWithin(WINDOW).pages(1).mitigatedBy('canary.emergency-stop', 0);
    expect(result.monitor.canary('new-index').isStopped()).toBe(true);
  });

  it('service down: a failing critical health check pages at critical, is handed to a person, and resolves when it passes', async () => {
    const result = await run(scenarios.serviceDown());
    // Checks run in each evaluation and are read by the next one.
    const e = result.expect({ type: 'service-down', scope: 'health:database' }).openedWithin(2 * EVAL + FOR).openedAs('critical').pages(1).notMitigated().resolved(2 * EVAL + CLEAR);
    expect(e.incident.status).toBe('resolved');
  });
});

describe('the runner', () => {
  it('replays the same timeline for the same seed', async () => {
    const a = await run(scenarios.highErrorRate({ baselineMs: 120_000, faultMs: 120_000, recoveryMs: 60_000 }), 42);
    const b = await run(scenarios.highErrorRate({ baselineMs: 120_000, faultMs: 120_000, recoveryMs: 60_000 }), 42);
    expect(b.format()).toBe(a.format());
    expect(b.monitor.stats().overall).toEqual(a.monitor.stats().overall);
  });

  it('a healthy baseline pages nobody', async () => {
    const result = await gameDay({ monitor: prod })
      .phase('steady', { forMs: 30 * 60_000, route: 'GET /search', rps: 20, latency: { medianMs: 80, p99Ms: 400 }, errorShare: 0.0005 })
      .run();
    expect(result.expectNoPage().incidents()).toEqual([]);
  });

  it('sends the requested rate: rps × duration requests, fractions carried across steps', async () => {
    const result = await gameDay({ monitor: { ...prod, window: { durationMs: 300_000, slotMs: 10_000 } } })
      .phase('p', { forMs: 60_000, route: 'GET /a', rps: 2.5 })
      .run();
    expect(result.monitor.stats().routes['GET /a']?.requests).toBe(150);
  });

  it('a failed expectation throws GameDayAssertionError whose message prints the timeline', async () => {
    const result = await run(scenarios.highErrorRate());
    let caught: unknown;
    try {
      result.expect({ type: 'high-error-rate' }).openedWithin(30_000);
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(GameDayAssertionError);
    expect(isFirebreakError(caught, 'GAME_DAY_ASSERTION')).toBe(true);
    const message = (caught as Error).message;
    expect(message).toContain('to open within 30s of t+600s, it opened after 70s (t+670s)');
    expect(message).toContain('t+ 670s  PAGE  incident opened high-error-rate (critical) on service');
    expect(message).toContain('t+ 670s  action applied feature.emergency-stop by firebreak (auto, success)');
    expect(message).toContain('t+1080s  incident resolved high-error-rate on service');
    expect(message).toContain('t+1380s  action reverted feature.emergency-stop (success)');
  });

  it('an incident that never opened fails at expect(), naming the type', async () => {
    const result = await gameDay({ monitor: prod }).phase('quiet', { forMs: 60_000, route: 'GET /', rps: 5 }).run();
    expect(() => result.expect({ type: 'canary-failure' })).toThrow(GameDayAssertionError);
    expect(() => result.expect({ type: 'canary-failure' })).toThrow(/of type canary-failure, none opened/);
  });

  it('a page before the fault starts fails openedWithin (a false page)', async () => {
    const result = await gameDay({ monitor: prod })
      .phase('already-broken', { forMs: 120_000, route: 'GET /', rps: 20, errorShare: 1 })
      .phase('fault', { forMs: 60_000, fault: true, route: 'GET /', rps: 20, errorShare: 1 })
      .run();
    expect(() => result.expect({ type: 'high-error-rate' }).openedWithin(60_000)).toThrow(/to open after the fault started at t\+120s, it opened at t\+70s/);
  });

  it('rejects a bad phase with a ConfigError naming the field', () => {
    const day = gameDay({ monitor: prod });
    const bad = (spec: unknown) => {
      try {
        day.phase('x', spec as never);
      } catch (err) {
        return err;
      }
      return undefined;
    };
    const e1 = bad({ forMs: 1000, route: 'GET /', rps: 5, errorShare: 2 });
    expect(e1).toBeInstanceOf(ConfigError);
    expect((e1 as ConfigError).issues.map((i) => i.path)).toEqual(['errorShare']);
    const e2 = bad({ forMs: 1000, errorShare: 0.5 });
    expect((e2 as ConfigError).issues.map((i) => i.path).sort()).toEqual(['route', 'rps']);
    const e3 = bad({ forMs: -5, route: 'GET /', rps: 1, latency: { medianMs: 100, p99Ms: 50 } });
    expect((e3 as ConfigError).issues.map((i) => i.path).sort()).toEqual(['forMs', 'latency.p99Ms']);
    expect(() => gameDay({ monitor: prod, seed: 1.5 })).toThrow(ConfigError);
  });

  it('runs operator steps at their time in the phase, before that instant\'s traffic, and records a failing one without stopping', async () => {
    const seen: [string, number, number][] = [];
    const result = await gameDay({ monitor: prod })
      .phase('p', {
        forMs: 10_000,
        route: 'GET /a',
        rps: 2,
        operator: [
          { afterMs: 2_500, name: 'later', run: (m) => void seen.push(['later', m.clock.now(), m.stats().routes['GET /a']?.requests ?? 0]) },
          { name: 'at once', run: async (m) => void seen.push(['at once', m.clock.now(), m.stats().routes['GET /a']?.requests ?? 0]) },
          { afterMs: 5_000, name: 'fat finger', run: () => Promise.reject(new Error('no such cache')) },
        ],
      })
      .run();
    // Steps are run by time, not by order given; at 2.5 s, 2 rps has sent 5 requests (steps are cut at the step's time).
    expect(seen).toEqual([
      ['at once', result.startedAt, 0],
      ['later', result.startedAt + 2_500, 5],
    ]);
    expect(result.timeline.filter((x) => x.kind === 'operator').map((x) => [x.t, x.text])).toEqual([
      [0, 'operator: at once'],
      [2_500, 'operator: later'],
      [5_000, 'operator: fat finger'],
      [5_000, 'operator step failed: fat finger: no such cache'],
    ]);
    expect(result.monitor.stats().routes['GET /a']?.requests).toBe(20);
  });

  it('rejects an operator step outside its phase or without a function, naming the field', () => {
    const day = gameDay({ monitor: prod });
    const issues = (spec: unknown) => {
      try {
        day.phase('x', spec as never);
      } catch (err) {
        expect(err).toBeInstanceOf(ConfigError);
        return (err as ConfigError).issues.map((i) => i.path);
      }
      return [];
    };
    expect(issues({ forMs: 1000, operator: [{ afterMs: 1000, name: 'late', run: () => {} }] })).toEqual(['operator.0.afterMs']);
    expect(issues({ forMs: 1000, operator: [{ name: 'x', run: 'enable' }] })).toEqual(['operator.0.run']);
  });

  it('refuses a monitor that does not run on the runner clock', async () => {
    const day = gameDay({ monitor: () => createMonitor({ service: 'x' }) }).phase('p', { forMs: 1000 });
    await expect(day.run()).rejects.toSatisfy((e: unknown) => isFirebreakError(e, 'CONFIG_INVALID'));
  });
});

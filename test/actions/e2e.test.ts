// The end-to-end story, on a ManualClock: latency spike → incident → automatic model
// fallback within the evaluation that opened it → latency recovers → incident resolves →
// fallback reverted — every step on the timeline at the right clock time.
import { describe, expect, it } from 'vitest';
import { createMonitor, type ActionExecution } from '../../src/index.js';
import type { ProcedureStep } from '../../src/actions/procedures.js';
import { ManualClock } from '../../src/testing/index.js';
import { fixedProbes, flush } from './helpers.js';

describe('latency spike, end to end', () => {
  it('opens one incident, falls back at once, resolves, then reverts the fallback', async () => {
    const clock = new ManualClock();
    const t0 = clock.now();
    const at = (seconds: number) => t0 + seconds * 1000;
    const monitor = createMonitor({
      service: 'search-api',
      clock,
      probes: fixedProbes,
      preset: 'runbook',
      window: { durationMs: 60_000, slotMs: 10_000 },
      incidents: { forMs: 30_000, clearForMs: 60_000 },
      autoRemediate: { revertAfterMs: 120_000 },
    });
    // The cross-encoder is slow until +150 s (an overloaded GPU), then healthy again.
    const ranker = monitor.fallback('ranker', {
      primary: () => ({ path: 'rerank', ms: clock.now() < at(150) ? 2500 : 180 }),
      fallback: () => ({ path: 'hybrid', ms: 120 }),
    });
    const executed: ActionExecution[] = [];
    const reverted: ActionExecution[] = [];
    monitor.on('action:executed', (e) => executed.push(e));
    monitor.on('action:reverted', (e) => reverted.push(e));
    const forcedAt: Record<number, boolean> = {};

    monitor.start();
    // 20 searches every 10 s; start() evaluates every 10 s.
    for (let s = 0; s < 45; s++) {
      for (let i = 0; i < 20; i++) {
        const r = await ranker.run();
        monitor.recordRequest({ route: 'GET /search', durationMs: r.ms, status: 200 });
      }
      clock.advance(10_000);
      await flush();
      forcedAt[(clock.now() - t0) / 1000] = ranker.isForced();
    }
    monitor.stop();

    const incidents = monitor.incidents.list();
    expect(incidents).toHaveLength(1);
    const incident = incidents[0]!;
    expect(incident).toMatchObject({ type: 'high-latency', severity: 'high', status: 'resolved', openedAt: at(40), resolvedAt: at(150) });

    const steps = incident.timeline.map((e) => [(e.at - t0) / 1000, e.kind, e.by]);
    expect(steps).toEqual([
      [10, 'detected', 'firebreak'],
      [40, 'opened', 'firebreak'],
      [40, 'action', 'firebreak'], // the fallback, in the very evaluation that opened the incident
      [150, 'resolved', 'firebreak'],
      [270, 'action-reverted', 'firebreak'], // resolvedAt + revertAfterMs
    ]);
    expect(incident.timeline[2]).toMatchObject({ data: { action: 'model.fallback', params: {}, result: { name: 'ranker' }, outcome: 'success', source: 'auto' } });

    // The fallback held from the opening evaluation until the revert.
    expect(forcedAt[30]).toBe(false);
    expect(forcedAt[40]).toBe(true);
    expect(forcedAt[260]).toBe(true);
    expect(forcedAt[270]).toBe(false);
    expect(ranker.stats().forcedCalls).toBe(23 * 20);

    expect(executed.map((e) => [e.action, e.startedAt - t0])).toEqual([['model.fallback', 40_000]]);
    expect(reverted.map((e) => [e.action, e.revert!.at - t0])).toEqual([['model.fallback', 270_000]]);
    expect(monitor.actions.audit({ incidentId: incident.id }).map((e) => [e.kind, e.action, e.by, (e.at - t0) / 1000])).toEqual([
      ['execute', 'model.fallback', 'firebreak', 40],
      ['revert', 'model.fallback', 'firebreak', 270],
    ]);

    // The procedure shows the step as done-then-reverted, and the manual step as pending.
    const procedure = monitor.incidents.procedures(incident.id) as ProcedureStep[];
    expect(procedure.map((p) => [p.action, p.mode, p.estimatedSeconds, p.status])).toEqual([
      ['model.fallback', 'auto', 30, 'reverted'],
      ['cache.clear', 'manual', null, 'pending'],
    ]);
    expect(monitor.incidents.postmortem(incident.id)).toMatch(/model\.fallback/);
    expect(clock.pendingTimers()).toBe(0);
  });

  it('dry run: the same spike records what would run and changes nothing', async () => {
    const clock = new ManualClock();
    const monitor = createMonitor({
      service: 'search-api',
      clock,
      probes: fixedProbes,
      preset: 'runbook',
      window: { durationMs: 60_000, slotMs: 10_000 },
      incidents: { forMs: 30_000, clearForMs: 60_000 },
      autoRemediate: { dryRun: true },
    });
    const ranker = monitor.fallback('ranker', { primary: () => 2500, fallback: () => 120 });
    monitor.start();
    for (let s = 0; s < 6; s++) {
      for (let i = 0; i < 20; i++) monitor.recordRequest({ route: 'GET /search', durationMs: await ranker.run(), status: 200 });
      clock.advance(10_000);
      await flush();
    }
    monitor.stop();
    const [incident] = monitor.incidents.list();
    expect(ranker.isForced()).toBe(false);
    expect(incident!.timeline.filter((e) => e.kind === 'note').map((e) => e.message)).toEqual([
      '[dry-run] Auto-remediation would run Fall back from the model (model.fallback)',
    ]);
    expect(monitor.actions.audit()).toEqual([]);
  });
});

import { describe, expect, it } from 'vitest';
import { RUNBOOK_SLOS, createMonitor, type Monitor, type MonitorOptions, type SloInput } from '../../src/index.js';
import { ManualClock } from '../../src/testing/index.js';
import { fixedProbes } from '../incidents/helpers.js';

const S = 1_000;
const MIN = 60 * S;
const H = 60 * MIN;
const D = 24 * H;
const STEP = 10 * S;

function setup(slos: SloInput[], extra: Partial<MonitorOptions> = {}) {
  const clock = new ManualClock();
  const monitor = createMonitor({ service: 'search-api', clock, probes: fixedProbes(), slos, ...extra });
  return { clock, monitor };
}

/** `perStep` requests of `durationMs(i)` every 10 s for `ms`, evaluating after each batch. */
function run(clock: ManualClock, monitor: Monitor, ms: number, perStep: number, durationMs: (i: number) => number, status = 200) {
  const opened = [];
  for (let t = 0; t < ms; t += STEP) {
    for (let i = 0; i < perStep; i++) monitor.recordRequest({ route: 'GET /search', durationMs: durationMs(i), status });
    for (const inc of monitor.evaluate().incidents.opened) opened.push({ at: clock.now(), inc });
    clock.advance(STEP);
  }
  return opened;
}

describe('latency SLOs are good-event ratios: the share of requests faster than thresholdMs', () => {
  const p95: SloInput = { name: 'p95', kind: 'latency', quantile: 0.95, thresholdMs: 800 };

  it('a p95 < 800 ms SLO burns at (share slower than 800 ms) / 5 %, and keeps its p95 read-out', () => {
    const { monitor } = setup([p95]);
    for (let i = 0; i < 100; i++) monitor.recordRequest({ route: 'GET /search', durationMs: i < 90 ? 100 : 900 });
    const r = monitor.evaluate().slos[0]!;
    expect(r.value).toBeGreaterThan(800); // the p95 read-out stays
    expect(r.burnRate).toBeCloseTo(0.1 / 0.05, 9); // 10 % slower than 800 ms, 5 % allowed
    expect(r.budget).toMatchObject({ events: 100, badEvents: 10 });
    expect(r.budget!.allowedBadEvents).toBeCloseTo(5, 9);
    expect(r.errorBudgetRemaining).toBeCloseTo(1 - 10 / 5, 9);
  });

  it('exactly thresholdMs is good (p95 < 800 reads "at most 800 ms" like the quantile SLO)', () => {
    const { monitor } = setup([p95]);
    for (let i = 0; i < 100; i++) monitor.recordRequest({ route: 'GET /search', durationMs: 800 });
    expect(monitor.evaluate().slos[0]!.budget).toMatchObject({ events: 100, badEvents: 0, remaining: 1 });
  });

  it('every request slower than the threshold pages through the 14.4× rule, like a failure would', () => {
    const { clock, monitor } = setup([p95]);
    run(clock, monitor, D, 10, () => 50);
    const T = clock.now();
    const opened = run(clock, monitor, 50 * MIN, 10, () => 3_000);
    expect(opened.map((o) => [o.inc.type, o.inc.scope, o.inc.severity])).toEqual([['slo-burn', 'slo:p95', 'critical']]);
    // All slow: the 1 h window's bad share is x / 1 h, and 14.4 × 5 % of an hour is 43.2 min; the 5 m window burns at 20×.
    const theory = 14.4 * 0.05 * H;
    expect(opened[0]!.at - T).toBeGreaterThan(theory - STEP);
    expect(opened[0]!.at - T).toBeLessThanOrEqual(theory + STEP);
  });

  it('route-scoped latency SLOs count only their route; p95 and p99 on one route share one stream', () => {
    const { monitor } = setup([
      { name: 'search-p95', kind: 'latency', quantile: 0.95, thresholdMs: 800, route: 'GET /search' },
      { name: 'search-p99', kind: 'latency', quantile: 0.99, thresholdMs: 2_000, route: 'GET /search' },
    ]);
    for (let i = 0; i < 100; i++) monitor.recordRequest({ route: 'GET /search', durationMs: i < 2 ? 2_500 : i < 6 ? 1_000 : 10 });
    for (let i = 0; i < 100; i++) monitor.recordRequest({ route: 'GET /other', durationMs: 5_000 });
    const [a, b] = monitor.evaluate().slos;
    expect(a!.budget).toMatchObject({ events: 100, badEvents: 6 });
    expect(b!.budget).toMatchObject({ events: 100, badEvents: 2 });
  });
});

describe('cache hit-rate SLOs burn and budget like the others', () => {
  it('misses and errors are bad events; without `cache` every cache counts', () => {
    const { monitor } = setup([
      { name: 'search-cache', kind: 'cache-hit-rate', cache: 'search', objective: 0.5 },
      { name: 'all-caches', kind: 'cache-hit-rate', objective: 0.5 },
    ]);
    for (let i = 0; i < 10; i++) monitor.recordCache('search', i < 6 ? 'hit' : i < 9 ? 'miss' : 'error');
    for (let i = 0; i < 10; i++) monitor.recordCache('embeddings', false);
    const [one, all] = monitor.evaluate().slos;
    expect(one).toMatchObject({ value: 0.6, budget: { events: 10, badEvents: 4, allowedBadEvents: 5 } });
    expect(one!.errorBudgetRemaining).toBeCloseTo(0.2, 9);
    expect(all).toMatchObject({ value: 0.3, samples: 20, budget: { events: 20, badEvents: 14, allowedBadEvents: 10 } });
    expect(all!.cache).toBeUndefined();
  });

  it('a cache that stops hitting opens slo-burn when its 1 h window holds factor × allowed of misses', () => {
    const { clock, monitor } = setup([{ name: 'search-cache', kind: 'cache-hit-rate', cache: 'search', objective: 0.95 }]);
    const opened: { at: number; what: string }[] = [];
    let T = 0;
    for (let t = 0; t < D + H; t += STEP) {
      if (t === D) T = clock.now();
      for (let i = 0; i < 10; i++) monitor.recordCache('search', t < D);
      for (const inc of monitor.evaluate().incidents.opened) opened.push({ at: clock.now() - T, what: `${inc.type} ${inc.scope} ${inc.severity}` });
      clock.advance(STEP);
    }
    expect(opened.map((o) => o.what)).toEqual(['slo-burn slo:search-cache critical']);
    const theory = 14.4 * 0.05 * H; // 100 % misses on a 5 % allowance: 43.2 min
    expect(opened[0]!.at).toBeGreaterThan(theory - STEP);
    expect(opened[0]!.at).toBeLessThanOrEqual(theory + STEP);
  });
});

describe('error budgets cover the SLO period, not the 5-minute window', () => {
  it('failures that left the window still count against the budget for the period', () => {
    const { clock, monitor } = setup([{ name: 'availability', kind: 'success-rate', objective: 0.99 }]);
    for (let i = 0; i < 100; i++) monitor.recordRequest({ route: 'r', durationMs: 5, status: i < 2 ? 500 : 200 });
    clock.advance(10 * MIN);
    for (let i = 0; i < 100; i++) monitor.recordRequest({ route: 'r', durationMs: 5, status: 200 });
    const r = monitor.evaluate().slos[0]!;
    expect(r.burnRate).toBe(0); // the window is clean
    expect(r.budget).toMatchObject({ periodMs: 30 * D, observedMs: 10 * MIN, events: 200, badEvents: 2, allowedBadEvents: expect.closeTo(2, 9) });
    expect(r.errorBudgetRemaining).toBeCloseTo(0, 9); // 2 of 2 allowed bad requests spent
  });

  it('events older than the period leave the budget (periodMs configurable)', () => {
    const { clock, monitor } = setup([{ name: 'availability', kind: 'success-rate', objective: 0.99 }], { burnRate: { periodMs: 7 * D } });
    for (let i = 0; i < 100; i++) monitor.recordRequest({ route: 'r', durationMs: 5, status: 500 });
    clock.advance(6 * D);
    for (let i = 0; i < 100; i++) monitor.recordRequest({ route: 'r', durationMs: 5, status: 200 });
    expect(monitor.evaluate().slos[0]!.budget).toMatchObject({ periodMs: 7 * D, events: 200, badEvents: 100 });
    clock.advance(2 * D);
    expect(monitor.evaluate().slos[0]!.budget).toMatchObject({ events: 100, badEvents: 0, remaining: 1 });
  });

  it('budgets are kept when burn-rate alerts are switched off', () => {
    const { monitor } = setup([{ name: 'availability', kind: 'success-rate', objective: 0.99 }], { burnRate: { enabled: false } });
    for (let i = 0; i < 100; i++) monitor.recordRequest({ route: 'r', durationMs: 5, status: i < 1 ? 500 : 200 });
    expect(monitor.evaluate().slos[0]!.errorBudgetRemaining).toBeCloseTo(0, 9);
    expect(monitor.stats().incidents.burnRate).toEqual([]);
  });
});

describe("preset: 'runbook' brings the runbooks' SLO table", () => {
  it('p95 < 800 ms, p99 < 2 s, success > 99.5 %, errors < 0.5 %, cache hit rate > 50 %', () => {
    const { monitor } = setup([], { preset: 'runbook' });
    const slos = monitor.evaluate().slos;
    expect(slos.map((s) => [s.name, s.kind, s.target])).toEqual([
      ['latency-p95', 'latency', 800],
      ['latency-p99', 'latency', 2000],
      ['success-rate', 'success-rate', 0.995],
      ['error-rate', 'error-rate', 0.005],
      ['cache-hit-rate', 'cache-hit-rate', 0.5],
    ]);
    expect(RUNBOOK_SLOS.map((s) => s.name)).toEqual(slos.map((s) => s.name));
    expect(monitor.stats().slos).toHaveLength(5);
  });

  it('a user SLO of the same name replaces the preset one; others are added', () => {
    const { monitor } = setup(
      [
        { name: 'latency-p95', kind: 'latency', quantile: 0.95, thresholdMs: 500 },
        { name: 'search-availability', kind: 'success-rate', objective: 0.999, route: 'GET /search' },
      ],
      { preset: 'runbook' },
    );
    const slos = monitor.evaluate().slos;
    expect(slos.map((s) => s.name)).toEqual(['latency-p95', 'latency-p99', 'success-rate', 'error-rate', 'cache-hit-rate', 'search-availability']);
    expect(slos[0]!.target).toBe(500);
  });

  it('success-rate > 99.5 % and error-rate < 0.5 % measure the same failures: one slo-burn incident, not two', () => {
    const { clock, monitor } = setup([], { preset: 'runbook', detectors: [{ kind: 'cpu', enabled: false }, { kind: 'event-loop-delay', enabled: false }] });
    run(clock, monitor, H + MIN, 10, () => 20);
    const opened = run(clock, monitor, 5 * MIN, 10, () => 20, 503);
    const burns = opened.filter((o) => o.inc.type === 'slo-burn');
    expect(burns.map((o) => [o.inc.scope, o.inc.severity])).toEqual([['slo:success-rate', 'critical']]);
    expect(burns[0]!.inc.summary).toMatch(/SLOs success-rate, error-rate /);
    // Both still report their own burn rates.
    expect(monitor.stats().incidents.burnRate.filter((b) => b.rules[0]!.firing).map((b) => b.slo)).toEqual(['success-rate', 'error-rate']);
  });

  it('without the preset there are no default SLOs', () => {
    expect(setup([]).monitor.evaluate().slos).toEqual([]);
  });
});

import { describe, expect, it } from 'vitest';
import { DEFAULT_BURN_RULES, createMonitor, type Incident, type Monitor, type SloInput } from '../../src/index.js';
import { ManualClock } from '../../src/testing/index.js';
import { fixedProbes } from './helpers.js';

const S = 1_000;
const MIN = 60 * S;
const H = 60 * MIN;
const STEP = 10 * S;
const CLEAR_FOR_MS = 120 * S; // incidents.clearForMs default

/** mulberry32: a tiny seeded PRNG, so a "random" error rate is the same on every run. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function monitorAt(clock: ManualClock, slos: SloInput[]): Monitor {
  return createMonitor({ service: 'search-api', clock, probes: fixedProbes(), slos });
}

/** `perStep` requests every 10 s, each failing when `fail()` says so; evaluates after each batch. */
function run(clock: ManualClock, monitor: Monitor, durationMs: number, perStep: number, fail: () => boolean, evaluate = true) {
  const opened: { at: number; incident: Incident }[] = [];
  for (let t = 0; t < durationMs; t += STEP) {
    for (let i = 0; i < perStep; i++) monitor.recordRequest({ route: 'GET /search', durationMs: 50, status: fail() ? 503 : 200 });
    if (evaluate) for (const incident of monitor.evaluate().incidents.opened) opened.push({ at: clock.now(), incident });
    clock.advance(STEP);
  }
  return opened;
}

const availability: SloInput[] = [{ name: 'availability', kind: 'success-rate', objective: 0.999 }];
const ALLOWED = 0.001;

describe('burn-rate guards: no page on too little data', () => {
  it('one failed request among the first 100 after start does not page', () => {
    const clock = new ManualClock();
    const monitor = monitorAt(clock, availability);
    let i = 0;
    const opened = run(clock, monitor, 10 * MIN, 10, () => ++i === 7);
    expect(opened).toEqual([]);
    expect(monitor.stats().incidents.pending).toEqual([]);
  });

  it('a 2× burn of random errors (0.2 % on a 99.9 % SLO) never pages or tickets over a day from start (8 seeds)', () => {
    for (let seed = 1; seed <= 8; seed++) {
      const clock = new ManualClock();
      const monitor = monitorAt(clock, availability);
      const random = prng(seed);
      const opened = run(clock, monitor, 24 * H, 10, () => random() < 2 * ALLOWED);
      expect({ seed, opened: opened.map((o) => [o.at, o.incident.severity]) }).toEqual({ seed, opened: [] });
    }
  });

  it('a restart with a normal error rate (0.05 % on a 99.9 % SLO) never pages (8 seeds)', () => {
    const clock = new ManualClock();
    for (let seed = 1; seed <= 8; seed++) {
      // Each seed is a new process on the same clock: nothing carried over.
      const monitor = monitorAt(clock, availability);
      const random = prng(100 + seed);
      const opened = run(clock, monitor, 2 * H, 10, () => random() < 0.5 * ALLOWED);
      expect({ seed, opened: opened.length }).toEqual({ seed, opened: 0 });
    }
  });

  it('a rule waits until its long window has been observed for its full length (unless partial: true)', () => {
    const rules = [{ name: 'fast', severity: 'critical' as const, factor: 14.4, longMs: H, shortMs: 5 * MIN }];
    const clock = new ManualClock();
    const strict = createMonitor({ service: 'a', clock, probes: fixedProbes(), slos: availability, burnRate: { rules } });
    const partial = createMonitor({ service: 'b', clock, probes: fixedProbes(), slos: availability, burnRate: { rules: [{ ...rules[0]!, partial: true }] } });
    const openedStrict: number[] = [];
    const openedPartial: number[] = [];
    const t0 = clock.now();
    for (let t = 0; t < 2 * H; t += STEP) {
      for (let i = 0; i < 10; i++) {
        strict.recordRequest({ route: 'r', durationMs: 5, status: 500 });
        partial.recordRequest({ route: 'r', durationMs: 5, status: 500 });
      }
      if (strict.evaluate().incidents.opened.length > 0) openedStrict.push(clock.now() - t0);
      if (partial.evaluate().incidents.opened.length > 0) openedPartial.push(clock.now() - t0);
      clock.advance(STEP);
    }
    expect(openedStrict).toEqual([H]); // the first evaluation with 1 h observed
    // partial: judged on the observed part once each window holds minEvents (70 = ⌊1/(0.001 × 14.4)⌋ + 1):
    // batches of 10 at 0 s, 10 s, … reach 70 with the 7th, at 60 s.
    expect(openedPartial).toEqual([(Math.ceil(70 / 10) - 1) * STEP]);
  });

  it('minEvents: one bad event among minEvents cannot reach the factor (default ⌊1/(allowed × factor)⌋ + 1), and it is configurable', () => {
    const clock = new ManualClock();
    const monitor = monitorAt(clock, availability);
    clock.advance(25 * H); // every window observed, no traffic
    for (let i = 0; i < 69; i++) monitor.recordRequest({ route: 'r', durationMs: 5, status: i === 0 ? 500 : 200 });
    const rule = (name: string) => monitor.stats().incidents.burnRate[0]!.rules.find((r) => r.name === name)!;
    expect(rule('page-fast')).toMatchObject({ minEvents: 70, judged: false, firing: false });
    expect(rule('page-slow')).toMatchObject({ minEvents: Math.floor(1 / (ALLOWED * 6)) + 1 });
    expect(rule('ticket')).toMatchObject({ minEvents: Math.floor(1 / (ALLOWED * 3)) + 1 });
    expect(monitor.evaluate().incidents.opened).toEqual([]);

    const low = createMonitor({
      service: 'low',
      clock,
      probes: fixedProbes(),
      slos: availability,
      burnRate: { rules: [{ ...DEFAULT_BURN_RULES[0]!, minEvents: 5 }] },
    });
    clock.advance(2 * H);
    for (let i = 0; i < 5; i++) low.recordRequest({ route: 'r', durationMs: 5, status: i === 0 ? 500 : 200 });
    expect(low.stats().incidents.burnRate[0]!.rules[0]).toMatchObject({ minEvents: 5, judged: true, firing: true });
  });
});

describe('exact windows: detection and reset times match the theory', () => {
  const [fast, slow, ticket] = DEFAULT_BURN_RULES as [(typeof DEFAULT_BURN_RULES)[number], (typeof DEFAULT_BURN_RULES)[number], (typeof DEFAULT_BURN_RULES)[number]];

  it('a 100 % outage pages through the 14.4× rule at factor × allowed × longMs, to one evaluation step', () => {
    const clock = new ManualClock();
    const monitor = monitorAt(clock, availability);
    run(clock, monitor, 24 * H + 10 * MIN, 10, () => false, false);
    const T = clock.now();
    const opened = run(clock, monitor, 10 * MIN, 10, () => true);
    // Under a full outage the long window's bad share after x of outage is x / longMs: the rule fires at x = factor × allowed × longMs.
    const theory = fast.factor * ALLOWED * fast.longMs; // 51.84 s
    expect(opened).toHaveLength(1);
    expect(opened[0]!.incident).toMatchObject({ type: 'slo-burn', severity: 'critical', scope: 'slo:availability' });
    expect(opened[0]!.at - T).toBeGreaterThan(theory - STEP);
    expect(opened[0]!.at - T).toBeLessThanOrEqual(theory + STEP);
  });

  it('after a 10-minute outage each rule resets when its short window holds less than factor × allowed of bad time', () => {
    const clock = new ManualClock();
    const monitor = monitorAt(clock, availability);
    run(clock, monitor, 24 * H + 10 * MIN, 10, () => false, false);
    const { incident } = run(clock, monitor, 10 * MIN, 10, () => true)[0]!;
    const E = clock.now();
    run(clock, monitor, 3 * H, 10, () => false);
    // x after the outage, the short window [E + x − W, E + x] still holds W − x of outage (x ≤ W);
    // the rule stops firing at the first evaluation with (W − x) / W < factor × allowed,
    // and the severity steps down clearForMs later.
    const reset = (r: typeof fast) => Math.ceil((r.shortMs * (1 - r.factor * ALLOWED)) / STEP) * STEP + CLEAR_FOR_MS;
    expect(reset(fast)).toBe(420 * S);
    const steps = monitor.incidents
      .require(incident.id)
      .timeline.filter((e) => e.kind === 'deescalated' || e.kind === 'resolved')
      .map((e) => [e.kind, e.at - E, e.data?.['to']]);
    expect(steps).toEqual([
      ['deescalated', reset(fast), 'high'],
      ['deescalated', reset(slow), 'medium'],
      ['resolved', reset(ticket), undefined],
    ]);
  });
});

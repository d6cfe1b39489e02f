import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createMonitor, isFirebreakError, type Incident, type Monitor, type SloInput } from '../../src/index.js';
import { ManualClock } from '../../src/testing/index.js';
import { fixedProbes } from './helpers.js';

const S = 1_000;
const MIN = 60 * S;
const H = 60 * MIN;
const STEP = 10 * S;
const PER_STEP = 100;
const ALLOWED = 0.001;
const availability: SloInput[] = [{ name: 'availability', kind: 'success-rate', objective: 0.999 }];

let dir: string;
let path: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'firebreak-burn-state-'));
  path = join(dir, 'incidents.jsonl');
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function monitorAt(clock: ManualClock, durable: boolean): Monitor {
  return createMonitor({ service: 'search-api', clock, probes: fixedProbes(), slos: availability, ...(durable ? { incidentLog: { path } } : {}) });
}

/** `PER_STEP` requests every 10 s into every monitor; `fail(i)` decides request i of the run; evaluates each batch. */
function run(clock: ManualClock, monitors: Monitor[], durationMs: number, fail: (i: number) => boolean) {
  const opened = monitors.map(() => [] as { at: number; incident: Incident }[]);
  let i = 0;
  for (let t = 0; t < durationMs; t += STEP) {
    for (let k = 0; k < PER_STEP; k++, i++) {
      const status = fail(i) ? 503 : 200;
      for (const m of monitors) m.recordRequest({ route: 'GET /search', durationMs: 50, status });
    }
    monitors.forEach((m, j) => {
      for (const incident of m.evaluate().incidents.opened) opened[j]!.push({ at: clock.now(), incident });
    });
    clock.advance(STEP);
  }
  return opened;
}

/** Exactly the allowance: one failure per 1000 requests (1× burn). */
const oneX = (i: number) => i % 1000 === 999;

function rule(m: Monitor, name: string) {
  return m.stats().incidents.burnRate[0]!.rules.find((r) => r.name === name)!;
}

describe('burn-rate state across restarts', () => {
  it('a 2-hour 1× burn, a restart, then an outage: the 1 h window is judged at once, pages like a monitor that never restarted, and the budget carries on', async () => {
    const clock = new ManualClock();
    const before = monitorAt(clock, true);
    const twin = monitorAt(clock, false); // never restarts: the reference
    run(clock, [before, twin], 2 * H, oneX);
    const pre = before.evaluate().slos[0]!.budget!;
    expect(pre.events).toBe(2 * 360 * PER_STEP);
    expect(pre.badEvents).toBe(72);
    await before.close();

    const after = monitorAt(clock, true);
    expect(after.stats().incidents.burnRateState).toMatchObject({ restoredStreams: 1, errors: 0 });
    // No new warm-up: page-fast's 1 h and 5 m windows are full and judged right away.
    const fast = rule(after, 'page-fast');
    expect(fast.long.judged).toBe(true);
    expect(fast.long.requests).toBeCloseTo(360 * PER_STEP, 6);
    expect(fast.long.burnRate).toBeCloseTo(1, 6);
    expect(fast.short.judged).toBe(true);
    // 2 h observed in all: the 6 h window is not full yet, restart or not.
    expect(rule(after, 'page-slow').long.judged).toBe(rule(twin, 'page-slow').long.judged);
    expect(rule(after, 'page-slow').long.judged).toBe(false);

    const outage = 5 * MIN;
    const [opened, openedTwin] = run(clock, [after, twin], outage, () => true);
    expect(opened!.map((o) => [o.at, o.incident.type, o.incident.severity])).toEqual(openedTwin!.map((o) => [o.at, o.incident.type, o.incident.severity]));
    const page = opened!.find((o) => o.incident.type === 'slo-burn')!;
    // Theory: 14.4 × 1 h / 1000 = 51.8 s (the 1 h window already burns at 1×: slightly earlier), seen at a 10 s batch.
    expect(page.incident.severity).toBe('critical');
    expect(page.at - (clock.now() - outage)).toBeLessThanOrEqual(50 * S);

    const newEvents = (outage / STEP) * PER_STEP;
    const budget = after.evaluate().slos[0]!.budget!;
    expect(budget.events).toBe(pre.events + newEvents);
    expect(budget.badEvents).toBe(pre.badEvents + newEvents);
    expect(budget.remaining).toBeCloseTo(1 - (pre.badEvents + newEvents) / (ALLOWED * (pre.events + newEvents)), 9);
    expect(budget.remaining).toBeCloseTo(twin.evaluate().slos[0]!.budget!.remaining!, 9);
    expect(budget.observedMs).toBe(2 * H + outage);
    await after.close();
  });

  it('after 6 h 10 min of 1× burn a restart keeps page-slow judged (6 h / 30 m windows) and the outage pages at once', async () => {
    const clock = new ManualClock();
    const before = monitorAt(clock, true);
    run(clock, [before], 6 * H + 10 * MIN, oneX);
    await before.close();
    const after = monitorAt(clock, true);
    expect(rule(after, 'page-slow').judged).toBe(true);
    expect(rule(after, 'page-slow').long.requests).toBeCloseTo(6 * 360 * PER_STEP, 6);
    const [opened] = run(clock, [after], 3 * MIN, () => true);
    expect(opened!.filter((o) => o.incident.type === 'slo-burn').map((o) => o.incident.severity)).toEqual(['critical']);
    await after.close();
  });

  it('a restart after a gap longer than a window re-warms that window; shorter gaps keep their warm-up', async () => {
    const clock = new ManualClock();
    const t0 = clock.now();
    const before = monitorAt(clock, true);
    run(clock, [before], 2 * H, oneX);
    await before.close();
    clock.advance(2 * H); // down for 2 h: longer than 1 h, 5 m, 30 m; shorter than 6 h and 1 d
    const restartAt = clock.now();
    const after = monitorAt(clock, true);
    run(clock, [after], 30 * MIN, oneX);
    // 1 h window: re-warming since the restart (30 min ago), even though it holds 1 h … of which 30 min before the gap is gone.
    expect(rule(after, 'page-fast').long.judged).toBe(false);
    run(clock, [after], 30 * MIN, oneX);
    expect(clock.now() - restartAt).toBe(H);
    expect(rule(after, 'page-fast').long.judged).toBe(true);
    // 6 h window: its warm-up carried over, so it is judged 6 h after the first start, not 6 h after the restart.
    run(clock, [after], 6 * H - (clock.now() - t0) - STEP, oneX);
    expect(rule(after, 'page-slow').long.judged).toBe(false);
    run(clock, [after], 2 * STEP, oneX);
    expect(clock.now() - t0).toBeLessThan(restartAt - t0 + 6 * H);
    expect(rule(after, 'page-slow').long.judged).toBe(true);
    // The budget period (30 d) was not broken either: observed since the first start.
    expect(after.evaluate().slos[0]!.budget!.observedMs).toBe(clock.now() - t0);
    await after.close();
  });

  it.each([
    ['corrupt', '{"format":"firebreak-burn-rate-state","version":1,"savedAt":'],
    ['foreign', JSON.stringify({ hello: 'world', streams: [] })],
    ['another version', JSON.stringify({ format: 'firebreak-burn-rate-state', version: 99 })],
  ])('a %s state file is counted, reported as incident:log-error and ignored; the next save replaces it', async (_, text) => {
    writeFileSync(`${path}.burn-rate.json`, text);
    const clock = new ManualClock();
    const m = monitorAt(clock, true);
    const errors: Error[] = [];
    m.on('incident:log-error', (e) => errors.push(e));
    await Promise.resolve();
    expect(errors).toHaveLength(1);
    expect(isFirebreakError(errors[0], 'BURN_STATE_INVALID')).toBe(true);
    expect(m.stats().incidents.burnRateState).toMatchObject({ restoredStreams: 0, errors: 1 });
    expect(rule(m, 'page-fast').long.judged).toBe(false); // warm-up from scratch
    run(clock, [m], 2 * MIN, oneX);
    await m.flush();
    expect(m.stats().incidents.burnRateState!.saves).toBeGreaterThan(0);
    await m.close();
    const again = monitorAt(clock, true);
    expect(again.stats().incidents.burnRateState).toMatchObject({ restoredStreams: 1, errors: 0 });
    expect(again.evaluate().slos[0]!.budget!.events).toBe(12 * PER_STEP);
    await again.close();
  });

  it('a state file larger than the configured bound is not read', async () => {
    const clock = new ManualClock();
    const probe = monitorAt(clock, true);
    const bound = probe.stats().incidents.burnRateState!.maxBytes;
    await probe.close();
    writeFileSync(`${path}.burn-rate.json`, ' '.repeat(bound + 1));
    const m = monitorAt(clock, true);
    expect(m.stats().incidents.burnRateState).toMatchObject({ errors: 1, restoredStreams: 0 });
    await m.close();
  });

  it('the file stays under its documented bound with every slot of both rings full', async () => {
    const clock = new ManualClock();
    // One latency SLO adds a field; a route adds a stream.
    const slos: SloInput[] = [...availability, { name: 'p95', kind: 'latency', quantile: 0.95, thresholdMs: 40, route: 'GET /search' }];
    const m = createMonitor({ service: 'search-api', clock, probes: fixedProbes(), slos, incidentLog: { path }, burnRate: { periodMs: 2 * 86_400_000 } });
    // 2 days (the whole period, and the whole 1 d ring) with traffic in every minute slot.
    for (let t = 0; t < 2 * 86_400_000 + 2 * MIN; t += MIN) {
      for (let k = 0; k < 3; k++) m.recordRequest({ route: 'GET /search', durationMs: 50 + k, status: k === 0 ? 503 : 200 });
      if (t % H === 0) m.evaluate();
      clock.advance(MIN);
    }
    await m.flush();
    const st = m.stats().incidents.burnRateState!;
    const size = statSync(`${path}.burn-rate.json`).size;
    expect(size).toBe(st.bytes);
    expect(size).toBeLessThanOrEqual(st.maxBytes);
    // The documented rule of thumb: about (ring + period slots) × (fields + 1) × 25 bytes per stream.
    const perStream = (1_441 + 721) * (3 + 1) * 25;
    expect(st.maxBytes).toBeLessThanOrEqual(2 * perStream + 8_192);
    await m.close();
  });
});

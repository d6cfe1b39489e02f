import { describe, expect, it } from 'vitest';
import type { Incident, Monitor } from '../../src/index.js';
import type { ManualClock } from '../../src/testing/index.js';
import { setup } from './helpers.js';

const S = 1_000;
const MIN = 60 * S;
const H = 60 * MIN;
const STEP = 10 * S;

/** `perStep` requests every 10 s; `failEvery`: every n-th request fails (0 = none). No evaluation. */
function traffic(clock: ManualClock, monitor: Monitor, durationMs: number, perStep: number, fail: (i: number) => boolean, evaluate: boolean) {
  const reports = [];
  for (let t = 0; t < durationMs; t += STEP) {
    for (let i = 0; i < perStep; i++) monitor.recordRequest({ route: 'GET /search', durationMs: 50, status: fail(i) ? 503 : 200 });
    if (evaluate) reports.push({ at: clock.now(), report: monitor.evaluate() });
    clock.advance(STEP);
  }
  return reports;
}

function timelineFrom(inc: Incident, origin: number) {
  return inc.timeline.map((e) => [e.kind, (e.at - origin) / S, e.data?.['to'] ?? e.data?.['severity']]);
}

describe('multi-window, multi-burn-rate alerts (SLO 99.9 % over 30 days)', () => {
  const slos = [{ name: 'availability', kind: 'success-rate' as const, objective: 0.999 }];

  it('a full outage pages through the 14.4× rule within ~52 s, then steps down as each short window clears', () => {
    const { clock, monitor } = setup({ slos });
    // A day of healthy traffic (60 requests a minute) so every long window is full.
    traffic(clock, monitor, 24 * H + 10 * MIN, 10, () => false, false);
    const T = clock.now();

    // 100 % failures for 10 minutes. The 1 h window reaches 14.4 × 0.1 % = 1.44 % bad after
    // 0.0144 h ≈ 52 s of outage: with one evaluation every 10 s that is the 6th one (60 failed requests).
    const outage = traffic(clock, monitor, 10 * MIN, 10, () => true, true);
    const openedAt = outage.find((r) => r.report.incidents.opened.length > 0)!;
    expect(openedAt.at - T).toBe(50 * S);
    const inc = openedAt.report.incidents.opened[0]!;
    expect(inc).toMatchObject({ type: 'slo-burn', scope: 'slo:availability', severity: 'critical', priority: 'P0', detector: 'burn-rate' });
    expect(inc.summary).toMatch(/rule page-fast, ≥ 14.4×/);
    expect(inc.signalAtOpen).toMatchObject({ name: 'error-budget burn rate (1h 00m)', threshold: 14.4 });
    const fast = monitor.stats().incidents.burnRate[0]!.rules.find((r) => r.name === 'page-fast')!;
    expect(fast.firing).toBe(true);
    expect(fast.short.burnRate).toBeCloseTo(1000, 6); // 100 % bad / 0.1 % allowed

    // Recovery. Windows are exact: a rule stops firing once its short window W holds less than
    // factor × 0.1 % of outage, i.e. x > W × (1 − factor × 0.001) after the outage: 295.7 s for
    // 5 m (evaluated at 300 s), 1789.2 s for 30 m (1790 s), 7178.4 s for 2 h (7180 s); each lower
    // severity must then hold for clearForMs (120 s) before the incident steps down or resolves.
    const E = clock.now();
    const after = traffic(clock, monitor, 3 * H, 10, () => false, true);
    const at = (ms: number) => after.find((r) => r.at === E + ms)!;
    expect(timelineFrom(monitor.incidents.require(inc.id), E)).toEqual([
      ['detected', -550, 'critical'],
      ['opened', -550, 'critical'],
      ['overdue', 350, undefined], // nobody acknowledged the P0 within 15 min
      ['deescalated', 300 + 120, 'high'], // page-fast reset at E+300 s, + 2 min clear window
      ['deescalated', 1790 + 120, 'medium'], // page-slow reset at E+1790 s
      ['resolved', 7180 + 120, undefined], // ticket reset at E+7180 s
    ]);
    expect(at(7300 * S).report.incidents.resolved.map((i) => i.id)).toEqual([inc.id]);
    expect(monitor.incidents.list()).toHaveLength(1);
  });

  it('reports each rule’s windows in stats while an outage runs and after it resets', () => {
    const { clock, monitor } = setup({ slos });
    traffic(clock, monitor, 24 * H, 10, () => false, false);
    traffic(clock, monitor, 5 * MIN, 10, () => true, true);
    const during = monitor.stats().incidents.burnRate[0]!;
    expect(during.slo).toBe('availability');
    expect(during.rules.map((r) => [r.name, r.firing])).toEqual([
      ['page-fast', true],
      ['page-slow', true],
      ['ticket', true],
    ]);
    traffic(clock, monitor, 5 * MIN, 10, () => false, true);
    const reset = monitor.stats().incidents.burnRate[0]!;
    expect(reset.rules.map((r) => [r.name, r.firing])).toEqual([
      ['page-fast', false],
      ['page-slow', true],
      ['ticket', true],
    ]);
    expect(reset.rules[0]!.short.burnRate).toBe(0);
    expect(reset.rules[0]!.long.burnRate).toBeGreaterThan(14.4);
  });

  it('a 2× burn never pages or tickets with the default rules (it would spend the budget in 15 days)', () => {
    const { clock, monitor } = setup({ slos });
    traffic(clock, monitor, 24 * H, 100, () => false, false);
    let n = 0;
    const twoX = () => ++n % 500 === 0; // 0.2 % failures = 2 × the 0.1 % allowance
    const reports = traffic(clock, monitor, 30 * H, 100, twoX, true);
    expect(reports.every((r) => r.report.incidents.opened.length === 0)).toBe(true);
    expect(monitor.stats().incidents.pending).toEqual([]);
    const ticket = monitor.stats().incidents.burnRate[0]!.rules.find((r) => r.name === 'ticket')!;
    expect(ticket.long.burnRate).toBeCloseTo(2, 1);
    expect(ticket.firing).toBe(false);
  });

  it('a 2× burn with a 1.5× rule over 6 h & 30 m: detected after ~4.5 h, reset ~7.5 min after it stops', () => {
    const rules = [{ name: 'slow-burn', severity: 'low' as const, factor: 1.5, longMs: 6 * H, shortMs: 30 * MIN }];
    const { clock, monitor } = setup({ slos, burnRate: { rules }, incidents: { clearForMs: 0 } });
    traffic(clock, monitor, 7 * H, 100, () => false, false);
    const T = clock.now();
    let n = 0;
    const twoX = () => ++n % 500 === 0;
    // The 6 h window needs 1.5/2 of its length burning: 0.75 × 6 h = 4.5 h.
    const burning = traffic(clock, monitor, 6 * H, 100, twoX, true);
    const detected = burning.find((r) => r.report.incidents.opened.length > 0)!;
    expect(detected.at - T).toBeGreaterThanOrEqual(4 * H + 29 * MIN);
    expect(detected.at - T).toBeLessThanOrEqual(4 * H + 31 * MIN);
    expect(detected.report.incidents.opened[0]).toMatchObject({ type: 'slo-burn', severity: 'low' });

    // After the burn stops the 30 m window drops under 1.5× once less than 22.5 min of it burned.
    const E = clock.now();
    const healthy = traffic(clock, monitor, 30 * MIN, 100, () => false, true);
    const resolved = healthy.find((r) => r.report.incidents.resolved.length > 0)!;
    expect(resolved.at - E).toBeGreaterThanOrEqual(7 * MIN);
    expect(resolved.at - E).toBeLessThanOrEqual(9 * MIN);
  });

  it('tracks route-scoped SLOs on their own route only, and an error-rate SLO by its max', () => {
    const { clock, monitor } = setup({
      slos: [
        { name: 'search-availability', kind: 'success-rate', objective: 0.99, route: 'GET /search' },
        { name: 'errors', kind: 'error-rate', max: 0.5 },
      ],
      burnRate: { rules: [{ name: 'fast', severity: 'high', factor: 2, longMs: 10 * MIN, shortMs: MIN }] },
    });
    for (let t = 0; t < 20 * MIN; t += STEP) {
      for (let i = 0; i < 10; i++) {
        monitor.recordRequest({ route: 'GET /search', durationMs: 5, status: i < 3 ? 500 : 200 }); // 30 % bad
        monitor.recordRequest({ route: 'GET /health', durationMs: 1, status: 200 });
      }
      monitor.evaluate();
      clock.advance(STEP);
    }
    const burn = monitor.stats().incidents.burnRate;
    expect(burn.map((b) => [b.slo, b.route, b.rules[0]!.long.burnRate])).toEqual([
      ['search-availability', 'GET /search', expect.closeTo(30, 5)], // 30 % bad / 1 % allowed
      ['errors', undefined, expect.closeTo(0.3, 5)], // 15 % bad overall / 50 % allowed
    ]);
    expect(monitor.incidents.list().map((i) => [i.type, i.scope, i.severity])).toEqual([['slo-burn', 'slo:search-availability', 'high']]);
  });

  it('can be switched off', () => {
    const { clock, monitor } = setup({ slos, burnRate: { enabled: false } });
    traffic(clock, monitor, 10 * MIN, 10, () => true, true);
    expect(monitor.stats().incidents.burnRate).toEqual([]);
    expect(monitor.incidents.list()).toEqual([]);
  });
});

import { describe, expect, it, vi } from 'vitest';
import type { SloConfig } from '../../src/config.js';
import { BurnRateTracker } from '../../src/incidents/burn-rate.js';
import { burnRateSchema, type BurnRateInput } from '../../src/incidents/config.js';
import { formatDuration } from '../../src/incidents/format.js';
import { setup } from './helpers.js';

const MIN = 60_000;
const H = 60 * MIN;
const DAY = 24 * H;

function tracker(input: BurnRateInput, slos: SloConfig[], minSamples = 1) {
  return new BurnRateTracker(burnRateSchema.parse(input), slos, minSamples, () => 0);
}

/** `n` requests at `at`, of which `bad` fail. */
function burst(t: BurnRateTracker, at: number, route: string, n: number, bad: number) {
  for (let i = 0; i < n; i++) t.record(at, route, i < bad);
}

const availability: SloConfig = { name: 'availability', kind: 'success-rate', objective: 0.99 } as SloConfig;

describe('burn rate: too little traffic is no data, not a clear', () => {
  const rules = [{ name: 'page', severity: 'critical' as const, factor: 10, longMs: H, shortMs: 5 * MIN }];

  it('an SLO with no requests in the short window gives no observation at all', () => {
    const t = tracker({ rules }, [availability]);
    const T0 = 100 * H;
    for (let m = 0; m < 30; m++) burst(t, T0 + m * MIN, 'GET /', 100, 100); // a full outage
    const firing = t.detector().observe({ now: T0 + 29 * MIN } as never);
    expect(firing).toHaveLength(1);
    expect(firing[0]).toMatchObject({ scope: 'slo:availability', severity: 'critical' });
    // Traffic stops. The long window still holds the outage, the short one is empty:
    // that is no data, so an open incident neither resolves nor steps down.
    expect(t.detector().observe({ now: T0 + 40 * MIN } as never)).toEqual([]);
    const [status] = t.status(T0 + 40 * MIN);
    expect(status!.rules[0]!.short.requests).toBe(0);
    expect(status!.rules[0]!.short.burnRate).toBeNull();
    expect(status!.rules[0]!.long.requests).toBe(3000);
    expect(status!.rules[0]!.firing).toBe(false);
  });

  it('fewer requests than minSamples in the short window is no data; reaching it is judged', () => {
    const t = tracker({ rules, minSamples: 50 }, [availability], 1);
    const T0 = 100 * H;
    burst(t, T0, 'GET /', 49, 49);
    expect(t.detector().observe({ now: T0 } as never)).toEqual([]);
    expect(t.status(T0)[0]!.rules[0]!.firing).toBe(false);
    burst(t, T0, 'GET /', 1, 1);
    expect(t.detector().observe({ now: T0 } as never)).toMatchObject([{ scope: 'slo:availability', severity: 'critical' }]);
  });

  it('the monitor’s minSamples is the default, the burnRate option overrides it', () => {
    // minEvents = max(floor, ⌊1 / (a·f)⌋ + 1); here 1 / (0.01 × 10) = 10, so 11 without a higher floor.
    // Read at 1 h, when the 1-hour window has been observed for its whole length.
    const fromMonitor = tracker({ rules }, [availability], 20);
    burst(fromMonitor, H, 'GET /', 19, 19); // floor 20 from the monitor: 19 is no data
    expect(fromMonitor.detector().observe({ now: H } as never)).toEqual([]);
    burst(fromMonitor, H, 'GET /', 1, 1);
    expect(fromMonitor.detector().observe({ now: H } as never)).toMatchObject([{ severity: 'critical' }]);
    // burnRate.minSamples 0 replaces the monitor's 20 (0 is a value, not "unset"): the floor is 11.
    const overridden = tracker({ rules, minSamples: 0 }, [availability], 20);
    burst(overridden, H, 'GET /', 10, 10);
    expect(overridden.detector().observe({ now: H } as never)).toEqual([]);
    burst(overridden, H, 'GET /', 1, 1);
    expect(overridden.detector().observe({ now: H } as never)).toMatchObject([{ severity: 'critical' }]);
  });

  it('healthy traffic is a clear reading (severity null), with the burn rate as the signal', () => {
    const t = tracker({ rules }, [availability]);
    burst(t, 10 * H, 'GET /', 100, 1); // 1 % bad = exactly the budget: 1×
    const [obs] = t.detector().observe({ now: 10 * H } as never);
    expect(obs).toMatchObject({ scope: 'slo:availability', severity: null, signal: { value: 1, direction: 'above', unit: 'number', at: 10 * H } });
    expect(obs!.signal!.threshold).toBeUndefined();
    expect(obs!.summary).toBeUndefined();
  });

  it('an incident stays open when traffic stops (monitor, fake clock)', () => {
    // `partial` judges the 1-hour window before the monitor is an hour old, so the
    // outage opens within its first two minutes (20 requests ≥ minEvents max(20, 11)).
    const { clock, monitor } = setup({
      slos: [{ name: 'availability', kind: 'success-rate', objective: 0.99 }],
      burnRate: { rules: rules.map((r) => ({ ...r, partial: true })), clearForMs: 2 * MIN },
    });
    for (let i = 0; i < 12; i++) {
      for (let r = 0; r < 20; r++) monitor.recordRequest({ route: 'GET /', durationMs: 5, status: 503 });
      monitor.evaluate();
      clock.advance(10_000);
    }
    const open = monitor.incidents.list().filter((i) => i.type === 'slo-burn');
    expect(open).toHaveLength(1);
    // No traffic for an hour.
    for (let i = 0; i < 360; i++) {
      monitor.evaluate();
      clock.advance(10_000);
    }
    expect(monitor.incidents.require(open[0]!.id).status).not.toBe('resolved');
  });
});

describe('burn rate: several SLOs and rules', () => {
  it('two SLOs on the same route both count every request of that route', () => {
    const slos = [
      { name: 'checkout-ok', kind: 'success-rate', objective: 0.99, route: 'POST /checkout' },
      { name: 'checkout-errors', kind: 'error-rate', max: 0.05, route: 'POST /checkout' },
      { name: 'overall', kind: 'success-rate', objective: 0.9 },
    ] as SloConfig[];
    const rules = [{ name: 'page', severity: 'critical' as const, factor: 2, longMs: H, shortMs: 5 * MIN }];
    const t = tracker({ rules }, slos);
    burst(t, 5 * H, 'POST /checkout', 100, 10); // 10 % bad
    burst(t, 5 * H, 'GET /other', 100, 0);
    const st = t.status(5 * H);
    expect(st.map((s) => [s.slo, s.route, s.rules[0]!.long.requests, s.rules[0]!.long.burnRate])).toEqual([
      ['checkout-ok', 'POST /checkout', 100, expect.closeTo(10, 9)], // 10 % / 1 %
      ['checkout-errors', 'POST /checkout', 100, expect.closeTo(2, 9)], // 10 % / 5 %
      ['overall', undefined, 200, expect.closeTo(0.5, 9)], // 5 % / 10 %
    ]);
    const obs = t.detector().observe({ now: 5 * H } as never);
    expect(obs.map((o) => [o.scope, o.severity])).toEqual([
      ['slo:checkout-ok', 'critical'],
      ['slo:checkout-errors', 'critical'],
      ['slo:overall', null],
    ]);
  });

  it('rules listed low → high open at the highest firing severity', () => {
    const rules = [
      { name: 'ticket', severity: 'low' as const, factor: 1, longMs: 2 * H, shortMs: 10 * MIN },
      { name: 'warn', severity: 'medium' as const, factor: 2, longMs: H, shortMs: 5 * MIN },
      { name: 'page', severity: 'high' as const, factor: 4, longMs: H, shortMs: 5 * MIN },
      { name: 'never', severity: 'critical' as const, factor: 1000, longMs: H, shortMs: 5 * MIN },
    ];
    const t = tracker({ rules }, [availability]);
    // 5×: ticket, warn and page fire; 'never' does not. 200 requests reach every rule's
    // minEvents (⌊1 / (0.01·f)⌋ + 1: 101, 51, 26, 1), so each rule is judged.
    burst(t, 7 * H, 'GET /', 200, 10);
    const [obs] = t.detector().observe({ now: 7 * H } as never);
    expect(obs).toMatchObject({ severity: 'high', signal: { threshold: 4, name: 'error-budget burn rate (1h 00m)' } });
    expect(obs!.summary).toContain('(rule page, ≥ 4×)');
    const firing = t.status(7 * H)[0]!.rules.map((r) => [r.name, r.firing]);
    expect(firing).toEqual([
      ['ticket', true],
      ['warn', true],
      ['page', true],
      ['never', false],
    ]);
    // Listed high → low, the highest firing severity still wins (not the last firing rule).
    const r = tracker({ rules: [...rules].reverse() }, [availability]);
    burst(r, 7 * H, 'GET /', 200, 10);
    expect(r.detector().observe({ now: 7 * H } as never)).toMatchObject([{ severity: 'high', signal: { threshold: 4 } }]);
  });

  it('a rule fires only when both its windows reach the factor', () => {
    const rules = [{ name: 'page', severity: 'high' as const, factor: 5, longMs: H, shortMs: 5 * MIN }];
    // Long window burning, short window clean: not firing (the problem has stopped).
    const t = tracker({ rules }, [availability]);
    for (let m = 0; m < 30; m++) burst(t, 20 * H + m * MIN, 'GET /', 100, 50);
    for (let m = 30; m < 40; m++) burst(t, 20 * H + m * MIN, 'GET /', 100, 0);
    const r = t.status(20 * H + 39 * MIN)[0]!.rules[0]!;
    expect(r.long.burnRate!).toBeGreaterThanOrEqual(5);
    expect(r.short.burnRate).toBe(0);
    expect(r.firing).toBe(false);
    // Short window burning, long window diluted below the factor: not firing either.
    // The exact 5-minute window read at 59 min is [54 min, 59 min]: the bursts at 54 … 59
    // (slot 54 lies wholly inside it), so 10× for the six of them.
    const u = tracker({ rules }, [availability]);
    for (let m = 0; m < 54; m++) burst(u, 20 * H + m * MIN, 'GET /', 100, 0);
    for (let m = 54; m < 60; m++) burst(u, 20 * H + m * MIN, 'GET /', 100, 10);
    const s = u.status(20 * H + 59 * MIN)[0]!.rules[0]!;
    expect(s.short.burnRate).toBeCloseTo(10, 9);
    expect(s.long.burnRate!).toBeLessThan(5);
    expect(s.firing).toBe(false);
    // Exactly at the factor in both windows: firing (≥). An objective of 0.75 keeps the
    // allowed fraction (0.25) exact in binary; 1 − 0.99 is not (see the report on issue 9).
    const quarter = { name: 'q', kind: 'success-rate', objective: 0.75 } as SloConfig;
    const v = tracker({ rules: [{ ...rules[0]!, factor: 2 }] }, [quarter]);
    burst(v, 20 * H, 'GET /', 100, 49);
    expect(v.status(20 * H)[0]!.rules[0]!.firing).toBe(false);
    burst(v, 20 * H, 'GET /', 100, 51); // 100 bad of 200 = 50 % = 2 × 25 %
    expect(v.status(20 * H)[0]!.rules[0]!.long.burnRate).toBe(2);
    expect(v.status(20 * H)[0]!.rules[0]!.firing).toBe(true);
  });
});

describe('burn rate: the summary’s numbers', () => {
  it('states the long and short burn rates, the rule and how long the budget lasts', () => {
    const slotMs = MIN;
    const rule = { name: 'page', severity: 'high' as const, factor: 2, longMs: H, shortMs: 5 * MIN };
    const periodMs = 30 * DAY;
    const t = tracker({ rules: [rule], slotMs, periodMs }, [availability]);
    // Per slot: 100 requests. 120 slots at 2 % bad, then 10 slots at 10 % bad; read in the last one.
    const perSlot: number[] = [];
    for (let i = 0; i < 120; i++) perSlot.push(2);
    for (let i = 0; i < 10; i++) perSlot.push(10);
    const base = 1_000 * H;
    perSlot.forEach((bad, i) => burst(t, base + i * slotMs + 30_000, 'GET /', 100, bad));
    const now = base + (perSlot.length - 1) * slotMs + 30_000;

    // A window of `ms` is exactly [now − ms, now] (CounterRing.exactSums): every slot
    // starting inside it counts whole, the slot holding now − ms by the share of it
    // inside the window (its events taken as spread evenly over it).
    const window = (ms: number) => {
      const from = now - ms;
      let requests = 0;
      let bad = 0;
      perSlot.forEach((b, i) => {
        const start = base + i * slotMs;
        const share = start >= from ? 1 : Math.max(0, (start + slotMs - from) / slotMs);
        requests += 100 * share;
        bad += b * share;
      });
      return { requests, burn: bad / requests / 0.01 };
    };
    const longW = window(rule.longMs);
    const shortW = window(rule.shortMs);
    // now − 1 h and now − 5 m fall half-way through a slot: 60 (5) whole slots and half of one.
    expect(longW.requests).toBe(6050);
    expect(shortW.requests).toBe(550);
    const long = longW.burn;
    const short = shortW.burn;
    expect(short).toBeCloseTo(10, 9); // the short window lies inside the 10 %-bad stretch
    expect(long).toBeGreaterThan(2);
    expect(long).toBeLessThan(10);

    const round = (n: number) => Math.round(n * 10) / 10;
    const [obs] = t.detector().observe({ now } as never);
    expect(obs!.severity).toBe('high');
    expect(obs!.signal).toEqual({ name: 'error-budget burn rate (1h 00m)', value: round(long), unit: 'number', direction: 'above', at: now, threshold: 2 });
    expect(obs!.summary).toBe(
      `SLO availability is burning the error budget at ${round(long)}× over 1h 00m and ${round(short)}× over 5m 00s ` +
        `(rule page, ≥ 2×): the 30d 0h budget lasts ${formatDuration(periodMs / long)} at this rate`,
    );
    const st = t.status(now)[0]!.rules[0]!;
    expect(st.long).toEqual({ windowMs: H, requests: expect.closeTo(longW.requests, 9), burnRate: expect.closeTo(long, 9), judged: true });
    expect(st.short).toEqual({ windowMs: 5 * MIN, requests: expect.closeTo(shortW.requests, 9), burnRate: expect.closeTo(short, 9), judged: true });
  });

  it('a full outage spends a 30-day budget in 30d / 100 = 7h 12m', () => {
    const rule = { name: 'page', severity: 'critical' as const, factor: 14.4, longMs: H, shortMs: 5 * MIN };
    const t = tracker({ rules: [rule] }, [availability]);
    burst(t, 50 * H, 'GET /', 100, 100);
    const [obs] = t.detector().observe({ now: 50 * H } as never);
    expect(obs!.summary).toBe(
      'SLO availability is burning the error budget at 100× over 1h 00m and 100× over 5m 00s (rule page, ≥ 14.4×): the 30d 0h budget lasts 7h 12m at this rate',
    );
  });
});

describe('burn rate: configuration', () => {
  it('judges nothing when disabled (budgets are still kept), and ignores SLO kinds it cannot judge', () => {
    const off = tracker({ enabled: false }, [availability]);
    expect(off.active).toBe(true); // the error budget over the period is kept with alerts off
    burst(off, DAY, 'GET /', 100, 100); // a full outage, with every window observed and full
    expect(off.status(DAY)).toEqual([]);
    expect(off.detector().observe({ now: DAY } as never)).toEqual([]);
    expect(off.budget('availability', DAY)).toMatchObject({ events: 100, badEvents: 100 });
    // Memory, CPU and event-loop SLOs are not good-event ratios: nothing to count or judge.
    const memoryOnly = tracker({}, [{ name: 'heap', kind: 'memory', of: 'heap', max: 0.8 } as SloConfig]);
    expect(memoryOnly.active).toBe(false);
    burst(memoryOnly, DAY, 'GET /', 100, 100);
    expect(memoryOnly.status(DAY)).toEqual([]);
    expect(memoryOnly.detector().observe({ now: DAY } as never)).toEqual([]);
    expect(memoryOnly.budget('heap', DAY)).toBeUndefined();
  });
});

describe('burn rate: edges', () => {
  const rules = [
    { name: 'fast', severity: 'critical' as const, factor: 10, longMs: H, shortMs: 5 * MIN },
    { name: 'slow', severity: 'medium' as const, factor: 2, longMs: 6 * H, shortMs: 30 * MIN },
  ];

  it('minSamples 0: a short window with no requests is still no data', () => {
    // minSamples 0 leaves minEvents at ⌊1 / (0.01 × 10)⌋ + 1 = 11.
    const t = tracker({ rules: [rules[0]!], minSamples: 0 }, [availability]);
    burst(t, 10 * H, 'GET /', 11, 11);
    expect(t.detector().observe({ now: 10 * H } as never)).toMatchObject([{ severity: 'critical' }]);
    expect(t.detector().observe({ now: 10 * H + 10 * MIN } as never)).toEqual([]);
  });

  it('a clear reading shows the first rule that has data; a rule without data in its short window is skipped', () => {
    const t = tracker({ rules }, [availability]);
    for (let m = 0; m < 20; m++) burst(t, 10 * H + m * MIN, 'GET /', 10, 0);
    const [both] = t.detector().observe({ now: 10 * H + 19 * MIN } as never);
    expect(both!.signal!.name).toBe('error-budget burn rate (1h 00m)');
    // 10 minutes later: the 5-minute window is empty, the 30-minute one is not.
    const [obs] = t.detector().observe({ now: 10 * H + 29 * MIN } as never);
    expect(obs).toMatchObject({ severity: null, signal: { name: 'error-budget burn rate (6h 00m)', value: 0 } });
  });

  it('an SLO over all traffic has no route in its status', () => {
    const t = tracker({ rules }, [availability, { name: 'r', kind: 'success-rate', objective: 0.9, route: 'GET /r' } as SloConfig]);
    const [all, routed] = t.status(0);
    expect('route' in all!).toBe(false);
    expect(routed!.route).toBe('GET /r');
  });

  it('counts recorded at one time are moved into the rings once, when the time changes', () => {
    const t = tracker({ rules }, [availability]);
    const internals = t as unknown as { flush(next: number): void };
    const flush = vi.spyOn(internals, 'flush');
    const time = new Float64Array([60_000]);
    t.recordStaged(time, 'GET /', false);
    expect(flush).toHaveBeenCalledTimes(1);
    for (let i = 0; i < 50; i++) t.recordStaged(time, 'GET /', i % 2 === 0);
    expect(flush).toHaveBeenCalledTimes(1); // same time: a compare and two increments, no call
    time[0] = 120_000;
    t.recordStaged(time, 'GET /', true);
    expect(flush).toHaveBeenCalledTimes(2);
    const r = t.status(120_000)[0]!.rules[0]!;
    expect(r.short.requests).toBe(52);
    expect(r.short.burnRate).toBeCloseTo(26 / 52 / 0.01, 9);
  });

  it('routes with no route-scoped SLO are not looked up on the hot path', () => {
    const t = tracker({ rules }, [availability]);
    const byRoute = (t as unknown as { byRoute: Map<string, unknown> }).byRoute;
    const get = vi.spyOn(byRoute, 'get');
    t.record(0, 'GET /', false);
    expect(get).not.toHaveBeenCalled();
    const scoped = tracker({ rules }, [{ name: 'r', kind: 'success-rate', objective: 0.9, route: 'GET /r' } as SloConfig]);
    scoped.record(0, 'GET /x', true); // another route: looked up, not counted
    scoped.record(0, 'GET /r', false);
    expect(scoped.status(0)[0]!.rules[0]!.long.requests).toBe(1);
  });
});

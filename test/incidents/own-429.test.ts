// Issue 12, "remediation that cannot hurt": 429s firebreak's own limiter produces only because
// its limit was lowered are not evidence of an attack — not for the limiter's detector, and not
// for the preset's service-wide 429-rate detector either. Replays the runbook's demo on a ManualClock.
import { describe, expect, it } from 'vitest';
import type { Notification, RateLimiter } from '../../src/index.js';
import type { ManualClock } from '../../src/testing/index.js';
import { flush, setup } from '../actions/helpers.js';

type Monitor = ReturnType<typeof setup>['monitor'];

function pager() {
  const sent: Notification[] = [];
  return {
    notifier: { notify: (n: Notification) => void sent.push(n) },
    /** Notifications that wake someone for a rate-limit-attack. */
    pages: () => sent.filter((n) => n.incident.type === 'rate-limit-attack' && (n.event === 'incident:opened' || n.event === 'incident:reopened')),
  };
}

/** One second of traffic, recorded as the middleware does: 429 when the limiter rejects. */
async function second(clock: ManualClock, monitor: Monitor, limiter: RateLimiter, attackerPerSecond = 0): Promise<void> {
  // The demo: 5 clients at 5 requests a second each, spread over the second.
  for (let r = 0; r < 5; r++) {
    for (let c = 0; c < 5; c++) {
      const v = limiter.check(`client-${c}`);
      monitor.recordRequest({ route: 'GET /search', durationMs: 40, status: v.allowed ? 200 : 429 });
    }
  }
  for (let i = 0; i < attackerPerSecond; i++) {
    const v = limiter.check('203.0.113.7');
    monitor.recordRequest({ route: 'GET /search', durationMs: 5, status: v.allowed ? 200 : 429 });
  }
  clock.advance(1_000);
  await flush();
}

function demo() {
  const p = pager();
  const { clock, monitor } = setup({ preset: 'runbook', autoRemediate: true, notifiers: [p.notifier] });
  const limiter = monitor.rateLimiter('api', { maxRequests: 100, windowSeconds: 1 });
  return { p, clock, monitor, limiter };
}

describe("the service-wide 429 detector does not feed on firebreak's own 429s", () => {
  it("an operator's 10/hour adjust pages nobody and is not tightened, over 5 minutes of demo traffic", async () => {
    const { p, clock, monitor, limiter } = demo();
    monitor.start();
    for (let s = 0; s < 30; s++) await second(clock, monitor, limiter);
    const adjust = await monitor.actions.execute('rate-limit.adjust', { params: { name: 'api', maxRequests: 10, windowSeconds: 3600 }, by: 'alice', source: 'manual' });
    expect(adjust.outcome).toBe('success');
    for (let s = 0; s < 300; s++) await second(clock, monitor, limiter);
    await monitor.flush();
    await monitor.remediation.settled();
    monitor.stop();

    // The limiter did reject most of the traffic: the 429s exist, they are its own.
    expect(limiter.stats().recent.limited).toBeGreaterThan(limiter.stats().recent.allowed);
    expect(monitor.incidents.list({ type: 'rate-limit-attack' })).toEqual([]);
    expect(p.pages()).toEqual([]);
    expect(monitor.actions.audit({ action: 'rate-limit.tighten' })).toEqual([]);
    expect(limiter.current()).toEqual({ maxRequests: 10, windowSeconds: 3600 });
  });

  it('a real attack after the adjust (one key at 10× the configured limit) still opens exactly one page', async () => {
    const { p, clock, monitor, limiter } = demo();
    monitor.start();
    for (let s = 0; s < 30; s++) await second(clock, monitor, limiter);
    await monitor.actions.execute('rate-limit.adjust', { params: { name: 'api', maxRequests: 10, windowSeconds: 3600 }, by: 'alice', source: 'manual' });
    for (let s = 0; s < 300; s++) await second(clock, monitor, limiter);
    expect(p.pages()).toEqual([]);
    for (let s = 0; s < 180; s++) await second(clock, monitor, limiter, 1_000);
    await monitor.flush();
    await monitor.remediation.settled();
    monitor.stop();

    expect(p.pages()).toHaveLength(1);
    expect(monitor.incidents.list({ type: 'rate-limit-attack', status: 'active' }).length).toBeGreaterThan(0);
  });

  it('a real attack at the configured limit (no adjust) still opens exactly one page', async () => {
    const { p, clock, monitor, limiter } = demo();
    monitor.start();
    for (let s = 0; s < 180; s++) await second(clock, monitor, limiter, 1_000);
    await monitor.flush();
    await monitor.remediation.settled();
    monitor.stop();

    expect(p.pages()).toHaveLength(1);
    expect(p.pages()[0]!.incident.scope).toBe('service');
  });
});

describe("a limiter's own rejections", () => {
  it('counts rejections of keys within the configured limit only: not over it, not blocked', () => {
    const { clock, monitor } = setup();
    const limiter = monitor.rateLimiter('api', { maxRequests: 100, windowSeconds: 60 });
    limiter.adjust({ maxRequests: 10, windowSeconds: 3600 });
    for (let i = 0; i < 20; i++) limiter.check('client');
    // 10 allowed, 10 rejected while offering 20 of the configured 100 per minute: all its own.
    expect(limiter.recentOwnRejections()).toBe(10);
    for (let i = 0; i < 150; i++) limiter.check('attacker');
    // Rejected from the 11th; over the configured limit from the 101st: 90 own, 50 excess.
    expect(limiter.recentOwnRejections()).toBe(10 + 90);
    expect(limiter.recentExcess()).toBe(50);
    limiter.block('client');
    for (let i = 0; i < 5; i++) limiter.check('client');
    expect(limiter.stats()).toMatchObject({ recentOwnRejections: 100, recentExcess: 50 });
    clock.advance(300_000 + 10_000);
    expect(limiter.recentOwnRejections()).toBe(0);
  });

  it('429s the limiters did not produce (an upstream answering 429) still open the service-wide incident', async () => {
    const p = pager();
    const { clock, monitor } = setup({ preset: 'runbook', incidents: { forMs: 0 }, notifiers: [p.notifier] });
    const limiter = monitor.rateLimiter('api', { maxRequests: 10, windowSeconds: 60 });
    limiter.adjust({ maxRequests: 1, windowSeconds: 60 });
    // One client at 5 a minute against the lowered 1: 1 allowed, 4 rejected by the limiter, its own.
    for (let i = 0; i < 5; i++) monitor.recordRequest({ route: 'GET /search', durationMs: 5, status: limiter.check('client').allowed ? 200 : 429 });
    expect(limiter.recentOwnRejections()).toBe(4);
    for (let i = 0; i < 100; i++) monitor.recordRequest({ route: 'GET /search', durationMs: 5, status: i % 5 === 0 ? 429 : 200 });
    monitor.evaluate();
    clock.advance(1);
    await monitor.flush();
    const [incident] = monitor.incidents.list({ type: 'rate-limit-attack' });
    expect(incident).toMatchObject({ scope: 'service', severity: 'high' });
    // 24 429s of 105 requests, 4 of them the limiter's own: 20 / 105 is the reading.
    expect(incident!.signalAtOpen?.value).toBeCloseTo(20 / 105, 5);
    expect(p.pages()).toHaveLength(1);
  });
});

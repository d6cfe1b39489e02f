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

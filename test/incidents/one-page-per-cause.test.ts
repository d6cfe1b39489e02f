// Issue 12, finding 6: one cause, one page. A burst of 500s used to page twice (slo-burn and
// high-error-rate), a rate-limit flood twice (service scope and limiter scope, each tightening).
import { describe, expect, it } from 'vitest';
import type { Notification } from '../../src/index.js';
import { flush, setup } from '../actions/helpers.js';

const STEP = 10_000;

function pager() {
  const sent: Notification[] = [];
  return { sent, notifier: { notify: (n: Notification) => void sent.push(n) }, pages: () => sent.filter((n) => n.event === 'incident:opened') };
}

describe('one page per cause', () => {
  it('a burst of 500s pages once (high-error-rate) and runs remediation once; slo-burn is recorded, inhibited by it', async () => {
    const p = pager();
    const { clock, monitor } = setup({
      preset: 'runbook',
      slos: [{ name: 'availability', kind: 'success-rate', objective: 0.999 }],
      // Partial windows: the burst comes right after start, before the 1 h window's warm-up ends.
      burnRate: { rules: [{ name: 'page', severity: 'critical', factor: 14.4, longMs: 3_600_000, shortMs: 300_000, partial: true }] },
      notifiers: [p.notifier],
      autoRemediate: true,
    });
    monitor.feature('rerank', { risky: true });
    const opened: string[] = [];
    monitor.on('incident:opened', (i) => opened.push(i.type));
    for (let s = 0; s < 12; s++) {
      for (let i = 0; i < 30; i++) monitor.recordRequest({ route: 'GET /search', durationMs: 40, status: 500 });
      monitor.evaluate();
      await flush();
      clock.advance(STEP);
    }
    await monitor.flush();
    await monitor.remediation.settled();

    const all = monitor.incidents.list({ status: 'active' });
    // The preset's SLO table burns too: one slo-burn per SLO allowance, every one explained by the cause.
    expect(new Set(all.map((i) => i.type))).toEqual(new Set(['high-error-rate', 'slo-burn']));
    const cause = all.find((i) => i.type === 'high-error-rate')!;
    const derived = all.filter((i) => i.type === 'slo-burn');
    expect(derived.map((d) => d.scope)).toContain('slo:availability');
    expect(p.pages().map((n) => n.incident.type)).toEqual(['high-error-rate']);
    expect(opened).toEqual(['high-error-rate']);
    expect(monitor.remediation.stats().runs).toBe(1);
    for (const d of derived) {
      expect(d.suppressed).toMatchObject({ kind: 'inhibition', by: cause.id });
      expect(d.timeline.some((e) => e.kind === 'suppressed' && e.message.includes(cause.id))).toBe(true);
      expect(cause.timeline.some((e) => e.message.includes(d.id))).toBe(true);
      // Nothing about a derived incident reached the notifiers.
      expect(p.sent.filter((n) => n.incident.id === d.id)).toEqual([]);
    }
  });

  it('a rate-limit flood opens one page: the limiter-scope twin is inhibited by the service-scope attack, one tighten', async () => {
    const p = pager();
    const { monitor } = setup({ preset: 'runbook', incidents: { forMs: 0 }, notifiers: [p.notifier], autoRemediate: true });
    const api = monitor.rateLimiter('api', { maxRequests: 10, windowSeconds: 60 });
    for (let i = 0; i < 50; i++) {
      const d = api.check('203.0.113.7');
      monitor.recordRequest({ route: 'GET /search', durationMs: 5, status: d.allowed ? 200 : 429 });
    }
    monitor.evaluate();
    await flush();
    await monitor.flush();
    await monitor.remediation.settled();

    const all = monitor.incidents.list({ status: 'active' });
    expect(all.map((i) => [i.type, i.scope]).sort()).toEqual([
      ['rate-limit-attack', 'limiter:api'],
      ['rate-limit-attack', 'service'],
    ]);
    expect(p.pages().map((n) => n.incident.scope)).toEqual(['service']);
    expect(monitor.remediation.stats().runs).toBe(1);
    expect(monitor.actions.audit().filter((e) => e.action === 'rate-limit.tighten')).toHaveLength(1);
    expect(all.find((i) => i.scope === 'limiter:api')!.suppressed).toMatchObject({ kind: 'inhibition' });
  });

  it('when the cause resolves while the derived incident still fires, the derived one pages then', async () => {
    const p = pager();
    const { clock, monitor } = setup({ incidents: { forMs: 0, clearForMs: 0 }, notifiers: [p.notifier] });
    let cause = 1;
    let derived = 1;
    monitor.detector({ name: 'cause', type: 'high-error-rate', evaluate: () => (cause ? 'high' : 'ok') });
    monitor.detector({ name: 'derived', type: 'slo-burn', evaluate: () => (derived ? 'high' : 'ok') });
    monitor.evaluate();
    await monitor.flush();
    expect(p.pages().map((n) => n.incident.type)).toEqual(['high-error-rate']);
    cause = 0;
    clock.advance(STEP);
    monitor.evaluate();
    await monitor.flush();
    expect(p.pages().map((n) => n.incident.type)).toEqual(['high-error-rate', 'slo-burn']);
    const d = monitor.incidents.list({ type: 'slo-burn' })[0]!;
    expect(d.suppressed).toBeUndefined();
    expect(d.timeline.map((e) => e.kind)).toContain('unsuppressed');
    derived = 0;
  });

  it('an inhibited incident that resolves before its cause never pages, not even a resolution notice', async () => {
    const p = pager();
    const { clock, monitor } = setup({ incidents: { forMs: 0, clearForMs: 0 }, notifiers: [p.notifier] });
    let derived = 1;
    monitor.detector({ name: 'cause', type: 'high-error-rate', evaluate: () => 'high' });
    monitor.detector({ name: 'derived', type: 'slo-burn', evaluate: () => (derived ? 'high' : 'ok') });
    monitor.evaluate();
    derived = 0;
    clock.advance(STEP);
    monitor.evaluate();
    await monitor.flush();
    expect(monitor.incidents.list({ type: 'slo-burn' })[0]!.status).toBe('resolved');
    expect(p.sent.filter((n) => n.incident.type === 'slo-burn')).toEqual([]);
  });
});

describe('incidents.inhibit', () => {
  it('names a bad rule field in the ConfigError, and [] turns inhibition off', async () => {
    expect(() => setup({ incidents: { inhibit: [{ source: { type: 'high-error-rate' }, target: { type: '' } }] } })).toThrow(
      expect.objectContaining({ code: 'CONFIG_INVALID', message: expect.stringMatching(/incidents\.inhibit\.0\.target\.type/) }),
    );
    const sent: string[] = [];
    const { monitor } = setup({ incidents: { forMs: 0, inhibit: [] }, notifiers: [{ notify: (n) => void sent.push(n.incident.type) }] });
    monitor.detector({ name: 'cause', type: 'high-error-rate', evaluate: () => 'high' });
    monitor.detector({ name: 'derived', type: 'slo-burn', evaluate: () => 'high' });
    monitor.evaluate();
    await monitor.flush();
    expect(sent.sort()).toEqual(['high-error-rate', 'slo-burn']);
  });
});

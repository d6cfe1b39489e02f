import { describe, expect, it } from 'vitest';
import { setup, steps } from './helpers.js';

describe('incident metrics (Prometheus, computed at scrape time)', () => {
  it('exposes open incidents, totals and time to detect / acknowledge / resolve', async () => {
    const { clock, monitor } = setup({ preset: 'runbook' });
    steps(clock, monitor, 30, 100);
    steps(clock, monitor, 8, 2500); // detected at +10 s, opened at +70 s: time to detect 60 s
    let text = await monitor.metrics();
    expect(text).toContain('firebreak_incidents_open{type="high-latency",severity="high"} 1');
    expect(text).toContain('firebreak_incidents_total{type="high-latency",severity="high"} 1');
    expect(text).toContain('firebreak_incident_time_to_detect_seconds_bucket{le="30"} 0');
    expect(text).toContain('firebreak_incident_time_to_detect_seconds_bucket{le="60"} 1');
    expect(text).toContain('firebreak_incident_time_to_detect_seconds_sum 60');
    expect(text).toContain('firebreak_incident_time_to_detect_seconds_count 1');
    expect(text).toContain('firebreak_incident_time_to_acknowledge_seconds_count 0');
    expect(text).toContain('# TYPE firebreak_incident_time_to_resolve_seconds histogram');
    expect(text).toContain('firebreak_incidents_pending 0');

    const [inc] = monitor.incidents.list();
    clock.advance(290_000);
    monitor.incidents.acknowledge(inc!.id, { by: 'alice' }); // 5 min after open
    clock.advance(600_000);
    monitor.incidents.resolve(inc!.id, { by: 'alice' });
    text = await monitor.metrics();
    expect(text).not.toContain('firebreak_incidents_open{');
    expect(text).toContain('firebreak_incident_time_to_acknowledge_seconds_bucket{le="300"} 1');
    expect(text).toContain('firebreak_incident_time_to_acknowledge_seconds_sum 300');
    expect(text).toContain('firebreak_incident_time_to_resolve_seconds_sum 900');
    expect(text).toContain('firebreak_incident_time_to_resolve_seconds_bucket{le="600"} 0');
    expect(text).toContain('firebreak_incident_time_to_resolve_seconds_bucket{le="900"} 1');
    expect(monitor.stats().incidents).toMatchObject({
      timeToDetect: { count: 1, meanMs: 60_000, p50Ms: 60_000, maxMs: 60_000 },
      timeToAcknowledge: { count: 1, lastMs: 300_000 },
      timeToResolve: { count: 1, lastMs: 900_000 },
    });
  });

  it('counts notifier results and detector errors', async () => {
    const { monitor } = setup({ notifiers: [{ notify: () => {}, name: 'pager' }] });
    monitor.detector({
      type: 'x',
      evaluate: () => {
        throw new Error('bad');
      },
    });
    monitor.evaluate();
    monitor.incidents.open({ type: 't', severity: 'low', summary: 's' });
    await monitor.flush();
    const text = await monitor.metrics();
    expect(text).toContain('firebreak_incident_notifications_total{notifier="pager",result="delivered"} 1');
    expect(text).toContain('firebreak_detector_errors_total{detector="x"} 1');
  });
});

/**
 * Testing a service that uses firebreak without sleeping: drive time with a
 * ManualClock, or let vitest fake the timers the default clock uses.
 *
 * Run: npm run build && npx vitest run --config examples/testing/vitest.config.ts
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createMonitor, systemClock } from 'firebreak';
import { ManualClock } from 'firebreak/testing';
import { SearchService, fakeBackend } from './search-service.js';

const slos = [
  { name: 'latency-p95', kind: 'latency', quantile: 0.95, thresholdMs: 800 },
  { name: 'availability', kind: 'success-rate', objective: 0.995 },
] as const;

describe('SearchService with a ManualClock', () => {
  it('breaches the p95 SLO during a latency spike and recovers once the window rolls past it', async () => {
    const clock = new ManualClock();
    const monitor = createMonitor({ service: 'search-api', clock, slos: [...slos] });
    let latency = 120;
    const service = new SearchService(monitor, fakeBackend(clock, () => latency));

    // One search: start it, move time by its latency, and await the answer.
    const searchFor = async (ms: number): Promise<void> => {
      latency = ms;
      const pending = service.search('shoes');
      clock.advance(ms);
      await pending;
    };

    for (let i = 0; i < 50; i++) await searchFor(120);
    expect(monitor.evaluate().slos.find((s) => s.name === 'latency-p95')?.status).toBe('ok');

    for (let i = 0; i < 50; i++) await searchFor(2500);
    const spike = monitor.evaluate().slos.find((s) => s.name === 'latency-p95');
    expect(spike?.status).toBe('breach');
    expect(spike?.value).toBeGreaterThan(2400);

    // Five minutes later the spike has left the rolling window.
    clock.advance(5 * 60_000);
    for (let i = 0; i < 50; i++) await searchFor(120);
    expect(monitor.evaluate().slos.find((s) => s.name === 'latency-p95')?.status).toBe('ok');
  });

  it('counts backend failures against the availability SLO', async () => {
    const clock = new ManualClock();
    const monitor = createMonitor({ service: 'search-api', clock, slos: [...slos] });
    let n = 0;
    const service = new SearchService(monitor, fakeBackend(clock, () => 50, () => ++n % 10 === 0));

    for (let i = 0; i < 100; i++) {
      const pending = service.search('q').catch(() => 'failed');
      clock.advance(50);
      await pending;
    }
    const availability = monitor.evaluate().slos.find((s) => s.name === 'availability');
    expect(availability?.value).toBeCloseTo(0.9, 5);
    expect(availability?.status).toBe('breach');
  });
});

describe('incidents on a ManualClock', () => {
  it('opens one high-latency incident after forMs and resolves it after clearForMs, every step on the timeline', async () => {
    const clock = new ManualClock();
    const monitor = createMonitor({
      service: 'search-api',
      clock,
      preset: 'runbook',
      window: { durationMs: 60_000, slotMs: 5_000 },
      incidents: { forMs: 30_000, clearForMs: 60_000 },
    });
    let latency = 2500;
    const service = new SearchService(monitor, fakeBackend(clock, () => latency));
    const opened: string[] = [];
    monitor.on('incident:opened', (incident) => opened.push(`${incident.type}/${incident.severity}`));

    // `ms` of traffic: ten concurrent searches at a time, an evaluation after each batch.
    const traffic = async (ms: number): Promise<void> => {
      const until = clock.now() + ms;
      while (clock.now() < until) {
        const batch = Promise.all(Array.from({ length: 10 }, () => service.search('q')));
        clock.advance(latency); // the backend answers…
        await batch; // …and the searches finish (and are recorded) at that time
        if (latency < 1000) clock.advance(1000 - latency);
        monitor.evaluate();
      }
    };

    latency = 2500; // p95 > 2000 ms: the runbook's "high" row
    await traffic(10_000);
    expect(opened).toEqual([]); // the condition has not held for forMs yet
    await traffic(40_000);
    expect(opened).toEqual(['high-latency/high']);
    const [incident] = monitor.incidents.list({ status: 'active' });

    latency = 50;
    await traffic(60_000); // the slow samples leave the 60 s window
    expect(monitor.incidents.get(incident!.id)?.status).not.toBe('resolved'); // clear, but not for clearForMs yet
    await traffic(70_000);
    const resolved = monitor.incidents.get(incident!.id)!;
    expect(resolved.status).toBe('resolved');
    expect(resolved.timeline.map((e) => e.kind)).toEqual(expect.arrayContaining(['opened', 'resolved']));
    expect(monitor.incidents.postmortem(incident!.id)).toContain('high-latency');
  });
});

describe('SearchService with vi.useFakeTimers()', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('runs the scheduled evaluation when fake time passes and reports the breach', async () => {
    vi.useFakeTimers({ now: new Date('2026-01-01T00:00:00Z') });
    // The default clock reads the (now faked) global timers at every call.
    const monitor = createMonitor({ service: 'search-api', clock: systemClock, slos: [...slos], evaluateEveryMs: 10_000 });
    const breaches: string[] = [];
    monitor.on('slo:breach', (r) => breaches.push(r.name));
    const service = new SearchService(monitor, fakeBackend(systemClock, () => 3000));
    monitor.start();

    const pending = Promise.all(Array.from({ length: 40 }, (_, i) => service.search(`q${i}`)));
    await vi.advanceTimersByTimeAsync(3000);
    await pending;
    expect(breaches).toEqual([]); // nothing evaluated yet

    await vi.advanceTimersByTimeAsync(10_000); // the scheduled evaluation runs
    expect(breaches).toContain('latency-p95');

    monitor.stop();
    expect(vi.getTimerCount()).toBe(0); // stop() cancelled everything it scheduled
  });
});

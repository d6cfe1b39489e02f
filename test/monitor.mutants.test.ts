import { describe, expect, it } from 'vitest';
import { createMonitor, type Incident } from '../src/index.js';
import type { Detector } from '../src/incidents/detector.js';
import { processProbes } from '../src/metrics/process.js';
import { ManualClock } from '../src/testing/index.js';
import { fixedProbes } from './helpers/probes.js';

function setup() {
  const clock = new ManualClock();
  const monitor = createMonitor({ service: 'api', clock, probes: fixedProbes() });
  return { clock, monitor };
}

/** The detection engine of a monitor, to add a raw Detector (the interface built-in detectors implement). */
function addRaw(monitor: ReturnType<typeof setup>['monitor'], d: Detector): void {
  (monitor as unknown as { incidentSystem: { detection: { add(d: Detector): void } } }).incidentSystem.detection.add(d);
}

describe('monitor events: on, once, off, listenerCount', () => {
  it('once() fires a single time; off() removes on() and once() listeners; listenerCount() counts them', () => {
    const { monitor } = setup();
    const seen: string[] = [];
    const onOpened = (i: Incident) => seen.push(`on:${i.type}`);
    const onceOpened = (i: Incident) => seen.push(`once:${i.type}`);
    // The monitor may listen itself (auto-remediation): count relative to that.
    const base = monitor.listenerCount('incident:opened');
    monitor.on('incident:opened', onOpened).once('incident:opened', onceOpened);
    expect(monitor.listenerCount('incident:opened')).toBe(base + 2);
    monitor.incidents.open({ type: 'a', severity: 'low', summary: 's' });
    expect(seen).toEqual(['on:a', 'once:a']);
    expect(monitor.listenerCount('incident:opened')).toBe(base + 1);
    monitor.incidents.open({ type: 'b', severity: 'low', summary: 's' });
    expect(seen).toEqual(['on:a', 'once:a', 'on:b']);
    monitor.off('incident:opened', onOpened);
    expect(monitor.listenerCount('incident:opened')).toBe(base);
    monitor.incidents.open({ type: 'c', severity: 'low', summary: 's' });
    expect(seen).toEqual(['on:a', 'once:a', 'on:b']);
  });

  it('off() before a once() listener fired removes it; off() of an unknown listener changes nothing', () => {
    const { monitor } = setup();
    const seen: string[] = [];
    const base = monitor.listenerCount('incident:opened');
    const fn = (i: Incident) => seen.push(i.type);
    monitor.once('incident:opened', fn);
    monitor.off('incident:opened', () => {});
    monitor.off('incident:resolved', fn); // registered for another event only
    expect(monitor.listenerCount('incident:opened')).toBe(base + 1);
    monitor.off('incident:opened', fn);
    expect(monitor.listenerCount('incident:opened')).toBe(base);
    monitor.incidents.open({ type: 'x', severity: 'low', summary: 's' });
    expect(seen).toEqual([]);
  });

  it('the same function on two events is removed from one only', () => {
    const { monitor } = setup();
    const seen: string[] = [];
    const fn = (i: Incident) => seen.push(`${i.type}:${i.status}`);
    const base = monitor.listenerCount('incident:opened');
    const baseResolved = monitor.listenerCount('incident:resolved');
    monitor.on('incident:opened', fn).on('incident:resolved', fn);
    monitor.off('incident:opened', fn);
    expect(monitor.listenerCount('incident:opened')).toBe(base);
    expect(monitor.listenerCount('incident:resolved')).toBe(baseResolved + 1);
    const inc = monitor.incidents.open({ type: 'x', severity: 'low', summary: 's' });
    monitor.incidents.resolve(inc.id, { by: 'alice' });
    expect(seen).toEqual(['x:resolved']);
  });

  it('a throwing once() listener is counted and still removed', () => {
    const { monitor } = setup();
    const base = monitor.listenerCount('incident:opened');
    monitor.once('incident:opened', () => {
      throw new Error('listener bug');
    });
    monitor.incidents.open({ type: 'x', severity: 'low', summary: 's' });
    expect(monitor.listenerErrors).toBe(1);
    expect((monitor.lastListenerError as Error).message).toBe('listener bug');
    expect(monitor.listenerCount('incident:opened')).toBe(base);
  });
});

describe('start() and stop()', () => {
  it('start() schedules timers (evaluation, slot ticker, controls), stop() cancels every one', () => {
    const { clock, monitor } = setup();
    monitor.feature('a').disable({ ttlMs: 1_000 });
    expect(monitor.running).toBe(false);
    const before = clock.pendingTimers();
    monitor.start();
    expect(monitor.running).toBe(true);
    const started = clock.pendingTimers();
    expect(started).toBeGreaterThan(before);
    monitor.start(); // idempotent: nothing scheduled twice
    expect(clock.pendingTimers()).toBe(started);
    monitor.stop();
    expect(monitor.running).toBe(false);
    expect(clock.pendingTimers()).toBe(0);
  });

  it('while running, evaluation happens on the clock by itself', () => {
    const clock = new ManualClock();
    const monitor = createMonitor({ service: 'api', clock, probes: fixedProbes(), evaluateEveryMs: 10_000 } as never);
    let evaluations = 0;
    monitor.on('evaluated', () => evaluations++);
    monitor.start();
    clock.advance(30_000);
    expect(evaluations).toBe(3);
    monitor.stop();
    clock.advance(30_000);
    expect(evaluations).toBe(3);
  });
});

describe('detectors returning the wrong shape', () => {
  it('observe() returning a non-array, throwing, or an unknown severity is counted per detector; others still run', () => {
    const { clock, monitor } = setup();
    addRaw(monitor, { name: 'not-array', type: 'x', observe: () => ({ scope: 's', severity: 'high' }) as never });
    addRaw(monitor, {
      name: 'throws',
      type: 'x',
      observe: () => {
        throw new Error('boom');
      },
    });
    addRaw(monitor, { name: 'bad-severity', type: 'x', observe: () => [{ scope: 's', severity: 'catastrophic' as never }] });
    addRaw(monitor, { name: 'good', type: 'y', forMs: 0, observe: () => [{ scope: 'svc', severity: 'high', summary: 'y is failing' }] });
    const report = monitor.evaluate();
    expect(report.incidents.opened.map((i) => [i.type, i.scope, i.severity])).toEqual([['y', 'svc', 'high']]);
    const status = Object.fromEntries(monitor.stats().incidents.detectors.map((d) => [d.name, d]));
    expect(status['not-array']).toMatchObject({ errors: 1, lastError: 'observe() must return an array', lastErrorAt: clock.now() });
    expect(status['throws']).toMatchObject({ errors: 1, lastError: 'boom' });
    expect(status['bad-severity']).toMatchObject({ errors: 1, lastError: 'unknown severity "catastrophic"' });
    expect(status['good']!.errors).toBe(0);
    expect(status['good']!.lastError).toBeUndefined();
    expect(monitor.incidents.list().filter((i) => i.type === 'x')).toEqual([]);
    clock.advance(10_000);
    monitor.evaluate();
    expect(monitor.stats().incidents.detectors.find((d) => d.name === 'throws')!.errors).toBe(2);
  });

  it('an unknown severity next to a valid observation of the same detector: the valid one still counts', () => {
    const { monitor } = setup();
    addRaw(monitor, {
      name: 'mixed',
      type: 'z',
      forMs: 0,
      observe: () => [
        { scope: 'a', severity: 'huge' as never },
        { scope: 'b', severity: 'medium', summary: 'b is slow' },
      ],
    });
    const report = monitor.evaluate();
    expect(report.incidents.opened.map((i) => i.scope)).toEqual(['b']);
    expect(monitor.stats().incidents.detectors.find((d) => d.name === 'mixed')!.errors).toBe(1);
  });

  it('the worst of two detectors on one (type, scope) wins; clear only when both are clear', () => {
    const { clock, monitor } = setup();
    let one: 'low' | 'critical' | null = 'low';
    let two: 'low' | 'critical' | null = 'critical';
    addRaw(monitor, { name: 'one', type: 't', forMs: 0, clearForMs: 0, observe: () => [{ scope: 's', severity: one }] });
    addRaw(monitor, { name: 'two', type: 't', forMs: 0, clearForMs: 0, observe: () => [{ scope: 's', severity: two }] });
    expect(monitor.evaluate().incidents.opened.map((i) => i.severity)).toEqual(['critical']);
    two = null;
    clock.advance(10_000);
    expect(monitor.evaluate().incidents.resolved).toEqual([]);
    one = null;
    clock.advance(10_000);
    expect(monitor.evaluate().incidents.resolved.map((i) => i.type)).toEqual(['t']);
  });
});

describe('the real process probes', () => {
  it('read this process: memory within its limits, CPU time that only grows', () => {
    const p = processProbes();
    const m = p.memory();
    expect(m.heapUsed).toBeGreaterThan(0);
    expect(m.heapLimit).toBeGreaterThan(m.heapUsed);
    expect(m.rss).toBeGreaterThan(0);
    expect(m.rssLimit).toBeGreaterThanOrEqual(m.rss);
    const cpu0 = p.cpuMicros();
    let x = 0;
    for (let i = 0; i < 2_000_000; i++) x += Math.sqrt(i);
    expect(x).toBeGreaterThan(0);
    const cpu1 = p.cpuMicros();
    expect(cpu0).toBeGreaterThan(0);
    expect(cpu1).toBeGreaterThan(cpu0);
  });

  it('event-loop delay is null until started, and after stop()', () => {
    const p = processProbes();
    expect(p.eventLoopDelayP99()).toBeNull();
    p.start();
    p.start(); // idempotent
    p.stop();
    expect(p.eventLoopDelayP99()).toBeNull();
    p.stop(); // stopping twice is harmless
  });

  it('a monitor without probes reads the real ones', () => {
    const monitor = createMonitor({ service: 'api', clock: new ManualClock(), slos: [{ name: 'mem', kind: 'memory', max: 0.999 }] } as never);
    const r = monitor.evaluate();
    expect(r).toBeDefined();
    const mem = monitor.stats().slos.find((s: { name: string }) => s.name === 'mem') as { value: number | null } | undefined;
    expect(mem?.value).toBeGreaterThan(0);
    expect(mem?.value).toBeLessThan(1);
  });
});

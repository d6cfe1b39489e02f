import { createMonitor, type Monitor, type MonitorOptions } from '../../src/index.js';
import { ManualClock } from '../../src/testing/index.js';

/** Probes with fixed, healthy readings (memory 50 %, no CPU, 12 ms event-loop delay). */
export function fixedProbes(over: { memory?: number; eventLoop?: number | null } = {}) {
  const ratio = over.memory ?? 0.5;
  return {
    memory: () => ({ heapUsed: ratio * 1000, heapLimit: 1000, rss: ratio * 1000, rssLimit: 1000 }),
    cpuMicros: () => 0,
    eventLoopDelayP99: () => (over.eventLoop === undefined ? 12 : over.eventLoop),
    start: () => {},
    stop: () => {},
  };
}

export function setup(extra: Partial<MonitorOptions> = {}) {
  const clock = new ManualClock();
  const monitor = createMonitor({ service: 'search-api', clock, probes: fixedProbes(), ...extra });
  return { clock, monitor };
}

export const STEP_MS = 10_000;

/** Records `n` requests of `durationMs` now, evaluates, then moves the clock one step. */
export function step(clock: ManualClock, monitor: Monitor, durationMs: number, opts: { n?: number; status?: number; route?: string } = {}) {
  const n = opts.n ?? 20;
  for (let i = 0; i < n; i++) monitor.recordRequest({ route: opts.route ?? 'GET /search', durationMs, status: opts.status ?? 200 });
  const report = monitor.evaluate();
  clock.advance(STEP_MS);
  return report;
}

/** Runs `count` steps; returns every evaluation report. */
export function steps(clock: ManualClock, monitor: Monitor, count: number, durationMs: number, opts: { n?: number; status?: number; route?: string } = {}) {
  const reports = [];
  for (let i = 0; i < count; i++) reports.push(step(clock, monitor, durationMs, opts));
  return reports;
}

import { createMonitor, type MonitorOptions } from '../../src/index.js';
import { ManualClock } from '../../src/testing/index.js';

export const fixedProbes = {
  memory: () => ({ heapUsed: 50, heapLimit: 100, rss: 900, rssLimit: 1000 }),
  cpuMicros: () => 0,
  eventLoopDelayP99: () => 12,
  start: () => {},
  stop: () => {},
};

/** A monitor on a ManualClock with fixed resource probes. */
export function setup(extra: Partial<MonitorOptions> = {}) {
  const clock = new ManualClock();
  const monitor = createMonitor({ service: 'search-api', clock, probes: fixedProbes, ...extra });
  return { clock, monitor };
}

/** Lets pending promise callbacks run (no timers, no sleeping). */
export async function flush(rounds = 10): Promise<void> {
  for (let i = 0; i < rounds; i++) await Promise.resolve();
}

/** A promise the test settles by hand. */
export function deferred<T = void>() {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

import type { ResourceProbes } from '../../src/index.js';

/** Resource probes with fixed readings (heap 50 %, RSS 90 %, no CPU, no event-loop sample), overridable. */
export function fixedProbes(over: Partial<ResourceProbes> = {}): ResourceProbes {
  return {
    memory: () => ({ heapUsed: 50, heapLimit: 100, rss: 900, rssLimit: 1000 }),
    cpuMicros: () => 0,
    eventLoopDelayP99: () => null,
    start: () => {},
    stop: () => {},
    ...over,
  };
}

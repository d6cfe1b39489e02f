import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';
import { getHeapStatistics } from 'node:v8';
import { totalmem } from 'node:os';

/** Memory as the memory SLO reads it. */
export interface MemoryReading {
  heapUsed: number;
  heapLimit: number;
  rss: number;
  /** RSS limit: the cgroup limit when there is one, else the machine's memory. */
  rssLimit: number;
}

/**
 * How a monitor reads the process. Replace any of them through
 * `createMonitor({ probes })`, e.g. to make memory read 90 % in a test.
 *
 * @example
 * ```ts
 * createMonitor({ service: 'api', probes: { memory: () => ({ heapUsed: 9, heapLimit: 10, rss: 9, rssLimit: 10 }) } });
 * ```
 */
export interface ResourceProbes {
  memory(): MemoryReading;
  /** CPU microseconds (user + system) used by the process so far. */
  cpuMicros(): number;
  /** p99 event-loop delay in ms since the last call, or null when not sampled. */
  eventLoopDelayP99(): number | null;
  /** Starts background sampling (event-loop delay); called by `monitor.start()`. */
  start(): void;
  /** Stops background sampling; called by `monitor.stop()`. */
  stop(): void;
}

/** The real probes, built on `process`, `node:v8` and `perf_hooks`. */
export function processProbes(): ResourceProbes {
  let eld: IntervalHistogram | undefined;
  return {
    memory() {
      const m = process.memoryUsage();
      const constrained = typeof process.constrainedMemory === 'function' ? process.constrainedMemory() : 0;
      return {
        heapUsed: m.heapUsed,
        heapLimit: getHeapStatistics().heap_size_limit,
        rss: m.rss,
        rssLimit: constrained !== undefined && constrained > 0 ? constrained : totalmem(),
      };
    },
    cpuMicros() {
      const u = process.cpuUsage();
      return u.user + u.system;
    },
    eventLoopDelayP99() {
      if (eld === undefined || eld.count === 0) return null;
      const p99 = eld.percentile(99) / 1e6;
      eld.reset();
      return p99;
    },
    start() {
      if (eld !== undefined) return;
      eld = monitorEventLoopDelay({ resolution: 20 });
      eld.enable();
    },
    stop() {
      eld?.disable();
      eld = undefined;
    },
  };
}

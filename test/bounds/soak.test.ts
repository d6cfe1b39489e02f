import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { createMonitor } from '../../src/index.js';
import { ManualClock } from '../../src/testing/index.js';
import { fixedProbes } from '../helpers/probes.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

function memory(): number {
  let heap = Infinity;
  for (let i = 0; i < 12; i++) {
    gc();
    const h = process.memoryUsage().heapUsed;
    if (h >= heap && i >= 4) break;
    heap = Math.min(heap, h);
  }
  return heap + process.memoryUsage().external;
}

/** Nearest-rank quantile of ascending values. */
const exact = (sorted: number[], q: number) => sorted[Math.max(0, Math.ceil(q * sorted.length) - 1)]!;

describe('soak: millions of records over simulated hours', () => {
  it('keeps memory flat and every quantile within 1 % of the exact window', () => {
    const clock = new ManualClock();
    const monitor = createMonitor({ service: 'soak', clock, probes: fixedProbes() });
    const routes = Array.from({ length: 20 }, (_, i) => `GET /soak/${i}`);
    let seed = 17;
    const rand = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) + 1) / (2 ** 31 + 1);
    const SLOT = 10_000;
    const PER_SLOT = 500; // 50 req/s over 20 routes, with a burst hour
    const window: number[][] = []; // the last 30 slots' values of route 0, for the exact quantiles
    let at1h = 0;
    let records = 0;
    for (let slot = 0; slot < 6 * 360; slot++) {
      const hour = Math.floor(slot / 360);
      const perSlot = hour === 3 ? PER_SLOT * 4 : PER_SLOT; // traffic changes shape: buffers grow, then shrink back
      const mine: number[] = [];
      for (let i = 0; i < perSlot; i++) {
        const z = Math.sqrt(-2 * Math.log(rand())) * Math.cos(2 * Math.PI * rand());
        const ms = Math.exp(Math.log(40) + (hour === 2 ? 1.6 : 0.9) * z);
        const r = i % routes.length;
        monitor.recordRequest({ route: routes[r]!, durationMs: ms, status: rand() < 0.01 ? 503 : 200 });
        if (r === 0) mine.push(ms);
        records++;
      }
      window.push(mine);
      if (window.length > 30) window.shift();
      clock.advance(SLOT);
      if (slot % 360 === 359) {
        // An hour has passed: the window holds the last 29 whole slots (the head just rolled, empty).
        const live = window.slice(-29).flat().sort((a, b) => a - b);
        const s = monitor.stats().routes[routes[0]!]!;
        expect(s.requests).toBe(live.length);
        for (const [q, got] of [[0.5, s.latencyMs.p50], [0.9, s.latencyMs.p90], [0.99, s.latencyMs.p99]] as const) {
          expect(Math.abs(got! - exact(live, q)) / exact(live, q)).toBeLessThanOrEqual(0.01 + 1e-12);
        }
        if (hour === 0) at1h = memory();
      }
    }
    expect(records).toBeGreaterThan(1_000_000);
    const grown = memory() - at1h;
    // Flat: 5 more hours (and a 4× burst) leave the heap where it was after the first, within 512 KiB.
    expect(grown).toBeLessThan(512 * 1024);
  }, 120_000);
});

import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { ConfigError, createMonitor } from '../../src/index.js';
import { ManualClock } from '../../src/testing/index.js';
import { quantilesFromCounts } from '../../src/metrics/log-buckets.js';
import { fixedProbes } from '../helpers/probes.js';

const probes = fixedProbes();

function monitorWith(traffic: [route: string, n: number, failures: number, ms: number][]) {
  const clock = new ManualClock();
  const monitor = createMonitor({ service: 'pages', clock, probes, maxRoutes: 1_000 });
  for (const [route, n, failures, ms] of traffic) {
    for (let i = 0; i < n; i++) monitor.recordRequest({ route, durationMs: ms, status: i < failures ? 503 : 200 });
  }
  return { clock, monitor };
}

describe('stats() routes: pages and top lists', () => {
  it('lists every route in first-seen order while they fit, as before', () => {
    const { monitor } = monitorWith([['GET /b', 3, 0, 5], ['GET /a', 1, 1, 50], ['GET /c', 2, 0, 500]]);
    const stats = monitor.stats();
    expect(Object.keys(stats.routes)).toEqual(['GET /b', 'GET /a', 'GET /c']);
    expect(stats.routes['GET /a']).toMatchObject({ requests: 1, failures: 1, successRate: 0 });
    expect(stats.routePage).toEqual({ total: 3, offset: 0, limit: 1_000, sort: 'requests', truncated: false });
    expect(stats.top.requests.map((r) => r.route)).toEqual(['GET /b', 'GET /c', 'GET /a']);
    expect(stats.top.failures.map((r) => r.route)).toEqual(['GET /a']);
    expect(stats.top.p99.map((r) => r.route)).toEqual(['GET /c', 'GET /a', 'GET /b']);
    expect(stats.top.p99[0]!.p99! / 500).toBeCloseTo(1, 1);
  });

  it('pages through the routes in the chosen order, each route exactly once', () => {
    const traffic: [string, number, number, number][] = Array.from({ length: 25 }, (_, i) => [`GET /r${i}`, (i * 7) % 25 + 1, i % 4, 10 + i]);
    const { monitor } = monitorWith(traffic);
    for (const sort of ['requests', 'failures', 'p99', 'name'] as const) {
      const seen: string[] = [];
      for (let offset = 0; offset < 25; offset += 10) {
        const s = monitor.stats({ limit: 10, offset, sort });
        expect(s.routePage).toEqual({ total: 25, offset, limit: 10, sort, truncated: true });
        seen.push(...Object.keys(s.routes));
      }
      expect(new Set(seen).size).toBe(25);
      if (sort === 'name') expect(seen).toEqual([...seen].sort());
      if (sort === 'requests') {
        const req = seen.map((r) => traffic.find((t) => t[0] === r)![1]);
        expect(req).toEqual([...req].sort((a, b) => b - a));
      }
    }
    // Past the default limit the busiest come first.
    const busiest = monitor.stats({ limit: 1 });
    expect(Object.keys(busiest.routes)).toEqual([busiest.top.requests[0]!.route]);
    expect(busiest.top.requests).toHaveLength(10);
  });

  it('gives any route in full through routeStats(), listed or not', () => {
    const { monitor } = monitorWith([['GET /a', 5, 2, 20], ['GET /b', 1, 0, 30]]);
    expect(Object.keys(monitor.stats({ limit: 1 }).routes)).toEqual(['GET /a']);
    expect(monitor.routeStats('GET /b')).toMatchObject({ requests: 1, failures: 0 });
    expect(monitor.routeStats('GET /nope')).toBeNull();
    expect(monitor.routeStats(42 as unknown as string)).toBeNull();
  });

  it('rejects bad options with a ConfigError naming the field', () => {
    const { monitor } = monitorWith([]);
    for (const bad of [{ limit: -1 }, { offset: 1.5 }, { sort: 'latency' }, { page: 2 }]) {
      let err: unknown;
      try {
        monitor.stats(bad as never);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(ConfigError);
      expect(String((err as Error).message)).toMatch(Object.keys(bad)[0]!);
    }
  });

  it('reads the overall series as the merge of every route, whatever the traffic and clock moves (property)', () => {
    const op = fc.oneof(
      fc.record({ route: fc.integer({ min: 0, max: 30 }), ms: fc.double({ min: 0, max: 20_000, noNaN: true }), status: fc.constantFrom(200, 429, 503) }),
      fc.record({ advance: fc.integer({ min: 0, max: 90_000 }) }),
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 300 }), (ops) => {
        const clock = new ManualClock();
        const monitor = createMonitor({ service: 'merge', clock, probes, maxRoutes: 20 });
        for (const o of ops) {
          if ('advance' in o) clock.advance(o.advance);
          else monitor.recordRequest({ route: `GET /r${o.route}`, durationMs: o.ms, status: o.status });
        }
        const now = clock.now();
        const store = monitor.store;
        const counts = new Float64Array(store.layout.size);
        let n = 0;
        let failures = 0;
        let limited = 0;
        let max = 0;
        for (const s of store.routes.values()) {
          s.advance(now);
          s.addCountsTo(counts);
          n += s.total(0);
          failures += s.total(1);
          limited += s.total(2);
          max = Math.max(max, s.max());
        }
        const o = monitor.stats().overall;
        expect(o.requests).toBe(n);
        expect(o.failures).toBe(failures);
        expect(o.rateLimited).toBe(limited);
        const [p50, p90, p95, p99] = quantilesFromCounts(store.layout, counts, n, [0.5, 0.9, 0.95, 0.99], max);
        expect(o.latencyMs).toEqual({ p50, p90, p95, p99, max: n > 0 ? max : null });
      }),
      { numRuns: 100 },
    );
  });
});

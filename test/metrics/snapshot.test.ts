import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createMonitor, type Monitor, type SloInput } from '../../src/index.js';
import { ManualClock } from '../../src/testing/index.js';
import {
  decodeBuckets,
  encodeBuckets,
  mergeAndRead,
  takeSnapshot,
  windowSnapshotSchema,
  type WindowSnapshot,
} from '../../src/fleet/snapshot.js';

const SLOS: SloInput[] = [
  { name: 'p95', kind: 'latency', quantile: 0.95, thresholdMs: 200, absentAfterMs: false },
  { name: 'p99', kind: 'latency', quantile: 0.99, thresholdMs: 800, absentAfterMs: false },
  { name: 'search-p95', kind: 'latency', route: 'GET /search', quantile: 0.95, thresholdMs: 150, absentAfterMs: false },
  { name: 'availability', kind: 'success-rate', objective: 0.99, absentAfterMs: false },
  { name: 'cart-errors', kind: 'error-rate', route: 'POST /cart', max: 0.05, absentAfterMs: false },
  { name: 'hits', kind: 'cache-hit-rate', cache: 'users', objective: 0.8 },
];
const ROUTES = ['GET /search', 'POST /cart', 'GET /item', 'GET /health'];
const CACHES = ['users', 'items'];

function monitorOn(clock: ManualClock, extra: Partial<Parameters<typeof createMonitor>[0]> = {}): Monitor {
  return createMonitor({ service: 'shop', clock, slos: SLOS, minSamples: 5, window: { durationMs: 60_000, slotMs: 5_000 }, ...extra });
}

/** A snapshot as it travels: JSON text, parsed back and validated. */
function viaWire(s: WindowSnapshot): WindowSnapshot {
  return windowSnapshotSchema.parse(JSON.parse(JSON.stringify(s))) as WindowSnapshot;
}

const event = fc.record({
  gapMs: fc.integer({ min: 0, max: 4_000 }),
  replica: fc.nat(),
  route: fc.integer({ min: 0, max: ROUTES.length - 1 }),
  // Durations from sub-ms to over the histogram range, some equal.
  durationMs: fc.oneof(fc.double({ min: 0, max: 5_000, noNaN: true }), fc.constantFrom(0.5, 12, 12, 250, 4_000_000)),
  status: fc.constantFrom(200, 200, 200, 201, 404, 429, 500, 503),
  cache: fc.option(fc.record({ name: fc.constantFrom(...CACHES), result: fc.constantFrom('hit' as const, 'miss' as const, 'error' as const) }), { nil: undefined }),
});

describe('window snapshots merge exactly', () => {
  it('encodes sparse bucket counts losslessly', () => {
    fc.assert(
      fc.property(fc.uniqueArray(fc.integer({ min: 0, max: 985 }), { maxLength: 200 }), fc.array(fc.integer({ min: 1, max: 2 ** 40 }), { minLength: 200, maxLength: 200 }), (buckets, counts) => {
        const pairs = [...buckets].sort((a, b) => a - b).flatMap((b, i) => [b, counts[i]!]);
        expect(decodeBuckets(encodeBuckets(pairs), 985)).toEqual(pairs);
      }),
    );
  });

  it('rejects corrupt bucket data with a RangeError', () => {
    expect(() => decodeBuckets(Buffer.from([0x85]).toString('base64'), 985)).toThrow(RangeError);
    expect(() => decodeBuckets(encodeBuckets([2_000, 1]), 985)).toThrow(RangeError);
  });

  it('N replicas merged report what one process that saw all the traffic reports (quantiles, rates, SLOs)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 4 }), fc.array(event, { maxLength: 300 }), fc.integer({ min: 0, max: 70_000 }), (n, events, tailMs) => {
        const clock = new ManualClock(1_700_000_000_000);
        const reference = monitorOn(clock);
        const replicas = Array.from({ length: n }, () => monitorOn(clock));
        for (const e of events) {
          clock.advance(e.gapMs);
          const r = replicas[e.replica % n]!;
          for (const m of [reference, r]) {
            m.recordRequest({ route: ROUTES[e.route]!, durationMs: e.durationMs, status: e.status });
            if (e.cache !== undefined) m.recordCache(e.cache.name, e.cache.result);
          }
        }
        clock.advance(tailMs);
        const snaps = replicas.map((m, i) => viaWire(takeSnapshot(m, `r${i}`)));
        const { merged, stats } = mergeAndRead(reference, snaps, clock.now());
        const want = reference.stats();
        expect(merged.excluded).toEqual([]);
        expect(stats.overall).toEqual(want.overall);
        expect({ ...stats.routes }).toEqual({ ...Object.fromEntries(Object.entries(want.routes).filter(([, r]) => r.requests > 0)) });
        for (const [name, c] of Object.entries(want.caches)) {
          if (c.hits + c.misses + c.errors > 0) expect(stats.caches[name]).toEqual(c);
        }
        const pick = (s: { name: string; value: number | null; status: string; samples: number }) => ({ name: s.name, value: s.value, status: s.status, samples: s.samples });
        expect(stats.slos.map(pick)).toEqual(want.slos.map(pick));
        for (const m of [reference, ...replicas]) void m.close();
      }),
      { numRuns: 60 },
    );
  });

  it('merges a 16-bit-overflowing bucket exactly (70,000 equal latencies over 3 replicas)', () => {
    const clock = new ManualClock(1_700_000_000_000);
    const reference = monitorOn(clock);
    const replicas = [monitorOn(clock), monitorOn(clock), monitorOn(clock)];
    for (let i = 0; i < 70_000; i++) {
      const m = replicas[i % 3]!;
      const rec = { route: 'GET /search', durationMs: i < 69_000 ? 10 : 900, status: 200 };
      m.recordRequest(rec);
      reference.recordRequest(rec);
    }
    const { stats } = mergeAndRead(reference, replicas.map((m, i) => viaWire(takeSnapshot(m, `r${i}`))), clock.now());
    expect(stats.routes['GET /search']).toEqual(reference.stats().routes['GET /search']);
    expect(stats.overall.requests).toBe(70_000);
    expect(stats.overall.latencyMs.p99).toBe(reference.stats().overall.latencyMs.p99);
  });

  it('leaves out a snapshot of another window, and says so', () => {
    const clock = new ManualClock(1_700_000_000_000);
    const a = monitorOn(clock);
    const b = monitorOn(clock, { window: { durationMs: 60_000, slotMs: 10_000 } });
    a.recordRequest({ route: 'GET /item', durationMs: 5, status: 200 });
    b.recordRequest({ route: 'GET /item', durationMs: 5, status: 200 });
    const { merged, stats } = mergeAndRead(a, [takeSnapshot(a, 'a'), takeSnapshot(b, 'b')], clock.now());
    expect(merged.replicas).toEqual(['a']);
    expect(merged.excluded).toEqual([expect.objectContaining({ replica: 'b', reason: 'incompatible' })]);
    expect(stats.overall.requests).toBe(1);
  });

  it('leaves out whole a snapshot whose bucket counts do not add up to its requests (invalid), merging the others', () => {
    const clock = new ManualClock(1_700_000_000_000);
    const a = monitorOn(clock);
    const b = monitorOn(clock);
    a.recordRequest({ route: 'GET /item', durationMs: 5, status: 200 });
    b.recordRequest({ route: 'GET /item', durationMs: 7, status: 200 });
    b.recordRequest({ route: 'GET /cart', durationMs: 9, status: 200 });
    const bad = viaWire(takeSnapshot(b, 'b'));
    bad.routes[1]![1][0]![1] = 1_000; // 1,000 requests, one bucket count of 1
    const { merged, stats } = mergeAndRead(a, [viaWire(takeSnapshot(a, 'a')), bad], clock.now());
    expect(merged.replicas).toEqual(['a']);
    expect(merged.excluded).toEqual([expect.objectContaining({ replica: 'b', reason: 'invalid' })]);
    expect(stats.overall.requests).toBe(1);
    expect(Object.keys(stats.routes)).toEqual(['GET /item']);
  });

  it('keeps a route named __proto__ and a cache named constructor through the wire', () => {
    const clock = new ManualClock(1_700_000_000_000);
    const a = monitorOn(clock);
    const b = monitorOn(clock);
    a.recordRequest({ route: '__proto__', durationMs: 5, status: 200 });
    b.recordRequest({ route: '__proto__', durationMs: 7, status: 500 });
    b.recordCache('constructor', 'hit');
    const { stats } = mergeAndRead(a, [viaWire(takeSnapshot(a, 'a')), viaWire(takeSnapshot(b, 'b'))], clock.now());
    expect(Object.keys(stats.routes)).toEqual(['__proto__']);
    expect(stats.routes['__proto__']).toMatchObject({ requests: 2, failures: 1 });
    expect(stats.caches['constructor']).toMatchObject({ hits: 1 });
    expect(Object.getPrototypeOf(stats.routes)).toBeNull();
  });

  it('drops slots that left the window at the reader\'s time', () => {
    const clock = new ManualClock(1_700_000_000_000);
    const a = monitorOn(clock);
    a.recordRequest({ route: 'GET /item', durationMs: 5, status: 200 });
    const snap = takeSnapshot(a, 'a');
    clock.advance(61_000);
    expect(mergeAndRead(a, [snap], clock.now()).stats.overall.requests).toBe(0);
  });
});

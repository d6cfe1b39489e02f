import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_ARMS, MAX_NAME_LENGTH, createMonitor, type Monitor, type RejectReason } from '../../src/index.js';
import { ManualClock } from '../../src/testing/index.js';
import { fixedProbes } from '../helpers/probes.js';
import { watchUnhandledRejections } from '../helpers/unhandled.js';
import { anyValue, fuzzParams, gc, nastyString } from './arbitraries.js';

/**
 * The hot path gets whatever the host hands it. Contract (docs/limits.md,
 * `recordRequest` TSDoc): never throw; a record with a finite duration ≥ 0, a
 * string route and a usable outcome is recorded; any other is counted once in
 * `stats().rejected` under the first bad field; names past MAX_NAME_LENGTH are
 * cut, recorded and counted.
 */

const uncaught: unknown[] = [];
const onUncaught = (err: unknown): void => void uncaught.push(err);
const unhandled = watchUnhandledRejections();
beforeAll(() => process.on('uncaughtException', onUncaught));
afterAll(() => {
  process.off('uncaughtException', onUncaught);
  unhandled.stop();
});

function monitorOn(extra: { maxRoutes?: number; maxCaches?: number } = {}): { monitor: Monitor; clock: ManualClock } {
  const clock = new ManualClock();
  return { clock, monitor: createMonitor({ service: 'fuzz', clock, probes: fixedProbes(), ...extra }) };
}

/** Reads a field as the monitor would, or says the read throws. */
function peek(record: unknown, field: string): { ok: true; value: unknown } | { ok: false } {
  try {
    return { ok: true, value: (record as Record<string, unknown>)[field] };
  } catch {
    return { ok: false };
  }
}

/** What the documented contract says happens to a record: recorded, or rejected for one field. */
function expectedOutcome(record: unknown): 'recorded' | RejectReason {
  // Not a record, or one whose fields cannot be read: no route to record it under.
  if (typeof record !== 'object' || record === null) return 'route';
  const fields = ['durationMs', 'route', 'status', 'ok', 'arm'].map((f) => peek(record, f));
  if (fields.some((f) => !f.ok)) return 'route';
  const [d, route, status, ok] = fields.map((f) => (f.ok ? f.value : undefined));
  if (typeof d !== 'number' || !(d >= 0 && d < Infinity)) return 'durationMs';
  if (typeof route !== 'string') return 'route';
  if (typeof ok === 'boolean') return 'recorded';
  if (status !== undefined && (typeof status !== 'number' || !(status >= 0))) return 'status';
  return 'recorded';
}

const recordArb = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.record(
      {
        route: fc.oneof({ weight: 4, arbitrary: nastyString() }, { weight: 1, arbitrary: anyValue() }),
        durationMs: fc.oneof({ weight: 3, arbitrary: fc.double({ min: 0, max: 4e6, noNaN: true }) }, { weight: 1, arbitrary: anyValue() }),
        status: fc.oneof(fc.integer({ min: 100, max: 599 }), anyValue()),
        ok: fc.oneof(fc.boolean(), anyValue()),
        arm: fc.oneof(nastyString(), anyValue()),
      },
      { requiredKeys: [] },
    ),
  },
  { weight: 1, arbitrary: anyValue() },
);

describe('fuzz: recordRequest / startTimer / track / recordCache', () => {
  it('recordRequest never throws, records or counts one rejection for each record', () => {
    const { monitor } = monitorOn();
    fc.assert(
      fc.property(recordArb, (record) => {
        const before = monitor.stats();
        const expected = expectedOutcome(record);
        expect(() => monitor.recordRequest(record as never)).not.toThrow();
        const after = monitor.stats();
        const route = peek(record, 'route');
        const cut = expected === 'recorded' && route.ok && typeof route.value === 'string' && route.value.length > MAX_NAME_LENGTH;
        if (expected === 'recorded') {
          expect(after.overall.requests).toBe(before.overall.requests + 1);
          expect(after.rejected).toBe(before.rejected + (cut ? 1 : 0));
          expect(after.recording.rejectedBy.route).toBe(before.recording.rejectedBy.route + (cut ? 1 : 0));
        } else {
          expect(after.overall.requests).toBe(before.overall.requests);
          expect(after.rejected).toBe(before.rejected + 1);
          expect(after.recording.rejectedBy[expected]).toBe(before.recording.rejectedBy[expected] + 1);
        }
      }),
      fuzzParams(300),
    );
    expect(uncaught).toEqual([]);
  });

  it('keeps every name and series count within the documented caps, whatever the names', () => {
    const { monitor, clock } = monitorOn({ maxRoutes: 30, maxCaches: 10 });
    const op = fc.oneof(
      fc.record({ k: fc.constant('req' as const), r: recordArb }),
      fc.record({ k: fc.constant('cache' as const), name: fc.oneof(nastyString(), anyValue()), result: anyValue() }),
      fc.record({ k: fc.constant('tick' as const), ms: fc.integer({ min: 0, max: 120_000 }) }),
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 40 }), (ops) => {
        for (const o of ops) {
          if (o.k === 'req') monitor.recordRequest(o.r as never);
          else if (o.k === 'cache') expect(() => monitor.recordCache(o.name as never, o.result as never)).not.toThrow();
          else clock.advance(o.ms);
        }
        const s = monitor.stats();
        expect(Object.keys(s.routes).length).toBeLessThanOrEqual(31);
        expect(Object.keys(s.caches).length).toBeLessThanOrEqual(11);
        expect(Object.keys(s.arms).length).toBeLessThanOrEqual(MAX_ARMS);
        for (const name of [...Object.keys(s.routes), ...Object.keys(s.caches), ...Object.keys(s.arms)]) {
          expect(name.length).toBeLessThanOrEqual(MAX_NAME_LENGTH);
        }
      }),
      fuzzParams(60),
    );
  });

  it('recordCache counts a lookup or one rejection, never throws', () => {
    const { monitor } = monitorOn();
    fc.assert(
      fc.property(fc.oneof(nastyString(), anyValue()), anyValue(), fc.constantFrom(true, false, 'hit', 'miss', 'error'), fc.boolean(), (name, junk, good, useGood) => {
        const result = useGood ? good : junk;
        const valid = typeof name === 'string' && (result === true || result === false || result === 'hit' || result === 'miss' || result === 'error');
        const before = monitor.stats();
        expect(() => monitor.recordCache(name as never, result as never)).not.toThrow();
        const after = monitor.stats();
        const lookups = (s: typeof before): number => Object.values(s.caches).reduce((n, c) => n + c.hits + c.misses + c.errors, 0);
        const cut = valid && (name as string).length > MAX_NAME_LENGTH;
        expect(lookups(after)).toBe(lookups(before) + (valid ? 1 : 0));
        expect(after.recording.rejectedBy.cache).toBe(before.recording.rejectedBy.cache + (!valid || cut ? 1 : 0));
      }),
      fuzzParams(300),
    );
  });

  it('startTimer and track never throw into the host for any route or outcome', async () => {
    await fc.assert(
      fc.asyncProperty(fc.oneof(nastyString(), anyValue()), anyValue(), anyValue(), fc.integer({ min: 0, max: 10_000 }), async (route, outcome, returned, ms) => {
        // A fresh monitor each run: the clock moves, and counts must not slide out of the window.
        const { monitor, clock } = monitorOn();
        const before = monitor.stats();
        let end: ((o?: never) => void) | undefined;
        expect(() => (end = monitor.startTimer(route as never) as never)).not.toThrow();
        clock.advance(ms);
        expect(() => end!(outcome as never)).not.toThrow();
        expect(() => end!(outcome as never)).not.toThrow(); // a second end() records nothing
        const mid = monitor.stats();
        // Exactly one request accounted for: recorded (and counted once more if its name was cut), or rejected once.
        const recorded = mid.overall.requests - before.overall.requests;
        const rejected = mid.rejected - before.rejected;
        if (recorded === 1) expect(rejected).toBe(typeof route === 'string' && route.length > MAX_NAME_LENGTH ? 1 : 0);
        else expect([recorded, rejected]).toEqual([0, 1]);
        // track: the host's own return value goes back to it untouched; its own throw is its own.
        let out: unknown;
        expect(() => (out = monitor.track(route as never, () => returned))).not.toThrow();
        if (out instanceof Promise) await out.catch(() => undefined);
      }),
      fuzzParams(200),
    );
    await unhandled.settle();
    expect(unhandled.seen).toEqual([]);
    expect(uncaught).toEqual([]);
  });

  it('retains no more than the documented series bytes after a flood of random names', () => {
    const collect = gc();
    collect();
    // Typed arrays (the series' counters) live outside the JS heap: count both.
    const retained = (): number => process.memoryUsage().heapUsed + process.memoryUsage().arrayBuffers;
    const base = retained();
    const { monitor } = monitorOn({ maxRoutes: 50, maxCaches: 20 });
    fc.assert(
      fc.property(nastyString(), nastyString(), nastyString(), (route, cache, arm) => {
        monitor.recordRequest({ route, durationMs: 12, status: 200, arm });
        monitor.recordCache(cache, 'hit');
      }),
      { ...fuzzParams(2_000), numRuns: Math.max(2_000, fuzzParams(2_000).numRuns ?? 0) },
    );
    collect();
    const grown = retained() - base;
    // docs/limits.md: ≤ 72 KiB per route or arm series (51 + 32 here), ≈ 1 KiB per cache series;
    // plus the monitor itself and what fast-check keeps. Unbounded names (70k strings × 2,000) would be ~hundreds of MiB.
    const bound = (51 + MAX_ARMS) * 72 * 1024 + 21 * 1024 + 8 * 1024 * 1024;
    if (process.env['FUZZ_VERBOSE']) console.log(`heap retained after the flood: ${(grown / 1048576).toFixed(1)} MiB (bound ${(bound / 1048576).toFixed(1)} MiB)`);
    expect(grown).toBeLessThan(bound);
    expect(monitor.stats().rejected).toBeGreaterThanOrEqual(0);
  });
});

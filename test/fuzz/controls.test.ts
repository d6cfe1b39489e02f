import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMonitor, isFirebreakError, type Monitor } from '../../src/index.js';
import { ManualClock } from '../../src/testing/index.js';
import { fixedProbes } from '../helpers/probes.js';
import { watchUnhandledRejections } from '../helpers/unhandled.js';
import { HostError, anyValue, fuzzParams, nastyString } from './arbitraries.js';

/**
 * Every control method and action, fed random values in random order. The
 * contract: a method returns, or throws (a promise rejects) with a firebreak
 * error naming the bad field — never a TypeError or RangeError from inside the
 * library, never an uncaught exception or unhandled rejection — and every
 * per-key table stays within its configured cap.
 */

const CAPS = { maxKeys: 40, maxBlocked: 15, topOffenders: 5, historySize: 6 };

const uncaught: unknown[] = [];
const onUncaught = (err: unknown): void => void uncaught.push(err);
const unhandled = watchUnhandledRejections();
beforeAll(() => process.on('uncaughtException', onUncaught));
afterAll(() => {
  process.off('uncaughtException', onUncaught);
  unhandled.stop();
});


function controlled(): { monitor: Monitor; clock: ManualClock } {
  const clock = new ManualClock();
  const monitor = createMonitor({ service: 'fuzz', clock, probes: fixedProbes() });
  monitor.feature('rerank', { risky: true, historySize: CAPS.historySize });
  monitor.cache<string, string>('search', { max: 20 });
  monitor.rateLimiter('api', { maxRequests: 3, windowSeconds: 60, maxKeys: CAPS.maxKeys, maxBlocked: CAPS.maxBlocked, topOffenders: CAPS.topOffenders });
  monitor.fallback<unknown[], string>('ranker', {
    primary: (...args: unknown[]) => {
      if (args[0] === 'throw') throw new HostError('primary');
      return 'primary';
    },
    fallback: () => 'fallback',
    timeoutMs: 50,
  });
  monitor.canary('new-index', { percent: 10 });
  return { monitor, clock };
}

/** Fails the property unless `err` is a firebreak error (or the host's own). */
function expectClearError(err: unknown, what: string): void {
  if (err instanceof HostError) return;
  if (!isFirebreakError(err)) {
    throw new Error(`${what} threw a non-firebreak error: ${err instanceof Error ? `${err.constructor.name}: ${err.message}` : String(err)}`);
  }
}

/** Calls `fn` and checks the contract for its throw or, for a promise, its rejection. */
async function call(what: string, fn: () => unknown): Promise<void> {
  let result: unknown;
  try {
    result = fn();
  } catch (err) {
    expectClearError(err, what);
    return;
  }
  if (result instanceof Promise) {
    try {
      await result;
    } catch (err) {
      expectClearError(err, what);
    }
  }
}

const key = (): fc.Arbitrary<unknown> => fc.oneof({ weight: 3, arbitrary: fc.string({ maxLength: 6 }) }, { weight: 2, arbitrary: nastyString() }, { weight: 1, arbitrary: anyValue() });
const opts = (): fc.Arbitrary<unknown> =>
  fc.oneof(
    fc.record({ reason: fc.oneof(nastyString(), anyValue()), by: fc.oneof(nastyString(), anyValue()), ttlMs: fc.oneof(fc.integer(), anyValue()) }, { requiredKeys: [] }),
    anyValue(),
  );

const ACTION_IDS = [
  'cache.clear',
  'cache.disable',
  'cache.enable',
  'canary.emergency-stop',
  'canary.disable',
  'canary.resume',
  'model.fallback',
  'model.restore',
  'feature.disable',
  'feature.enable',
  'feature.emergency-stop',
  'rate-limit.adjust',
  'rate-limit.tighten',
  'rate-limit.restore',
  'rate-limit.block',
  'rate-limit.unblock',
];

/** Action params: right-shaped, JSON junk, and values JSON cannot carry. */
const params = (): fc.Arbitrary<unknown> =>
  fc.oneof(
    fc.record(
      {
        name: fc.oneof(fc.constantFrom('rerank', 'search', 'api', 'ranker', 'new-index'), nastyString(), anyValue()),
        key: key(),
        ttlMs: fc.oneof(fc.integer(), anyValue()),
        factor: fc.oneof(fc.double(), anyValue()),
        max_requests: fc.oneof(fc.integer(), anyValue()),
        maxRequests: fc.oneof(fc.integer(), anyValue()),
        window_seconds: fc.oneof(fc.integer(), anyValue()),
        reason: fc.oneof(nastyString(), anyValue()),
        __proto__: anyValue(),
      },
      { requiredKeys: [] },
    ),
    fc.jsonValue(),
    anyValue(),
  );

type Op = (m: Monitor) => Promise<void>;

const ops: fc.Arbitrary<{ label: string; run: Op }>[] = [
  fc.tuple(fc.constantFrom('disable', 'enable', 'isEnabled', 'stats'), opts()).map(([m, o]) => ({
    label: `feature.${m}`,
    run: (mon: Monitor) => call(`feature.${m}`, () => (mon.feature('rerank') as unknown as Record<string, (o: unknown) => unknown>)[m]!(o)),
  })),
  fc.tuple(fc.constantFrom('get', 'has', 'delete', 'set', 'getOrLoad', 'clear', 'disable', 'enable', 'stats'), key(), anyValue(), anyValue()).map(([m, k, v, o]) => ({
    label: `cache.${m}`,
    run: (mon: Monitor) =>
      call(`cache.${m}`, () => {
        const c = mon.cache('search') as unknown as Record<string, (...a: unknown[]) => unknown>;
        if (m === 'set') return c.set!(k, v, o);
        if (m === 'getOrLoad') return c.getOrLoad!(k, () => v);
        if (m === 'disable') return c.disable!(o);
        return c[m]!(k);
      }),
  })),
  fc.tuple(fc.constantFrom('check', 'allow', 'adjust', 'tighten', 'restore', 'block', 'unblock', 'blockedUntil', 'reset', 'topOffenders', 'stats'), key(), anyValue(), fc.integer({ min: 1, max: 3_600_000 })).map(
    ([m, k, v, ttl]) => ({
      label: `rateLimiter.${m}`,
      run: (mon: Monitor) =>
        call(`rateLimiter.${m}`, () => {
          const l = mon.rateLimiter('api') as unknown as Record<string, (...a: unknown[]) => unknown>;
          if (m === 'adjust' || m === 'tighten' || m === 'topOffenders') return l[m]!(v);
          if (m === 'block') return l.block!(k, ttl % 2 === 0 ? v : ttl);
          return l[m]!(k);
        }),
    }),
  ),
  fc.tuple(fc.constantFrom('run', 'force', 'restore', 'isForced', 'stats'), fc.oneof(fc.constant('throw'), anyValue()), opts()).map(([m, a, o]) => ({
    label: `fallback.${m}`,
    run: (mon: Monitor) => call(`fallback.${m}`, () => (mon.fallback('ranker') as unknown as Record<string, (...a: unknown[]) => unknown>)[m]!(m === 'run' ? a : o)),
  })),
  fc.tuple(fc.constantFrom('assign', 'bucket', 'setPercent', 'emergencyStop', 'resume', 'record', 'stats', 'compare'), key(), anyValue(), anyValue()).map(([m, k, v, r]) => ({
    label: `canary.${m}`,
    run: (mon: Monitor) =>
      call(`canary.${m}`, () => {
        const c = mon.canary('new-index') as unknown as Record<string, (...a: unknown[]) => unknown>;
        if (m === 'setPercent' || m === 'emergencyStop') return c[m]!(v);
        if (m === 'record') return c.record!(k, r);
        return c[m]!(k);
      }),
  })),
  fc
    .tuple(fc.oneof({ weight: 5, arbitrary: fc.constantFrom(...ACTION_IDS) }, { weight: 1, arbitrary: fc.oneof(nastyString(), anyValue()) }), params(), fc.boolean(), fc.oneof(fc.constant(undefined), nastyString(), anyValue()))
    .map(([id, p, confirm, by]) => ({
      label: `actions.execute(${typeof id === 'string' ? id.slice(0, 30) : typeof id})`,
      run: (mon: Monitor) => call('actions.execute', () => mon.actions.execute(id as string, { params: p as Record<string, unknown>, confirm, ...(by === undefined ? {} : { by: by as string }) })),
    })),
  fc.tuple(fc.oneof(fc.constantFrom('execute', 'revert'), anyValue()), anyValue()).map(([id, o]) => ({
    label: 'actions.execute/revert(junk options)',
    run: (mon: Monitor) =>
      call('actions.execute/revert', () => (id === 'revert' ? mon.actions.revert(mon.actions.executions().at(-1)?.id ?? 'x', o as never) : mon.actions.execute('cache.clear', o as never))),
  })),
  fc
    .tuple(
      fc.constantFrom('open', 'acknowledge', 'mitigate', 'resolve', 'reopen', 'addNote', 'addActionItem', 'completeActionItem', 'record', 'get', 'list', 'postmortem', 'procedures'),
      fc.boolean(),
      fc.oneof(nastyString(), anyValue()),
      fc.oneof(
        fc.record(
          {
            type: fc.oneof(fc.constantFrom('high-latency', 'cache-failure', 'rate-limit-attack'), nastyString(), anyValue()),
            severity: fc.oneof(fc.constantFrom('critical', 'high', 'medium', 'low'), anyValue()),
            summary: fc.oneof(nastyString(), anyValue()),
            by: fc.oneof(nastyString(), anyValue()),
            notes: fc.oneof(nastyString(), anyValue()),
            message: fc.oneof(nastyString(), anyValue()),
            kind: fc.oneof(fc.constantFrom('note', 'action', 'detection'), anyValue()),
            rootCause: fc.oneof(nastyString(), anyValue()),
            title: fc.oneof(nastyString(), anyValue()),
            scope: fc.oneof(nastyString(), anyValue()),
          },
          { requiredKeys: [] },
        ),
        anyValue(),
      ),
    )
    .map(([m, known, id, input]) => ({
      label: `incidents.${m}`,
      run: (mon: Monitor) =>
        call(`incidents.${m}`, () => {
          const inc = mon.incidents as unknown as Record<string, (...a: unknown[]) => unknown>;
          const target = known ? (mon.incidents.list().at(-1)?.id ?? id) : id;
          if (m === 'open' || m === 'list') return inc[m]!(input);
          if (m === 'completeActionItem') return inc[m]!(target, id, input);
          return inc[m]!(target, input);
        }),
    })),
  fc.tuple(fc.oneof(nastyString(), anyValue()), anyValue()).map(([name, o]) => ({
    label: 'monitor.<control>(name, options)',
    run: (mon: Monitor) =>
      call('monitor.<control>', () => {
        const kinds = ['feature', 'cache', 'rateLimiter', 'fallback', 'canary'] as const;
        for (const kind of kinds) {
          try {
            (mon[kind] as (n: unknown, o?: unknown) => unknown)(name, o);
          } catch (err) {
            expectClearError(err, `monitor.${kind}`);
          }
        }
      }),
  })),
];

describe('fuzz: controls and actions', () => {
  it('every control method and action returns or fails with a firebreak error, and per-key state stays within its caps', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.tuple(fc.oneof(...ops), fc.integer({ min: 0, max: 120_000 })), { minLength: 1, maxLength: 40 }), async (steps) => {
        const { monitor, clock } = controlled();
        for (const [op, ms] of steps) {
          await op.run(monitor);
          clock.advance(ms);
        }
        const limiter = monitor.rateLimiter('api').stats();
        expect(limiter.keys).toBeLessThanOrEqual(CAPS.maxKeys);
        expect(limiter.blocked.length).toBeLessThanOrEqual(CAPS.maxBlocked);
        expect(limiter.topOffenders.length).toBeLessThanOrEqual(CAPS.topOffenders);
        for (const b of limiter.blocked) expect(b.key.length).toBeLessThanOrEqual(128);
        expect(monitor.feature('rerank').history().length).toBeLessThanOrEqual(CAPS.historySize);
        // The monitor still reads and exposes itself after the abuse.
        expect(() => monitor.stats()).not.toThrow();
        await expect(monitor.metrics()).resolves.toContain('firebreak_');
      }),
      fuzzParams(120),
    );
    await unhandled.settle();
    expect(unhandled.seen).toEqual([]);
    expect(uncaught).toEqual([]);
  });

  it('a flood of distinct limiter keys and blocks stays within maxKeys and maxBlocked', () => {
    const { monitor } = controlled();
    const limiter = monitor.rateLimiter('api');
    fc.assert(
      fc.property(nastyString(), fc.boolean(), (k, block) => {
        limiter.check(k);
        if (block && k.length > 0) limiter.block(k, 60_000);
      }),
      fuzzParams(1_500),
    );
    const s = limiter.stats();
    expect(s.keys).toBeLessThanOrEqual(CAPS.maxKeys);
    expect(s.blocked.length).toBeLessThanOrEqual(CAPS.maxBlocked);
  });
});

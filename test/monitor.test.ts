import { afterEach, describe, expect, it, vi } from 'vitest';
import { createMonitor, ConfigError, type MonitorOptions } from '../src/index.js';
import { ManualClock } from '../src/testing/index.js';
import { fixedProbes } from './helpers/probes.js';

const probes = fixedProbes({ eventLoopDelayP99: () => 12 });

function setup(extra: Partial<MonitorOptions> = {}) {
  const clock = new ManualClock();
  const monitor = createMonitor({ service: 'search-api', clock, probes, ...extra });
  return { clock, monitor };
}

function expectWithin1pct(actual: number | null | undefined, expected: number) {
  expect(actual).not.toBeNull();
  expect(Math.abs(actual! - expected) / expected).toBeLessThanOrEqual(0.01);
}

function traffic(monitor: ReturnType<typeof setup>['monitor'], n: number, durationMs: number, status = 200, route = 'GET /search') {
  for (let i = 0; i < n; i++) monitor.recordRequest({ route, durationMs, status });
}

describe('recording and the rolling window', () => {
  it('reports per-route and overall stats for the window', () => {
    const { monitor } = setup();
    traffic(monitor, 90, 100);
    traffic(monitor, 10, 1000, 503);
    traffic(monitor, 50, 20, 200, 'GET /health');
    const stats = monitor.stats();
    expect(stats.service).toBe('search-api');
    expect(stats.windowMs).toBe(300_000);
    const search = stats.routes['GET /search']!;
    expect(search.requests).toBe(100);
    expect(search.failures).toBe(10);
    expect(search.successRate).toBeCloseTo(0.9);
    expectWithin1pct(search.latencyMs.p50, 100);
    expectWithin1pct(search.latencyMs.p95, 1000);
    expect(search.latencyMs.max).toBe(1000);
    expect(stats.overall.requests).toBe(150);
    expect(stats.overall.failures).toBe(10);
    expectWithin1pct(stats.overall.latencyMs.p50, 100);
  });

  it('expires samples once they fall out of the window', () => {
    const { clock, monitor } = setup();
    traffic(monitor, 10, 100);
    clock.advance(150_000);
    traffic(monitor, 5, 200);
    expect(monitor.stats().overall.requests).toBe(15);
    clock.advance(150_000); // first batch is now 300 s old: its slot is gone
    const s = monitor.stats().overall;
    expect(s.requests).toBe(5);
    expectWithin1pct(s.latencyMs.p50, 200);
    clock.advance(300_000);
    expect(monitor.stats().overall).toMatchObject({ requests: 0, successRate: null, latencyMs: { p95: null, max: null } });
  });

  it('honours a custom window and slot size', () => {
    const { clock, monitor } = setup({ window: { durationMs: 60_000, slotMs: 1_000 } });
    traffic(monitor, 3, 10);
    clock.advance(59_000);
    expect(monitor.stats().overall.requests).toBe(3);
    clock.advance(1_000);
    expect(monitor.stats().overall.requests).toBe(0);
  });

  it('caps route series at maxRoutes and sends the rest to __other__, counted', () => {
    const { monitor } = setup({ maxRoutes: 3 });
    for (let i = 0; i < 10; i++) monitor.recordRequest({ route: `GET /r${i}`, durationMs: 5, status: 200 });
    const stats = monitor.stats();
    expect(Object.keys(stats.routes).sort()).toEqual(['GET /r0', 'GET /r1', 'GET /r2', '__other__']);
    expect(stats.routes['__other__']!.requests).toBe(7);
    expect(stats.recording.routeOverflow).toBe(7);
    expect(stats.overall.requests).toBe(10);
  });

  it('classifies: 5xx fail, 4xx succeed, 429 also counted as rate-limited, ok wins over status', () => {
    const { monitor } = setup();
    monitor.recordRequest({ route: 'r', durationMs: 1, status: 500 });
    monitor.recordRequest({ route: 'r', durationMs: 1, status: 404 });
    monitor.recordRequest({ route: 'r', durationMs: 1, status: 429 });
    monitor.recordRequest({ route: 'r', durationMs: 1, status: 200, ok: false });
    monitor.recordRequest({ route: 'r', durationMs: 1, status: 503, ok: true });
    const r = monitor.stats().routes['r']!;
    expect(r).toMatchObject({ requests: 5, failures: 2, rateLimited: 1 });
  });

  it('uses a custom classifier, and falls back to status < 500 if it throws', () => {
    const { monitor } = setup({ classify: (s) => s < 400 });
    monitor.recordRequest({ route: 'r', durationMs: 1, status: 404 });
    expect(monitor.stats().routes['r']!.failures).toBe(1);
    const thrower = setup({
      classify: () => {
        throw new Error('boom');
      },
    }).monitor;
    thrower.recordRequest({ route: 'r', durationMs: 1, status: 404 });
    thrower.recordRequest({ route: 'r', durationMs: 1, status: 502 });
    expect(thrower.stats().routes['r']!.failures).toBe(1);
  });

  it('rejects bad input without throwing, and counts it by field', () => {
    const { monitor } = setup();
    const bad: unknown[] = [
      { route: 'r', durationMs: NaN },
      { route: 'r', durationMs: -1 },
      { route: 'r', durationMs: Infinity },
      { route: 'r', durationMs: '5' },
      { route: 42, durationMs: 5 },
      { route: 'r', durationMs: 5, status: 'oops' },
      null,
    ];
    for (const b of bad) expect(() => monitor.recordRequest(b as never)).not.toThrow();
    expect(() => monitor.recordCache(undefined as never, true)).not.toThrow();
    expect(() => monitor.recordCache('c', 'maybe' as never)).not.toThrow();
    const stats = monitor.stats();
    expect(stats.rejected).toBe(9);
    expect(stats.recording.rejectedBy).toEqual({ durationMs: 4, route: 2, status: 1, cache: 2 });
    expect(stats.overall.requests).toBe(0);
  });

  it('clamps out-of-range durations and counts them, never drops them', () => {
    const { monitor } = setup();
    monitor.recordRequest({ route: 'r', durationMs: 0, status: 200 });
    monitor.recordRequest({ route: 'r', durationMs: 10 * 3_600_000, status: 200 });
    const s = monitor.stats();
    expect(s.overall.requests).toBe(2);
    expect(s.recording.clamped).toBe(2);
  });

  it('counts cache hits, misses and errors per cache', () => {
    const { monitor } = setup();
    monitor.recordCache('search', true);
    monitor.recordCache('search', true);
    monitor.recordCache('search', false);
    monitor.recordCache('search', 'error');
    monitor.recordCache('embeddings', 'hit');
    expect(monitor.stats().caches).toEqual({
      search: { hits: 2, misses: 1, errors: 1, hitRate: 0.5 },
      embeddings: { hits: 1, misses: 0, errors: 0, hitRate: 1 },
    });
  });
});

describe('startTimer and track', () => {
  it('startTimer measures with the clock and records once', () => {
    const { clock, monitor } = setup();
    const end = monitor.startTimer('GET /search');
    clock.advance(250);
    end({ status: 200 });
    end({ status: 200 });
    const r = monitor.stats().routes['GET /search']!;
    expect(r.requests).toBe(1);
    expect(r.latencyMs.max).toBe(250);
  });

  it('track records sync results and throws as failures, rethrowing', () => {
    const { monitor } = setup();
    expect(monitor.track('job', () => 7)).toBe(7);
    expect(() =>
      monitor.track('job', () => {
        throw new Error('nope');
      }),
    ).toThrow('nope');
    expect(monitor.stats().routes['job']).toMatchObject({ requests: 2, failures: 1 });
  });

  it('track records async results and rejections', async () => {
    const { clock, monitor } = setup();
    const p = monitor.track('job', () => new Promise<string>((resolve) => clock.setTimeout(() => resolve('done'), 40)));
    clock.advance(40);
    await expect(p).resolves.toBe('done');
    await expect(monitor.track('job', async () => Promise.reject(new Error('bad')))).rejects.toThrow('bad');
    const r = monitor.stats().routes['job']!;
    expect(r).toMatchObject({ requests: 2, failures: 1 });
    expect(r.latencyMs.max).toBe(40);
  });
});

describe('options validation', () => {
  it('throws a ConfigError naming every bad field', () => {
    let err: unknown;
    try {
      createMonitor({
        service: '',
        slos: [
          { name: 'p95', kind: 'latency', quantile: 1.5, thresholdMs: -1 },
          { name: 'avail', kind: 'success-rate', objective: 0.995, bogus: 1 } as never,
        ],
        maxRoutes: 0,
      });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    const e = err as ConfigError;
    expect(e.code).toBe('CONFIG_INVALID');
    const paths = e.issues.map((i) => i.path);
    expect(paths).toEqual(expect.arrayContaining(['service', 'slos.0.quantile', 'slos.0.thresholdMs', 'slos.1', 'maxRoutes']));
    expect(e.message).toContain('slos.0.quantile: quantile must be < 1');
    expect(e.message).toMatch(/slos\.1: .*bogus/);
  });

  it('rejects duplicate SLO names, an unknown kind and a window that does not divide', () => {
    const bad = (o: unknown) => () => createMonitor(o as MonitorOptions);
    expect(bad({ service: 's', slos: [{ name: 'a', kind: 'cpu' }, { name: 'a', kind: 'cpu' }] })).toThrow(/slos\.1\.name: duplicate SLO name "a"/);
    expect(bad({ service: 's', slos: [{ name: 'a', kind: 'cpu' }, { name: 'a', kind: 'cpu' }] })).toThrow(ConfigError);
    expect(bad({ service: 's', slos: [{ name: 'a', kind: 'throughput' }] })).toThrow(/slos\.0\.kind/);
    expect(bad({ service: 's', slos: [{ name: 'a', kind: 'throughput' }] })).toThrow(ConfigError);
    expect(bad({ service: 's', window: { durationMs: 1000, slotMs: 300 } })).toThrow(/window: durationMs must be a whole multiple/);
    expect(bad({ service: 's', window: { durationMs: 1000, slotMs: 300 } })).toThrow(ConfigError);
    expect(bad({ service: 's', clock: {} })).toThrow(/clock: expected a Clock/);
    expect(bad({ service: 's', clock: {} })).toThrow(ConfigError);
  });
});

describe('scheduling', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('start() evaluates every evaluateEveryMs on a ManualClock, stop() cancels it', () => {
    const { clock, monitor } = setup({ evaluateEveryMs: 5_000 });
    const seen: number[] = [];
    monitor.on('evaluated', (r) => seen.push(r.at));
    monitor.start();
    const t0 = clock.now();
    clock.advance(15_000);
    expect(seen).toEqual([t0 + 5_000, t0 + 10_000, t0 + 15_000]);
    monitor.stop();
    expect(clock.pendingTimers()).toBe(0);
    clock.advance(60_000);
    expect(seen).toHaveLength(3);
  });

  it('the default clock follows vi.useFakeTimers(): windows roll and evaluation runs', () => {
    vi.useFakeTimers();
    vi.setSystemTime(new Date('2026-03-01T00:00:00Z'));
    const monitor = createMonitor({
      service: 'api',
      probes,
      minSamples: 1,
      slos: [{ name: 'p95', kind: 'latency', quantile: 0.95, thresholdMs: 500 }],
    });
    const breaches: string[] = [];
    monitor.on('slo:breach', (r) => breaches.push(r.name));
    monitor.start();
    monitor.recordRequest({ route: 'r', durationMs: 900, status: 200 });
    vi.advanceTimersByTime(10_000);
    expect(breaches).toEqual(['p95']);
    vi.advanceTimersByTime(300_000);
    expect(monitor.stats().overall.requests).toBe(0);
    expect(monitor.lastEvaluation!.slos[0]!.status).toBe('no-data');
    monitor.stop();
    expect(vi.getTimerCount()).toBe(0);
  });

  it('a throwing listener neither breaks evaluation nor other listeners', () => {
    const { monitor } = setup();
    let called = 0;
    monitor.on('evaluated', () => {
      throw new Error('listener bug');
    });
    monitor.on('evaluated', () => called++);
    expect(() => monitor.evaluate()).not.toThrow();
    expect(called).toBe(1);
    expect(monitor.stats().recording.listenerErrors).toBe(1);
  });
});

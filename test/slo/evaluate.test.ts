import { describe, expect, it } from 'vitest';
import { createMonitor, type MemoryReading, type MonitorOptions, type SloInput, type SloResult } from '../../src/index.js';
import { ManualClock } from '../../src/testing/index.js';

/** Probes a test can steer: memory, CPU time and event-loop delay are plain variables. */
function steerableProbes() {
  const state = {
    memory: { heapUsed: 50, heapLimit: 100, rss: 500, rssLimit: 1000 } as MemoryReading,
    cpuMicros: 0,
    eventLoopP99: null as number | null,
  };
  const probes = {
    memory: () => state.memory,
    cpuMicros: () => state.cpuMicros,
    eventLoopDelayP99: () => state.eventLoopP99,
    start: () => {},
    stop: () => {},
  };
  return { state, probes };
}

function setup(slos: SloInput[], extra: Partial<MonitorOptions> = {}) {
  const clock = new ManualClock();
  const { state, probes } = steerableProbes();
  const monitor = createMonitor({ service: 'search-api', clock, probes, slos, ...extra });
  const result = (name: string): SloResult => {
    const r = monitor.evaluate().slos.find((s) => s.name === name);
    if (r === undefined) throw new Error(`no SLO ${name}`);
    return r;
  };
  const traffic = (n: number, durationMs: number, opts: { status?: number; route?: string } = {}) => {
    for (let i = 0; i < n; i++) monitor.recordRequest({ route: opts.route ?? 'GET /search', durationMs, status: opts.status ?? 200 });
  };
  return { clock, monitor, state, result, traffic };
}

function within1pct(actual: number | null, expected: number) {
  expect(actual).not.toBeNull();
  expect(Math.abs(actual! - expected) / expected).toBeLessThanOrEqual(0.01);
}

describe('latency SLOs', () => {
  const slos: SloInput[] = [
    { name: 'p95', kind: 'latency', quantile: 0.95, thresholdMs: 800 },
    { name: 'search-p99', kind: 'latency', quantile: 0.99, thresholdMs: 2000, route: 'GET /search' },
  ];

  it('reads the overall quantile and judges it against the threshold', () => {
    const { result, traffic } = setup(slos);
    traffic(95, 100);
    traffic(5, 300, { route: 'GET /health' });
    const r = result('p95');
    within1pct(r.value, 100);
    expect(r).toMatchObject({ kind: 'latency', target: 800, direction: 'max', unit: 'ms', status: 'ok', samples: 100, windowMs: 300_000 });
    expect(r.route).toBeUndefined();
    // A latency SLO is also a good-event ratio: no request slower than 800 ms, so nothing burns.
    expect(r.burnRate).toBe(0);
    expect(r.errorBudgetRemaining).toBe(1);
  });

  it('is ok under 80 % of the threshold, warning from 80 %, breach above it', () => {
    const ok = setup(slos);
    ok.traffic(100, 600);
    expect(ok.result('p95').status).toBe('ok');
    const warn = setup(slos);
    warn.traffic(100, 700); // 700 ≥ 0.8 × 800
    expect(warn.result('p95').status).toBe('warning');
    const breach = setup(slos);
    breach.traffic(100, 900);
    expect(breach.result('p95').status).toBe('breach');
  });

  it('scopes a route SLO to its route only', () => {
    const { result, traffic } = setup(slos);
    traffic(100, 50, { route: 'GET /search' });
    traffic(100, 5000, { route: 'GET /export' });
    const r = result('search-p99');
    expect(r.route).toBe('GET /search');
    expect(r.samples).toBe(100);
    within1pct(r.value, 50);
    expect(r.status).toBe('ok');
    expect(result('p95').status).toBe('breach'); // the overall p95 sees /export
  });

  it('reads no-data for a route that has no traffic', () => {
    const { result, traffic } = setup(slos);
    traffic(100, 50, { route: 'GET /other' });
    expect(result('search-p99')).toMatchObject({ status: 'no-data', value: null, samples: 0 });
  });

  it('never reports more than the largest value seen', () => {
    // A bucket reports its midpoint; for a value low in its bucket that is above the value itself.
    for (let d = 1; d < 5000; d *= 1.37) {
      const { result, traffic } = setup(slos);
      traffic(100, d);
      const value = result('p95').value!;
      expect(value).toBeLessThanOrEqual(d);
      within1pct(value, d);
    }
  });
});

describe('ratio SLOs: success rate, error rate, cache hit rate', () => {
  it('success rate: value, error budget remaining and burn rate', () => {
    const { result, traffic } = setup([{ name: 'availability', kind: 'success-rate', objective: 0.99 }]);
    traffic(199, 10);
    traffic(1, 10, { status: 500 }); // 0.5 % bad of a 1 % budget
    expect(result('availability')).toMatchObject({
      kind: 'success-rate',
      value: 0.995,
      target: 0.99,
      direction: 'min',
      unit: 'ratio',
      samples: 200,
      status: 'ok',
    });
    expect(result('availability').burnRate).toBeCloseTo(0.5, 12);
    expect(result('availability').errorBudgetRemaining).toBeCloseTo(0.5, 12);
    traffic(2, 10, { status: 503 }); // 3 of 202: burn ≈ 1.49
    const r = result('availability');
    expect(r.status).toBe('breach');
    expect(r.burnRate).toBeCloseTo(3 / 202 / 0.01, 12);
    expect(r.errorBudgetRemaining).toBeCloseTo(1 - 3 / 202 / 0.01, 12);
    expect(r.errorBudgetRemaining!).toBeLessThan(0);
  });

  it('success rate exactly on the objective is not a breach (no float rounding surprise)', () => {
    const { result, traffic } = setup([{ name: 'availability', kind: 'success-rate', objective: 0.9 }]);
    traffic(90, 10);
    traffic(10, 10, { status: 500 });
    const r = result('availability');
    expect(r.value).toBe(0.9);
    expect(r.status).toBe('warning'); // the whole budget used: warning, not breach
    expect(r.burnRate).toBeCloseTo(1, 12);
  });

  it('counts 4xx (429 included) as success and ok: false as failure', () => {
    const { result, traffic, monitor } = setup([{ name: 'availability', kind: 'success-rate', objective: 0.5, minSamples: 1 }]);
    traffic(1, 10, { status: 404 });
    traffic(1, 10, { status: 429 });
    monitor.recordRequest({ route: 'GET /search', durationMs: 10, status: 200, ok: false });
    expect(result('availability').value).toBeCloseTo(2 / 3, 12);
  });

  it('error rate: value against max, burn rate, route scope', () => {
    const { result, traffic } = setup([
      { name: 'errors', kind: 'error-rate', max: 0.05 },
      { name: 'index-errors', kind: 'error-rate', max: 0.05, route: 'POST /index' },
    ]);
    traffic(95, 10);
    traffic(5, 10, { status: 502 });
    traffic(40, 10, { route: 'POST /index' });
    const all = result('errors');
    expect(all).toMatchObject({ kind: 'error-rate', target: 0.05, direction: 'max', unit: 'ratio', samples: 140 });
    expect(all.value).toBeCloseTo(5 / 140, 12);
    expect(all.burnRate).toBeCloseTo(5 / 140 / 0.05, 12);
    expect(all.status).toBe('ok'); // 0.714 of the allowance
    const index = result('index-errors');
    expect(index).toMatchObject({ route: 'POST /index', value: 0, samples: 40, status: 'ok', burnRate: 0, errorBudgetRemaining: 1 });
    traffic(3, 10, { route: 'POST /index', status: 500 }); // 3 of 43 ≈ 7 %
    expect(result('index-errors').status).toBe('breach');
  });

  it('cache hit rate: per cache, errors count against it', () => {
    const { result, monitor } = setup([
      { name: 'search-cache', kind: 'cache-hit-rate', cache: 'search', objective: 0.5 },
      { name: 'missing-cache', kind: 'cache-hit-rate', cache: 'nope', objective: 0.5 },
    ]);
    for (let i = 0; i < 12; i++) monitor.recordCache('search', true);
    for (let i = 0; i < 6; i++) monitor.recordCache('search', false);
    for (let i = 0; i < 2; i++) monitor.recordCache('search', 'error');
    for (let i = 0; i < 50; i++) monitor.recordCache('embeddings', false);
    const r = result('search-cache');
    expect(r).toMatchObject({ kind: 'cache-hit-rate', cache: 'search', value: 0.6, target: 0.5, direction: 'min', samples: 20, status: 'warning' });
    expect(r.burnRate).toBeCloseTo(0.4 / 0.5, 12);
    expect(r.errorBudgetRemaining).toBeCloseTo(0.2, 12);
    expect(result('missing-cache')).toMatchObject({ status: 'no-data', value: null, samples: 0, burnRate: null, errorBudgetRemaining: null });
  });
});

describe('resource SLOs (through the probes option)', () => {
  it('memory: heap used over the heap limit, RSS over its limit, limitBytes overriding either', () => {
    const { result, state } = setup([
      { name: 'heap', kind: 'memory' }, // of: heap, max: 0.8
      { name: 'rss', kind: 'memory', of: 'rss', max: 0.9 },
      { name: 'rss-2g', kind: 'memory', of: 'rss', max: 0.8, limitBytes: 2000 },
      { name: 'heap-200', kind: 'memory', max: 0.8, limitBytes: 200 },
    ]);
    state.memory = { heapUsed: 50, heapLimit: 100, rss: 500, rssLimit: 1000 };
    expect(result('heap')).toMatchObject({ kind: 'memory', value: 0.5, target: 0.8, direction: 'max', unit: 'ratio', samples: 1, status: 'ok' });
    expect(result('rss')).toMatchObject({ value: 0.5, status: 'ok' });
    expect(result('rss-2g')).toMatchObject({ value: 0.25, status: 'ok' });
    expect(result('heap-200')).toMatchObject({ value: 0.25, status: 'ok' });
    state.memory = { heapUsed: 70, heapLimit: 100, rss: 950, rssLimit: 1000 };
    expect(result('heap').status).toBe('warning'); // 0.7 ≥ 0.8 × 0.8
    expect(result('rss').status).toBe('breach'); // 0.95 > 0.9
    state.memory = { heapUsed: 90, heapLimit: 100, rss: 100, rssLimit: 1000 };
    expect(result('heap').status).toBe('breach');
    expect(result('rss').status).toBe('ok');
  });

  it('is judged without minimum samples: resources are read, not counted', () => {
    const { result } = setup([{ name: 'heap', kind: 'memory' }], { minSamples: 1000 });
    expect(result('heap').status).toBe('ok');
  });

  it('cpu: process CPU time per wall time between two evaluations', () => {
    const { clock, monitor, state } = setup([{ name: 'cpu', kind: 'cpu', max: 0.8 }]);
    const cpu = () => monitor.evaluate().slos[0]!;
    expect(cpu()).toMatchObject({ kind: 'cpu', value: null, status: 'no-data', samples: 0 }); // one reading is no rate
    clock.advance(10_000);
    state.cpuMicros += 5_000_000; // 5 s of CPU in 10 s
    expect(cpu()).toMatchObject({ value: 0.5, status: 'ok', samples: 1, target: 0.8 });
    clock.advance(10_000);
    state.cpuMicros += 9_500_000;
    expect(cpu()).toMatchObject({ value: 0.95, status: 'breach' });
  });

  it('cpu is sampled by evaluate() only: stats() and scrapes do not shorten the interval', () => {
    const { clock, monitor, state } = setup([{ name: 'cpu', kind: 'cpu', max: 0.8 }]);
    monitor.evaluate();
    clock.advance(5_000);
    state.cpuMicros += 1_000_000;
    expect(monitor.stats().slos[0]!.value).toBeNull();
    clock.advance(5_000);
    state.cpuMicros += 1_000_000;
    expect(monitor.evaluate().slos[0]!.value).toBeCloseTo(0.2, 12);
  });

  it('event-loop delay: the p99 the probe reports against the threshold', () => {
    const { result, state } = setup([{ name: 'loop', kind: 'event-loop-delay', thresholdMs: 100 }]);
    expect(result('loop')).toMatchObject({ status: 'no-data', value: null });
    state.eventLoopP99 = 40;
    expect(result('loop')).toMatchObject({ kind: 'event-loop-delay', value: 40, target: 100, unit: 'ms', status: 'ok' });
    state.eventLoopP99 = 85;
    expect(result('loop').status).toBe('warning');
    state.eventLoopP99 = 250;
    expect(result('loop').status).toBe('breach');
  });

  it('contains probes that throw or return nonsense: no-data, counted, other SLOs still judged', () => {
    const clock = new ManualClock();
    const monitor = createMonitor({
      service: 'api',
      clock,
      slos: [
        { name: 'heap', kind: 'memory' },
        { name: 'cpu', kind: 'cpu' },
        { name: 'loop', kind: 'event-loop-delay' },
        { name: 'availability', kind: 'success-rate', objective: 0.99, minSamples: 1 },
      ],
      probes: {
        memory: () => {
          throw new Error('probe bug');
        },
        cpuMicros: () => Number.NaN,
        eventLoopDelayP99: () => 'soon' as never,
        start: () => {},
        stop: () => {},
      },
    });
    monitor.recordRequest({ route: 'r', durationMs: 1, status: 200 });
    let report!: ReturnType<typeof monitor.evaluate>;
    expect(() => (report = monitor.evaluate())).not.toThrow();
    expect(report.slos.map((s) => [s.name, s.status])).toEqual([
      ['heap', 'no-data'],
      ['cpu', 'no-data'],
      ['loop', 'no-data'],
      ['availability', 'ok'],
    ]);
    expect(monitor.stats().recording.sloErrors).toBeGreaterThanOrEqual(3);
  });
});

describe('no-data and minimum samples', () => {
  it('reads no-data below the monitor minSamples (default 20), so one slow request is not a breach', () => {
    const { result, traffic } = setup([{ name: 'p95', kind: 'latency', quantile: 0.95, thresholdMs: 800 }]);
    traffic(1, 5000);
    expect(result('p95')).toMatchObject({ status: 'no-data', samples: 1 });
    within1pct(result('p95').value, 5000); // the value is still reported
    traffic(18, 100);
    expect(result('p95').status).toBe('no-data'); // 19 samples
    traffic(1, 100);
    expect(result('p95').status).toBe('ok'); // 20 samples; p95 is 100 ms
  });

  it('honours the monitor-wide and the per-SLO minimum', () => {
    const { result, traffic } = setup(
      [
        { name: 'strict', kind: 'error-rate', max: 0.1 },
        { name: 'eager', kind: 'error-rate', max: 0.1, minSamples: 1 },
      ],
      { minSamples: 50 },
    );
    traffic(10, 10, { status: 500 });
    expect(result('strict').status).toBe('no-data');
    expect(result('eager').status).toBe('breach');
  });

  it('returns to no-data when the window empties', () => {
    const { clock, result, traffic } = setup([{ name: 'errors', kind: 'error-rate', max: 0.1 }]);
    traffic(30, 10, { status: 500 });
    expect(result('errors').status).toBe('breach');
    clock.advance(300_000);
    expect(result('errors')).toMatchObject({ status: 'no-data', samples: 0, value: null });
  });

  it('reports the configured window', () => {
    const { result } = setup([{ name: 'heap', kind: 'memory' }], { window: { durationMs: 60_000, slotMs: 5_000 } });
    expect(result('heap').windowMs).toBe(60_000);
  });
});

describe('transitions and events', () => {
  const slos: SloInput[] = [{ name: 'errors', kind: 'error-rate', max: 0.1 }];

  function watch(monitor: ReturnType<typeof setup>['monitor']) {
    const events: string[] = [];
    monitor.on('slo:breach', (r) => events.push(`breach ${r.name} ${r.status}`));
    monitor.on('slo:warning', (r) => events.push(`warning ${r.name} ${r.status}`));
    monitor.on('slo:recovered', (r) => events.push(`recovered ${r.name} ${r.status}`));
    monitor.on('slo:changed', (t) => events.push(`changed ${t.from}→${t.to}`));
    return events;
  }

  it('reports each status change once, with its events, across a whole episode', () => {
    const { clock, monitor, traffic } = setup(slos);
    const events = watch(monitor);

    expect(monitor.evaluate().transitions).toEqual([]); // no-data → no-data is no change
    traffic(100, 10); // ok
    expect(monitor.evaluate().transitions.map((t) => [t.slo, t.from, t.to])).toEqual([['errors', 'no-data', 'ok']]);
    expect(monitor.evaluate().transitions).toEqual([]); // still ok: nothing new
    clock.advance(10_000);
    traffic(9, 10, { status: 500 }); // 9 of 109 ≈ 8.3 %: warning
    const warning = monitor.evaluate().transitions;
    expect(warning.map((t) => [t.from, t.to])).toEqual([['ok', 'warning']]);
    expect(warning[0]!.result.status).toBe('warning');
    traffic(20, 10, { status: 500 }); // 29 of 129: breach
    expect(monitor.evaluate().transitions.map((t) => [t.from, t.to])).toEqual([['warning', 'breach']]);
    clock.advance(300_000); // everything expires
    traffic(100, 10);
    expect(monitor.evaluate().transitions.map((t) => [t.from, t.to])).toEqual([['breach', 'ok']]);

    expect(events).toEqual([
      'changed no-data→ok',
      'changed ok→warning',
      'warning errors warning',
      'changed warning→breach',
      'breach errors breach',
      'changed breach→ok',
      'recovered errors ok',
    ]);
  });

  it('does not call it a recovery when data comes back after a no-data gap from ok', () => {
    const { clock, monitor, traffic } = setup(slos);
    const events = watch(monitor);
    traffic(100, 10);
    monitor.evaluate();
    clock.advance(300_000);
    monitor.evaluate(); // ok → no-data
    traffic(100, 10);
    monitor.evaluate(); // no-data → ok
    expect(events).toEqual(['changed no-data→ok', 'changed ok→no-data', 'changed no-data→ok']);
  });

  it('emits breach straight from ok, and recovered from warning', () => {
    const { clock, monitor, traffic } = setup(slos);
    const events = watch(monitor);
    traffic(100, 10);
    monitor.evaluate();
    traffic(50, 10, { status: 500 });
    monitor.evaluate();
    clock.advance(300_000);
    traffic(91, 10);
    traffic(9, 10, { status: 500 });
    monitor.evaluate(); // breach → warning
    clock.advance(300_000);
    traffic(100, 10);
    monitor.evaluate(); // warning → ok
    expect(events.filter((e) => !e.startsWith('changed'))).toEqual([
      'breach errors breach',
      'warning errors warning',
      'recovered errors ok',
    ]);
  });

  it('runs on schedule after start(), and the evaluated event carries the report', () => {
    const { clock, monitor, traffic } = setup(slos, { evaluateEveryMs: 5_000 });
    const breaches: number[] = [];
    monitor.on('slo:breach', () => breaches.push(clock.now()));
    const reports: number[] = [];
    monitor.on('evaluated', (r) => reports.push(r.slos.length));
    monitor.start();
    traffic(30, 10, { status: 500 });
    clock.advance(5_000);
    expect(breaches).toHaveLength(1);
    clock.advance(20_000);
    expect(breaches).toHaveLength(1); // still in breach: no repeat
    expect(reports).toEqual([1, 1, 1, 1, 1]);
    monitor.stop();
  });
});

describe('stats().slos', () => {
  it('matches evaluate() and changes no SLO state and emits nothing', () => {
    const { monitor, traffic } = setup([
      { name: 'p95', kind: 'latency', quantile: 0.95, thresholdMs: 800 },
      { name: 'errors', kind: 'error-rate', max: 0.1 },
      { name: 'heap', kind: 'memory' },
    ]);
    traffic(40, 900);
    let events = 0;
    monitor.on('slo:changed', () => events++);
    const fromStats = monitor.stats().slos;
    expect(events).toBe(0);
    expect(fromStats.map((s) => [s.name, s.status])).toEqual([
      ['p95', 'breach'],
      ['errors', 'ok'],
      ['heap', 'ok'],
    ]);
    const report = monitor.evaluate();
    expect(report.slos).toEqual(fromStats);
    expect(report.transitions).toHaveLength(3); // stats() did not consume the transitions
    expect(events).toBe(3);
  });
});

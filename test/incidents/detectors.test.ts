import { describe, expect, it } from 'vitest';
import { ConfigError, createMonitor, type Incident, type MonitorOptions } from '../../src/index.js';
import { ManualClock } from '../../src/testing/index.js';
import { fixedProbes, setup, steps } from './helpers.js';

const now0 = { forMs: 0 };

function record(monitor: ReturnType<typeof setup>['monitor'], n: number, opts: { status?: number; durationMs?: number; route?: string } = {}) {
  for (let i = 0; i < n; i++) monitor.recordRequest({ route: opts.route ?? 'GET /search', durationMs: opts.durationMs ?? 50, status: opts.status ?? 200 });
}

const brief = (i: Incident) => [i.type, i.scope, i.severity];

describe('built-in detectors (runbook thresholds)', () => {
  it('success rate: 98 % is below 99 % → high-error-rate, high; error-rate agrees and shares the incident', () => {
    const { monitor } = setup({ preset: 'runbook', detectors: [{ kind: 'error-rate' }], incidents: now0 });
    record(monitor, 98);
    record(monitor, 2, { status: 503 });
    const r = monitor.evaluate();
    expect(r.incidents.opened.map(brief)).toEqual([['high-error-rate', 'service', 'high']]);
    expect(r.incidents.opened[0]!.summary).toBe('success rate 98.00 % is below the high threshold (99.00 %)');
  });

  it('success rate below 95 % is critical; per-route detectors get their own scope', () => {
    const { monitor } = setup({ detectors: [{ kind: 'success-rate', route: 'GET /search', name: 'search-success' }], incidents: now0 });
    record(monitor, 90);
    record(monitor, 10, { status: 500 });
    record(monitor, 50, { status: 500, route: 'GET /other' }); // another route, not watched
    expect(monitor.evaluate().incidents.opened.map(brief)).toEqual([['high-error-rate', 'route:GET /search', 'critical']]);
  });

  it('cache hit rate under 50 % opens a cache-failure (medium) per cache', () => {
    const { monitor } = setup({ preset: 'runbook', incidents: now0 });
    for (let i = 0; i < 40; i++) monitor.recordCache('search', i % 10 < 3); // 30 %
    for (let i = 0; i < 40; i++) monitor.recordCache('embeddings', i % 10 < 9); // 90 %
    for (let i = 0; i < 5; i++) monitor.recordCache('tiny', false); // too few lookups
    const opened = monitor.evaluate().incidents.opened;
    expect(opened.map(brief)).toEqual([['cache-failure', 'cache:search', 'medium']]);
    expect(opened[0]!.signalAtOpen).toMatchObject({ name: 'cache hit rate', value: 0.3, threshold: 0.5, unit: 'ratio' });
  });

  it('429s over 10 % of requests open a rate-limit-attack (high)', () => {
    const { monitor } = setup({ preset: 'runbook', incidents: now0 });
    record(monitor, 80);
    record(monitor, 20, { status: 429 });
    expect(monitor.evaluate().incidents.opened.map(brief)).toEqual([['rate-limit-attack', 'service', 'high']]);
  });

  it('memory over 80 % opens memory-exhaustion (high); CPU and event-loop delay have their own types', () => {
    const clock = new ManualClock();
    let cpu = 0;
    const probes = {
      ...fixedProbes({ memory: 0.9, eventLoop: 700 }),
      cpuMicros: () => (cpu += 9_000_000), // 0.9 s of CPU per 1 s of wall time... per 10 s step: 0.9 cores
    };
    const monitor = createMonitor({ service: 's', clock, probes, preset: 'runbook', incidents: now0 });
    const first = monitor.evaluate().incidents.opened.map(brief); // CPU needs a second sample
    clock.advance(10_000);
    const second = monitor.evaluate().incidents.opened.map(brief);
    expect(first).toEqual([
      ['memory-exhaustion', 'service', 'high'],
      ['event-loop-lag', 'service', 'high'],
    ]);
    expect(second).toEqual([['cpu-saturation', 'service', 'medium']]);
    const mem = monitor.incidents.list({ type: 'memory-exhaustion' })[0]!;
    expect(mem.summary).toBe('heap used 90.00 % is above the high threshold (80.00 %)');
  });

  it('thresholds are data: presets merge overrides by name; enabled: false removes a detector', () => {
    const { monitor } = setup({
      probes: fixedProbes({ memory: 0.9 }),
      preset: 'runbook',
      incidents: now0,
      detectors: [
        { kind: 'latency', thresholds: { high: 1500 } },
        { kind: 'memory', enabled: false },
      ],
    });
    record(monitor, 40, { durationMs: 1600 });
    expect(monitor.evaluate().incidents.opened.map(brief)).toEqual([['high-latency', 'service', 'high']]);
  });

  it('extra detectors: a route-scoped p99 with its own thresholds, type and forMs', () => {
    const { clock, monitor } = setup({
      detectors: [
        {
          kind: 'latency',
          name: 'search-p99',
          route: 'GET /search',
          quantile: 0.99,
          type: 'search-slow',
          thresholds: { low: null, medium: null, high: 300, critical: 1000 },
          forMs: 20_000,
        },
      ],
    });
    const reports = steps(clock, monitor, 4, 400);
    expect(reports.map((r) => r.incidents.opened.map(brief))).toEqual([[], [], [['search-slow', 'route:GET /search', 'high']], []]);
    expect(monitor.incidents.list()[0]!.summary).toMatch(/^p99 latency on GET \/search (399|40\d) ms is above the high threshold \(300 ms\)$/);
  });

  it('rejects thresholds in the wrong order, naming the detector', () => {
    const bad = (detectors: MonitorOptions['detectors']) => () => createMonitor({ service: 's', detectors });
    expect(bad([{ kind: 'latency', thresholds: { high: 300 } }])).toThrow(/detectors\.0\.thresholds: high \(300\) must be above medium \(1000\)/);
    expect(bad([{ kind: 'latency', thresholds: { high: 300 } }])).toThrow(ConfigError);
    expect(bad([{ kind: 'success-rate', thresholds: { critical: 0.999 } }])).toThrow(/detectors\.0\.thresholds: critical \(0\.999\) must be below high/);
    expect(bad([{ kind: 'cache-hit-rate', thresholds: { medium: null } }])).toThrow(/at least one severity threshold/);
    expect(bad([{ kind: 'cpu' }, { kind: 'cpu' }])).toThrow(/detectors\.1\.name: duplicate detector name "cpu"/);
    expect(bad([{ kind: 'cpu' }, { kind: 'cpu' }])).toThrow(ConfigError);
  });
});

describe('custom detectors', () => {
  it('numbers against thresholds (either direction), booleans, severities, and "ok"', () => {
    const { clock, monitor } = setup({ incidents: now0 });
    let days = 30;
    let loaded = true;
    let integrity: string = 'ok';
    monitor.detector({ type: 'certificate-expiry', evaluate: () => days, direction: 'below', thresholds: { medium: 14, critical: 3 }, signal: 'certificate days left', unit: 'count' });
    monitor.detector({ type: 'model-failure', evaluate: () => !loaded, severity: 'high', summary: () => 'Cross-encoder model not loaded' });
    monitor.detector({ type: 'index-corruption', evaluate: () => integrity as 'ok' | 'critical' });
    expect(monitor.evaluate().incidents.opened).toEqual([]);
    days = 10;
    loaded = false;
    integrity = 'critical';
    clock.advance(1_000);
    const opened = monitor.evaluate().incidents.opened;
    expect(opened.map(brief)).toEqual([
      ['certificate-expiry', 'service', 'medium'],
      ['model-failure', 'service', 'high'],
      ['index-corruption', 'service', 'critical'],
    ]);
    expect(opened[0]!.summary).toBe('certificate days left 10 is below 14 (medium)');
    expect(opened[1]!.summary).toBe('Cross-encoder model not loaded');
    days = 2;
    clock.advance(1_000);
    expect(monitor.evaluate().incidents.escalated.map(brief)).toEqual([['certificate-expiry', 'service', 'critical']]);
  });

  it('a detector that throws or returns nonsense is contained, counted and reported; the others still run', () => {
    const { monitor } = setup({ incidents: now0 });
    const errors: string[] = [];
    monitor.on('detector:error', (e) => errors.push(`${e.detector}: ${e.error.message}`));
    monitor.detector({
      type: 'flaky',
      evaluate: () => {
        throw new Error('probe exploded');
      },
    });
    monitor.detector({ type: 'nan', evaluate: () => NaN, thresholds: { high: 1 } });
    monitor.detector({ type: 'no-thresholds', evaluate: () => 5 });
    monitor.detector({ type: 'bad-severity', evaluate: () => 'catastrophic' as never });
    monitor.detector({ type: 'async', evaluate: () => Promise.resolve(true) as never });
    monitor.detector({ type: 'model-failure', evaluate: () => true });
    let report;
    expect(() => (report = monitor.evaluate())).not.toThrow();
    expect(report!.incidents.opened.map(brief)).toEqual([['model-failure', 'service', 'high']]);
    expect(errors).toEqual([
      'flaky: probe exploded',
      'nan: detector nan returned a non-finite number (NaN)',
      'no-thresholds: detector no-thresholds returned a number but has no thresholds',
      'bad-severity: detector bad-severity returned an unknown severity "catastrophic"',
      'async: detector async must be synchronous (evaluate returned a promise)',
    ]);
    const flaky = monitor.stats().incidents.detectors.find((d) => d.name === 'flaky')!;
    expect(flaky).toMatchObject({ type: 'flaky', errors: 1, lastError: 'probe exploded' });
    monitor.evaluate();
    expect(monitor.stats().incidents.detectors.find((d) => d.name === 'flaky')!.errors).toBe(2);
  });

  it('scopes: one open incident per (type, scope); remove() stops a detector', () => {
    const { monitor } = setup({ incidents: now0 });
    const a = monitor.detector({ type: 'disk-space-low', name: 'disk-data', scope: 'disk:/data', evaluate: () => true });
    monitor.detector({ type: 'disk-space-low', name: 'disk-logs', scope: 'disk:/logs', evaluate: () => true });
    monitor.detector({ type: 'disk-space-low', name: 'disk-data-2', scope: 'disk:/data', evaluate: () => 'critical' });
    expect(monitor.evaluate().incidents.opened.map(brief)).toEqual([
      ['disk-space-low', 'disk:/data', 'critical'],
      ['disk-space-low', 'disk:/logs', 'high'],
    ]);
    expect(a.name).toBe('disk-data');
    a.remove();
    expect(monitor.stats().incidents.detectors.map((d) => d.name)).toEqual(['disk-logs', 'disk-data-2']);
  });

  it('rejects bad definitions with a ConfigError, and duplicate names', () => {
    const { monitor } = setup();
    expect(() => monitor.detector({ type: '', evaluate: () => true })).toThrow(ConfigError);
    expect(() => monitor.detector({ type: 'x', evaluate: 'nope' as never })).toThrow(/evaluate: evaluate must be a function/);
    expect(() => monitor.detector({ type: 'x', evaluate: 'nope' as never })).toThrow(ConfigError);
    expect(() => monitor.detector({ type: 'x', evaluate: () => 1, thresholds: { high: 1, critical: 0 } })).toThrow(/thresholds: critical \(0\) must be above high/);
    expect(() => monitor.detector({ type: 'x', evaluate: () => 1, thresholds: { high: 1, critical: 0 } })).toThrow(ConfigError);
    monitor.detector({ type: 'x', evaluate: () => true });
    expect(() => monitor.detector({ type: 'x', evaluate: () => true })).toThrow(/a detector named "x" already exists/);
  });
});

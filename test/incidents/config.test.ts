import { describe, expect, it } from 'vitest';
import { ConfigError, createMonitor, DEFAULT_BURN_RULES, type MonitorOptions } from '../../src/index.js';

function issues(opts: unknown): string[] {
  try {
    createMonitor(opts as MonitorOptions);
  } catch (e) {
    if (e instanceof ConfigError) return e.issues.map((i) => `${i.path}: ${i.message}`);
    throw e;
  }
  return [];
}

describe('incident options', () => {
  it('have the documented defaults', () => {
    const m = createMonitor({ service: 's' });
    expect(m.options.incidents).toEqual({
      forMs: 60_000,
      clearForMs: 120_000,
      reopenWithinMs: 600_000,
      autoResolve: true,
      overdue: true,
      maxResolved: 1_000,
      maxActive: 500,
      maxTimeline: 500,
      maxNotes: 200,
      maxActionItems: 100,
      maxPending: 1_000,
      inhibit: [
        { name: 'errors explain the SLO burn', source: { type: 'high-error-rate' }, target: { type: 'slo-burn' }, scope: 'any' },
        { name: 'service-wide attack explains each limiter', source: { type: 'rate-limit-attack', scope: 'service' }, target: { type: 'rate-limit-attack', scope: { regex: 'limiter:.*' } }, scope: 'any' },
      ],
    });
    expect(m.options.burnRate).toMatchObject({ enabled: true, periodMs: 30 * 86_400_000, slotMs: 60_000, forMs: 0, rules: DEFAULT_BURN_RULES });
    expect(m.options.notifiers).toEqual([]);
    expect(m.options.incidentLog).toBeUndefined();
    expect(createMonitor({ service: 's', incidentLog: { path: '/tmp/never-written.jsonl' } }).options.incidentLog).toEqual({
      path: '/tmp/never-written.jsonl',
      fsync: 'interval',
      fsyncIntervalMs: 1_000,
      maxBytes: 10 * 1024 * 1024,
      maxBufferedLines: 10_000,
    });
  });

  it('name every bad field', () => {
    const found = issues({
      service: 's',
      preset: 'sre',
      incidents: { forMs: -1, clearForMs: 1.5, bogus: true },
      incidentLog: { path: '', fsync: 'sometimes', maxBytes: 10 },
      notifiers: [{ webhook: 'ftp://example.com' }],
      burnRate: { rules: [{ name: 'r', severity: 'high', factor: 2, longMs: 60_000, shortMs: 60_000 }] },
      detectors: [{ kind: 'throughput' }],
    });
    const paths = found.map((f) => f.split(':')[0]);
    expect(paths).toEqual(
      expect.arrayContaining([
        'preset',
        'incidents.forMs',
        'incidents.clearForMs',
        'incidents',
        'incidentLog.path',
        'incidentLog.fsync',
        'incidentLog.maxBytes',
        'notifiers.0.webhook',
        'burnRate.rules.0.shortMs',
        'detectors.0.kind',
      ]),
    );
    expect(found).toContain('incidents.forMs: forMs must be ≥ 0');
    expect(found).toContain('burnRate.rules.0.shortMs: shortMs must be shorter than longMs');
  });
});

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createMonitor, type Incident } from '../../src/index.js';
import { fixedProbes, setup } from './helpers.js';

describe('detection inside the scheduled evaluation', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('start() detects on its schedule; stop() cancels every timer (evaluation, fsync, notifier retries)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'firebreak-sched-'));
    try {
      const { clock, monitor } = setup({
        evaluateEveryMs: 10_000,
        incidents: { forMs: 20_000 },
        incidentLog: { path: join(dir, 'i.jsonl'), fsync: 'interval', fsyncIntervalMs: 60_000 },
        notifiers: [{ notify: () => Promise.reject(new Error('down')), backoffMs: 300_000 }],
      });
      const opened: Incident[] = [];
      monitor.on('incident:opened', (i) => opened.push(i));
      monitor.detector({ type: 'model-failure', evaluate: () => true });
      monitor.start();
      const t0 = clock.now();
      clock.advance(30_000); // evaluations at +10 s (seen), +20 s, +30 s (held 20 s: opens)
      expect(opened.map((i) => [i.detectedAt - t0, i.openedAt - t0])).toEqual([[10_000, 30_000]]);
      await monitor.flush();
      expect(clock.pendingTimers()).toBe(3); // next evaluation, fsync, notifier retry
      monitor.stop();
      expect(clock.pendingTimers()).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('works with vi.useFakeTimers() and the default clock', () => {
    vi.useFakeTimers();
    vi.setSystemTime(new Date('2026-03-01T00:00:00Z'));
    const monitor = createMonitor({ service: 'api', probes: fixedProbes({ memory: 0.95 }), preset: 'runbook', incidents: { forMs: 30_000 } });
    monitor.start();
    vi.advanceTimersByTime(30_000);
    expect(monitor.incidents.list()).toEqual([]);
    vi.advanceTimersByTime(10_000);
    expect(monitor.incidents.list().map((i) => [i.type, i.severity, new Date(i.openedAt).toISOString()])).toEqual([
      ['memory-exhaustion', 'high', '2026-03-01T00:00:40.000Z'],
    ]);
    monitor.stop();
    expect(vi.getTimerCount()).toBe(0);
  });

  it('evaluate() always reports incident changes, empty when nothing changed', () => {
    const { monitor } = setup();
    expect(monitor.evaluate().incidents).toEqual({ opened: [], reopened: [], escalated: [], deescalated: [], resolved: [], overdue: [] });
  });
});

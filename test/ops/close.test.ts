import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createMonitor, type DeadLetter, type Notification } from '../../src/index.js';
import { ManualClock } from '../../src/testing/index.js';
import { fixedProbes } from '../incidents/helpers.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'firebreak-close-'));
  vi.spyOn(Math, 'random').mockReturnValue(0.999_999_9); // backoff at its ceiling
});
afterEach(() => {
  vi.restoreAllMocks();
  rmSync(dir, { recursive: true, force: true });
});

describe('monitor.close()', () => {
  it('loses nothing: waits for a notification in backoff, delivers it, and writes the incident log', async () => {
    const clock = new ManualClock();
    const delivered: Notification[] = [];
    let calls = 0;
    const path = join(dir, 'incidents.jsonl');
    const monitor = createMonitor({
      service: 'search-api',
      clock,
      probes: fixedProbes(),
      incidentLog: { path, fsync: 'never' },
      notifiers: [{ notify: async (n) => { if (++calls === 1) throw new Error('pager 503'); delivered.push(n); }, backoffMs: 2_000, retries: 3 }],
    });
    monitor.start();
    const inc = monitor.incidents.open({ type: 'service-down', severity: 'critical', summary: 'down' });
    await clock.advanceAsync(0); // the first attempt fails; the retry waits 2 s on the clock
    expect(calls).toBe(1);
    const closing = monitor.close();
    expect(monitor.close()).toBe(closing); // idempotent
    await clock.advanceAsync(2_000);
    const result = await closing;
    expect(delivered.map((n) => n.incident.id)).toEqual([inc.id]);
    expect(result).toMatchObject({ delivered: 1, deadLettered: 0, timedOut: false });
    expect(result.log.failed).toBe(0);
    expect(result.log.written).toBeGreaterThan(0);
    expect(readFileSync(path, 'utf8')).toContain(inc.id);
    expect(monitor.running).toBe(false);
    expect(clock.pendingTimers()).toBe(0);
  });

  it('dead-letters what is still undelivered at the deadline, with an event per notification', async () => {
    const clock = new ManualClock();
    const monitor = createMonitor({
      service: 'search-api',
      clock,
      probes: fixedProbes(),
      notifiers: [{ name: 'pager', notify: () => Promise.reject(new Error('down')), backoffMs: 60_000, retries: 5 }],
    });
    const dead: DeadLetter[] = [];
    monitor.on('notifier:dead-letter', (d) => dead.push(d));
    const a = monitor.incidents.open({ type: 'a', severity: 'high', summary: 'a', scope: 'a' });
    const b = monitor.incidents.open({ type: 'b', severity: 'high', summary: 'b', scope: 'b' });
    await clock.advanceAsync(0);
    const closing = monitor.close({ timeoutMs: 1_000 });
    await clock.advanceAsync(999);
    let settled = false;
    void closing.then(() => (settled = true));
    await clock.advanceAsync(0);
    expect(settled).toBe(false);
    await clock.advanceAsync(1);
    const result = await closing;
    expect(result).toMatchObject({ delivered: 0, deadLettered: 2, timedOut: true });
    expect(dead.map((d) => [d.notifier, d.notification.incident.id, d.reason])).toEqual([
      ['pager', a.id, 'closed'],
      ['pager', b.id, 'closed'],
    ]);
    expect(dead[0]!.error).toBe('down');
    expect(monitor.stats().incidents.notifiers[0]).toMatchObject({ deadLettered: 2, queued: 0 });
    expect(clock.pendingTimers()).toBe(0);
  });

  it('waits for a remediation run in flight before closing', async () => {
    const clock = new ManualClock();
    const monitor = createMonitor({ service: 'search-api', clock, probes: fixedProbes() });
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const settled = vi.spyOn(monitor.remediation, 'settled').mockReturnValue(gate);
    let done = false;
    const closing = monitor.close().then(() => (done = true));
    await clock.advanceAsync(5_000);
    expect(done).toBe(false);
    release();
    await closing;
    expect(done).toBe(true);
    expect(settled).toHaveBeenCalled();
  });

  it('rejects a bad timeoutMs with a ConfigError naming it', () => {
    const monitor = createMonitor({ service: 'x', clock: new ManualClock() });
    expect(() => monitor.close({ timeoutMs: -1 })).toThrow(expect.objectContaining({ name: 'ConfigError', message: expect.stringContaining('timeoutMs') }));
  });

  it('works with await using (Symbol.asyncDispose)', async () => {
    const clock = new ManualClock();
    let outer: ReturnType<typeof createMonitor> | undefined;
    {
      await using monitor = createMonitor({ service: 'x', clock, probes: fixedProbes() });
      monitor.start();
      outer = monitor;
    }
    expect(outer.closed).toBe(true);
    expect(outer.running).toBe(false);
    expect(typeof outer[Symbol.asyncDispose]).toBe('function');
  });
});

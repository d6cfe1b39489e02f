import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createMonitor, type CorruptLine, type Incident, type Monitor, type MonitorOptions } from '../../src/index.js';
import { ManualClock } from '../../src/testing/index.js';
import { fixedProbes, steps } from './helpers.js';

let dir: string;
let monitors: Monitor[] = [];
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'firebreak-log-'));
});
afterEach(async () => {
  await Promise.all(monitors.map((m) => m.flush()));
  for (const m of monitors) m.stop();
  monitors = [];
  rmSync(dir, { recursive: true, force: true });
});

function make(path: string, extra: Partial<MonitorOptions> = {}, clock = new ManualClock()) {
  const monitor = createMonitor({ service: 'search-api', clock, probes: fixedProbes(), incidentLog: { path, fsync: 'never' }, ...extra });
  monitors.push(monitor);
  return { clock, monitor };
}

/** A realistic history: incidents in every state, with notes, action items, a reopen. */
function history(monitor: Monitor, clock: ManualClock, round = 0): void {
  const m = monitor.incidents;
  for (let i = 0; i < 6; i++) {
    const inc = m.open({ type: i % 2 === 0 ? 'high-latency' : 'cache-failure', severity: (['low', 'medium', 'high', 'critical'] as const)[i % 4]!, summary: `incident ${i} — “quoted” ✓`, scope: `route:GET /r${i}/${round}` });
    clock.advance(30_000);
    if (i % 3 !== 2) m.acknowledge(inc.id, { by: 'alice', note: `ack ${i}` });
    m.addNote(inc.id, { by: 'bob', text: `note for ${i}\nwith a newline` });
    if (i % 2 === 1) m.addActionItem(inc.id, { text: `follow up ${i}`, owner: 'carol' });
    clock.advance(30_000);
    if (i < 4) m.resolve(inc.id, { by: 'alice', notes: `fixed ${i}`, rootCause: `cause ${i}` });
    if (i === 1) m.reopen(inc.id, { by: 'dave' });
  }
}

describe('JSONL incident log', () => {
  it('appends off the caller’s path, in order, and a restart restores open incidents and history', async () => {
    const path = join(dir, 'logs', 'incidents.jsonl'); // the directory is created
    const { clock, monitor } = make(path, { preset: 'runbook' });
    steps(clock, monitor, 30, 100);
    steps(clock, monitor, 12, 2500); // opens high-latency
    history(monitor, clock);
    expect(existsSync(path)).toBe(false); // nothing written synchronously
    await monitor.flush();
    const lines = readFileSync(path, 'utf8').trimEnd().split('\n').map((l) => JSON.parse(l) as { seq: number; change: string; incident: Incident });
    expect(lines.map((l) => l.seq)).toEqual(lines.map((_, i) => i + 1));
    expect(lines[0]).toMatchObject({ v: 1, change: 'opened', incident: { type: 'high-latency', status: 'open' } });
    const before = monitor.incidents.list();
    expect(before.filter((i) => i.status !== 'resolved')).toHaveLength(4);

    // A new process, with a clock that has gone back an hour: state and id order survive.
    const clock2 = new ManualClock(clock.now() - 3_600_000);
    const { monitor: restarted } = make(path, { preset: 'runbook' }, clock2);
    expect(restarted.incidents.list()).toEqual(before);
    expect(restarted.stats().incidents.log).toMatchObject({ restored: before.length, corrupt: 0 });
    const fresh = restarted.incidents.open({ type: 'disk-space-low', severity: 'medium', summary: 'after restart' });
    expect(before.every((i) => i.id < fresh.id)).toBe(true);

    // The restored auto incident is still the one for (high-latency, service): still slow → no duplicate;
    // traffic recovers → it resolves.
    steps(clock2, restarted, 30, 2500);
    expect(restarted.incidents.list({ type: 'high-latency', status: 'active' }).filter((i) => i.scope === 'service')).toHaveLength(1);
    steps(clock2, restarted, 60, 100);
    const latency = restarted.incidents.list({ type: 'high-latency' }).find((i) => i.scope === 'service')!;
    expect(latency.status).toBe('resolved');
    expect(latency.id).toBe(before.find((i) => i.type === 'high-latency' && i.scope === 'service')!.id);
  });

  describe('torn writes', () => {
    function build(path: string) {
      const { clock, monitor } = make(path);
      history(monitor, clock);
      return monitor;
    }

    /** The state implied by the complete lines of `bytes[0..cut)`, parsed independently of the library. */
    function expected(bytes: Buffer, cut: number): { incidents: Incident[]; torn: boolean } {
      const latest = new Map<string, Incident>();
      let start = 0;
      let torn = false;
      while (start < bytes.length) {
        const end = bytes.indexOf(0x0a, start);
        if (end <= cut) latest.set(...((): [string, Incident] => {
          const rec = JSON.parse(bytes.toString('utf8', start, end)) as { incident: Incident };
          return [rec.incident.id, rec.incident];
        })());
        else if (start < cut) torn = true;
        start = end + 1;
      }
      return { incidents: [...latest.values()].sort((a, b) => (a.id < b.id ? 1 : -1)), torn };
    }

    it('recovers every complete record whatever byte the file is cut at', async () => {
      const path = join(dir, 'full.jsonl');
      await build(path).flush();
      const bytes = readFileSync(path);
      const boundaries: number[] = [];
      for (let i = bytes.indexOf(0x0a); i >= 0; i = bytes.indexOf(0x0a, i + 1)) boundaries.push(i - 1, i, i + 1);
      let n = 0;
      const check = (cut: number) => {
        const sub = join(dir, `cut-${n++}`);
        mkdirSync(sub);
        const p = join(sub, 'incidents.jsonl');
        writeFileSync(p, bytes.subarray(0, cut));
        const { monitor } = make(p);
        const want = expected(bytes, cut);
        expect(monitor.incidents.list()).toEqual(want.incidents);
        expect(monitor.stats().incidents.log!.corrupt).toBe(want.torn ? 1 : 0);
      };
      for (const cut of [0, 1, bytes.length, ...boundaries.filter((b) => b >= 0 && b <= bytes.length)]) check(cut);
      fc.assert(fc.property(fc.integer({ min: 0, max: bytes.length }), (cut) => check(cut)), { numRuns: 150, seed: 20260101 });
    });

    it('reports the torn line by event, and writes after it start a new line, so nothing after it is lost', async () => {
      const path = join(dir, 'torn.jsonl');
      await build(path).flush();
      const bytes = readFileSync(path);
      const lastNewline = bytes.lastIndexOf(0x0a, bytes.length - 2);
      const cut = lastNewline + 40; // 40 bytes into the last line
      writeFileSync(path, bytes.subarray(0, cut));
      const lineCount = bytes.subarray(0, cut).toString().split('\n').length;

      const { monitor: second } = make(path);
      const corrupt: CorruptLine[] = [];
      second.on('incident:log-corrupt', (c) => corrupt.push(c));
      await Promise.resolve();
      expect(corrupt).toEqual([{ path, line: lineCount, offset: lastNewline + 1, reason: expect.stringMatching(/^not JSON/) }]);
      const added = second.incidents.open({ type: 'model-failure', severity: 'high', summary: 'written after the tear' });
      second.incidents.acknowledge(added.id, { by: 'erin' });
      await second.flush();
      const afterSecond = second.incidents.list();

      const { monitor: third } = make(path);
      expect(third.incidents.list()).toEqual(afterSecond);
      expect(third.incidents.require(added.id).status).toBe('acknowledged');
      expect(third.stats().incidents.log!.corrupt).toBe(1); // the torn line, now in the middle, still skipped
    });

    it('skips garbage and wrong-shaped lines anywhere, keeping every valid line around them', async () => {
      const path = join(dir, 'mixed.jsonl');
      await build(path).flush();
      const lines = readFileSync(path, 'utf8').trimEnd().split('\n');
      const bad = ['{"v":1,"seq":9999,"at":0,"change":"opened","incident":{"id":"x"}}', '\u0000\u0000garbage', '{"v":2}'];
      const mixed = [lines[0], bad[0], ...lines.slice(1, 5), bad[1], ...lines.slice(5), bad[2]].join('\n') + '\n';
      writeFileSync(path, mixed);
      const { monitor: clean } = make(join(dir, 'clean.jsonl'));
      writeFileSync(join(dir, 'clean.jsonl'), lines.join('\n') + '\n');
      const { monitor: fromClean } = make(join(dir, 'clean.jsonl'));
      void clean;
      const { monitor: fromMixed } = make(path);
      expect(fromMixed.incidents.list()).toEqual(fromClean.incidents.list());
      expect(fromMixed.stats().incidents.log!.corrupt).toBe(3);
    });
  });

  it('rotates by size: the old file becomes .1, the new one starts with a snapshot, restart restores all', async () => {
    const path = join(dir, 'rot.jsonl');
    const { clock, monitor } = make(path, { incidentLog: { path, fsync: 'never', maxBytes: 4096 } });
    history(monitor, clock);
    await monitor.flush();
    const batches = 60;
    for (let i = 0; i < batches; i++) {
      monitor.incidents.open({ type: 'cache-failure', severity: 'low', summary: `batch ${i}`, scope: `cache:c${i}` });
      await monitor.flush(); // one small batch per change
    }
    const stats = monitor.stats().incidents.log!;
    expect(stats.rotations).toBeGreaterThanOrEqual(2);
    // The snapshot alone is larger than maxBytes here; rotation still waits for maxBytes / 2 of new lines.
    expect(stats.rotations).toBeLessThan(batches / 2);
    expect(readFileSync(`${path}.1`).length).toBeGreaterThanOrEqual(4096);
    const first = JSON.parse(readFileSync(path, 'utf8').split('\n')[0]!) as { change: string };
    expect(first.change).toBe('snapshot');
    const { monitor: restarted } = make(path);
    expect(restarted.incidents.list()).toEqual(monitor.incidents.list());
    expect(restarted.incidents.list()).toHaveLength(66);
  });

  it('fsync "interval" syncs on the clock; stop() cancels the timer; "always" syncs each batch', async () => {
    const path = join(dir, 'sync.jsonl');
    const clock = new ManualClock();
    const monitor = createMonitor({ service: 's', clock, probes: fixedProbes(), incidentLog: { path, fsync: 'interval', fsyncIntervalMs: 500 } });
    monitors.push(monitor);
    monitor.incidents.open({ type: 't', severity: 'low', summary: 'x' });
    await monitor.flush();
    expect(clock.pendingTimers()).toBe(1);
    clock.advance(500);
    expect(clock.pendingTimers()).toBe(0);
    monitor.incidents.open({ type: 't', severity: 'low', summary: 'y', scope: 'y' });
    await monitor.flush();
    monitor.stop();
    expect(clock.pendingTimers()).toBe(0);

    const always = join(dir, 'always.jsonl');
    const m2 = createMonitor({ service: 's', clock, probes: fixedProbes(), incidentLog: { path: always, fsync: 'always' } });
    monitors.push(m2);
    m2.incidents.open({ type: 't', severity: 'low', summary: 'z' });
    await m2.flush();
    expect(readFileSync(always, 'utf8').split('\n')).toHaveLength(2);
    expect(clock.pendingTimers()).toBe(0);
  });

  it('a full buffer drops lines and counts them; nothing blocks', async () => {
    const path = join(dir, 'small.jsonl');
    const { monitor } = make(path, { incidentLog: { path, fsync: 'never', maxBufferedLines: 2 } });
    for (let i = 0; i < 5; i++) monitor.incidents.open({ type: 't', severity: 'low', summary: `${i}`, scope: `${i}` });
    expect(monitor.stats().incidents.log).toMatchObject({ buffered: 2, dropped: 3 });
    await monitor.flush();
    expect(readFileSync(path, 'utf8').trimEnd().split('\n')).toHaveLength(2);
    expect(monitor.stats().incidents.log).toMatchObject({ buffered: 0, written: 2, dropped: 3 });
    expect(monitor.incidents.list()).toHaveLength(5); // memory is unaffected
  });

  it('a write error is reported and counted, never thrown; the monitor keeps working', async () => {
    const notADir = join(dir, 'file');
    writeFileSync(notADir, 'x');
    const path = join(notADir, 'incidents.jsonl');
    const { clock, monitor } = make(path);
    const errors: Error[] = [];
    monitor.on('incident:log-error', (e) => errors.push(e));
    monitor.incidents.open({ type: 't', severity: 'low', summary: 'x' });
    await monitor.flush();
    expect(errors.length).toBeGreaterThanOrEqual(1);
    expect(monitor.stats().incidents.log).toMatchObject({ failed: 1, written: 0 });
    expect(monitor.stats().incidents.log!.lastError).toMatch(/EEXIST|ENOTDIR/);
    steps(clock, monitor, 3, 100);
    expect(monitor.incidents.list()).toHaveLength(1);
  });
});

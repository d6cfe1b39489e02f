/**
 * Crash safety of the incident log (issue 11): rotation interrupted by a
 * crash, the file deleted or moved while running, non-regular paths, the
 * replay bound, and what `flush()` reports when writes fail.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, renameSync, rmSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConfigError, createMonitor, replayLog, type Monitor, type MonitorOptions } from '../../src/index.js';
import { IncidentLog, type LogIo } from '../../src/incidents/log.js';
import { incidentLogSchema } from '../../src/incidents/config.js';
import type { Incident } from '../../src/incidents/types.js';
import { ManualClock } from '../../src/testing/index.js';
import { fixedProbes } from './helpers.js';

let dir: string;
let monitors: Monitor[] = [];
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'firebreak-logcrash-'));
});
afterEach(async () => {
  await Promise.all(monitors.map((m) => m.flush()));
  for (const m of monitors) m.stop();
  monitors = [];
  rmSync(dir, { recursive: true, force: true });
});

function make(path: string, log: Partial<MonitorOptions['incidentLog'] & object> = {}, extra: Partial<MonitorOptions> = {}) {
  const clock = new ManualClock();
  const monitor = createMonitor({
    service: 'search-api',
    clock,
    probes: fixedProbes(),
    incidents: { maxResolved: 10_000, maxActive: 10_000 },
    incidentLog: { path, fsync: 'never', ...log },
    ...extra,
  });
  monitors.push(monitor);
  return { clock, monitor };
}

function openMany(monitor: Monitor, n: number, tag: string): Incident[] {
  const out: Incident[] = [];
  for (let i = 0; i < n; i++) out.push(monitor.incidents.open({ type: 'cache-failure', severity: 'low', summary: `${tag} ${i} ${'x'.repeat(120)}`, scope: `cache:${tag}-${i}` }));
  return out;
}

const ids = (m: Monitor) => m.incidents.list().map((i) => i.id).sort();

describe('rotation survives a crash at any point', () => {
  it('a crash after `<path>` became `.1` but before the new file was written loses nothing, even across later rotations', async () => {
    const path = join(dir, 'inc.jsonl');
    const { monitor: a } = make(path, { maxBytes: 4096 });
    openMany(a, 40, 'a');
    expect((await a.flush()).failed).toBe(0);
    const acknowledged = ids(a);
    // The old writer's crash window: the current file renamed over `.1`, no new file yet.
    renameSync(path, `${path}.1`);
    expect(existsSync(path)).toBe(false);

    // Restart and append a little (no rotation yet), then crash inside the next rotation, at the same point.
    const { monitor: b } = make(path, { maxBytes: 4096 });
    expect(ids(b)).toEqual(acknowledged);
    openMany(b, 3, 'b');
    expect((await b.flush()).failed).toBe(0);
    const afterB = ids(b);
    renameSync(path, `${path}.1`);

    const { monitor: c } = make(path, { maxBytes: 4096 });
    expect(ids(c)).toEqual(afterB);
    // And it keeps holding through later rotations.
    for (let round = 0; round < 6; round++) {
      openMany(c, 5, `c${round}`);
      await c.flush();
    }
    expect(c.stats().incidents.log!.rotations).toBeGreaterThanOrEqual(2);
    const { monitor: d } = make(path, { maxBytes: 4096 });
    expect(ids(d)).toEqual(ids(c));
    expect(ids(d)).toHaveLength(73);
  });

  it('a current file that does not start with a snapshot is compacted at start, so the next rotation cannot destroy the only full copy', async () => {
    const path = join(dir, 'inc.jsonl');
    const { monitor: a } = make(path);
    openMany(a, 40, 'a');
    await a.flush();
    const full = ids(a);
    // `.1` holds the full state; the current file holds only a later change (e.g. written by an old version after a crash).
    renameSync(path, `${path}.1`);
    const tail = readFileSync(`${path}.1`, 'utf8').trimEnd().split('\n').at(-1)!;
    expect(JSON.parse(tail)).toMatchObject({ change: 'opened' });
    writeFileSync(path, tail + '\n');

    const { monitor: b } = make(path, { maxBytes: 4096 });
    expect(ids(b)).toEqual(full);
    await b.flush();
    const first = JSON.parse(readFileSync(path, 'utf8').split('\n')[0]!) as { change: string };
    expect(first.change).toBe('snapshot');
    expect(b.stats().incidents.log!.repairs).toBe(1);
    // Rotate twice: `.1` is overwritten; the state must still be complete.
    for (let round = 0; round < 6; round++) {
      openMany(b, 5, `b${round}`);
      await b.flush();
    }
    const { monitor: c } = make(path, { maxBytes: 4096 });
    expect(ids(c)).toEqual(ids(b));
    expect(ids(c)).toHaveLength(70);
  });

  it('rotation never leaves `<path>` without a snapshot: the snapshot is written to a temporary file and renamed into place', async () => {
    const path = join(dir, 'inc.jsonl');
    const { monitor } = make(path, { maxBytes: 4096 });
    for (let round = 0; round < 8; round++) {
      openMany(monitor, 5, `r${round}`);
      await monitor.flush();
      // After every batch the current file alone holds the whole state (it starts with a snapshot or is the first file).
      const alone = join(dir, `alone-${round}.jsonl`);
      writeFileSync(alone, readFileSync(path));
      expect(replayLog(alone).incidents.map((i) => i.id).sort()).toEqual(ids(monitor));
    }
    expect(monitor.stats().incidents.log!.rotations).toBeGreaterThanOrEqual(2);
    expect(existsSync(`${path}.tmp`)).toBe(false);
  });
});

describe('the log file deleted or moved while running', () => {
  for (const how of ['deleted', 'moved', 'moved, empty file created (logrotate create)', 'truncated (logrotate copytruncate)'] as const) {
    it(`${how}: detected, counted, reported, and the new file starts with a full snapshot`, async () => {
      const path = join(dir, 'inc.jsonl');
      const { monitor } = make(path);
      const errors: Error[] = [];
      monitor.on('incident:log-error', (e) => errors.push(e));
      openMany(monitor, 9, 'before');
      await monitor.flush();
      if (how === 'deleted') unlinkSync(path);
      else if (how === 'moved') renameSync(path, `${path}.old`);
      else if (how === 'truncated (logrotate copytruncate)') writeFileSync(path, '');
      else {
        renameSync(path, `${path}.old`);
        writeFileSync(path, '');
      }
      openMany(monitor, 1, 'after');
      const res = await monitor.flush();
      expect(res.failed).toBe(0);
      const stats = monitor.stats().incidents.log!;
      expect(stats.replaced).toBe(1);
      expect(stats.bytes).toBe(statSync(path).size);
      expect(errors.some((e) => /deleted|moved|replaced|truncated/.test(e.message))).toBe(true);
      const { monitor: restarted } = make(path);
      expect(ids(restarted)).toEqual(ids(monitor));
      expect(ids(restarted)).toHaveLength(10);
    });
  }

  it('a deletion is detected at flush() even when nothing new is written', async () => {
    const path = join(dir, 'inc.jsonl');
    const { monitor } = make(path);
    openMany(monitor, 5, 'x');
    await monitor.flush();
    unlinkSync(path);
    await monitor.flush();
    expect(monitor.stats().incidents.log!.replaced).toBe(1);
    expect(replayLog(path).incidents).toHaveLength(5);
  });
});

describe('rotations racing flush() are not mistaken for a replaced file', () => {
  it('flushes issued while batches rotate report nothing replaced', async () => {
    const path = join(dir, 'inc.jsonl');
    const { monitor } = make(path, { maxBytes: 4096 });
    const errors: Error[] = [];
    monitor.on('incident:log-error', (e) => errors.push(e));
    const flushes: Promise<unknown>[] = [];
    for (let i = 0; i < 60; i++) {
      openMany(monitor, 2, `r${i}`);
      flushes.push(monitor.flush());
      // Some flushes awaited (batches get written and rotate), the others left running across the next changes.
      if (i % 3 === 0) await flushes[i];
      else await new Promise((r) => setImmediate(r));
    }
    await Promise.all(flushes);
    await monitor.flush();
    expect(monitor.stats().incidents.log!.rotations).toBeGreaterThanOrEqual(2);
    expect(monitor.stats().incidents.log!.replaced).toBe(0);
    expect(errors).toEqual([]);
    const { monitor: restarted } = make(path);
    expect(ids(restarted)).toEqual(ids(monitor));
  });
});

describe('non-regular log paths are refused at start', () => {
  function refused(path: string, field = 'incidentLog.path') {
    let caught: unknown;
    try {
      make(path);
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(ConfigError);
    expect((caught as ConfigError).code).toBe('CONFIG_INVALID');
    expect((caught as ConfigError).issues.map((i) => i.path)).toContain(field);
  }
  it('a character device (/dev/null, /dev/zero, /dev/full)', () => {
    refused('/dev/null');
    refused('/dev/zero');
    refused('/dev/full');
  });
  it('a FIFO, and a FIFO at `<path>.1`', () => {
    const fifo = join(dir, 'fifo');
    execFileSync('mkfifo', [fifo]);
    refused(fifo);
    const path = join(dir, 'inc.jsonl');
    execFileSync('mkfifo', [`${path}.1`]);
    refused(path);
  });
  it('a directory', () => {
    refused(dir);
  });
});

describe('replay is bounded', () => {
  it('reads at most `maxBytes` per file, reports it, and keeps every complete record before the bound', () => {
    const path = join(dir, 'big.jsonl');
    const line = (seq: number) => JSON.stringify({ v: 1, seq, at: 0, change: 'opened', incident: incident(`inc_${String(seq).padStart(4, '0')}`) });
    const lines = Array.from({ length: 200 }, (_, i) => line(i + 1));
    writeFileSync(path, lines.join('\n') + '\n');
    const size = statSync(path).size;
    const bound = Math.floor(size / 2);
    const r = replayLog(path, { maxBytes: bound });
    expect(r.truncated).toBe(true);
    expect(r.error).toMatch(/maxBytes|bound|stopped/);
    // Exactly the complete lines within the bound.
    let fit = 0;
    let used = 0;
    for (const l of lines) {
      if (used + l.length + 1 > bound) break;
      used += l.length + 1;
      fit++;
    }
    expect(r.incidents).toHaveLength(fit);
    expect(replayLog(path).truncated).toBe(false);
  });
});

function incident(id: string): Incident {
  return {
    id,
    type: 't',
    scope: 's',
    severity: 'low',
    priority: 'P3',
    status: 'open',
    summary: 'x',
    source: 'manual',
    detectedAt: 0,
    openedAt: 0,
    reopenCount: 0,
    notes: [],
    actionItems: [],
    timeline: [],
  } as unknown as Incident;
}

describe('flush() reports failed writes', () => {
  it('monitor.flush() resolves with { written, failed } and never claims a failed line was persisted', async () => {
    const notADir = join(dir, 'file');
    writeFileSync(notADir, 'x');
    const { monitor } = make(join(notADir, 'inc.jsonl'));
    monitor.incidents.open({ type: 't', severity: 'low', summary: 'x' });
    monitor.incidents.open({ type: 't', severity: 'low', summary: 'y', scope: 'y' });
    const res = await monitor.flush();
    expect(res).toEqual({ written: 0, failed: 2 });
    // The next flush covers only what happened since: nothing new, nothing failed again.
    expect(await monitor.flush()).toEqual({ written: 0, failed: 0 });

    const ok = make(join(dir, 'ok.jsonl')).monitor;
    ok.incidents.open({ type: 't', severity: 'low', summary: 'x' });
    expect(await ok.flush()).toEqual({ written: 1, failed: 0 });
  });

  /** An fs seam that fails appends with ENOSPC while `full` is set, and fsync with EIO while `eio` is set. */
  function flakyIo(): LogIo & { full: boolean; eio: boolean } {
    const real = IncidentLog.defaultIo;
    const io = {
      ...real,
      full: false,
      eio: false,
      async open(path: string, flags: string | number) {
        const fh = await real.open(path, flags);
        return {
          stat: () => fh.stat(),
          close: () => fh.close(),
          write: async (data: string) => {
            if (io.full) {
              // A partial write, as a full disk leaves it.
              await fh.write(data.slice(0, 7));
              throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
            }
            return fh.write(data);
          },
          datasync: async () => {
            if (io.eio) throw Object.assign(new Error('EIO: i/o error, fsync'), { code: 'EIO' });
            return fh.datasync();
          },
        };
      },
    };
    return io;
  }

  function direct(path: string, io: LogIo, fsync: 'always' | 'interval' | 'never', state: Incident[]) {
    const clock = new ManualClock();
    const errors: unknown[] = [];
    const log = new IncidentLog({
      options: incidentLogSchema.parse({ path, fsync }),
      clock,
      snapshot: () => state,
      onError: (e) => errors.push(e),
      io,
    });
    return { log, errors, clock };
  }

  it('ENOSPC: the lines count as failed; once the disk has room a full snapshot restores everything', async () => {
    const path = join(dir, 'enospc.jsonl');
    const io = flakyIo();
    const state: Incident[] = [];
    const { log, errors } = direct(path, io, 'always', state);
    state.push(incident('inc_a'));
    log.append('opened', incident('inc_a'));
    expect(await log.flush()).toEqual({ written: 1, failed: 0 });
    io.full = true;
    state.push(incident('inc_b'), incident('inc_c'));
    log.append('opened', incident('inc_b'));
    log.append('opened', incident('inc_c'));
    expect(await log.flush()).toEqual({ written: 0, failed: 2 });
    expect((errors[0] as NodeJS.ErrnoException).code).toBe('ENOSPC');
    expect(log.stats().failed).toBe(2);
    // Still full: flush retries the snapshot, which fails and is reported again.
    const before = log.stats().writeErrors;
    expect((await log.flush()).failed).toBe(0); // no new lines were lost…
    expect(log.stats().writeErrors).toBeGreaterThan(before);
    io.full = false;
    await log.flush(); // …and with room again, the file is rewritten with the whole state
    expect(replayLog(path).incidents.map((i) => i.id).sort()).toEqual(['inc_a', 'inc_b', 'inc_c']);
    expect(replayLog(path).corrupt).toEqual([]);
  });

  it('EIO on fsync: lines since the last good fsync count as failed (the kernel may have dropped them)', async () => {
    for (const fsync of ['always', 'interval'] as const) {
      const path = join(dir, `eio-${fsync}.jsonl`);
      const io = flakyIo();
      const state = [incident('inc_a')];
      const { log } = direct(path, io, fsync, state);
      io.eio = true;
      log.append('opened', incident('inc_a'));
      expect(await log.flush()).toEqual({ written: 0, failed: 1 });
      io.eio = false;
      expect((await log.flush()).failed).toBe(0);
      expect(replayLog(path).incidents.map((i) => i.id)).toEqual(['inc_a']);
      log.stop();
    }
  });
});

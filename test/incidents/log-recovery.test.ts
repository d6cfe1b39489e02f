import { ConfigError } from '../../src/errors.js';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { incidentLogSchema } from '../../src/incidents/config.js';
import { IncidentLog, replayLog, rotatedPath } from '../../src/incidents/log.js';
import type { Incident } from '../../src/incidents/types.js';
import { ManualClock } from '../../src/testing/index.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'firebreak-log-recovery-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

function incident(id: string, over: Partial<Incident> = {}): Incident {
  return {
    id,
    type: 'high-latency',
    scope: 'service',
    severity: 'high',
    priority: 'P1',
    status: 'open',
    summary: 's',
    source: 'auto',
    detectedAt: 0,
    openedAt: 0,
    reopenCount: 0,
    notes: [],
    actionItems: [],
    timeline: [],
    ...over,
  };
}

function writer(path: string, over: Record<string, unknown> = {}) {
  const errors: unknown[] = [];
  const log = new IncidentLog({
    options: incidentLogSchema.parse({ path, fsync: 'never', ...over }),
    clock: new ManualClock(),
    snapshot: () => [],
    onError: (e) => errors.push(e),
  });
  return { log, errors };
}

const lines = (path: string) =>
  readFileSync(path, 'utf8')
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as { seq: number; incident: { id: string } });

describe('incident log: recovery after errors', () => {
  it('an unserialisable change is counted and reported; the lines before and after it are written', async () => {
    const path = join(dir, 'incidents.jsonl');
    const { log, errors } = writer(path);
    log.append('opened' as never, incident('inc_a'));
    log.append('noted' as never, incident('inc_b', { timeline: [{ at: 0, kind: 'note', by: 'a', message: 'm', data: { n: 1n } }] as never }));
    log.append('opened' as never, incident('inc_c'));
    await log.flush();
    expect(lines(path).map((l) => l.incident.id)).toEqual(['inc_a', 'inc_c']);
    expect(log.stats()).toMatchObject({ written: 2, failed: 1, writeErrors: 1, buffered: 0 });
    expect(log.stats().lastError).toMatch(/BigInt/);
    expect(errors).toHaveLength(1);
  });

  it('a failed write loses only its own lines, is counted, and the writer carries on once the file is writable', async () => {
    const path = join(dir, 'incidents.jsonl');
    const { log, errors } = writer(path);
    log.append('opened' as never, incident('inc_a'));
    await log.flush();
    // The file turns into a directory: every write fails (and the replacement itself is detected).
    rmSync(path);
    mkdirSync(path);
    log.append('opened' as never, incident('inc_b'));
    await log.flush();
    expect(log.stats()).toMatchObject({ written: 1, failed: 1 });
    expect(log.stats().writeErrors).toBeGreaterThanOrEqual(1);
    expect(errors.length).toBeGreaterThanOrEqual(1);
    expect(log.stats().lastError).toBeDefined();
    // Writable again: the next line lands, never appended after a torn line.
    rmSync(path, { recursive: true });
    writeFileSync(path, '{"torn":'); // and it ends mid-line
    log.append('opened' as never, incident('inc_c'));
    await log.flush();
    expect(log.stats()).toMatchObject({ written: 2, failed: 1 });
    // After a failure the file is rewritten from a full snapshot (this writer's snapshot is empty),
    // so nothing torn or partial remains.
    const replay = replayLog(path);
    expect(replay.corrupt).toEqual([]);
    expect(readFileSync(path, 'utf8')).not.toContain('{"torn":');
  });

  it('a rotated file that is not a regular file is refused at start, naming incidentLog.path', () => {
    const path = join(dir, 'incidents.jsonl');
    mkdirSync(rotatedPath(path));
    writeFileSync(path, `${JSON.stringify({ v: 1, seq: 3, at: 0, change: 'opened', incident: incident('inc_x') })}\n`);
    expect(() => replayLog(path)).toThrow(ConfigError);
    try {
      replayLog(path);
    } catch (err) {
      expect((err as ConfigError).issues.map((i) => i.path)).toContain('incidentLog.path');
    }
  });

  it('a current file that is not a regular file is refused at start, naming incidentLog.path', () => {
    const path = join(dir, 'incidents.jsonl');
    writeFileSync(rotatedPath(path), `${JSON.stringify({ v: 1, seq: 7, at: 0, change: 'opened', incident: incident('inc_old') })}\n`);
    mkdirSync(path);
    expect(() => replayLog(path)).toThrow(ConfigError);
  });

  it('a full buffer drops and counts lines instead of growing', async () => {
    const path = join(dir, 'incidents.jsonl');
    const { log } = writer(path, { maxBufferedLines: 2 });
    for (const id of ['a', 'b', 'c', 'd']) log.append('opened' as never, incident(`inc_${id}`));
    expect(log.stats()).toMatchObject({ buffered: 2, dropped: 2 });
    await log.flush();
    expect(lines(path).map((l) => l.incident.id)).toEqual(['inc_a', 'inc_b']);
    // seq numbers stay increasing across the drop
    expect(lines(path).map((l) => l.seq)).toEqual([1, 2]);
  });

  it('an onError that throws does not break the writer', async () => {
    const path = join(dir, 'incidents.jsonl');
    const log = new IncidentLog({
      options: incidentLogSchema.parse({ path, fsync: 'never' }),
      clock: new ManualClock(),
      snapshot: () => [],
      onError: () => {
        throw new Error('reporter broke');
      },
    });
    log.append('noted' as never, incident('inc_b', { timeline: [{ at: 0, kind: 'note', by: 'a', message: 'm', data: { n: 1n } }] as never }));
    log.append('opened' as never, incident('inc_c'));
    await log.flush();
    expect(lines(path).map((l) => l.incident.id)).toEqual(['inc_c']);
    expect(log.stats()).toMatchObject({ written: 1, failed: 1, writeErrors: 1 });
  });
});

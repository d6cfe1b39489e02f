import { closeSync, existsSync, openSync, readFileSync, readSync, fstatSync } from 'node:fs';
import { mkdir, open, rename, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import { z } from 'zod';
import type { Clock, TimerHandle } from '../clock.js';
import type { IncidentLogOptions } from './config.js';
import type { IncidentChange } from './manager.js';
import { INCIDENT_STATUSES, SEVERITIES, type Incident } from './types.js';

/** Format version written in every line. */
export const LOG_VERSION = 1;

/**
 * One line of the incident log. `snapshot` lines start a file after rotation.
 *
 * @example
 * ```ts
 * const rec = JSON.parse(line) as LogRecord; // { v: 1, seq, at, change, incident }
 * ```
 */
export interface LogRecord {
  v: typeof LOG_VERSION;
  /** Increases with every change, across restarts; the highest wins on replay. */
  seq: number;
  at: number;
  change: IncidentChange | 'snapshot';
  incident: Incident;
}

/**
 * A line skipped during replay.
 *
 * @example
 * ```ts
 * monitor.on('incident:log-corrupt', (c) => console.warn(`${c.path}:${c.line} skipped: ${c.reason}`));
 * ```
 */
export interface CorruptLine {
  path: string;
  /** 1-based line number. */
  line: number;
  /** Byte offset of the line's start. */
  offset: number;
  reason: string;
}

/**
 * What replay found.
 *
 * @example
 * ```ts
 * const { incidents, corrupt, records } = replayLog('logs/incidents.jsonl');
 * ```
 */
export interface ReplayResult {
  /** The latest state of every incident in the log, unresolved first, resolved in resolution order. */
  incidents: Incident[];
  /** Valid records read. */
  records: number;
  corrupt: CorruptLine[];
  /** Highest sequence number read (new records continue after it). */
  lastSeq: number;
  /** Size of the current file. */
  bytes: number;
  /** The current file does not end with a newline (a torn write): the next write starts a new line. */
  needsNewline: boolean;
  /** A file that could not be read (permissions…): replay continued without it. */
  error?: string;
}

const signalSchema = z.looseObject({ name: z.string(), value: z.number(), unit: z.string(), at: z.number() });
/** A stored incident, checked loosely: enough that the rest of the library can rely on its shape. */
const storedIncidentSchema = z.looseObject({
  id: z.string().min(1),
  type: z.string().min(1),
  scope: z.string(),
  severity: z.enum(SEVERITIES),
  priority: z.enum(['P0', 'P1', 'P2', 'P3']),
  status: z.enum(INCIDENT_STATUSES as [string, ...string[]]),
  summary: z.string(),
  source: z.enum(['auto', 'manual']),
  detectedAt: z.number(),
  openedAt: z.number(),
  reopenCount: z.number(),
  notes: z.array(z.string()),
  actionItems: z.array(z.looseObject({ id: z.string(), text: z.string(), done: z.boolean() })),
  timeline: z.array(z.looseObject({ at: z.number(), kind: z.string(), by: z.string(), message: z.string() })),
  signalAtOpen: signalSchema.optional(),
  signalPeak: signalSchema.optional(),
});
const recordSchema = z.looseObject({
  v: z.literal(LOG_VERSION),
  seq: z.number().int().nonnegative(),
  at: z.number(),
  change: z.string(),
  incident: storedIncidentSchema,
});

/** The rotated file next to `path`. */
export function rotatedPath(path: string): string {
  return `${path}.1`;
}

/**
 * Reads the log (`<path>.1`, then `<path>`) and returns the latest state of
 * every incident. A line that is not a complete, valid record (a write torn
 * by a crash, a corrupted byte) is skipped and reported; every valid line
 * before and after it is kept. Synchronous: it runs once, when the monitor
 * is created, so incidents are there before the first request.
 *
 * @example
 * ```ts
 * const { incidents, corrupt } = replayLog('logs/incidents.jsonl');
 * ```
 */
export function replayLog(path: string): ReplayResult {
  const latest = new Map<string, { seq: number; incident: Incident }>();
  const corrupt: CorruptLine[] = [];
  let records = 0;
  let lastSeq = 0;
  let bytes = 0;
  let needsNewline = false;
  let error: string | undefined;
  for (const file of [rotatedPath(path), path]) {
    let buf: Buffer;
    try {
      if (!existsSync(file)) continue;
      buf = readFileSync(file);
    } catch (err) {
      error = `${file}: ${err instanceof Error ? err.message : String(err)}`;
      continue;
    }
    if (file === path) {
      bytes = buf.length;
      needsNewline = buf.length > 0 && buf[buf.length - 1] !== 0x0a;
    }
    let start = 0;
    let lineNo = 0;
    while (start < buf.length) {
      let end = buf.indexOf(0x0a, start);
      if (end < 0) end = buf.length;
      lineNo++;
      const text = buf.toString('utf8', start, end).trim();
      if (text !== '') {
        const reason = parseLine(text, (rec) => {
          records++;
          if (rec.seq > lastSeq) lastSeq = rec.seq;
          const cur = latest.get(rec.incident.id);
          // Highest seq wins; on a tie the later line does (a snapshot and the change it repeats).
          if (cur === undefined || rec.seq >= cur.seq) latest.set(rec.incident.id, { seq: rec.seq, incident: rec.incident });
        });
        if (reason !== undefined) corrupt.push({ path: file, line: lineNo, offset: start, reason });
      }
      start = end + 1;
    }
  }
  const all = [...latest.values()].map((e) => e.incident);
  const active = all.filter((i) => i.status !== 'resolved');
  const resolved = all.filter((i) => i.status === 'resolved').sort((a, b) => (a.resolvedAt ?? 0) - (b.resolvedAt ?? 0));
  const result: ReplayResult = { incidents: [...active, ...resolved], records, corrupt, lastSeq, bytes, needsNewline };
  if (error !== undefined) result.error = error;
  return result;
}

function parseLine(text: string, accept: (rec: LogRecord) => void): string | undefined {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    return `not JSON (${err instanceof Error ? err.message : 'parse error'})`;
  }
  const r = recordSchema.safeParse(json);
  if (!r.success) return `not an incident record (${r.error.issues[0]?.path.join('.') ?? ''}: ${r.error.issues[0]?.message ?? 'invalid'})`;
  accept(r.data as unknown as LogRecord);
  return undefined;
}

/**
 * Counters of the log writer.
 *
 * @example
 * ```ts
 * const { written, dropped, failed, rotations } = monitor.stats().incidents.log!;
 * ```
 */
export interface LogStats {
  path: string;
  /** Size of the current file. */
  bytes: number;
  /** Lines written since start. */
  written: number;
  /** Lines waiting to be written. */
  buffered: number;
  /** Lines dropped because the buffer was full (`maxBufferedLines`). */
  dropped: number;
  /** Lines lost to write errors. */
  failed: number;
  writeErrors: number;
  rotations: number;
  /** Lines skipped at replay. */
  corrupt: number;
  /** Incidents restored at replay. */
  restored: number;
  lastError?: string;
}

/**
 * The append-only JSONL incident log. `append()` only serialises the change
 * and queues it (bounded); lines are written in order by one asynchronous
 * writer, off the caller's path. fsync follows the configured policy; past
 * `maxBytes` the file becomes `<path>.1` and a new file starts with a
 * snapshot of every incident, so the two files always hold the full state.
 *
 * @example
 * ```ts
 * // through the monitor:
 * createMonitor({ service: 'api', incidentLog: { path: 'logs/incidents.jsonl', fsync: 'always' } });
 * await monitor.flush();
 * ```
 */
export class IncidentLog {
  private readonly opts: IncidentLogOptions;
  private readonly clock: Clock;
  private readonly snapshot: () => Incident[];
  private readonly onError: (err: unknown) => void;
  private buffer: string[] = [];
  private draining: Promise<void> | undefined;
  private fsyncTimer: TimerHandle | undefined;
  private dirty = false;
  private seq: number;
  private needsNewline: boolean;
  private dirReady = false;
  private readonly counters = { written: 0, dropped: 0, failed: 0, writeErrors: 0, rotations: 0, corrupt: 0, restored: 0 };
  private bytes: number;
  /** Size of the snapshot the current file starts with (0 before the first rotation). */
  private snapshotBytes = 0;
  private lastError: string | undefined;

  constructor(opts: {
    options: IncidentLogOptions;
    clock: Clock;
    snapshot: () => Incident[];
    onError: (err: unknown) => void;
    replay?: Pick<ReplayResult, 'lastSeq' | 'bytes' | 'needsNewline' | 'corrupt' | 'incidents'>;
  }) {
    this.opts = opts.options;
    this.clock = opts.clock;
    this.snapshot = opts.snapshot;
    this.onError = opts.onError;
    this.seq = opts.replay?.lastSeq ?? 0;
    this.bytes = opts.replay?.bytes ?? 0;
    this.needsNewline = opts.replay?.needsNewline ?? false;
    this.counters.corrupt = opts.replay?.corrupt.length ?? 0;
    this.counters.restored = opts.replay?.incidents.length ?? 0;
  }

  /** Queues one change. Never throws, never waits; a full buffer drops the line and counts it. */
  append(change: IncidentChange, incident: Incident): void {
    if (this.buffer.length >= this.opts.maxBufferedLines) {
      this.counters.dropped++;
      return;
    }
    const rec: LogRecord = { v: LOG_VERSION, seq: ++this.seq, at: this.clock.now(), change, incident };
    let line: string;
    try {
      line = JSON.stringify(rec);
    } catch (err) {
      // Unserialisable data (a BigInt in a timeline entry's data) must not stop the rest.
      this.counters.failed++;
      this.fail(err);
      return;
    }
    this.buffer.push(line);
    if (this.draining === undefined) {
      this.draining = Promise.resolve()
        .then(() => this.drain())
        .finally(() => {
          this.draining = undefined;
        });
    }
  }

  /** Resolves once every queued line is written (and fsynced unless `fsync: 'never'`). Never rejects. */
  async flush(): Promise<void> {
    while (this.draining !== undefined) await this.draining;
    if (this.dirty && this.opts.fsync !== 'never') await this.sync();
  }

  /** Cancels the fsync timer (lines still queued are written; await `flush()` for that). */
  stop(): void {
    if (this.fsyncTimer !== undefined) this.clock.clearTimeout(this.fsyncTimer);
    this.fsyncTimer = undefined;
  }

  stats(): LogStats {
    const s: LogStats = { path: this.opts.path, bytes: this.bytes, buffered: this.buffer.length, ...this.counters };
    if (this.lastError !== undefined) s.lastError = this.lastError;
    return s;
  }

  private async drain(): Promise<void> {
    while (this.buffer.length > 0) {
      const lines = this.buffer;
      this.buffer = [];
      let data = lines.join('\n') + '\n';
      if (this.needsNewline) data = '\n' + data;
      try {
        await this.write(data, 'a');
        this.needsNewline = false;
        this.counters.written += lines.length;
        // Past maxBytes, and only once half of maxBytes was appended after the last snapshot,
        // so a snapshot larger than maxBytes cannot make every write rotate.
        if (this.bytes >= this.opts.maxBytes && this.bytes - this.snapshotBytes >= this.opts.maxBytes / 2) await this.rotate();
      } catch (err) {
        this.counters.failed += lines.length;
        this.fail(err);
        await this.resync();
      }
    }
  }

  private async write(data: string, flags: 'a' | 'w'): Promise<void> {
    if (!this.dirReady) {
      await mkdir(dirname(this.opts.path), { recursive: true });
      this.dirReady = true;
    }
    const fh = await open(this.opts.path, flags);
    try {
      await fh.write(data);
      if (this.opts.fsync === 'always') await fh.datasync();
    } finally {
      await fh.close();
    }
    const n = Buffer.byteLength(data);
    this.bytes = flags === 'w' ? n : this.bytes + n;
    if (this.opts.fsync === 'interval') {
      this.dirty = true;
      this.fsyncTimer ??= this.clock.setTimeout(() => {
        this.fsyncTimer = undefined;
        void this.sync();
      }, this.opts.fsyncIntervalMs);
    }
  }

  private async rotate(): Promise<void> {
    const path = this.opts.path;
    await rename(path, rotatedPath(path));
    // Snapshot lines carry the newest seq: queued lines (older states) cannot win over them on replay.
    const seq = this.seq;
    const at = this.clock.now();
    const lines = this.snapshot().map((incident) => JSON.stringify({ v: LOG_VERSION, seq, at, change: 'snapshot', incident } satisfies LogRecord));
    await this.write(lines.length === 0 ? '' : lines.join('\n') + '\n', 'w');
    this.snapshotBytes = this.bytes;
    this.counters.rotations++;
  }

  /** After a failed write the file may end mid-line, and its size is unknown. */
  private async resync(): Promise<void> {
    try {
      const s = await stat(this.opts.path);
      this.bytes = s.size;
      this.needsNewline = s.size > 0 && lastByte(this.opts.path, s.size) !== 0x0a;
    } catch {
      this.bytes = 0;
      this.needsNewline = false;
    }
  }

  private async sync(): Promise<void> {
    this.dirty = false;
    try {
      const fh = await open(this.opts.path, 'a');
      try {
        await fh.datasync();
      } finally {
        await fh.close();
      }
    } catch (err) {
      this.fail(err);
    }
  }

  private fail(err: unknown): void {
    this.counters.writeErrors++;
    this.lastError = err instanceof Error ? err.message : String(err);
    try {
      this.onError(err);
    } catch {
      // reporting must not break the writer
    }
  }
}

function lastByte(path: string, size: number): number | undefined {
  let fd: number | undefined;
  try {
    fd = openSync(path, 'r');
    if (fstatSync(fd).size !== size) return undefined;
    const b = Buffer.alloc(1);
    readSync(fd, b, 0, 1, size - 1);
    return b[0];
  } catch {
    return undefined;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

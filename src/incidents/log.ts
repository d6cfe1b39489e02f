import { closeSync, constants as fsConstants, openSync, readSync, fstatSync } from 'node:fs';
import * as fsp from 'node:fs/promises';
import { ConfigError } from '../errors.js';
import { dirname } from 'node:path';
import { z } from 'zod';
import { runbookMetaSchema } from '../runbook.js';
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
  /**
   * `<path>` alone holds the whole state: it starts with a snapshot, or no
   * `<path>.1` exists. False after a crash inside a rotation or a file written
   * by an older version after one; the monitor then rewrites `<path>` with a
   * snapshot at start.
   */
  complete: boolean;
  /** A file was larger than the replay bound: only its first `maxBytes` were read. */
  truncated: boolean;
  /** @internal Identity of `<path>` as read, to notice later that it was deleted, moved or replaced. */
  fileId?: { dev: number; ino: number };
  /** Problems reading the files (permissions, the replay bound…): replay continued without the rest. */
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
  // A hand-edited or foreign file must not put a `javascript:` link or a non-array of contacts in front of a reader: a bad entry is dropped.
  runbook: runbookMetaSchema.optional().catch(undefined),
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

/** Where a snapshot is written before it is renamed over `path`. */
export function snapshotTempPath(path: string): string {
  return `${path}.tmp`;
}

/**
 * The least number of bytes replay reads from each file; the bound is
 * `max(REPLAY_MIN_BYTES, 4 × maxBytes)` per file (see `replayBound`).
 */
export const REPLAY_MIN_BYTES = 256 * 1024 * 1024;

/**
 * How many bytes replay reads at most from each of `<path>.1` and `<path>`:
 * `max(256 MiB, 4 × maxBytes)`. A healthy file stays near `maxBytes` plus one
 * snapshot; the bound only stops a runaway or foreign file from stalling or
 * exhausting the process at start.
 *
 * @example
 * ```ts
 * replayBound(10 * 1024 * 1024); // 268435456
 * ```
 */
export function replayBound(maxBytes: number): number {
  return Math.max(REPLAY_MIN_BYTES, 4 * maxBytes);
}

/**
 * Options of {@link replayLog}.
 *
 * @example
 * ```ts
 * replayLog('logs/incidents.jsonl', { maxBytes: 64 * 1024 * 1024 });
 * ```
 */
export interface ReplayOptions {
  /** Bytes read at most from each file (default `REPLAY_MIN_BYTES`); a file beyond it is read up to the last complete line within it. */
  maxBytes?: number;
}

const O_NONBLOCK: number = (fsConstants as { O_NONBLOCK?: number }).O_NONBLOCK ?? 0;
const READ_CHUNK = 1024 * 1024;

/** Identity of a file: a path that names another (dev, ino) was deleted, moved or replaced. */
interface FileId {
  dev: number;
  ino: number;
}

/**
 * Opens `file` for reading without blocking on a FIFO, and refuses anything
 * but a regular file: reading a device or a pipe never reaches the end.
 * Returns undefined when the file does not exist.
 */
function openRegular(file: string): { fd: number; size: number; id: FileId } | undefined {
  let fd: number;
  try {
    fd = openSync(file, fsConstants.O_RDONLY | O_NONBLOCK);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    if ((err as NodeJS.ErrnoException).code === 'EISDIR') throw notRegular(file, 'a directory');
    throw err;
  }
  const st = fstatSync(fd);
  if (!st.isFile()) {
    closeSync(fd);
    throw notRegular(file, st.isDirectory() ? 'a directory' : st.isFIFO() ? 'a FIFO' : st.isCharacterDevice() ? 'a character device' : st.isSocket() ? 'a socket' : 'not a regular file');
  }
  return { fd, size: st.size, id: { dev: st.dev, ino: st.ino } };
}

function notRegular(file: string, what: string): ConfigError {
  return new ConfigError('monitor options', [{ path: 'incidentLog.path', message: `${file} is ${what}: the incident log must be a regular file` }]);
}

/** Reads at most `max` bytes of an open file (a file that grows meanwhile is read up to its size at open). */
function readBounded(fd: number, size: number, max: number): Buffer {
  const want = Math.min(size, max);
  const buf = Buffer.allocUnsafe(want);
  let off = 0;
  while (off < want) {
    const n = readSync(fd, buf, off, Math.min(READ_CHUNK, want - off), off);
    if (n === 0) break;
    off += n;
  }
  return off === want ? buf : buf.subarray(0, off);
}

/**
 * Reads the log (`<path>.1`, then `<path>`, or `<path>.tmp` when `<path>` is
 * missing: a crash inside a rotation) and returns the latest state of every
 * incident. A line that is not a complete, valid record (a write torn by a
 * crash, a corrupted byte) is skipped and reported; every valid line before
 * and after it is kept. Synchronous: it runs once, when the monitor is
 * created, so incidents are there before the first request. At most
 * `options.maxBytes` are read from each file.
 *
 * @throws {ConfigError} when a file is not a regular file (a device, a FIFO, a directory), naming `incidentLog.path`.
 * @example
 * ```ts
 * const { incidents, corrupt } = replayLog('logs/incidents.jsonl');
 * ```
 */
export function replayLog(path: string, options: ReplayOptions = {}): ReplayResult {
  const max = options.maxBytes ?? REPLAY_MIN_BYTES;
  const latest = new Map<string, { seq: number; incident: Incident }>();
  const corrupt: CorruptLine[] = [];
  let records = 0;
  let lastSeq = 0;
  let bytes = 0;
  let needsNewline = false;
  let truncated = false;
  let complete = true;
  let fileId: FileId | undefined;
  const errors: string[] = [];
  const rotated = rotatedPath(path);
  // Refuse non-regular files before reading anything (a FIFO at `.1` would hang as surely as one at `path`).
  const opened = new Map<string, { fd: number; size: number; id: FileId } | undefined>();
  try {
    for (const file of [rotated, path]) {
      try {
        opened.set(file, openRegular(file));
      } catch (err) {
        if (err instanceof ConfigError) throw err;
        errors.push(`${file}: ${err instanceof Error ? err.message : String(err)}`);
        opened.set(file, undefined);
      }
    }
    const hasRotated = opened.get(rotated) !== undefined;
    let current = path;
    if (opened.get(path) === undefined && !errors.some((e) => e.startsWith(`${path}:`))) {
      // `<path>` missing: a crash between the renames of a rotation, or a deletion. The snapshot may be in `.tmp`.
      const tmp = snapshotTempPath(path);
      try {
        const o = openRegular(tmp);
        if (o !== undefined) {
          opened.set(tmp, o);
          current = tmp;
        }
      } catch (err) {
        if (err instanceof ConfigError) throw err;
      }
      if (hasRotated || current === tmp) complete = false;
    }
    for (const file of [rotated, current]) {
      const o = opened.get(file);
      if (o === undefined) continue;
      let buf: Buffer;
      try {
        buf = readBounded(o.fd, o.size, max);
      } catch (err) {
        errors.push(`${file}: ${err instanceof Error ? err.message : String(err)}`);
        continue;
      }
      let limit = buf.length;
      if (o.size > max) {
        truncated = true;
        // Keep complete lines only: the bound must not be reported as a torn record.
        limit = buf.lastIndexOf(0x0a) + 1;
        errors.push(`${file}: replay stopped after ${limit} of ${o.size} bytes (bound ${max} bytes per file)`);
      }
      if (file === current && current === path) {
        bytes = o.size;
        fileId = o.id;
        needsNewline = o.size > 0 && o.size <= max && buf[buf.length - 1] !== 0x0a;
      }
      let start = 0;
      let lineNo = 0;
      let firstRecord = true;
      while (start < limit) {
        let end = buf.indexOf(0x0a, start);
        if (end < 0 || end >= limit) end = limit;
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
          // After a rotation the current file alone must hold the whole state: it starts with a snapshot.
          if (file === path && hasRotated && firstRecord && (reason !== undefined || start !== 0 || !isSnapshotLine(text))) complete = false;
          firstRecord = false;
        }
        start = end + 1;
      }
      if (file === path && hasRotated && firstRecord) complete = false; // empty current file next to `.1`
    }
  } finally {
    for (const o of opened.values()) if (o !== undefined) closeSync(o.fd);
  }
  const all = [...latest.values()].map((e) => e.incident);
  const active = all.filter((i) => i.status !== 'resolved');
  const resolved = all.filter((i) => i.status === 'resolved').sort((a, b) => (a.resolvedAt ?? 0) - (b.resolvedAt ?? 0));
  const result: ReplayResult = { incidents: [...active, ...resolved], records, corrupt, lastSeq, bytes, needsNewline, complete, truncated };
  if (fileId !== undefined) result.fileId = fileId;
  if (errors.length > 0) result.error = errors.join('; ');
  return result;
}

function isSnapshotLine(text: string): boolean {
  try {
    return (JSON.parse(text) as { change?: unknown }).change === 'snapshot';
  } catch {
    return false;
  }
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
 * const { written, dropped, failed, rotations, replaced } = monitor.stats().incidents.log!;
 * ```
 */
export interface LogStats {
  path: string;
  /** Size of the current file. */
  bytes: number;
  /** Lines written since start (including lines covered by a snapshot written in their place). */
  written: number;
  /** Lines waiting to be written. */
  buffered: number;
  /** Lines dropped because the buffer was full (`maxBufferedLines`). */
  dropped: number;
  /** Lines lost to write or fsync errors (their state is written again by the snapshot that follows a failure). */
  failed: number;
  writeErrors: number;
  rotations: number;
  /** Times `path` was found deleted, moved, replaced or truncated while running; each time a new file was started with a full snapshot. */
  replaced: number;
  /** Times the log was rewritten with a snapshot at start (a crash inside a rotation, a file beyond the replay bound). */
  repairs: number;
  /** Lines skipped at replay. */
  corrupt: number;
  /** Incidents restored at replay. */
  restored: number;
  lastError?: string;
}

/**
 * What one `flush()` covered: lines persisted and lines lost since the
 * previous `flush()` that resolved before this one was called. `failed > 0`
 * means some changes did not reach the disk (write or fsync error, full
 * buffer, unserialisable data); the log rewrites a full snapshot at the next
 * write or flush, so a later `flush()` with `failed: 0` and no `lastError`
 * change means the state is on disk again.
 *
 * @example
 * ```ts
 * const { written, failed } = await monitor.flush();
 * if (failed > 0) console.error(`${failed} incident changes were not persisted`);
 * ```
 */
export interface LogFlushResult {
  /** Lines written (and fsynced, unless `fsync: 'never'`). */
  written: number;
  /** Lines not persisted: write or fsync errors, full buffer, unserialisable data. */
  failed: number;
}

/** The part of an open file the log uses. */
export interface LogFileHandle {
  write(data: string): Promise<unknown>;
  datasync(): Promise<void>;
  stat(): Promise<{ dev: number; ino: number; size: number }>;
  close(): Promise<void>;
}

/**
 * @internal The file-system calls the writer makes, injectable so tests can
 * simulate a full disk (ENOSPC) or a failing device (EIO).
 */
export interface LogIo {
  open(path: string, flags: string | number): Promise<LogFileHandle>;
  rename(from: string, to: string): Promise<void>;
  unlink(path: string): Promise<void>;
  stat(path: string): Promise<{ dev: number; ino: number; size: number }>;
  mkdir(path: string): Promise<unknown>;
  /** fsync of a directory, so renames in it survive a power loss (a no-op where directories cannot be opened). */
  syncDir(path: string): Promise<void>;
}

const APPEND_EXISTING = fsConstants.O_WRONLY | fsConstants.O_APPEND;
const APPEND_CREATE = APPEND_EXISTING | fsConstants.O_CREAT;

/** A rewrite of `path` with a snapshot of every incident: at a rotation, after a failure, or after `path` vanished. */
type Rewrite = 'rotate' | 'replace';

/**
 * The append-only JSONL incident log. `append()` only serialises the change
 * and queues it (bounded); lines are written in order by one asynchronous
 * writer, off the caller's path. fsync follows the configured policy. Past
 * `maxBytes` a snapshot of every incident is written to `<path>.tmp`,
 * fsynced, then `<path>` becomes `<path>.1` and the snapshot is renamed to
 * `<path>` (and the directory fsynced): at every instant `<path>` (or, inside
 * the rename window, `<path>.1`) holds the whole state. A file that was
 * deleted, moved or truncated under the writer is noticed at the next write
 * or flush and started again with a full snapshot.
 *
 * @example
 * ```ts
 * // through the monitor:
 * createMonitor({ service: 'api', incidentLog: { path: 'logs/incidents.jsonl', fsync: 'always' } });
 * const { failed } = await monitor.flush();
 * ```
 */
export class IncidentLog {
  /** @internal The real file system. */
  static readonly defaultIo: LogIo = {
    open: (path, flags) => fsp.open(path, flags),
    rename: (from, to) => fsp.rename(from, to),
    unlink: (path) => fsp.unlink(path),
    stat: (path) => fsp.stat(path),
    mkdir: (path) => fsp.mkdir(path, { recursive: true }),
    async syncDir(path) {
      let fh: fsp.FileHandle | undefined;
      try {
        fh = await fsp.open(path, 'r');
        await fh.sync();
      } catch (err) {
        // Windows cannot open a directory; some file systems refuse fsync on one.
        const code = (err as NodeJS.ErrnoException).code;
        if (code !== 'EISDIR' && code !== 'EPERM' && code !== 'EINVAL' && code !== 'EACCES') throw err;
      } finally {
        await fh?.close();
      }
    },
  };

  private readonly opts: IncidentLogOptions;
  private readonly clock: Clock;
  private readonly snapshot: () => Incident[];
  private readonly onError: (err: unknown) => void;
  private readonly io: LogIo;
  private buffer: string[] = [];
  private draining: Promise<void> | undefined;
  private fsyncTimer: TimerHandle | undefined;
  /** Lines written but not yet fsynced (interval mode), lost if the fsync fails. */
  private unsynced = 0;
  private dirty = false;
  private seq: number;
  private needsNewline: boolean;
  private dirReady = false;
  /** The file this writer owns at `path`; undefined until it exists. */
  private fileId: FileId | undefined;
  private pending: Rewrite | undefined;
  /** Bumped by every rewrite, so a check that raced one is ignored. */
  private generation = 0;
  private readonly counters = { written: 0, dropped: 0, failed: 0, writeErrors: 0, rotations: 0, replaced: 0, repairs: 0, corrupt: 0, restored: 0 };
  /** Lines known persisted / known lost, for flush results. */
  private persisted = 0;
  private lost = 0;
  /** `persisted` and `lost` when the last flush() resolved. */
  private flushedAt = { persisted: 0, lost: 0 };
  private bytes: number;
  /** Size of the snapshot the current file starts with (0 before the first rotation). */
  private snapshotBytes = 0;
  private lastError: string | undefined;

  constructor(opts: {
    options: IncidentLogOptions;
    clock: Clock;
    snapshot: () => Incident[];
    onError: (err: unknown) => void;
    replay?: Pick<ReplayResult, 'lastSeq' | 'bytes' | 'needsNewline' | 'corrupt' | 'incidents'> & Partial<Pick<ReplayResult, 'complete' | 'truncated' | 'fileId'>>;
    io?: LogIo;
  }) {
    this.opts = opts.options;
    this.clock = opts.clock;
    this.snapshot = opts.snapshot;
    this.onError = opts.onError;
    this.io = opts.io ?? IncidentLog.defaultIo;
    const r = opts.replay;
    this.seq = r?.lastSeq ?? 0;
    this.bytes = r?.bytes ?? 0;
    this.needsNewline = r?.needsNewline ?? false;
    this.fileId = r?.fileId;
    this.counters.corrupt = r?.corrupt.length ?? 0;
    this.counters.restored = r?.incidents.length ?? 0;
    if (r?.complete === false || r?.truncated === true) {
      // A truncated but complete file is kept as `.1`; an incomplete one is replaced, never rotated
      // (renaming it over `.1` would drop the only full copy if the process died before the snapshot).
      this.pending = r.complete === false ? 'replace' : 'rotate';
      this.counters.repairs++;
      this.kick();
    }
  }

  /** Queues one change. Never throws, never waits; a full buffer drops the line and counts it. */
  append(change: IncidentChange, incident: Incident): void {
    if (this.buffer.length >= this.opts.maxBufferedLines) {
      this.counters.dropped++;
      this.lost++;
      return;
    }
    const rec: LogRecord = { v: LOG_VERSION, seq: ++this.seq, at: this.clock.now(), change, incident };
    let line: string;
    try {
      line = JSON.stringify(rec);
    } catch (err) {
      // Unserialisable data (a BigInt in a timeline entry's data) must not stop the rest.
      this.counters.failed++;
      this.lost++;
      this.fail(err);
      return;
    }
    this.buffer.push(line);
    this.kick();
  }

  /**
   * Resolves once every queued line is written (and fsynced unless
   * `fsync: 'never'`), with what was persisted and lost since the previous
   * flush. Checks that `path` is still the file being written (rewriting it
   * with a snapshot if not) and retries a pending snapshot after a failure.
   * Never rejects.
   */
  async flush(): Promise<LogFlushResult> {
    const base = this.flushedAt;
    while (this.draining !== undefined) await this.draining;
    if (this.pending === undefined && this.fileId !== undefined && !(await this.stillOurs())) this.pending = 'replace';
    if (this.pending !== undefined) {
      this.kick();
      while (this.draining !== undefined) await this.draining;
    }
    if (this.dirty && this.opts.fsync !== 'never') await this.sync();
    const now = { persisted: this.persisted, lost: this.lost };
    this.flushedAt = now;
    return { written: now.persisted - base.persisted, failed: now.lost - base.lost };
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

  private kick(): void {
    if (this.draining !== undefined) return;
    this.draining = Promise.resolve()
      .then(() => this.drain())
      .finally(() => {
        this.draining = undefined;
      });
  }

  private async drain(): Promise<void> {
    while (this.buffer.length > 0 || this.pending !== undefined) {
      const lines = this.buffer;
      this.buffer = [];
      try {
        if (this.pending !== undefined || !(await this.appendBatch(lines))) {
          // The snapshot holds the state these lines carry (they were appended before it was taken), fsynced.
          await this.rewrite(this.pending ?? 'replace');
          this.counters.written += lines.length;
          this.persisted += lines.length;
          continue;
        }
      } catch (err) {
        this.counters.failed += lines.length;
        this.lost += lines.length;
        this.fail(err);
        // The lost lines' state is in memory: the next batch or flush rewrites the whole file.
        this.pending ??= 'replace';
        await this.resync();
        return;
      }
      // Past maxBytes, and only once half of maxBytes was appended after the last snapshot,
      // so a snapshot larger than maxBytes cannot make every write rotate.
      if (this.bytes >= this.opts.maxBytes && this.bytes - this.snapshotBytes >= this.opts.maxBytes / 2) {
        try {
          await this.rewrite('rotate');
        } catch (err) {
          // The lines are written; only the rotation failed (and may have left `<path>` renamed away): retry as a rewrite.
          this.fail(err);
          this.pending ??= 'replace';
          await this.resync();
          return;
        }
      }
    }
  }

  /** Appends one batch; false when `path` is no longer the file being written (nothing written then). */
  private async appendBatch(lines: string[]): Promise<boolean> {
    let data = lines.join('\n') + '\n';
    if (this.needsNewline) data = '\n' + data;
    if (!(await this.appendLines(data))) return false;
    this.needsNewline = false;
    this.counters.written += lines.length;
    this.confirm(lines.length);
    return true;
  }

  /** Lines written: persisted now (fsync 'always' or 'never'), or at the next good fsync ('interval'). */
  private confirm(n: number): void {
    if (this.opts.fsync === 'interval') this.unsynced += n;
    else this.persisted += n;
  }

  private async ensureDir(): Promise<void> {
    if (this.dirReady) return;
    await this.io.mkdir(dirname(this.opts.path));
    this.dirReady = true;
  }

  /**
   * Appends to the file this writer owns. Returns false, without writing,
   * when `path` no longer names it (deleted, moved, replaced or truncated).
   */
  private async appendLines(data: string): Promise<boolean> {
    await this.ensureDir();
    let fh: LogFileHandle;
    try {
      // Never create the file once owned: a vanished log must be restarted with a snapshot, not with this batch.
      fh = await this.io.open(this.opts.path, this.fileId === undefined ? APPEND_CREATE : APPEND_EXISTING);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT' && this.fileId !== undefined) return this.lostFile('deleted or moved');
      throw err;
    }
    const created = this.fileId === undefined;
    try {
      const st = await fh.stat();
      if (this.fileId === undefined) this.fileId = { dev: st.dev, ino: st.ino };
      else if (st.dev !== this.fileId.dev || st.ino !== this.fileId.ino) return this.lostFile('replaced by another file');
      else if (st.size < this.bytes) return this.lostFile(`truncated (${st.size} bytes, ${this.bytes} expected)`);
      await fh.write(data);
      if (this.opts.fsync === 'always') await fh.datasync();
    } finally {
      await fh.close();
    }
    // A new file's directory entry must reach the disk too, or a power loss could drop the whole file.
    if (created && this.opts.fsync !== 'never') await this.io.syncDir(dirname(this.opts.path));
    this.bytes += Buffer.byteLength(data);
    this.scheduleSync();
    return true;
  }

  private lostFile(how: string): false {
    this.counters.replaced++;
    this.fail(new Error(`incident log ${this.opts.path} was ${how} while running: starting a new file with a full snapshot`));
    return false;
  }

  private async stillOurs(): Promise<boolean> {
    const generation = this.generation;
    try {
      const st = await this.io.stat(this.opts.path);
      // A batch written meanwhile may have rotated the file: that write checked it already.
      if (this.draining !== undefined || generation !== this.generation) return true;
      if (this.fileId !== undefined && (st.dev !== this.fileId.dev || st.ino !== this.fileId.ino)) return !this.lostFile('replaced by another file');
      if (st.size < this.bytes) return !this.lostFile(`truncated (${st.size} bytes, ${this.bytes} expected)`);
      return true;
    } catch (err) {
      if (this.draining !== undefined || generation !== this.generation) return true;
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return this.lostFile('deleted or moved');
      return true; // unreadable metadata: the next write reports it
    }
  }

  private scheduleSync(): void {
    if (this.opts.fsync !== 'interval') return;
    this.dirty = true;
    this.fsyncTimer ??= this.clock.setTimeout(() => {
      this.fsyncTimer = undefined;
      void this.sync();
    }, this.opts.fsyncIntervalMs);
  }

  /**
   * Writes a snapshot of every incident to `<path>.tmp`, fsyncs it, then
   * renames it over `<path>` ('rotate' first renames `<path>` to `<path>.1`)
   * and fsyncs the directory. A crash at any point leaves either the old
   * `<path>`, or `<path>.1` plus a complete `<path>.tmp`, or the new `<path>`:
   * replay recovers the whole state from each.
   */
  private async rewrite(kind: Rewrite): Promise<void> {
    await this.ensureDir();
    const path = this.opts.path;
    const tmp = snapshotTempPath(path);
    const durable = this.opts.fsync !== 'never';
    // Snapshot lines carry the newest seq: queued lines (older states) cannot win over them on replay.
    const seq = this.seq;
    const at = this.clock.now();
    const lines: string[] = [];
    for (const incident of this.snapshot()) {
      try {
        lines.push(JSON.stringify({ v: LOG_VERSION, seq, at, change: 'snapshot', incident } satisfies LogRecord));
      } catch (err) {
        // One unserialisable incident must not block every snapshot (and so every rotation) after it.
        this.counters.failed++;
        this.lost++;
        this.fail(err);
      }
    }
    const data = lines.length === 0 ? '' : lines.join('\n') + '\n';
    let id: FileId;
    const fh = await this.io.open(tmp, 'w');
    try {
      await fh.write(data);
      if (durable) await fh.datasync();
      const st = await fh.stat();
      id = { dev: st.dev, ino: st.ino };
    } catch (err) {
      await fh.close().catch(() => undefined);
      await this.io.unlink(tmp).catch(() => undefined);
      throw err;
    }
    await fh.close();
    if (kind === 'rotate') {
      try {
        await this.io.rename(path, rotatedPath(path));
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      }
    }
    await this.io.rename(tmp, path);
    if (durable) await this.io.syncDir(dirname(path));
    this.fileId = id;
    this.generation++;
    this.bytes = Buffer.byteLength(data);
    this.snapshotBytes = this.bytes;
    this.needsNewline = false;
    this.pending = undefined;
    // Everything written before is covered by the fsynced snapshot.
    this.persisted += this.unsynced;
    this.unsynced = 0;
    this.dirty = false;
    if (kind === 'rotate') this.counters.rotations++;
  }

  /** After a failed write the file may end mid-line, and its size is unknown. */
  private async resync(): Promise<void> {
    try {
      const s = await this.io.stat(this.opts.path);
      this.bytes = s.size;
      this.needsNewline = s.size > 0 && lastByte(this.opts.path, s.size) !== 0x0a;
    } catch {
      this.bytes = 0;
      this.needsNewline = false;
    }
  }

  private async sync(): Promise<void> {
    this.dirty = false;
    const n = this.unsynced;
    this.unsynced = 0;
    try {
      const fh = await this.io.open(this.opts.path, fsConstants.O_RDONLY);
      try {
        await fh.datasync();
      } finally {
        await fh.close();
      }
      this.persisted += n;
    } catch (err) {
      // After a failed fsync the kernel may have dropped the pages: count the lines lost, rewrite the file.
      this.counters.failed += n;
      this.lost += n;
      this.pending ??= 'replace';
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

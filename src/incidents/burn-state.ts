import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import * as fsp from 'node:fs/promises';
import { dirname } from 'node:path';
import { z } from 'zod';
import { FirebreakError } from '../errors.js';
import { BURN_STATE_FORMAT, BURN_STATE_VERSION, type BurnRateState, type BurnRateTracker } from './burn-rate.js';

const finite = z.number().finite();
/** Schema of a burn-rate state (file or fleet copy): what {@link BurnRateTracker.exportState} writes. */
export const burnStateSchema = z.strictObject({
  format: z.literal(BURN_STATE_FORMAT),
  version: z.literal(BURN_STATE_VERSION),
  savedAt: finite,
  slotMs: z.number().int().positive(),
  periodSlotMs: z.number().int().positive(),
  since: z.array(z.tuple([z.number().positive(), finite])).max(20),
  periodSince: finite,
  streams: z
    .array(
      z.strictObject({
        scope: z.string(),
        thresholds: z.array(finite),
        ring: z.array(z.array(finite)),
        period: z.array(z.array(finite)),
      }),
    )
    .max(100_000),
});

/**
 * Counters of the burn-rate state file, in `stats().incidents.burnRateState`.
 *
 * @example
 * ```ts
 * const s = monitor.stats().incidents.burnRateState;
 * if (s !== null && s.errors > 0) console.warn(`burn-rate state at ${s.path}: ${s.lastError}`);
 * ```
 */
export interface BurnStateStats {
  /** The state file. */
  path: string;
  /** Streams whose counts were restored at start (0 without a usable file). */
  restoredStreams: number;
  /** Saves that reached the disk. */
  saves: number;
  /** Unusable files read at start (corrupt, foreign, too large) plus failed saves. */
  errors: number;
  /** Message of the last error, if any. */
  lastError: string | undefined;
  /** Size of the last file written, in bytes. */
  bytes: number;
  /** Largest file the current configuration can write (the read limit too). */
  maxBytes: number;
}

/** Reads at most `max` bytes of `path`; undefined when it does not exist. */
function readBounded(path: string, max: number): string | undefined {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) throw new Error(`${path} is not a regular file`);
    if (st.size > max) throw new Error(`${path} is ${st.size} bytes, more than the ${max} this configuration can write`);
    const buf = Buffer.alloc(st.size);
    let at = 0;
    while (at < st.size) {
      const n = readSync(fd, buf, at, st.size - at, at);
      if (n === 0) break;
      at += n;
    }
    return buf.subarray(0, at).toString('utf8');
  } finally {
    closeSync(fd);
  }
}

/**
 * The burn-rate tracker's state file: restored once at start, saved
 * crash-safely (`<path>.tmp`, fsync, rename, directory fsync) at most every
 * `everyMs` from the evaluation loop and on `flush()` / `close()`. Nothing
 * here throws into the host: every failure is counted and reported through
 * `onError`.
 */
export class BurnStateFile {
  private readonly path: string;
  private readonly tracker: BurnRateTracker;
  private readonly everyMs: number;
  private readonly onError: (err: Error) => void;
  private lastSave = -Infinity;
  private writing: Promise<void> | undefined;
  private readonly counters: BurnStateStats;

  constructor(o: { path: string; tracker: BurnRateTracker; everyMs: number; now: number; onError: (err: Error) => void }) {
    this.path = o.path;
    this.tracker = o.tracker;
    this.everyMs = o.everyMs;
    this.onError = o.onError;
    this.counters = { path: o.path, restoredStreams: 0, saves: 0, errors: 0, lastError: undefined, bytes: 0, maxBytes: o.tracker.stateBound() };
    this.lastSave = o.now;
  }

  /**
   * Restores the tracker from the file at `now`. An unusable file is left in
   * place (the next save replaces it) and returned as an error to report once
   * listeners are attached.
   */
  restore(now: number): FirebreakError | undefined {
    let text: string | undefined;
    try {
      text = readBounded(this.path, this.counters.maxBytes);
    } catch (err) {
      return this.fail('BURN_STATE_INVALID', `burn-rate state ${this.path} ignored: ${(err as Error).message}`);
    }
    if (text === undefined) return undefined;
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      return this.fail('BURN_STATE_INVALID', `burn-rate state ${this.path} ignored: not JSON (corrupt or not a firebreak state file)`);
    }
    const r = burnStateSchema.safeParse(parsed);
    if (!r.success) {
      const issue = r.error.issues[0];
      const where = issue === undefined ? '' : ` (${issue.path.join('.') || 'file'}: ${issue.message})`;
      return this.fail('BURN_STATE_INVALID', `burn-rate state ${this.path} ignored: not a firebreak burn-rate state file, version ${BURN_STATE_VERSION}${where}`);
    }
    this.counters.restoredStreams = this.tracker.restoreState(r.data as BurnRateState, now);
    return undefined;
  }

  /** From the evaluation loop: starts a save when `everyMs` passed since the last one and none is running. */
  maybeSave(now: number): void {
    if (this.writing !== undefined || now - this.lastSave < this.everyMs) return;
    void this.save(now);
  }

  /** Saves now (after a save in progress). Never rejects. */
  async save(now: number): Promise<void> {
    while (this.writing !== undefined) await this.writing;
    this.lastSave = now;
    const text = JSON.stringify(this.tracker.exportState(now));
    this.writing = this.write(text).finally(() => {
      this.writing = undefined;
    });
    await this.writing;
  }

  private async write(text: string): Promise<void> {
    const bytes = Buffer.byteLength(text);
    if (bytes > this.counters.maxBytes) {
      // Cannot happen by construction (see stateBound); refusing keeps the read limit honest.
      this.onError(this.fail('BURN_STATE_WRITE', `burn-rate state not saved: ${bytes} bytes exceed the bound of ${this.counters.maxBytes}`));
      return;
    }
    const tmp = `${this.path}.tmp`;
    try {
      await fsp.mkdir(dirname(this.path), { recursive: true });
      const fh = await fsp.open(tmp, 'w');
      try {
        await fh.writeFile(text);
        await fh.datasync();
      } finally {
        await fh.close();
      }
      await fsp.rename(tmp, this.path);
      await syncDir(dirname(this.path));
      this.counters.saves++;
      this.counters.bytes = bytes;
    } catch (err) {
      await fsp.unlink(tmp).catch(() => undefined);
      this.onError(this.fail('BURN_STATE_WRITE', `burn-rate state ${this.path} not saved: ${(err as Error).message}`, err));
    }
  }

  private fail(code: string, message: string, cause?: unknown): FirebreakError {
    this.counters.errors++;
    this.counters.lastError = message;
    return new FirebreakError(code, message, cause === undefined ? undefined : { cause: (cause as Error).message });
  }

  /** Counters for stats. */
  stats(): BurnStateStats {
    return { ...this.counters };
  }
}

async function syncDir(dir: string): Promise<void> {
  let fh: fsp.FileHandle | undefined;
  try {
    fh = await fsp.open(dir, 'r');
    await fh.sync();
  } catch {
    // Windows cannot open a directory; some file systems refuse fsync on one. The rename itself is done.
  } finally {
    await fh?.close().catch(() => undefined);
  }
}

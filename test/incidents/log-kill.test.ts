/**
 * Kill loop: the built package (dist/) writes incidents in a child process
 * with rotation at every few batches; the parent SIGKILLs it at random
 * instants (at start-up repair, mid-batch, inside rotations), restarts it on
 * the same path and checks that every record whose `flush()` resolved with
 * `failed: 0` is still there, both by reading the files and by what the next
 * child restores. Needs `npm run build`.
 *
 * The run is bounded by time: KILL_LOOP_MS (default 35 s) of killing, at least
 * KILL_LOOP_MIN_KILLS (default 10) kills. It prints the counts.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { replayLog } from '../../src/index.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const DIST = process.env['KILL_LOOP_DIST'] ?? join(root, 'dist/index.js');
const CHILD = join(root, 'test/incidents/fixtures/log-kill-child.mjs');
const BUDGET_MS = Number(process.env['KILL_LOOP_MS'] ?? 35_000);
const MIN_KILLS = Number(process.env['KILL_LOOP_MIN_KILLS'] ?? 10);
const WARM = 4;
const MODES = ['always', 'interval', 'never'] as const;

interface Child {
  proc: ChildProcess;
  lines: string[];
  partial: string;
  closed: Promise<void>;
  onLine: (() => void) | undefined;
}

let dir: string | undefined;
const children = new Set<ChildProcess>();
afterEach(() => {
  for (const c of children) c.kill('SIGKILL');
  children.clear();
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
});

function start(path: string, fsync: string, seed: number): Child {
  const proc = spawn(process.execPath, [CHILD, DIST, path, fsync, String(seed)], { stdio: ['pipe', 'pipe', 'inherit'] });
  children.add(proc);
  const c: Child = { proc, lines: [], partial: '', onLine: undefined, closed: new Promise((r) => proc.on('close', () => r())) };
  proc.stdout!.setEncoding('utf8');
  proc.stdout!.on('data', (chunk: string) => {
    const parts = (c.partial + chunk).split('\n');
    // A line cut by the kill was never a complete claim: only lines ending in \n count.
    c.partial = parts.pop()!;
    c.lines.push(...parts);
    c.onLine?.();
  });
  return c;
}

function waitFor(c: Child, pred: (lines: string[]) => boolean, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => done(false), timeoutMs);
    const done = (v: boolean) => {
      clearTimeout(timer);
      c.onLine = undefined;
      resolve(v);
    };
    if (pred(c.lines)) return done(true);
    c.onLine = () => {
      if (pred(c.lines)) done(true);
    };
    void c.closed.then(() => done(pred(c.lines)));
  });
}

function pairs(line: string): [string, number][] {
  return line
    .slice(2)
    .split(' ')
    .filter((p) => p !== '')
    .map((p) => {
      const i = p.lastIndexOf(':');
      return [p.slice(0, i), Number(p.slice(i + 1))];
    });
}

function marker(texts: string[]): number {
  let k = 0;
  for (const t of texts) for (const m of t.matchAll(/k=(\d+)/g)) k = Math.max(k, Number(m[1]));
  return k;
}

describe('incident log under SIGKILL', () => {
  it('loses no record whose flush() resolved, whatever instant the process dies', async () => {
    expect(existsSync(DIST), 'run `npm run build` first').toBe(true);
    dir = mkdtempSync(join(tmpdir(), 'firebreak-kill-'));
    const path = join(dir, 'incidents.jsonl');
    let seed = 20260111;
    const rand = (n: number) => {
      seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0;
      return seed % n;
    };
    /** Highest marker acknowledged per incident. */
    const acked = new Map<string, number>();
    let kills = 0;
    let claims = 0;
    let checked = 0;
    const lost: string[] = [];
    const verify = (have: Map<string, number>, where: string) => {
      for (const [id, k] of acked) {
        checked++;
        const got = have.get(id);
        if (got === undefined || got < k) lost.push(`${where}: ${id} acknowledged at k=${k}, found ${got ?? 'nothing'}`);
      }
    };

    const warm: Child[] = [];
    const refill = () => {
      while (warm.length < WARM) warm.push(start(path, MODES[(kills + warm.length) % MODES.length]!, rand(1e9)));
    };
    refill();
    const began = Date.now();
    while ((Date.now() - began < BUDGET_MS || kills < MIN_KILLS) && lost.length === 0) {
      const c = warm.shift()!;
      refill();
      expect(await waitFor(c, (l) => l.includes('W'), 60_000), 'child did not load').toBe(true);
      c.proc.stdin!.write('go\n');
      // Kill instants: during start-up replay/repair, right after it, or after some batches (rotations every few).
      const plan = rand(10);
      if (plan === 0) await new Promise((r) => setTimeout(r, rand(15)));
      else {
        await waitFor(c, (l) => l.some((x) => x.startsWith('R')), 60_000);
        const batches = plan < 3 ? 0 : 1 + rand(12);
        if (batches > 0) await waitFor(c, (l) => l.filter((x) => x.startsWith('A')).length >= batches, 60_000);
        await new Promise((r) => setTimeout(r, rand(8)));
      }
      c.proc.kill('SIGKILL');
      await c.closed;
      children.delete(c.proc);
      kills++;

      const restored = c.lines.find((l) => l.startsWith('R'));
      if (restored !== undefined) verify(new Map(pairs(restored)), `restart ${kills}`);
      for (const l of c.lines) {
        if (!l.startsWith('A')) continue;
        for (const [id, k] of pairs(l)) {
          claims++;
          acked.set(id, Math.max(acked.get(id) ?? 0, k));
        }
      }
      // What is on disk right after the kill, read without the repair a restart would do.
      const replay = replayLog(path);
      verify(new Map(replay.incidents.map((i) => [i.id, marker([i.summary, ...i.timeline.map((e) => e.message)])])), `after kill ${kills}`);
    }
    for (const c of warm) c.proc.kill('SIGKILL');
    const seconds = ((Date.now() - began) / 1000).toFixed(1);
    console.log(`kill loop: ${kills} kills in ${seconds} s, ${claims} acknowledged records (${acked.size} incidents), ${checked} checks, ${lost.length} lost`);
    expect(lost).toEqual([]);
    expect(kills).toBeGreaterThanOrEqual(MIN_KILLS);
    expect(claims).toBeGreaterThan(0);
  }, BUDGET_MS + 120_000);
});

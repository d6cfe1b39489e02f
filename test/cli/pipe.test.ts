/**
 * The built CLI writing into a pipe whose reader has gone
 * (`firebreak emergency-ref | head -0`): it must end quietly, as Unix tools
 * do, not with Node's "Unhandled 'error' event … write EPIPE" stack trace.
 * Needs `npm run build` (`npm test` builds first).
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../..', import.meta.url));
const CLI = `${root}dist/cli.js`;

interface Ended {
  code: number | null;
  signal: NodeJS.Signals | null;
  stderr: string;
}

/** Runs the built CLI with its stdout going to a reader that closes before reading anything. */
function intoClosedPipe(args: string[], closeStderrToo = false): Promise<Ended> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { env: { PATH: process.env['PATH'] ?? '' }, stdio: ['ignore', 'pipe', 'pipe'], timeout: 20_000 });
    // Like `head -0`: the reading end is closed, so the CLI's first write fails with EPIPE.
    child.stdout.destroy();
    let stderr = '';
    if (closeStderrToo) child.stderr.destroy();
    else child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stderr }));
  });
}

beforeAll(() => {
  expect(existsSync(CLI), 'dist/cli.js is missing: run `npm run build` first').toBe(true);
});

describe('CLI output into a closed pipe', () => {
  it.each([
    ['emergency-ref', ['emergency-ref']],
    ['emergency-ref --json', ['emergency-ref', '--json']],
    ['--help', ['--help']],
    ['--version', ['--version']],
  ])('%s | head -0 exits 0 without a stack trace', async (_label, args) => {
    const ended = await intoClosedPipe(args);
    expect(ended.stderr).not.toMatch(/EPIPE|Unhandled|node:events|\n\s+at /);
    expect(ended.stderr).toBe('');
    expect(ended).toMatchObject({ code: 0, signal: null });
  });

  it('keeps the exit code a failing command earned (usage error, exit 2) when its output pipe is closed', async () => {
    const ended = await intoClosedPipe(['no-such-command']);
    expect(ended.code).toBe(2);
    expect(ended.stderr).not.toMatch(/EPIPE|Unhandled|\n\s+at /);
  });

  it('ends quietly when stderr is closed too', async () => {
    const ended = await intoClosedPipe(['no-such-command'], true);
    expect(ended).toMatchObject({ code: 2, signal: null });
  });
});

/**
 * The layer rules of .dependency-cruiser.cjs hold for src/: nothing below the
 * monitor imports upward, adapters import the HTTP surface and never the
 * reverse, only firebreak/redis loads ioredis, and there is no import loop.
 * The fixture proves the rules catch both kinds of violation.
 */
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../..', import.meta.url));
const bin = `${root}node_modules/.bin/depcruise`;
const config = `${root}.dependency-cruiser.cjs`;

function cruise(cwd: string): { ok: boolean; out: string } {
  try {
    return { ok: true, out: execFileSync(bin, ['src', '--config', config, '--output-type', 'err'], { cwd, encoding: 'utf8', timeout: 120_000 }) };
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string };
    return { ok: false, out: `${e.stdout ?? ''}${e.stderr ?? ''}` };
  }
}

describe('layers', () => {
  it('src/ has no upward import and no import loop', { timeout: 120_000 }, () => {
    const { ok, out } = cruise(root);
    expect(out).toContain('no dependency violations');
    expect(ok).toBe(true);
  });

  it('the rules catch an upward import and a loop', { timeout: 120_000 }, () => {
    const { ok, out } = cruise(`${root}test/layers/fixture`);
    expect(ok).toBe(false);
    expect(out).toMatch(/no-upward-from-metrics: src\/metrics\/window\.ts → src\/monitor\.ts/);
    expect(out).toMatch(/no-circular: src\/incidents\/(a|b)\.ts/);
  });
});

import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { afterEach, describe, expect, it, type TestContext } from 'vitest';
import { findPromtool, requirePromtool } from '../helpers/promtool.js';

describe('finding promtool for the exposition checks', () => {
  let dir: string | undefined;
  afterEach(() => {
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
    dir = undefined;
  });

  function fakeBin(): { bin: string; tool: string; other: string } {
    dir = mkdtempSync(join(tmpdir(), 'firebreak-promtool-'));
    const bin = join(dir, 'bin');
    const other = join(dir, 'other');
    mkdirSync(bin);
    mkdirSync(other);
    mkdirSync(join(other, 'promtool')); // a directory of that name is not the tool
    const tool = join(bin, 'promtool');
    writeFileSync(tool, '#!/bin/sh\nexit 0\n', { mode: 0o755 });
    return { bin, tool, other };
  }

  const ctx = () => {
    const skipped: string[] = [];
    const c = {
      skip: (note?: string) => {
        skipped.push(note ?? '');
        throw new Error('skipped');
      },
    } as unknown as TestContext;
    return { c, skipped };
  };

  it('finds promtool on PATH, not only at /usr/bin', () => {
    const { bin, tool, other } = fakeBin();
    expect(findPromtool({ PATH: [other, bin].join(delimiter) })).toBe(tool);
  });

  it('PROMTOOL, when set, is the only place looked at', () => {
    const { bin, tool } = fakeBin();
    expect(findPromtool({ PROMTOOL: tool, PATH: '' })).toBe(tool);
    expect(findPromtool({ PROMTOOL: join(bin, 'nope'), PATH: bin })).toBeUndefined();
  });

  it('missing under CI: the test fails instead of skipping', () => {
    const { other } = fakeBin();
    const { c, skipped } = ctx();
    expect(() => requirePromtool(c, { CI: 'true', PROMTOOL: join(other, 'promtool') })).toThrowError(/promtool is required in CI/);
    expect(skipped).toEqual([]);
  });

  it('missing outside CI: the test is skipped, saying how to install it', () => {
    const { other } = fakeBin();
    const { c, skipped } = ctx();
    expect(() => requirePromtool(c, { PROMTOOL: join(other, 'promtool') })).toThrowError('skipped');
    expect(skipped).toEqual([expect.stringMatching(/apt-get install prometheus/)]);
  });

  it('present: its path is returned, under CI or not', () => {
    const { tool } = fakeBin();
    const { c } = ctx();
    expect(requirePromtool(c, { CI: 'true', PROMTOOL: tool })).toBe(tool);
  });
});

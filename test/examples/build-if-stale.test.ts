/** `npm run demo` builds only when dist/ is out of date (scripts/build-if-stale.mjs). */
import { mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
// @ts-expect-error plain .mjs script without types
import { isStale } from '../../scripts/build-if-stale.mjs';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function tree(srcAt: number, distAt: number | null): string {
  const root = mkdtempSync(join(tmpdir(), 'fb-stale-'));
  dirs.push(root);
  mkdirSync(join(root, 'src/http'), { recursive: true });
  const src = join(root, 'src/http/page.ts');
  writeFileSync(src, 'x');
  utimesSync(src, srcAt / 1000, srcAt / 1000);
  for (const f of ['package.json', 'tsup.config.ts']) {
    writeFileSync(join(root, f), '{}');
    utimesSync(join(root, f), 1, 1);
  }
  if (distAt !== null) {
    mkdirSync(join(root, 'dist'));
    for (const f of ['index.js', 'cli.js', 'express.js']) {
      writeFileSync(join(root, 'dist', f), 'x');
      utimesSync(join(root, 'dist', f), distAt / 1000, distAt / 1000);
    }
  }
  return root;
}

describe('build-if-stale', () => {
  it('does not build when dist is newer than every source', () => {
    expect(isStale(tree(1_000_000, 2_000_000))).toBe(false);
  });
  it('builds when a nested source file is newer than dist', () => {
    expect(isStale(tree(3_000_000, 2_000_000))).toBe(true);
  });
  it('builds when dist is missing', () => {
    expect(isStale(tree(1_000_000, null))).toBe(true);
  });
});

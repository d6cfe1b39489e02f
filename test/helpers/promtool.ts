import { existsSync, statSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import type { TestContext } from 'vitest';

/**
 * Where promtool is: `$PROMTOOL` when set (and only there), else the first
 * `promtool` on `$PATH`, else /usr/bin/promtool. Undefined when none exists.
 */
export function findPromtool(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const explicit = env['PROMTOOL'];
  const candidates =
    explicit !== undefined && explicit !== ''
      ? [explicit]
      : [...(env['PATH'] ?? '').split(delimiter).filter(Boolean).map((dir) => join(dir, 'promtool')), '/usr/bin/promtool'];
  return candidates.find((p) => existsSync(p) && statSync(p).isFile());
}

/**
 * The promtool to run, or: under CI (`$CI` set) a failure, since CI must run
 * these checks; elsewhere the test is skipped with how to install it.
 */
export function requirePromtool(ctx: TestContext, env: NodeJS.ProcessEnv = process.env): string {
  const found = findPromtool(env);
  if (found !== undefined) return found;
  if (env['CI']) throw new Error('promtool is required in CI (Debian package `prometheus`, or set PROMTOOL) but was not found on PATH');
  ctx.skip('promtool not installed: apt-get install prometheus (required when CI is set)');
  throw new Error('unreachable: ctx.skip() throws');
}

/**
 * The integration examples run as a user runs them, against the built
 * package: the OpenFeature one reads a kill switch before and after an
 * operator action; the OpenTelemetry one exports request counts.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../..', import.meta.url));
const run = (script: string): string => {
  expect(existsSync(`${root}dist/openfeature.js`), 'run `npm run build` first').toBe(true);
  return execFileSync(process.execPath, [script], { cwd: root, encoding: 'utf8', timeout: 60_000, env: { ...process.env, NO_COLOR: '1' } });
};

describe('integration examples', () => {
  it('examples/openfeature: the same OpenFeature call answers false with the reason once the operator disables the feature', { timeout: 60_000 }, () => {
    const out = run('examples/openfeature/index.mjs');
    expect(out).toContain('rerank → true (STATIC)');
    expect(out).toContain('event: levers changed: rerank');
    expect(out).toContain('rerank → false (DISABLED: p95 over 2 s)');
    const m = /canary (\d+), stable (\d+)/.exec(out);
    expect(Number(m?.[1]) + Number(m?.[2])).toBe(1000);
    // 10 % of 1 000 users, within binomial noise (σ ≈ 9.5).
    expect(Number(m?.[1])).toBeGreaterThan(60);
    expect(Number(m?.[1])).toBeLessThan(140);
    expect(out).toContain('openfeature example complete');
  });

  it('examples/otel: one export carries the 200 requests, 5 of them failures', { timeout: 60_000 }, () => {
    const out = run('examples/otel/index.mjs');
    expect(out).toMatch(/firebreak\.requests \{[^}]*"outcome":"success"[^}]*\} = 195/);
    expect(out).toMatch(/firebreak\.requests \{[^}]*"outcome":"failure"[^}]*\} = 5/);
    expect(out).toContain('otel example complete');
  });
});

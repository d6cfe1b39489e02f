import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { run } from '../../src/cli/program.js';
import { EXIT } from '../../src/cli/exit-codes.js';
import type { RuleFile } from '../../src/index.js';
import { requirePromtool } from '../helpers/promtool.js';

let dir: string | undefined;
afterEach(() => {
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  dir = undefined;
});

async function cli(args: string[]) {
  let stdout = '';
  let stderr = '';
  const code = await run(args, { env: {}, stdout: { write: (s: string) => (stdout += s) }, stderr: { write: (s: string) => (stderr += s) } });
  return { code, stdout, stderr };
}

function config(name: string, body: string): string {
  dir ??= mkdtempSync(join(tmpdir(), 'firebreak-cli-rules-'));
  const path = join(dir, name);
  writeFileSync(path, body);
  return path;
}

const OPTIONS = {
  service: 'checkout',
  minSamples: 5,
  slos: [
    { name: 'availability', kind: 'success-rate', objective: 0.999, route: 'POST /pay' },
    { name: 'latency-p95', kind: 'latency', quantile: 0.95, thresholdMs: 250 },
  ],
  burnRate: { rules: [{ name: 'page', severity: 'critical', factor: 10, longMs: 3_600_000, shortMs: 300_000 }] },
  prometheus: { prefix: 'shop_' },
};

describe('firebreak rules', () => {
  it('prints YAML that promtool check rules accepts, from the same options createMonitor takes (JSON file), without a server', async (ctx) => {
    const bin = requirePromtool(ctx);
    const path = config('firebreak.json', JSON.stringify(OPTIONS));
    const r = await cli(['rules', '--config', path, '--matcher', 'job=checkout', '--label', 'team=payments']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(EXIT.ok);
    // The monitor's own burn rule, prefix and route labels are what the rules use.
    expect(r.stdout).toContain('shop_slo:error_ratio:rate1h');
    expect(r.stdout).toContain('burn_rule: "page"');
    expect(r.stdout).not.toContain('rate3d'); // only the configured rules' windows
    expect(r.stdout).toContain('route=\\"/pay\\",method=\\"POST\\"');
    expect(r.stdout).toContain('job=\\"checkout\\"');
    const out = config('rules.yml', r.stdout);
    const check = spawnSync(bin, ['check', 'rules', out], { encoding: 'utf8' });
    expect(check.stdout + check.stderr).toContain('SUCCESS');
    expect(check.status).toBe(0);
  });

  it('reads an ES module config and prints the rule file as JSON with --json', async () => {
    const path = config('firebreak.config.mjs', `export default ${JSON.stringify(OPTIONS)};`);
    const r = await cli(['--json', 'rules', '-c', path]);
    expect(r.code).toBe(EXIT.ok);
    const file = JSON.parse(r.stdout) as RuleFile;
    expect(file.groups.map((g) => g.rules.length)).toEqual([8, 2]); // 2 SLOs × 2 windows × 2; 2 SLOs × 1 rule
  });

  it('is a usage error naming the field for a bad SLO, a missing file or a bad --matcher', async () => {
    const bad = config('bad.json', JSON.stringify({ ...OPTIONS, slos: [{ name: 'p95', kind: 'latency', quantile: 0.95, thresholdMs: 300 }] }));
    const r1 = await cli(['rules', '--config', bad]);
    expect(r1.code).toBe(EXIT.usage);
    expect(r1.stderr).toContain('slos.0.thresholdMs');
    const r2 = await cli(['rules', '--config', join(tmpdir(), 'does-not-exist-firebreak.json')]);
    expect(r2.code).toBe(EXIT.usage);
    const r3 = await cli(['rules', '--config', config('ok.json', JSON.stringify(OPTIONS)), '--matcher', 'nojob']);
    expect(r3.code).toBe(EXIT.usage);
    expect(r3.stderr).toContain('--matcher');
    const r4 = await cli(['rules', '--config', config('ok2.json', JSON.stringify({ ...OPTIONS, service: '' }))]);
    expect(r4.code).toBe(EXIT.usage);
    expect(r4.stderr).toContain('service');
  });
});

import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ConfigError, createMonitor, generateRules, rulesToYaml, type SloInput } from '../../src/index.js';
import { ManualClock } from '../../src/testing/index.js';
import { parseExposition } from '../helpers/exposition.js';
import { fixedProbes } from '../helpers/probes.js';
import { requirePromtool } from '../helpers/promtool.js';

const MIN = 60_000;

let dir: string | undefined;
afterEach(() => {
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  dir = undefined;
});
function tmp(): string {
  dir = mkdtempSync(join(tmpdir(), 'firebreak-rules-'));
  return dir;
}

function promtool(bin: string, args: string[]) {
  const r = spawnSync(bin, args, { encoding: 'utf8', timeout: 60_000 });
  return { status: r.status, out: `${r.stdout}${r.stderr}` };
}

describe('generateRules', () => {
  it('passes promtool check rules for every request and cache SLO kind, scoped routes and awkward names', (ctx) => {
    const bin = requirePromtool(ctx);
    const slos: SloInput[] = [
      { name: 'availability', kind: 'success-rate', objective: 0.999 },
      { name: 'search errors', kind: 'error-rate', max: 0.01, route: 'GET /q"uote\\x: #y' },
      { name: 'latency-p95', kind: 'latency', quantile: 0.95, thresholdMs: 800 },
      { name: 'cache', kind: 'cache-hit-rate', cache: 'search', objective: 0.5 },
      { name: '9-all-caches', kind: 'cache-hit-rate', objective: 0.5 },
      { name: 'heap', kind: 'memory', max: 0.8 },
    ];
    const file = generateRules(slos, { service: 'search-api', matchers: { job: 'search' }, alertLabels: { team: 'core' } });
    const path = join(tmp(), 'rules.yml');
    writeFileSync(path, rulesToYaml(file));
    const r = promtool(bin, ['check', 'rules', path]);
    expect(r.out).toContain('SUCCESS');
    expect(r.status).toBe(0);
    // 5 burn-rate SLOs × 7 windows × 2 recordings; 5 SLOs × 4 burn rules; the memory SLO gets none.
    expect(file.groups.map((g) => g.rules.length)).toEqual([70, 20]);
    const windows = new Set(file.groups[0]!.rules.map((x) => ('record' in x ? x.record.replace(/.*rate/, '') : '')));
    expect([...windows]).toEqual(['5m', '30m', '1h', '2h', '6h', '1d', '3d']);
  });

  it('names the field of a latency threshold that is not a histogram bucket, and of bad options', () => {
    let err: unknown;
    try {
      generateRules([{ name: 'p95', kind: 'latency', quantile: 0.95, thresholdMs: 300 }], { service: 's' });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).issues.map((i) => i.path)).toEqual(['slos.0.thresholdMs']);
    // The same threshold is fine once it is a bucket bound.
    expect(generateRules([{ name: 'p95', kind: 'latency', quantile: 0.95, thresholdMs: 300 }], { service: 's', buckets: [0.1, 0.3, 1] }).groups).toHaveLength(2);

    for (const [opts, path] of [
      [{ service: '' }, 'service'],
      [{ service: 's', prefix: '9x' }, 'prefix'],
      [{ service: 's', matchers: { 'bad-name': 'x' } }, 'matchers.bad-name'],
    ] as const) {
      let e2: unknown;
      try {
        generateRules([], opts as never);
      } catch (e) {
        e2 = e;
      }
      expect(e2, path).toBeInstanceOf(ConfigError);
      expect((e2 as ConfigError).issues.map((i) => i.path).join(' ')).toContain(path);
    }
  });
});

/**
 * The same traffic through the in-process tracker (ManualClock, evaluated once a minute, as
 * Prometheus evaluates rules) and through Prometheus (the counters the monitor exported,
 * scraped once a minute, fed to `promtool test rules`).
 */
async function fakeClockRun(slos: SloInput[], minutes: number, perMinute: (minute: number) => { ok: number; bad: number; slowMs?: number }) {
  const clock = new ManualClock();
  const monitor = createMonitor({ service: 'search-api', clock, probes: fixedProbes(), slos });
  const series = new Map<string, number[]>();
  let opened: { minute: number; summary: string } | undefined;
  for (let m = 0; m <= minutes; m++) {
    // Evaluation and scrape at the minute mark, before that minute's traffic.
    const report = monitor.evaluate();
    const inc = report.incidents.opened.find((i) => i.type === 'slo-burn');
    if (inc !== undefined && opened === undefined) opened = { minute: m, summary: inc.summary };
    for (const s of parseExposition(await monitor.metrics())) {
      if (!s.name.startsWith('firebreak_request')) continue;
      const key = `${s.name}{${Object.entries(s.labels)
        .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
        .join(',')}}`;
      const vals = series.get(key) ?? Array<number>(m).fill(0);
      vals.push(s.value);
      series.set(key, vals);
    }
    if (m === minutes) break;
    const { ok, bad, slowMs } = perMinute(m);
    // Spread over the minute in 10 s steps, as live traffic is.
    for (let step = 0; step < 6; step++) {
      for (let i = 0; i < ok / 6; i++) monitor.recordRequest({ route: 'GET /search', durationMs: slowMs ?? 40, status: 200 });
      for (let i = 0; i < bad / 6; i++) monitor.recordRequest({ route: 'GET /search', durationMs: 40, status: 503 });
      clock.advance(10_000);
    }
  }
  await monitor.close();
  return { opened, series };
}

/** A promtool unit-test file: the run's series, and the alert expected at `minute` and not the minute before. */
function unitTest(series: Map<string, number[]>, alertname: string, minute: number, labels: Record<string, string>, annotations: Record<string, string>): string {
  const y = JSON.stringify;
  const lines = ['rule_files:', '  - rules.yml', 'evaluation_interval: 1m', 'tests:', '  - interval: 1m', '    input_series:'];
  for (const [k, v] of series) lines.push(`      - series: ${y(k)}`, `        values: ${y(v.join(' '))}`);
  lines.push('    alert_rule_test:');
  lines.push(`      - eval_time: ${minute - 1}m`, `        alertname: ${y(alertname)}`, '        exp_alerts: []');
  lines.push(`      - eval_time: ${minute}m`, `        alertname: ${y(alertname)}`, '        exp_alerts:', '          - exp_labels:');
  for (const [k, v] of Object.entries(labels)) lines.push(`              ${k}: ${y(v)}`);
  lines.push('            exp_annotations:');
  for (const [k, v] of Object.entries(annotations)) lines.push(`              ${k}: ${y(v)}`);
  return `${lines.join('\n')}\n`;
}

describe('promtool test rules: Prometheus pages in the same evaluation minute as the in-process tracker', () => {
  const HEALTHY = 6 * 60 + 10; // every page window (1 h, 6 h) observed in process before the fault

  it.for([
    ['availability 99.9 %, half the requests failing', [{ name: 'availability', kind: 'success-rate', objective: 0.999 }], { ok: 300, bad: 300 }],
    ['p99 ≤ 800 ms, every request at 1.5 s', [{ name: 'latency-p99', kind: 'latency', quantile: 0.99, thresholdMs: 800 }], { ok: 600, bad: 0, slowMs: 1500 }],
  ] as const)('%s', async ([, slos, fault], ctx) => {
    const bin = requirePromtool(ctx);
    const run = await fakeClockRun([...slos], HEALTHY + 30, (m) => (m < HEALTHY ? { ok: 600, bad: 0 } : fault));
    expect(run.opened, 'the in-process tracker opened an incident').toBeDefined();
    const minute = run.opened!.minute;
    // Not on the first faulty minute: both sides must integrate the windows the same way.
    expect(minute).toBeGreaterThan(HEALTHY + 1);
    expect(run.opened!.summary).toMatch(/rule page-fast/);

    const file = generateRules([...slos], { service: 'search-api' });
    const alert = file.groups[1]!.rules.find((r) => 'alert' in r && r.labels['burn_rule'] === 'page-fast')!;
    if (!('alert' in alert)) throw new Error('no page-fast alert');
    const d = tmp();
    writeFileSync(join(d, 'rules.yml'), rulesToYaml(file));
    writeFileSync(join(d, 'test.yml'), unitTest(run.series, alert.alert, minute, alert.labels, alert.annotations));
    const r = spawnSync(bin, ['test', 'rules', 'test.yml'], { cwd: d, encoding: 'utf8', timeout: 120_000 });
    expect(`${r.stdout}${r.stderr}`).toContain('SUCCESS');
    expect(r.status).toBe(0);
  });
});

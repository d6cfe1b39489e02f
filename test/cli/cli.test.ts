/**
 * The built `firebreak` CLI (dist/cli.js, as npm installs it) against a real
 * server on 127.0.0.1: every command, `--json`, and the exit codes
 * 0 ok / 1 request failed / 2 usage / 3 auth. `npm test` builds first.
 */
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createHandler } from '../../src/adapters/node-http.js';
import { createMonitor, type Monitor } from '../../src/monitor.js';
import { ManualClock } from '../../src/testing/manual-clock.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const CLI = `${root}dist/cli.js`;
const OPERATOR = 'operator-token-0123456789';
const READER = 'reader-token-0123456789abc';

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the built CLI with only the environment given (no FIREBREAK_* leaking in from the shell). */
function cli(args: string[], env: Record<string, string> = {}): Promise<Run> {
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, ...args], { env: { PATH: process.env['PATH'] ?? '', ...env }, timeout: 20_000 }, (err, stdout, stderr) => {
      const code = err === null ? 0 : typeof err.code === 'number' ? err.code : -1;
      resolve({ code, stdout, stderr });
    });
  });
}

let server: Server;
let base: string;
let monitor: Monitor;
let clock: ManualClock;
let rebuilds: unknown[];
let asOperator: Record<string, string>;

beforeAll(() => {
  expect(existsSync(CLI), 'dist/cli.js is missing: run `npm run build` first').toBe(true);
});

beforeEach(async () => {
  clock = new ManualClock();
  monitor = createMonitor({
    service: 'cli-test',
    clock,
    preset: 'runbook',
    slos: [
      { name: 'latency-p95', kind: 'latency', quantile: 0.95, thresholdMs: 800 },
      { name: 'availability', kind: 'success-rate', objective: 0.995 },
    ],
    detectors: [
      { kind: 'cpu', enabled: false },
      { kind: 'event-loop-delay', enabled: false },
      { kind: 'memory', enabled: false },
    ],
    incidents: { forMs: 10_000, clearForMs: 60_000 },
  });
  monitor.fallback('reranker', { primary: async () => 'cross-encoder', fallback: async () => 'hybrid' });
  monitor.cache('search', { max: 10 });
  rebuilds = [];
  monitor.actions.register({
    id: 'index.rebuild',
    title: 'Rebuild index',
    estimatedSeconds: 1800,
    risk: 'risky',
    requiresConfirm: true,
    params: z.strictObject({ shards: z.number(), reason: z.string() }),
    execute: ({ params }) => {
      rebuilds.push(params);
      return { message: `rebuilt ${params.shards} shards` };
    },
  });
  const handler = createHandler(monitor, {
    auth: { tokens: [{ name: 'alice', token: OPERATOR, role: 'operator' }, { name: 'bob', token: READER, role: 'read' }] },
  });
  server = createServer((req, res) => handler(req, res));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  asOperator = { FIREBREAK_URL: base, FIREBREAK_TOKEN: OPERATOR };
});

afterEach(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
  monitor.stop();
});

/** Slow traffic, held past `forMs`: the next evaluation opens a high-latency incident. */
function latencySpike(): void {
  for (let i = 0; i < 50; i++) monitor.recordRequest({ route: 'GET /search', durationMs: 2600, status: 200 });
  monitor.evaluate(); // the condition starts pending
  clock.advance(11_000);
  for (let i = 0; i < 50; i++) monitor.recordRequest({ route: 'GET /search', durationMs: 2600, status: 200 });
}

function openIncident(): string {
  latencySpike();
  monitor.evaluate();
  const [incident] = monitor.incidents.list({ status: 'active' });
  expect(incident?.type).toBe('high-latency');
  return incident!.id;
}

describe('firebreak CLI: usage (exit 2) and help (exit 0)', () => {
  it('prints help and the version with exit 0', async () => {
    const help = await cli(['--help']);
    expect(help.code).toBe(0);
    for (const cmd of ['status', 'active', 'show', 'detect', 'procedures', 'execute', 'ack', 'resolve', 'postmortem', 'actions', 'emergency-ref', 'silence', 'maintenance']) {
      expect(help.stdout).toContain(cmd);
    }
    expect(help.stdout).toContain('Exit codes: 0 ok, 1 request failed, 2 usage error, 3 authentication');
    const version = await cli(['--version']);
    expect(version.stdout.trim()).toBe(JSON.parse(readFileSync(`${root}package.json`, 'utf8')).version);
  });

  it('exits 2 on a command-line mistake, saying what is wrong', async () => {
    const cases: [string[], RegExp][] = [
      [[], /Usage: firebreak/],
      [['bogus'], /unknown command 'bogus'/],
      [['show'], /missing required argument 'id'/],
      [['resolve', 'inc_1'], /required option '--notes <text>' not specified/],
      [['execute', 'inc_1', 'cache.clear', '--param', 'novalue'], /--param expects key=value, got "novalue"/],
      [['status', '--timeout', 'soon'], /--timeout/],
      [['status', '--url', 'ftp://example.com'], /only http: and https:/],
    ];
    for (const [args, message] of cases) {
      const run = await cli(args, asOperator);
      expect(run.code, args.join(' ')).toBe(2);
      expect(run.stderr, args.join(' ')).toMatch(message);
    }
    const noUrl = await cli(['status']);
    expect(noUrl.code).toBe(2);
    expect(noUrl.stderr).toContain('no server URL: pass --url <url> or set FIREBREAK_URL');
  });
});

describe('firebreak CLI: failures (exit 1) and auth (exit 3)', () => {
  it('reports an unreachable server clearly with exit 1', async () => {
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(closed.address() as AddressInfo).port}`;
    await new Promise((r) => closed.close(r));
    const run = await cli(['status', '--url', url, '--token', OPERATOR]);
    expect(run.code).toBe(1);
    expect(run.stderr.trim()).toBe(`firebreak: cannot reach ${url}: connection refused`);
    const json = await cli(['status', '--json', '--url', url]);
    expect(json.code).toBe(1);
    expect(JSON.parse(json.stderr)).toEqual({ error: { code: 'UNREACHABLE', message: `cannot reach ${url}: connection refused` } });
  });

  it('exits 3 without a token, with a wrong token, and with a read token on an operator command', async () => {
    const none = await cli(['status', '--url', base]);
    expect(none.code).toBe(3);
    expect(none.stderr).toContain('authentication failed (401): no token given: pass --token or set FIREBREAK_TOKEN');

    const wrong = await cli(['active', '--url', base, '--token', 'not-the-right-token-at-all']);
    expect(wrong.code).toBe(3);
    expect(wrong.stderr).toContain('the server rejected the token');

    const id = openIncident();
    const reader = await cli(['ack', id], { FIREBREAK_URL: base, FIREBREAK_TOKEN: READER });
    expect(reader.code).toBe(3);
    expect(reader.stderr).toContain('forbidden (403)');
    expect(monitor.incidents.get(id)?.status).toBe('open'); // nothing changed

    const readerJson = await cli(['ack', id, '--json'], { FIREBREAK_URL: base, FIREBREAK_TOKEN: READER });
    expect(readerJson.code).toBe(3);
    expect(JSON.parse(readerJson.stderr).error).toMatchObject({ code: 'FORBIDDEN', status: 403 });
  });

  it('exits 1 with the server error code for an unknown incident', async () => {
    const run = await cli(['show', 'inc_nope'], asOperator);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/GET \/admin\/incidents\/inc_nope failed \(404 NOT_FOUND\)/);
    const json = await cli(['show', 'inc_nope', '--json'], asOperator);
    expect(JSON.parse(json.stderr).error).toMatchObject({ code: 'NOT_FOUND', status: 404 });
  });

  it('works with the URL and token as options too (a mount prefix in the URL is kept)', async () => {
    const run = await cli(['actions', '--url', `${base}/`, '--token', OPERATOR]);
    expect(run.code).toBe(0);
  });
});

describe('firebreak CLI: commands against a live service', () => {
  it('status: SLOs with value vs target, and open incidents', async () => {
    const quiet = await cli(['status'], asOperator);
    expect(quiet.code).toBe(0);
    expect(quiet.stdout).toContain('latency-p95');
    expect(quiet.stdout).toContain('No open incidents.');

    const id = openIncident();
    const run = await cli(['status'], asOperator);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/latency-p95\s+latency\s+\d+ ms\s+≤ 800 ms\s+breach/);
    expect(run.stdout).toContain('Open incidents (1)');
    expect(run.stdout).toMatch(new RegExp(`${id}\\s+high-latency\\s+high\\s+P1\\s+open`));
    expect(run.stdout).not.toContain('\u001b['); // not a TTY: no colours

    const json = JSON.parse((await cli(['status', '--json'], asOperator)).stdout);
    // The runbook preset's SLO table, latency-p95 replaced by the test's own, then the test's others.
    expect(json.slo.slos.map((s: { name: string }) => s.name)).toEqual(['latency-p95', 'latency-p99', 'success-rate', 'error-rate', 'cache-hit-rate', 'availability']);
    expect(json.incidents.incidents[0].id).toBe(id);
  });

  it('status --history: sparklines of the server-side history, baseline then spike, times in UTC', async () => {
    for (let k = 0; k < 6; k++) {
      for (let i = 0; i < 50; i++) monitor.recordRequest({ route: 'GET /search', durationMs: 40, status: 200 });
      monitor.evaluate();
      clock.advance(10_000);
    }
    openIncident();
    const run = await cli(['status', '--history'], asOperator);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/History \d{4}-\d\d-\d\d \d\d:\d\d:\d\d → .* UTC \(\d+ points\)/);
    // The p95 line rises from the floor to the top: the baseline is there, then the spike.
    const p95 = run.stdout.split('\n').find((l) => l.startsWith('p95 '))!;
    expect(p95).toMatch(/▁.*█/);
    expect(run.stdout).toMatch(/incident-opened/);
    const json = JSON.parse((await cli(['status', '--history', '--json'], asOperator)).stdout);
    expect(json.history.points.length).toBeGreaterThanOrEqual(7);
    const plain = JSON.parse((await cli(['status', '--json'], asOperator)).stdout);
    expect(plain.history).toBeUndefined();
  });

  it('detect: runs the evaluation now and shows the incident it opened', async () => {
    latencySpike();
    const run = await cli(['detect'], asOperator);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('Incidents opened (1)');
    expect(run.stdout).toContain('high-latency');
    expect(monitor.incidents.list({ status: 'active' })).toHaveLength(1);

    const json = JSON.parse((await cli(['detect', '--json'], asOperator)).stdout);
    expect(json.incidents.opened).toEqual([]); // already open: nothing new
    expect(json.slos.find((s: { name: string }) => s.name === 'latency-p95').status).toBe('breach');
  });

  it('active and show: the incident with its timeline', async () => {
    const id = openIncident();
    const active = await cli(['active'], asOperator);
    expect(active.code).toBe(0);
    expect(active.stdout).toContain(id);
    expect(JSON.parse((await cli(['active', '--json'], asOperator)).stdout).incidents[0].id).toBe(id);

    const show = await cli(['show', id], asOperator);
    expect(show.code).toBe(0);
    expect(show.stdout).toContain(`Incident ${id}`);
    expect(show.stdout).toContain('Timeline');
    expect(show.stdout).toMatch(/\+0ms\s+opened\s+firebreak/);
    expect(JSON.parse((await cli(['show', id, '--json'], asOperator)).stdout).id).toBe(id);
  });

  it('procedures and execute: runs a playbook step for the incident', async () => {
    const id = openIncident();
    const procs = await cli(['procedures', id], asOperator);
    expect(procs.code).toBe(0);
    expect(procs.stdout).toMatch(/1\s+model\.fallback/);
    expect(procs.stdout).toMatch(/2\s+cache\.clear/);
    const steps = JSON.parse((await cli(['procedures', id, '--json'], asOperator)).stdout).procedures;
    expect(steps[0]).toMatchObject({ action: 'model.fallback', status: 'pending' });

    const run = await cli(['execute', id, 'model.fallback'], asOperator);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('Action model.fallback: success');
    expect(monitor.controls.fallbacks.get('reranker')?.stats().forced).toBe(true);
    expect(monitor.incidents.get(id)?.timeline.some((e) => e.kind === 'action' && e.by === 'alice')).toBe(true);
    const after = JSON.parse((await cli(['procedures', id, '--json'], asOperator)).stdout).procedures;
    expect(after[0].status).toBe('done');
  });

  it('execute: --param values are parsed as JSON when they parse, and --confirm is required when the action says so', async () => {
    const id = openIncident();
    const unconfirmed = await cli(['execute', id, 'index.rebuild', '--param', 'shards=4', '--param', 'reason=corrupt'], asOperator);
    expect(unconfirmed.code).toBe(1);
    expect(unconfirmed.stderr).toContain('CONFIRMATION_REQUIRED');
    expect(unconfirmed.stderr).toContain('re-run with --confirm');
    expect(rebuilds).toEqual([]);

    const badParams = await cli(['execute', id, 'index.rebuild', '--param', 'shards=four', '--param', 'reason=x', '--confirm'], asOperator);
    expect(badParams.code).toBe(1);
    expect(badParams.stderr).toContain('shards');

    const json = await cli(['execute', id, 'index.rebuild', '-p', 'shards=4', '-p', 'reason=corrupt', '--confirm', '--json'], asOperator);
    expect(json.code).toBe(0);
    expect(rebuilds).toEqual([{ shards: 4, reason: 'corrupt' }]);
    expect(JSON.parse(json.stdout)).toMatchObject({ action: 'index.rebuild', outcome: 'success', by: 'alice' });
  });

  it('ack and resolve: move the incident through its lifecycle as the token\'s caller', async () => {
    const id = openIncident();
    const ack = await cli(['ack', id], asOperator);
    expect(ack.code).toBe(0);
    expect(ack.stdout).toContain(`Incident ${id} acknowledged: acknowledged`);
    expect(monitor.incidents.get(id)).toMatchObject({ status: 'acknowledged', acknowledgedBy: 'alice' });

    const resolve = await cli(['resolve', id, '--notes', 'Reranker fell back; GPU node replaced'], asOperator);
    expect(resolve.code).toBe(0);
    expect(resolve.stdout).toContain(`Incident ${id} resolved: resolved`);
    expect(monitor.incidents.get(id)?.notes).toContain('Reranker fell back; GPU node replaced');

    const again = await cli(['ack', id], asOperator);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('409');
  });

  it('postmortem: prints the markdown; --json wraps it', async () => {
    const id = openIncident();
    monitor.incidents.resolve(id, { by: 'alice', notes: 'fixed' });
    const run = await cli(['postmortem', id], asOperator);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^# /m);
    expect(run.stdout).toContain('high-latency');
    const json = JSON.parse((await cli(['postmortem', id, '--json'], asOperator)).stdout);
    expect(json.id).toBe(id);
    expect(json.markdown).toBe(run.stdout.endsWith('\n') && !json.markdown.endsWith('\n') ? run.stdout.slice(0, -1) : run.stdout);
  });

  it('actions: the registered actions with risk, confirmation and estimates', async () => {
    const run = await cli(['actions'], asOperator);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/model\.fallback\s+/);
    expect(run.stdout).toMatch(/index\.rebuild\s+Rebuild index\s+risky\s+yes\s+no\s+30m 00s/);
    const json = JSON.parse((await cli(['actions', '--json'], asOperator)).stdout);
    const ids = (Array.isArray(json) ? json : json.actions).map((a: { id: string }) => a.id);
    expect(ids).toEqual(expect.arrayContaining(['model.fallback', 'model.restore', 'cache.clear', 'cache.disable', 'index.rebuild']));
  });

  it('emergency-ref: the runbook playbooks at a glance, without a server', async () => {
    const run = await cli(['emergency-ref']);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/high-latency\s+high\s+Disable reranking \(model fallback\) \[model\.fallback, auto\]\s+Clear cache \[cache\.clear, manual\]\s+1m 30s/);
    expect(run.stdout).toMatch(/cache-failure\s+medium\s+Disable cache \[cache\.disable, auto\]/);
    const rows = JSON.parse((await cli(['emergency-ref', '--json'])).stdout);
    const { RUNBOOK_PLAYBOOKS } = await import('../../src/actions/playbooks.js');
    expect(rows.map((r: { type: string }) => r.type)).toEqual(Object.keys(RUNBOOK_PLAYBOOKS));
    expect(rows.find((r: { type: string }) => r.type === 'canary-failure')).toMatchObject({ severity: 'high', estimatedSeconds: 60 });
  });
});

describe('firebreak CLI: silences', () => {
  it('silence add → list shows it and it holds the page → expire → no longer active', async () => {
    const add = await cli(['silence', 'add', '--match', 'type=high-latency', '--match', 'scope=~service|route:.*', '--duration', '2h', '--comment', 'deploy'], asOperator);
    expect(add.code, add.stderr).toBe(0);
    const [silence] = monitor.silences.list();
    expect(silence).toMatchObject({
      state: 'active',
      createdBy: 'alice', // the token's name, not a flag
      comment: 'deploy',
      startsAt: clock.now(),
      endsAt: clock.now() + 2 * 3_600_000,
      matchers: [
        { name: 'type', op: '=', value: 'high-latency' },
        { name: 'scope', op: '=~', value: 'service|route:.*' },
      ],
    });
    expect(add.stdout).toContain(`Silence ${silence!.id} added: active until 2026-01-01 02:00:00Z — type=high-latency, scope=~service|route:.*`);

    const incident = openIncident();
    expect(monitor.incidents.get(incident)?.suppressed).toMatchObject({ kind: 'silence', by: silence!.id });

    const list = await cli(['silence', 'list'], asOperator);
    expect(list.code).toBe(0);
    expect(list.stdout).toMatch(new RegExp(`${silence!.id}\\s+active\\s+type=high-latency, scope=~service\\|route:\\.\\*\\s+2026-01-01 00:00:\\d\\dZ\\s+2026-01-01 02:00:\\d\\dZ\\s+alice\\s+deploy`));
    const listed = JSON.parse((await cli(['silence', 'list', '--json'], asOperator)).stdout);
    expect(listed.silences.map((s: { id: string }) => s.id)).toEqual([silence!.id]);

    const expire = await cli(['silence', 'expire', silence!.id], asOperator);
    expect(expire.code, expire.stderr).toBe(0);
    expect(expire.stdout).toContain(`Silence ${silence!.id} expired: expired`);
    expect(monitor.silences.list({ state: 'active' })).toEqual([]);
    expect(monitor.incidents.get(incident)?.suppressed).toBeUndefined(); // it pages now

    const active = await cli(['silence', 'list', '--state', 'active'], asOperator);
    expect(active.code).toBe(0);
    expect(active.stdout).not.toContain(silence!.id);
    expect(active.stdout).toContain('No silences.');
    const all = JSON.parse((await cli(['silence', 'ls', '--json'], asOperator)).stdout);
    expect(all.silences).toEqual([expect.objectContaining({ id: silence!.id, state: 'expired', expiredBy: 'alice' })]);

    const again = await cli(['silence', 'expire', silence!.id, '--json'], asOperator);
    expect(again.code).toBe(1);
    expect(JSON.parse(again.stderr).error).toMatchObject({ code: 'NOT_FOUND', status: 404 });
  });

  it('silence add --until and --start take ISO times with a zone; --json prints the created silence', async () => {
    const run = await cli(['silence', 'add', '-m', 'severity!=critical', '--start', '2026-01-01T01:00:00Z', '--until', '2026-01-01T03:30:00+01:00', '--comment', 'load test', '--json'], asOperator);
    expect(run.code, run.stderr).toBe(0);
    const body = JSON.parse(run.stdout);
    expect(body).toMatchObject({
      state: 'pending',
      startsAt: Date.UTC(2026, 0, 1, 1),
      endsAt: Date.UTC(2026, 0, 1, 2, 30),
      matchers: [{ name: 'severity', op: '!=', value: 'critical' }],
    });
    expect(monitor.silences.list()[0]?.id).toBe(body.id);
  });

  it('refuses bad silence flags with exit 2 naming the flag, and sends nothing', async () => {
    const base = ['silence', 'add', '--match', 'type=high-latency', '--comment', 'deploy'];
    const cases: [string[], RegExp][] = [
      [[...base, '--duration', '2 hours'], /--duration expects a duration such as 90s, 30m, 2h/],
      [[...base, '--duration', '2'], /--duration expects a duration/],
      [[...base, '--duration', '0m'], /--duration must be longer than zero/],
      [[...base, '--duration', '400d'], /--duration must be at most 366 days/],
      [[...base], /exactly one of --duration .* or --until/],
      [[...base, '--duration', '1h', '--until', '2026-01-01T03:00:00Z'], /exactly one of --duration .* or --until/],
      [[...base, '--until', '2026-01-01 03:00'], /--until expects an ISO 8601 time with a zone/],
      [[...base, '--until', '2026-01-01T03:00:00'], /--until expects an ISO 8601 time with a zone/],
      [['silence', 'add', '--duration', '1h', '--comment', 'x'], /--match is required/],
      [['silence', 'add', '--match', 'kind=x', '--duration', '1h', '--comment', 'x'], /--match "kind=x": the name must be one of type, scope/],
      [['silence', 'add', '--match', 'high-latency', '--duration', '1h', '--comment', 'x'], /--match expects name=value/],
      [['silence', 'add', '--match', 'scope=~route:(', '--duration', '1h', '--comment', 'x'], /--match .* not a valid regular expression/],
      [['silence', 'add', '--match', 'type=x', '--duration', '1h'], /--comment is required/],
      [['silence', 'add', '--match', 'type=x', '--duration', '1h', '--comment', '  '], /--comment is required/],
      [['silence', 'list', '--state', 'open'], /--state must be one of pending, active, expired/],
      [['silence', 'expire'], /missing required argument 'id'/],
      [['silence', 'mute'], /unknown command 'mute'/],
    ];
    for (const [args, message] of cases) {
      const run = await cli(args, asOperator);
      expect(run.code, args.join(' ')).toBe(2);
      expect(run.stderr, args.join(' ')).toMatch(message);
    }
    const json = await cli([...base, '--duration', 'soon', '--json'], asOperator);
    expect(json.code).toBe(2);
    expect(JSON.parse(json.stderr).error).toMatchObject({ code: 'USAGE' });
    expect(monitor.silences.list()).toEqual([]);
  });

  it('exits 3 with a wrong token or a read token on add and expire; a read token may list', async () => {
    const wrong = await cli(['silence', 'add', '--match', 'type=x', '--duration', '1h', '--comment', 'x'], { FIREBREAK_URL: base, FIREBREAK_TOKEN: 'not-the-right-token-at-all' });
    expect(wrong.code).toBe(3);
    expect(wrong.stderr).toContain('the server rejected the token');
    const wrongList = await cli(['silence', 'list'], { FIREBREAK_URL: base, FIREBREAK_TOKEN: 'not-the-right-token-at-all' });
    expect(wrongList.code).toBe(3);

    const asReader = { FIREBREAK_URL: base, FIREBREAK_TOKEN: READER };
    const reader = await cli(['silence', 'add', '--match', 'type=x', '--duration', '1h', '--comment', 'x'], asReader);
    expect(reader.code).toBe(3);
    expect(reader.stderr).toContain('forbidden (403)');
    expect(monitor.silences.list()).toEqual([]);

    const s = monitor.silences.add({ matchers: [{ name: 'type', value: 'slo-burn' }], durationMs: 60_000, createdBy: 'ops', comment: 'x' });
    const expire = await cli(['silence', 'expire', s.id], asReader);
    expect(expire.code).toBe(3);
    expect(monitor.silences.list({ state: 'active' }).map((x) => x.id)).toEqual([s.id]);
    const list = await cli(['silence', 'list'], asReader);
    expect(list.code).toBe(0);
    expect(list.stdout).toContain(s.id);
  });
});

describe('firebreak CLI: maintenance windows', () => {
  it('maintenance add (daily) → list shows it → remove → list no longer shows it', async () => {
    const add = await cli(['maintenance', 'add', '--name', 'nightly reindex', '--daily', '--at', '02:00', '--duration', '30m', '--match', 'type=high-latency', '--comment', 'reindex'], asOperator);
    expect(add.code, add.stderr).toBe(0);
    const [w] = monitor.maintenance.list();
    expect(w).toMatchObject({
      name: 'nightly reindex',
      daily: { at: '02:00', durationMs: 30 * 60_000 },
      matchers: [{ name: 'type', op: '=', value: 'high-latency' }],
      createdBy: 'alice',
      comment: 'reindex',
      active: false,
      nextStartAt: Date.UTC(2026, 0, 1, 2),
    });
    expect(add.stdout).toContain(`Maintenance window ${w!.id} "nightly reindex" added: daily 02:00 UTC for 30m 00s (next 2026-01-01 02:00:00Z) — type=high-latency`);

    const list = await cli(['maintenance', 'list'], asOperator);
    expect(list.code).toBe(0);
    expect(list.stdout).toMatch(new RegExp(`${w!.id}\\s+nightly reindex\\s+daily 02:00 UTC for 30m 00s\\s+next 2026-01-01 02:00:00Z\\s+type=high-latency\\s+alice\\s+reindex`));
    expect(JSON.parse((await cli(['maintenance', 'list', '--json'], asOperator)).stdout).windows.map((x: { id: string }) => x.id)).toEqual([w!.id]);

    const remove = await cli(['maintenance', 'remove', w!.id], asOperator);
    expect(remove.code, remove.stderr).toBe(0);
    expect(remove.stdout).toContain(`Maintenance window ${w!.id} "nightly reindex" removed`);
    expect(monitor.maintenance.list()).toEqual([]);
    const after = await cli(['maintenance', 'ls'], asOperator);
    expect(after.stdout).not.toContain(w!.id);
    expect(after.stdout).toContain('No maintenance windows.');

    const again = await cli(['maintenance', 'rm', w!.id], asOperator);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('404');
  });

  it('maintenance add: weekly days and a one-off window (--end or --duration); an open window holds the page', async () => {
    const weekly = await cli(['maintenance', 'add', '--name', 'weekend deploys', '--weekly', 'Sun,sat', '--at', '22:00', '--duration', '4h', '--json'], asOperator);
    expect(weekly.code, weekly.stderr).toBe(0);
    expect(JSON.parse(weekly.stdout)).toMatchObject({ weekly: { days: ['sun', 'sat'], at: '22:00', durationMs: 4 * 3_600_000 }, matchers: [] });

    const once = await cli(['maintenance', 'add', '--name', 'db upgrade', '--start', '2026-01-01T00:00:00Z', '--end', '2026-01-01T02:00:00Z'], asOperator);
    expect(once.code, once.stderr).toBe(0);
    expect(once.stdout).toContain('once 2026-01-01 00:00:00Z → 2026-01-01 02:00:00Z (open until 2026-01-01 02:00:00Z) — (every incident)');
    const byDuration = await cli(['maintenance', 'add', '--name', 'cache swap', '--start', '2026-01-02T00:00:00Z', '--duration', '90m', '--json'], asOperator);
    expect(JSON.parse(byDuration.stdout).once).toEqual({ startsAt: Date.UTC(2026, 0, 2), endsAt: Date.UTC(2026, 0, 2, 1, 30) });

    const incident = openIncident();
    expect(monitor.incidents.get(incident)?.suppressed).toMatchObject({ kind: 'maintenance' });
  });

  it('refuses bad maintenance flags with exit 2 naming the flag, and sends nothing', async () => {
    const named = ['maintenance', 'add', '--name', 'w'];
    const cases: [string[], RegExp][] = [
      [['maintenance', 'add', '--daily', '--at', '02:00', '--duration', '30m'], /required option '--name <name>' not specified/],
      [[...named], /give exactly one schedule/],
      [[...named, '--daily', '--weekly', 'sat', '--at', '02:00', '--duration', '1h'], /give exactly one schedule/],
      [[...named, '--daily', '--duration', '30m'], /--daily needs --at HH:MM/],
      [[...named, '--daily', '--at', '2am', '--duration', '30m'], /--at expects a UTC time HH:MM/],
      [[...named, '--daily', '--at', '24:00', '--duration', '30m'], /--at expects a UTC time HH:MM/],
      [[...named, '--daily', '--at', '02:00'], /--daily needs --duration/],
      [[...named, '--daily', '--at', '02:00', '--duration', 'half an hour'], /--duration expects a duration/],
      [[...named, '--daily', '--at', '02:00', '--duration', '25h'], /--duration must be at most 24 h/],
      [[...named, '--weekly', 'sat,funday', '--at', '02:00', '--duration', '1h'], /--weekly: "funday" is not a day/],
      [[...named, '--weekly', 'sat', '--at', '02:00', '--duration', '8d'], /--duration must be at most 7 days/],
      [[...named, '--daily', '--at', '02:00', '--duration', '1h', '--end', '2026-01-01T03:00:00Z'], /--end is for a one-off window/],
      [[...named, '--start', '2026-01-01T02:00:00Z'], /needs exactly one of --end or --duration/],
      [[...named, '--start', '2026-01-01T02:00:00Z', '--end', '2026-01-01T01:00:00Z'], /--end must be after --start/],
      [[...named, '--start', 'tomorrow', '--duration', '1h'], /--start expects an ISO 8601 time/],
      [[...named, '--start', '2026-01-01T02:00:00Z', '--duration', '1h', '--at', '02:00'], /--at is for --daily or --weekly/],
      [[...named, '--daily', '--at', '02:00', '--duration', '1h', '--match', 'scope~x'], /--match expects name=value/],
      [['maintenance', 'add', '--name', ' ', '--daily', '--at', '02:00', '--duration', '1h'], /--name must not be empty/],
      [['maintenance', 'remove'], /missing required argument 'id'/],
    ];
    for (const [args, message] of cases) {
      const run = await cli(args, asOperator);
      expect(run.code, args.join(' ')).toBe(2);
      expect(run.stderr, args.join(' ')).toMatch(message);
    }
    expect(monitor.maintenance.list()).toEqual([]);
  });

  it('exits 3 with a wrong token, and with a read token on add and remove', async () => {
    const wrong = await cli(['maintenance', 'list'], { FIREBREAK_URL: base, FIREBREAK_TOKEN: 'not-the-right-token-at-all' });
    expect(wrong.code).toBe(3);
    expect(wrong.stderr).toContain('the server rejected the token');
    const asReader = { FIREBREAK_URL: base, FIREBREAK_TOKEN: READER };
    const add = await cli(['maintenance', 'add', '--name', 'w', '--daily', '--at', '02:00', '--duration', '1h'], asReader);
    expect(add.code).toBe(3);
    expect(monitor.maintenance.list()).toEqual([]);
    const w = monitor.maintenance.add({ name: 'w', daily: { at: '02:00', durationMs: 60_000 }, createdBy: 'ops' });
    const remove = await cli(['maintenance', 'remove', w.id, '--json'], asReader);
    expect(remove.code).toBe(3);
    expect(JSON.parse(remove.stderr).error).toMatchObject({ code: 'FORBIDDEN', status: 403 });
    expect(monitor.maintenance.list().map((x) => x.id)).toEqual([w.id]);
  });
});

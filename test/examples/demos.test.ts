/**
 * The runnable examples, run as a user runs them (against the built package):
 * the Express demo tells its two-incident story and exits 0 by itself within
 * 90 s; with --keep it stays up serving the dashboard; the Fastify app's
 * --once run exits 0.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../..', import.meta.url));

interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
  output: string;
  elapsedMs: number;
}

/** Starts an example; `onLine` may act on its output (e.g. stop it). */
function runExample(script: string, args: string[], onLine?: (output: string, stop: () => void) => void): Promise<Exit> {
  expect(existsSync(`${root}dist/index.js`), 'run `npm run build` first').toBe(true);
  const started = performance.now();
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [script, ...args], { cwd: root, env: { ...process.env, NO_COLOR: '1', PORT: '0' } });
    let output = '';
    const collect = (chunk: Buffer): void => {
      output += chunk.toString();
      onLine?.(output, () => child.kill('SIGINT'));
    };
    child.stdout.on('data', collect);
    child.stderr.on('data', collect);
    const killer = setTimeout(() => child.kill('SIGKILL'), 120_000);
    child.on('close', (code, signal) => {
      clearTimeout(killer);
      resolve({ code, signal, output, elapsedMs: performance.now() - started });
    });
  });
}

describe.concurrent('examples', () => {
  it('express-demo: latency spike and cache failure, each detected, remediated and resolved; post-mortems; exit 0 within 90 s', async () => {
    const run = await runExample('examples/express-demo/index.mjs', []);
    const out = run.output;
    expect(run.code, out).toBe(0);
    expect(run.elapsedMs).toBeLessThan(90_000);
    const story = [
      /── 1\/4 Baseline/,
      /── 2\/4 Fault: the cross-encoder slows/,
      /⚠ incident opened: high-latency \(high, P1\)/,
      /⚙ action model\.fallback \(auto, by firebreak\): success/,
      /✓ incident resolved: high-latency/,
      /↺ action model\.fallback reverted \(firebreak\): success/,
      /── 3\/4 Fault: the cache storage fails/,
      /⚠ incident opened: cache-failure \(medium, P2\)/,
      /⚙ action cache\.disable \(auto, by firebreak\): success/,
      /✋ incident acknowledged by demo-operator/,
      /⚙ action cache\.enable \(manual, by demo-operator\): success/,
      /✓ incident resolved: cache-failure/,
      /── 4\/4 Post-mortems/,
      /# Post-mortem: p95 latency/,
      /# Post-mortem: cache hit rate/,
      /\$ firebreak status/,
      /No open incidents\./,
      /✓ demo complete: 2 incidents detected, remediated and resolved/,
    ];
    let from = 0;
    for (const step of story) {
      const m = step.exec(out.slice(from));
      expect(m, `${step} after position ${from}:\n${out}`).not.toBeNull();
      from += m!.index + m![0].length;
    }
    // The narration ends with the last event: nothing (a late "reverted … noop") after "demo complete".
    expect(out.trimEnd().split('\n').at(-1)).toMatch(/✓ demo complete: /);
    // Post-mortem relative times: an event after the start is never "T-0s".
    expect(out).not.toMatch(/T-0s/);
    expect(out).toMatch(/^\[\s*\d+\.\ds\] /m); // timestamps on the narration
    expect(out).not.toContain('\u001b['); // not a TTY: no colours
  }, 120_000);

  it('express-demo trust scenario: a normal deploy does not page; a silence in a maintenance window holds the page until both end', async () => {
    const run = await runExample('examples/express-demo/trust.mjs', []);
    const out = run.output;
    expect(run.code, out).toBe(0);
    const story = [
      /── 1\/3 Deploy/,
      /pages so far: 0/,
      /── 2\/3 Maintenance window/,
      /🔕 suppressed \((silence|maintenance)\): high-latency/,
      /open but suppressed by (silence|maintenance) · pages: 0/,
      /── 3\/3 The window and the silence end/,
      /📟 PAGE: high-latency/,
      /✓ trust demo complete/,
    ];
    let from = 0;
    for (const step of story) {
      const m = step.exec(out.slice(from));
      expect(m, `${step} after position ${from}:\n${out}`).not.toBeNull();
      from += m!.index + m![0].length;
    }
    expect(out.slice(0, out.indexOf('── 2/3'))).not.toContain('📟');
    expect(out.trimEnd().split('\n').at(-1)).toMatch(/✓ trust demo complete/);
  }, 60_000);

  it('express-demo --keep: keeps serving the dashboard and the admin API, stops on SIGINT with exit 0', async () => {
    let checked: Promise<void> | undefined;
    const run = await runExample('examples/express-demo/index.mjs', ['--keep'], (out, stop) => {
      const m = /dashboard:\s+(\S+)\s+\(token: (\w+)\)/.exec(out);
      if (m === null || checked !== undefined) return;
      const [, url, token] = m;
      checked = (async () => {
        const page = await fetch(url!);
        expect(page.status).toBe(200);
        expect(await page.text()).toContain('<title>firebreak · dashboard</title>');
        const slo = await fetch(url!.replace(/\/dashboard$/, '/stats/slo'), { headers: { authorization: `Bearer ${token}` } });
        expect(slo.status).toBe(200);
        // The runbook preset's five SLOs (the demo overrides some by name).
        expect(((await slo.json()) as { slos: unknown[] }).slos).toHaveLength(5);
      })().finally(stop);
    });
    expect(checked, run.output).toBeDefined();
    await checked;
    expect(run.code, run.output).toBe(0);
    expect(run.output).toContain('traffic keeps flowing; press Ctrl-C to stop');
  }, 120_000);

  it('fastify-app --once: same wiring on Fastify, exits 0 by itself', async () => {
    const run = await runExample('examples/fastify-app/index.mjs', ['--once']);
    expect(run.code, run.output).toBe(0);
    expect(run.output).toMatch(/fastify-app listening on http:\/\/127\.0\.0\.1:\d+/);
    expect(run.output).toMatch(/SLO latency-p95: ok/);
    expect(run.output).toContain('recorded GET /search by URL pattern: 100 requests');
    expect(run.output).toContain('reranker now hybrid');
    expect(run.output).toContain('reranker now cross-encoder');
    expect(run.output).toContain('fastify-app: done');
  }, 60_000);
});

import { spawnSync } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import { createMonitor } from '../../src/index.js';
import { ManualClock } from '../../src/testing/index.js';
import { call, serve, type Served } from '../adapters/harness.js';
import { requirePromtool } from '../helpers/promtool.js';

// promtool is looked up on PATH; without it the tests skip locally and fail under CI.
describe('GET /metrics and promtool', () => {
  let served: Served | undefined;
  afterEach(async () => {
    await served?.close();
    served = undefined;
  });

  it.for(['express', 'fastify', 'node-http'] as const)('passes promtool check metrics (%s)', async (framework, ctx) => {
    const promtool = requirePromtool(ctx);
    const clock = new ManualClock();
    const monitor = createMonitor({
      service: 'search-api',
      clock,
      slos: [
        { name: 'latency-p95', kind: 'latency', quantile: 0.95, thresholdMs: 800 },
        { name: 'availability', kind: 'success-rate', objective: 0.995 },
        { name: 'cache', kind: 'cache-hit-rate', cache: 'search', objective: 0.5 },
      ],
    });
    served = await serve(framework, monitor);
    // Real traffic through the recording middleware/hook, plus awkward label values.
    for (const path of ['/hello', '/users/1', '/boom', '/nope']) await call(served.url, path);
    monitor.recordRequest({ route: 'GET /q"uote\\back\nslash', durationMs: 12, status: 200 });
    monitor.recordCache('search', true);
    monitor.recordCache('search', 'error');
    const r = await call(served.url, '/metrics');
    expect(r.status).toBe(200);
    const check = spawnSync(promtool, ['check', 'metrics'], { input: r.text, encoding: 'utf8' });
    expect(check.stderr + check.stdout).toBe('');
    expect(check.status).toBe(0);
    // node:http has no route templates to record by; the other two recorded the traffic above.
    if (framework !== 'node-http') expect(r.text).toMatch(/firebreak_request_duration_seconds_bucket\{le="\+Inf",route="\/hello",method="GET"\} 1/);
  });
});

/**
 * A real node:cluster: a primary and 2 worker processes sharing one HTTP port,
 * real requests through it, and the primary's merged /metrics read over HTTP.
 * The processes load dist/: run `npm run build` first.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { get } from 'node:http';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { parseExposition, one } from '../helpers/exposition.js';

const script = fileURLToPath(new URL('./cluster-service.mjs', import.meta.url));

/** One request on a fresh connection, so the primary's round robin spreads them over the workers. */
function request(port: number, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = get({ host: '127.0.0.1', port, path, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
  });
}

let primary: ChildProcess | undefined;
afterEach(() => {
  if (primary !== undefined && primary.exitCode === null) {
    primary.send({ type: 'stop' });
    // Killing the primary's group is not ours to do; the primary kills its workers on stop.
  }
  primary = undefined;
});

describe('node:cluster: workers of one host aggregate for /metrics', () => {
  it('serves the sum of the workers’ counters, and gauges that are not summed, from the primary', async () => {
    primary = fork(script, [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    const ports = await new Promise<{ servicePort: number; metricsPort: number }>((resolve, reject) => {
      primary!.on('message', (m: { type?: string; servicePort?: number; metricsPort?: number }) => {
        if (m.type === 'listening') resolve({ servicePort: m.servicePort!, metricsPort: m.metricsPort! });
      });
      primary!.on('exit', (code) => reject(new Error(`primary exited with ${code}`)));
    });

    const served = new Set<string>();
    for (let i = 0; i < 20; i++) {
      const r = await request(ports.servicePort, i % 4 === 3 ? '/fail' : '/ok');
      served.add(r.body);
    }
    expect([...served].sort()).toEqual(['0', '1']); // both workers took traffic

    const r = await request(ports.metricsPort, '/metrics');
    expect(r.status).toBe(200);
    const s = parseExposition(r.body);
    expect(one(s, 'firebreak_requests_total', { route: '/ok', method: 'GET', outcome: 'success' })).toBe(15);
    expect(one(s, 'firebreak_requests_total', { route: '/fail', method: 'GET', outcome: 'failure' })).toBe(5);
    expect(one(s, 'firebreak_request_duration_seconds_count', { route: '/ok', method: 'GET' })).toBe(15);
    // Pulled on worker 1 only: the merged state says off (a sum would say 1, as if on).
    expect(one(s, 'firebreak_feature_enabled', { feature: 'rerank' })).toBe(0);
    // A ratio and a status stay in range: the worst worker's, never a sum.
    const ratio = one(s, 'firebreak_slo_good_ratio', { slo: 'availability' });
    expect(ratio).toBeGreaterThanOrEqual(0);
    expect(ratio).toBeLessThanOrEqual(15 / 20); // some worker saw at least the average share of failures
    expect(one(s, 'firebreak_slo_status', { slo: 'availability' })).toBe(2); // ≤ 75 % against 90 %: breach
  }, 30_000);
});

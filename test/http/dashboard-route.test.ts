import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createHandler, type NodeHandlerOptions } from '../../src/adapters/node-http.js';
import { ConfigError } from '../../src/errors.js';
import { createMonitor, type Monitor } from '../../src/monitor.js';
import { ManualClock } from '../../src/testing/manual-clock.js';

const TOKEN = 'reader-token-0123456789abcdef';
let server: Server | undefined;
let monitor: Monitor | undefined;

async function serve(extra: Partial<NodeHandlerOptions> = {}): Promise<string> {
  monitor = createMonitor({ service: 'route-test', clock: new ManualClock() });
  monitor.feature('rerank', { risky: true });
  monitor.cache('search', { max: 10 });
  const handler = createHandler(monitor, { auth: { tokens: [{ name: 'reader', token: TOKEN, role: 'read' }] }, ...extra });
  server = createServer((req, res) => handler(req, res));
  await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

afterEach(async () => {
  server?.closeAllConnections();
  await new Promise((r) => server?.close(r));
  monitor?.stop();
});

describe('GET /dashboard', () => {
  it('serves the page without credentials (it holds no data), with its CSP and no-store', async () => {
    const base = await serve();
    const res = await fetch(`${base}/dashboard`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(res.headers.get('content-security-policy')).toMatch(/^default-src 'none'; script-src 'sha256-[A-Za-z0-9+/=]+'; style-src 'sha256-/);
    expect(res.headers.get('x-frame-options')).toBe('DENY');
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(res.headers.get('set-cookie')).toBeNull();
    expect(await res.text()).toContain('data-poll-ms="5000"');
  });

  it('takes its options from the mount, and can be turned off', async () => {
    const base = await serve({ dashboard: { pollMs: 2000, title: 'search-api ops' } });
    const html = await (await fetch(`${base}/dashboard`)).text();
    expect(html).toContain('data-poll-ms="2000"');
    expect(html).toContain('<h1>search-api ops</h1>');
  });

  it('answers 404 with dashboard: false', async () => {
    const base = await serve({ dashboard: false });
    const res = await fetch(`${base}/dashboard`);
    expect(res.status).toBe(404);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('ROUTE_NOT_FOUND');
  });

  it('rejects bad dashboard options at mount time, naming the field', async () => {
    await expect(serve({ dashboard: { pollMs: 5 } })).rejects.toThrow(/dashboard\.pollMs/);
    await expect(serve({ dashboard: { pollMs: 5 } })).rejects.toThrow(ConfigError);
  });
});

describe('GET /stats/controls', () => {
  it('needs the read role and lists every control with its state', async () => {
    const base = await serve();
    expect((await fetch(`${base}/stats/controls`)).status).toBe(401);
    const res = await fetch(`${base}/stats/controls`, { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { features: Record<string, { enabled: boolean; risky: boolean }>; caches: Record<string, { disabled: boolean }> };
    expect(body.features['rerank']).toMatchObject({ enabled: true, risky: true });
    expect(body.caches['search']).toMatchObject({ disabled: false });
  });
});

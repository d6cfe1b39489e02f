import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createMonitor, ConfigError } from '../../src/index.js';
import { ManualClock } from '../../src/testing/index.js';
import { createHandler } from '../../src/adapters/node-http.js';
import { AUTH, READER_TOKEN, call } from './harness.js';
import { bodiesSuite } from './suites/bodies.js';
import { controlsSuite } from './suites/controls.js';
import { incidentsSuite } from './suites/incidents.js';
import { routesSuite } from './suites/routes.js';

routesSuite('node-http');
incidentsSuite('node-http');
controlsSuite('node-http');
bodiesSuite('node-http');

describe('node:http handler', () => {
  let server: Server | undefined;
  afterEach(async () => {
    server?.closeAllConnections();
    await new Promise((r) => (server ? server.close(r) : r(undefined)));
    server = undefined;
  });

  async function listen(handler: Parameters<typeof createServer>[1]): Promise<string> {
    server = createServer(handler);
    await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r));
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }

  const monitor = () => createMonitor({ service: 'api', clock: new ManualClock() });

  it('answers a JSON 404 for paths it does not own when there is no next()', async () => {
    const url = await listen(createHandler(monitor(), { auth: AUTH }));
    const r = await call(url, '/elsewhere?x=1');
    expect(r.status).toBe(404);
    expect(r.json.error).toMatchObject({ code: 'ROUTE_NOT_FOUND', details: { method: 'GET', path: '/elsewhere' } });
  });

  it('answers HEAD for GET routes without a body', async () => {
    const url = await listen(createHandler(monitor(), { auth: AUTH }));
    const res = await fetch(`${url}/health`, { method: 'HEAD' });
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('');
  });

  it('answers 400 for a malformed percent-encoding in a path parameter', async () => {
    const url = await listen(createHandler(monitor(), { auth: AUTH }));
    const status = await new Promise<number>((resolve) => {
      const req = request(`${url}/admin/audit`, { path: '/admin/incidents/%E0%A4%A', headers: { authorization: `Bearer ${READER_TOKEN}` } }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.end();
    });
    expect(status).toBe(400);
  });

  it('validates the prefix', () => {
    expect(() => createHandler(monitor(), { auth: AUTH, prefix: 'ops' })).toThrow(ConfigError);
    expect(() => createHandler(monitor(), { auth: AUTH, prefix: '/ops?x' })).toThrow(/prefix/);
    expect(() => createHandler(monitor(), { auth: AUTH, prefix: '/ops?x' })).toThrow(ConfigError);
  });

  it('serves the prefix root and strips a trailing slash from the prefix', async () => {
    const url = await listen(createHandler(monitor(), { auth: AUTH, prefix: '/ops/' }));
    expect((await call(url, '/ops/health')).status).toBe(200);
    expect((await call(url, '/opsx/health')).status).toBe(404);
  });
});

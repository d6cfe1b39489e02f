import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createHandler } from '../../src/adapters/node-http.js';
import { adminAuditLog } from '../../src/http/audit.js';
import { createMonitor } from '../../src/index.js';
import { ManualClock } from '../../src/testing/index.js';
import { AUTH, call } from './harness.js';
import { httpEdgesSuite } from './suites/http-edges.js';

httpEdgesSuite('node-http', 'node:http');
httpEdgesSuite('fastify', 'Fastify');
httpEdgesSuite('express', 'Express 5');
httpEdgesSuite('express', 'Express 5 behind express.json()', { hostJsonParser: true });

describe('node:http client address', () => {
  let server: Server | undefined;
  afterEach(async () => {
    server?.closeAllConnections();
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
    server = undefined;
  });

  async function auditedIp(trustProxy: number | undefined, xff: string | undefined): Promise<string | undefined> {
    const monitor = createMonitor({ service: 'api', clock: new ManualClock() });
    const handler = createHandler(monitor, trustProxy === undefined ? { auth: AUTH } : { auth: AUTH, trustProxy });
    server = createServer((req, res) => handler(req, res));
    await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', () => resolve()));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const r = await call(url, '/admin/audit', { token: 'wrong-token-0123456789', headers: xff === undefined ? {} : { 'x-forwarded-for': xff } });
    expect(r.status).toBe(401);
    const entries = adminAuditLog(monitor).list();
    const ip = entries[entries.length - 1]!.ip;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server!.close(() => resolve()));
    server = undefined;
    return ip;
  }

  it('ignores X-Forwarded-For by default: any client can send it', async () => {
    expect(await auditedIp(undefined, '203.0.113.9')).toBe('127.0.0.1');
  });

  it('believes as many X-Forwarded-For hops as trustProxy says, and no further', async () => {
    expect(await auditedIp(1, '198.51.100.1, 203.0.113.9')).toBe('203.0.113.9');
    expect(await auditedIp(2, '198.51.100.1, 203.0.113.9')).toBe('198.51.100.1');
    expect(await auditedIp(5, '198.51.100.1, 203.0.113.9')).toBe('198.51.100.1');
    expect(await auditedIp(1, undefined)).toBe('127.0.0.1');
  });

  it('refuses an invalid trustProxy, naming it', () => {
    const monitor = createMonitor({ service: 'api', clock: new ManualClock() });
    expect(() => createHandler(monitor, { auth: AUTH, trustProxy: -1 })).toThrow(/trustProxy/);
  });
});

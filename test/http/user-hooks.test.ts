import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { firebreakRouter } from '../../src/adapters/express.js';
import { createHandler } from '../../src/adapters/node-http.js';
import { adminAuditLog } from '../../src/http/audit.js';
import type { AdminAuditEntry, HttpOptions } from '../../src/http/options.js';
import { setup } from '../actions/helpers.js';
import { watchUnhandledRejections } from '../helpers/unhandled.js';

const TOKEN = 'op-token-0123456789abcdef';
const auth: HttpOptions['auth'] = { tokens: [{ name: 'alice', token: TOKEN, role: 'operator' }] };

let watch: ReturnType<typeof watchUnhandledRejections>;
let server: Server | undefined;
beforeEach(() => {
  watch = watchUnhandledRejections();
});
afterEach(async () => {
  watch.stop();
  if (server !== undefined) {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server!.close(() => resolve()));
    server = undefined;
  }
});

async function listen(s: Server): Promise<string> {
  server = s;
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', () => resolve()));
  return `http://127.0.0.1:${(s.address() as AddressInfo).port}`;
}

const FAILING_ON_AUDIT: [string, (e: AdminAuditEntry) => unknown][] = [
  ['rejects (log shipper down)', async () => { throw new Error('log shipper down'); }],
  ['throws synchronously', () => { throw new Error('log shipper bug'); }],
  ['returns a thenable whose then throws', () => ({ then(): never { throw new Error('then'); } })],
];

describe('an onAudit hook that fails never takes the process down', () => {
  it.each(FAILING_ON_AUDIT)('Express: an onAudit that %s is counted, and the admin routes keep answering', async (_what, hook) => {
    const { clock, monitor } = setup();
    const seen: string[] = [];
    const app = express();
    app.use(firebreakRouter(monitor, { auth, onAudit: (e) => { seen.push(`${e.status}`); return hook(e) as never; } }));
    const url = await listen(createServer(app));

    // An unauthenticated request is audited too: the hook runs on the first stranger's call.
    const anon = await fetch(`${url}/admin/actions`);
    expect(anon.status).toBe(401);
    clock.advance(1_000);
    await watch.settle();
    expect(watch.seen).toEqual([]);
    expect(adminAuditLog(monitor).listenerErrors).toBe(1);

    const ok = await fetch(`${url}/admin/actions`, { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(ok.status).toBe(200);
    await watch.settle();
    expect(seen).toEqual(['401', '200']);
    expect(adminAuditLog(monitor).listenerErrors).toBe(2);
    expect(watch.seen).toEqual([]);
  });

  it('node:http: a rejecting onAudit is counted and the next request is answered', async () => {
    const { monitor } = setup();
    const handler = createHandler(monitor, { auth, onAudit: () => Promise.reject(new Error('down')) });
    const url = await listen(createServer((req, res) => handler(req, res)));
    expect((await fetch(`${url}/admin/actions`)).status).toBe(401);
    await watch.settle();
    expect((await fetch(`${url}/admin/actions`, { headers: { authorization: `Bearer ${TOKEN}` } })).status).toBe(200);
    await watch.settle();
    expect(adminAuditLog(monitor).listenerErrors).toBe(2);
    expect(watch.seen).toEqual([]);
  });

  it('a working onAudit is not counted as an error', async () => {
    const { monitor } = setup();
    const handler = createHandler(monitor, { auth, onAudit: async () => {} });
    const url = await listen(createServer((req, res) => handler(req, res)));
    expect((await fetch(`${url}/admin/actions`, { headers: { authorization: `Bearer ${TOKEN}` } })).status).toBe(200);
    await watch.settle();
    expect(adminAuditLog(monitor).listenerErrors).toBe(0);
  });
});

describe('a logger whose warn() fails', () => {
  it("does not stop auth: 'none' routes from mounting, nor leave a rejection behind", async () => {
    const { monitor } = setup();
    const logger = { warn: () => Promise.reject(new Error('logger down')) };
    expect(() => createHandler(monitor, { auth: 'none', logger })).not.toThrow();
    const throwing = setup().monitor;
    expect(() => createHandler(throwing, { auth: 'none', logger: { warn: () => { throw new Error('logger bug'); } } })).not.toThrow();
    await watch.settle();
    expect(watch.seen).toEqual([]);
  });
});

describe('an authorize() that fails', () => {
  it.each([
    ['rejects (identity provider down)', () => Promise.reject(new Error('idp down'))],
    ['returns a thenable whose then throws', () => ({ then(): never { throw new Error('then'); } })],
    ['throws', () => { throw new Error('idp bug'); }],
  ])('that %s fails closed with a 500, and the next request is answered', async (_what, authorize) => {
    const { monitor } = setup();
    const handler = createHandler(monitor, { auth: { tokens: [TOKEN], authorize: authorize as never } });
    const url = await listen(createServer((req, res) => handler(req, res)));
    const refused = await fetch(`${url}/admin/actions`, { headers: { authorization: 'Bearer wrong-token-0123456789' } });
    expect(refused.status).toBe(500);
    await watch.settle();
    expect((await fetch(`${url}/admin/actions`, { headers: { authorization: `Bearer ${TOKEN}` } })).status).toBe(200);
    expect(watch.seen).toEqual([]);
  });
});

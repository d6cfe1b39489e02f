/**
 * The dashboard's browser script is a real file (src/http/dashboard/browser.js,
 * type-checked against the DOM by tsconfig.dashboard.json) inlined into the
 * page at build time: the page the built package serves carries exactly that
 * file's text, allowed by its hash in the CSP.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pathToFileURL } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { DASHBOARD_JS } from '../../src/http/dashboard/script.js';

const root = new URL('../../', import.meta.url);
const file = readFileSync(new URL('src/http/dashboard/browser.js', root), 'utf8');
let server: Server | undefined;
afterEach(() => new Promise<void>((r) => (server ? server.close(() => r()) : r())));

describe('dashboard browser script', () => {
  it('is the text of browser.js, in sources', () => {
    expect(DASHBOARD_JS).toBe(file);
    expect(DASHBOARD_JS).toContain("'use strict'");
  });

  it('is inlined by the build: the built package serves browser.js verbatim with its CSP hash', async () => {
    const { createMonitor } = (await import(pathToFileURL(new URL('dist/index.js', root).pathname).href)) as typeof import('../../src/index.js');
    const { createHandler } = (await import(pathToFileURL(new URL('dist/http.js', root).pathname).href)) as typeof import('../../src/adapters/http.js');
    const monitor = createMonitor({ service: 'dash' });
    const handler = createHandler(monitor, { auth: 'none' });
    server = createServer((req, res) => handler(req, res));
    await new Promise<void>((r) => server!.listen(0, '127.0.0.1', () => r()));
    const res = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/dashboard`);
    expect(res.status).toBe(200);
    const html = await res.text();
    const script = /<script>([\s\S]*)<\/script>/.exec(html)?.[1];
    expect(script).toBe(file);
    const hash = `'sha256-${createHash('sha256').update(file, 'utf8').digest('base64')}'`;
    expect(res.headers.get('content-security-policy')).toContain(`script-src ${hash}`);
    await monitor.close();
  });
});

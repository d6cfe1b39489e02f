import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect, it, vi } from 'vitest';
import { createMonitor } from '../../src/index.js';
import { ManualClock } from '../../src/testing/index.js';
import { firebreakMiddleware } from '../../src/adapters/express.js';
import { nextRecords } from './harness.js';
import { attack, count } from './suites/route-templates.js';
import express4 from 'express4';
import { expressSuite } from './suites/express.js';
import { bodiesSuite } from './suites/bodies.js';
import { controlsSuite } from './suites/controls.js';
import { incidentsSuite } from './suites/incidents.js';
import { routesSuite } from './suites/routes.js';
import { routeTemplatesSuite } from './suites/route-templates.js';

// Everything in this file — the adapter included — sees Express 4 as 'express',
// as in a service that depends on Express 4.
vi.mock('express', async () => await import('express4'));

it('runs against Express 4', async () => {
  const express = (await import('express')).default;
  expect(express).toBe(express4);
  const { version } = (await import('express4/package.json', { with: { type: 'json' } })).default;
  expect(version).toMatch(/^4\./);
});

routesSuite('express', 'Express 4');
routeTemplatesSuite('express', 'Express 4');
incidentsSuite('express', 'Express 4');
controlsSuite('express', 'Express 4');
bodiesSuite('express', 'Express 4');
bodiesSuite('express', 'Express 4 behind express.json()', { hostJsonParser: true });
expressSuite('Express 4');

it('records an Express 4 mount written with pattern characters as its regexp text, one series', async () => {
  // '/ab+cd/:id' matches /abcd, /abbbbcd…: the written path cannot be
  // recovered from Express 4's layer, and the matched text is the attacker's.
  const express = (await import('express')).default;
  const monitor = createMonitor({ service: 'api', clock: new ManualClock() });
  const app = express();
  app.use(firebreakMiddleware(monitor));
  const router = express.Router();
  router.get('/leaf', (_q, s) => void s.send('leaf'));
  app.use('/ab+cd/:id', router);
  const server = createServer(app);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  try {
    const recorded = nextRecords(monitor, 40);
    const stop = attack(`http://127.0.0.1:${(server.address() as AddressInfo).port}`, 40, (i) => ({ path: `/a${'b'.repeat(i + 1)}cd/${i}/leaf` }));
    const records = await recorded;
    stop();
    const mount = (app as unknown as { _router: { stack: { regexp: RegExp; name: string }[] } })._router.stack.find((l) => l.name === 'router')!;
    expect(count(records.map((r) => `${r.status} ${r.route}`))).toEqual({ [`200 GET ${String(mount.regexp)}/leaf`]: 40 });
  } finally {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  }
});

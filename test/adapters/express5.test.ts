import express from 'express';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect, it } from 'vitest';
import { createMonitor } from '../../src/index.js';
import { ManualClock } from '../../src/testing/index.js';
import { firebreakMiddleware } from '../../src/adapters/express.js';
import { nextRecords } from './harness.js';
import { attack, count } from './suites/route-templates.js';
import { expressSuite } from './suites/express.js';
import { bodiesSuite } from './suites/bodies.js';
import { controlsSuite } from './suites/controls.js';
import { incidentsSuite } from './suites/incidents.js';
import { routesSuite } from './suites/routes.js';
import { routeTemplatesSuite } from './suites/route-templates.js';

it('runs against Express 5', async () => {
  const { version } = (await import('express/package.json', { with: { type: 'json' } })).default;
  expect(version).toMatch(/^5\./);
  expect(typeof express.Router).toBe('function');
});

routesSuite('express', 'Express 5');
routeTemplatesSuite('express', 'Express 5');
incidentsSuite('express', 'Express 5');
controlsSuite('express', 'Express 5');
bodiesSuite('express', 'Express 5');
bodiesSuite('express', 'Express 5 behind express.json()', { hostJsonParser: true });
expressSuite('Express 5');

it('records a mount of a router older than 2.3 (no layer.rawPath) as one <unknown mount> series', async () => {
  // router 2.0–2.2 overwrite layer.path with the matched URL: nothing safe to read.
  const monitor = createMonitor({ service: 'api', clock: new ManualClock() });
  const app = express();
  app.use(firebreakMiddleware(monitor));
  const router = express.Router();
  router.get('/leaf', (_q, s) => void s.send('leaf'));
  app.use('/users/:id', router);
  const layers = (app as unknown as { router: { stack: { rawPath?: unknown; name: string }[] } }).router.stack;
  const mount = layers.find((l) => l.name === 'router')!;
  expect(mount.rawPath).toBe('/users/:id');
  delete mount.rawPath;
  const server = createServer(app);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  try {
    const recorded = nextRecords(monitor, 40);
    const stop = attack(`http://127.0.0.1:${(server.address() as AddressInfo).port}`, 40, (i) => ({ path: `/users/${i}/leaf` }));
    const records = await recorded;
    stop();
    expect(count(records.map((r) => `${r.status} ${r.route}`))).toEqual({ '200 GET <unknown mount>/leaf': 40 });
  } finally {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  }
});

import express from 'express';
import { expect, it } from 'vitest';
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

import { expect, it, vi } from 'vitest';
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

import express from 'express';
import { expect, it } from 'vitest';
import { expressSuite } from './suites/express.js';
import { routesSuite } from './suites/routes.js';

it('runs against Express 5', async () => {
  const { version } = (await import('express/package.json', { with: { type: 'json' } })).default;
  expect(version).toMatch(/^5\./);
  expect(typeof express.Router).toBe('function');
});

routesSuite('express', 'Express 5');
expressSuite('Express 5');

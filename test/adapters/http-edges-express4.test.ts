import { expect, it, vi } from 'vitest';
import express4 from 'express4';
import { httpEdgesSuite } from './suites/http-edges.js';

// The adapter and the app both see Express 4 as 'express', as in a service on Express 4.
vi.mock('express', async () => await import('express4'));

it('runs against Express 4', async () => {
  expect((await import('express')).default).toBe(express4);
});

httpEdgesSuite('express', 'Express 4');
httpEdgesSuite('express', 'Express 4 behind express.json()', { hostJsonParser: true });

import type { AddressInfo } from 'node:net';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import firebreakPlugin from '../../src/adapters/fastify.js';
import { createMonitor } from '../../src/index.js';
import { ManualClock } from '../../src/testing/index.js';
import { AUTH, OPERATOR_TOKEN, call } from './harness.js';

/**
 * Errors Fastify raises before a firebreak handler runs reach the plugin's
 * error handler. An outer onRequest hook stands in for Fastify's own checks
 * (content-type parsing, body limits), failing with the status it is told.
 */
describe('Fastify: errors raised before our handler are mapped to the { error } shape', () => {
  let app: FastifyInstance | undefined;
  afterEach(async () => {
    await app?.close();
    app = undefined;
  });

  async function start(): Promise<string> {
    app = Fastify();
    app.addHook('onRequest', async (req) => {
      const fail = req.headers['x-fail-with'];
      if (typeof fail !== 'string') return;
      const err = Object.assign(new Error(`fastify says ${fail}`), fail === 'none' ? {} : { statusCode: Number(fail), code: `FST_TEST_${fail}` });
      throw err;
    });
    await app.register(firebreakPlugin, { monitor: createMonitor({ service: 'api', clock: new ManualClock() }), auth: AUTH });
    await app.listen({ port: 0, host: '127.0.0.1' });
    return `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
  }

  it.each([
    ['415', 415, 'UNSUPPORTED_MEDIA_TYPE'],
    ['413', 413, 'PAYLOAD_TOO_LARGE'],
    ['400', 400, 'VALIDATION_FAILED'],
    ['404', 400, 'VALIDATION_FAILED'],
  ])('a Fastify %s becomes %i %s', async (fail, status, code) => {
    const url = await start();
    const r = await call(url, '/admin/incidents', { token: OPERATOR_TOKEN, headers: { 'x-fail-with': fail } });
    expect(r.status).toBe(status);
    expect(r.headers.get('content-type')).toBe('application/json; charset=utf-8');
    expect(r.headers.get('cache-control')).toBe('no-store');
    expect(r.json.error).toMatchObject({ code });
    expect(String(r.json.error.message)).toContain(`fastify says ${fail}`);
  });

  it('a 5xx or an error without a status is a 500 that does not leak its message', async () => {
    const url = await start();
    for (const fail of ['500', 'none']) {
      const r = await call(url, '/admin/incidents', { token: OPERATOR_TOKEN, headers: { 'x-fail-with': fail } });
      expect(r.status).toBe(500);
      expect(r.headers.get('content-type')).toBe('application/json; charset=utf-8');
      expect(r.json.error.code).toBe('INTERNAL_ERROR');
      expect(JSON.stringify(r.json)).not.toContain('fastify says');
    }
  });
});

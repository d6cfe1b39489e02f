/**
 * `curl -X POST … -d '{"max_requests":10}'` without `-H 'Content-Type:
 * application/json'` sends `application/x-www-form-urlencoded`. A request
 * authenticated by a bearer header cannot come from a cross-site form, so
 * such a body is accepted when it is a JSON object; everywhere a browser
 * could forge the request (auth: 'none', a cookie-based authorize()) the
 * 415 stays, since it is what forces the CORS preflight.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import express from 'express';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { FirebreakError } from '../../src/errors.js';
import { firebreakRouter } from '../../src/adapters/express.js';
import firebreakPlugin from '../../src/adapters/fastify.js';
import { createHandler } from '../../src/adapters/node-http.js';
import { isFormMediaType, readJsonBody, type BodySource } from '../../src/http/body.js';
import type { HttpOptions } from '../../src/http/options.js';
import { HttpSurface } from '../../src/http/surface.js';
import { createMonitor, type Monitor } from '../../src/index.js';
import { ManualClock } from '../../src/testing/index.js';

const FORM = { 'content-type': 'application/x-www-form-urlencoded' };
const RUNBOOK_BODY = '{"max_requests": 10, "window_seconds": 3600}';
const TOKEN = 'op-token-0123456789abcdef';
const stream = (...chunks: string[]): BodySource => ({ kind: 'stream', stream: Readable.from(chunks) });

async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (err) {
    if (err instanceof FirebreakError) return err.code;
    throw err;
  }
  throw new Error('expected a rejection');
}

describe('readJsonBody with formEncodedJson', () => {
  const lenient = { formEncodedJson: true };

  it('recognises the form media type, parameters and case included', () => {
    expect(isFormMediaType('application/x-www-form-urlencoded')).toBe(true);
    expect(isFormMediaType('Application/X-WWW-Form-Urlencoded; charset=utf-8')).toBe(true);
    expect(isFormMediaType('multipart/form-data')).toBe(false);
    expect(isFormMediaType(undefined)).toBe(false);
  });

  it('reads a JSON object sent with the form content type', async () => {
    const body = await readJsonBody(stream(RUNBOOK_BODY), { ...FORM, 'content-length': String(RUNBOOK_BODY.length) }, 16_384, undefined, lenient);
    expect(body).toEqual({ max_requests: 10, window_seconds: 3600 });
  });

  it('still refuses a form-labelled body that is not a JSON object (415)', async () => {
    for (const text of ['max_requests=10&window_seconds=3600', '[1,2]', '10', '"x"', 'null']) {
      expect(await codeOf(readJsonBody(stream(text), FORM, 16_384, undefined, lenient)), text).toBe('UNSUPPORTED_MEDIA_TYPE');
    }
  });

  it('keeps the other rules: size limit, prototype keys, broken JSON', async () => {
    expect(await codeOf(readJsonBody(stream(`{"a":"${'x'.repeat(100)}"}`), FORM, 50, undefined, lenient))).toBe('PAYLOAD_TOO_LARGE');
    expect(await codeOf(readJsonBody(stream('{"__proto__":{"admin":true}}'), FORM, 16_384, undefined, lenient))).toBe('VALIDATION_FAILED');
    expect(await codeOf(readJsonBody(stream('{"max_requests": 10'), FORM, 16_384, undefined, lenient))).toBe('INVALID_JSON');
  });

  it('does not widen to other types (text/plain, multipart) even when lenient', async () => {
    for (const type of ['text/plain', 'multipart/form-data; boundary=x']) {
      expect(await codeOf(readJsonBody(stream(RUNBOOK_BODY), { 'content-type': type }, 16_384, undefined, lenient))).toBe('UNSUPPORTED_MEDIA_TYPE');
    }
  });

  it('refuses the form content type by default (415)', async () => {
    expect(await codeOf(readJsonBody(stream(RUNBOOK_BODY), FORM, 16_384))).toBe('UNSUPPORTED_MEDIA_TYPE');
  });

  it('recovers the JSON text a host express.urlencoded() split into a form object', async () => {
    const parsed = (value: unknown): BodySource => ({ kind: 'parsed', value });
    expect(await readJsonBody(parsed({ [RUNBOOK_BODY]: '' }), FORM, 16_384, undefined, lenient)).toEqual({ max_requests: 10, window_seconds: 3600 });
    // A `=` in the JSON text: the parser split key and value on it.
    expect(await readJsonBody(parsed({ '{"reason":"a': 'b"}' }), FORM, 16_384, undefined, lenient)).toEqual({ reason: 'a=b' });
    expect(await readJsonBody(parsed({}), FORM, 16_384, undefined, lenient)).toBeUndefined();
    expect(await codeOf(readJsonBody(parsed({ max_requests: '10', window_seconds: '3600' }), FORM, 16_384, undefined, lenient))).toBe(
      'UNSUPPORTED_MEDIA_TYPE',
    );
    expect(await codeOf(readJsonBody(parsed({ [RUNBOOK_BODY]: '' }), FORM, 16_384))).toBe('UNSUPPORTED_MEDIA_TYPE');
    expect(await codeOf(readJsonBody(parsed({ [RUNBOOK_BODY]: '' }), FORM, 10, undefined, lenient))).toBe('PAYLOAD_TOO_LARGE');
  });
});

function monitorWithLimiter(): { monitor: Monitor; current(): { maxRequests: number; windowSeconds: number } } {
  const monitor = createMonitor({ service: 'api', clock: new ManualClock() });
  const limiter = monitor.rateLimiter('api', { maxRequests: 100, windowSeconds: 60 });
  return { monitor, current: () => limiter.current() };
}

describe('the surface decides by how the caller authenticated', () => {
  async function post(auth: HttpOptions['auth'], headers: Record<string, string>) {
    const { monitor, current } = monitorWithLimiter();
    const surface = new HttpSurface(monitor, { auth });
    const m = surface.match('POST', '/admin/rate-limit/adjust')!;
    const reply = await surface.handle(m.route, {
      method: 'POST',
      path: '/admin/rate-limit/adjust',
      params: m.params,
      search: '',
      headers: { ...FORM, 'content-length': String(RUNBOOK_BODY.length), ...headers },
      body: stream(RUNBOOK_BODY),
      ip: '10.0.0.1',
      raw: {},
    });
    return { status: reply.status, code: (JSON.parse(reply.body) as { error?: { code: string } }).error?.code, limit: current() };
  }

  it('a bearer token: the runbook line adjusts the limiter to 10 per 3600 s', async () => {
    const r = await post({ tokens: [TOKEN] }, { authorization: `Bearer ${TOKEN}` });
    expect(r.status).toBe(200);
    expect(r.limit).toEqual({ maxRequests: 10, windowSeconds: 3600 });
  });

  it("auth: 'none' (anyone, a cross-site form included): 415 and nothing changes", async () => {
    const r = await post('none', {});
    expect(r).toMatchObject({ status: 415, code: 'UNSUPPORTED_MEDIA_TYPE', limit: { maxRequests: 100, windowSeconds: 60 } });
  });

  it('authorize() (may rely on a cookie a browser sends along): 415 and nothing changes', async () => {
    const r = await post({ authorize: (req) => (req.headers.cookie === 'session=ok' ? { name: 'sso', role: 'operator' } : null) }, { cookie: 'session=ok' });
    expect(r).toMatchObject({ status: 415, code: 'UNSUPPORTED_MEDIA_TYPE', limit: { maxRequests: 100, windowSeconds: 60 } });
  });

  it('authorize() granting on a bearer-looking header it checks itself is still not a token: 415', async () => {
    const r = await post(
      { tokens: [TOKEN], authorize: (req) => (req.headers.authorization === 'Bearer sso-session-abcdef' ? { name: 'sso', role: 'operator' } : null) },
      { authorization: 'Bearer sso-session-abcdef' },
    );
    expect(r.status).toBe(415);
  });
});

describe('curl -d against real servers (bearer header, curl default content type)', () => {
  let close: (() => Promise<void>) | undefined;
  afterEach(async () => {
    await close?.();
    close = undefined;
  });

  const listen = async (server: Server): Promise<string> => {
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    close = () => {
      server.closeAllConnections();
      return new Promise((r) => server.close(() => r()));
    };
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  };

  const curl = (url: string, token?: string) =>
    fetch(`${url}/admin/rate-limit/adjust`, {
      method: 'POST',
      // What curl -d sends when no -H 'Content-Type' is given.
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...(token === undefined ? {} : { authorization: `Bearer ${token}` }) },
      body: RUNBOOK_BODY,
    });

  const cases: [string, (monitor: Monitor, auth: HttpOptions['auth']) => Promise<string>][] = [
    [
      'Express',
      (monitor, auth) => {
        const app = express();
        app.use(firebreakRouter(monitor, { auth }));
        return listen(createServer(app));
      },
    ],
    [
      'Express behind the host express.urlencoded() and express.json()',
      (monitor, auth) => {
        const app = express();
        app.use(express.json());
        app.use(express.urlencoded({ extended: true }));
        app.use(firebreakRouter(monitor, { auth }));
        return listen(createServer(app));
      },
    ],
    [
      'Fastify',
      async (monitor, auth) => {
        const app: FastifyInstance = Fastify();
        await app.register(firebreakPlugin, { monitor, auth });
        await app.listen({ port: 0, host: '127.0.0.1' });
        close = () => app.close();
        return `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
      },
    ],
    ['node:http', (monitor, auth) => listen(createServer(createHandler(monitor, { auth })))],
  ];

  for (const [name, start] of cases) {
    it(`${name}: accepted with a bearer token, refused (415) under auth: 'none'`, async () => {
      const a = monitorWithLimiter();
      const url = await start(a.monitor, { tokens: [TOKEN] });
      const res = await curl(url, TOKEN);
      expect(res.status, await res.clone().text()).toBe(200);
      expect(a.current()).toEqual({ maxRequests: 10, windowSeconds: 3600 });
      await close?.();

      const b = monitorWithLimiter();
      const open = await start(b.monitor, 'none');
      const refused = await curl(open);
      expect(refused.status).toBe(415);
      expect(((await refused.json()) as { error: { code: string } }).error.code).toBe('UNSUPPORTED_MEDIA_TYPE');
      expect(b.current()).toEqual({ maxRequests: 100, windowSeconds: 60 });
    });
  }
});

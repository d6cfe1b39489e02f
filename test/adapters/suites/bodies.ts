import { request } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { createMonitor, type Monitor } from '../../../src/index.js';
import { ManualClock } from '../../../src/testing/index.js';
import { OPERATOR_TOKEN, call, serve, type Framework, type Served, type ServeOptions } from '../harness.js';

const manual = { type: 'model-drift', severity: 'medium', summary: 'Drift' };

/** Sends a body in chunks without Content-Length (Transfer-Encoding: chunked). */
function chunked(url: string, path: string, chunks: string[], headers: Record<string, string>): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url + path, { method: 'POST', headers }, (res) => {
      let body = '';
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    // The server may answer 413 and close before every chunk is out.
    req.on('error', (err) => (String(err).includes('EPIPE') || String(err).includes('ECONNRESET') ? undefined : reject(err)));
    for (const c of chunks) req.write(c);
    req.end();
  });
}

/** Body handling through one adapter: size limit, media type, JSON, prototype pollution. */
export function bodiesSuite(framework: Framework, label: string = framework, opts: ServeOptions = {}): void {
  describe(`request bodies through ${label}`, () => {
    let served: Served | undefined;
    afterEach(async () => {
      await served?.close();
      served = undefined;
    });

    async function start(): Promise<{ monitor: Monitor; url: string }> {
      const monitor = createMonitor({ service: 'api', clock: new ManualClock() });
      served = await serve(framework, monitor, opts);
      return { monitor, url: served.url };
    }

    it('accepts a JSON body up to 16 KiB and an empty body where fields are optional', async () => {
      const { url, monitor } = await start();
      const summary = 'x'.repeat(900);
      const r = await call(url, '/admin/incidents', { token: OPERATOR_TOKEN, body: { ...manual, summary } });
      expect(r.status).toBe(201);
      // curl -X POST without -d: no body at all.
      const inc = monitor.incidents.list()[0]!;
      const ack = await call(url, `/admin/incidents/${inc.id}/acknowledge`, { method: 'POST', token: OPERATOR_TOKEN });
      expect(ack.status).toBe(200);
    });

    it('answers 413 for a body over 16 KiB, announced or chunked', async () => {
      const { url } = await start();
      const big = JSON.stringify({ ...manual, summary: 'x'.repeat(17_000) });
      const announced = await call(url, '/admin/incidents', { token: OPERATOR_TOKEN, raw: big, headers: { 'content-type': 'application/json' } });
      expect(announced.status).toBe(413);
      expect(announced.json.error).toMatchObject({ code: 'PAYLOAD_TOO_LARGE', details: { limitBytes: 16_384 } });
      if (opts.hostJsonParser) return; // the host's parser reads chunked bodies its own way
      const streamed = await chunked(url, '/admin/incidents', Array.from({ length: 40 }, () => ' '.repeat(1024)), {
        authorization: `Bearer ${OPERATOR_TOKEN}`,
        'content-type': 'application/json',
      });
      expect(streamed.status).toBe(413);
      expect(JSON.parse(streamed.body).error.code).toBe('PAYLOAD_TOO_LARGE');
    });

    it('authenticates before reading a body: 401 for an anonymous oversized body', async () => {
      const { url } = await start();
      const r = await call(url, '/admin/incidents', { raw: 'x'.repeat(20_000), headers: { 'content-type': 'application/json' } });
      expect(r.status).toBe(opts.hostJsonParser ? 400 : 401);
    });

    it('answers 415 for bodies that are not labelled JSON', async () => {
      const { url } = await start();
      const text = JSON.stringify(manual);
      for (const contentType of ['text/plain', 'multipart/form-data; boundary=x']) {
        const r = await call(url, '/admin/incidents', { token: OPERATOR_TOKEN, raw: text, headers: { 'content-type': contentType } });
        expect(r.status, contentType).toBe(415);
        expect(r.json.error.code).toBe('UNSUPPORTED_MEDIA_TYPE');
      }
      // A bearer caller may label a JSON object as a form (curl -d's default,
      // test/http/curl-body.test.ts), but a real form body stays a 415.
      const form = await call(url, '/admin/incidents', {
        token: OPERATOR_TOKEN,
        raw: 'type=high-latency&severity=high',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
      });
      expect(form.status).toBe(415);
      expect(form.json.error.code).toBe('UNSUPPORTED_MEDIA_TYPE');
    });

    it('answers 400 INVALID_JSON for malformed JSON', async () => {
      const { url } = await start();
      const r = await call(url, '/admin/incidents', { token: OPERATOR_TOKEN, raw: '{"type": ', headers: { 'content-type': 'application/json' } });
      expect(r.status).toBe(400);
      // Behind express.json() the host's parser refuses it first, in the host's own format.
      if (!opts.hostJsonParser) expect(r.json.error.code).toBe('INVALID_JSON');
    });

    it('refuses __proto__ and constructor keys, and nothing is polluted', async () => {
      const { url, monitor } = await start();
      const attempts = [
        `{"type":"x","severity":"low","summary":"s","__proto__":{"polluted":"yes"}}`,
        `{"type":"x","severity":"low","summary":"s","constructor":{"prototype":{"polluted":"yes"}}}`,
        `{"__proto__":{"isAdmin":true},"type":"x","severity":"low","summary":"s"}`,
      ];
      for (const raw of attempts) {
        const r = await call(url, '/admin/incidents', { token: OPERATOR_TOKEN, raw, headers: { 'content-type': 'application/json' } });
        expect(r.status, raw).toBe(400);
        expect(r.json.error.code).toBe('VALIDATION_FAILED');
      }
      const inc = monitor.incidents.open({ type: 'x', severity: 'low', summary: 's' });
      const nested = await call(url, `/admin/incidents/${inc.id}/resolve`, {
        token: OPERATOR_TOKEN,
        raw: '{"notes":"n","__proto__":{"status":"open"}}',
        headers: { 'content-type': 'application/json' },
      });
      expect(nested.status).toBe(400);
      expect(monitor.incidents.require(inc.id).status).toBe('open');
      expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
      expect(({} as Record<string, unknown>)['isAdmin']).toBeUndefined();
      expect(Object.prototype).not.toHaveProperty('polluted');
    });

    it('refuses unknown body fields, naming them', async () => {
      const { url } = await start();
      const r = await call(url, '/admin/incidents', { token: OPERATOR_TOKEN, body: { ...manual, priority: 'P0' } });
      expect(r.status).toBe(400);
      expect(r.json.error.message).toMatch(/priority/);
    });
  });
}

import { createServer, type Server } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHandler } from '../../src/adapters/node-http.js';
import { builtinRoutes } from '../../src/http/routes/index.js';
import { createMonitor, type Monitor } from '../../src/index.js';
import { ManualClock } from '../../src/testing/index.js';
import { fixedProbes } from '../helpers/probes.js';
import { watchUnhandledRejections } from '../helpers/unhandled.js';
import { fuzzParams, nastyString } from './arbitraries.js';

/**
 * A real node:http server with the firebreak handler, fed random raw requests
 * over a socket (so nothing in a client library cleans them up first): random
 * methods, paths, headers, content types and bodies — huge, deeply nested,
 * invalid UTF-8, prototype-pollution keys. Contract (docs/security.md): every
 * request is answered, and client input never gets a 5xx; nothing leaks into
 * Object.prototype; the process sees no uncaught exception or unhandled
 * rejection; the audit log stays within its cap.
 */

const OPERATOR = 'op-token-0123456789abcdef';
const READER = 'ro-token-0123456789abcdef';
const AUDIT_LIMIT = 50;
const BODY_LIMIT = 16_384;

const uncaught: unknown[] = [];
const onUncaught = (err: unknown): void => void uncaught.push(err);
const unhandled = watchUnhandledRejections();
let server: Server;
let port: number;
let monitor: Monitor;

beforeAll(async () => {
  process.on('uncaughtException', onUncaught);
  const clock = new ManualClock();
  monitor = createMonitor({ service: 'fuzz', clock, probes: fixedProbes() });
  monitor.feature('rerank', { risky: true });
  monitor.cache<string, string>('search', { max: 10 });
  monitor.rateLimiter('api', { maxRequests: 5, windowSeconds: 60 });
  monitor.fallback('ranker', { primary: () => 'p', fallback: () => 'f' });
  monitor.canary('new-index', { percent: 5 });
  monitor.incidents.open({ type: 'high-latency', severity: 'high', summary: 'fuzz' });
  const handler = createHandler(monitor, {
    auth: {
      tokens: [
        { name: 'alice', token: OPERATOR, role: 'operator' },
        { name: 'grafana', token: READER, role: 'read' },
      ],
    },
    // Budgets would turn most requests into 429s before their bodies are read; they are fuzzed separately below.
    adminRateLimit: false,
    auditLimit: AUDIT_LIMIT,
    bodyLimitBytes: BODY_LIMIT,
  });
  server = createServer((req, res) => handler(req, res));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  port = (server.address() as AddressInfo).port;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
  monitor.stop();
  process.off('uncaughtException', onUncaught);
  unhandled.stop();
});

interface RawRequest {
  method: string;
  target: string;
  headers: [string, string | Buffer][];
  body: Buffer;
  framing: 'length' | 'chunked' | 'none';
}

/** Sends bytes as they are and reads the reply's status (0: the connection closed without one). */
function send(req: RawRequest, to = port): Promise<{ status: number; head: string; code: string; body: string }> {
  const lines: Buffer[] = [Buffer.from(`${req.method} ${req.target} HTTP/1.1\r\nhost: 127.0.0.1\r\nconnection: close\r\n`, 'latin1')];
  for (const [k, v] of req.headers) lines.push(Buffer.concat([Buffer.from(`${k}: `, 'latin1'), typeof v === 'string' ? Buffer.from(v, 'latin1') : v, Buffer.from('\r\n')]));
  if (req.framing === 'length') lines.push(Buffer.from(`content-length: ${req.body.length}\r\n`));
  if (req.framing === 'chunked') lines.push(Buffer.from('transfer-encoding: chunked\r\n'));
  lines.push(Buffer.from('\r\n'));
  if (req.framing === 'length') lines.push(req.body);
  if (req.framing === 'chunked') {
    for (let i = 0; i < req.body.length; i += 4096) {
      const chunk = req.body.subarray(i, i + 4096);
      lines.push(Buffer.from(`${chunk.length.toString(16)}\r\n`), chunk, Buffer.from('\r\n'));
    }
    lines.push(Buffer.from('0\r\n\r\n'));
  }
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    const socket = connect(to, '127.0.0.1');
    socket.on('data', (d) => chunks.push(d));
    // The server may close early (413, 400 from the parser): EPIPE/ECONNRESET on our side is expected.
    socket.on('error', () => {});
    socket.on('close', () => {
      // Skip interim replies (100 Continue for `expect: 100-continue`): the final status is what counts.
      const text = Buffer.concat(chunks).toString('latin1').replace(/^(HTTP\/1\.1 1\d\d[^\r]*\r\n(?:[^\r]+\r\n)*\r\n)+/, '');
      const m = /^HTTP\/1\.1 (\d{3})/.exec(text);
      const code = /"code":"([A-Z_]+)"/.exec(text);
      resolve({ status: m ? Number(m[1]) : 0, head: text.slice(0, 300), code: code?.[1] ?? (m ? 'node' : ''), body: text.slice(text.indexOf('\r\n\r\n') + 4) });
    });
    socket.end(Buffer.concat(lines));
  });
}

/** A path segment: printable, percent-encoded, or deliberately malformed encoding. */
const segment = fc.oneof(
  {
    weight: 10,
    arbitrary: fc.constantFrom('rerank', 'search', 'api', 'ranker', 'new-index', '__proto__', 'constructor', '..', '.', '%00', '%E0%A4%A', '%', '%2F', '%C0%AF', 'inc_1'),
  },
  // Lone surrogates go out as their UTF-8 replacement bytes (encodeURIComponent would throw on them).
  { weight: 10, arbitrary: nastyString().map((s) => [...Buffer.from(s.slice(0, 300))].map((b) => `%${b.toString(16).padStart(2, '0')}`).join('')) },
  { weight: 10, arbitrary: fc.string({ unit: 'binary-ascii', maxLength: 12 }).map((s) => s.replace(/[\s/?#\x00-\x1f\x7f]/g, '_')) },
  // Rarely, raw control bytes: Node's parser answers those 400 before firebreak sees them.
  { weight: 1, arbitrary: fc.string({ unit: 'binary-ascii', maxLength: 4 }).map((s) => s.replace(/[\s/?#]/g, '_')) },
);

/** A route of the table with its own method (mostly) and random parameters, or a random path. */
const methodAndTarget = fc
  .oneof(
    {
      weight: 6,
      arbitrary: fc.tuple(fc.constantFrom(...builtinRoutes), fc.array(segment, { minLength: 3, maxLength: 3 }), fc.integer({ min: 0, max: 9 })).map(([r, segs, pick]) => {
        let i = 0;
        const path = r.path.replace(/:[A-Za-z]+/g, () => segs[i++] ?? 'x');
        const method = pick < 7 ? r.method : pick === 7 && r.method === 'GET' ? 'HEAD' : r.method === 'GET' ? 'POST' : 'GET';
        return { method, path };
      }),
    },
    { weight: 2, arbitrary: fc.tuple(fc.constantFrom('GET', 'POST', 'HEAD'), fc.array(segment, { maxLength: 6 })).map(([method, segs]) => ({ method, path: `/${segs.join('/')}` })) },
    {
      weight: 1,
      arbitrary: fc.tuple(
        fc.constantFrom('PUT', 'DELETE', 'OPTIONS', 'PATCH', 'TRACE', 'CONNECTX', 'get', 'M-SEARCH', 'POST', 'GET'),
        fc.constantFrom('*', '//admin//cache//clear', '/admin/cache/clear/', '/ADMIN/cache/clear', `/${'a/'.repeat(2000)}`, '/health?'.padEnd(8000, 'x'), '/admin/cache/clear'),
      ).map(([method, path]) => ({ method, path })),
    },
  )
  .chain(({ method, path }) =>
    fc.oneof(
      { weight: 3, arbitrary: fc.constant({ method, target: path }) },
      { weight: 1, arbitrary: fc.array(fc.tuple(segment, segment), { maxLength: 5 }).map((q) => ({ method, target: `${path}?${q.map(([k, v]) => `${k}=${v}`).join('&')}` })) },
    ),
  );

const contentType = fc.oneof(
  fc.constantFrom(
    'application/json',
    'application/json; charset=utf-8',
    'APPLICATION/JSON',
    'application/merge-patch+json',
    'application/json; charset=latin1',
    'text/plain',
    'application/x-www-form-urlencoded',
    'multipart/form-data; boundary=x',
    'application/jsonx',
    'json',
    '',
    ';;;',
  ),
  fc.string({ unit: 'binary-ascii', maxLength: 40 }).map((s) => s.replace(/[\x00-\x1f\x7f]/g, ' ')),
);

function nested(depth: number, open: string, close: string, leaf = '1'): string {
  return open.repeat(depth) + leaf + close.repeat(depth);
}

const body: fc.Arbitrary<Buffer> = fc.oneof(
  { weight: 4, arbitrary: fc.jsonValue({ maxDepth: 4 }).map((v) => Buffer.from(JSON.stringify(v) ?? 'null')) },
  {
    weight: 3,
    arbitrary: fc
      .record(
        {
          name: fc.oneof(fc.constantFrom('rerank', 'search', 'api', 'ranker', 'new-index'), nastyString()),
          key: nastyString(),
          ttlMs: fc.oneof(fc.integer(), fc.double()),
          ttl_ms: fc.integer(),
          factor: fc.double(),
          max_requests: fc.oneof(fc.integer(), fc.string()),
          window_seconds: fc.integer(),
          reason: nastyString(),
          notes: nastyString(),
          root_cause: nastyString(),
          confirm: fc.boolean(),
          params: fc.jsonValue({ maxDepth: 3 }),
          type: fc.constantFrom('high-latency', 'cache-failure', 'nope'),
          severity: fc.constantFrom('critical', 'high', 'low', 'nope'),
          title: nastyString(),
        },
        { requiredKeys: [] },
      )
      .map((o) => Buffer.from(JSON.stringify(o))),
  },
  {
    weight: 2,
    arbitrary: fc.constantFrom(
      '{"__proto__":{"polluted":1}}',
      '{"a":{"__proto__":{"polluted":1}}}',
      '{"constructor":{"prototype":{"polluted":1}}}',
      '{"name":"rerank","__proto__":{"polluted":1}}',
      '{"prototype":1}',
      '{"name":"rerank"',
      '\ufeff{"name":"rerank"}',
      '',
      'null',
      '[]',
      '"string"',
      '1e999999',
      '{"name":"\\ud800"}',
      '{"a":1,"a":2}',
    ).map((s) => Buffer.from(s)),
  },
  { weight: 1, arbitrary: fc.integer({ min: 20, max: 20_000 }).chain((d) => fc.constantFrom(nested(d, '[', ']'), nested(d, '{"a":', '}'), `{"name":${nested(d, '[', ']')}}`)).map((s) => Buffer.from(s)) },
  { weight: 1, arbitrary: fc.integer({ min: BODY_LIMIT - 10, max: 200_000 }).map((n) => Buffer.from(`{"reason":"${'x'.repeat(n)}"}`)) },
  { weight: 1, arbitrary: fc.uint8Array({ maxLength: 200 }).map((a) => Buffer.concat([Buffer.from('{"name":"'), Buffer.from(a), Buffer.from([0xff, 0xfe, 0xc0, 0x80, 0xed, 0xa0, 0x80]), Buffer.from('"}')])) },
);

const headerName = fc.oneof(
  fc.constantFrom('x-forwarded-for', 'accept', 'accept-encoding', 'cookie', 'origin', 'expect', 'content-encoding', 'x-http-method-override', 'authorization'),
  fc.stringMatching(/^[a-z][a-z0-9-]{0,20}$/),
);
const headerValue: fc.Arbitrary<string | Buffer> = fc.oneof(
  fc.string({ unit: 'binary-ascii', maxLength: 60 }).map((s) => s.replace(/[\x00-\x08\x0a-\x1f\x7f]/g, ' ')),
  // obs-text (bytes ≥ 0x80) is legal in a header value; control bytes would only reach Node's parser.
  fc.uint8Array({ minLength: 1, maxLength: 40 }).map((a) => Buffer.from(a.map((b) => ((b < 32 && b !== 9) || b === 127 ? 32 : b)))),
  fc.constantFrom('::ffff:1.2.3.4, 2001:db8::1%eth0, unknown', 'gzip', '100-continue', `${'a,'.repeat(500)}`),
);

const authorization = fc.oneof(
  { weight: 6, arbitrary: fc.constant(`Bearer ${OPERATOR}`) },
  { weight: 1, arbitrary: fc.constant(`Bearer ${READER}`) },
  { weight: 1, arbitrary: fc.constantFrom(`bearer ${OPERATOR}`, `Bearer  ${OPERATOR}`, 'Bearer', 'Basic Zm9vOmJhcg==', `Bearer ${OPERATOR}x`, `Bearer ${'x'.repeat(10_000)}`) },
  { weight: 1, arbitrary: headerValue },
);

const request: fc.Arbitrary<RawRequest> = fc
  .record({
    mt: methodAndTarget,
    auth: fc.option(authorization, { nil: undefined, freq: 8 }),
    contentType: fc.option(contentType, { nil: undefined, freq: 6 }),
    extra: fc.array(fc.tuple(headerName, headerValue), { maxLength: 4 }),
    body,
    framing: fc.constantFrom('length', 'length', 'chunked', 'none'),
  })
  .map((r) => {
    const headers: [string, string | Buffer][] = [];
    if (r.auth !== undefined) headers.push(['authorization', r.auth]);
    if (r.contentType !== undefined) headers.push(['content-type', r.contentType]);
    headers.push(...r.extra);
    return { method: r.mt.method, target: r.mt.target, headers, body: r.body, framing: r.framing as RawRequest['framing'] };
  });

describe('fuzz: HTTP surface over node:http', () => {
  it('answers every random request, never with a 5xx, and leaks nothing into Object.prototype', async () => {
    const statuses = new Map<string, number>();
    await fc.assert(
      fc.asyncProperty(request, async (req) => {
        const { status, head, code } = await send(req);
        statuses.set(`${status} ${code}`, (statuses.get(`${status} ${code}`) ?? 0) + 1);
        if (status === 0 || status >= 500) {
          throw new Error(`${req.method} ${req.target.slice(0, 200)} → ${status === 0 ? 'no reply' : status}\n${head}`);
        }
        expect((Object.prototype as Record<string, unknown>)['polluted']).toBeUndefined();
      }),
      fuzzParams(400),
    );
    if (process.env.FUZZ_VERBOSE) console.log(Object.fromEntries(statuses));
    // The surface still serves, and its audit log kept its cap.
    expect((await send({ method: 'GET', target: '/health', headers: [], body: Buffer.alloc(0), framing: 'none' })).status).toBe(200);
    const audit = await send({ method: 'GET', target: `/admin/audit?limit=1000`, headers: [['authorization', `Bearer ${OPERATOR}`]], body: Buffer.alloc(0), framing: 'none' });
    expect(audit.status).toBe(200);
    const listed = JSON.parse(audit.body) as { entries: unknown[]; dropped: number; capacity: number };
    expect(listed.capacity).toBe(AUDIT_LIMIT);
    expect(listed.entries.length).toBeLessThanOrEqual(AUDIT_LIMIT);
    expect(listed.dropped).toBeGreaterThan(0);
    // Both success and failure paths were reached, not only the parser's 400s.
    expect([...statuses.keys()].some((s) => s.startsWith('2'))).toBe(true);
    expect([...statuses.keys()].some((s) => s.startsWith('4'))).toBe(true);
    await unhandled.settle();
    expect(unhandled.seen).toEqual([]);
    expect(uncaught).toEqual([]);
  });

  it('with the auth budgets on and X-Forwarded-For trusted, random addresses and credentials get 2xx/4xx only, and operators are never locked out', async () => {
    const limited = createHandler(monitor, {
      auth: { tokens: [{ name: 'alice', token: OPERATOR, role: 'operator' }] },
      // The per-caller limit is not under test here (the clock never moves): high enough never to bind.
      adminRateLimit: { maxRequests: 1_000_000, windowMs: 60_000, maxCallers: 20, maxAuthFailures: 3, maxAuthFailuresGlobal: 10 },
      trustProxy: 2,
    });
    const second = createServer((req, res) => limited(req, res));
    await new Promise<void>((r) => second.listen(0, '127.0.0.1', r));
    const secondPort = (second.address() as AddressInfo).port;
    const address = fc.oneof(
      fc.ipV4(),
      fc.ipV6(),
      fc.ipV4().map((a) => `::ffff:${a}`),
      fc.ipV6().map((a) => `${a}%eth0`),
      fc.constantFrom('unknown', '', ' , ,', '::', '[::1]:80', '1.2.3.4:5678', '999.1.1.1', 'ffff::ffff::1', '__proto__', 'constructor'),
      fc.string({ unit: 'binary-ascii', maxLength: 30 }).map((x) => x.replace(/[\x00-\x1f\x7f]/g, ' ')),
    );
    let fresh = 0;
    try {
      await fc.assert(
        fc.asyncProperty(fc.array(address, { maxLength: 4 }), fc.option(authorization, { nil: undefined }), async (hops, auth) => {
          const headers: [string, string | Buffer][] = [];
          if (hops.length > 0) headers.push(['x-forwarded-for', hops.join(', ')]);
          if (auth !== undefined) headers.push(['authorization', auth]);
          const { status, head } = await send({ method: 'GET', target: '/admin/incidents', headers, body: Buffer.alloc(0), framing: 'none' }, secondPort);
          if (status === 0 || status >= 500) throw new Error(`x-forwarded-for ${hops.join(', ')} → ${status}\n${head}`);
          // docs/security.md: however the budgets are spent, a valid credential from an address that
          // has not failed is never refused. trustProxy 2: the client is the second entry from the right.
          fresh++;
          const operator = await send(
            {
              method: 'GET',
              target: '/admin/incidents',
              headers: [
                ['x-forwarded-for', `240.0.${fresh >> 8}.${fresh & 255}, 10.0.0.1`],
                ['authorization', `Bearer ${OPERATOR}`],
              ],
              body: Buffer.alloc(0),
              framing: 'none',
            },
            secondPort,
          );
          if (operator.status !== 200) throw new Error(`operator from a fresh address → ${operator.status} ${operator.code}`);
        }),
        fuzzParams(300),
      );
    } finally {
      second.closeAllConnections();
      await new Promise((r) => second.close(r));
    }
  });
});

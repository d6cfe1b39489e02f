import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it, vi } from 'vitest';
import express from 'express';
import { createMonitor, ConfigError, type Monitor } from '../../../src/index.js';
import { ManualClock } from '../../../src/testing/index.js';
import { firebreakMiddleware, firebreakRouter } from '../../../src/adapters/express.js';
import { AUTH, OPERATOR_TOKEN, READER_TOKEN, abandonedGet, call, nextRecords, serve, type Served } from '../harness.js';

/** Express-specific behaviour; run by the Express 5 and the Express 4 test files. */
export function expressSuite(label: string): void {
  describe(`${label} recording middleware`, () => {
    const framework = 'express';
    let served: Served | undefined;
    afterEach(async () => {
      await served?.close();
      served = undefined;
    });

    async function start(): Promise<{ monitor: Monitor; clock: ManualClock; url: string }> {
      const clock = new ManualClock();
      const monitor = createMonitor({ service: 'api', clock });
      served = await serve(framework, monitor);
      return { monitor, clock, url: served.url };
    }

    it('records by route template, mount path included', async () => {
      const { monitor, url } = await start();
      const recorded = nextRecords(monitor, 2);
      await call(url, '/users/42');
      await call(url, '/users/43');
      expect((await recorded).map((r) => [r.route, r.status])).toEqual([
        ['GET /users/:id', 200],
        ['GET /users/:id', 200],
      ]);
      expect(monitor.stats().routes['GET /users/:id']?.requests).toBe(2);
    });

    it('measures from arrival to the end of the response on the monitor clock', async () => {
      const { monitor, clock, url } = await start();
      const recorded = nextRecords(monitor);
      const response = call(url, '/slow');
      await served!.slowArrived();
      clock.advance(250);
      served!.release();
      await response;
      expect((await recorded)[0]).toEqual({ route: 'GET /slow', durationMs: 250, status: 200 });
    });

    it('puts every unmatched request in one not-found series', async () => {
      const { monitor, url } = await start();
      const recorded = nextRecords(monitor, 3);
      await call(url, '/nope');
      await call(url, '/wp-admin/setup.php');
      await call(url, '/users');
      expect((await recorded).map((r) => [r.route, r.status])).toEqual([
        ['not-found', 404],
        ['not-found', 404],
        ['not-found', 404],
      ]);
      expect(Object.keys(monitor.stats().routes)).toEqual(['not-found']);
    });

    it('records thrown errors as failures of their route', async () => {
      const { monitor, url } = await start();
      const recorded = nextRecords(monitor);
      expect((await call(url, '/boom')).status).toBe(500);
      expect((await recorded)[0]).toMatchObject({ route: 'GET /boom', status: 500 });
      expect(monitor.stats().routes['GET /boom']?.failures).toBe(1);
    });

    it('keeps the mount path when an error unwinds a sub-router', async () => {
      const { monitor, url } = await start();
      const recorded = nextRecords(monitor);
      expect((await call(url, '/users/7/fail')).status).toBe(500);
      expect((await recorded)[0]).toMatchObject({ route: 'GET /users/:id/fail', status: 500 });
    });

    it('records a request the client abandoned, as status 499', async () => {
      const { monitor, clock } = await start();
      const recorded = nextRecords(monitor);
      await abandonedGet(served!, '/slow');
      // The clock moves only while the request is in flight, so the duration is exactly this.
      clock.advance(1_500);
      const [rec] = await recorded;
      expect(rec).toEqual({ route: 'GET /slow', durationMs: 1_500, status: 499 });
      served!.release();
    });

    it('records its own routes by template', async () => {
      const { monitor, url } = await start();
      const recorded = nextRecords(monitor);
      await call(url, '/stats/slo', { token: READER_TOKEN });
      expect((await recorded)[0]).toMatchObject({ route: 'GET /stats/slo', status: 200 });
    });
  });

  describe(`${label} router and middleware options`, () => {
    let server: Server | undefined;
    afterEach(async () => {
      server?.closeAllConnections();
      await new Promise((r) => (server ? server.close(r) : r(undefined)));
      server = undefined;
    });

    async function listen(app: ReturnType<typeof express>): Promise<string> {
      server = createServer(app);
      await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r));
      return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    }

    const monitor = () => createMonitor({ service: 'api', clock: new ManualClock() });

    it('returns an express.Router', () => {
      const router = firebreakRouter(monitor(), { auth: AUTH });
      const probe = express.Router();
      // Express 5 routers inherit from a Router instance, Express 4 ones from Router itself.
      if (probe instanceof express.Router) expect(router).toBeInstanceOf(express.Router);
      else expect(Object.getPrototypeOf(router)).toBe(express.Router);
      expect(Array.isArray((router as unknown as { stack: unknown[] }).stack)).toBe(true);
    });

    it('throws a ConfigError at mount when no auth is configured', () => {
      expect(() => firebreakRouter(monitor(), {} as never)).toThrow(ConfigError);
      expect(() => firebreakRouter(monitor(), {} as never)).toThrow(/auth is required/);
      expect(() => firebreakRouter(monitor(), {} as never)).toThrow(ConfigError);
      expect(() => firebreakRouter(monitor(), { auth: { tokens: [process.env['FIREBREAK_UNSET_TOKEN'] as string] } })).toThrow(/tokens\.0/);
      expect(() => firebreakRouter(monitor(), { auth: { tokens: [process.env['FIREBREAK_UNSET_TOKEN'] as string] } })).toThrow(ConfigError);
    });

    it("serves operators without credentials when auth: 'none' is explicit, and warns once", async () => {
      const logger = { warn: vi.fn() };
      const m = monitor();
      const app = express();
      app.use(firebreakRouter(m, { auth: 'none', logger }));
      app.use('/again', firebreakRouter(m, { auth: 'none', logger }));
      const url = await listen(app);
      const r = await call(url, '/admin/audit');
      expect(r.status).toBe(200);
      expect(logger.warn).toHaveBeenCalledTimes(1);
    });

    it('skips what skip() says, and survives a throwing skip()', async () => {
      const m = monitor();
      const app = express();
      app.use(firebreakMiddleware(m, { skip: (req) => req.url === '/health' }));
      app.get('/health', (_q, s) => void s.send('ok'));
      app.get('/x', (_q, s) => void s.send('x'));
      const url = await listen(app);
      const recorded = nextRecords(m);
      await call(url, '/health');
      await call(url, '/x');
      expect((await recorded)[0]!.route).toBe('GET /x');

      const m2 = monitor();
      const app2 = express();
      app2.use(
        firebreakMiddleware(m2, {
          skip: () => {
            throw new Error('bad skip');
          },
        }),
      );
      app2.get('/x', (_q, s) => void s.send('x'));
      const url2 = await listen(app2);
      const recorded2 = nextRecords(m2);
      expect((await call(url2, '/x')).status).toBe(200);
      expect((await recorded2)[0]!.route).toBe('GET /x');
    });

    it('gives two monitors on one app one record each', async () => {
      const a = monitor();
      const b = monitor();
      const app = express();
      app.use(firebreakMiddleware(a));
      app.use(firebreakMiddleware(b));
      app.get('/x', (_q, s) => void s.send('x'));
      const url = await listen(app);
      const ra = nextRecords(a);
      const rb = nextRecords(b);
      await call(url, '/x');
      await Promise.all([ra, rb]);
      expect(a.stats().routes['GET /x']?.requests).toBe(1);
      expect(b.stats().routes['GET /x']?.requests).toBe(1);
    });

    it('records each of several requests pipelined on one connection', async () => {
      // The socket tracks one in-flight response; a pipelined one falls back to its own listener.
      const m = monitor();
      const app = express();
      app.use(firebreakMiddleware(m));
      app.get('/x', (_q, s) => void s.send('x'));
      app.get('/y', (_q, s) => void setTimeout(() => s.send('y'), 20));
      const url = new URL(await listen(app));
      const recorded = nextRecords(m, 3);
      const { connect } = await import('node:net');
      const socket = connect(Number(url.port), url.hostname);
      socket.on('data', () => {});
      socket.write('GET /y HTTP/1.1\r\nHost: a\r\n\r\nGET /x HTTP/1.1\r\nHost: a\r\n\r\nGET /nope HTTP/1.1\r\nHost: a\r\n\r\n');
      const routes = (await recorded).map((r) => [r.route, r.status]);
      socket.destroy();
      expect(routes).toEqual([
        ['GET /y', 200],
        ['GET /x', 200],
        ['not-found', 404],
      ]);
    });

    it('validates middleware options', () => {
      expect(() => firebreakMiddleware(monitor(), { notFoundRoute: '' })).toThrow(ConfigError);
      expect(() => firebreakMiddleware(monitor(), { bogus: true } as never)).toThrow(/bogus/);
      expect(() => firebreakMiddleware(monitor(), { bogus: true } as never)).toThrow(ConfigError);
    });

    it('records routes of a mounted sub-app with its mount path', async () => {
      const m = monitor();
      const app = express();
      app.use(firebreakMiddleware(m));
      const sub = express();
      sub.get('/items/:id', (_q, s) => void s.send('x'));
      sub.get('/broken', () => {
        throw new Error('x');
      });
      app.use('/v1', sub);
      const url = await listen(app);
      const recorded = nextRecords(m, 2);
      await call(url, '/v1/items/3');
      await call(url, '/v1/broken');
      expect((await recorded).map((r) => [r.route, r.status])).toEqual([
        ['GET /v1/items/:id', 200],
        ['GET /v1/broken', 500],
      ]);
    });

    it("never touches Node's IncomingMessage prototype", async () => {
      const { IncomingMessage } = await import('node:http');
      const m = monitor();
      const app = express();
      app.use(firebreakMiddleware(m));
      app.get('/x', (_q, s) => void s.send('x'));
      const url = await listen(app);
      const recorded = nextRecords(m);
      await call(url, '/x');
      await recorded;
      expect(Object.getOwnPropertyDescriptor(IncomingMessage.prototype, 'route')).toBeUndefined();
      expect(Object.getOwnPropertyDescriptor(app.request, 'route')?.set).toBeTypeOf('function');
    });

    it('can record templates without the method', async () => {
      const m = monitor();
      const app = express();
      app.use(firebreakMiddleware(m, { includeMethod: false }));
      app.get('/items/:id', (_q, s) => void s.send('x'));
      const url = await listen(app);
      const recorded = nextRecords(m);
      await call(url, '/items/1');
      expect((await recorded)[0]!.route).toBe('/items/:id');
      expect(OPERATOR_TOKEN).toBeTruthy();
      // The default keeps the method: the option is what removed it.
      server?.closeAllConnections();
      await new Promise((r) => server!.close(r));
      const withMethod = monitor();
      const app2 = express();
      app2.use(firebreakMiddleware(withMethod));
      app2.get('/items/:id', (_q, s) => void s.send('x'));
      const url2 = await listen(app2);
      const recorded2 = nextRecords(withMethod);
      await call(url2, '/items/1');
      expect((await recorded2)[0]!.route).toBe('GET /items/:id');
    });
  });
}

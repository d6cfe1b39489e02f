import { createServer, type Server } from 'node:http';
import { connect, type AddressInfo, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
// Plain 'express': the Express 4 test file mocks it with express4.
import express from 'express';
import Fastify, { type FastifyInstance } from 'fastify';
import { createMonitor, type Monitor } from '../../../src/index.js';
import { ManualClock } from '../../../src/testing/index.js';
import { firebreakMiddleware } from '../../../src/adapters/express.js';
import firebreakPlugin from '../../../src/adapters/fastify.js';
import { nextRecords } from '../harness.js';

type Express = ReturnType<typeof express>;

/** One way of declaring routes, attacked with many distinct URL values. */
export interface TemplateCase<App> {
  name: string;
  /** Declares the routes on an app that already records into the monitor. */
  build(app: App): void | Promise<void>;
  /** The i-th attack request: a distinct value in every param of the URL. */
  request(i: number): { path: string; headers?: Record<string, string> };
  /** The series every request of the attack must land in (i → its route label). */
  expected(i: number): string;
}

interface Started {
  monitor: Monitor;
  url: string;
}

/**
 * Sends `n` requests pipelined over a few raw keep-alive connections (an
 * attacker's cheapest way; far cheaper than one fetch each). The caller
 * awaits the server's records, not the responses.
 */
export function attack(url: string, n: number, request: TemplateCase<unknown>['request'], connections = 8): () => void {
  const { hostname, port } = new URL(url);
  const sockets: Socket[] = [];
  for (let c = 0; c < connections; c++) {
    const socket = connect(Number(port), hostname);
    socket.on('data', () => {});
    socket.on('error', () => {});
    let batch = '';
    for (let i = c; i < n; i += connections) {
      const { path, headers } = request(i);
      batch += `GET ${path} HTTP/1.1\r\nHost: a\r\n`;
      for (const [k, v] of Object.entries(headers ?? {})) batch += `${k}: ${v}\r\n`;
      batch += '\r\n';
    }
    socket.write(batch);
    sockets.push(socket);
  }
  return () => {
    for (const s of sockets) s.destroy();
  };
}

/** Requests per route label. */
export function count(labels: readonly string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const l of labels) out[l] = (out[l] ?? 0) + 1;
  return out;
}

const ok = <T>(res: { send(body: T): unknown }, body: T): void => void res.send(body);

/** Express route declarations under param mounts, nested routers, regexps, arrays, root mounts. */
export const EXPRESS_CASES: TemplateCase<Express>[] = [
  {
    name: 'a router mounted on a parameterised path',
    build(app) {
      const posts = express.Router();
      posts.get('/posts', (_q, s) => ok(s, 'posts'));
      app.use('/users/:id', posts);
    },
    request: (i) => ({ path: `/users/${1000 + i}/posts` }),
    expected: () => 'GET /users/:id/posts',
  },
  {
    name: 'nested routers, each mounted on a param',
    build(app) {
      const issues = express.Router();
      issues.get('/issues/:n', (_q, s) => ok(s, 'issue'));
      const repos = express.Router();
      repos.use('/repos/:repo', issues);
      app.use('/orgs/:org', repos);
    },
    request: (i) => ({ path: `/orgs/org-${i}/repos/repo-${i}/issues/${i}` }),
    expected: () => 'GET /orgs/:org/repos/:repo/issues/:n',
  },
  {
    name: 'mergeParams routers (the leaf sees every param)',
    build(app) {
      const members = express.Router({ mergeParams: true });
      members.get('/members/:member', (q, s) => void s.json(q.params));
      const teams = express.Router({ mergeParams: true });
      teams.use('/teams/:team', members);
      app.use('/tenants/:tenant', teams);
    },
    request: (i) => ({ path: `/tenants/t${i}/teams/${i}/members/m${i}` }),
    expected: () => 'GET /tenants/:tenant/teams/:team/members/:member',
  },
  {
    name: 'a regexp mount (its source is the label) and a regexp leaf',
    build(app) {
      const items = express.Router();
      items.get('/items/:id', (_q, s) => ok(s, 'item'));
      items.get(/^\/sku-\d+$/, (_q, s) => ok(s, 'sku'));
      app.use(/^\/v\d+/, items);
    },
    request: (i) => ({ path: i % 2 === 0 ? `/v${i}/items/${i}` : `/v${i}/sku-${i}` }),
    expected: (i) => (i % 2 === 0 ? `GET ${String(/^\/v\d+/)}/items/:id` : `GET ${String(/^\/v\d+/)}${String(/^\/sku-\d+$/)}`),
  },
  {
    name: 'an array of mount paths (each alternative its own template)',
    build(app) {
      const files = express.Router();
      files.get('/files/:file', (_q, s) => ok(s, 'file'));
      app.use(['/projects/:project', '/archive/:year/:month'], files);
    },
    request: (i) => ({ path: i % 2 === 0 ? `/projects/p${i}/files/f${i}` : `/archive/${i}/${i % 12}/files/f${i}` }),
    expected: (i) => (i % 2 === 0 ? 'GET /projects/:project/files/:file' : 'GET /archive/:year/:month/files/:file'),
  },
  {
    name: 'routers mounted with app.use(router) at the root, holding a param mount',
    build(app) {
      const cart = express.Router();
      cart.get('/cart', (_q, s) => ok(s, 'cart'));
      const shops = express.Router();
      shops.get('/profiles/:id', (_q, s) => ok(s, 'profile'));
      shops.use('/shops/:shop', cart);
      app.use(shops);
    },
    request: (i) => ({ path: i % 2 === 0 ? `/profiles/${i}` : `/shops/s${i}/cart` }),
    expected: (i) => (i % 2 === 0 ? 'GET /profiles/:id' : 'GET /shops/:shop/cart'),
  },
  {
    name: 'a literal mount reached in any letter case',
    build(app) {
      const catalog = express.Router();
      catalog.get('/:sku', (_q, s) => ok(s, 'sku'));
      app.use('/catalog', catalog);
    },
    // Express matches mounts case-insensitively and puts the URL's spelling in baseUrl.
    request: (i) => ({ path: `/${[...'catalog'].map((c, k) => ((i >> k) & 1 ? c.toUpperCase() : c)).join('')}/${i}` }),
    expected: () => 'GET /catalog/:sku',
  },
  {
    name: 'a sub-app mounted on a parameterised path',
    build(app) {
      const settings = express();
      settings.get('/settings/:section', (_q, s) => ok(s, 'settings'));
      app.use('/accounts/:account', settings);
    },
    request: (i) => ({ path: `/accounts/a${i}/settings/s${i}` }),
    expected: () => 'GET /accounts/:account/settings/:section',
  },
  {
    name: 'one router mounted at two paths',
    build(app) {
      const orders = express.Router();
      orders.get('/orders/:order', (_q, s) => ok(s, 'order'));
      app.use('/customers/:customer', orders);
      app.use('/admin', orders);
    },
    request: (i) => ({ path: i % 2 === 0 ? `/customers/c${i}/orders/${i}` : `/admin/orders/${i}` }),
    expected: (i) => (i % 2 === 0 ? 'GET /customers/:customer/orders/:order' : 'GET /admin/orders/:order'),
  },
  {
    name: 'a router behind a wrapper function (template not recoverable)',
    build(app) {
      const hidden = express.Router();
      hidden.get('/leaf', (_q, s) => ok(s, 'leaf'));
      // The router tree does not show what a plain function dispatches to.
      app.use('/wrapped/:id', (req, res, next) => hidden(req, res, next));
    },
    request: (i) => ({ path: `/wrapped/${i}/leaf` }),
    expected: () => 'GET <unknown mount>/leaf',
  },
];

/** Fastify route declarations under param prefixes, nested registers, wildcards, constraints. */
export const FASTIFY_CASES: TemplateCase<FastifyInstance>[] = [
  {
    name: 'a plugin registered with a parameterised prefix',
    async build(app) {
      await app.register(
        async (child) => {
          child.get('/posts', async () => 'posts');
        },
        { prefix: '/users/:id' },
      );
    },
    request: (i) => ({ path: `/users/${1000 + i}/posts` }),
    expected: () => 'GET /users/:id/posts',
  },
  {
    name: 'nested registers, each with a param prefix',
    async build(app) {
      await app.register(
        async (repos) => {
          await repos.register(
            async (issues) => {
              issues.get('/issues/:n', async () => 'issue');
            },
            { prefix: '/repos/:repo' },
          );
        },
        { prefix: '/orgs/:org' },
      );
    },
    request: (i) => ({ path: `/orgs/org-${i}/repos/repo-${i}/issues/${i}` }),
    expected: () => 'GET /orgs/:org/repos/:repo/issues/:n',
  },
  {
    name: 'wildcard routes under a param prefix',
    async build(app) {
      await app.register(
        async (child) => {
          child.get('/files/*', async () => 'file');
        },
        { prefix: '/buckets/:bucket' },
      );
    },
    request: (i) => ({ path: `/buckets/b${i}/files/${i}/deep/${i}.txt` }),
    expected: () => 'GET /buckets/:bucket/files/*',
  },
  {
    name: 'routes with constraints (one template, several handlers)',
    async build(app) {
      app.get('/docs/:id', { constraints: { version: '1.0.0' } }, async () => 'v1');
      app.get('/docs/:id', { constraints: { version: '2.0.0' } }, async () => 'v2');
      app.get('/docs/:id', async () => 'unversioned');
    },
    request: (i) => ({ path: `/docs/${i}`, headers: i % 3 === 2 ? {} : { 'accept-version': i % 3 === 0 ? '1.x' : '2.x' } }),
    expected: () => 'GET /docs/:id',
  },
];

/**
 * Route templates under attack: each case's N distinct URL values must
 * land in its template series, never one series per URL, so the route cap
 * (which would send every later route to `__other__`) is not filled.
 */
export function routeTemplatesSuite(framework: 'express' | 'fastify', label: string): void {
  describe(`${label} route templates under a distinct-URL attack`, () => {
    let close: (() => Promise<void>) | undefined;
    afterEach(async () => {
      await close?.();
      close = undefined;
    });

    async function start<App>(c: TemplateCase<App>, monitor: Monitor): Promise<Started> {
      if (framework === 'fastify') {
        const app = Fastify();
        await app.register(firebreakPlugin, { monitor, routes: false });
        await (c as TemplateCase<FastifyInstance>).build(app);
        await app.listen({ port: 0, host: '127.0.0.1' });
        close = () => app.close();
        return { monitor, url: `http://127.0.0.1:${(app.server.address() as AddressInfo).port}` };
      }
      const app = express();
      app.use(firebreakMiddleware(monitor));
      await (c as TemplateCase<Express>).build(app);
      const server: Server = createServer(app);
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
      close = async () => {
        server.closeAllConnections();
        await new Promise((r) => server.close(r));
      };
      return { monitor, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
    }

    const cases = (framework === 'fastify' ? FASTIFY_CASES : EXPRESS_CASES) as TemplateCase<unknown>[];
    const N = 60;

    for (const c of cases) {
      it(`records ${c.name} by its template: ${N} distinct URLs, one series per template`, async () => {
        const monitor = createMonitor({ service: 'api', clock: new ManualClock() });
        const { url } = await start(c, monitor);
        const recorded = nextRecords(monitor, N);
        const stop = attack(url, N, c.request);
        const records = await recorded;
        stop();
        const expected = count(Array.from({ length: N }, (_, i) => c.expected(i)));
        expect(records.filter((r) => r.status !== 200)).toEqual([]);
        expect(count(records.map((r) => r.route))).toEqual(expected);
        const stats = monitor.stats();
        expect(Object.fromEntries(Object.entries(stats.routes).map(([route, s]) => [route, s.requests]))).toEqual(expected);
        expect(stats.recording.routeOverflow).toBe(0);
      });
    }

    it('does not fill the route cap with 10,000 distinct ids: later routes keep their own series and SLOs', async () => {
      const monitor = createMonitor({
        service: 'api',
        clock: new ManualClock(),
        slos: [{ name: 'checkout', kind: 'success-rate', objective: 0.99, route: 'GET /checkout', minSamples: 1 }],
      });
      const attacked = cases[1]!; // nested param mounts: three ids per URL
      const { url } = await start(
        {
          ...attacked,
          async build(app: unknown) {
            await attacked.build(app);
            if (framework === 'fastify') (app as FastifyInstance).get('/checkout', async () => 'paid');
            else (app as Express).get('/checkout', (_q, s) => ok(s, 'paid'));
          },
        },
        monitor,
      );
      const n = 10_000;
      const recorded = nextRecords(monitor, n);
      const stop = attack(url, n, attacked.request);
      const records = await recorded;
      stop();
      expect(records.filter((r) => r.status !== 200)).toEqual([]);
      // A route first seen after the attack still gets its own series.
      const after = nextRecords(monitor);
      expect((await fetch(`${url}/checkout`)).status).toBe(200);
      expect((await after)[0]!.route).toBe('GET /checkout');
      const stats = monitor.stats();
      expect(stats.routes[attacked.expected(0)]?.requests).toBe(n);
      expect(stats.routes['GET /checkout']?.requests).toBe(1);
      expect(stats.routes['__other__']).toBeUndefined();
      expect(stats.recording.routeOverflow).toBe(0);
      expect(stats.slos.find((s) => s.name === 'checkout')?.samples).toBe(1);
    }, 60_000);
  });
}

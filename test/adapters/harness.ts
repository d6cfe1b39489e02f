import { createServer, request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
// Plain 'express': the Express 4 test file mocks it with express4, so the
// adapter and the app under test use the same major version.
import express from 'express';
import Fastify, { type FastifyInstance } from 'fastify';
import { firebreakMiddleware, firebreakRouter } from '../../src/adapters/express.js';
import firebreakPlugin from '../../src/adapters/fastify.js';
import { createHandler } from '../../src/adapters/node-http.js';
import type { HttpOptions } from '../../src/http/options.js';
import type { Monitor, RequestRecord } from '../../src/monitor.js';

export const OPERATOR_TOKEN = 'op-token-0123456789abcdef';
export const READER_TOKEN = 'ro-token-0123456789abcdef';
export const AUTH: HttpOptions['auth'] = {
  tokens: [
    { name: 'alice', token: OPERATOR_TOKEN, role: 'operator' },
    { name: 'grafana', token: READER_TOKEN, role: 'read' },
  ],
};

export const FRAMEWORKS = ['express', 'fastify', 'node-http'] as const;
export type Framework = (typeof FRAMEWORKS)[number];

export interface Served {
  url: string;
  close(): Promise<void>;
  /** Resolves the held `/slow` request(s). */
  release(): void;
  /** Resolves when a `/slow` request has reached its handler. */
  slowArrived(): Promise<void>;
}

export interface ServeOptions {
  http?: Partial<HttpOptions>;
  /** Where the firebreak routes are mounted (default: root). */
  prefix?: string;
  /** Install express.json() before the router (Express only). */
  hostJsonParser?: boolean;
}

function listen(server: Server): Promise<string> {
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}`));
  });
}

function closeServer(server: Server): Promise<void> {
  server.closeAllConnections();
  return new Promise((resolve) => server.close(() => resolve()));
}

/** Starts a real app of `framework` on 127.0.0.1 with firebreak recording and routes. */
export async function serve(framework: Framework, monitor: Monitor, opts: ServeOptions = {}): Promise<Served> {
  const http = { auth: AUTH, ...opts.http } as HttpOptions;
  const prefix = opts.prefix ?? '';
  const waiting: (() => void)[] = [];
  const release = (): void => {
    for (const fn of waiting.splice(0)) fn();
  };
  let arrived: () => void = () => {};
  let arrival = new Promise<void>((r) => (arrived = r));
  const hold = (fn: () => void): void => {
    waiting.push(fn);
    arrived();
  };
  const slowArrived = async (): Promise<void> => {
    await arrival;
    arrival = new Promise<void>((r) => (arrived = r));
  };
  if (framework === 'fastify') {
    const app: FastifyInstance = Fastify();
    await app.register(firebreakPlugin, { monitor, prefix, ...http });
    app.get('/hello', async () => ({ hello: 'world' }));
    app.get('/users/:id', async (req) => ({ id: (req.params as { id: string }).id }));
    app.get('/boom', async () => {
      throw new Error('boom');
    });
    app.get('/slow', () => new Promise((resolve) => hold(() => resolve({ slow: true }))));
    await app.listen({ port: 0, host: '127.0.0.1' });
    const { port } = app.server.address() as AddressInfo;
    return { url: `http://127.0.0.1:${port}`, release, slowArrived, close: () => app.close() };
  }
  if (framework === 'node-http') {
    const handler = createHandler(monitor, { ...http, prefix });
    const server = createServer((req, res) =>
      handler(req, res, () => {
        res.statusCode = 404;
        res.end('host 404');
      }),
    );
    return { url: await listen(server), release, slowArrived, close: () => closeServer(server) };
  }
  const app = express();
  app.use(firebreakMiddleware(monitor));
  if (opts.hostJsonParser) app.use(express.json());
  app.use(prefix === '' ? '/' : prefix, firebreakRouter(monitor, http));
  app.get('/hello', (_req, res) => {
    res.json({ hello: 'world' });
  });
  const users = express.Router();
  users.get('/:id', (req, res) => {
    res.json({ id: req.params['id'] });
  });
  users.get('/:id/fail', (_req, _res, next) => {
    next(new Error('fail'));
  });
  app.use('/users', users);
  app.get('/boom', () => {
    throw new Error('boom');
  });
  app.get('/slow', (_req, res) => {
    hold(() => res.json({ slow: true }));
  });
  const server = createServer(app);
  return { url: await listen(server), release, slowArrived, close: () => closeServer(server) };
}

export interface CallOptions {
  method?: string;
  token?: string;
  body?: unknown;
  /** Raw body text (sent as is). */
  raw?: string | Buffer;
  headers?: Record<string, string>;
}

export interface CallResult {
  status: number;
  headers: Headers;
  text: string;
  json: any;
}

/** One HTTP call with fetch; JSON bodies get `content-type: application/json`. */
export async function call(base: string, path: string, opts: CallOptions = {}): Promise<CallResult> {
  const headers: Record<string, string> = { ...opts.headers };
  if (opts.token !== undefined) headers['authorization'] = `Bearer ${opts.token}`;
  let body: string | Buffer | undefined;
  if (opts.raw !== undefined) body = opts.raw;
  else if (opts.body !== undefined) {
    body = JSON.stringify(opts.body);
    headers['content-type'] ??= 'application/json';
  }
  const init: RequestInit = { method: opts.method ?? (body === undefined ? 'GET' : 'POST'), headers };
  if (body !== undefined) init.body = body;
  const res = await fetch(base + path, init);
  const text = await res.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, headers: res.headers, text, json };
}

/** Resolves with the next `n` records the monitor receives (the server records after the client has its response). */
export function nextRecords(monitor: Monitor, n = 1): Promise<RequestRecord[]> {
  const original = monitor.recordRequest.bind(monitor);
  const seen: RequestRecord[] = [];
  return new Promise((resolve) => {
    monitor.recordRequest = (rec: RequestRecord) => {
      original(rec);
      seen.push(rec);
      if (seen.length === n) {
        monitor.recordRequest = original;
        resolve(seen);
      }
    };
  });
}

/** Starts a GET that the client abandons once the server has it in a handler. */
export async function abandonedGet(served: Served, path: string): Promise<void> {
  const req = httpRequest(served.url + path);
  req.on('error', () => {});
  req.end();
  await served.slowArrived();
  req.destroy();
}

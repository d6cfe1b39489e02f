/**
 * Express adapter (`firebreak/express`): a recording middleware and a router
 * serving the admin, stats, health and metrics routes. Works with Express 4
 * and 5. All logic lives in `src/http/`; this file only translates.
 *
 * @packageDocumentation
 */
import { subscribe } from 'node:diagnostics_channel';
import { IncomingMessage, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import express from 'express';
import type { NextFunction, Request, Response, Router } from 'express';
import { z } from 'zod';
import { parseConfig } from '../config.js';
import type { Monitor } from '../monitor.js';
import { containAsync } from '../safe-call.js';
import type { BodySource } from '../http/body.js';
import { writeReply } from '../http/node-reply.js';
import type { HttpOptions } from '../http/options.js';
import { HttpSurface, type MountedRoute } from '../http/surface.js';
import { ABORTED_STATUS, NOT_FOUND_ROUTE } from '../http/recording.js';
import { decideRateLimit, limiterSchema, rateLimitOptionsSchema, type LimiterLike, type RateLimitHelperStats } from '../http/rate-limit.js';

const isFn = (v: unknown): boolean => typeof v === 'function';

/**
 * Options of {@link firebreakMiddleware}.
 *
 * @example
 * ```ts
 * expressMiddlewareOptionsSchema.parse({ notFoundRoute: 'unmatched' });
 * ```
 */
export const expressMiddlewareOptionsSchema = z.strictObject({
  /** Series name for requests no route matched (one series, so scanners cannot add cardinality). */
  notFoundRoute: z.string().min(1).max(200).default(NOT_FOUND_ROUTE),
  /** Prefix the method to the template (`GET /users/:id`), as `recordRequest` routes are usually named. */
  includeMethod: z.boolean().default(true),
  /** Skip recording some requests (return true to skip), e.g. health probes. Errors count as "record". */
  skip: z.custom<(req: IncomingMessage) => boolean>(isFn, { message: 'skip must be a function (req) => boolean' }).optional(),
});

/**
 * Options of {@link firebreakMiddleware}.
 *
 * @example
 * ```ts
 * const opts: ExpressMiddlewareOptions = { skip: (req) => req.url === '/health' };
 * ```
 */
export type ExpressMiddlewareOptions = z.input<typeof expressMiddlewareOptionsSchema>;

// Express assigns `req.route` when a route matches. Capturing `req.baseUrl`
// at that moment keeps the mount path even when an error later unwinds the
// routers (which restore `baseUrl` on the way out). The capture is an
// accessor defined once on the app's request prototype (`app.request`, which
// Express documents as the place to extend requests), not per request, and
// its setter makes exactly one property write — the one plain Express makes
// anyway for `req.route` — because adding properties to Express request
// objects is slow (they are in dictionary mode after Express swaps their
// prototype): a per-request defineProperty cost several percent of req/s.
const CAPTURE = Symbol('firebreak.route');
const PATCHED = Symbol('firebreak.routeAccessor');
// Memo kept on Express's long-lived Route objects, one per mount path.
const MEMO = Symbol('firebreak.routeMemo');

/** A route as matched under one mount path, with the last label built for it. */
interface Capture {
  route: unknown;
  base: string;
  method: string;
  template: string;
  withMethod: string;
}
interface ExpressRouteLike {
  path?: unknown;
  [MEMO]?: Capture;
}
interface TrackedRequest extends IncomingMessage {
  baseUrl?: string;
  route?: unknown;
  [CAPTURE]?: Capture;
}

function captureOf(route: unknown, base: string): Capture {
  if (typeof route !== 'object' || route === null) return { route, base, method: '', template: '', withMethod: '' };
  const r = route as ExpressRouteLike;
  let memo = r[MEMO];
  if (memo === undefined || memo.base !== base) {
    memo = { route, base, method: '', template: '', withMethod: '' };
    r[MEMO] = memo;
  }
  return memo;
}

const routeAccessor: PropertyDescriptor = {
  configurable: true,
  enumerable: true,
  get(this: TrackedRequest) {
    return this[CAPTURE]?.route;
  },
  set(this: TrackedRequest, route: unknown) {
    this[CAPTURE] = captureOf(route, this.baseUrl ?? '');
  },
};

function installRouteAccessor(req: IncomingMessage): void {
  const proto = Object.getPrototypeOf(req) as Record<PropertyKey, unknown> | null;
  if (proto === null || proto[PATCHED] === true) return;
  // Only an Express app's own request prototype; never Node's IncomingMessage
  // (the middleware used outside Express) and never over someone else's `route`.
  const leaveAlone = proto === (IncomingMessage.prototype as object) || Object.prototype.hasOwnProperty.call(proto, 'route');
  if (!leaveAlone) Object.defineProperty(proto, 'route', routeAccessor);
  Object.defineProperty(proto, PATCHED, { value: true });
}

function labelOf(req: TrackedRequest, route: ExpressRouteLike, includeMethod: boolean): string {
  // Captured at match time when our accessor saw the assignment; else (a
  // mounted sub-app has its own request prototype) as it stands now.
  const captured = req[CAPTURE];
  const memo = captured !== undefined && captured.route === route ? captured : captureOf(route, req.baseUrl ?? '');
  const method = req.method ?? 'GET';
  if (memo.method !== method) {
    memo.method = method;
    memo.template = `${memo.base}${String(route.path)}`;
    memo.withMethod = `${method} ${memo.template}`;
  }
  return includeMethod ? memo.withMethod : memo.template;
}

// Recording without a listener per response. Adding `res.on('close')` per
// request cost ~2% of busy CPU in a hello-world profile (`_addListener` on an
// Express response, whose prototype Express swapped). Instead one module-level
// subscriber to Node's 'http.server.response.finish' diagnostics channel
// records finished responses, and one 'close' listener per *socket* (a
// keep-alive socket serves many requests, so this is paid once per
// connection) records an in-flight response the client abandoned, as 499.
// The per-request state lives on the socket, not on the request or response:
// sockets are ordinary fast-mode objects, while Express requests/responses are
// dictionary-mode after their prototype swap, so writes there are slower.
// A socket tracks at most one response (bounded: no global registry); a second
// middleware on the same response, or a pipelined request arriving while an
// earlier one is still in flight, falls back to the per-response listener.
const FINISH_CHANNEL = 'http.server.response.finish';
/** The tracked response on a socket: undefined = socket never seen, null = none in flight. */
const IN_FLIGHT = Symbol('firebreak.inFlight');
const STARTED = Symbol('firebreak.started');
const RECORDER = Symbol('firebreak.recorder');

type Recorder = (res: ServerResponse<TrackedRequest>, started: number, status: number) => void;
interface TrackedSocket extends Socket {
  [IN_FLIGHT]?: ServerResponse<TrackedRequest> | null;
  [STARTED]?: number;
  [RECORDER]?: Recorder;
}

let finishSubscribed = false;

function onResponseFinish(message: unknown): void {
  const { response, socket } = message as { response?: ServerResponse<TrackedRequest>; socket?: TrackedSocket | null };
  if (socket === undefined || socket === null || response === undefined || socket[IN_FLIGHT] !== response) return;
  socket[IN_FLIGHT] = null;
  socket[RECORDER]!(response, socket[STARTED]!, response.statusCode);
}

function onSocketClose(this: TrackedSocket): void {
  const res = this[IN_FLIGHT];
  if (res === undefined || res === null) return;
  // Closed with a response still unfinished: the request was aborted.
  this[IN_FLIGHT] = null;
  this[RECORDER]!(res, this[STARTED]!, ABORTED_STATUS);
}

/**
 * Express middleware that records every request into the monitor by route
 * template (`req.baseUrl + req.route.path`, e.g. `GET /api/users/:id`) when
 * the response finishes — including errors and aborted requests (recorded
 * with status 499). Requests no route matched share one `not-found` series.
 * Mount it before your routes.
 *
 * @example
 * ```ts
 * import { firebreakMiddleware } from 'firebreak/express';
 * app.use(firebreakMiddleware(monitor));
 * app.get('/search', handler); // recorded as "GET /search"
 * ```
 */
export function firebreakMiddleware(
  monitor: Monitor,
  options: ExpressMiddlewareOptions = {},
): (req: IncomingMessage, res: ServerResponse, next: (err?: unknown) => void) => void {
  const opts = parseConfig(expressMiddlewareOptionsSchema, 'firebreak middleware options', options);
  const { notFoundRoute, includeMethod, skip } = opts;
  const clock = monitor.clock;
  if (!finishSubscribed) {
    // Subscribed once per process, on first use (the module stays side-effect free).
    finishSubscribed = true;
    subscribe(FINISH_CHANNEL, onResponseFinish);
  }
  // Fallback path state lives in a symbol slot of this instance (two monitors'
  // middlewares on one app do not see each other's), and `onClose` is shared
  // by all requests, so the hot path allocates no closures.
  const START = Symbol('firebreak.start');
  type Tracked = ServerResponse<TrackedRequest> & { [START]?: number };

  const record: Recorder = (res, started, status) => {
    const req = res.req;
    if (req === undefined) return;
    const route = req.route as ExpressRouteLike | undefined | null;
    const name = route === undefined || route === null || route.path === undefined ? notFoundRoute : labelOf(req, route, includeMethod);
    monitor.recordRequest({ route: name, durationMs: clock.monotonic() - started, status });
  };

  function onClose(this: Tracked): void {
    const started = this[START];
    if (started === undefined) return;
    // A response closed before it finished was aborted (client gone, socket error).
    record(this, started, this.writableFinished ? this.statusCode : ABORTED_STATUS);
  }

  return function firebreakRecord(req, res, next) {
    let skipped = false;
    if (skip !== undefined) {
      try {
        skipped = containAsync(skip(req)) === true;
      } catch {
        skipped = false;
      }
    }
    if (!skipped) {
      const now = clock.monotonic();
      installRouteAccessor(req);
      const socket = req.socket as TrackedSocket | null | undefined;
      const current = socket?.[IN_FLIGHT];
      if (socket !== undefined && socket !== null && (current === undefined || current === null)) {
        // First request on this connection: one 'close' listener for its lifetime.
        if (current === undefined) socket.on('close', onSocketClose);
        socket[IN_FLIGHT] = res as ServerResponse<TrackedRequest>;
        socket[STARTED] = now;
        socket[RECORDER] = record;
      } else {
        // Another middleware already tracks this response, or a pipelined
        // request is still in flight on the socket: per-response listener.
        (res as Tracked)[START] = now;
        // 'close' fires for finished and for aborted responses alike (Node ≥ 16).
        res.on('close', onClose);
      }
    }
    next();
  };
}

function bodySource(req: Request): BodySource {
  const parsed = (req as { body?: unknown }).body;
  // A host body parser (express.json()) already consumed the stream.
  if (req.readableEnded) return parsed === undefined ? { kind: 'none' } : { kind: 'parsed', value: parsed };
  return { kind: 'stream', stream: req };
}

/**
 * An `express.Router` serving the firebreak routes (stats, health, metrics,
 * admin). Mount it where you like: `app.use('/ops', firebreakRouter(...))`.
 * Throws a `ConfigError` at once when `auth` is missing (pass `auth: 'none'`
 * to opt out explicitly) or any option is invalid.
 *
 * @example
 * ```ts
 * import { firebreakRouter } from 'firebreak/express';
 * app.use(firebreakRouter(monitor, { auth: { tokens: [process.env.ADMIN_TOKEN!] } }));
 * ```
 */
export function firebreakRouter(monitor: Monitor, options: HttpOptions): Router {
  const surface = new HttpSurface(monitor, options);
  const router = express.Router();
  const handlerFor =
    (route: MountedRoute) =>
    (req: Request, res: Response, next: NextFunction): void => {
      const params = Object.create(null) as Record<string, string>;
      for (const name of route.paramNames) {
        const v = (req.params as Record<string, unknown>)[name];
        if (typeof v === 'string') params[name] = v;
      }
      const url = req.originalUrl ?? req.url;
      const q = url.indexOf('?');
      surface
        .handle(route, {
          method: req.method,
          path: q === -1 ? url : url.slice(0, q),
          params,
          search: q === -1 ? '' : url.slice(q),
          headers: req.headers,
          body: bodySource(req),
          ip: req.ip,
          raw: req,
        })
        .then((reply) => writeReply(res, reply, req.method === 'HEAD'))
        .catch(next);
    };
  for (const route of surface.routes) {
    if (route.method === 'GET') router.get(route.path, handlerFor(route));
    else if (route.method === 'DELETE') router.delete(route.path, handlerFor(route));
    else router.post(route.path, handlerFor(route));
  }
  return router;
}

/**
 * Options of {@link firebreakRateLimit}.
 *
 * @example
 * ```ts
 * const opts: ExpressRateLimitOptions = { key: (req) => String(req.headers['x-api-key'] ?? req.ip) };
 * ```
 */
export type ExpressRateLimitOptions = z.input<ReturnType<typeof rateLimitOptionsSchema<Request>>>;

/**
 * An Express middleware with its counters.
 *
 * @example
 * ```ts
 * const mw: RateLimitMiddleware = firebreakRateLimit(limiter);
 * app.use('/api', mw);
 * ```
 */
export type RateLimitMiddleware = ((req: Request, res: Response, next: NextFunction) => void) & {
  readonly stats: RateLimitHelperStats;
};

/**
 * Express middleware that applies a monitor rate limiter to the routes it is
 * mounted on: refused requests get 429 with `Retry-After` and
 * `RateLimit-Limit` / `-Remaining` / `-Reset` / `-Policy` headers and the
 * standard error body; allowed ones get the `RateLimit-*` headers too. Keys
 * default to `req.ip` (set Express `trust proxy` behind a proxy). A throwing
 * `key()` lets the request through and is counted in `.stats.errors`.
 *
 * @example
 * ```ts
 * import { firebreakRateLimit } from 'firebreak/express';
 * const limiter = monitor.rateLimiter('api', { maxRequests: 100, windowSeconds: 60 });
 * app.use('/api', firebreakRateLimit(limiter, { key: (req) => String(req.headers['x-api-key'] ?? req.ip) }));
 * ```
 */
export function firebreakRateLimit(limiter: LimiterLike, options?: ExpressRateLimitOptions): RateLimitMiddleware {
  const l = parseConfig(limiterSchema, 'firebreak rate limiter', limiter);
  const opts = parseConfig(rateLimitOptionsSchema<Request>(), 'firebreak rate-limit options', options);
  const keyOf = opts.key ?? ((req: Request) => req.ip ?? req.socket.remoteAddress ?? 'unknown');
  const stats: RateLimitHelperStats = { limited: 0, errors: 0 };
  const middleware = (req: Request, res: Response, next: NextFunction): void => {
    const d = decideRateLimit(l, () => keyOf(req), stats, opts.headers);
    for (const name in d.headers) res.setHeader(name, d.headers[name]!);
    if (d.allowed) return next();
    res.statusCode = 429;
    res.end(d.body);
  };
  return Object.assign(middleware, { stats });
}

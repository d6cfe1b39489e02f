/**
 * Express adapter (`firebreak/express`): a recording middleware and a router
 * serving the admin, stats, health and metrics routes. Works with Express 4
 * and 5. All logic lives in `src/http/`; this file only translates.
 *
 * @packageDocumentation
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import express from 'express';
import type { NextFunction, Request, Response, Router } from 'express';
import { z } from 'zod';
import { parseConfig } from '../config.js';
import type { Monitor } from '../monitor.js';
import type { BodySource } from '../http/body.js';
import { writeReply } from '../http/node-reply.js';
import type { HttpOptions } from '../http/options.js';
import { HttpSurface, type MountedRoute } from '../http/surface.js';
import { ABORTED_STATUS, NOT_FOUND_ROUTE } from '../http/recording.js';

const isFn = (v: unknown): boolean => typeof v === 'function';

/** Options of {@link firebreakMiddleware}. */
export const expressMiddlewareOptionsSchema = z.strictObject({
  /** Series name for requests no route matched (one series, so scanners cannot add cardinality). */
  notFoundRoute: z.string().min(1).max(200).default(NOT_FOUND_ROUTE),
  /** Prefix the method to the template (`GET /users/:id`), as `recordRequest` routes are usually named. */
  includeMethod: z.boolean().default(true),
  /** Skip recording some requests (return true to skip), e.g. health probes. Errors count as "record". */
  skip: z.custom<(req: IncomingMessage) => boolean>(isFn, { message: 'skip must be a function (req) => boolean' }).optional(),
});

/** Options of {@link firebreakMiddleware}. */
export type ExpressMiddlewareOptions = z.input<typeof expressMiddlewareOptionsSchema>;

// Express assigns `req.route` when a route matches. Capturing `req.baseUrl`
// at that moment keeps the mount path even when an error later unwinds the
// routers (which restore `baseUrl` on the way out). Shared by every
// middleware instance: they all read the same slots.
const ROUTE = Symbol('firebreak.route');
const BASE = Symbol('firebreak.baseUrl');

interface ExpressRouteLike {
  path?: unknown;
}
interface TrackedRequest extends IncomingMessage {
  baseUrl?: string;
  [ROUTE]?: ExpressRouteLike;
  [BASE]?: string;
}

const routeSlot: PropertyDescriptor = {
  configurable: true,
  enumerable: true,
  get(this: TrackedRequest) {
    return this[ROUTE];
  },
  set(this: TrackedRequest, route: ExpressRouteLike) {
    this[ROUTE] = route;
    this[BASE] = this.baseUrl ?? '';
  },
};

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
  // Per-request state lives in symbol slots of this instance (two monitors'
  // middlewares on one app do not see each other's), and `onClose` is shared
  // by all requests, so the hot path allocates no closures.
  const START = Symbol('firebreak.start');
  type Tracked = ServerResponse<TrackedRequest> & { [START]?: number };

  function onClose(this: Tracked): void {
    const req = this.req;
    const started = this[START];
    if (req === undefined || started === undefined) return;
    const route = req[ROUTE];
    let name: string;
    if (route === undefined || route.path === undefined) name = notFoundRoute;
    else {
      const template = `${req[BASE] ?? ''}${String(route.path)}`;
      name = includeMethod ? `${req.method ?? 'GET'} ${template}` : template;
    }
    // A response closed before it finished was aborted (client gone, socket error).
    const status = this.writableFinished ? this.statusCode : ABORTED_STATUS;
    monitor.recordRequest({ route: name, durationMs: clock.monotonic() - started, status });
  }

  return function firebreakRecord(req, res, next) {
    let skipped = false;
    if (skip !== undefined) {
      try {
        skipped = skip(req) === true;
      } catch {
        skipped = false;
      }
    }
    if (!skipped) {
      (res as Tracked)[START] = clock.monotonic();
      Object.defineProperty(req, 'route', routeSlot);
      res.once('close', onClose);
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
    else router.post(route.path, handlerFor(route));
  }
  return router;
}

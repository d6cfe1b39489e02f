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

// Express assigns `req.route` when a route matches. Resolving the label at
// that moment keeps the mount path even when an error later unwinds the
// routers (which restore `baseUrl` on the way out). The capture is an
// accessor defined once on the app's request prototype (`app.request`, which
// Express documents as the place to extend requests, and which mounted
// sub-apps' requests inherit from), not per request, and its setter makes
// exactly one property write — the one plain Express makes anyway for
// `req.route` — because adding properties to Express request objects is slow
// (they are in dictionary mode after Express swaps their prototype): a
// per-request defineProperty cost several percent of req/s.
const CAPTURE = Symbol('firebreak.route');
const PATCHED = Symbol('firebreak.routeAccessor');
// Memo kept on Express's long-lived Route objects: the mount chains that lead
// to the route, and the last `baseUrl` seen with the label it resolved to.
const MEMO = Symbol('firebreak.routeMemo');
// A route reachable through more mounts than this re-searches for the rest.
const MAX_CHAINS = 8;

/** A route's label under one mount chain, with the last method-prefixed form built for it. */
interface Capture {
  route: unknown;
  template: string;
  method: string;
  withMethod: string;
}
interface RouteMemo {
  base: string;
  last: Capture;
  chains: Chain[];
  fallback: Capture | undefined;
}
interface ExpressRouteLike {
  path?: unknown;
  [MEMO]?: RouteMemo;
}
interface TrackedRequest extends IncomingMessage {
  baseUrl?: string;
  route?: unknown;
  app?: unknown;
  [CAPTURE]?: Capture;
}

// ---------------------------------------------------------------------------
// Route templates of mounts. `req.baseUrl` is the *matched* prefix
// (`/users/123`), so `baseUrl + route.path` would give every id its own
// series and an unauthenticated caller could fill the route cap. Neither
// Express version keeps a mount's path string where a request can see it, so
// the template is recovered from the router tree: starting at the top app,
// the mount layers that match `baseUrl` are followed down to the router
// holding the matched route, and each layer contributes its own template
// (Express 5 / router ≥ 2.3: `layer.rawPath`; Express 4: inverted from the
// `path-to-regexp` 0.1 regexp; sub-apps: their `mountpath`). The chain found
// is cached on the route, so later requests only re-run the chain's few
// regexps against their `baseUrl`. Labels come only from layer templates or a
// constant, never from the URL, so the series count stays bounded by the app.
// ---------------------------------------------------------------------------

/** Label piece for a mount whose template cannot be recovered (one per route). */
const UNKNOWN_MOUNT = '<unknown mount>';

/** One alternative path of a mount layer (an array path has several). */
interface MountAlt {
  /** The mount's template ('' for the root), e.g. `/users/:id`. */
  readonly template: string;
  /** True when `template` is the path as written (not a regexp's text). */
  readonly exact: boolean;
  /** Length of the matched prefix of `path`, or -1. */
  match(path: string): number;
}

interface LayerLike {
  handle?: unknown;
  route?: unknown;
  name?: unknown;
  // Express 4
  regexp?: RegExp & { fast_slash?: boolean; fast_star?: boolean };
  keys?: readonly { name: string | number }[];
  // Express 5 (router 2.x)
  matchers?: readonly ((path: string) => false | { path: string; params: Record<string, unknown> })[];
  rawPath?: unknown;
  slash?: boolean;
}
interface RouterLike {
  stack: readonly LayerLike[];
}
interface AppLike {
  _router?: unknown;
  router?: unknown;
  parent?: unknown;
  mountpath?: unknown;
  handle?: unknown;
  set?: unknown;
}

const altsCache = new WeakMap<object, readonly MountAlt[]>();
const MAX_DEPTH = 32;

function trimSlash(template: string): string {
  return template.endsWith('/') ? template.slice(0, -1) : template;
}

function templateText(path: unknown): { template: string; exact: boolean } {
  if (typeof path === 'string') return { template: trimSlash(path), exact: true };
  // A RegExp mount: its text is one constant label.
  return { template: String(path), exact: false };
}

// path-to-regexp 0.1 (Express 4) output for the usual mount paths, token by
// token: `/:name`, `/:name?`, `.:name`, `*`, escaped `/` and `.`, and plain
// URL characters. Anything else (`+`, groups, user regexps) is not inverted.
const V4_TOKEN = /\(\?:\\\/\(\[\^\/\]\+\?\)\)(\?)?|\(\?:\\\.\(\[\^\/\\\.\]\+\?\)\)(\?)?|\(\.\*\)|\\([/.])|([A-Za-z0-9\-_~%@!$&'=,;:])/y;
const V4_SUFFIX = /\\\/\?\(\?=\\\/\|\$\)$|\?\(\?=\\\/\|\$\)$/;

/** The template `source` (one alternative, `^` included) was generated from, or undefined. */
function invertV4(source: string, keys: readonly { name: string | number }[], keyIndex: { i: number }): string | undefined {
  if (!source.startsWith('^')) return undefined;
  const suffix = V4_SUFFIX.exec(source);
  if (suffix === null) return undefined;
  const body = source.slice(1, suffix.index);
  let out = '';
  V4_TOKEN.lastIndex = 0;
  while (V4_TOKEN.lastIndex < body.length) {
    const at = V4_TOKEN.lastIndex;
    const m = V4_TOKEN.exec(body);
    if (m === null || m.index !== at) return undefined;
    if (m[0].startsWith('(?:\\/')) {
      const key = keys[keyIndex.i++];
      if (key === undefined || typeof key.name !== 'string') return undefined;
      out += `/:${key.name}${m[1] ?? ''}`;
    } else if (m[0].startsWith('(?:\\.')) {
      const key = keys[keyIndex.i++];
      if (key === undefined || typeof key.name !== 'string') return undefined;
      out += `.:${key.name}${m[2] ?? ''}`;
    } else if (m[0] === '(.*)') {
      keyIndex.i++;
      out += '*';
    } else out += m[3] ?? m[4] ?? '';
  }
  return trimSlash(out);
}

function regexpAlt(re: RegExp, template: string, exact: boolean): MountAlt {
  return {
    template,
    exact,
    match(path) {
      re.lastIndex = 0;
      const m = re.exec(path);
      return m === null || m.index !== 0 ? -1 : m[0].length;
    },
  };
}

const ROOT_ALT: MountAlt = { template: '', exact: true, match: () => 0 };

function altsV4(layer: LayerLike & { regexp: RegExp & { fast_slash?: boolean; fast_star?: boolean } }): readonly MountAlt[] {
  const re = layer.regexp;
  if (re.fast_slash === true) return [ROOT_ALT];
  if (re.fast_star === true) return [{ template: '*', exact: true, match: (p) => p.length }];
  const keys = layer.keys ?? [];
  // An array path is its alternatives' sources joined with '|', each anchored.
  const sources = re.source.split('|^').map((s, i) => (i === 0 ? s : `^${s}`));
  const keyIndex = { i: 0 };
  const alts: MountAlt[] = [];
  for (const source of sources) {
    const template = invertV4(source, keys, keyIndex);
    if (template === undefined) return [regexpAlt(re, String(re), false)];
    let alt: RegExp;
    try {
      alt = sources.length === 1 ? re : new RegExp(source, re.flags);
    } catch {
      return [regexpAlt(re, String(re), false)];
    }
    alts.push(regexpAlt(alt, template, true));
  }
  return alts;
}

function altsV5(layer: LayerLike & { matchers: NonNullable<LayerLike['matchers']> }): readonly MountAlt[] {
  if (layer.slash === true) return [ROOT_ALT];
  const raw = layer.rawPath;
  const paths = Array.isArray(raw) ? (raw as unknown[]) : [raw];
  return layer.matchers.map((matcher, i) => {
    const path = 'rawPath' in layer ? paths[i] : undefined;
    // router < 2.3 keeps no path string after the first match: one constant label.
    const { template, exact } = path === undefined ? { template: UNKNOWN_MOUNT, exact: false } : templateText(path);
    return {
      template,
      exact,
      match(p: string) {
        const m = matcher(p);
        return m === false ? -1 : m.path.length;
      },
    };
  });
}

function altsOf(layer: LayerLike): readonly MountAlt[] {
  let alts = altsCache.get(layer);
  if (alts === undefined) {
    if (layer.regexp instanceof RegExp) alts = altsV4(layer as Parameters<typeof altsV4>[0]);
    else if (Array.isArray(layer.matchers)) alts = altsV5(layer as Parameters<typeof altsV5>[0]);
    else alts = [];
    altsCache.set(layer, alts);
  }
  return alts;
}

function isRouter(v: unknown): v is RouterLike {
  return (typeof v === 'function' || (typeof v === 'object' && v !== null)) && Array.isArray((v as { stack?: unknown }).stack);
}

function routerOfApp(app: unknown): RouterLike | undefined {
  if (typeof app !== 'function' && (typeof app !== 'object' || app === null)) return undefined;
  const a = app as AppLike;
  if (isRouter(a._router)) return a._router;
  if ('_router' in a) return undefined;
  try {
    // Express 5's lazy getter; Express 4's throws (it has `_router` instead).
    const r = a.router;
    return isRouter(r) ? r : undefined;
  } catch {
    return undefined;
  }
}

function isApp(v: unknown): boolean {
  return typeof v === 'function' && typeof (v as AppLike).handle === 'function' && typeof (v as AppLike).set === 'function';
}

/** A mount chain from the top app to the router holding a route. */
interface Chain {
  readonly steps: readonly MountAlt[];
  readonly capture: Capture;
}

function verify(steps: readonly MountAlt[], base: string): boolean {
  let rest = base;
  for (const step of steps) {
    const n = consumed(step, rest);
    if (n < 0) return false;
    rest = rest.slice(n);
  }
  return rest === '';
}

/** How much of `path` a mount consumes as Express does (a prefix ending at a '/'), or -1. */
function consumed(alt: MountAlt, path: string): number {
  let n = alt.match(path);
  if (n < 0) return -1;
  const c = path[n];
  if (c !== undefined && c !== '/') {
    // The mount matched up to and including a '/', which `baseUrl` drops.
    if (n > 0 && path[n - 1] === '/') return n - 1;
    return -1;
  }
  if (n > 1 && path[n - 1] === '/') n -= 1;
  return n;
}

function search(
  router: RouterLike,
  path: string,
  route: unknown,
  apps: readonly unknown[],
  appIndex: number,
  steps: MountAlt[],
  depth: number,
): boolean {
  if (depth > MAX_DEPTH) return false;
  for (const layer of router.stack) {
    if (layer.route !== undefined) {
      if (layer.route === route && path === '') return true;
      continue;
    }
    const handle = layer.handle;
    let child: RouterLike | undefined;
    let nextApp = appIndex;
    let mountpaths: unknown[] | undefined;
    if (isRouter(handle)) child = handle;
    else if (isApp(handle)) child = routerOfApp(handle);
    else if (layer.name === 'mounted_app' && appIndex + 1 < apps.length) {
      nextApp = appIndex + 1;
      const sub = apps[nextApp] as AppLike;
      child = routerOfApp(sub);
      mountpaths = Array.isArray(sub.mountpath) ? (sub.mountpath as unknown[]).flat(Infinity) : [sub.mountpath];
    }
    if (child === undefined) continue;
    const alts = altsOf(layer);
    for (let i = 0; i < alts.length; i++) {
      let alt = alts[i]!;
      if (mountpaths !== undefined) {
        // A sub-app's `mountpath` is the path as written: prefer it, and skip
        // a mounted_app layer whose own template shows it holds another app.
        const written = mountpaths.length === alts.length ? mountpaths[i] : undefined;
        if (written !== undefined) {
          const t = templateText(written);
          if (alt.exact && t.exact && t.template !== alt.template) continue;
          alt = { template: t.template, exact: t.exact, match: alt.match };
        }
      }
      const n = consumed(alt, path);
      if (n < 0) continue;
      steps.push(alt);
      if (search(child, path.slice(n), route, apps, nextApp, steps, depth + 1)) return true;
      steps.pop();
    }
  }
  return false;
}

function appChain(app: unknown): unknown[] {
  const apps: unknown[] = [];
  let a: unknown = app;
  while (a !== undefined && a !== null && apps.length < MAX_DEPTH && !apps.includes(a)) {
    apps.unshift(a);
    a = (a as AppLike).parent;
  }
  return apps;
}

function newCapture(route: unknown, template: string): Capture {
  return { route, template, method: '', withMethod: '' };
}

/**
 * The label of `route` matched under `base` (`req.baseUrl`, params
 * substituted) in `app` (`req.app`): mount templates + the route's path.
 */
function resolve(route: unknown, base: string, app: unknown): Capture {
  if (typeof route !== 'object' || route === null) return newCapture(route, '');
  const r = route as ExpressRouteLike;
  let memo = r[MEMO];
  if (memo !== undefined && memo.base === base) return memo.last;
  const leaf = String(r.path);
  if (memo === undefined) {
    memo = { base, last: newCapture(route, leaf), chains: [], fallback: undefined };
    r[MEMO] = memo;
  }
  memo.base = base;
  try {
    for (const chain of memo.chains) {
      if (verify(chain.steps, base)) return (memo.last = chain.capture);
    }
    const apps = appChain(app);
    const root = routerOfApp(apps[0]);
    const steps: MountAlt[] = [];
    if (root !== undefined && search(root, base, route, apps, 0, steps, 0)) {
      let prefix = '';
      for (const step of steps) prefix += step.template;
      const capture = newCapture(route, prefix + leaf);
      if (memo.chains.length < MAX_CHAINS) memo.chains.push({ steps, capture });
      return (memo.last = capture);
    }
  } catch {
    // A layer's matcher threw (e.g. a param it could not decode): fall back.
  }
  if (base === '') {
    // Not mounted at all (or a tree we cannot read, with nothing to hide).
    const capture = newCapture(route, leaf);
    if (memo.chains.length < MAX_CHAINS) memo.chains.push({ steps: [], capture });
    return (memo.last = capture);
  }
  // No chain explains `base` (a mount outside what the router tree shows):
  // one constant series per route rather than the matched URL.
  memo.fallback ??= newCapture(route, UNKNOWN_MOUNT + leaf);
  return (memo.last = memo.fallback);
}

const routeAccessor: PropertyDescriptor = {
  configurable: true,
  enumerable: true,
  get(this: TrackedRequest) {
    return this[CAPTURE]?.route;
  },
  set(this: TrackedRequest, route: unknown) {
    this[CAPTURE] = resolve(route, this.baseUrl ?? '', this.app);
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
  // Resolved at match time when our accessor saw the assignment; else as the
  // request stands now.
  const captured = req[CAPTURE];
  const memo = captured !== undefined && captured.route === route ? captured : resolve(route, req.baseUrl ?? '', req.app);
  const method = req.method ?? 'GET';
  if (memo.method !== method) {
    memo.method = method;
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
 * template (mount templates + `req.route.path`, e.g. `GET /users/:id/posts`
 * for a router mounted at `/users/:id` — never the matched URL, so distinct
 * ids cannot fill the route cap) when the response finishes — including
 * errors and aborted requests (recorded with status 499). Requests no route
 * matched share one `not-found` series; a mount whose template cannot be
 * recovered is named `<unknown mount>` (see docs/adapters.md). Mount it
 * before your routes.
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

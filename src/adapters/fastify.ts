/**
 * Fastify adapter (`firebreak/fastify`): a `fastify-plugin` plugin that
 * records every request of the context it is registered in and serves the
 * admin, stats, health and metrics routes under `prefix`. Fastify 5.
 *
 * @packageDocumentation
 */
import type {
  FastifyError,
  FastifyInstance,
  FastifyPluginAsync,
  FastifyReply,
  FastifyRequest,
  HookHandlerDoneFunction,
} from 'fastify';
import fp from 'fastify-plugin';
import type { Socket } from 'node:net';
import { z } from 'zod';
import { parseConfig } from '../config.js';
import { ValidationError } from '../errors.js';
import type { Monitor } from '../monitor.js';
import type { BodySource } from '../http/body.js';
import { HttpError, mapError } from '../http/errors.js';
import type { HttpOptions } from '../http/options.js';
import { ABORTED_STATUS, NOT_FOUND_ROUTE } from '../http/recording.js';
import { HttpSurface, type HttpReply, type MountedRoute } from '../http/surface.js';
import { decideRateLimit, limiterSchema, rateLimitOptionsSchema, type LimiterLike, type RateLimitHelperStats } from '../http/rate-limit.js';

/**
 * The plugin's own options (the rest are the route options, `HttpOptions`).
 *
 * @example
 * ```ts
 * fastifyPluginOptionsSchema.parse({ monitor, prefix: '/ops', routes: false });
 * ```
 */
export const fastifyPluginOptionsSchema = z.strictObject({
  /** The monitor to record into and serve. */
  // Structural, not instanceof: the ESM and CJS builds each have their own Monitor class.
  monitor: z.custom<Monitor>(
    (v) => typeof v === 'object' && v !== null && typeof (v as Monitor).recordRequest === 'function' && typeof (v as Monitor).clock === 'object',
    { message: 'monitor must be a firebreak Monitor (createMonitor())' },
  ),
  /** Path the routes are registered under (relative to the registering context), e.g. `/ops`. */
  prefix: z
    .string()
    .regex(/^(\/[^/?#\s]+)*\/?$/, 'prefix must be a path like /ops')
    .default(''),
  /** Add the `onResponse` recording hook to the registering context. */
  record: z.boolean().default(true),
  /** Also record requests the client aborted (status 499); costs one `onRequest` hook. */
  recordAborted: z.boolean().default(true),
  /** Register the firebreak routes (set false to only record). */
  routes: z.boolean().default(true),
  /** Series name for requests no route matched. */
  notFoundRoute: z.string().min(1).max(200).default(NOT_FOUND_ROUTE),
  /** Prefix the method to the URL pattern (`GET /users/:id`). */
  includeMethod: z.boolean().default(true),
  /**
   * `await monitor.close()` in the app's `onClose` hook (`app.close()`).
   * Off by default: the plugin did not create the monitor, which may be
   * shared with other apps or outlive this one.
   */
  closeMonitor: z.boolean().default(false),
});

type OwnOptions = z.input<typeof fastifyPluginOptionsSchema>;

/**
 * Options of the plugin: the monitor, where and what to register, and (when
 * routes are on) the route options including the required `auth`.
 *
 * @example
 * ```ts
 * const opts: FirebreakFastifyOptions = { monitor, prefix: '/ops', auth: { tokens: [token] } };
 * ```
 */
export type FirebreakFastifyOptions = OwnOptions & (({ routes?: true } & HttpOptions) | ({ routes: false } & Partial<HttpOptions>));

// Register options Fastify itself understands; not ours to validate.
const FASTIFY_REGISTER_KEYS = new Set(['logLevel', 'logSerializers']);
const OWN_KEYS = new Set(Object.keys(fastifyPluginOptionsSchema.shape));

// Abort-tracking slots on a socket, keyed by per-registration symbols: the connection's
// in-flight reply (undefined: this registration has no listener on it yet) and its start.
type TrackedSocket = Socket & Record<symbol, FastifyReply | number | null | undefined>;
/** Series name(s) of one route: one string, or one per method for a multi-method route. */
type RouteNames = string | Readonly<Record<string, string>>;
type RouteConfig = { url?: string; method?: string | readonly string[] } & Record<symbol, RouteNames | undefined>;

// Fastify keeps the matched route's context on the request under a private symbol;
// the public `request.routeOptions` builds a fresh 13-field object on every read
// (≈ 0.1–0.3 µs, more than the record itself). The symbol is found once, by its
// description, from the first request; if a Fastify version lacks it, the public
// getter is used.
let contextKey: symbol | null | undefined;
function routeConfigOf(request: FastifyRequest): RouteConfig {
  if (contextKey === undefined) contextKey = Object.getOwnPropertySymbols(request).find((s) => s.description === 'fastify.context') ?? null;
  if (contextKey !== null) {
    const ctx = (request as unknown as Record<symbol, { config?: unknown } | undefined>)[contextKey];
    const config = ctx?.config;
    if (typeof config === 'object' && config !== null) return config as RouteConfig;
  }
  return (request.routeOptions.config ?? {}) as RouteConfig;
}

function namesOf(url: string, method: string | readonly string[] | undefined, includeMethod: boolean): RouteNames {
  if (!includeMethod) return url;
  if (typeof method === 'string') return `${method} ${url}`;
  const byMethod: Record<string, string> = Object.create(null) as Record<string, string>;
  for (const m of method ?? []) byMethod[m] = `${m} ${url}`;
  return byMethod;
}

/**
 * The series name of a request, computed once per route and method: at
 * `onRoute` for routes declared after the plugin (kept in the route's config),
 * on first use for the others (kept in a WeakMap by route config). A record
 * then reuses the same string, whose hash V8 has cached, instead of building
 * `${method} ${url}` per request.
 */
function routeNamer(app: FastifyInstance, notFoundRoute: string, includeMethod: boolean): (request: FastifyRequest) => string {
  const NAMES = Symbol('firebreak.routeNames'); // per registration: two monitors may name differently
  const late = new WeakMap<object, RouteNames>();
  app.addHook('onRoute', (route) => {
    route.config = { ...route.config, [NAMES]: namesOf(route.url, route.method, includeMethod) };
  });
  return (request) => {
    const config = routeConfigOf(request);
    const url = config.url;
    if (url === undefined) return notFoundRoute;
    let names = config[NAMES];
    if (names === undefined) {
      names = late.get(config);
      if (names === undefined) {
        names = namesOf(url, config.method, includeMethod);
        late.set(config, names);
      }
    }
    if (typeof names === 'string') return names;
    const method = request.method;
    return names[method] ?? `${method} ${url}`;
  };
}

function searchOf(url: string): string {
  const q = url.indexOf('?');
  return q === -1 ? '' : url.slice(q);
}

function send(reply: FastifyReply, r: HttpReply): FastifyReply {
  return reply.code(r.status).headers(r.headers).send(r.body);
}

// Errors Fastify raises before our handler runs (a malformed Content-Type…),
// in the same `{ error }` shape as everything else.
function frameworkError(err: FastifyError): HttpReply {
  let mapped;
  if (err.statusCode === 415) mapped = mapError(new HttpError('UNSUPPORTED_MEDIA_TYPE', err.message));
  else if (err.statusCode === 413) mapped = mapError(new HttpError('PAYLOAD_TOO_LARGE', err.message));
  else if (err.statusCode !== undefined && err.statusCode >= 400 && err.statusCode < 500) {
    mapped = mapError(new ValidationError('request', [{ path: '', message: err.message }]));
  } else mapped = mapError(err);
  return {
    status: mapped.status,
    headers: { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store', ...mapped.headers },
    body: JSON.stringify(mapped.body),
  };
}

function routesPlugin(surface: HttpSurface): FastifyPluginAsync {
  return async (child) => {
    // Our routes read their own bodies (after auth, within the size limit);
    // these parsers and the error handler stay inside this encapsulated context.
    child.removeAllContentTypeParsers();
    child.addContentTypeParser('*', (_request, payload, done) => done(null, payload));
    child.setErrorHandler((err: FastifyError, _request, reply) => send(reply, frameworkError(err)));
    const handlerFor = (route: MountedRoute) => async (request: FastifyRequest, reply: FastifyReply) => {
      const params = Object.create(null) as Record<string, string>;
      const given = request.params as Record<string, unknown>;
      for (const name of route.paramNames) {
        const v = given[name];
        if (typeof v === 'string') params[name] = v;
      }
      const raw = request.body;
      const body: BodySource =
        raw === undefined || raw === null
          ? { kind: 'none' }
          : typeof (raw as { on?: unknown }).on === 'function'
            ? { kind: 'stream', stream: raw as never }
            : { kind: 'parsed', value: raw };
      const url = request.url;
      const q = url.indexOf('?');
      const fullPath = q === -1 ? url : url.slice(0, q);
      const reply_ = await surface.handle(route, {
        method: request.method,
        path: fullPath,
        params,
        search: searchOf(url),
        headers: request.headers,
        body,
        ip: request.ip,
        raw: request,
      });
      return send(reply, reply_);
    };
    for (const route of surface.routes) child.route({ method: route.method, url: route.path, handler: handlerFor(route) });
  };
}

const firebreakFastify: FastifyPluginAsync<FirebreakFastifyOptions> = async (app: FastifyInstance, options) => {
  const own: Record<string, unknown> = {};
  const rest: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(options)) {
    if (OWN_KEYS.has(k)) own[k] = v;
    else if (!FASTIFY_REGISTER_KEYS.has(k)) rest[k] = v;
  }
  const opts = parseConfig(fastifyPluginOptionsSchema, 'firebreak Fastify plugin options', own);
  const { monitor, notFoundRoute, includeMethod } = opts;
  const clock = monitor.clock;

  if (opts.record) {
    const nameOf = routeNamer(app, notFoundRoute, includeMethod);
    // onResponse never runs for a request the client abandoned; record it as 499.
    const trackSockets = opts.recordAborted && app.initialConfig.http2 !== true;
    // Per registration, so two monitors recording one app each get their listener and slots.
    const INFLIGHT = Symbol('firebreak.inflight');
    const STARTED = Symbol('firebreak.started');
    app.addHook('onResponse', (request: FastifyRequest, reply: FastifyReply, done: HookHandlerDoneFunction) => {
      if (trackSockets) {
        const socket = request.raw.socket as TrackedSocket | null;
        if (socket !== null && socket[INFLIGHT] === reply) socket[INFLIGHT] = null;
      }
      monitor.recordRequest({ route: nameOf(request), durationMs: reply.elapsedTime, status: reply.statusCode });
      done();
    });
    if (trackSockets) {
      // HTTP/1: a client that gives up closes its connection. One `close` listener per
      // connection (not per request) and the connection's in-flight reply in a slot on the
      // socket: a keep-alive connection serving thousands of requests adds one listener.
      // (Of several pipelined requests in flight when the connection drops, the latest is
      // recorded; clients do not pipeline in practice.)
      const onClose = function (this: TrackedSocket): void {
        const reply = this[INFLIGHT] as FastifyReply | null | undefined;
        if (reply === null || reply === undefined) return;
        this[INFLIGHT] = null;
        if (reply.raw.writableFinished) return; // finished: onResponse records it
        // The monitor's clock, as every duration firebreak measures itself (Fastify's elapsedTime is its own clock).
        monitor.recordRequest({ route: nameOf(reply.request), durationMs: clock.monotonic() - ((this[STARTED] as number | undefined) ?? 0), status: ABORTED_STATUS });
      };
      app.addHook('onRequest', (request: FastifyRequest, reply: FastifyReply, done: HookHandlerDoneFunction) => {
        const socket = request.raw.socket as TrackedSocket | null;
        if (socket !== null) {
          if (socket[INFLIGHT] === undefined) socket.on('close', onClose);
          socket[INFLIGHT] = reply;
          socket[STARTED] = clock.monotonic();
        }
        done();
      });
    } else if (opts.recordAborted) {
      // HTTP/2: a cancelled stream leaves the connection open, so Fastify's per-request
      // abort hook it is (it adds a `close` listener to each request).
      // One slot per registration, so two monitors can record the same app.
      const START = Symbol('firebreak.start');
      type StampedRequest = FastifyRequest & { [START]: number };
      app.decorateRequest(START, 0);
      app.addHook('onRequest', (request: FastifyRequest, _reply: FastifyReply, done: HookHandlerDoneFunction) => {
        (request as StampedRequest)[START] = clock.monotonic();
        done();
      });
      app.addHook('onRequestAbort', (request: FastifyRequest, done: HookHandlerDoneFunction) => {
        const durationMs = clock.monotonic() - (request as StampedRequest)[START];
        monitor.recordRequest({ route: nameOf(request), durationMs, status: ABORTED_STATUS });
        done();
      });
    }
  }

  if (opts.closeMonitor) {
    // close() never rejects, so app.close() cannot fail on it.
    app.addHook('onClose', async () => {
      await monitor.close();
    });
  }

  if (opts.routes) {
    const surface = new HttpSurface(monitor, rest as HttpOptions);
    const prefix = opts.prefix.endsWith('/') ? opts.prefix.slice(0, -1) : opts.prefix;
    await app.register(routesPlugin(surface), { prefix });
  }
};

/**
 * The firebreak Fastify plugin (wrapped with `fastify-plugin`, name
 * `firebreak`, Fastify 5). Its recording hook applies to the context you
 * register it in — the whole app at the root, or just one encapsulated
 * context — using the route's URL pattern and `reply.elapsedTime`. Its
 * routes are registered under `prefix` in their own encapsulated context, so
 * their body parser and error handler never touch yours. Registration fails
 * with a `ConfigError` when `auth` is missing (pass `auth: 'none'` to opt
 * out explicitly) or any option is invalid.
 *
 * @example
 * ```ts
 * import Fastify from 'fastify';
 * import firebreakPlugin from 'firebreak/fastify';
 * const app = Fastify();
 * await app.register(firebreakPlugin, { monitor, auth: { tokens: [process.env.ADMIN_TOKEN!] }, prefix: '/' });
 * ```
 */
const plugin = fp(firebreakFastify, { name: 'firebreak', fastify: '5.x' });
export default plugin;
export { plugin as firebreakPlugin };

/**
 * Options of {@link rateLimitHook}.
 *
 * @example
 * ```ts
 * const opts: FastifyRateLimitOptions = { key: (request) => String(request.headers['x-api-key'] ?? request.ip) };
 * ```
 */
export type FastifyRateLimitOptions = z.input<ReturnType<typeof rateLimitOptionsSchema<FastifyRequest>>>;

/**
 * A Fastify `onRequest` hook with its counters.
 *
 * @example
 * ```ts
 * const hook: RateLimitHook = rateLimitHook(limiter);
 * app.addHook('onRequest', hook);
 * ```
 */
export type RateLimitHook = ((request: FastifyRequest, reply: FastifyReply, done: HookHandlerDoneFunction) => void) & {
  readonly stats: RateLimitHelperStats;
};

/**
 * A Fastify `onRequest` hook that applies a monitor rate limiter: refused
 * requests get 429 with `Retry-After` and `RateLimit-*` headers and the
 * standard error body; allowed ones get the `RateLimit-*` headers too. Add it
 * to a context (`app.addHook('onRequest', hook)`) or to one route
 * (`{ onRequest: hook }`). Keys default to `request.ip`. A throwing `key()`
 * lets the request through and is counted in `.stats.errors`.
 *
 * @example
 * ```ts
 * import { rateLimitHook } from 'firebreak/fastify';
 * const limiter = monitor.rateLimiter('api', { maxRequests: 100, windowSeconds: 60 });
 * app.get('/search', { onRequest: rateLimitHook(limiter) }, search);
 * ```
 */
export function rateLimitHook(limiter: LimiterLike, options?: FastifyRateLimitOptions): RateLimitHook {
  const l = parseConfig(limiterSchema, 'firebreak rate limiter', limiter);
  const opts = parseConfig(rateLimitOptionsSchema<FastifyRequest>(), 'firebreak rate-limit options', options);
  const keyOf = opts.key ?? ((request: FastifyRequest) => request.ip);
  const stats: RateLimitHelperStats = { limited: 0, errors: 0 };
  const hook = (request: FastifyRequest, reply: FastifyReply, done: HookHandlerDoneFunction): void => {
    const d = decideRateLimit(l, () => keyOf(request), stats, opts.headers);
    reply.headers(d.headers);
    if (d.allowed) return done();
    // Replying from onRequest ends the request here; done() must not be called too.
    void reply.code(429).send(d.body);
  };
  return Object.assign(hook, { stats });
}

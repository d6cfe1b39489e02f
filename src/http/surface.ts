import type { IncomingHttpHeaders } from 'node:http';
import { z } from 'zod';
import { parseConfig } from '../config.js';
import { ValidationError } from '../errors.js';
import type { Monitor } from '../monitor.js';
import { adminAuditLog, type AdminAuditLog } from './audit.js';
import { Authenticator, roleAllows } from './auth.js';
import { readJsonBody, type BodySource } from './body.js';
import { CallerLimiter, addressKey, type LimitVerdict } from './caller-limiter.js';
import { HttpError, mapError } from './errors.js';
import { httpOptionsSchema, type AuthRequest, type Caller, type HttpOptions, type ResolvedHttpOptions, type Role } from './options.js';
import { rateLimitHeaders } from './rate-limit-headers.js';
import { noBody, noQuery, type AnyRoute, type RouteResult } from './route.js';
import { builtinRoutes } from './routes/index.js';
import { callSafely } from '../safe-call.js';

/**
 * A request, translated by an adapter from its framework.
 *
 * @example
 * ```ts
 * const input: HttpInput = { method: 'GET', path: '/stats/slo', params: {}, search: '', headers: req.headers, body: { kind: 'none' }, ip: req.socket.remoteAddress, raw: req };
 * ```
 */
export interface HttpInput {
  method: string;
  /** Path as requested (mount prefix included), without the query string. */
  path: string;
  /** Route parameters, already decoded. */
  params: Record<string, string>;
  /** The raw query string, with or without the leading `?`. */
  search: string;
  headers: IncomingHttpHeaders;
  body: BodySource;
  ip: string | undefined;
  /** The framework's request object, passed to `authorize(req)`. */
  raw: unknown;
}

/**
 * What an adapter writes back: status, headers (content type included) and body text.
 *
 * @example
 * ```ts
 * const reply: HttpReply = await surface.handle(route, input);
 * res.writeHead(reply.status, reply.headers).end(reply.body);
 * ```
 */
export interface HttpReply {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/**
 * A route of the table, with its access resolved against the options.
 *
 * @example
 * ```ts
 * for (const r of surface.routes) console.log(r.method, r.path, r.access);
 * ```
 */
export interface MountedRoute {
  method: 'GET' | 'POST' | 'DELETE';
  path: string;
  access: 'public' | Role;
  /** `/admin/*` routes are rate-limited per caller and audited. */
  admin: boolean;
  summary: string;
  /** @internal */
  readonly spec: AnyRoute;
  /** @internal path split on `/`, `null` where a parameter goes. */
  readonly segments: readonly (string | null)[];
  /** @internal parameter names in order. */
  readonly paramNames: readonly string[];
}

const PUBLIC_CALLER: Caller = Object.freeze({ name: 'anonymous', role: 'read' });
const ANY_PARAMS = z.record(z.string(), z.string());
const SECURITY_HEADERS = { 'cache-control': 'no-store', 'x-content-type-options': 'nosniff' } as const;
const warnedOpen = new WeakSet<Monitor>();
const GLOBAL_KEY = 'all';

function authLimited(v: LimitVerdict): HttpError {
  return new HttpError('RATE_LIMITED', 'Too many failed authentication attempts; retry later', { retryAfterMs: v.resetMs }, rateLimitHeaders(v, true));
}

function parseQuery(search: string): Record<string, string | string[]> {
  const out = Object.create(null) as Record<string, string | string[]>;
  const params = new URLSearchParams(search.startsWith('?') ? search.slice(1) : search);
  for (const [k, v] of params) {
    const prev = out[k];
    out[k] = prev === undefined ? v : Array.isArray(prev) ? [...prev, v] : [prev, v];
  }
  return out;
}

function validate<S extends z.ZodType>(schema: S, what: string, input: unknown): z.output<S> {
  const r = schema.safeParse(input);
  if (!r.success) throw ValidationError.fromZod(what, r.error);
  return r.data;
}

function toReply(result: RouteResult, extra: Record<string, string> | undefined): HttpReply {
  const status = result.status ?? 200;
  if ('text' in result) {
    return { status, headers: { ...SECURITY_HEADERS, 'content-type': result.contentType, ...extra, ...result.headers }, body: result.text };
  }
  return {
    status,
    headers: { ...SECURITY_HEADERS, 'content-type': 'application/json; charset=utf-8', ...extra, ...result.headers },
    body: JSON.stringify(result.json),
  };
}

function compile(spec: AnyRoute, metricsAccess: 'public' | 'read'): MountedRoute {
  const parts = spec.path.split('/').filter((s) => s !== '');
  return {
    method: spec.method,
    path: spec.path,
    access: spec.access === 'metrics' ? metricsAccess : spec.access,
    admin: parts[0] === 'admin',
    summary: spec.summary,
    spec,
    segments: parts.map((p) => (p.startsWith(':') ? null : p)),
    paramNames: parts.filter((p) => p.startsWith(':')).map((p) => p.slice(1)),
  };
}

/**
 * The framework-agnostic HTTP surface of a monitor: the route table, auth,
 * per-caller rate limiting, body handling, validation, error mapping and the
 * admin audit. Adapters only translate a request into {@link HttpInput} and
 * write back the {@link HttpReply}; adding a framework is one small file.
 *
 * @example
 * ```ts
 * const surface = createHttpSurface(monitor, { auth: { tokens: [process.env.ADMIN_TOKEN!] } });
 * const m = surface.match('GET', '/stats/slo');
 * if (m) writeReply(res, await surface.handle(m.route, { ...input, params: m.params }));
 * ```
 */
export class HttpSurface {
  /** Routes in table order. */
  readonly routes: readonly MountedRoute[];
  readonly options: ResolvedHttpOptions;
  readonly audit: AdminAuditLog;
  private readonly auth: Authenticator;
  private readonly callers: CallerLimiter | undefined;
  private readonly authFailures: CallerLimiter | undefined;
  private readonly globalAuthFailures: CallerLimiter | undefined;

  constructor(
    readonly monitor: Monitor,
    options: HttpOptions,
    routes: readonly AnyRoute[] = builtinRoutes,
  ) {
    this.options = parseConfig(httpOptionsSchema, 'firebreak HTTP options', options);
    this.auth = new Authenticator(this.options.auth);
    if (this.auth.open && !warnedOpen.has(monitor)) {
      warnedOpen.add(monitor);
      // The monitor's logger by default (pino, console or its quiet built-in); a structural monitor from another build may lack one.
      const logger = this.options.logger ?? (monitor as Partial<Monitor>).logger ?? console;
      // A failing logger must not stop the routes from mounting (nor leave a rejection behind).
      callSafely(
        () => {},
        (message: string) => logger.warn(message),
        `firebreak: admin routes of "${monitor.service}" are mounted with auth: 'none'; anyone who can reach them is an operator`,
      );
    }
    const rl = this.options.adminRateLimit;
    if (rl !== false) {
      this.callers = new CallerLimiter(monitor.clock, rl.maxRequests, rl.windowMs, rl.maxCallers);
      this.authFailures = new CallerLimiter(monitor.clock, rl.maxAuthFailures, rl.windowMs, rl.maxCallers);
      this.globalAuthFailures = new CallerLimiter(monitor.clock, rl.maxAuthFailuresGlobal, rl.windowMs, 1);
    }
    this.audit = adminAuditLog(monitor, this.options.auditLimit);
    if (this.options.onAudit !== undefined) this.audit.subscribe(this.options.onAudit);
    this.routes = routes.map((r) => compile(r, this.options.metricsAccess));
  }

  /**
   * Finds the route for a method and a path relative to the mount point
   * (static segments win over parameters). `HEAD` matches `GET` routes.
   * Throws a 400 `ValidationError` for a malformed percent-encoding.
   */
  match(method: string, path: string): { route: MountedRoute; params: Record<string, string> } | undefined {
    const m = method === 'HEAD' ? 'GET' : method;
    const parts = path.split('/').filter((s) => s !== '');
    let best: { route: MountedRoute; raw: string[]; statics: number } | undefined;
    for (const route of this.routes) {
      if (route.method !== m || route.segments.length !== parts.length) continue;
      const raw: string[] = [];
      let statics = 0;
      let ok = true;
      for (let i = 0; i < parts.length; i++) {
        const seg = route.segments[i];
        if (seg === null) raw.push(parts[i]!);
        else if (seg === parts[i]) statics++;
        else {
          ok = false;
          break;
        }
      }
      if (ok && (best === undefined || statics > best.statics)) best = { route, raw, statics };
    }
    if (best === undefined) return undefined;
    const params = Object.create(null) as Record<string, string>;
    best.route.paramNames.forEach((name, i) => {
      try {
        params[name] = decodeURIComponent(best.raw[i]!);
      } catch {
        throw new ValidationError('path', [{ path: name, message: 'malformed percent-encoding' }]);
      }
    });
    return { route: best.route, params };
  }

  /**
   * Runs one call through auth, rate limit, validation and the handler, and
   * audits it when it is an admin route. Never rejects: every failure becomes
   * an error reply.
   */
  async handle(route: MountedRoute, input: HttpInput): Promise<HttpReply> {
    const clock = this.monitor.clock;
    const started = clock.monotonic();
    const request: AuthRequest = { method: input.method, path: input.path, headers: input.headers, ip: input.ip, raw: input.raw };
    let caller: Caller | undefined;
    let bearer = false;
    let body: unknown;
    let limitHeaders: Record<string, string> | undefined;
    let reply: HttpReply;
    let errorCode: string | undefined;
    try {
      if (route.access === 'public') caller = PUBLIC_CALLER;
      else {
        ({ caller, bearer } = await this.authenticate(request));
        if (!roleAllows(caller.role, route.access)) {
          throw new HttpError('FORBIDDEN', `This route needs the ${route.access} role; ${caller.name} has ${caller.role}`, {
            required: route.access,
            role: caller.role,
          });
        }
      }
      if (route.admin && this.callers !== undefined) {
        const v = this.callers.hit(`caller:${caller.name}`);
        limitHeaders = rateLimitHeaders(v, !v.allowed);
        if (!v.allowed) {
          throw new HttpError('RATE_LIMITED', `Too many admin calls from ${caller.name}; retry later`, { retryAfterMs: v.resetMs }, limitHeaders);
        }
      }
      const spec = route.spec;
      const params = validate(spec.params ?? ANY_PARAMS, 'path parameters', input.params);
      const query = validate(spec.query ?? noQuery, 'query', parseQuery(input.search));
      if (route.method === 'POST') {
        // curl -d sends a form content type; only a bearer-authenticated
        // request may use it (a browser cannot forge one), see JsonBodyOptions.
        const raw = await readJsonBody(
          input.body,
          input.headers,
          this.options.bodyLimitBytes,
          { clock, timeoutMs: this.options.bodyTimeoutMs },
          { formEncodedJson: bearer },
        );
        body = validate(spec.body ?? noBody, 'request body', raw ?? {});
      }
      const result = await spec.handler({
        monitor: this.monitor,
        caller,
        params,
        query,
        body,
        request,
        audit: this.audit,
        options: this.options,
      });
      reply = toReply(result, limitHeaders);
    } catch (err) {
      const mapped = mapError(err);
      reply = {
        status: mapped.status,
        headers: { ...SECURITY_HEADERS, 'content-type': 'application/json; charset=utf-8', ...limitHeaders, ...mapped.headers },
        body: JSON.stringify(mapped.body),
      };
      errorCode = mapped.body.error.code;
    }
    if (route.admin) {
      const entry: Parameters<AdminAuditLog['record']>[0] = {
        at: clock.now(),
        caller: caller?.name ?? 'anonymous',
        role: caller?.role,
        method: input.method,
        route: route.path,
        path: input.path,
        params: { ...input.params },
        status: reply.status,
        ip: input.ip,
        durationMs: clock.monotonic() - started,
      };
      if (body !== undefined) entry.body = body;
      if (errorCode !== undefined) entry.code = errorCode;
      this.audit.record(entry);
    }
    return reply;
  }

  /**
   * Failed-auth budgets: per address (IPv6 /64) and global. The per-address
   * budget is checked before the credential, so one address gets at most
   * `maxAuthFailures` guesses per window. The global budget only ever turns
   * a failure into a 429: the credential is compared first (in constant
   * time), so an attacker spending it cannot lock out an operator who holds
   * a valid one. While it is spent, an address that has already failed in
   * its window gets no further guess evaluated, so rotating addresses buys
   * one guess per address, not `maxAuthFailures`.
   */
  private async authenticate(request: AuthRequest): Promise<{ caller: Caller; bearer: boolean }> {
    const key = `ip:${addressKey(request.ip)}`;
    const perAddress = this.authFailures;
    const global = this.globalAuthFailures;
    if (perAddress !== undefined && global !== undefined) {
      // Read-only checks: an address that never failed costs no table entry.
      const addressSpent = perAddress.spent(key);
      if (addressSpent || (global.spent(GLOBAL_KEY) && perAddress.count(key) > 0)) {
        throw authLimited(addressSpent ? perAddress.peek(key) : global.peek(GLOBAL_KEY));
      }
    }
    try {
      return await this.auth.identify(request);
    } catch (err) {
      if (err instanceof HttpError && err.code === 'UNAUTHORIZED' && perAddress !== undefined && global !== undefined) {
        perAddress.hit(key);
        const g = global.hit(GLOBAL_KEY);
        if (!g.allowed) throw authLimited(g);
      }
      throw err;
    }
  }

  /** A 404 reply in the standard error shape, for adapters with no `next`. */
  notFound(method: string, path: string): HttpReply {
    const mapped = mapError(new HttpError('ROUTE_NOT_FOUND', `No firebreak route ${method} ${path}`, { method, path }));
    return {
      status: mapped.status,
      headers: { ...SECURITY_HEADERS, 'content-type': 'application/json; charset=utf-8' },
      body: JSON.stringify(mapped.body),
    };
  }
}

/**
 * Creates the framework-agnostic HTTP surface. Throws a `ConfigError` when
 * the options are invalid, including when `auth` is missing.
 *
 * @example
 * ```ts
 * import { createHttpSurface } from 'firebreak/http';
 * const surface = createHttpSurface(monitor, { auth: { tokens: [{ name: 'grafana', token, role: 'read' }] } });
 * ```
 */
export function createHttpSurface(monitor: Monitor, options: HttpOptions): HttpSurface {
  return new HttpSurface(monitor, options);
}

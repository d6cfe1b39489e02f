import type { IncomingHttpHeaders } from 'node:http';
import { z } from 'zod';
import { dashboardOptionsSchema } from './dashboard/page.js';

/**
 * Roles, weakest first: `operator` can do everything `read` can.
 *
 * @example
 * ```ts
 * ROLES.includes('operator'); // true
 * ```
 */
export const ROLES = ['read', 'operator'] as const;
/**
 * What a caller may do: look (`read`) or change (`operator`).
 *
 * @example
 * ```ts
 * const role: Role = 'read';
 * ```
 */
export type Role = (typeof ROLES)[number];

/**
 * Who is calling, as established by the auth options. `name` is what the
 * audit log records — never the token.
 *
 * @example
 * ```ts
 * const caller: Caller = { name: 'alice', role: 'operator' };
 * ```
 */
export interface Caller {
  name: string;
  role: Role;
}

/**
 * The request as `authorize(req)` sees it, whatever the framework.
 *
 * @example
 * ```ts
 * const authorize = (req: AuthRequest) =>
 *   req.headers['x-ops-key'] === process.env.OPS_KEY ? { name: 'ops', role: 'operator' as const } : null;
 * ```
 */
export interface AuthRequest {
  method: string;
  /** Path as requested (mount prefix included), without the query string. */
  path: string;
  headers: IncomingHttpHeaders;
  /** Remote address as the framework reports it (honours Express `trust proxy`). */
  ip: string | undefined;
  /** The framework's own request object (Express `req`, Fastify `request`, `IncomingMessage`). */
  raw: unknown;
}

/**
 * The host's own authentication: return the caller, or null/undefined to deny (401).
 *
 * @example
 * ```ts
 * const authorize: AuthorizeFn = async (req) => (await sso.verify(req.headers.cookie)) ? { name: 'sso', role: 'read' } : null;
 * ```
 */
export type AuthorizeFn = (req: AuthRequest) => Caller | null | undefined | Promise<Caller | null | undefined>;

const isFn = (v: unknown): boolean => typeof v === 'function';

const TOKEN_MIN = 16;
const tokenString = z
  .string({ error: 'token must be a string (is the environment variable set?)' })
  .min(TOKEN_MIN, `token must be at least ${TOKEN_MIN} characters (generate one with: openssl rand -hex 32)`)
  .max(4096)
  // Sent as `Authorization: Bearer <token>`: whitespace would make it unusable.
  .regex(/^\S+$/, 'token must not contain whitespace');

/**
 * Name shown in the audit log for a caller.
 *
 * @example
 * ```ts
 * callerNameSchema.parse('alice');
 * ```
 */
export const callerNameSchema = z
  .string()
  .min(1, 'name must not be empty')
  .max(64)
  .regex(/^[\w.@:-]+$/, 'name may only contain letters, digits and _ . @ : -');

/**
 * A caller as `authorize(req)` must return it.
 *
 * @example
 * ```ts
 * callerSchema.parse({ name: 'alice', role: 'operator' });
 * ```
 */
export const callerSchema = z.strictObject({ name: callerNameSchema, role: z.enum(ROLES) });

interface UnionIssue {
  input?: unknown;
  errors?: { path: PropertyKey[]; message: string }[][];
}

/**
 * zod reports a failed union as "Invalid input"; say instead what is wrong
 * with the branch the input was meant for (by its type), paths included.
 */
function explainBranch(iss: UnionIssue, branch: number): string | undefined {
  const issues = iss.errors?.[branch];
  if (issues === undefined || issues.length === 0) return undefined;
  return issues.map((i) => (i.path.length === 0 ? i.message : `${i.path.map(String).join('.')}: ${i.message}`)).join('; ');
}

/**
 * A bearer token: a plain string is an operator token named `default`;
 * an object names it and sets its role.
 *
 * @example
 * ```ts
 * tokenSchema.parse({ name: 'grafana', token: process.env.GRAFANA_TOKEN, role: 'read' });
 * ```
 */
export const tokenSchema = z.union(
  [tokenString, z.strictObject({ name: callerNameSchema, token: tokenString, role: z.enum(ROLES) })],
  {
    error: (iss) => {
      const input = (iss as UnionIssue).input;
      if (typeof input === 'object' && input !== null) return explainBranch(iss as UnionIssue, 1);
      if (typeof input === 'string') return explainBranch(iss as UnionIssue, 0);
      return 'token must be a string or { name, token, role } (is the environment variable set?)';
    },
  },
);

const authObjectSchema = z
  .strictObject({
    /** Bearer tokens accepted in `Authorization: Bearer <token>`. */
    tokens: z.array(tokenSchema).min(1, 'tokens must list at least one token').max(100).optional(),
    /** The host's own scheme, tried when no token matches. */
    authorize: z.custom<AuthorizeFn>(isFn, { message: 'authorize must be a function (req) => caller | null' }).optional(),
  })
  .superRefine((auth, ctx) => {
    if (auth.tokens === undefined && auth.authorize === undefined) {
      ctx.addIssue({ code: 'custom', path: [], message: 'auth needs tokens or authorize(req)' });
      return;
    }
    const names = new Set<string>();
    const secrets = new Set<string>();
    (auth.tokens ?? []).forEach((t, i) => {
      const name = typeof t === 'string' ? 'default' : t.name;
      const secret = typeof t === 'string' ? t : t.token;
      if (names.has(name)) ctx.addIssue({ code: 'custom', path: ['tokens', i], message: `duplicate token name "${name}"` });
      if (secrets.has(secret)) ctx.addIssue({ code: 'custom', path: ['tokens', i], message: 'the same token is listed twice' });
      names.add(name);
      secrets.add(secret);
    });
  });

/**
 * A host stats provider served at `GET /stats/<name>`: returns (or resolves
 * to) any JSON-serialisable value. It is called on every request, so keep it
 * cheap; a throw, a rejection, a timeout or an oversized result becomes an
 * error reply, never a crash.
 *
 * @example
 * ```ts
 * const device: StatsSectionFn = () => ({ gpu: 'available', model: 'cross-encoder/ms-marco-MiniLM-L-6-v2', loaded: true });
 * ```
 */
export type StatsSectionFn = () => unknown;

/** Section names the built-in `/stats/*` routes already take. */
export const BUILTIN_STATS_SECTIONS: readonly string[] = ['slo', 'metrics', 'cache', 'rate-limit'];

const statsSectionName = z
  .string()
  .regex(/^[a-z0-9][a-z0-9_-]{0,62}$/, 'stats section names are 1-63 lowercase letters, digits, - or _')
  .refine((n) => !BUILTIN_STATS_SECTIONS.includes(n), { message: 'is a built-in /stats route' });

/**
 * What `POST /admin/canary/disable` and `POST /admin/canary/emergency-stop`
 * also act on when called without a `canary` field (the runbook lines, as
 * pasted): fallback wrappers forced onto their fallback, features turned
 * off, and (`riskyFeatures`) every `{ risky: true }` feature.
 *
 * @example
 * ```ts
 * const t: CanaryTargets = { fallbacks: ['reranker'], riskyFeatures: true };
 * ```
 */
export interface CanaryTargets {
  fallbacks?: string[] | undefined;
  features?: string[] | undefined;
  riskyFeatures?: boolean | undefined;
}

const canaryTargetsSchema = z.strictObject({
  /** Fallback wrappers (`monitor.fallback(name)`) forced onto their fallback (action `model.fallback`). */
  fallbacks: z.array(z.string().min(1).max(200)).max(50).optional(),
  /** Features (`monitor.feature(name)`) turned off (action `feature.disable`). */
  features: z.array(z.string().min(1).max(200)).max(50).optional(),
  /** Every `{ risky: true }` feature turned off (action `feature.emergency-stop`). */
  riskyFeatures: z.boolean().optional(),
});

const MISSING_AUTH =
  "auth is required: pass auth: { tokens: [...] } or auth: { authorize(req) }, or auth: 'none' to serve admin routes without authentication";

/**
 * Per-caller limit on `/admin/*` calls (fixed window).
 *
 * @example
 * ```ts
 * adminRateLimitSchema.parse({ maxRequests: 30 }); // windowMs 60000, maxCallers 1000, maxAuthFailures 20, maxAuthFailuresGlobal 200
 * ```
 */
export const adminRateLimitSchema = z.strictObject({
  maxRequests: z.number().int().positive().default(120),
  windowMs: z.number().int().positive().default(60_000),
  /** Callers (and failing remote addresses) tracked at once; the least recently seen is forgotten first. */
  maxCallers: z.number().int().positive().max(100_000).default(1_000),
  /**
   * Failed authentications allowed per remote address (IPv6 grouped by /64)
   * per window; past it the address gets 429, valid credential or not, until
   * its window ends.
   */
  maxAuthFailures: z.number().int().positive().default(20),
  /**
   * Failed authentications allowed from all addresses together per window
   * (against an attacker rotating addresses). Past it, failures get 429
   * until the window ends and an address that has already failed in its
   * window is refused before its credential is looked at; a valid credential
   * from any other address still gets in.
   */
  maxAuthFailuresGlobal: z.number().int().positive().default(200),
});

/**
 * Options shared by every adapter's routes. Types are inferred from this schema.
 *
 * @example
 * ```ts
 * const opts = httpOptionsSchema.parse({ auth: { tokens: [process.env.ADMIN_TOKEN] }, metricsAccess: 'read' });
 * ```
 */
export const httpOptionsSchema = z.strictObject({
  /**
   * Who may call: `{ tokens }`, `{ authorize(req) }` (or both), or `'none'`
   * to opt out of authentication explicitly (a warning is logged once).
   */
  auth: z.union([z.literal('none'), authObjectSchema], {
    error: (iss) => {
      const input = (iss as UnionIssue).input;
      if (input === undefined) return MISSING_AUTH;
      if (typeof input === 'object' && input !== null) return explainBranch(iss as UnionIssue, 1);
      return "auth must be { tokens }, { authorize } or 'none'";
    },
  }),
  /** Who may scrape `GET /metrics`: anyone (`public`, the Prometheus norm) or the `read` role. */
  metricsAccess: z.enum(['public', 'read']).default('public'),
  /** Largest accepted JSON body; larger bodies get 413. */
  bodyLimitBytes: z.number().int().positive().max(1_048_576).default(16_384),
  /**
   * Time allowed to receive a request body the library reads itself (all
   * three adapters, unless a host parser such as `express.json()` read it
   * first), on the monitor's clock. Past it: 408 `REQUEST_TIMEOUT` and the
   * connection is closed, so a stalled client cannot hold a request open.
   */
  bodyTimeoutMs: z.number().int().positive().max(600_000).default(10_000),
  /** Per-caller rate limit of `/admin/*` routes, or `false` to turn it off. */
  adminRateLimit: z
    .union([z.literal(false), adminRateLimitSchema])
    .default({ maxRequests: 120, windowMs: 60_000, maxCallers: 1_000, maxAuthFailures: 20, maxAuthFailuresGlobal: 200 }),
  /**
   * `GET /health/ready` reuses a health report this recent (and joins a run in
   * progress), so a flood of probes cannot turn into a flood of database pings.
   */
  readyCacheMs: z.number().int().nonnegative().max(60_000).default(1_000),
  /**
   * `GET /dashboard`: `true` (default) serves the operator page, `false` answers 404,
   * an object sets its options (`pollMs`, `title`, `historySize`).
   */
  dashboard: z.union([z.boolean(), dashboardOptionsSchema]).default(true),
  /**
   * Host stats sections: `{ device: () => ({ gpu, model }) }` serves
   * `GET /stats/device` (read role) with the provider's value. Names must not
   * be a built-in section (`slo`, `metrics`, `cache`, `rate-limit`).
   */
  statsSections: z
    .record(statsSectionName, z.custom<StatsSectionFn>(isFn, { message: 'a stats section must be a function () => value' }))
    .refine((r) => Object.keys(r).length <= 50, { message: 'at most 50 stats sections' })
    .default({}),
  /** Time a stats section provider may take; past it: 504 `STATS_SECTION_TIMEOUT`. */
  statsSectionTimeoutMs: z.number().int().positive().max(60_000).default(2_000),
  /** Largest JSON a stats section may return; larger: 500 `STATS_SECTION_FAILED`. */
  statsSectionMaxBytes: z.number().int().positive().max(4_194_304).default(65_536),
  /**
   * What the runbooks' canary routes also act on when called without a
   * `canary` field: `disable` ("disable cross-encoder reranking") and
   * `emergencyStop` ("emergency stop all features"). Default: the canaries
   * only. See {@link CanaryTargets}.
   */
  canaryRoutes: z
    .strictObject({ disable: canaryTargetsSchema.optional(), emergencyStop: canaryTargetsSchema.optional() })
    .default({}),
  /** Admin calls kept in the in-memory audit log (oldest dropped first, drops counted). */
  auditLimit: z.number().int().positive().max(100_000).default(1_000),
  /**
   * Called with every audit entry (e.g. to ship it to the host's logs); may be
   * async. A throw or a rejected promise is contained and counted
   * (`adminAuditLog(monitor).listenerErrors`).
   */
  onAudit: z.custom<(entry: AdminAuditEntry) => void | Promise<void>>(isFn, { message: 'onAudit must be a function' }).optional(),
  /** Where the one-time `auth: 'none'` warning goes (default: the monitor's `logger`, whose quiet default is a Node process warning). */
  logger: z
    .custom<{ warn(message: string): void }>(
      (v) => typeof v === 'object' && v !== null && isFn((v as Record<string, unknown>)['warn']),
      { message: 'logger must have a warn(message) method' },
    )
    .optional(),
});

/**
 * Options of the admin/stats routes, as the user writes them.
 *
 * @example
 * ```ts
 * const opts: HttpOptions = { auth: { tokens: [process.env.ADMIN_TOKEN!] }, adminRateLimit: { maxRequests: 30, windowMs: 60_000 } };
 * ```
 */
export type HttpOptions = z.input<typeof httpOptionsSchema>;
/**
 * Options after validation and defaults.
 *
 * @example
 * ```ts
 * surface.options.bodyLimitBytes; // 16384 unless set
 * ```
 */
export type ResolvedHttpOptions = z.output<typeof httpOptionsSchema>;
/**
 * The `auth` option.
 *
 * @example
 * ```ts
 * const auth: AuthOptions = { tokens: [{ name: 'alice', token: process.env.ALICE_TOKEN!, role: 'operator' }] };
 * ```
 */
export type AuthOptions = HttpOptions['auth'];
/**
 * One entry of `auth.tokens`.
 *
 * @example
 * ```ts
 * const t: TokenOption = { name: 'grafana', token: process.env.GRAFANA_TOKEN!, role: 'read' };
 * ```
 */
export type TokenOption = z.input<typeof tokenSchema>;

/**
 * One admin call in the audit log. Identifies the caller by name only.
 *
 * @example
 * ```ts
 * firebreakRouter(monitor, { auth, onAudit: (e) => logger.info(e, 'firebreak admin call') });
 * ```
 */
export interface AdminAuditEntry {
  /** Increasing sequence number. */
  seq: number;
  /** Clock time (epoch ms). */
  at: number;
  /** Caller name (`anonymous` when authentication failed). */
  caller: string;
  role: Role | undefined;
  method: string;
  /** Route template, e.g. `/admin/incidents/:id/resolve`. */
  route: string;
  /** Path as called. */
  path: string;
  params: Record<string, string>;
  /** The validated body (never raw input); omitted when the call had none or was refused. */
  body?: unknown;
  status: number;
  /** Error code when the call failed. */
  code?: string;
  ip: string | undefined;
  durationMs: number;
}

import { z } from 'zod';
import type { Monitor } from '../monitor.js';
import type { AdminAuditLog } from './audit.js';
import type { AuthRequest, Caller, ResolvedHttpOptions, Role } from './options.js';

/**
 * Who may call a route: anyone, the `read` role, the `operator` role, or as `metricsAccess` says.
 *
 * @example
 * ```ts
 * const access: RouteAccess = 'read';
 * ```
 */
export type RouteAccess = 'public' | Role | 'metrics';

/**
 * What a route handler receives: validated params, query and body, the
 * caller, and the monitor.
 *
 * @example
 * ```ts
 * handler: ({ monitor, caller, body }: RouteContext<{}, {}, { note?: string }>) => ({ json: { by: caller.name } })
 * ```
 */
export interface RouteContext<P = unknown, Q = unknown, B = unknown> {
  monitor: Monitor;
  /** The authenticated caller; public routes see `{ name: 'anonymous', role: 'read' }`. */
  caller: Caller;
  params: P;
  query: Q;
  body: B;
  request: AuthRequest;
  /** The monitor's admin audit log. */
  audit: AdminAuditLog;
  /** The mount's validated options. */
  options: ResolvedHttpOptions;
}

/**
 * What a route handler returns: JSON, or text with its content type.
 *
 * @example
 * ```ts
 * const result: RouteResult = { text: '# Post-mortem', contentType: 'text/markdown' };
 * ```
 */
export type RouteResult =
  | { status?: number; json: unknown; headers?: Record<string, string> }
  | { status?: number; text: string; contentType: string; headers?: Record<string, string> };

/**
 * A route as the table declares it. Build one with {@link defineRoute}.
 *
 * @example
 * ```ts
 * const spec: RouteSpec = { method: 'GET', path: '/health', access: 'public', summary: 'Liveness', handler: () => ({ json: { ok: true } }) };
 * ```
 */
export interface RouteSpec<P extends z.ZodType = z.ZodType, Q extends z.ZodType = z.ZodType, B extends z.ZodType = z.ZodType> {
  method: 'GET' | 'POST' | 'DELETE';
  /** Path template relative to the mount point, `:name` for parameters (`/admin/incidents/:id`). */
  path: string;
  access: RouteAccess;
  /** One line for the route table in docs and the dashboard. */
  summary: string;
  params?: P;
  query?: Q;
  /** Strict schema of the JSON body (POST only); an empty body is parsed as `{}`. */
  body?: B;
  handler(ctx: RouteContext<z.output<P>, z.output<Q>, z.output<B>>): RouteResult | Promise<RouteResult>;
}

/**
 * A route with its schema types erased, as tables hold them.
 *
 * @example
 * ```ts
 * const routes: AnyRoute[] = [defineRoute({ method: 'GET', path: '/ping', access: 'public', summary: 'ping', handler: () => ({ json: 'pong' }) })];
 * ```
 */
export type AnyRoute = RouteSpec<z.ZodType, z.ZodType, z.ZodType>;

/**
 * Declares a route; the handler's `params`, `query` and `body` are typed
 * from the schemas.
 *
 * @example
 * ```ts
 * const route = defineRoute({
 *   method: 'GET', path: '/stats/slo', access: 'read', summary: 'SLO results',
 *   handler: ({ monitor }) => ({ json: monitor.stats().slos }),
 * });
 * ```
 */
export function defineRoute<
  P extends z.ZodType = z.ZodRecord<z.ZodString, z.ZodString>,
  Q extends z.ZodType = z.ZodObject<Record<string, never>>,
  B extends z.ZodType = z.ZodObject<Record<string, never>>,
>(spec: RouteSpec<P, Q, B>): AnyRoute {
  return spec as unknown as AnyRoute;
}

/** Schema of a route parameter naming something (id, feature, model). */
export const nameParam = z
  .string()
  .min(1)
  .max(200, 'must be at most 200 characters')
  .regex(/^[^\u0000-\u001f]+$/, 'must not contain control characters');

/** No query parameters allowed. */
export const noQuery = z.strictObject({});
/** No body fields allowed (an empty body is fine). */
export const noBody = z.strictObject({});

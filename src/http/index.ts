/**
 * `firebreak/http`: the framework-agnostic HTTP surface and the plain
 * `node:http` handler. Everything an adapter for another framework needs is
 * here: build an {@link HttpSurface}, translate a request into an
 * {@link HttpInput}, write back the {@link HttpReply}.
 *
 * @example
 * ```ts
 * import { createServer } from 'node:http';
 * import { createHandler } from 'firebreak/http';
 * createServer(createHandler(monitor, { auth: { tokens: [process.env.ADMIN_TOKEN!] } })).listen(8080);
 * ```
 *
 * @packageDocumentation
 */
export { createHandler, nodeHandlerOptionsSchema } from '../adapters/node-http.js';
export type { NodeHandlerOptions, FirebreakNodeHandler } from '../adapters/node-http.js';
export { HttpSurface, createHttpSurface } from './surface.js';
export type { HttpInput, HttpReply, MountedRoute } from './surface.js';
export { httpOptionsSchema, tokenSchema, callerSchema, ROLES } from './options.js';
export type {
  HttpOptions,
  ResolvedHttpOptions,
  AuthOptions,
  TokenOption,
  AuthorizeFn,
  AuthRequest,
  Caller,
  Role,
  AdminAuditEntry,
} from './options.js';
export { HttpError, STATUS_BY_CODE, mapError } from './errors.js';
export type { HttpErrorCode, ErrorBody, MappedError } from './errors.js';
export { AdminAuditLog, adminAuditLog } from './audit.js';
export type { AdminAuditFilter } from './audit.js';
export { readJsonBody, isJsonMediaType, isFormMediaType } from './body.js';
export type { BodySource, ByteStream, JsonBodyOptions, BodyDeadline } from './body.js';
export { sanitizeJson } from './safe-json.js';
export { writeReply } from './node-reply.js';
export { rateLimitHeaders } from './rate-limit-headers.js';
export type { RateLimitState } from './rate-limit-headers.js';
export { defineRoute } from './route.js';
export type { RouteSpec, RouteContext, RouteResult, RouteAccess, AnyRoute } from './route.js';
export { NOT_FOUND_ROUTE, ABORTED_STATUS } from './recording.js';
export { decideRateLimit, limiterSchema, rateLimitOptionsSchema } from './rate-limit.js';
export type { LimiterLike, RateLimitDecision, RateLimitHelperStats } from './rate-limit.js';
export { dashboardPage, dashboardOptionsSchema } from './dashboard/page.js';
export type { DashboardOptions, DashboardPage } from './dashboard/page.js';

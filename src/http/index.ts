/**
 * The framework-agnostic HTTP surface: routes, auth, bodies, errors and
 * replies. Adapters (Express, Fastify, node:http) import it; `firebreak/http`
 * (src/adapters/http.ts) publishes it with the node:http handler.
 */
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

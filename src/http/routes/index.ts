import type { AnyRoute } from '../route.js';
import { auditRoutes } from './audit.js';
import { healthRoutes } from './health.js';
import { statsRoutes } from './stats.js';

/** Every built-in route, in table order. */
export const builtinRoutes: readonly AnyRoute[] = [...healthRoutes, ...statsRoutes, ...auditRoutes];

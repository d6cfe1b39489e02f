import type { AnyRoute } from '../route.js';
import { actionRoutes } from './actions.js';
import { auditRoutes } from './audit.js';
import { controlRoutes } from './controls.js';
import { dashboardRoutes } from './dashboard.js';
import { healthRoutes } from './health.js';
import { incidentRoutes } from './incidents.js';
import { silenceRoutes } from './silences.js';
import { statsRoutes } from './stats.js';
import { statsSectionRoute } from './stats.js';

/** Every built-in route, in table order (static paths before parameters). */
export const builtinRoutes: readonly AnyRoute[] = [
  ...healthRoutes,
  ...statsRoutes,
  ...controlRoutes,
  ...incidentRoutes,
  ...actionRoutes,
  ...silenceRoutes,
  ...auditRoutes,
  ...dashboardRoutes,
  statsSectionRoute,
];

import type { Express } from 'express';
// The sources, so the test type-checks without a build (the demo itself passes the package).
import type { Monitor, MonitorOptions } from '../../src/index.js';
import type { firebreakMiddleware, firebreakRateLimit, firebreakRouter } from '../../src/adapters/express.js';

/** What the demo service is built from (the library is passed in). */
export interface ServiceDeps {
  firebreak: { createMonitor(options: MonitorOptions): Monitor };
  adapters: { firebreakMiddleware: typeof firebreakMiddleware; firebreakRateLimit: typeof firebreakRateLimit; firebreakRouter: typeof firebreakRouter };
  /** The operator's bearer token. */
  token: string;
  /** Overrides of the monitor options (windows, clock…). */
  monitorOptions?: Partial<MonitorOptions>;
}

export interface SearchService {
  app: Express;
  monitor: Monitor;
  reranker: ReturnType<Monitor['fallback']>;
  rerank: ReturnType<Monitor['feature']>;
  canary: ReturnType<Monitor['canary']>;
  cache: ReturnType<Monitor['cache']>;
  limiter: ReturnType<Monitor['rateLimiter']>;
}

/** Builds the demo's search service: monitor, controls, Express app with the firebreak routes. */
export function createSearchService(deps: ServiceDeps): Promise<SearchService>;

import { z } from 'zod';
import { NotFoundError, isFirebreakError } from '../../errors.js';
import type { Monitor } from '../../monitor.js';
import { containAsync, errorMessage } from '../../safe-call.js';
import type { SloResult, SloStatus } from '../../slo/evaluate.js';
import { checkParsed } from '../body.js';
import { HttpError } from '../errors.js';
import type { StatsSectionFn } from '../options.js';
import { defineRoute, type AnyRoute } from '../route.js';
import { fleetWindowsOf } from '../../fleet/snapshot.js';

const RANK: Record<SloStatus, number> = { 'no-data': 0, ok: 1, warning: 2, breach: 3 };

/** The worst status among SLOs that have data (`no-data` when none has). */
export function worstStatus(slos: readonly SloResult[]): SloStatus {
  let worst: SloStatus = 'no-data';
  for (const s of slos) if (RANK[s.status] > RANK[worst]) worst = s.status;
  return worst;
}

function sectionFailed(name: string, why: string): HttpError {
  return new HttpError('STATS_SECTION_FAILED', `stats section "${name}" failed: ${why}`, { section: name });
}

/**
 * Runs a host provider with a deadline on the monitor's clock. A throw, a
 * rejection (also one arriving after the deadline) or a hang never reaches
 * the host: each becomes an error reply.
 */
function runProvider(monitor: Monitor, name: string, fn: StatsSectionFn, timeoutMs: number): Promise<unknown> {
  return new Promise((resolve, reject) => {
    let result: unknown;
    try {
      result = fn();
    } catch (err) {
      reject(sectionFailed(name, errorMessage(err)));
      return;
    }
    if (typeof (result as { then?: unknown } | null)?.then !== 'function') {
      resolve(result);
      return;
    }
    let settled = false;
    const timer = monitor.clock.setTimeout(() => {
      settled = true;
      reject(new HttpError('STATS_SECTION_TIMEOUT', `stats section "${name}" did not answer within ${timeoutMs} ms`, { section: name, timeoutMs }));
    }, timeoutMs);
    // containAsync keeps a late or odd rejection from becoming unhandled.
    Promise.resolve(containAsync(result as PromiseLike<unknown>)).then(
      (value) => {
        if (settled) return;
        settled = true;
        monitor.clock.clearTimeout(timer);
        resolve(value);
      },
      (err: unknown) => {
        if (settled) return;
        settled = true;
        monitor.clock.clearTimeout(timer);
        reject(sectionFailed(name, errorMessage(err)));
      },
    );
  });
}

/** The provider's value as JSON text, within `maxBytes` (walked before it is serialised). */
function sectionJson(name: string, value: unknown, maxBytes: number): string {
  try {
    checkParsed(value, maxBytes);
  } catch (err) {
    if (isFirebreakError(err) && err.code === 'PAYLOAD_TOO_LARGE') throw sectionFailed(name, `result exceeds ${maxBytes} bytes`);
    throw sectionFailed(name, 'result nested too deep (or cyclic)');
  }
  let text: string | undefined;
  try {
    text = JSON.stringify(value ?? null);
  } catch (err) {
    throw sectionFailed(name, `result is not JSON-serialisable: ${errorMessage(err)}`);
  }
  // toJSON() may return more than the walk saw.
  if (text === undefined || Buffer.byteLength(text) > maxBytes) throw sectionFailed(name, `result exceeds ${maxBytes} bytes`);
  return text;
}

/** `GET /stats/slo`, `/stats/metrics`, `/stats/cache`, `/stats/rate-limit`, `/stats/history` and `/stats/fleet`. */
export const statsRoutes: AnyRoute[] = [
  defineRoute({
    method: 'GET',
    path: '/stats/history',
    access: 'read',
    summary: 'Server-side history: a snapshot per interval (rate, success, p50/p95/p99, cache hit rate, each SLO with budget and burn) and incident/action markers',
    // Output is bounded by the ring itself (capacity × SLOs ≤ maxBytes of numbers, ≤ 256 markers).
    query: z.strictObject({
      since: z.coerce.number().int().nonnegative().optional(),
      limit: z.coerce.number().int().min(1).max(100_000).optional(),
    }),
    handler: ({ monitor, query }) => {
      const opts: { sinceMs?: number; limit?: number } = {};
      if (query.since !== undefined) opts.sinceMs = query.since;
      if (query.limit !== undefined) opts.limit = query.limit;
      return { json: { service: monitor.service, at: monitor.clock.now(), ...monitor.history.read(opts) } };
    },
  }),
  defineRoute({
    method: 'GET',
    path: '/stats/slo',
    access: 'read',
    summary: 'Every SLO: value, target, status, samples, error budget; status is the worst of them',
    handler: ({ monitor }) => {
      const stats = monitor.stats();
      return { json: { service: stats.service, at: stats.at, status: worstStatus(stats.slos), slos: stats.slos } };
    },
  }),
  defineRoute({
    method: 'GET',
    path: '/stats/metrics',
    access: 'read',
    summary: 'The stats() snapshot: overall, per route, per cache, recording health',
    handler: ({ monitor }) => ({ json: monitor.stats() }),
  }),
  defineRoute({
    method: 'GET',
    path: '/stats/cache',
    access: 'read',
    summary: "Per cache: the window's hits, misses, errors and hit rate, and the guarded cache's size and disabled state",
    handler: ({ monitor }) => {
      const stats = monitor.stats();
      const controls = monitor.controls.stats().caches;
      const names = [...new Set([...Object.keys(stats.caches), ...Object.keys(controls)])].sort();
      const caches = Object.fromEntries(names.map((n) => [n, { window: stats.caches[n] ?? null, control: controls[n] ?? null }]));
      return { json: { service: stats.service, at: stats.at, windowMs: stats.windowMs, caches } };
    },
  }),
  defineRoute({
    method: 'GET',
    path: '/stats/rate-limit',
    access: 'read',
    summary: 'Per limiter: limit in force, configured limit, allowed/limited, blocked keys, top offenders; 429s per route',
    handler: ({ monitor }) => {
      const stats = monitor.stats();
      // Prototype-less: a route named `__proto__` is a key like any other.
      const rateLimitedByRoute = Object.create(null) as Record<string, number>;
      for (const [route, r] of Object.entries(stats.routes)) if (r.rateLimited > 0) rateLimitedByRoute[route] = r.rateLimited;
      return {
        json: {
          service: stats.service,
          at: stats.at,
          limiters: monitor.controls.stats().rateLimiters,
          windowMs: stats.windowMs,
          rateLimited: stats.overall.rateLimited,
          rateLimitedByRoute,
        },
      };
    },
  }),
  defineRoute({
    method: 'GET',
    path: '/stats/fleet',
    access: 'read',
    summary: "With a fleet attached: every replica's window merged (overall, routes, caches, request and cache SLOs), and which replicas are in it",
    handler: async (ctx) => {
      const reader = fleetWindowsOf(ctx.monitor);
      // No fleet: a host section named `fleet` still answers here.
      if (reader === undefined) return statsSectionRoute.handler({ ...ctx, params: { section: 'fleet' } });
      let stats;
      try {
        stats = await reader.stats();
      } catch (err) {
        throw new HttpError('NOT_READY', `fleet windows unavailable: ${errorMessage(err)}`, { code: isFirebreakError(err) ? err.code : 'FLEET_UNAVAILABLE' });
      }
      return { json: { ...stats, status: worstStatus(stats.slos) } };
    },
  }),
];

/**
 * `GET /stats/:section`, the host's sections. Last in the route table:
 * Express matches in registration order, and every static `/stats/*` route
 * (`/stats/incidents` too) must win over the parameter.
 */
export const statsSectionRoute: AnyRoute = defineRoute({
  method: 'GET',
  path: '/stats/:section',
  access: 'read',
  summary: "A host stats section (statsSections option), e.g. /stats/device: the provider's value, size-capped and timed out",
  params: z.strictObject({ section: z.string().min(1).max(64) }),
  handler: async ({ monitor, params, options }) => {
    const name = params.section;
    const fn = Object.hasOwn(options.statsSections, name) ? options.statsSections[name] : undefined;
    if (fn === undefined) throw new NotFoundError('stats section', name);
    const value = await runProvider(monitor, name, fn, options.statsSectionTimeoutMs);
    const at = monitor.clock.now();
    const json = sectionJson(name, value, options.statsSectionMaxBytes);
    return {
      text: `{"service":${JSON.stringify(monitor.service)},"section":${JSON.stringify(name)},"at":${at},"stats":${json}}`,
      contentType: 'application/json; charset=utf-8',
    };
  },
});

import { z } from 'zod';
import type { Monitor } from '../../monitor.js';
import { errorMessage } from '../../safe-call.js';
import { HttpError } from '../errors.js';
import type { CanaryTargets } from '../options.js';
import { defineRoute, nameParam, type AnyRoute, type RouteContext, type RouteResult } from '../route.js';
import { defined, runAction, type ControlTarget } from './control-actions.js';

const controlName = z.string().min(1).max(100);
const reason = z.string().max(500).optional();
const pathName = z.strictObject({ name: nameParam });
const maxRequests = z.number().int().positive().max(1_000_000_000);
const windowSeconds = z.number().positive().max(30 * 86_400);
const ttlSeconds = z.number().int().positive().max(30 * 86_400);

/** The runbooks write `max_requests`; code writes `maxRequests`. Either, never both. */
function notBoth(snake: string, camel: string): [(b: Record<string, unknown>) => boolean, { message: string; path: string[] }] {
  return [(b) => b[snake] === undefined || b[camel] === undefined, { message: `give ${snake} or ${camel}, not both`, path: [snake] }];
}

const adjustBody = z
  .strictObject({
    limiter: controlName.optional(),
    max_requests: maxRequests.optional(),
    maxRequests: maxRequests.optional(),
    window_seconds: windowSeconds.optional(),
    windowSeconds: windowSeconds.optional(),
  })
  .refine(...notBoth('max_requests', 'maxRequests'))
  .refine(...notBoth('window_seconds', 'windowSeconds'))
  .refine((b) => b.max_requests !== undefined || b.maxRequests !== undefined, { message: 'max_requests is required', path: ['max_requests'] });

const blockBody = z
  .strictObject({
    limiter: controlName.optional(),
    key: z.string().min(1).max(500).optional(),
    top: z.number().int().positive().max(1000).optional(),
    ttl_seconds: ttlSeconds.optional(),
    ttlSeconds: ttlSeconds.optional(),
    confirm: z.boolean().optional(),
  })
  .refine(...notBoth('ttl_seconds', 'ttlSeconds'));

const disableFeatureBody = z
  .strictObject({ reason, ttl_seconds: ttlSeconds.optional(), ttlSeconds: ttlSeconds.optional() })
  .refine(...notBoth('ttl_seconds', 'ttlSeconds'));

const cache = (m: Monitor, name: string | undefined): ControlTarget => ({ kind: 'cache', controls: m.controls.caches, name });
const limiter = (m: Monitor, name: string | undefined): ControlTarget => ({ kind: 'rate limiter', controls: m.controls.rateLimiters, name });
const canary = (m: Monitor, name: string | undefined): ControlTarget => ({ kind: 'canary', controls: m.controls.canaries, name });
const feature = (m: Monitor, name: string): ControlTarget => ({ kind: 'feature', controls: m.controls.features, name });
const fallback = (m: Monitor, name: string): ControlTarget => ({ kind: 'fallback', controls: m.controls.fallbacks, name });

/** One step of a runbook canary line that acts on several controls. */
interface TargetOutcome {
  action: string;
  target: string | null;
  outcome: string;
  message?: string;
  error?: string;
  executionId?: string;
  /** With a fleet attached: whether the step's change reached the fleet. */
  fleet?: { propagated: boolean; pending: number };
}

/**
 * The runbook's `POST /admin/canary/disable` ("disable cross-encoder
 * reranking") and `/emergency-stop` ("emergency stop all features"), called
 * without a `canary` field on a mount whose `canaryRoutes` names more to act
 * on: every canary, then the configured fallbacks and features. Each step
 * runs (and is audited) on its own, so one missing control cannot stop the
 * others in an emergency; any failure makes the reply a 500 listing all steps.
 */
async function canaryLine(
  c: RouteContext<unknown, unknown, { canary?: string | undefined; reason?: string | undefined }>,
  targets: CanaryTargets,
  canaryAction: 'canary.disable' | 'canary.emergency-stop',
): Promise<RouteResult> {
  const reason = c.body.reason ?? `runbook: POST ${c.request.path}`;
  const steps: { action: string; target: string | null; params: Record<string, unknown> }[] = [];
  for (const name of c.monitor.controls.canaries.keys()) {
    steps.push({ action: canaryAction, target: name, params: canaryAction === 'canary.disable' ? { name } : { name, reason } });
  }
  for (const name of targets.fallbacks ?? []) steps.push({ action: 'model.fallback', target: name, params: { name, reason } });
  for (const name of targets.features ?? []) steps.push({ action: 'feature.disable', target: name, params: { name, reason } });
  if (targets.riskyFeatures === true) steps.push({ action: 'feature.emergency-stop', target: null, params: { reason } });
  const done: TargetOutcome[] = [];
  for (const step of steps) {
    try {
      const ex = await c.monitor.actions.execute(step.action, { params: step.params, by: c.caller.name });
      const o: TargetOutcome = { action: step.action, target: step.target, outcome: ex.outcome, executionId: ex.id };
      if (ex.message !== undefined) o.message = ex.message;
      if (ex.error !== undefined) o.error = ex.error;
      if (ex.fleet !== undefined) o.fleet = ex.fleet;
      done.push(o);
    } catch (err) {
      done.push({ action: step.action, target: step.target, outcome: 'failed', error: errorMessage(err) });
    }
  }
  const failed = done.filter((d) => d.outcome === 'failed' || d.outcome === 'timeout');
  if (failed.length > 0) {
    throw new HttpError('ACTION_FAILED', `${failed.length} of ${done.length} steps failed: ${failed.map((f) => f.action + (f.target === null ? '' : ` ${f.target}`)).join(', ')}`, {
      steps: done,
    });
  }
  return { json: { at: c.monitor.clock.now(), steps: done } };
}

/** The `canaryRoutes` targets that apply: only when no canary is named and some are configured. */
function targetsOf(configured: CanaryTargets | undefined, named: string | undefined): CanaryTargets | undefined {
  if (named !== undefined || configured === undefined) return undefined;
  const any = (configured.fallbacks?.length ?? 0) > 0 || (configured.features?.length ?? 0) > 0 || configured.riskyFeatures === true;
  return any ? configured : undefined;
}

/**
 * The runbooks' admin routes, each one an audited action run as the caller:
 * caches, rate limits, canaries, features and model fallbacks. The control
 * is named in the body (`cache`, `limiter`, `canary`: optional when there is
 * exactly one) or in the path (features, models).
 */
export const controlRoutes: AnyRoute[] = [
  defineRoute({
    method: 'POST',
    path: '/admin/cache/clear',
    access: 'operator',
    summary: 'Clear a cache: { cache? } (action cache.clear)',
    body: z.strictObject({ cache: controlName.optional() }),
    handler: (c) =>
      runAction(c, 'cache.clear', { params: defined({ name: c.body.cache }) }, { control: cache(c.monitor, c.body.cache), rename: { name: 'cache' } }),
  }),
  defineRoute({
    method: 'POST',
    path: '/admin/cache/disable',
    access: 'operator',
    summary: 'Make a cache a pass-through: { cache?, reason? } (action cache.disable)',
    body: z.strictObject({ cache: controlName.optional(), reason }),
    handler: (c) =>
      runAction(
        c,
        'cache.disable',
        { params: defined({ name: c.body.cache, reason: c.body.reason }) },
        { control: cache(c.monitor, c.body.cache), rename: { name: 'cache' } },
      ),
  }),
  defineRoute({
    method: 'POST',
    path: '/admin/cache/enable',
    access: 'operator',
    summary: 'Re-enable a cache: { cache? } (action cache.enable)',
    body: z.strictObject({ cache: controlName.optional() }),
    handler: (c) =>
      runAction(c, 'cache.enable', { params: defined({ name: c.body.cache }) }, { control: cache(c.monitor, c.body.cache), rename: { name: 'cache' } }),
  }),
  defineRoute({
    method: 'POST',
    path: '/admin/rate-limit/adjust',
    access: 'operator',
    summary: 'Set a limit: { limiter?, max_requests | maxRequests, window_seconds? | windowSeconds? } (action rate-limit.adjust)',
    body: adjustBody,
    handler: (c) =>
      runAction(
        c,
        'rate-limit.adjust',
        {
          params: defined({
            name: c.body.limiter,
            maxRequests: c.body.max_requests ?? c.body.maxRequests,
            windowSeconds: c.body.window_seconds ?? c.body.windowSeconds,
          }),
        },
        { control: limiter(c.monitor, c.body.limiter), rename: { name: 'limiter', maxRequests: 'max_requests', windowSeconds: 'window_seconds' } },
      ),
  }),
  defineRoute({
    method: 'POST',
    path: '/admin/rate-limit/tighten',
    access: 'operator',
    summary: 'Multiply a limit by factor (0 < factor ≤ 1, default 0.5): { limiter?, factor? } (action rate-limit.tighten)',
    body: z.strictObject({ limiter: controlName.optional(), factor: z.number().optional() }),
    handler: (c) =>
      runAction(
        c,
        'rate-limit.tighten',
        { params: defined({ name: c.body.limiter, factor: c.body.factor }) },
        { control: limiter(c.monitor, c.body.limiter), rename: { name: 'limiter' } },
      ),
  }),
  defineRoute({
    method: 'POST',
    path: '/admin/rate-limit/restore',
    access: 'operator',
    summary: 'Back to the configured limit: { limiter? } (action rate-limit.restore)',
    body: z.strictObject({ limiter: controlName.optional() }),
    handler: (c) =>
      runAction(
        c,
        'rate-limit.restore',
        { params: defined({ name: c.body.limiter }) },
        { control: limiter(c.monitor, c.body.limiter), rename: { name: 'limiter' } },
      ),
  }),
  defineRoute({
    method: 'POST',
    path: '/admin/rate-limit/block',
    access: 'operator',
    summary: 'Block a key or the top offenders: { limiter?, key | top, ttl_seconds?, confirm: true } (action rate-limit.block)',
    body: blockBody,
    handler: (c) =>
      runAction(
        c,
        'rate-limit.block',
        {
          params: defined({ name: c.body.limiter, key: c.body.key, top: c.body.top, ttlSeconds: c.body.ttl_seconds ?? c.body.ttlSeconds }),
          confirm: c.body.confirm ?? false,
        },
        { control: limiter(c.monitor, c.body.limiter), rename: { name: 'limiter', ttlSeconds: 'ttl_seconds' } },
      ),
  }),
  defineRoute({
    method: 'POST',
    path: '/admin/rate-limit/unblock',
    access: 'operator',
    summary: 'Lift a block: { limiter?, key } (action rate-limit.unblock)',
    body: z.strictObject({ limiter: controlName.optional(), key: z.string().min(1).max(500) }),
    handler: (c) =>
      runAction(
        c,
        'rate-limit.unblock',
        { params: defined({ name: c.body.limiter, key: c.body.key }) },
        { control: limiter(c.monitor, c.body.limiter), rename: { name: 'limiter' } },
      ),
  }),
  defineRoute({
    method: 'GET',
    path: '/admin/canary/status',
    access: 'read',
    summary: "Every canary: percent, effective percent, stopped (by whom, why), each arm's window stats",
    handler: ({ monitor }) => ({ json: { at: monitor.clock.now(), canaries: monitor.controls.stats().canaries } }),
  }),
  defineRoute({
    method: 'POST',
    path: '/admin/canary/disable',
    access: 'operator',
    summary: 'Send a canary 0 % of traffic: { canary? } (action canary.disable); without a canary, also the canaryRoutes.disable targets',
    body: z.strictObject({ canary: controlName.optional() }),
    handler: (c) => {
      const targets = targetsOf(c.options.canaryRoutes.disable, c.body.canary);
      if (targets !== undefined) return canaryLine(c, targets, 'canary.disable');
      return runAction(c, 'canary.disable', { params: defined({ name: c.body.canary }) }, { control: canary(c.monitor, c.body.canary), rename: { name: 'canary' } });
    },
  }),
  defineRoute({
    method: 'POST',
    path: '/admin/canary/emergency-stop',
    access: 'operator',
    summary:
      'All traffic to stable, held until resume: { canary?, reason? } (action canary.emergency-stop); without a canary, also the canaryRoutes.emergencyStop targets',
    body: z.strictObject({ canary: controlName.optional(), reason }),
    handler: (c) => {
      const targets = targetsOf(c.options.canaryRoutes.emergencyStop, c.body.canary);
      if (targets !== undefined) return canaryLine(c, targets, 'canary.emergency-stop');
      return runAction(
        c,
        'canary.emergency-stop',
        { params: defined({ name: c.body.canary, reason: c.body.reason }) },
        { control: canary(c.monitor, c.body.canary), rename: { name: 'canary' } },
      );
    },
  }),
  defineRoute({
    method: 'POST',
    path: '/admin/canary/resume',
    access: 'operator',
    summary: 'Lift an emergency stop: { canary?, confirm: true } (action canary.resume)',
    body: z.strictObject({ canary: controlName.optional(), confirm: z.boolean().optional() }),
    handler: (c) =>
      runAction(
        c,
        'canary.resume',
        { params: defined({ name: c.body.canary }), confirm: c.body.confirm ?? false },
        { control: canary(c.monitor, c.body.canary), rename: { name: 'canary' } },
      ),
  }),
  defineRoute({
    method: 'POST',
    path: '/admin/features/emergency-stop',
    access: 'operator',
    summary: 'Turn off every { risky: true } feature at once: { reason? } (action feature.emergency-stop)',
    body: z.strictObject({ reason }),
    handler: (c) => runAction(c, 'feature.emergency-stop', { params: defined({ reason: c.body.reason }) }),
  }),
  defineRoute({
    method: 'POST',
    path: '/admin/features/:name/disable',
    access: 'operator',
    summary: 'Turn a feature off: { reason?, ttl_seconds? } (action feature.disable)',
    params: pathName,
    body: disableFeatureBody,
    handler: (c) =>
      runAction(
        c,
        'feature.disable',
        { params: defined({ name: c.params.name, reason: c.body.reason, ttlSeconds: c.body.ttl_seconds ?? c.body.ttlSeconds }) },
        { control: feature(c.monitor, c.params.name), rename: { ttlSeconds: 'ttl_seconds' } },
      ),
  }),
  defineRoute({
    method: 'POST',
    path: '/admin/features/:name/enable',
    access: 'operator',
    summary: 'Turn a feature back on: { reason? } (action feature.enable)',
    params: pathName,
    body: z.strictObject({ reason }),
    handler: (c) =>
      runAction(c, 'feature.enable', { params: defined({ name: c.params.name, reason: c.body.reason }) }, { control: feature(c.monitor, c.params.name) }),
  }),
  defineRoute({
    method: 'POST',
    path: '/admin/model/:name/fallback',
    access: 'operator',
    summary: 'Force a fallback wrapper onto its fallback: { reason? } (action model.fallback)',
    params: pathName,
    body: z.strictObject({ reason }),
    handler: (c) =>
      runAction(c, 'model.fallback', { params: defined({ name: c.params.name, reason: c.body.reason }) }, { control: fallback(c.monitor, c.params.name) }),
  }),
  defineRoute({
    method: 'POST',
    path: '/admin/model/:name/restore',
    access: 'operator',
    summary: 'Back to the primary (action model.restore)',
    params: pathName,
    handler: (c) => runAction(c, 'model.restore', { params: { name: c.params.name } }, { control: fallback(c.monitor, c.params.name) }),
  }),
];

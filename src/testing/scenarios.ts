import type { Scenario } from './game-day.js';
import type { z } from 'zod';
import type { canaryProbeSchema } from '../actions/controls/canary.js';
import type { fallbackProbeSchema } from '../actions/controls/fallback.js';
import type { Monitor } from '../monitor.js';
import type { LatencySpec } from './traffic.js';

/** The half-open probes the shipped scenarios give a fallback (docs/remediation-safety.md's example). */
const FALLBACK_PROBE = { share: 0.01, minIntervalMs: 1_000, minCalls: 5 } as const;
/**
 * The half-open probes the shipped scenarios give their 5 % canary: as often as its percent allows, and batches
 * as large as the detector's minSamples, so a 2 % failure has a fair chance to show in a batch.
 */
const CANARY_PROBE = { share: 0.05, minIntervalMs: 1_000, minSamples: 20 } as const;

/**
 * What every scenario builder accepts: the route and rate of its traffic and
 * the length of its phases (defaults: `GET /search` at 20 rps, a 10-minute
 * baseline, a 5-minute fault, 20 minutes of recovery).
 *
 * @example
 * ```ts
 * scenarios.highErrorRate({ route: 'POST /orders', rps: 50, faultMs: 120_000 });
 * ```
 */
export interface ScenarioOptions {
  route?: string;
  rps?: number;
  /** Latency of healthy requests (default median 80 ms, p99 400 ms). */
  latency?: LatencySpec;
  baselineMs?: number;
  faultMs?: number;
  recoveryMs?: number;
}

function base(o: ScenarioOptions) {
  return {
    route: o.route ?? 'GET /search',
    rps: o.rps ?? 20,
    latency: o.latency ?? { medianMs: 80, p99Ms: 400 },
    baselineMs: o.baselineMs ?? 10 * 60_000,
    faultMs: o.faultMs ?? 5 * 60_000,
    recoveryMs: o.recoveryMs ?? 20 * 60_000,
  };
}

/**
 * Ready-made game days, one per incident type the runbooks name and the
 * library detects. Each has a healthy baseline, a fault, and a recovery; the
 * fault goes through the control the runbook's playbook acts on, so the
 * mitigation really changes the traffic.
 *
 * @example
 * ```ts
 * const s = scenarios.highLatency();
 * const result = await gameDay({ monitor: { service: 'api', preset: 'runbook', autoRemediate: true } }).scenario(s).run();
 * result.expect({ type: s.type }).mitigatedBy(s.mitigation!, 10_000);
 * ```
 */
export const scenarios = {
  /**
   * `high-latency`: the reranking model behind fallback `fallback` (default
   * `ranker`) answers in `slowMs` (default 2500 ms) during the fault; the
   * runbook falls back from the model. Opens once more than 5 % of the window
   * is slow (p95).
   */
  highLatency(o: ScenarioOptions & { fallback?: string; slowMs?: number } = {}): Scenario {
    const b = base(o);
    const name = o.fallback ?? 'ranker';
    const stream = (primary: LatencySpec) => ({ route: b.route, rps: b.rps, latency: { fixedMs: 20 }, fallback: { name, primary: { latency: primary } } });
    return {
      name: 'high-latency',
      type: 'high-latency',
      scope: 'service',
      mitigation: 'model.fallback',
      phases: [
        { name: 'baseline', forMs: b.baselineMs, ...stream(b.latency) },
        { name: 'slow-model', forMs: b.faultMs, fault: true, ...stream({ fixedMs: o.slowMs ?? 2500 }) },
        { name: 'recovery', forMs: b.recoveryMs, ...stream(b.latency) },
      ],
    };
  },

  /**
   * `high-error-rate`: risky feature `feature` (default `rerank`) fails every
   * request it touches during the fault; the runbook's emergency stop turns
   * it off.
   */
  highErrorRate(o: ScenarioOptions & { feature?: string; errorShare?: number } = {}): Scenario {
    const b = base(o);
    const name = o.feature ?? 'rerank';
    const stream = (errorShare: number) => ({ route: b.route, rps: b.rps, latency: b.latency, feature: { name, whenEnabled: { errorShare } } });
    return {
      name: 'high-error-rate',
      type: 'high-error-rate',
      scope: 'service',
      mitigation: 'feature.emergency-stop',
      phases: [
        { name: 'baseline', forMs: b.baselineMs, ...stream(0) },
        { name: 'bad-feature', forMs: b.faultMs, fault: true, ...stream(o.errorShare ?? 1) },
        { name: 'recovery', forMs: b.recoveryMs, ...stream(0) },
      ],
    };
  },

  /**
   * `model-failure`: the primary behind fallback `fallback` (default
   * `ranker`) fails every call during the fault; users are answered by the
   * fallback; the runbook forces the fallback. The fallback probes its
   * primary while forced (`probe`, default one call in 100, at most one a
   * second, a reading after 5 probes), so the recovered model is seen, the
   * incident resolves and the fallback is reverted; `probe: false` leaves
   * the fallback forced until a person restores it.
   */
  modelFailure(o: ScenarioOptions & { fallback?: string; probe?: z.input<typeof fallbackProbeSchema> } = {}): Scenario {
    const b = base(o);
    const name = o.fallback ?? 'ranker';
    const probe = o.probe ?? FALLBACK_PROBE;
    const stream = (errorShare: number) => ({ route: b.route, rps: b.rps, latency: b.latency, fallback: { name, primary: { latency: b.latency, errorShare }, probe } });
    return {
      name: 'model-failure',
      type: 'model-failure',
      scope: `fallback:${name}`,
      mitigation: 'model.fallback',
      phases: [
        { name: 'baseline', forMs: b.baselineMs, ...stream(0) },
        { name: 'model-down', forMs: b.faultMs, fault: true, ...stream(1) },
        { name: 'recovery', forMs: b.recoveryMs, ...stream(0) },
      ],
    };
  },

  /**
   * `memory-exhaustion`: cache `cache` (default `search`) keeps every missed
   * key during the fault, each entry costing `bytesPerEntry` (default
   * 250 kB) of a 1 GB heap otherwise half used; at 20 rps and a 60 % hit
   * share the heap crosses 80 % after 150 s of fault. The runbook clears the
   * cache (which cannot be undone: nothing to revert).
   */
  memoryExhaustion(o: ScenarioOptions & { cache?: string; bytesPerEntry?: number } = {}): Scenario {
    const b = base(o);
    const name = o.cache ?? 'search';
    const memory = { heapShare: 0.5, cache: { name, bytesPerEntry: o.bytesPerEntry ?? 250_000 } };
    const stream = (retain: boolean) => ({ route: b.route, rps: b.rps, latency: b.latency, cache: { name, hitShare: 0.6, retain }, memory });
    return {
      name: 'memory-exhaustion',
      type: 'memory-exhaustion',
      scope: 'service',
      mitigation: 'cache.clear',
      phases: [
        { name: 'baseline', forMs: b.baselineMs, ...stream(false) },
        { name: 'leak', forMs: b.faultMs, fault: true, ...stream(true) },
        { name: 'recovery', forMs: b.recoveryMs, ...stream(false) },
      ],
    };
  },

  /**
   * `cache-failure`: the hit share of cache `cache` (default `search`) drops
   * from 90 % to `hitShare` (default 10 %) during the fault; the runbook
   * disables, then clears, the cache. A disabled cache records no lookups, so
   * the incident holds (never escalates) until a person fixes the node and
   * re-enables it (`cache.enable` by `oncall`, `reenableAfterMs` into the
   * recovery, default 0; `false`: nobody does, the incident stays open).
   */
  cacheFailure(o: ScenarioOptions & { cache?: string; hitShare?: number; reenableAfterMs?: number | false } = {}): Scenario {
    const b = base(o);
    const name = o.cache ?? 'search';
    const stream = (hitShare: number) => ({ route: b.route, rps: b.rps, latency: b.latency, cache: { name, hitShare } });
    const reenable = o.reenableAfterMs ?? 0;
    const operator =
      reenable === false
        ? []
        : [{ afterMs: reenable, name: `node fixed; on-call re-enables cache ${name}`, run: (m: Monitor) => m.actions.execute('cache.enable', { params: { name }, by: 'oncall' }) }];
    return {
      name: 'cache-failure',
      type: 'cache-failure',
      scope: `cache:${name}`,
      mitigation: 'cache.disable',
      phases: [
        { name: 'baseline', forMs: b.baselineMs, ...stream(0.9) },
        { name: 'cache-broken', forMs: b.faultMs, fault: true, ...stream(o.hitShare ?? 0.1) },
        { name: 'recovery', forMs: b.recoveryMs, ...stream(0.9), operator },
      ],
    };
  },

  /**
   * `rate-limit-attack`: `rps` of ordinary traffic from 100 clients, plus
   * one key (`abuser`) hammering rate limiter `limiter` (default `api`,
   * 100 requests per 60 s per key) at `attackRps` (default 10) during the
   * fault; the runbook tightens the limit.
   */
  rateLimitAttack(o: ScenarioOptions & { limiter?: string; attackRps?: number } = {}): Scenario {
    const b = base(o);
    const name = o.limiter ?? 'api';
    const clients = { route: b.route, rps: b.rps, latency: b.latency, limiter: { name, keys: 100, maxRequests: 100, windowSeconds: 60 } };
    const attack = { route: b.route, rps: o.attackRps ?? 10, latency: b.latency, limiter: { name, key: 'abuser' } };
    return {
      name: 'rate-limit-attack',
      type: 'rate-limit-attack',
      scope: `limiter:${name}`,
      mitigation: 'rate-limit.tighten',
      phases: [
        { name: 'baseline', forMs: b.baselineMs, traffic: [clients] },
        { name: 'attack', forMs: b.faultMs, fault: true, traffic: [clients, attack] },
        { name: 'recovery', forMs: b.recoveryMs, traffic: [clients] },
      ],
    };
  },

  /**
   * `canary-failure`: canary `canary` (default `new-index`, 5 % of clients)
   * fails `errorShare` (default 2 %) of its requests during the fault —
   * little enough that the service-wide success rate stays within its
   * objective; the runbook stops the canary. The stopped canary probes
   * (`probe`, default one request in 20 — no more than its 5 % would get —
   * at most one a second, a reading after 20 probes, the detector's own
   * `minSamples`), so the fixed canary is seen, the incident resolves and the
   * canary resumes; `probe: false` keeps it stopped until a person acts.
   */
  canaryFailure(o: ScenarioOptions & { canary?: string; errorShare?: number; probe?: z.input<typeof canaryProbeSchema> } = {}): Scenario {
    const b = base(o);
    const name = o.canary ?? 'new-index';
    const probe = o.probe ?? CANARY_PROBE;
    const stream = (errorShare: number) => ({ route: b.route, rps: b.rps, latency: b.latency, canary: { name, percent: 5, arm: { errorShare }, probe } });
    return {
      name: 'canary-failure',
      type: 'canary-failure',
      scope: `canary:${name}`,
      mitigation: 'canary.emergency-stop',
      phases: [
        { name: 'baseline', forMs: b.baselineMs, ...stream(0) },
        { name: 'bad-canary', forMs: b.faultMs, fault: true, ...stream(o.errorShare ?? 0.02) },
        { name: 'recovery', forMs: b.recoveryMs, ...stream(0) },
      ],
    };
  },

  /**
   * `service-down`: critical health check `check` (default `database`) fails
   * during the fault. The runbooks restart or fail over by hand: no playbook,
   * the incident goes to a person.
   */
  serviceDown(o: ScenarioOptions & { check?: string } = {}): Scenario {
    const b = base(o);
    const check = o.check ?? 'database';
    const stream = { route: b.route, rps: b.rps, latency: b.latency };
    return {
      name: 'service-down',
      type: 'service-down',
      scope: `health:${check}`,
      phases: [
        { name: 'baseline', forMs: b.baselineMs, ...stream, health: { [check]: true } },
        { name: 'down', forMs: b.faultMs, fault: true, ...stream, health: { [check]: false } },
        { name: 'recovery', forMs: b.recoveryMs, ...stream, health: { [check]: true } },
      ],
    };
  },
} as const;

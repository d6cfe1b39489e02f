import { ConfigError } from '../errors.js';
import { FAILURES, RATE_LIMITED, REQUESTS } from '../metrics/latency-window.js';
import { ERROR, HIT, MISS, type SeriesStore } from '../metrics/series-store.js';
import { KIND_DEFAULTS, RUNBOOK_PRESET, detectorConfigSchema, type DetectorConfig, type DetectorConfigInput } from './config.js';
import type { DetectionContext, Detector, Observation } from './detector.js';
import { formatValue } from './format.js';
import { HealthDetector, type HealthChecks } from './health.js';
import { mergeThresholds, severityFor, thresholdProblems, type Direction, type Thresholds } from './thresholds.js';
import type { SignalReading } from './types.js';

interface Reading {
  scope: string;
  value: number;
  /** Where, in words, for the summary (`` or ` on GET /search`). */
  where: string;
}

function quantileLabel(q: number): string {
  return `p${Number((q * 100).toFixed(3))}`;
}

function counts(store: SeriesStore, now: number, route: string | undefined): { n: number; failures: number; rateLimited: number } {
  if (route !== undefined) {
    const s = store.routes.get(route);
    if (s === undefined) return { n: 0, failures: 0, rateLimited: 0 };
    s.advance(now);
    return { n: s.total(REQUESTS), failures: s.total(FAILURES), rateLimited: s.total(RATE_LIMITED) };
  }
  return store.overallCounts(now);
}

/**
 * A built-in threshold detector: reads one signal from the monitor's windows
 * or probes (per route, per cache or for the whole service) and maps it to a
 * severity with the runbooks' thresholds (or the configured overrides).
 */
export class ThresholdDetector implements Detector {
  readonly name: string;
  readonly type: string;
  readonly forMs: number | undefined;
  readonly clearForMs: number | undefined;
  readonly thresholds: Thresholds;
  readonly direction: Direction;
  private readonly cfg: DetectorConfig;

  constructor(cfg: DetectorConfig, thresholds: Thresholds) {
    const d = KIND_DEFAULTS[cfg.kind];
    this.cfg = cfg;
    this.name = cfg.name ?? cfg.kind;
    this.type = cfg.type ?? d.type;
    this.forMs = cfg.forMs;
    this.clearForMs = cfg.clearForMs;
    this.direction = d.direction;
    this.thresholds = thresholds;
  }

  observe(ctx: DetectionContext): Observation[] {
    const { signalName, unit, readings } = this.read(ctx);
    return readings.map((r) => {
      const signal: SignalReading = { name: signalName, value: r.value, unit, direction: this.direction, at: ctx.now };
      const crossing = severityFor(r.value, this.thresholds, this.direction);
      if (crossing === null) return { scope: r.scope, severity: null, signal };
      signal.threshold = crossing.threshold;
      const word = this.direction === 'above' ? 'above' : 'below';
      return {
        scope: r.scope,
        severity: crossing.severity,
        signal,
        summary: `${signalName}${r.where} ${formatValue(r.value, unit)} is ${word} the ${crossing.severity} threshold (${formatValue(crossing.threshold, unit)})`,
      };
    });
  }

  private read(ctx: DetectionContext): { signalName: string; unit: SignalReading['unit']; readings: Reading[] } {
    const cfg = this.cfg;
    const min = cfg.minSamples ?? ctx.minSamples;
    const { store, now } = ctx;
    const routeScope = (route: string | undefined) =>
      route === undefined ? { scope: 'service', where: '' } : { scope: `route:${route}`, where: ` on ${route}` };
    switch (cfg.kind) {
      case 'latency': {
        const signalName = `${quantileLabel(cfg.quantile)} latency`;
        let n = 0;
        let value: number | null = null;
        if (cfg.route !== undefined) {
          const s = store.routes.get(cfg.route);
          if (s !== undefined) {
            s.advance(now);
            n = s.total(REQUESTS);
            value = s.quantiles([cfg.quantile])[0] ?? null;
          }
        } else {
          const o = store.overall(now, [cfg.quantile]);
          n = o.stats.requests;
          value = o.quantiles[0] ?? null;
        }
        return { signalName, unit: 'ms', readings: value === null || n < min || n === 0 ? [] : [{ ...routeScope(cfg.route), value }] };
      }
      case 'success-rate':
      case 'error-rate':
      case 'rate-limit': {
        const c = counts(store, now, cfg.route);
        if (c.n === 0 || c.n < min) return { signalName: cfg.kind, unit: 'ratio', readings: [] };
        // Service-wide, 429s firebreak's limiters produced only because their limit was lowered are
        // their own effect, not an attack (docs/remediation-safety.md). A route's share of them is
        // unknown, so a route-scoped detector keeps counting every 429.
        if (cfg.kind === 'rate-limit' && cfg.route === undefined && ctx.ownRateLimited !== undefined) {
          c.rateLimited = Math.max(0, c.rateLimited - ctx.ownRateLimited(store.slotMs * store.slots));
        }
        const value = cfg.kind === 'success-rate' ? 1 - c.failures / c.n : cfg.kind === 'error-rate' ? c.failures / c.n : c.rateLimited / c.n;
        const signalName = cfg.kind === 'success-rate' ? 'success rate' : cfg.kind === 'error-rate' ? 'error rate' : '429 rate';
        return { signalName, unit: 'ratio', readings: [{ ...routeScope(cfg.route), value }] };
      }
      case 'cache-hit-rate': {
        const readings: Reading[] = [];
        for (const [name, c] of store.caches) {
          if (cfg.cache !== undefined && name !== cfg.cache) continue;
          const hits = c.ring.total(now, HIT);
          const n = hits + c.ring.total(now, MISS) + c.ring.total(now, ERROR);
          if (n === 0 || n < min) continue;
          readings.push({ scope: `cache:${name}`, value: hits / n, where: ` of cache ${name}` });
        }
        return { signalName: 'cache hit rate', unit: 'ratio', readings };
      }
      case 'memory': {
        const m = ctx.memory();
        const value = cfg.of === 'heap' ? m.heapUsed / m.heapLimit : m.rss / (cfg.limitBytes ?? m.rssLimit);
        const ok = Number.isFinite(value);
        return { signalName: cfg.of === 'heap' ? 'heap used' : 'memory (RSS) used', unit: 'ratio', readings: ok ? [{ scope: 'service', value, where: '' }] : [] };
      }
      case 'cpu':
        return { signalName: 'CPU', unit: 'ratio', readings: ctx.cpu === null ? [] : [{ scope: 'service', value: ctx.cpu, where: '' }] };
      case 'event-loop-delay':
        return {
          signalName: 'event-loop delay p99',
          unit: 'ms',
          readings: ctx.eventLoopDelayMs === null ? [] : [{ scope: 'service', value: ctx.eventLoopDelayMs, where: '' }],
        };
      case 'health':
        return { signalName: 'health', unit: 'count', readings: [] }; // handled by HealthDetector
    }
  }
}

/**
 * Resolves the `preset` and `detectors` options into detector configs: the
 * preset's list, with each user entry replacing (merging over) the preset
 * entry of the same name, `enabled: false` removing it, and new names added.
 */
export function resolveDetectorConfigs(preset: 'runbook' | undefined, user: readonly DetectorConfig[]): { cfg: DetectorConfig; path: string }[] {
  const out = new Map<string, { cfg: DetectorConfig; path: string }>();
  if (preset === 'runbook') {
    for (const p of RUNBOOK_PRESET) {
      const cfg = detectorConfigSchema.parse(p);
      out.set(cfg.name ?? cfg.kind, { cfg, path: `preset.${cfg.kind}` });
    }
  }
  user.forEach((u, i) => {
    const name = u.name ?? u.kind;
    const base = out.get(name);
    // Same name and kind: an override of the preset entry (thresholds merge level by level).
    if (base !== undefined && base.cfg.kind === u.kind) {
      const merged = { ...base.cfg, ...stripUndefined(u) } as DetectorConfig;
      if (base.cfg.thresholds !== undefined || u.thresholds !== undefined) merged.thresholds = { ...base.cfg.thresholds, ...u.thresholds };
      out.set(name, { cfg: merged, path: `detectors.${i}` });
    } else {
      out.set(name, { cfg: u, path: `detectors.${i}` });
    }
  });
  return [...out.values()].filter((d) => d.cfg.enabled);
}

function stripUndefined(o: DetectorConfigInput): Partial<DetectorConfig> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<DetectorConfig>;
}

/** Builds the detectors for the resolved configs; bad merged thresholds throw a ConfigError naming the detector. */
export function buildDetectors(configs: readonly { cfg: DetectorConfig; path: string }[], health: HealthChecks): Detector[] {
  return configs.map(({ cfg, path }) => {
    if (cfg.kind === 'health') return new HealthDetector(health, { name: cfg.name ?? cfg.kind, forMs: cfg.forMs, clearForMs: cfg.clearForMs });
    const d = KIND_DEFAULTS[cfg.kind];
    const thresholds = mergeThresholds(d.thresholds, cfg.thresholds);
    const problems = thresholdProblems(thresholds, d.direction);
    if (problems.length > 0) throw new ConfigError('monitor options', problems.map((message) => ({ path: `${path}.thresholds`, message })));
    return new ThresholdDetector(cfg, thresholds);
  });
}

import type { Registry } from 'prom-client';
import { registerCollector, type PromSample } from '../../metrics/prometheus.js';
import type { Controls } from './controls.js';

/**
 * Scrape-time metrics of the controls: feature state, rate-limit decisions,
 * fallback calls, canary share and stop state. Each gauge names how node:cluster's
 * aggregator merges it (a sum of 0/1 states would read 2). Nothing is observed on the hot
 * path; the collectors read the controls' own counters.
 */
export function registerControlMetrics(registry: Registry, prefix: string, controls: Controls): void {
  registerCollector(registry, `${prefix}feature_enabled`, 'Feature state: 1 enabled, 0 disabled.', 'gauge', () =>
    [...controls.features.values()].map((f) => ({ labels: { feature: f.name }, value: f.isEnabled() ? 1 : 0 })),
    // Across workers: enabled only where enabled on every worker, so a kill pulled anywhere shows.
    'min',
  );
  registerCollector(registry, `${prefix}cache_enabled`, 'Guarded cache state: 1 enabled, 0 disabled (pass-through).', 'gauge', () =>
    [...controls.caches.values()].map((c) => ({ labels: { cache: c.name }, value: c.isEnabled() ? 1 : 0 })),
    'min',
  );
  registerCollector(registry, `${prefix}rate_limit_decisions_total`, 'Rate-limiter decisions by limiter and result.', 'counter', () => {
    const out: PromSample[] = [];
    for (const l of controls.rateLimiters.values()) {
      const s = l.stats();
      out.push({ labels: { limiter: l.name, result: 'allowed' }, value: s.allowed });
      out.push({ labels: { limiter: l.name, result: 'limited' }, value: s.limited });
    }
    return out;
  });
  registerCollector(registry, `${prefix}rate_limit_max_requests`, 'Requests allowed per key per window, now.', 'gauge', () =>
    [...controls.rateLimiters.values()].map((l) => ({ labels: { limiter: l.name }, value: l.current().maxRequests })),
    // Across workers: the strictest limit in force anywhere.
    'min',
  );
  registerCollector(registry, `${prefix}fallback_calls_total`, 'Fallback-wrapper calls by wrapper and result.', 'counter', () => {
    const out: PromSample[] = [];
    for (const f of controls.fallbacks.values()) {
      const s = f.stats();
      out.push({ labels: { fallback: f.name, result: 'primary_success' }, value: s.primarySuccesses });
      out.push({ labels: { fallback: f.name, result: 'primary_error' }, value: s.primaryErrors });
      out.push({ labels: { fallback: f.name, result: 'primary_timeout' }, value: s.primaryTimeouts });
      out.push({ labels: { fallback: f.name, result: 'forced' }, value: s.forcedCalls });
    }
    return out;
  });
  registerCollector(registry, `${prefix}canary_percent`, 'Share of keys sent to the canary now (0 while stopped).', 'gauge', () =>
    [...controls.canaries.values()].map((c) => ({ labels: { canary: c.name }, value: c.isStopped() ? 0 : c.percent })),
    // Across workers: the largest exposure anywhere.
    'max',
  );
}

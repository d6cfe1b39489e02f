/**
 * The demo's search service, configured like the runbooks' service: a
 * cross-encoder reranker (monitor.fallback) rolled out behind a canary, a
 * risky `rerank` feature, a cache, a rate limiter, a GPU/model stats section,
 * and the firebreak routes served at the root and under /api/v1, so every
 * line of the runbooks (`curl http://localhost:8080/admin/canary/disable`,
 * `curl http://localhost:8000/api/v1/health/ready`…) answers as it means.
 *
 * firebreak is passed in rather than imported, so the runbook-lines test can
 * build this exact service against the library's sources.
 */
import express from 'express';
import { FlakyStore, POPULAR, crossEncoderRerank, hybridOnly } from './search.mjs';

/** @param {import('./service.d.mts').ServiceDeps} deps */
export async function createSearchService({ firebreak, adapters, token, monitorOptions = {} }) {
  const monitor = firebreak.createMonitor({
    service: 'search-api',
    preset: 'runbook',
    slos: [
      { name: 'latency-p95', kind: 'latency', quantile: 0.95, thresholdMs: 800 },
      { name: 'latency-p99', kind: 'latency', quantile: 0.99, thresholdMs: 2000 },
      { name: 'success-rate', kind: 'success-rate', objective: 0.995 },
      { name: 'cache-hit-rate', kind: 'cache-hit-rate', cache: 'search', objective: 0.5 },
    ],
    // Process-wide signals depend on the machine the demo runs on, not on the story.
    detectors: [
      { kind: 'cpu', enabled: false },
      { kind: 'event-loop-delay', enabled: false },
    ],
    ...monitorOptions,
  });

  // ── The controls the service consults on its hot path ──
  const reranker = monitor.fallback('reranker', { primary: crossEncoderRerank, fallback: hybridOnly, timeoutMs: 5_000 });
  // The runbook's "cross-encoder reranking" is a feature under an A/B canary:
  // `rerank` is the kill switch (risky: the emergency stop turns it off), the
  // canary sends 10 % of clients to the new cross-encoder model.
  const rerank = monitor.feature('rerank', { risky: true, description: 'cross-encoder reranking of search results' });
  const canary = monitor.canary('cross-encoder-v2', { percent: 10, description: 'new cross-encoder model for 10 % of clients' });
  const cache = monitor.cache('search', new FlakyStore({ max: 1_000, ttl: 120_000 }));
  const limiter = monitor.rateLimiter('api', { maxRequests: 100, windowSeconds: 1 });
  for (const q of POPULAR) cache.set(q, await hybridOnly(q)); // a warm cache, as in production

  const app = express();
  app.use(adapters.firebreakMiddleware(monitor));
  app.get(
    '/search',
    adapters.firebreakRateLimit(limiter, { key: (req) => req.get('x-client-id') ?? req.ip ?? 'unknown' }),
    async (req, res, next) => {
      try {
        const q = String(req.query.q ?? '');
        const client = req.get('x-client-id') ?? req.ip ?? 'anonymous';
        const arm = canary.assign(client);
        const cached = cache.get(q);
        if (cached !== undefined) return res.json({ ...cached, cached: true, arm });
        const useReranker = rerank.isEnabled() && req.query.rerank !== 'false';
        const answer = useReranker ? await reranker.run(q) : await hybridOnly(q);
        cache.set(q, answer);
        res.json({ ...answer, arm });
      } catch (err) {
        next(err);
      }
    },
  );
  const router = adapters.firebreakRouter(monitor, {
    auth: { tokens: [{ name: 'demo-operator', token, role: 'operator' }] },
    // GET /stats/device: the runbook's "model status".
    statsSections: {
      device: () => ({
        device: 'cpu',
        gpu: null,
        model: 'cross-encoder/ms-marco-MiniLM-L-6-v2',
        reranker: reranker.stats().forced ? 'fallback (hybrid only)' : 'cross-encoder',
        rerankEnabled: rerank.isEnabled(),
        canary: canary.stats().effectivePercent,
      }),
    },
    // The runbook's "disable cross-encoder reranking" and "emergency stop all features".
    canaryRoutes: { disable: { fallbacks: ['reranker'] }, emergencyStop: { riskyFeatures: true } },
  });
  // One router (one auth budget, one audit) at the root and under the runbooks' /api/v1.
  // (Two app.use calls: Express 5 does not match `/` inside a path array.)
  app.use('/api/v1', router);
  app.use(router);
  return { app, monitor, reranker, rerank, canary, cache, limiter };
}

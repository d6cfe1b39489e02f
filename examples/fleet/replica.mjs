/**
 * One replica of the fleet example's search service: a node:http server with
 * firebreak's admin routes, a `rerank` kill switch, a success-rate SLO that
 * pages a webhook, and the fleet attached through Redis. Forked by index.mjs;
 * `{ fault: true }` over IPC breaks this replica's reranker.
 */
import { createServer } from 'node:http';
import { Redis } from 'ioredis';
import { createMonitor } from 'firebreak';
import { createHandler } from 'firebreak/http';
import { redisFleet } from 'firebreak/redis';

const name = process.env.REPLICA ?? 'replica';
const monitor = createMonitor({
  service: 'search-api',
  // The runbooks' detectors (success rate, latency, …) with windows in seconds, so the story moves on the real clock.
  preset: 'runbook',
  // Seconds, not minutes, so the story moves on the real clock.
  window: { durationMs: 6_000, slotMs: 500 },
  evaluateEveryMs: 500,
  minSamples: 5,
  incidents: { forMs: 1_000, clearForMs: 2_000 },
  notifiers: [{ webhook: process.env.PAGER_URL ?? 'http://127.0.0.1:9/', events: ['incident:opened', 'incident:resolved'] }],
  detectors: [
    { kind: 'cpu', enabled: false },
    { kind: 'event-loop-delay', enabled: false },
  ],
});
const rerank = monitor.feature('rerank', { risky: true, description: 'cross-encoder reranking' });
const redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', { maxRetriesPerRequest: 1 });
redis.on('error', () => {}); // the fleet reports Redis trouble itself (degraded), the host keeps serving
const fleet = redisFleet(monitor, { redis, replica: name, reconcileEveryMs: 1_000 });
const admin = createHandler(monitor, { auth: { tokens: [{ name: 'operator', token: process.env.FIREBREAK_TOKEN ?? '', role: 'operator' }] } });

let fault = false;
process.on('message', (m) => {
  if (typeof m?.fault === 'boolean') fault = m.fault;
  if (m?.stop) void stop();
});

const server = createServer((req, res) => {
  if (req.url?.startsWith('/search')) {
    const start = performance.now();
    const reranked = rerank.isEnabled();
    // The broken reranker fails every request it touches; without it, search answers.
    const status = reranked && fault ? 500 : 200;
    res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify({ replica: name, reranked }));
    monitor.recordRequest({ route: 'GET /search', durationMs: performance.now() - start, status });
    return;
  }
  admin(req, res);
});

async function stop() {
  server.close();
  await fleet.close();
  await monitor.close();
  redis.disconnect();
  process.exit(0);
}

monitor.start();
server.listen(0, '127.0.0.1', async () => {
  await fleet.ready;
  process.send?.({ ready: true, port: server.address().port });
});

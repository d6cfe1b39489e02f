#!/usr/bin/env node
/**
 * The same wiring as the Express demo, on Fastify: the firebreak plugin
 * records every request by URL pattern and mounts the admin/stats routes and
 * the dashboard; the service consults a fallback (reranker), a cache and a
 * rate limiter on its hot path.
 *
 *   node examples/fastify-app/index.mjs            # serve on PORT (default 3000) until Ctrl-C
 *   node examples/fastify-app/index.mjs --once     # serve, drive a little traffic, show the admin API, exit
 */
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import Fastify from 'fastify';
import { createMonitor } from 'firebreak';
import firebreakPlugin, { rateLimitHook } from 'firebreak/fastify';

const { values: args } = parseArgs({
  options: {
    once: { type: 'boolean', default: false },
    port: { type: 'string', default: process.env.PORT ?? (process.argv.includes('--once') ? '0' : '3000') },
  },
});
const token = process.env.FIREBREAK_TOKEN ?? randomBytes(16).toString('hex');

const monitor = createMonitor({
  service: 'search-api',
  preset: 'runbook',
  slos: [
    { name: 'latency-p95', kind: 'latency', quantile: 0.95, thresholdMs: 800 },
    { name: 'availability', kind: 'success-rate', objective: 0.995 },
    { name: 'cache-hit-rate', kind: 'cache-hit-rate', cache: 'search', objective: 0.5 },
  ],
  autoRemediate: true,
});

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const reranker = monitor.fallback('reranker', {
  primary: async (q) => (await sleep(20 + Math.random() * 30), { q, ranker: 'cross-encoder' }),
  fallback: async (q) => ({ q, ranker: 'hybrid' }),
  timeoutMs: 300,
});
const cache = monitor.cache('search', { max: 1_000, ttl: 60_000 });
const limiter = monitor.rateLimiter('api', { maxRequests: 100, windowSeconds: 1 });

const app = Fastify();
await app.register(firebreakPlugin, { monitor, auth: { tokens: [{ name: 'ops', token, role: 'operator' }] }, prefix: '/' });
app.get('/search', { onRequest: rateLimitHook(limiter) }, async (request) => {
  const q = String(request.query.q ?? '');
  const cached = cache.get(q);
  if (cached !== undefined) return { ...cached, cached: true };
  const answer = await reranker.run(q);
  cache.set(q, answer);
  return answer;
});

const address = await app.listen({ port: Number(args.port), host: '127.0.0.1' });
monitor.start();
console.log(`fastify-app listening on ${address}`);
console.log(`dashboard: ${address}/dashboard   (token: ${token})`);

if (args.once) {
  const admin = async (method, path, body) => {
    const res = await fetch(`${address}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    if (!res.ok) throw new Error(`${method} ${path} → ${res.status} ${await res.text()}`);
    return res.json();
  };
  const queries = ['tent', 'stove', 'compass', 'socks', 'rain jacket'];
  for (let batch = 0; batch < 10; batch++) {
    await Promise.all(Array.from({ length: 10 }, (_, i) => fetch(`${address}/search?q=${encodeURIComponent(queries[i % queries.length])}`).then((r) => r.json())));
  }

  await admin('POST', '/admin/incidents/detect', {});
  const { slos } = await admin('GET', '/stats/slo');
  for (const s of slos) console.log(`SLO ${s.name}: ${s.status} (value ${s.unit === 'ms' ? `${Math.round(s.value)} ms` : s.value === null ? '—' : `${(s.value * 100).toFixed(1)}%`})`);
  const route = (await admin('GET', '/stats/metrics')).routes['GET /search'];
  console.log(`recorded GET /search by URL pattern: ${route?.requests ?? 0} requests`);

  await admin('POST', '/admin/model/reranker/fallback', {});
  console.log(`model fallback forced via POST /admin/model/reranker/fallback: reranker now ${(await reranker.run('tent')).ranker}`);
  await admin('POST', '/admin/model/reranker/restore', {});
  console.log(`restored via POST /admin/model/reranker/restore: reranker now ${(await reranker.run('tent')).ranker}`);

  monitor.stop();
  await app.close();
  console.log('fastify-app: done');
} else {
  for (const signal of ['SIGINT', 'SIGTERM']) {
    process.once(signal, async () => {
      monitor.stop();
      await app.close();
    });
  }
}

#!/usr/bin/env node
/**
 * firebreak demo: an Express search service with a cross-encoder reranker
 * (monitor.fallback) behind a canary, a cache (monitor.cache) and a rate
 * limiter (service.mjs, where every runbook curl line answers), under
 * simulated traffic, walked through two incidents:
 *
 *   1. the reranker slows down → high-latency incident → automatic model
 *      fallback → latency recovers → incident resolves → fallback reverted;
 *   2. the cache storage fails → cache-failure incident → cache disabled
 *      automatically → the operator repairs it and re-enables the cache
 *      through the admin API → incident resolves.
 *
 * It narrates every step, prints the post-mortems and `firebreak status`,
 * and exits 0 by itself (in well under 90 s). Windows and hysteresis are
 * shortened (seconds, not minutes) so the story moves fast on the real clock.
 *
 *   npm run demo                      # the story, then exit
 *   npm run demo -- --keep            # keep serving: open the dashboard
 *   npm run demo -- --port 3000       # fixed port (default: any free port; PORT also works)
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { createMonitor } from 'firebreak';
import { firebreakMiddleware, firebreakRateLimit, firebreakRouter } from 'firebreak/express';
import { faults, nextQuery } from './search.mjs';
import { createSearchService } from './service.mjs';
import { createNarrator } from './narrate.mjs';

const { values: args } = parseArgs({
  options: {
    port: { type: 'string', default: process.env.PORT ?? '0' },
    keep: { type: 'boolean', default: false },
    rps: { type: 'string', default: '25' },
  },
});
const port = Number(args.port);
const rps = Math.max(5, Math.min(200, Number(args.rps) || 25));
const token = process.env.FIREBREAK_TOKEN ?? randomBytes(16).toString('hex');
const say = createNarrator();

// ── The service (service.mjs): the runbooks' preset, with windows in seconds so the story moves fast ──
const { app, monitor, reranker, cache, limiter } = await createSearchService({
  firebreak: { createMonitor },
  adapters: { firebreakMiddleware, firebreakRateLimit, firebreakRouter },
  token,
  monitorOptions: {
    window: { durationMs: 8_000, slotMs: 500 },
    evaluateEveryMs: 500,
    minSamples: 10,
    incidents: { forMs: 2_000, clearForMs: 3_000, reopenWithinMs: 1_000 },
    autoRemediate: { cooldownMs: 1_000, revertAfterMs: 1_500 },
  },
});

const server = await new Promise((resolve) => {
  const s = app.listen(port, '127.0.0.1', () => resolve(s));
});
const base = `http://127.0.0.1:${server.address().port}`;
monitor.start();

// ── Narrate what firebreak does on its own ──
monitor.on('incident:opened', (i) => say.event('⚠', `incident opened: ${i.type} (${i.severity}, ${i.priority}) — ${i.summary}`));
monitor.on('incident:escalated', (i) => say.event('⚠', `incident escalated: ${i.type} → ${i.severity} — ${i.summary}`));
monitor.on('incident:acknowledged', (i) => say.event('✋', `incident acknowledged by ${i.acknowledgedBy}`));
monitor.on('incident:resolved', (i) => say.event('✓', `incident resolved: ${i.type} after ${Math.round((i.durationMs ?? 0) / 100) / 10} s`));
monitor.on('action:executed', (x) => say.event('⚙', `action ${x.action} (${x.source}, by ${x.by}): ${x.outcome}${x.message ? ` — ${x.message}` : ''}`));
monitor.on('action:failed', (x) => say.event('✗', `action ${x.action} failed: ${x.error ?? x.outcome}`));
monitor.on('action:reverted', (x) => say.event('↺', `action ${x.action} reverted (${x.revert?.by ?? 'firebreak'}): ${x.revert?.outcome ?? ''}`));

// ── Simulated traffic: `rps` searches per second from a few clients ──
const inflight = new Set();
let sent = 0;
const traffic = setInterval(() => {
  const q = nextQuery();
  const p = fetch(`${base}/search?q=${encodeURIComponent(q)}`, { headers: { 'x-client-id': `client-${sent++ % 5}` } })
    .then((r) => r.arrayBuffer())
    .catch(() => undefined)
    .finally(() => inflight.delete(p));
  inflight.add(p);
}, 1000 / rps);

/** A call to the admin API, as an operator (or the CLI) makes it. */
async function admin(method, path, body) {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${path} → ${res.status} ${text}`);
  return res.headers.get('content-type')?.includes('json') ? JSON.parse(text) : text;
}

function snapshot() {
  const s = monitor.stats();
  const hit = s.caches.search?.hitRate;
  return [
    `p95 ${Math.round(s.overall.latencyMs.p95 ?? 0)} ms`,
    `success ${s.overall.successRate === null ? '—' : `${(s.overall.successRate * 100).toFixed(1)}%`}`,
    `cache hit ${hit === null || hit === undefined ? '—' : `${Math.round(hit * 100)}%`}${cache.isEnabled() ? '' : ' (cache disabled)'}`,
    `reranker ${reranker.stats().forced ? 'FALLBACK' : 'cross-encoder'}`,
    `open incidents ${monitor.incidents.list({ status: 'active' }).length}`,
  ].join(' · ');
}

/** Waits (on the real clock) until `check()` returns something truthy, printing progress. */
async function waitFor(what, check, timeoutMs) {
  const started = Date.now();
  let lastProgress = started;
  for (;;) {
    const value = check();
    if (value) return value;
    if (Date.now() - started > timeoutMs) throw new Error(`expected ${what} within ${timeoutMs / 1000} s; now: ${snapshot()}`);
    if (Date.now() - lastProgress >= 2_000) {
      lastProgress = Date.now();
      say.progress(`waiting for ${what} · ${snapshot()}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}
const pause = (ms) => new Promise((r) => setTimeout(r, ms));
const activeOf = (type) => () => monitor.incidents.list({ type, status: 'active' })[0];

async function shutdown(code) {
  clearInterval(traffic);
  await Promise.allSettled([...inflight]);
  monitor.stop();
  await new Promise((r) => server.close(r));
  server.closeAllConnections?.();
  process.exitCode = code;
}

async function story() {
  say.title(`firebreak demo · search-api on ${base} · ${rps} searches/s`);

  say.phase(1, 4, 'Baseline: cross-encoder reranking in 40–90 ms, cache warm');
  await pause(4_000);
  say.step(snapshot());

  say.phase(2, 4, 'Fault: the cross-encoder slows to 2.5 s per query');
  faults.rerankerLatencyMs = 2_500;
  const latency = await waitFor('a high-latency incident', activeOf('high-latency'), 25_000);
  await waitFor('the automatic model fallback', () => reranker.stats().forced, 10_000);
  say.step(`firebreak answered with the hybrid fallback · ${snapshot()}`);
  await pause(2_000);
  faults.rerankerLatencyMs = 0;
  say.step('the cross-encoder is healthy again (fault removed); waiting for the window to clear');
  await waitFor('the high-latency incident to resolve', () => monitor.incidents.get(latency.id)?.status === 'resolved', 30_000);
  await waitFor('the fallback to be reverted', () => !reranker.stats().forced, 10_000);
  say.step(`back to normal · ${snapshot()}`);
  await admin('POST', `/admin/incidents/${encodeURIComponent(latency.id)}/notes`, {
    text: 'Cross-encoder GPU node throttled; the hybrid fallback carried traffic until it recovered.',
  });

  say.phase(3, 4, 'Fault: the cache storage fails on every read and write');
  faults.cacheBroken = true;
  const cacheIncident = await waitFor('a cache-failure incident', activeOf('cache-failure'), 25_000);
  await waitFor('the cache to be disabled', () => !cache.isEnabled(), 10_000);
  say.step(`requests are served uncached · ${snapshot()}`);
  await admin('POST', `/admin/incidents/${encodeURIComponent(cacheIncident.id)}/acknowledge`, {});
  await pause(1_500);
  faults.cacheBroken = false;
  say.step('operator: cache node replaced; re-enabling the cache through POST /admin/cache/enable');
  await admin('POST', '/admin/cache/enable', { cache: 'search' });
  await waitFor('the cache-failure incident to resolve', () => monitor.incidents.get(cacheIncident.id)?.status === 'resolved', 30_000);
  say.step(`back to normal · ${snapshot()}`);
  await admin('POST', `/admin/incidents/${encodeURIComponent(cacheIncident.id)}/notes`, { text: 'Cache node replaced; cache re-enabled by demo-operator.' });

  say.phase(4, 4, 'Post-mortems (GET /admin/incidents/:id/postmortem)');
  for (const incident of [latency, cacheIncident]) {
    say.block(await admin('GET', `/admin/incidents/${encodeURIComponent(incident.id)}/postmortem`));
  }
  say.step('$ firebreak status');
  say.block(await cli(['status']));
  const { allowed, limited } = limiter.stats();
  return `demo complete: 2 incidents detected, remediated and resolved · rate limiter "api": ${allowed} allowed, ${limited} limited`;
}

function cli(argv) {
  const bin = fileURLToPath(new URL('../../dist/cli.js', import.meta.url));
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [bin, ...argv], { env: { ...process.env, FIREBREAK_URL: base, FIREBREAK_TOKEN: token } });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    child.on('close', () => resolve(out));
  });
}

// A hard stop: the demo must never hang a CI job.
const watchdog = setTimeout(() => {
  say.fail('demo did not finish within 85 s');
  process.exit(1);
}, 85_000);
watchdog.unref();

let summary;
try {
  summary = await story();
} catch (err) {
  say.fail(err instanceof Error ? err.message : String(err));
  await shutdown(1);
  process.exit();
}
if (args.keep) {
  clearTimeout(watchdog);
  say.done(summary);
  say.keep([
    `dashboard:  ${base}/dashboard   (token: ${token})`,
    `CLI:        FIREBREAK_URL=${base} FIREBREAK_TOKEN=${token} npx firebreak status`,
    'traffic keeps flowing; press Ctrl-C to stop',
  ]);
  process.once('SIGINT', () => void shutdown(0));
  process.once('SIGTERM', () => void shutdown(0));
} else {
  // Stop first, then say so: a late revert (or anything else the monitor does while it stops) is narrated
  // before "demo complete", never after it.
  await shutdown(0);
  say.done(summary);
}

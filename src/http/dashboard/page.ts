import { createHash } from 'node:crypto';
import { z } from 'zod';
import { parseConfig } from '../../config.js';
import { DASHBOARD_CSS } from './styles.js';
import { DASHBOARD_JS } from './script.js';

/**
 * Options of the dashboard page (also the `dashboard` option of a router mount).
 *
 * @example
 * ```ts
 * app.use(firebreakRouter(monitor, { auth, dashboard: { pollMs: 2000, title: 'search-api' } }));
 * ```
 */
export const dashboardOptionsSchema = z.strictObject({
  /** Page title (also the heading). */
  title: z.string().min(1).max(100).default('firebreak'),
  /** How often the page polls `/stats/*` and the incident routes. */
  pollMs: z.number().int().min(1000, 'pollMs must be at least 1000').max(300_000).default(5000),
  /** Samples kept for the charts (a bounded ring: the oldest is dropped). 120 × 5 s = 10 minutes. */
  historySize: z.number().int().min(10).max(2000).default(120),
});

/**
 * Options accepted by {@link dashboardPage}.
 *
 * @example
 * ```ts
 * const opts: DashboardOptions = { pollMs: 10_000 };
 * ```
 */
export type DashboardOptions = z.input<typeof dashboardOptionsSchema>;

/**
 * The page and the headers to send with it.
 *
 * @example
 * ```ts
 * const { html, headers } = dashboardPage();
 * ```
 */
export interface DashboardPage {
  /** The complete HTML document: inline CSS and JS, no external assets. */
  html: string;
  /** `content-type`, the Content-Security-Policy and the other security headers. */
  headers: Record<string, string>;
}

function sha256(text: string): string {
  return `'sha256-${createHash('sha256').update(text, 'utf8').digest('base64')}'`;
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/**
 * Builds the operator dashboard: one self-contained HTML page (inline CSS and
 * JS, no CDN, no build step for the host) that polls the stats and incident
 * routes next to it, draws SLOs, latency and success-rate charts (inline SVG),
 * open incidents with their timelines and procedures, and the controls, and
 * lets an operator acknowledge, run procedure steps, resolve with notes, clear
 * or disable a cache and emergency-stop a canary.
 *
 * The page holds no data: it asks for a token once (kept in sessionStorage)
 * and sends it as a bearer header, so it can be served without credentials.
 * The script and stylesheet are allowed by their SHA-256 hashes in a strict
 * Content-Security-Policy (`default-src 'none'`, `connect-src 'self'`, no
 * inline event handlers, no `eval`), so the page is static and cacheable by
 * the route: build it once at mount time.
 *
 * Routers mount it at `GET /dashboard`; serving it yourself (behind your own
 * auth, say) works as long as the firebreak routes are under the same path
 * prefix, because the page calls `<prefix>/stats/*` and `<prefix>/admin/*`.
 *
 * @example
 * ```ts
 * import { dashboardPage } from 'firebreak/http';
 * const page = dashboardPage({ pollMs: 5000 });
 * app.get('/ops/dashboard', (_req, res) => res.set(page.headers).send(page.html));
 * ```
 */
export function dashboardPage(options: DashboardOptions = {}): DashboardPage {
  const opts = parseConfig(dashboardOptionsSchema, 'dashboard options', options);
  const title = escapeHtml(opts.title);
  const csp = [
    "default-src 'none'",
    `script-src ${sha256(DASHBOARD_JS)}`,
    `style-src ${sha256(DASHBOARD_CSS)}`,
    "connect-src 'self'",
    "img-src 'self' data:",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join('; ');
  const html = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<link rel="icon" href="data:,">
<title>${title} · dashboard</title>
<style>${DASHBOARD_CSS}</style>
</head>
<body data-poll-ms="${opts.pollMs}" data-history="${opts.historySize}" data-state="loading">
<header>
  <h1>${title}</h1>
  <span class="service" id="service"></span>
  <span class="spacer"></span>
  <span class="muted" id="updated">no data yet</span>
  <span class="muted" id="poll-every"></span>
  <label class="muted">Times <select id="tz"><option value="utc" selected>UTC</option><option value="local">local</option></select></label>
  <span class="conn" id="conn" role="status" aria-live="polite">connecting</span>
  <button type="button" id="refresh" title="Poll now">Refresh</button>
  <button type="button" id="forget-token" title="Forget the token kept in this tab">Change token</button>
</header>
<div class="banner" id="banner" role="alert" hidden></div>
<main>
  <section class="wide" aria-labelledby="h-slos"><h2 id="h-slos">Service level objectives</h2><div class="slos" id="slos"><div class="empty">Loading…</div></div></section>
  <section aria-labelledby="h-latency"><h2 id="h-latency">Latency <span class="count" id="latency-now"></span></h2>
    <svg class="chart" id="latency-chart" viewBox="0 0 600 170" preserveAspectRatio="none" role="img" aria-label="Latency p50, p95 and p99 over time"></svg>
    <div class="legend"><span><i class="l-p50"></i>p50 (solid)</span><span><i class="l-p95"></i>p95 (dashed)</span><span><i class="l-p99"></i>p99 (dotted)</span><span><i class="l-target"></i>SLO threshold</span></div>
  </section>
  <section aria-labelledby="h-success"><h2 id="h-success">Success rate <span class="count" id="success-now"></span></h2>
    <svg class="chart" id="success-chart" viewBox="0 0 600 170" preserveAspectRatio="none" role="img" aria-label="Success rate over time"></svg>
    <div class="legend"><span><i class="l-ok"></i>success rate</span><span><i class="l-target"></i>objective</span></div>
  </section>
  <section aria-labelledby="h-rate"><h2 id="h-rate">Request rate <span class="count" id="rate-now"></span></h2>
    <svg class="chart" id="rate-chart" viewBox="0 0 600 170" preserveAspectRatio="none" role="img" aria-label="Requests per second over time"></svg>
    <div class="legend"><span><i class="l-rate"></i>requests/s</span><span class="markers-key">markers: ! incident opened · ✓ resolved · A action applied · R reverted</span></div>
  </section>
  <section aria-labelledby="h-cache"><h2 id="h-cache">Cache hit rate <span class="count" id="cache-now"></span></h2>
    <svg class="chart" id="cache-chart" viewBox="0 0 600 170" preserveAspectRatio="none" role="img" aria-label="Cache hit rate over time"></svg>
    <div class="legend"><span><i class="l-cache"></i>hit rate, all caches</span><span><i class="l-target"></i>objective</span></div>
  </section>
  <section aria-labelledby="h-budget"><h2 id="h-budget">Error budget remaining</h2>
    <svg class="chart" id="budget-chart" viewBox="0 0 600 170" preserveAspectRatio="none" role="img" aria-label="Error budget remaining per SLO over time"></svg>
    <div class="legend" id="budget-legend"></div>
  </section>
  <section aria-labelledby="h-burn"><h2 id="h-burn">Burn rate</h2>
    <svg class="chart" id="burn-chart" viewBox="0 0 600 170" preserveAspectRatio="none" role="img" aria-label="Error budget burn rate per SLO over time (1 = spending exactly the budget)"></svg>
    <div class="legend" id="burn-legend"></div>
  </section>
  <section class="wide" aria-labelledby="h-incidents"><h2 id="h-incidents">Open incidents <span class="count" id="incident-count"></span></h2>
    <div id="incidents"></div><div class="empty" id="no-incidents">No open incidents.</div><div id="resolved"></div>
  </section>
  <!-- Fleet view: replicas, their state and the merged window; shown by the script once GET /stats/fleet answers (a fleet is attached). -->
  <section class="wide" id="fleet" data-slot="fleet" aria-labelledby="h-fleet" hidden><h2 id="h-fleet">Fleet</h2><div id="fleet-view"></div></section>
  <section class="wide" aria-labelledby="h-routes"><h2 id="h-routes">Routes</h2><div id="routes"><div class="empty">Loading…</div></div></section>
  <section class="wide" aria-labelledby="h-silences"><h2 id="h-silences">Silences and maintenance</h2>
    <form id="silence-form" class="silence-form">
      <label>Matcher <select id="silence-name"><option>type</option><option>scope</option><option>severity</option><option>priority</option><option>detector</option><option>source</option></select></label>
      <label>equals <input id="silence-value" required maxlength="256" placeholder="high-latency"></label>
      <label>for (minutes) <input id="silence-minutes" type="number" min="1" max="527040" value="60" required></label>
      <label>Comment <input id="silence-comment" required maxlength="500" placeholder="why"></label>
      <button type="submit" id="silence-create">Add silence</button>
    </form>
    <div id="silence-list"></div>
  </section>
  <section class="wide" aria-labelledby="h-controls"><h2 id="h-controls">Controls</h2><div id="controls"><div class="empty">Loading…</div></div></section>
</main>
<div class="toasts" id="toasts" aria-live="polite"></div>
<dialog id="token-dialog" aria-labelledby="token-title">
  <form id="token-form">
    <h3 id="token-title">API token</h3>
    <p class="muted" id="token-message"></p>
    <input type="password" id="token-input" autocomplete="off" spellcheck="false" aria-label="API token" placeholder="token">
    <div class="row"><button type="button" id="token-none" title="For a router mounted with auth: 'none'">No token</button><button type="submit" class="primary" id="token-save">Connect</button></div>
  </form>
</dialog>
<dialog id="confirm-dialog" aria-labelledby="confirm-title">
  <h3 id="confirm-title"></h3>
  <p id="confirm-message"></p>
  <div class="row"><button type="button" id="confirm-cancel">Cancel</button><button type="button" class="danger" id="confirm-ok">Run</button></div>
</dialog>
<script>${DASHBOARD_JS}</script>
</body>
</html>
`;
  return {
    html,
    headers: {
      'content-type': 'text/html; charset=utf-8',
      'content-security-policy': csp,
      'x-content-type-options': 'nosniff',
      'x-frame-options': 'DENY',
      'referrer-policy': 'no-referrer',
      'cache-control': 'no-store',
      'cross-origin-opener-policy': 'same-origin',
    },
  };
}

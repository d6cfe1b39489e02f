/**
 * Every curl line of the runbooks (`../shared/runbooks/*.txt` beside the
 * checkout), replayed as written against the demo's service
 * (examples/express-demo/service.mjs, built here against the sources) with
 * only a bearer header added: `-d` bodies keep curl's default content type.
 * None may answer 404, 415 or 500, and each admin line must change what the
 * runbook says it changes.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSearchService, type SearchService } from '../../examples/express-demo/service.mjs';
import { firebreakMiddleware, firebreakRateLimit, firebreakRouter } from '../../src/adapters/express.js';
import { createMonitor } from '../../src/index.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
// CI has shared/ beside the checkout; a worktree elsewhere can point at it.
const RUNBOOKS = process.env['FIREBREAK_RUNBOOKS'] ?? resolve(ROOT, '../shared/runbooks');
const TOKEN = 'runbook-operator-token-0123456789';

interface CurlLine {
  file: string;
  line: number;
  text: string;
  method: string;
  url: URL;
  body: string | undefined;
}

/**
 * Lines that call something other than the service: third-party APIs, the
 * Prometheus server, the web frontend, another service's business route.
 * Each with the reason it is not a firebreak/demo route.
 */
const NOT_THE_SERVICE: [RegExp, string][] = [
  [/api\.mistral\.ai/, 'the Mistral API (third party)'],
  [/\$PINECONE_HOST/, 'the Pinecone API (third party)'],
  [/localhost:9090/, 'the Prometheus server'],
  [/^https?:\/\/yourdomain\.com\/?$/, 'the web frontend, not the API'],
  [/\/api\/v1\/process$/, "the AI data processor's own business route"],
];

function extractCurlLines(dir: string): { lines: CurlLine[]; skipped: { text: string; why: string }[] } {
  const lines: CurlLine[] = [];
  const skipped: { text: string; why: string }[] = [];
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.txt')).sort()) {
    readFileSync(join(dir, file), 'utf8')
      .split('\n')
      .forEach((raw, i) => {
        if (!/\bcurl\s/.test(raw)) return;
        const text = raw.trim();
        const urlText = /(https?:\/\/[^\s'"`]+)/.exec(text)?.[1];
        if (urlText === undefined) {
          skipped.push({ text, why: 'prose, no URL' });
          return;
        }
        const reason = NOT_THE_SERVICE.find(([re]) => re.test(urlText))?.[1];
        if (reason !== undefined) {
          skipped.push({ text, why: reason });
          return;
        }
        const method = /-X\s+([A-Z]+)/.exec(text)?.[1] ?? (/\s-d\s/.test(text) ? 'POST' : 'GET');
        const body = /\s-d\s+'([^']*)'/.exec(text)?.[1];
        // `<service-url>` is a placeholder for the host.
        const url = new URL(urlText.replace('<service-url>', 'service.invalid'));
        lines.push({ file, line: i + 1, text, method, url, body });
      });
  }
  return { lines, skipped };
}

/** What each admin line means, checked on the service right after it ran. */
function expectedEffect(svc: SearchService, line: CurlLine): void {
  const where = `${line.file}:${line.line}`;
  switch (`${line.method} ${line.url.pathname}`) {
    case 'POST /admin/canary/disable':
      // "Disable cross-encoder reranking": the canary gets no traffic and the reranker answers with its fallback.
      expect(svc.canary.stats().effectivePercent, where).toBe(0);
      expect(svc.reranker.stats().forced, where).toBe(true);
      break;
    case 'POST /admin/canary/emergency-stop':
      // "Emergency stop all features": the canary is stopped and every risky feature is off.
      expect(svc.canary.stats().stopped, where).toBe(true);
      expect(svc.rerank.isEnabled(), where).toBe(false);
      break;
    case 'POST /admin/cache/clear':
      expect(svc.cache.stats().size, where).toBe(0);
      break;
    case 'POST /admin/cache/disable':
      expect(svc.cache.isEnabled(), where).toBe(false);
      break;
    case 'POST /admin/rate-limit/adjust':
      expect(svc.limiter.current(), where).toEqual({ maxRequests: 10, windowSeconds: 3600 });
      break;
    default:
      expect(line.method, `${where}: an admin line without a checked effect`).toBe('GET');
  }
}

const present = existsSync(RUNBOOKS);
if (!present && process.env['CI'] !== undefined && process.env['CI'] !== '' && process.env['CI'] !== 'false') {
  throw new Error(`runbooks folder ${RUNBOOKS} is missing: CI must check out shared/ beside the repository`);
}

describe.skipIf(!present)(`runbook curl lines replayed against the demo service (${RUNBOOKS})`, () => {
  let svc: SearchService;
  let server: Server;
  let base: string;

  beforeAll(async () => {
    svc = await createSearchService({
      firebreak: { createMonitor },
      adapters: { firebreakMiddleware, firebreakRateLimit, firebreakRouter },
      token: TOKEN,
    });
    server = await new Promise<Server>((done) => {
      const s = svc.app.listen(0, '127.0.0.1', () => done(s));
    });
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    svc.monitor.stop();
    server.closeAllConnections();
    await new Promise((done) => server.close(done));
  });

  const { lines, skipped } = present ? extractCurlLines(RUNBOOKS) : { lines: [], skipped: [] };

  it('finds the runbooks’ service lines (and only skips calls to other systems)', () => {
    expect(lines.length).toBeGreaterThanOrEqual(20);
    for (const s of skipped) expect(s.why, s.text).toMatch(/third party|Prometheus|frontend|business route|prose/);
  });

  it('answers every line as the runbook means it (no 404, 415 or 5xx) and makes the change it names', async () => {
    for (const line of lines) {
      const headers: Record<string, string> = { authorization: `Bearer ${TOKEN}` };
      // What curl sends for -d when the line gives no Content-Type.
      if (line.body !== undefined) headers['content-type'] = 'application/x-www-form-urlencoded';
      const res = await fetch(`${base}${line.url.pathname}${line.url.search}`, { method: line.method, headers, body: line.body ?? null });
      const text = await res.text();
      const where = `${line.file}:${line.line} ${line.text} → ${res.status} ${text.slice(0, 300)}`;
      expect([404, 415], where).not.toContain(res.status);
      expect(res.status, where).toBeLessThan(500);
      expect(res.status, where).toBeLessThan(300);
      expectedEffect(svc, line);
    }
  });

  it('serves the runbooks’ /api/v1 health paths from the same router', async () => {
    const res = await fetch(`${base}/api/v1/health/ready`);
    expect(res.status).toBe(200);
    expect(((await res.json()) as { service: string }).service).toBe('search-api');
  });
});

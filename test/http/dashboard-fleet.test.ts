/**
 * The dashboard's fleet view in a real browser: a page served by a monitor
 * with a real Redis fleet attached (two monitors in this process, each with
 * its own ioredis client, on a real redis-server) lists both replicas with
 * their state, the fleet-wide figures, and the owner replica on an incident
 * card; with Redis gone it says so and keeps the last known replicas; a page
 * without a fleet keeps the section hidden (and polls no /stats/fleet).
 * Screenshot: test-artifacts/dashboard-fleet.png.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import express from 'express';
import { Redis } from 'ioredis';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { firebreakMiddleware, firebreakRouter } from '../../src/adapters/express.js';
import { createMonitor, type Monitor } from '../../src/monitor.js';
import { redisFleet, type Fleet } from '../../src/redis/index.js';
import { hasRedisServer, startRedis, type TestRedis } from '../helpers/redis-server.js';

const CHROMIUM = process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium';
const ARTIFACTS = fileURLToPath(new URL('../../test-artifacts/', import.meta.url));
const READER = 'dashboard-reader-token-0123456';

let redisServer: TestRedis | undefined;
beforeAll(async () => {
  if (hasRedisServer || process.env['CI']) redisServer = await startRedis();
});
afterAll(() => redisServer?.stop());

let context: BrowserContext;
let profile: string;
const servers: Server[] = [];
const members: Array<{ monitor: Monitor; fleet?: Fleet; redis?: Redis }> = [];

beforeEach(async () => {
  profile = mkdtempSync(join(tmpdir(), 'firebreak-chromium-'));
  context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width: 1280, height: 900 },
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
});

afterEach(async () => {
  await context?.close();
  rmSync(profile, { recursive: true, force: true });
  for (const s of servers.splice(0)) {
    s.closeAllConnections();
    await new Promise((r) => s.close(r));
  }
  for (const m of members.splice(0)) {
    await m.fleet?.close();
    m.redis?.disconnect();
    await m.monitor.close();
  }
  // Each test starts from an empty Redis: the shared incidents and windows of one test are not the next one's.
  if (redisServer?.running) {
    const admin = new Redis(redisServer.url, { maxRetriesPerRequest: 1 });
    admin.on('error', () => {});
    try {
      await admin.flushall();
    } finally {
      admin.disconnect();
    }
  }
});

function newMonitor(): Monitor {
  return createMonitor({
    service: 'search-api',
    detectors: [
      { kind: 'cpu', enabled: false },
      { kind: 'event-loop-delay', enabled: false },
      { kind: 'memory', enabled: false },
    ],
  });
}

function member(replica: string, publishEveryMs?: number): { monitor: Monitor; fleet: Fleet; redis: Redis } {
  const monitor = newMonitor();
  const redis = new Redis(redisServer!.url, { maxRetriesPerRequest: 1 });
  redis.on('error', () => {});
  const fleet = redisFleet(monitor, { redis, replica, syncTimeoutMs: 1_000, ...(publishEveryMs === undefined ? {} : { windows: { publishEveryMs } }) });
  const m = { monitor, fleet, redis };
  members.push(m);
  return m;
}

/** The monitor's routes and a page on 127.0.0.1; returns the base URL. */
async function serve(monitor: Monitor): Promise<string> {
  const app = express();
  app.use(firebreakMiddleware(monitor));
  app.get('/search', (_req, res) => {
    res.json({ results: [] });
  });
  app.use(firebreakRouter(monitor, { auth: { tokens: [{ name: 'rita', token: READER, role: 'read' }] }, dashboard: { pollMs: 1000 } }));
  const server = await new Promise<Server>((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  servers.push(server);
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

async function openDashboard(base: string): Promise<{ page: Page; problems: string[]; fleetCalls: string[] }> {
  const page = context.pages()[0] ?? (await context.newPage());
  const problems: string[] = [];
  const fleetCalls: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error' || m.type() === 'warning') problems.push(`${m.type()}: ${m.text()}`);
  });
  page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
  page.on('request', (r) => {
    if (new URL(r.url()).pathname.startsWith('/stats/fleet')) fleetCalls.push(r.url());
  });
  const res = await page.goto(`${base}/dashboard`);
  expect(res?.status()).toBe(200);
  await page.locator('#token-dialog').waitFor({ state: 'visible' });
  await page.fill('#token-input', READER);
  await page.click('#token-save');
  await page.locator('body[data-state="ready"]').waitFor();
  return { page, problems, fleetCalls };
}

describe.skipIf(!existsSync(CHROMIUM) && !process.env['CI'])('dashboard fleet view in chromium', () => {
  it('without a fleet: the fleet section stays hidden and /stats/fleet is not polled', async () => {
    const monitor = newMonitor();
    members.push({ monitor });
    const base = await serve(monitor);
    const { page, problems, fleetCalls } = await openDashboard(base);
    expect(await page.locator('#fleet').isHidden()).toBe(true);
    expect(fleetCalls).toEqual([]);
    expect(problems).toEqual([]);
  });

  describe.skipIf(!hasRedisServer && !process.env['CI'])('with a Redis fleet (skipped: redis-server not installed)', () => {
    it('lists both replicas live, the fleet-wide figures, and the owner replica on an incident card', { timeout: 60_000 }, async () => {
      const a = member('search-a');
      const b = member('search-b');
      await Promise.all([a.fleet.ready, b.fleet.ready]);
      const base = await serve(a.monitor);
      // Real traffic on search-a, some recorded directly on search-b: the merged window holds both.
      await Promise.all(Array.from({ length: 20 }, (_, i) => fetch(`${base}/search?q=${i}`).then((r) => r.arrayBuffer())));
      for (let i = 0; i < 30; i++) b.monitor.recordRequest({ route: 'GET /search', status: i % 10 === 0 ? 500 : 200, durationMs: 40 });
      await Promise.all([a.fleet.windows.publish(), b.fleet.windows.publish()]);
      const inc = b.monitor.incidents.open({ type: 'index-corruption', severity: 'high', summary: 'Shard 3 index <b>corrupt</b>', by: 'test' });
      // The incident is claimed in Redis by search-b and reaches search-a, which serves the page.
      await vi.waitFor(() => expect(a.monitor.incidents.list({ status: 'active' }).find((i) => i.fleet?.owner === 'search-b')).toBeDefined(), {
        timeout: 15_000,
        interval: 50,
      });
      const id = a.monitor.incidents.list({ status: 'active' }).find((i) => i.fleet?.owner === 'search-b')!.id;

      const { page, problems } = await openDashboard(base);
      const fleet = page.locator('#fleet');
      await expect.poll(() => fleet.isVisible(), { timeout: 10_000 }).toBe(true);
      await page.locator('#fleet tr[data-replica="search-b"]').waitFor();
      const rows = page.locator('#fleet tbody tr');
      expect(await rows.evaluateAll((trs) => trs.map((tr) => [tr.getAttribute('data-replica'), tr.querySelector('.pill')?.textContent]))).toEqual([
        ['search-a', 'live'],
        ['search-b', 'live'],
      ]);
      const summary = await page.locator('#fleet [data-field="fleet-summary"]').textContent();
      expect(summary).toContain('2 of 2 replicas live');
      // The page's own polls go through the middleware on search-a too: at least the 50 sent.
      expect(Number(/(\d+) requests in the window/.exec(summary ?? '')?.[1])).toBeGreaterThanOrEqual(50);
      // search-b's 3 failures are in the merged figure (search-a alone is at 100 %).
      const success = Number(/fleet success ([\d.]+)%/.exec(summary ?? '')?.[1]);
      expect(success).toBeGreaterThan(90);
      expect(success).toBeLessThan(100);
      expect(summary).toMatch(/fleet p95 \d/);

      const card = page.locator(`[data-incident-id="${id}"]`);
      await card.waitFor();
      expect(await card.locator('[data-field="fleet-owner"]').textContent()).toBe('owner: search-b');
      expect(await card.locator('[data-field="fleet-seen"]').textContent()).toContain('search-b');
      // Server text goes in as text, never as markup.
      expect(await card.locator('.summary').textContent()).toBe(inc.summary);
      expect(await card.locator('.summary b').count()).toBe(0);

      // Keyboard: Tab moves from Acknowledge to Procedures on the card.
      await card.locator('[data-action="acknowledge"]').focus();
      await page.keyboard.press('Tab');
      expect(await page.locator(':focus').getAttribute('data-action')).toBe('procedures');
      // Colour is not the only signal: each state is written out.
      expect(await page.locator('#fleet tbody .pill').allTextContents()).toEqual(['live', 'live']);

      mkdirSync(ARTIFACTS, { recursive: true });
      await page.locator('#fleet').scrollIntoViewIfNeeded();
      await page.screenshot({ path: join(ARTIFACTS, 'dashboard-fleet.png'), fullPage: true });
      expect(problems).toEqual([]);
    });

    it('marks a replica that stopped publishing as stale, in words, and counts it out of the live ones', { timeout: 60_000 }, async () => {
      const [a, b, c] = ['search-a', 'search-b', 'search-c'].map((r) => member(r, 100));
      await Promise.all([a!, b!, c!].map((m) => m.fleet.ready));
      await Promise.all([a!, b!, c!].map((m) => m.fleet.windows.publish()));
      await c!.fleet.close(); // search-c stops publishing, as a crashed replica would
      const base = await serve(a!.monitor);
      const { page, problems } = await openDashboard(base);
      const state = (name: string): Promise<string | null> => page.locator(`#fleet tr[data-replica="${name}"] .pill`).textContent();
      await vi.waitFor(async () => expect(await state('search-c')).toBe('stale'), { timeout: 20_000, interval: 200 });
      expect(await state('search-a')).toBe('live');
      expect(await page.locator('#fleet tr[data-replica="search-c"] td').last().textContent()).toMatch(/^silent for \d/);
      expect(await page.locator('#fleet [data-field="fleet-summary"]').textContent()).toMatch(/\b[12] of 3 replicas live/);
      await page.screenshot({ path: join(ARTIFACTS, 'dashboard-fleet-stale.png'), fullPage: true });
      expect(problems).toEqual([]);
    });

    it('with Redis unreachable: says so and keeps the last known replicas', { timeout: 60_000 }, async () => {
      const a = member('search-a');
      const b = member('search-b');
      await Promise.all([a.fleet.ready, b.fleet.ready]);
      await Promise.all([a.fleet.windows.publish(), b.fleet.windows.publish()]);
      const base = await serve(a.monitor);
      const { page } = await openDashboard(base);
      await page.locator('#fleet tr[data-replica="search-b"]').waitFor();
      await redisServer!.kill();
      try {
        await page.locator('#fleet [data-field="fleet-degraded"]').waitFor({ timeout: 30_000 });
        expect(await page.locator('#fleet [data-field="fleet-degraded"]').textContent()).toContain('Redis unreachable: acting on last known state');
        expect(await page.locator('#fleet tr[data-replica="search-b"]').count()).toBe(1);
        await page.screenshot({ path: join(ARTIFACTS, 'dashboard-fleet-degraded.png'), fullPage: true });
      } finally {
        await redisServer!.restart();
      }
    });
  });
});

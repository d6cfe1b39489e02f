import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Notification } from '../../src/index.js';
import { setup } from './helpers.js';

interface Received {
  body: Record<string, unknown>;
  headers: IncomingMessage['headers'];
}

let server: Server;
let url: string;
let received: Received[];
let waiters: (() => void)[];
let respond: (res: ServerResponse, n: number) => void;

beforeEach(async () => {
  // Backoff is full jitter, a random wait up to the exponential ceiling: pinned to the ceiling here so
  // these tests read the schedule exactly (test/ops/notifier-retries.test.ts covers the jitter itself).
  vi.spyOn(Math, 'random').mockReturnValue(0.999_999_9);
  received = [];
  waiters = [];
  respond = (res) => res.end('ok');
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      received.push({ body: JSON.parse(Buffer.concat(chunks).toString()) as Record<string, unknown>, headers: req.headers });
      respond(res, received.length);
      waiters.splice(0).forEach((w) => w());
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
});

afterEach(async () => {
  vi.restoreAllMocks();
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

/** Resolves when the server has received `n` requests in total. */
function requests(n: number): Promise<void> {
  return received.length >= n ? Promise.resolve() : new Promise((resolve) => waiters.push(() => void requests(n).then(resolve)));
}

describe('webhook notifiers (local HTTP server)', () => {
  it('every payload of one incident carries the same dedupKey <service>:<type>:<scope> and the incident id (PagerDuty dedup_key)', async () => {
    const { monitor } = setup({ notifiers: [{ webhook: url }] });
    const inc = monitor.incidents.open({ type: 'service-down', scope: 'api', severity: 'critical', summary: 'down' });
    monitor.incidents.acknowledge(inc.id, { by: 'alice' });
    monitor.incidents.resolve(inc.id, { by: 'alice' });
    await monitor.flush();
    expect(received.map((r) => r.body['event'])).toEqual(['incident:opened', 'incident:acknowledged', 'incident:resolved']);
    for (const r of received) expect(r.body).toMatchObject({ dedupKey: 'search-api:service-down:api', incidentId: inc.id });
  });

  it('POSTs a JSON body with the event, the incident and the rendered text, with custom headers', async () => {
    const { monitor } = setup({ notifiers: [{ webhook: url, headers: { authorization: 'Bearer t0k' } }] });
    const inc = monitor.incidents.open({ type: 'service-down', severity: 'critical', summary: 'All requests failing' });
    monitor.incidents.acknowledge(inc.id, { by: 'alice' });
    await monitor.flush();
    expect(received.map((r) => r.body['event'])).toEqual(['incident:opened', 'incident:acknowledged']); // in order
    const first = received[0]!;
    expect(first.headers['authorization']).toBe('Bearer t0k');
    expect(first.headers['content-type']).toBe('application/json');
    expect(first.body).toMatchObject({ service: 'search-api', incident: { id: inc.id, status: 'open', severity: 'critical' } });
    expect(first.body['text']).toMatch(/^INCIDENT ALERT - CRITICAL \(P0\)/);
    expect(received[1]!.body['text']).toMatch(/^INCIDENT UPDATE - CRITICAL \(P0\)/);
    expect(monitor.stats().incidents.notifiers).toEqual([
      { name: `webhook 127.0.0.1:${new URL(url).port}`, kind: 'webhook', queued: 0, inFlight: false, delivered: 2, failed: 0, dropped: 0, retries: 0, deadLettered: 0 },
    ]);
  });

  it('sends a Slack payload with format: "slack", and only the events asked for', async () => {
    const { monitor } = setup({ notifiers: [{ webhook: url, format: 'slack', events: ['incident:resolved'] }] });
    const inc = monitor.incidents.open({ type: 'cache-failure', severity: 'medium', summary: 'Cache hit rate 12 %' });
    monitor.incidents.resolve(inc.id, { by: 'alice', notes: 'Cache re-enabled', rootCause: 'Redis failover' });
    await monitor.flush();
    expect(received).toHaveLength(1);
    const slack = received[0]!.body as { text: string; blocks: { type: string }[] };
    expect(slack.text).toBe('INCIDENT RESOLVED - MEDIUM (P2): Cache hit rate 12 %');
    expect(slack.blocks.map((b) => b.type)).toEqual(['header', 'section', 'context']);
  });

  it('abandons an attempt after timeoutMs and retries after backoffMs, both on the monitor’s clock', async () => {
    const hung: ServerResponse[] = [];
    respond = (res, n) => (n === 1 ? hung.push(res) : res.end('ok'));
    const { clock, monitor } = setup({ notifiers: [{ webhook: url, timeoutMs: 1_000, retries: 2, backoffMs: 500 }] });
    monitor.incidents.open({ type: 'service-down', severity: 'critical', summary: 'down' });
    await requests(1);
    const stats = () => monitor.stats().incidents.notifiers[0]!;
    expect(stats().inFlight).toBe(true);
    clock.advance(999);
    expect(stats().inFlight).toBe(true);
    clock.advance(1);
    expect(stats()).toMatchObject({ inFlight: false, delivered: 0, failed: 0, retries: 0, lastError: 'timed out after 1000 ms' });
    expect(clock.pendingTimers()).toBe(1); // the retry
    clock.advance(499);
    expect(received).toHaveLength(1);
    clock.advance(1);
    await monitor.flush();
    expect(received).toHaveLength(2);
    expect(stats()).toMatchObject({ delivered: 1, failed: 0, retries: 1 });
    expect(clock.pendingTimers()).toBe(0);
  });

  it('retries a 5xx with exponential backoff, then gives up and counts the failure', async () => {
    respond = (res) => {
      res.statusCode = 503;
      res.end('busy');
    };
    const { clock, monitor } = setup({ notifiers: [{ webhook: url, retries: 3, backoffMs: 1_000, maxBackoffMs: 3_000 }] });
    monitor.incidents.open({ type: 't', severity: 'low', summary: 'x' });
    await monitor.flush();
    const waits = [1_000, 2_000, 3_000]; // doubling, capped by maxBackoffMs
    for (const [i, w] of waits.entries()) {
      clock.advance(w - 1);
      expect(received).toHaveLength(i + 1);
      clock.advance(1);
      await monitor.flush();
      expect(received).toHaveLength(i + 2);
    }
    expect(monitor.stats().incidents.notifiers[0]).toMatchObject({ delivered: 0, failed: 1, retries: 3, lastError: 'webhook answered HTTP 503' });
    expect(clock.pendingTimers()).toBe(0);
  });

  it('does not retry a 4xx other than 408/429', async () => {
    respond = (res) => {
      res.statusCode = 400;
      res.end();
    };
    const { clock, monitor } = setup({ notifiers: [{ webhook: url }] });
    monitor.incidents.open({ type: 't', severity: 'low', summary: 'x' });
    await monitor.flush();
    expect(monitor.stats().incidents.notifiers[0]).toMatchObject({ failed: 1, retries: 0 });
    expect(clock.pendingTimers()).toBe(0);
  });

  it('counts a refused connection as a failure without disturbing anything', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const deadUrl = `http://127.0.0.1:${(closed.address() as AddressInfo).port}/`;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const { monitor } = setup({ notifiers: [{ webhook: deadUrl, retries: 0 }] });
    monitor.incidents.open({ type: 't', severity: 'low', summary: 'x' });
    await monitor.flush();
    expect(monitor.stats().incidents.notifiers[0]).toMatchObject({ failed: 1, delivered: 0 });
  });
});

/** Lets every pending promise callback run (setImmediate fires after the microtask queue is empty); no time passes. */
const drainMicrotasks = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('function notifiers', () => {
  it('receive { event, service, at, incident } off the hot path: never inside evaluate()', async () => {
    const got: Notification[] = [];
    const { clock, monitor } = setup({ incidents: { forMs: 0 }, notifiers: [(n) => void got.push(n)] });
    monitor.detector({ type: 'model-failure', evaluate: () => true });
    const report = monitor.evaluate();
    expect(report.incidents.opened).toHaveLength(1);
    expect(got).toEqual([]); // queued, not called yet
    await monitor.flush();
    expect(got).toEqual([{ event: 'incident:opened', service: 'search-api', at: clock.now(), incident: report.incidents.opened[0], dedupKey: 'search-api:model-failure:service' }]);
  });

  it('a notifier that hangs or throws never delays or breaks evaluation; its queue is bounded', async () => {
    let calls = 0;
    const hang = () => {
      calls++;
      return new Promise<void>(() => {});
    };
    const { clock, monitor } = setup({
      incidents: { forMs: 0 },
      notifiers: [
        { notify: hang, queueSize: 2, timeoutMs: 60_000, retries: 0 },
        {
          notify: () => {
            throw new Error('boom');
          },
          retries: 0,
        },
      ],
    });
    for (let i = 0; i < 5; i++) monitor.detector({ type: `signal-${i}`, evaluate: () => true });
    const report = monitor.evaluate(); // five incidents opened at once
    expect(report.incidents.opened).toHaveLength(5);
    expect(calls).toBe(0);
    await Promise.resolve();
    expect(calls).toBe(1);
    const [hanging, throwing] = monitor.stats().incidents.notifiers;
    expect(hanging).toMatchObject({ inFlight: true, queued: 2, dropped: 2 });
    expect(throwing!.name).toBe('notifier-1');
    for (let i = 0; i < 18; i++) {
      clock.advance(10_000);
      expect(() => monitor.evaluate()).not.toThrow();
      await drainMicrotasks(); // what the event loop does between two evaluations
    }
    // Each hung attempt was abandoned after 60 s: the one in flight and the two queued ones.
    await monitor.flush();
    expect(monitor.stats().incidents.notifiers[0]).toMatchObject({ inFlight: false, queued: 0, failed: 3, dropped: 2 });
    expect(calls).toBe(3);
    expect(monitor.stats().incidents.notifiers[1]).toMatchObject({ failed: 5, lastError: 'boom' });
  });

  it('stop() cancels retries and queued deliveries, counting them as dropped', async () => {
    const { clock, monitor } = setup({
      notifiers: [
        {
          notify: () => Promise.reject(new Error('nope')),
          retries: 5,
          backoffMs: 1_000,
        },
      ],
    });
    monitor.start();
    monitor.incidents.open({ type: 't', severity: 'low', summary: 'x' });
    await monitor.flush();
    expect(monitor.stats().incidents.notifiers[0]).toMatchObject({ failed: 0, dropped: 0 });
    monitor.stop();
    expect(clock.pendingTimers()).toBe(0);
    expect(monitor.stats().incidents.notifiers[0]).toMatchObject({ dropped: 1 });
  });
});

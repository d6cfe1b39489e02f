import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createMonitor, type DeadLetter } from '../../src/index.js';
import { parseRetryAfter } from '../../src/incidents/notifiers.js';
import { ManualClock } from '../../src/testing/index.js';
import { fixedProbes } from '../incidents/helpers.js';

afterEach(() => vi.restoreAllMocks());

/** A notifier that fails `failures` times, and the clock times of its attempts. */
function flaky(clock: ManualClock, failures: number) {
  const at: number[] = [];
  const notify = async () => {
    at.push(clock.now());
    if (at.length <= failures) throw new Error(`attempt ${at.length} failed`);
  };
  return { at, notify };
}

describe('notifier retries: full jitter', () => {
  it('waits a random share of the exponential ceiling: 0 with random() = 0, the ceiling with random() → 1', async () => {
    for (const [r, waits] of [[0, [0, 0, 0]], [0.5, [500, 1_000, 1_500]], [0.999_999_9, [1_000, 2_000, 3_000]]] as const) {
      vi.spyOn(Math, 'random').mockReturnValue(r);
      const clock = new ManualClock();
      const { at, notify } = flaky(clock, 3);
      const monitor = createMonitor({ service: 's', clock, probes: fixedProbes(), notifiers: [{ notify, retries: 3, backoffMs: 1_000, maxBackoffMs: 3_000 }] });
      const t0 = clock.now();
      monitor.incidents.open({ type: 't', severity: 'low', summary: 's' });
      await clock.advanceAsync(10_000);
      const gaps = at.slice(1).map((t, i) => t - at[i]!);
      expect(at[0]).toBe(t0);
      expect(gaps).toEqual(waits);
      expect(monitor.stats().incidents.notifiers[0]).toMatchObject({ delivered: 1, retries: 3, deadLettered: 0 });
      vi.restoreAllMocks();
    }
  });

  it('dead-letters after the last retry: counted, and emitted as notifier:dead-letter', async () => {
    vi.spyOn(Math, 'random').mockReturnValue(0.5);
    const clock = new ManualClock();
    const { notify } = flaky(clock, 10);
    const monitor = createMonitor({ service: 's', clock, probes: fixedProbes(), notifiers: [{ name: 'pager', notify, retries: 2, backoffMs: 100 }] });
    const dead: DeadLetter[] = [];
    monitor.on('notifier:dead-letter', (d) => dead.push(d));
    const inc = monitor.incidents.open({ type: 't', severity: 'low', summary: 's' });
    await clock.advanceAsync(1_000);
    expect(dead).toEqual([{ notifier: 'pager', notification: expect.objectContaining({ event: 'incident:opened', incident: expect.objectContaining({ id: inc.id }) }), reason: 'failed', attempts: 3, error: 'attempt 3 failed' }]);
    expect(monitor.stats().incidents.notifiers[0]).toMatchObject({ failed: 1, deadLettered: 1, retries: 2 });
  });
});

describe('Retry-After', () => {
  it('parses delay-seconds and HTTP dates; ignores garbage', () => {
    const now = Date.UTC(2026, 0, 1, 12, 0, 0);
    expect(parseRetryAfter('120', now)).toBe(120_000);
    expect(parseRetryAfter('Thu, 01 Jan 2026 12:00:30 GMT', now)).toBe(30_000);
    expect(parseRetryAfter('Thu, 01 Jan 2026 11:00:00 GMT', now)).toBe(0);
    expect(parseRetryAfter('soon', now)).toBeUndefined();
    expect(parseRetryAfter('-5', now)).toBeUndefined();
    expect(parseRetryAfter(null, now)).toBeUndefined();
  });

  let server: Server;
  let url: string;
  let count = 0;
  let respond: (res: ServerResponse, n: number) => void;
  let waiters: (() => void)[] = [];
  beforeEach(async () => {
    count = 0;
    waiters = [];
    server = createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        respond(res, ++count);
        waiters.splice(0).forEach((w) => w());
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
  });
  afterEach(async () => {
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
  });
  const requests = (n: number): Promise<void> => (count >= n ? Promise.resolve() : new Promise((r) => waiters.push(() => void requests(n).then(r))));

  it('waits what a 429 Retry-After asks (seconds), not the jittered backoff', async () => {
    vi.spyOn(Math, 'random').mockReturnValue(0); // jitter alone would retry at once
    respond = (res, n) => {
      if (n === 1) {
        res.statusCode = 429;
        res.setHeader('retry-after', '7');
      }
      res.end();
    };
    const clock = new ManualClock();
    const monitor = createMonitor({ service: 's', clock, probes: fixedProbes(), notifiers: [{ webhook: url, retries: 2, backoffMs: 100 }] });
    monitor.incidents.open({ type: 't', severity: 'low', summary: 's' });
    await requests(1);
    await monitor.flush();
    clock.advance(6_999);
    await monitor.flush();
    expect(count).toBe(1);
    clock.advance(1);
    await requests(2);
    await monitor.flush();
    expect(monitor.stats().incidents.notifiers[0]).toMatchObject({ delivered: 1, retries: 1 });
  });

  it('caps Retry-After at maxBackoffMs (an HTTP date an hour away waits maxBackoffMs)', async () => {
    const clock = new ManualClock();
    respond = (res, n) => {
      if (n === 1) {
        res.statusCode = 503;
        res.setHeader('retry-after', new Date(clock.now() + 3_600_000).toUTCString());
      }
      res.end();
    };
    const monitor = createMonitor({ service: 's', clock, probes: fixedProbes(), notifiers: [{ webhook: url, retries: 1, maxBackoffMs: 5_000 }] });
    monitor.incidents.open({ type: 't', severity: 'low', summary: 's' });
    await requests(1);
    await monitor.flush();
    clock.advance(4_999);
    await monitor.flush();
    expect(count).toBe(1);
    clock.advance(1);
    await requests(2);
    await monitor.flush();
    expect(monitor.stats().incidents.notifiers[0]).toMatchObject({ delivered: 1 });
  });
});

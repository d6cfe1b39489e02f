import { connect, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createMonitor, type Monitor } from '../../../src/index.js';
import type { TimerHandle } from '../../../src/clock.js';
import { ManualClock } from '../../../src/testing/index.js';
import { OPERATOR_TOKEN, call, serve, type Framework, type Served, type ServeOptions } from '../harness.js';

/** A ManualClock that tells the test when a timer of a given length is armed. */
class ArmingClock extends ManualClock {
  private waiters: { ms: number; resolve: () => void }[] = [];
  readonly armed: number[] = [];

  override setTimeout(fn: () => void, ms: number): TimerHandle {
    const handle = super.setTimeout(fn, ms);
    this.armed.push(ms);
    for (const w of this.waiters.filter((x) => x.ms === ms)) w.resolve();
    this.waiters = this.waiters.filter((x) => x.ms !== ms);
    return handle;
  }

  /** Resolves when a timer of `ms` is armed (now or later). */
  whenArmed(ms: number): Promise<void> {
    return new Promise((resolve) => this.waiters.push({ ms, resolve }));
  }
}

interface RawExchange {
  socket: Socket;
  /** Resolves with everything the server sent once it closed the connection. */
  closed: Promise<string>;
}

/** Opens a raw connection, sends `head` and `partialBody`, and keeps the socket open (a stalled client). */
function stalledPost(url: string, path: string, headers: Record<string, string>, partialBody: string): RawExchange {
  const { hostname, port } = new URL(url);
  const socket = connect(Number(port), hostname);
  let received = '';
  socket.setEncoding('utf8');
  socket.on('data', (d: string) => (received += d));
  const closed = new Promise<string>((resolve, reject) => {
    socket.on('close', () => resolve(received));
    socket.on('error', (err: NodeJS.ErrnoException) => (err.code === 'ECONNRESET' ? undefined : reject(err)));
  });
  const lines = [`POST ${path} HTTP/1.1`, `Host: ${hostname}:${port}`, ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`)];
  socket.write(`${lines.join('\r\n')}\r\n\r\n${partialBody}`);
  return { socket, closed };
}

const manual = { type: 'model-drift', severity: 'medium', summary: 'Drift' };
const nestedObject = (depth: number, close = true): string => '{"a":'.repeat(depth) + (close ? '1' + '}'.repeat(depth) : '');
const nestedArray = (depth: number): string => '['.repeat(depth) + ']'.repeat(depth);

/** Deep bodies and stalled bodies through one adapter. */
export function httpEdgesSuite(framework: Framework, label: string = framework, opts: ServeOptions = {}): void {
  describe(`HTTP edges through ${label}`, () => {
    let served: Served | undefined;
    const sockets: Socket[] = [];
    afterEach(async () => {
      for (const s of sockets.splice(0)) s.destroy();
      await served?.close();
      served = undefined;
    });

    async function start(http: ServeOptions['http'] = {}): Promise<{ monitor: Monitor; url: string; clock: ArmingClock }> {
      const clock = new ArmingClock();
      const monitor = createMonitor({ service: 'api', clock });
      served = await serve(framework, monitor, { ...opts, http: { ...opts.http, ...http } });
      return { monitor, url: served.url, clock };
    }

    const post = (url: string, raw: string) =>
      call(url, '/admin/incidents', { token: OPERATOR_TOKEN, raw, headers: { 'content-type': 'application/json' } });

    it('answers 400 (not 500) for a body nested far too deep, naming the nesting', async () => {
      const { url, monitor } = await start({ bodyLimitBytes: 1_048_576 });
      // Behind express.json() (100 kB limit), the deepest body that fits; else 100,000 levels.
      const bodies = opts.hostJsonParser ? [nestedArray(50_000), nestedObject(16_000)] : [nestedArray(100_000), nestedObject(100_000)];
      for (const raw of bodies) {
        const r = await post(url, raw);
        expect(r.status).toBe(400);
        expect(r.json.error.code).toBe('VALIDATION_FAILED');
        expect(r.json.error.message).toMatch(/nest/i);
        expect(r.json.error.details[0].message).toMatch(/deeper than 32 levels/);
      }
      expect(monitor.incidents.list()).toHaveLength(0);
      // The server is still fine afterwards.
      expect((await call(url, '/admin/incidents', { token: OPERATOR_TOKEN, body: manual })).status).toBe(201);
    });

    if (!opts.hostJsonParser) {
      it('answers 400 INVALID_JSON for 100,000 unclosed {"a": and 413 when that exceeds the default limit', async () => {
        const { url } = await start({ bodyLimitBytes: 1_048_576 });
        const r = await post(url, nestedObject(100_000, false));
        expect(r.status).toBe(400);
        expect(r.json.error.code).toBe('INVALID_JSON');
        await served!.close();
        const small = await start();
        const big = await post(small.url, nestedObject(100_000, false));
        expect(big.status).toBe(413);
        expect(big.json.error.code).toBe('PAYLOAD_TOO_LARGE');
      });

      it('answers 408 with connection: close and closes the socket when a body stalls past the default 10 s', async () => {
        const { url, clock, monitor } = await start();
        const armed = clock.whenArmed(10_000);
        const ex = stalledPost(
          url,
          '/admin/incidents',
          { authorization: `Bearer ${OPERATOR_TOKEN}`, 'content-type': 'application/json', 'content-length': '200' },
          '{"type":"model-drift",',
        );
        sockets.push(ex.socket);
        await armed;
        clock.advance(10_000);
        const text = await ex.closed;
        expect(text).toMatch(/^HTTP\/1\.1 408 /);
        expect(text).toMatch(/\r\nconnection: close\r\n/i);
        const body = JSON.parse(text.slice(text.indexOf('\r\n\r\n') + 4)) as { error: { code: string; details: unknown } };
        expect(body.error.code).toBe('REQUEST_TIMEOUT');
        expect(body.error.details).toEqual({ timeoutMs: 10_000 });
        expect(monitor.incidents.list()).toHaveLength(0);
      });

      it('honours a configured body deadline, also for a chunked body', async () => {
        const { url, clock } = await start({ bodyTimeoutMs: 250 });
        const armed = clock.whenArmed(250);
        const ex = stalledPost(
          url,
          '/admin/incidents',
          { authorization: `Bearer ${OPERATOR_TOKEN}`, 'content-type': 'application/json', 'transfer-encoding': 'chunked' },
          '5\r\n{"typ\r\n',
        );
        sockets.push(ex.socket);
        await armed;
        clock.advance(249);
        expect(ex.socket.destroyed).toBe(false);
        clock.advance(1);
        expect(await ex.closed).toMatch(/^HTTP\/1\.1 408 /);
      });

      it('cancels the deadline once the body has arrived', async () => {
        const { url, clock } = await start();
        const before = clock.pendingTimers();
        expect((await call(url, '/admin/incidents', { token: OPERATOR_TOKEN, body: manual })).status).toBe(201);
        expect(clock.armed).toContain(10_000);
        expect(clock.pendingTimers()).toBe(before);
      });
    }
  });
}

import { describe, expect, it } from 'vitest';
import { createMonitor } from '../../src/index.js';
import { ManualClock } from '../../src/testing/index.js';
import { fixedProbes } from '../helpers/probes.js';
import { watchUnhandledRejections } from '../helpers/unhandled.js';

/**
 * Minimal reproductions of what the fuzz properties in this folder found,
 * one per defect, so each stays fixed even if a later seed stops generating it.
 */

/** An object whose every string-keyed read throws: a host's broken wrapper or revoked proxy. */
function unreadable(): object {
  return new Proxy(
    {},
    {
      get(_t, key) {
        if (typeof key === 'symbol') return undefined;
        throw new Error('trap');
      },
    },
  );
}

function monitorOn() {
  const clock = new ManualClock();
  return { clock, monitor: createMonitor({ service: 'fuzz', clock, probes: fixedProbes() }) };
}

describe('fuzz regressions: the hot path', () => {
  it('recordRequest does not throw for a record whose fields cannot be read; it counts one rejection', () => {
    const { monitor } = monitorOn();
    expect(() => monitor.recordRequest(unreadable() as never)).not.toThrow();
    const s = monitor.stats();
    expect(s.overall.requests).toBe(0);
    expect(s.rejected).toBe(1);
    expect(s.recording.rejectedBy.route).toBe(1);
  });

  it('recordRequest does not throw when only `arm` cannot be read; the request is counted as rejected', () => {
    const { monitor } = monitorOn();
    const record = { route: 'GET /a', durationMs: 5, status: 200 };
    Object.defineProperty(record, 'arm', {
      get() {
        throw new Error('arm getter');
      },
    });
    expect(() => monitor.recordRequest(record)).not.toThrow();
    expect(monitor.stats().rejected).toBe(1);
  });

  it("startTimer's end() does not throw for an outcome whose fields cannot be read; the request is counted as rejected", () => {
    const { monitor, clock } = monitorOn();
    const end = monitor.startTimer('GET /a');
    clock.advance(10);
    expect(() => end(unreadable() as never)).not.toThrow();
    const s = monitor.stats();
    expect(s.overall.requests).toBe(0);
    expect(s.recording.rejectedBy.status).toBe(1);
  });

  it('track() does not throw synchronously when fn returns an object whose `then` getter throws: it returns a rejected promise and records a failure', async () => {
    const { monitor } = monitorOn();
    const unhandled = watchUnhandledRejections();
    try {
      const weird = Object.defineProperty({}, 'then', {
        get() {
          throw new Error('then getter');
        },
      });
      let out: unknown;
      expect(() => (out = monitor.track('GET /a', () => weird))).not.toThrow();
      expect(out).toBeInstanceOf(Promise);
      await expect(out).rejects.toThrow('then getter');
      const s = monitor.stats();
      expect(s.routes['GET /a']).toMatchObject({ requests: 1, failures: 1 });
      await unhandled.settle();
      expect(unhandled.seen).toEqual([]);
    } finally {
      unhandled.stop();
    }
  });
});

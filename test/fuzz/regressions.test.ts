import { describe, expect, it } from 'vitest';
import { NotFoundError, ValidationError, createMonitor } from '../../src/index.js';
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

describe('fuzz regressions: controls', () => {
  it('rateLimiter.topOffenders(n) with an n that is not a count fails with a ValidationError naming n, not a TypeError', () => {
    const { monitor } = monitorOn();
    const limiter = monitor.rateLimiter('api', { maxRequests: 1, windowSeconds: 60 });
    limiter.check('a');
    limiter.check('a');
    for (const n of [Object.create(null), Symbol('n'), 'x', -1, Number.NaN, 1.5]) {
      let thrown: unknown;
      try {
        limiter.topOffenders(n as number);
      } catch (err) {
        thrown = err;
      }
      expect(thrown).toBeInstanceOf(ValidationError);
      expect((thrown as ValidationError).issues.map((i) => i.path)).toEqual(['n']);
    }
    expect(limiter.topOffenders(0)).toEqual([]);
    expect(limiter.topOffenders()).toHaveLength(1);
  });

  it('rateLimiter.tighten(factor) with a factor that is not a number fails with a ValidationError naming factor, and leaves the limit alone', () => {
    const { monitor } = monitorOn();
    const limiter = monitor.rateLimiter('api', { maxRequests: 10, windowSeconds: 60 });
    for (const f of [Object.create(null), 1n, Symbol('f'), '0.5']) {
      let thrown: unknown;
      try {
        limiter.tighten(f as number);
      } catch (err) {
        thrown = err;
      }
      expect(thrown).toBeInstanceOf(ValidationError);
      expect((thrown as ValidationError).issues.map((i) => i.path)).toEqual(['factor']);
    }
    expect(limiter.current().maxRequests).toBe(10);
  });

  it('rateLimiter.block(key, ttlMs) with a ttlMs that is not a number fails with a ValidationError naming ttlMs', () => {
    const { monitor } = monitorOn();
    const limiter = monitor.rateLimiter('api', { maxRequests: 10, windowSeconds: 60 });
    for (const ttl of [Object.create(null), 5n, Symbol('t')]) {
      let thrown: unknown;
      try {
        limiter.block('k', ttl as number);
      } catch (err) {
        thrown = err;
      }
      expect(thrown).toBeInstanceOf(ValidationError);
      expect((thrown as ValidationError).issues.map((i) => i.path)).toEqual(['ttlMs']);
    }
    expect(limiter.blockedUntil('k')).toBeUndefined();
  });
});

describe('fuzz regressions: actions', () => {
  it('actions.execute and revert with an id that is not a string reject with a ValidationError naming it, not a TypeError', async () => {
    const { monitor } = monitorOn();
    for (const id of [Object.create(null), Symbol('id'), { toString: () => ({}) }]) {
      await expect(monitor.actions.execute(id as string)).rejects.toBeInstanceOf(ValidationError);
      await expect(monitor.actions.execute(id as string)).rejects.toMatchObject({ code: 'VALIDATION_FAILED', issues: [{ path: 'id' }] });
      await expect(monitor.actions.revert(id as string)).rejects.toMatchObject({ code: 'VALIDATION_FAILED', issues: [{ path: 'executionId' }] });
    }
  });
});

describe('fuzz regressions: incidents', () => {
  it('incident methods given an id that cannot be stringified fail with NotFoundError, not a TypeError', () => {
    const { monitor } = monitorOn();
    const id = Object.create(null) as string;
    for (const call of [() => monitor.incidents.procedures(id), () => monitor.incidents.postmortem(id), () => monitor.incidents.require(id), () => monitor.incidents.acknowledge(id, { by: 'alice' })]) {
      let thrown: unknown;
      try {
        call();
      } catch (err) {
        thrown = err;
      }
      expect(thrown).toBeInstanceOf(NotFoundError);
      expect(thrown).toMatchObject({ code: 'NOT_FOUND' });
    }
  });

  it('completeActionItem with an item id that cannot be stringified fails with NotFoundError', () => {
    const { monitor } = monitorOn();
    const inc = monitor.incidents.open({ type: 'high-latency', severity: 'high', summary: 'slow' });
    expect(() => monitor.incidents.completeActionItem(inc.id, Object.create(null) as string)).toThrow(NotFoundError);
  });

  it('completeActionItem with a `done` that is not a boolean fails with a ValidationError and leaves the item as it was', () => {
    const { monitor } = monitorOn();
    const inc = monitor.incidents.open({ type: 'high-latency', severity: 'high', summary: 'slow' });
    const item = monitor.incidents.addActionItem(inc.id, { text: 'add an alert', owner: 'alice' });
    expect(() => monitor.incidents.completeActionItem(inc.id, item.id, 'yes' as unknown as boolean)).toThrow(ValidationError);
    expect(monitor.incidents.get(inc.id)?.actionItems[0]?.done).toBe(false);
  });
});

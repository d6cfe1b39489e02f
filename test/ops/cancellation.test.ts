import { afterEach, describe, expect, it, vi } from 'vitest';
import { createMonitor } from '../../src/index.js';
import { ManualClock } from '../../src/testing/index.js';
import { guardedAbort } from '../../src/safe-call.js';
import { fixedProbes } from '../incidents/helpers.js';

const make = (clock = new ManualClock()) => ({ clock, monitor: createMonitor({ service: 'search-api', clock, probes: fixedProbes() }) });

afterEach(() => vi.restoreAllMocks());

describe('abort signals handed to user code', () => {
  it('a health check gets a signal that aborts with a TimeoutError when the check times out', async () => {
    const { clock, monitor } = make();
    let signal: AbortSignal | undefined;
    monitor.healthCheck('search', (s) => {
      signal = s;
      return new Promise(() => {});
    }, { timeoutMs: 500 });
    const run = monitor.checkHealth();
    await clock.advanceAsync(499);
    expect(signal?.aborted).toBe(false);
    await clock.advanceAsync(1);
    expect(signal?.aborted).toBe(true);
    expect((signal?.reason as DOMException).name).toBe('TimeoutError');
    expect((await run).checks[0]).toMatchObject({ ok: false, error: 'timed out after 500 ms' });
  });

  it('an abortable fallback primary is aborted at timeoutMs and the fallback answers', async () => {
    const { clock, monitor } = make();
    let signal: AbortSignal | undefined;
    const ranker = monitor.fallback('ranker', {
      abortablePrimary: (s: AbortSignal, q: string) => {
        signal = s;
        return new Promise<string>(() => void q);
      },
      fallback: (q: string) => `fallback:${q}`,
      timeoutMs: 300,
    });
    const answer = ranker.run('shoes');
    await clock.advanceAsync(300);
    expect(await answer).toBe('fallback:shoes');
    expect(signal?.aborted).toBe(true);
    expect(ranker.stats().primaryTimeouts).toBe(1);
  });

  it('a fallback needs exactly one of primary and abortablePrimary', () => {
    const { monitor } = make();
    expect(() => monitor.fallback('x', { fallback: () => 1 })).toThrow(expect.objectContaining({ name: 'ConfigError', message: expect.stringContaining('primary') }));
    expect(() => monitor.fallback('y', { primary: () => 1, abortablePrimary: () => 1, fallback: () => 1 })).toThrow(expect.objectContaining({ name: 'ConfigError' }));
  });

  it('a notifier function gets a signal that aborts when its attempt times out', async () => {
    const clock = new ManualClock();
    const signals: AbortSignal[] = [];
    const monitor = createMonitor({
      service: 'search-api',
      clock,
      probes: fixedProbes(),
      notifiers: [{ notify: (_n, s) => { signals.push(s); return new Promise(() => {}); }, timeoutMs: 1_000, retries: 0 }],
    });
    monitor.incidents.open({ type: 't', severity: 'low', summary: 's' });
    await clock.advanceAsync(0);
    expect(signals).toHaveLength(1);
    expect(signals[0]!.aborted).toBe(false);
    await clock.advanceAsync(1_000);
    expect(signals[0]!.aborted).toBe(true);
    expect(monitor.stats().incidents.notifiers[0]).toMatchObject({ failed: 1, deadLettered: 1 });
  });

  it('an abort listener that throws does not become an uncaught exception', async () => {
    const uncaught: unknown[] = [];
    const onUncaught = (err: unknown) => void uncaught.push(err);
    // vitest installs its own handler; ours records whatever Node would report.
    process.on('uncaughtException', onUncaught);
    try {
      const errors: unknown[] = [];
      const h = guardedAbort((e) => errors.push(e));
      const listener = () => { throw new Error('listener threw'); };
      h.signal.addEventListener('abort', listener);
      h.signal.onabort = () => Promise.reject(new Error('onabort rejected'));
      h.signal.addEventListener('abort', { handleEvent: () => { throw new Error('object listener threw'); } });
      const removed = vi.fn();
      h.signal.addEventListener('abort', removed);
      h.signal.removeEventListener('abort', removed);
      h.abort('timed out');
      h.abort('again'); // a second abort does nothing
      await new Promise((r) => setImmediate(r));
      expect(uncaught).toEqual([]);
      expect(errors.map((e) => (e as Error).message).sort()).toEqual(['listener threw', 'object listener threw', 'onabort rejected']);
      expect(removed).not.toHaveBeenCalled();
      expect((h.signal.reason as DOMException).message).toBe('timed out');
    } finally {
      process.off('uncaughtException', onUncaught);
    }
  });

  it('fetch honours the guarded signal (undici reads it through addEventListener)', async () => {
    const h = guardedAbort();
    const pending = fetch('http://127.0.0.1:9/never', { signal: h.signal }).catch((e: unknown) => e);
    h.abort('timed out');
    const err = await pending;
    expect((err as DOMException).name).toBe('TimeoutError');
  });
});

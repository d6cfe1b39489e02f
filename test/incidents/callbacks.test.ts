import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { watchUnhandledRejections } from '../helpers/unhandled.js';
import { setup } from './helpers.js';

let watch: ReturnType<typeof watchUnhandledRejections>;
beforeEach(() => {
  watch = watchUnhandledRejections();
});
afterEach(() => watch.stop());

/** Thrown or rejected with: nothing can print it (no prototype, so no toString). */
const unprintable = (): unknown => Object.create(null) as unknown;

describe('notifiers', () => {
  it.each([
    ['rejects with an unprintable reason', () => Promise.reject(unprintable())],
    ['throws an unprintable value', () => { throw unprintable(); }],
    ['returns a thenable whose then throws', () => ({ then(): never { throw new Error('then'); } }) as never],
  ])('a notifier that %s is counted as failed, and the next notification is still delivered', async (_what, broken) => {
    let fail = true;
    const delivered: string[] = [];
    const { clock, monitor: m } = setup({
      notifiers: [{ notify: (n) => (fail ? broken() : void delivered.push(n.incident.summary)), retries: 0 }],
    });
    m.incidents.open({ type: 't', severity: 'low', summary: 'first', by: 'alice' });
    await m.flush();
    clock.advance(1_000);
    await watch.settle();
    expect(m.stats().incidents.notifiers[0]).toMatchObject({ failed: 1, delivered: 0, inFlight: false });
    expect(typeof m.stats().incidents.notifiers[0]!.lastError).toBe('string');

    fail = false;
    m.incidents.open({ type: 't2', severity: 'low', summary: 'second', by: 'alice' });
    await m.flush();
    expect(delivered).toEqual(['second']);
    expect(m.stats().incidents.notifiers[0]).toMatchObject({ failed: 1, delivered: 1 });
    expect(watch.seen).toEqual([]);
  });
});

describe('health checks', () => {
  it.each([
    ['rejects with an unprintable reason', () => Promise.reject(unprintable())],
    ['throws an unprintable value', () => { throw unprintable(); }],
    ['returns a thenable whose then throws', () => ({ then(): never { throw new Error('then'); } })],
    ['returns a thenable whose then getter throws', () => ({ get then(): never { throw new Error('getter'); } })],
    ['resolves to a result whose ok getter throws', async () => ({ get ok(): never { throw new Error('ok getter'); } })],
    ['returns a result whose ok getter throws', () => ({ get ok(): never { throw new Error('ok getter'); } })],
  ])('a check that %s fails that check only, and the run completes', async (_what, broken) => {
    const { clock, monitor } = setup();
    monitor.healthCheck('broken', broken, { timeoutMs: 1_000 });
    monitor.healthCheck('database', () => true);
    const run = monitor.checkHealth();
    await watch.settle(); // the check's promise settles; no time passes
    clock.advance(1_000);
    const report = await run;
    await watch.settle();
    expect(report.status).toBe('failing');
    const [bad, good] = report.checks;
    expect(bad).toMatchObject({ name: 'broken', ok: false });
    expect(typeof bad!.error).toBe('string');
    expect(bad!.error).not.toMatch(/timed out/); // failed at once, not left hanging until the timeout
    expect(good).toMatchObject({ name: 'database', ok: true });
    expect(clock.pendingTimers()).toBe(0);
    expect(watch.seen).toEqual([]);
  });
});

describe('custom detectors', () => {
  const now0 = { forMs: 0 };

  it.each([
    ['evaluate returns a rejecting promise', { evaluate: () => Promise.reject(new Error('probe down')) as never }],
    ['evaluate throws', { evaluate: () => { throw new Error('probe down'); } }],
    ['summary returns a rejecting promise', { evaluate: () => true, summary: () => Promise.reject(new Error('template down')) as never }],
    ['summary throws', { evaluate: () => true, summary: (): string => { throw new Error('template down'); } }],
  ])('when %s, the error is counted on the detector and the other detectors still run', async (_what, def) => {
    const { clock, monitor } = setup({ incidents: now0 });
    const errors: string[] = [];
    monitor.on('detector:error', (e) => errors.push(e.detector));
    monitor.detector({ type: 'broken', ...def });
    monitor.detector({ type: 'model-failure', evaluate: () => true });
    const report = monitor.evaluate();
    clock.advance(10_000);
    monitor.evaluate();
    await watch.settle();
    expect(report.incidents.opened.map((i) => i.type)).toContain('model-failure');
    expect(errors).toEqual(['broken', 'broken']);
    expect(monitor.stats().incidents.detectors.find((d) => d.name === 'broken')).toMatchObject({ errors: 2 });
    expect(watch.seen).toEqual([]);
  });

  it('an unprintable throw is counted too', async () => {
    const { monitor } = setup({ incidents: now0 });
    monitor.detector({ type: 'broken', evaluate: () => { throw unprintable(); } });
    expect(() => monitor.evaluate()).not.toThrow();
    expect(monitor.stats().incidents.detectors.find((d) => d.name === 'broken')).toMatchObject({ errors: 1 });
  });
});

import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Incident } from '../src/index.js';
import { setup } from './actions/helpers.js';
import { watchUnhandledRejections } from './helpers/unhandled.js';

let watch: ReturnType<typeof watchUnhandledRejections>;
beforeEach(() => {
  watch = watchUnhandledRejections();
});
afterEach(() => watch.stop());

function openIncident(monitor: ReturnType<typeof setup>['monitor'], summary = 'Search is slow'): Incident {
  return monitor.incidents.open({ type: 'latency-spike', severity: 'high', summary, by: 'alice' });
}

describe('event listeners are user code that must never crash the host', () => {
  it('a listener whose promise rejects (the pager is down) is counted like a throw, and the others still run', async () => {
    const { clock, monitor } = setup();
    const paged: string[] = [];
    // The README's own pattern, with the pager down during the incident.
    monitor.on('incident:opened', async () => {
      throw new Error('pager unreachable');
    });
    monitor.on('incident:opened', (i) => paged.push(i.summary));

    openIncident(monitor);
    clock.advance(1_000);
    await watch.settle();

    expect(watch.seen).toEqual([]);
    expect(paged).toEqual(['Search is slow']);
    expect(monitor.stats().recording.listenerErrors).toBe(1);
    expect((monitor as unknown as { lastListenerError: unknown }).lastListenerError).toBeInstanceOf(Error);

    // The monitor keeps working: the next incident is reported too.
    monitor.incidents.open({ type: 'cache-failure', severity: 'high', summary: 'Cache is failing', by: 'alice' });
    await watch.settle();
    expect(paged).toContain('Cache is failing');
    expect(monitor.stats().recording.listenerErrors).toBeGreaterThanOrEqual(2);
    expect(watch.seen).toEqual([]);
  });

  it('a listener that throws synchronously is counted the same way', async () => {
    const { monitor } = setup();
    const seen: string[] = [];
    monitor.on('incident:opened', () => {
      throw new Error('listener bug');
    });
    monitor.on('incident:opened', (i) => seen.push(i.type));
    openIncident(monitor);
    await watch.settle();
    expect(seen).toEqual(['latency-spike']);
    expect(monitor.stats().recording.listenerErrors).toBe(1);
    expect(watch.seen).toEqual([]);
  });

  it('a once() listener returning a rejecting promise is contained and counted', async () => {
    const { monitor } = setup();
    monitor.once('evaluated', () => Promise.reject(new Error('late failure')));
    monitor.evaluate();
    monitor.evaluate();
    await watch.settle();
    expect(monitor.stats().recording.listenerErrors).toBe(1);
    expect(watch.seen).toEqual([]);
  });

  it('a listener returning a thenable whose then getter or method throws is counted, not thrown', async () => {
    const { monitor } = setup();
    let after = 0;
    monitor.on('evaluated', () => ({
      get then(): never {
        throw new Error('then getter');
      },
    }));
    monitor.on('evaluated', () => ({
      then(): never {
        throw new Error('then method');
      },
    }));
    monitor.on('evaluated', () => after++);
    expect(() => monitor.evaluate()).not.toThrow();
    await watch.settle();
    expect(after).toBe(1);
    expect(monitor.stats().recording.listenerErrors).toBe(2);
    expect(watch.seen).toEqual([]);
  });

  it('a listener whose promise fulfils is not counted', async () => {
    const { monitor } = setup();
    monitor.on('evaluated', async () => 'done');
    monitor.evaluate();
    await watch.settle();
    expect(monitor.stats().recording.listenerErrors).toBe(0);
  });
});

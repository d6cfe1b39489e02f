import { describe, expect, it } from 'vitest';
import { createMonitor } from '../../src/index.js';
import { ManualClock } from '../../src/testing/index.js';

describe('route names', () => {
  it('keeps routes named like Object.prototype members apart', () => {
    const monitor = createMonitor({ service: 'api', clock: new ManualClock() });
    for (const route of ['__proto__', 'constructor', 'toString', 'hasOwnProperty', '0', '']) {
      monitor.recordRequest({ route, durationMs: 5, status: 200 });
      monitor.recordRequest({ route, durationMs: 5, status: 500 });
    }
    const routes = monitor.stats().routes;
    for (const route of ['__proto__', 'constructor', 'toString', 'hasOwnProperty', '0', '']) {
      expect(monitor.store.routes.get(route)?.total(0), route).toBe(2);
    }
    expect(Object.keys(routes)).toHaveLength(6);
  });
});

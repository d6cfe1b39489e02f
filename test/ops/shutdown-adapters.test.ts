import Fastify from 'fastify';
import { describe, expect, it, vi } from 'vitest';
import firebreakPlugin from '../../src/adapters/fastify.js';
import { createMonitor, type Logger } from '../../src/index.js';
import { HttpSurface } from '../../src/http/surface.js';
import { ManualClock } from '../../src/testing/index.js';

describe('Fastify plugin and shutdown', () => {
  it('closes the monitor from onClose with closeMonitor: true', async () => {
    const monitor = createMonitor({ service: 'api', clock: new ManualClock() }).start();
    const app = Fastify();
    await app.register(firebreakPlugin, { monitor, routes: false, closeMonitor: true });
    await app.ready();
    expect(monitor.closed).toBe(false);
    await app.close();
    expect(monitor.closed).toBe(true);
    expect(monitor.running).toBe(false);
  });

  it('leaves a monitor it did not create running by default (it may be shared)', async () => {
    const monitor = createMonitor({ service: 'api', clock: new ManualClock() }).start();
    const app = Fastify();
    await app.register(firebreakPlugin, { monitor, routes: false });
    await app.close();
    expect(monitor.closed).toBe(false);
    expect(monitor.running).toBe(true);
    await monitor.close();
  });
});

describe('route options logger', () => {
  it("sends the auth: 'none' warning to the monitor's logger by default", () => {
    const warn = vi.fn();
    const logger: Logger = { error() {}, warn, info() {}, debug() {} };
    const monitor = createMonitor({ service: 'api', clock: new ManualClock(), logger });
    new HttpSurface(monitor, { auth: 'none' });
    expect(warn).toHaveBeenCalledTimes(1);
    expect(String(warn.mock.calls[0]![0])).toContain("auth: 'none'");
  });
});

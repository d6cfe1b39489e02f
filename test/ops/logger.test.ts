import { afterEach, describe, expect, it, vi } from 'vitest';
import { ConfigError, createMonitor, type Logger } from '../../src/index.js';
import { ManualClock } from '../../src/testing/index.js';
import { fixedProbes } from '../incidents/helpers.js';

function recordingLogger() {
  const lines: { level: string; obj: Record<string, unknown>; msg: string | undefined }[] = [];
  const at = (level: string) => (obj: unknown, msg?: string) => void lines.push({ level, obj: obj as Record<string, unknown>, msg });
  const logger: Logger = { error: at('error'), warn: at('warn'), info: at('info'), debug: at('debug') };
  return { logger, lines };
}

const base = () => ({ service: 'search-api', clock: new ManualClock(), probes: fixedProbes() });

afterEach(() => vi.restoreAllMocks());

describe('logger option', () => {
  it('logs a throwing listener once, with kind, name and the error, and counts it', () => {
    const { logger, lines } = recordingLogger();
    const monitor = createMonitor({ ...base(), logger });
    const boom = new Error('listener broke');
    monitor.on('incident:opened', () => {
      throw boom;
    });
    monitor.incidents.open({ type: 'service-down', severity: 'critical', summary: 'down' });
    expect(lines).toHaveLength(1);
    expect(lines[0]!.level).toBe('warn');
    expect(lines[0]!.obj).toMatchObject({ kind: 'listener', name: 'incident:opened', err: boom });
    expect(lines[0]!.msg).toContain('listener broke');
    expect(monitor.stats().recording.contained.listener).toBe(1);
  });

  it('binds { name, service } through child() when the logger has one, pino-style', () => {
    const { logger, lines } = recordingLogger();
    const bindings: Record<string, unknown>[] = [];
    const parent: Logger = { ...logger, child: (b) => (bindings.push(b), logger) };
    const monitor = createMonitor({ ...base(), logger: parent });
    expect(bindings).toEqual([{ name: 'firebreak', service: 'search-api' }]);
    expect(monitor.logger).toBe(logger);
    monitor.detector({ type: 'broken', evaluate: () => { throw new Error('bad probe'); }, severity: 'high', forMs: 0 });
    monitor.evaluate();
    expect(lines.map((l) => l.obj['kind'])).toEqual(['detector']);
    expect(monitor.stats().recording.contained.detector).toBe(1);
  });

  it('logs health checks that throw or time out, and failed actions', async () => {
    const { logger, lines } = recordingLogger();
    const clock = new ManualClock();
    const monitor = createMonitor({ ...base(), clock, logger });
    monitor.healthCheck('db', () => { throw new Error('ECONNREFUSED'); });
    monitor.healthCheck('slow', () => new Promise(() => {}), { timeoutMs: 100 });
    const run = monitor.checkHealth();
    await clock.advanceAsync(100);
    await run;
    monitor.actions.register({ id: 'cache.warm', title: 'Warm', risk: 'safe', execute: () => { throw new Error('warm failed'); } });
    await monitor.actions.execute('cache.warm', { by: 'alice' });
    const seen = lines.map((l) => [l.obj['kind'], l.obj['name']]);
    expect(seen).toEqual(expect.arrayContaining([['health-check', 'db'], ['health-check', 'slow'], ['action', 'cache.warm']]));
    expect(monitor.stats().recording.contained).toMatchObject({ 'health-check': 2, action: 1 });
  });

  it('rejects a logger without the pino/console methods, naming the missing member', () => {
    const attempt = (logger: unknown) => () => createMonitor({ service: 'x', logger: logger as Logger });
    expect(attempt({ error() {}, info() {}, debug() {} })).toThrow(ConfigError);
    try {
      attempt({ error() {}, info() {}, debug() {}, warn: 'nope' })();
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      expect((err as ConfigError).message).toContain('logger.warn');
    }
    expect(attempt(console)).not.toThrow();
  });

  it('survives a logger that throws or rejects (counted in loggerErrors)', () => {
    const logger: Logger = {
      error: () => { throw new Error('disk full'); },
      warn: () => Promise.reject(new Error('transport down')),
      info: () => {},
      debug: () => {},
    };
    const monitor = createMonitor({ ...base(), logger });
    monitor.on('incident:opened', () => { throw new Error('x'); });
    expect(() => monitor.incidents.open({ type: 't', severity: 'low', summary: 's' })).not.toThrow();
    expect(monitor.stats().recording.contained.listener).toBe(1);
  });

  it('defaults to a quiet logger: one process warning per kind, then counts only', () => {
    const warnings = vi.spyOn(process, 'emitWarning').mockImplementation(() => {});
    const monitor = createMonitor(base());
    monitor.on('incident:opened', () => { throw new Error('first'); });
    monitor.incidents.open({ type: 'a', severity: 'low', summary: 's', scope: 'a' });
    monitor.incidents.open({ type: 'b', severity: 'low', summary: 's', scope: 'b' });
    expect(warnings).toHaveBeenCalledTimes(1);
    const [message, opts] = warnings.mock.calls[0]! as [string, { type: string; code: string }];
    expect(message).toContain('first');
    expect(opts).toEqual({ type: 'FirebreakWarning', code: 'FIREBREAK_CONTAINED_LISTENER' });
    expect(monitor.stats().recording.contained.listener).toBe(2);
  });
});

import { hostname } from 'node:os';
import { describe, expect, it } from 'vitest';
import { ConfigError, createMonitor } from '../../src/index.js';

describe('the replica an action ran on', () => {
  it('is in every execution and audit entry: <hostname>-<pid> by default', async () => {
    const monitor = createMonitor({ service: 'api' });
    monitor.feature('rerank');
    const ex = await monitor.actions.execute('feature.disable', { params: { name: 'rerank' }, by: 'alice' });
    expect(ex.replica).toBe(`${hostname()}-${process.pid}`);
    await monitor.actions.revert(ex.id, { by: 'bob' });
    expect(monitor.actions.audit().map((e) => [e.kind, e.replica])).toEqual([
      ['execute', `${hostname()}-${process.pid}`],
      ['revert', `${hostname()}-${process.pid}`],
    ]);
    // No fleet attached: nothing claims the change went anywhere.
    expect(ex.fleet).toBeUndefined();
  });

  it('is the monitor option `replica` when given, and a bad one is a ConfigError naming it', async () => {
    const monitor = createMonitor({ service: 'api', replica: 'api-7' });
    monitor.feature('rerank');
    expect(monitor.replica).toBe('api-7');
    const ex = await monitor.actions.execute('feature.disable', { params: { name: 'rerank' }, by: 'alice' });
    expect(ex.replica).toBe('api-7');
    expect(monitor.actions.audit()[0]?.replica).toBe('api-7');
    expect(() => createMonitor({ service: 'api', replica: 'a b' })).toThrow(ConfigError);
    expect(() => createMonitor({ service: 'api', replica: 'a b' })).toThrow(/replica/);
  });
});

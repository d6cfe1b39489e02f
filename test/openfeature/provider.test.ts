import { OpenFeature, ProviderEvents, type EventDetails } from '@openfeature/server-sdk';
import { afterEach, describe, expect, it } from 'vitest';
import { ConfigError, createMonitor, type Monitor } from '../../src/index.js';
import { FirebreakProvider } from '../../src/openfeature/index.js';
import { ManualClock } from '../../src/testing/index.js';

let monitor: Monitor | undefined;
afterEach(async () => {
  await OpenFeature.close();
  OpenFeature.clearHandlers();
  await monitor?.close();
  monitor = undefined;
});

async function setup(pollMs = 1_000) {
  const clock = new ManualClock(Date.UTC(2026, 10, 29));
  monitor = createMonitor({ service: 'search', clock });
  const rerank = monitor.feature('rerank', { risky: true });
  const canary = monitor.canary('cross-encoder-v2', { percent: 10 });
  const provider = new FirebreakProvider(monitor, { pollMs });
  await OpenFeature.setProviderAndWait(provider);
  return { clock, monitor, rerank, canary, provider, client: OpenFeature.getClient() };
}

describe('FirebreakProvider', () => {
  it('rejects a bad option naming the field', () => {
    const m = createMonitor({ service: 's' });
    expect(() => new FirebreakProvider(m, { pollMs: 0 })).toThrow(ConfigError);
    expect(() => new FirebreakProvider(m, { pollMs: 0 })).toThrow(/pollMs/);
  });

  it('serves a feature as a boolean flag: enabled is STATIC, a kill switch pulled is DISABLED with who, why and the incident', async () => {
    const { client, monitor: m } = await setup();
    const on = await client.getBooleanDetails('rerank', false);
    expect(on).toMatchObject({ value: true, reason: 'STATIC', variant: 'enabled' });

    const incident = m.incidents.open({ type: 'high-latency', severity: 'high', summary: 'p95 over 2 s', by: 'alice' });
    const ex = await m.actions.execute('feature.disable', { params: { name: 'rerank', reason: 'p95 over 2 s' }, by: 'alice', incidentId: incident.id, confirm: true });
    expect(ex.outcome).toBe('success');
    const off = await client.getBooleanDetails('rerank', true);
    expect(off.value).toBe(false);
    expect(off.reason).toBe('DISABLED');
    expect(off.flagMetadata).toMatchObject({ by: 'alice', reason: 'p95 over 2 s', incidentId: incident.id });
  });

  it('answers the default with FLAG_NOT_FOUND for an unknown flag and TYPE_MISMATCH for the wrong type', async () => {
    const { client } = await setup();
    const missing = await client.getBooleanDetails('nope', true);
    expect(missing).toMatchObject({ value: true, errorCode: 'FLAG_NOT_FOUND' });
    const wrong = await client.getStringDetails('rerank', 'x');
    expect(wrong).toMatchObject({ value: 'x', errorCode: 'TYPE_MISMATCH' });
  });

  it('assigns canary arms by targetingKey exactly as canary.assign does, and the stable arm once stopped', async () => {
    const { client, canary } = await setup();
    let inCanary = 0;
    for (let i = 0; i < 2_000; i++) {
      const key = `user-${i}`;
      const expected = canary.assign(key);
      const d = await client.getStringDetails('cross-encoder-v2', 'stable', { targetingKey: key });
      expect(d.value).toBe(expected);
      expect(d.reason).toBe('SPLIT');
      if (d.value === 'canary') inCanary++;
    }
    // 10 % of keys, within binomial noise (σ ≈ 13 of 2 000).
    expect(inCanary).toBeGreaterThan(140);
    expect(inCanary).toBeLessThan(260);
    expect(await client.getBooleanValue('cross-encoder-v2', true, { targetingKey: 'user-1' })).toBe(canary.assign('user-1') === 'canary');

    canary.emergencyStop({ reason: 'error spike', by: 'bob' });
    const stopped = await client.getStringDetails('cross-encoder-v2', 'canary', { targetingKey: 'user-7' });
    expect(stopped).toMatchObject({ value: 'stable', reason: 'DISABLED' });
    expect(await client.getNumberValue('cross-encoder-v2', 50)).toBe(0);
  });

  it('needs a targetingKey for a canary: the default with TARGETING_KEY_MISSING', async () => {
    const { client } = await setup();
    const d = await client.getStringDetails('cross-encoder-v2', 'stable');
    expect(d).toMatchObject({ value: 'stable', errorCode: 'TARGETING_KEY_MISSING' });
  });

  it('emits PROVIDER_CONFIGURATION_CHANGED for an action at once, and for a direct call or a TTL within pollMs', async () => {
    const { client, monitor: m, rerank, clock } = await setup(500);
    const changes: string[][] = [];
    client.addHandler(ProviderEvents.ConfigurationChanged, (e?: EventDetails) => changes.push([...((e as { flagsChanged?: string[] } | undefined)?.flagsChanged ?? [])]));

    await m.actions.execute('feature.disable', { params: { name: 'rerank', ttlSeconds: 2 }, by: 'alice', confirm: true });
    await Promise.resolve();
    expect(changes).toEqual([['rerank']]);

    // The TTL lifts the switch without an action: seen by the next poll.
    clock.advance(2_000);
    expect(rerank.isEnabled()).toBe(true);
    clock.advance(500);
    await Promise.resolve();
    expect(changes).toEqual([['rerank'], ['rerank']]);

    // Nothing changed: no event.
    clock.advance(5_000);
    await Promise.resolve();
    expect(changes).toHaveLength(2);
  });

  it('stops watching when OpenFeature closes it', async () => {
    const { clock, rerank, provider } = await setup(100);
    let events = 0;
    provider.events.addHandler(ProviderEvents.ConfigurationChanged, () => events++);
    await OpenFeature.close();
    rerank.disable();
    clock.advance(1_000);
    expect(events).toBe(0);
  });
});

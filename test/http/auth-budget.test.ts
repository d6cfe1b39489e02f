import { describe, expect, it } from 'vitest';
import { createMonitor } from '../../src/index.js';
import { ManualClock } from '../../src/testing/index.js';
import { HttpSurface, type HttpInput } from '../../src/http/surface.js';
import { addressKey } from '../../src/http/caller-limiter.js';
import type { HttpOptions } from '../../src/http/options.js';

const OP = 'op-token-0123456789abcdef';
const auth: HttpOptions['auth'] = { tokens: [{ name: 'alice', token: OP, role: 'operator' }] };

function setup(opts: Partial<HttpOptions> = {}) {
  const clock = new ManualClock();
  const monitor = createMonitor({ service: 'api', clock });
  const surface = new HttpSurface(monitor, { auth, ...opts } as HttpOptions);
  const get = async (token: string, ip: string | undefined) => {
    const m = surface.match('GET', '/stats/slo')!;
    const input: HttpInput = {
      method: 'GET',
      path: '/stats/slo',
      params: m.params,
      search: '',
      headers: { authorization: `Bearer ${token}` },
      body: { kind: 'none' },
      ip,
      raw: {},
    };
    const reply = await surface.handle(m.route, input);
    return { ...reply, json: JSON.parse(reply.body) as { error?: { code: string; details: unknown } } };
  };
  return { clock, surface, get };
}

const guess = (i: number): string => `guess-${i}-0123456789abcdef`;
const v4 = (i: number): string => `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`;

describe('addresses the failed-auth budget is kept by', () => {
  it('groups IPv6 addresses by /64 and normalises IPv4-mapped IPv6 and zone ids', () => {
    expect(addressKey('2001:db8:1:2:aaaa::1')).toBe(addressKey('2001:0DB8:0001:0002:ffff:ffff:ffff:ffff'));
    expect(addressKey('2001:db8:1:2::1')).not.toBe(addressKey('2001:db8:1:3::1'));
    expect(addressKey('::ffff:6.6.6.6')).toBe('6.6.6.6');
    expect(addressKey('::FFFF:0606:0606')).toBe('6.6.6.6');
    expect(addressKey('fe80::1%eth0')).toBe(addressKey('fe80::2'));
    expect(addressKey('::1')).toBe(addressKey('::2'));
    expect(addressKey(undefined)).toBe('unknown');
    expect(addressKey('6.6.6.6')).toBe('6.6.6.6');
    // Anything else is kept, bounded in length.
    expect(addressKey('x'.repeat(500)).length).toBeLessThanOrEqual(64);
  });

  it('counts failures from one IPv6 /64 together, whatever the host part', async () => {
    const { get } = setup({ adminRateLimit: { maxAuthFailures: 3 } });
    for (let i = 1; i <= 3; i++) expect((await get(guess(i), `2001:db8:7:7::${i}`)).status).toBe(401);
    expect((await get(guess(4), '2001:db8:7:7:abcd::4')).status).toBe(429);
    expect((await get(guess(5), '2001:db8:7:8::1')).status).toBe(401);
  });

  it('counts an IPv4 client seen as ::ffff:a.b.c.d and as a.b.c.d together', async () => {
    const { get } = setup({ adminRateLimit: { maxAuthFailures: 2 } });
    expect((await get(guess(1), '::ffff:6.6.6.6')).status).toBe(401);
    expect((await get(guess(2), '6.6.6.6')).status).toBe(401);
    expect((await get(guess(3), '::ffff:6.6.6.6')).status).toBe(429);
  });
});

describe('the global failed-auth budget', () => {
  it('answers 429 to failures from fresh addresses once the budget is spent, but lets a valid token in', async () => {
    const { get, clock } = setup({ adminRateLimit: { maxAuthFailures: 20, maxAuthFailuresGlobal: 50, windowMs: 60_000 } });
    for (let i = 0; i < 50; i++) expect((await get(guess(i), v4(i))).status).toBe(401);
    const refused = await get(guess(99), v4(1_000));
    expect(refused.status).toBe(429);
    expect(refused.json.error?.code).toBe('RATE_LIMITED');
    expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
    expect(Number(refused.headers['retry-after'])).toBeLessThanOrEqual(60);
    // An operator with a valid token, from an address that has not failed, still gets in.
    expect((await get(OP, v4(2_000))).status).toBe(200);
    // Bounded: the next window starts with a fresh budget.
    clock.advance(60_000);
    expect((await get(guess(100), v4(3_000))).status).toBe(401);
  });

  it('during a global lockout, an address that has already failed gets no further guess evaluated', async () => {
    const { get } = setup({ adminRateLimit: { maxAuthFailures: 20, maxAuthFailuresGlobal: 10 } });
    for (let i = 0; i < 10; i++) expect((await get(guess(i), v4(i))).status).toBe(401);
    // v4(0) has one failure; with the global budget spent it is refused before its credential is looked at.
    expect((await get(OP, v4(0))).status).toBe(429);
    expect((await get(OP, v4(500))).status).toBe(200);
  });

  it('does not forget a blocked address when many others fail (rotating attacker)', async () => {
    const { get } = setup({ adminRateLimit: { maxAuthFailures: 20, maxCallers: 1_000 } });
    const attacker = '6.6.6.6';
    for (let i = 0; i < 20; i++) expect((await get(guess(i), attacker)).status).toBe(401);
    for (let i = 0; i < 1_000; i++) await get(guess(i), v4(i));
    const again = await get(guess(7), attacker);
    expect(again.status).toBe(429);
    expect(again.json.error?.code).toBe('RATE_LIMITED');
  });

  it('keeps no entry for addresses that never failed, so their traffic cannot push a blocked address out', async () => {
    const { get } = setup({ adminRateLimit: { maxAuthFailures: 3, maxCallers: 10, maxRequests: 1_000 } });
    for (let i = 0; i < 3; i++) expect((await get(guess(i), '6.6.6.6')).status).toBe(401);
    for (let i = 0; i < 50; i++) expect((await get(OP, v4(i))).status).toBe(200);
    expect((await get(guess(9), '6.6.6.6')).status).toBe(429);
  });

  it('validates the option, naming it', () => {
    const monitor = createMonitor({ service: 'api', clock: new ManualClock() });
    expect(() => new HttpSurface(monitor, { auth, adminRateLimit: { maxAuthFailuresGlobal: 0 } })).toThrow(/maxAuthFailuresGlobal/);
  });
});

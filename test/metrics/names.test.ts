import { describe, expect, it } from 'vitest';
import { ConfigError, createMonitor, MAX_NAME_LENGTH, type MonitorOptions } from '../../src/index.js';
import { ManualClock } from '../../src/testing/index.js';
import { fixedProbes } from '../helpers/probes.js';

const probes = fixedProbes({ eventLoopDelayP99: () => 12 });

function setup(extra: Partial<MonitorOptions> = {}) {
  const clock = new ManualClock();
  const monitor = createMonitor({ service: 'names', clock, probes, ...extra });
  return { clock, monitor };
}

const PROTO_NAMES = ['__proto__', 'constructor', 'hasOwnProperty', 'toString', 'valueOf', '__defineGetter__'];

describe('names that collide with Object.prototype are ordinary names', () => {
  it('records routes named like prototype members into their own series', () => {
    const { monitor } = setup();
    for (const route of PROTO_NAMES) {
      monitor.recordRequest({ route, durationMs: 5, status: 200 });
      monitor.recordRequest({ route, durationMs: 7, status: 503 });
    }
    const stats = monitor.stats();
    expect(stats.rejected).toBe(0);
    expect(stats.overall.requests).toBe(2 * PROTO_NAMES.length);
    for (const route of PROTO_NAMES) {
      expect(Object.prototype.hasOwnProperty.call(stats.routes, route)).toBe(true);
      expect(stats.routes[route]).toMatchObject({ requests: 2, failures: 1 });
    }
    // A route never recorded does not appear because of the prototype.
    expect(stats.routes['isPrototypeOf']).toBeUndefined();
    expect(JSON.parse(JSON.stringify(stats)).routes['__proto__'].requests).toBe(2);
  });

  it('exposes prototype-named routes in /metrics like any other', async () => {
    const { monitor } = setup();
    monitor.recordRequest({ route: '__proto__', durationMs: 5, status: 200 });
    monitor.recordRequest({ route: 'constructor', durationMs: 5, status: 200 });
    const text = await monitor.metrics();
    expect(text).toContain('firebreak_requests_total{outcome="success",route="__proto__",method=""} 1');
    expect(text).toContain('firebreak_requests_total{outcome="success",route="constructor",method=""} 1');
  });

  it('records caches named like prototype members, and rejects prototype-named results', () => {
    const { monitor } = setup();
    monitor.recordCache('__proto__', 'hit');
    monitor.recordCache('constructor', false);
    const before = Object.keys(monitor.stats().caches).length;
    for (const bad of ['toString', '__proto__', 'constructor', 'valueOf', 'hasOwnProperty']) {
      expect(() => monitor.recordCache('search', bad as never)).not.toThrow();
    }
    const stats = monitor.stats();
    expect(stats.caches['__proto__']).toMatchObject({ hits: 1, misses: 0 });
    expect(stats.caches['constructor']).toMatchObject({ hits: 0, misses: 1 });
    // The bad results created no series and are counted as rejected cache records.
    expect(Object.keys(stats.caches)).toHaveLength(before);
    expect(stats.caches['search']).toBeUndefined();
    expect(stats.recording.rejectedBy.cache).toBe(5);
    expect(stats.rejected).toBe(5);
  });

  it('records canary arms named like prototype members', () => {
    const { monitor } = setup();
    monitor.recordRequest({ route: 'GET /', durationMs: 5, arm: '__proto__' });
    monitor.recordRequest({ route: 'GET /', durationMs: 5, arm: 'constructor' });
    const { arms } = monitor.stats();
    expect(arms['__proto__']?.requests).toBe(1);
    expect(arms['constructor']?.requests).toBe(1);
    expect(arms['toString']).toBeUndefined();
  });

  it('creates and finds controls named like prototype members', () => {
    const { monitor } = setup();
    const f = monitor.feature('__proto__');
    monitor.feature('constructor', { enabled: false });
    expect(monitor.feature('__proto__')).toBe(f);
    const stats = monitor.controls.stats();
    expect(stats.features['__proto__']?.enabled).toBe(true);
    expect(stats.features['constructor']?.enabled).toBe(false);
    expect(stats.features['toString']).toBeUndefined();
  });
});

describe('name length is bounded', () => {
  const long = (n: number, c = 'x') => `GET /${c.repeat(n)}`;

  it('truncates an over-long route to MAX_NAME_LENGTH, records it there, and counts it under rejectedBy.route', () => {
    const { monitor } = setup();
    const route = long(16 * 1024);
    monitor.recordRequest({ route, durationMs: 5, status: 200 });
    monitor.recordRequest({ route, durationMs: 5, status: 503 });
    const stats = monitor.stats();
    const names = Object.keys(stats.routes);
    expect(names).toHaveLength(1);
    expect(names[0]!.length).toBeLessThanOrEqual(MAX_NAME_LENGTH);
    expect(route.startsWith(names[0]!.slice(0, -1))).toBe(true);
    expect(names[0]!.endsWith('…')).toBe(true);
    // Still counted by the SLOs: nothing is lost, only the name is cut.
    expect(stats.overall).toMatchObject({ requests: 2, failures: 1 });
    expect(stats.recording.rejectedBy.route).toBe(2);
    expect(stats.rejected).toBe(2);
  });

  it('keeps a route of exactly MAX_NAME_LENGTH as it is', () => {
    const { monitor } = setup();
    const route = 'r'.repeat(MAX_NAME_LENGTH);
    monitor.recordRequest({ route, durationMs: 5 });
    expect(Object.keys(monitor.stats().routes)).toEqual([route]);
    expect(monitor.stats().rejected).toBe(0);
  });

  it('does not split a surrogate pair when truncating', () => {
    const { monitor } = setup();
    monitor.recordRequest({ route: '😀'.repeat(MAX_NAME_LENGTH), durationMs: 5 });
    const [name] = Object.keys(monitor.stats().routes);
    expect(name!.length).toBeLessThanOrEqual(MAX_NAME_LENGTH);
    expect(encodeURIComponent(name!)).toBeTruthy(); // throws URIError on a lone surrogate
  });

  it('truncates over-long cache names the same way, counted under rejectedBy.cache', () => {
    const { monitor } = setup();
    monitor.recordCache('c'.repeat(20_000), true);
    monitor.recordCache('c'.repeat(30_000), false);
    const stats = monitor.stats();
    const names = Object.keys(stats.caches);
    expect(names).toHaveLength(1);
    expect(names[0]!.length).toBeLessThanOrEqual(MAX_NAME_LENGTH);
    expect(stats.caches[names[0]!]).toMatchObject({ hits: 1, misses: 1 });
    expect(stats.recording.rejectedBy.cache).toBe(2);
  });

  it('does not keep an over-long arm (counted in armOverflow) but still records the route', () => {
    const { monitor } = setup();
    monitor.recordRequest({ route: 'GET /', durationMs: 5, arm: 'a'.repeat(MAX_NAME_LENGTH + 1) });
    const stats = monitor.stats();
    expect(stats.arms).toEqual({});
    expect(stats.recording.armOverflow).toBe(1);
    expect(stats.routes['GET /']?.requests).toBe(1);
  });

  it('keeps the /metrics body small however long the route names', async () => {
    const { monitor } = setup();
    for (let i = 0; i < 200; i++) monitor.recordRequest({ route: `${i} ${'y'.repeat(16 * 1024)}`, durationMs: 5 });
    const text = await monitor.metrics();
    // 200 routes × ~17 lines × (≤ 256-character label + ~100 bytes).
    expect(Buffer.byteLength(text)).toBeLessThan(200 * 17 * 400 + 20_000);
  });

  it('rejects an SLO route or cache name over MAX_NAME_LENGTH with a ConfigError naming the field', () => {
    const tooLong = 'r'.repeat(MAX_NAME_LENGTH + 1);
    const err = (() => {
      try {
        setup({ slos: [{ name: 'a', kind: 'success-rate', objective: 0.9, route: tooLong }, { name: 'c', kind: 'cache-hit-rate', cache: tooLong, objective: 0.5 }] });
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    expect(err).toBeInstanceOf(ConfigError);
    const paths = (err as ConfigError).issues.map((i) => i.path);
    expect(paths).toEqual(expect.arrayContaining(['slos.0.route', 'slos.1.cache']));
  });

  it('rejects control names over the control-name cap with a ConfigError naming the name', () => {
    const { monitor } = setup();
    const name = 'n'.repeat(16 * 1024);
    expect(() => monitor.feature(name)).toThrow(ConfigError);
    expect(() => monitor.rateLimiter(name, { maxRequests: 1, windowSeconds: 1 })).toThrow(ConfigError);
    expect(() => monitor.cache(name, { max: 1 })).toThrow(ConfigError);
    expect(() => monitor.canary(name)).toThrow(ConfigError);
    expect(() => monitor.fallback(name, { primary: () => 1, fallback: () => 2 })).toThrow(ConfigError);
  });
});

describe('admin stats routes with prototype-named series', () => {
  it('/stats/rate-limit lists 429s of a route named __proto__ and /stats/cache a cache named constructor', async () => {
    const { builtinRoutes } = await import('../../src/http/routes/index.js');
    const { monitor } = setup();
    monitor.recordRequest({ route: '__proto__', durationMs: 5, status: 429 });
    monitor.recordCache('constructor', true);
    const call = (path: string) => {
      const r = builtinRoutes.find((x) => x.method === 'GET' && x.path === path)!;
      return (r.handler as (ctx: unknown) => { json: Record<string, Record<string, unknown>> })({ monitor });
    };
    const rl = call('/stats/rate-limit').json;
    expect(Object.prototype.hasOwnProperty.call(rl['rateLimitedByRoute'], '__proto__')).toBe(true);
    expect(JSON.stringify(rl['rateLimitedByRoute'])).toBe('{"__proto__":1}');
    const caches = call('/stats/cache').json['caches']!;
    expect(caches['constructor']).toMatchObject({ window: { hits: 1 }, control: null });
    expect(Object.keys(caches)).toEqual(['constructor']);
  });
});

/**
 * Server-side history: a bounded ring of per-interval snapshots filled by the
 * monitor's evaluations (driven by a ManualClock here), with incident and
 * action markers, served at GET /stats/history.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { HttpSurface } from '../../src/http/surface.js';
import type { HttpOptions } from '../../src/http/options.js';
import { ConfigError, createMonitor, type Monitor } from '../../src/index.js';
import { ManualClock } from '../../src/testing/index.js';

const RO = 'ro-token-0123456789abcdef';
const auth: HttpOptions['auth'] = { tokens: [{ name: 'grafana', token: RO, role: 'read' }] };
const monitors: Monitor[] = [];
afterEach(async () => {
  for (const m of monitors.splice(0)) await m.close();
});

function make(extra: Partial<Parameters<typeof createMonitor>[0]> = {}) {
  const clock = new ManualClock();
  const monitor = createMonitor({
    service: 'api',
    clock,
    slos: [
      { name: 'p95', kind: 'latency', quantile: 0.95, thresholdMs: 800 },
      { name: 'availability', kind: 'success-rate', objective: 0.99 },
    ],
    minSamples: 1,
    ...extra,
  });
  monitors.push(monitor);
  return { clock, monitor };
}

/** Ten requests per second of `ms` latency for `seconds`, evaluated by the started monitor's own timer. */
function traffic(clock: ManualClock, monitor: Monitor, seconds: number, ms: number, ok = true) {
  for (let s = 0; s < seconds; s++) {
    for (let i = 0; i < 10; i++) monitor.recordRequest({ route: 'GET /search', durationMs: ms, ok });
    clock.advance(1000);
  }
}

describe('history ring', () => {
  it('takes one snapshot per interval from the evaluation tick, with the window figures and each SLO', () => {
    const { clock, monitor } = make();
    monitor.start();
    traffic(clock, monitor, 60, 70);
    const h = monitor.history.read();
    expect(h.intervalMs).toBe(10_000);
    expect(h.points.length).toBe(6);
    const last = h.points.at(-1)!;
    expect(last.at).toBe(clock.now());
    expect(last.p95).toBeGreaterThan(60);
    expect(last.p95).toBeLessThan(80);
    expect(last.successRate).toBe(1);
    expect(last.rate).toBeGreaterThan(0);
    expect(last.slos['p95']!.status).toBe('ok');
    expect(last.slos['availability']!.budget).toBe(1);
    expect(h.slos.map((s) => s.name)).toEqual(['p95', 'availability']);
    // Consecutive points are an interval apart.
    expect(h.points[1]!.at - h.points[0]!.at).toBe(10_000);
  });

  it('shows the baseline before a spike: a reader arriving after the spike sees both', () => {
    const { clock, monitor } = make();
    monitor.start();
    traffic(clock, monitor, 120, 50);
    traffic(clock, monitor, 30, 2500);
    const ps = monitor.history.read().points;
    expect(ps[0]!.p95).toBeLessThan(60);
    expect(ps.at(-1)!.p95).toBeGreaterThan(800);
  });

  it('drops the oldest snapshot past durationMs', () => {
    const { clock, monitor } = make({ history: { durationMs: 60_000, intervalMs: 10_000 } });
    monitor.start();
    traffic(clock, monitor, 300, 10);
    const h = monitor.history.read();
    expect(h.capacity).toBe(6);
    expect(h.points.length).toBe(6);
    expect(h.points[0]!.at).toBe(clock.now() - 50_000);
  });

  it('keeps fewer snapshots rather than exceed maxBytes', () => {
    const { clock, monitor } = make({ history: { durationMs: 3_600_000, intervalMs: 10_000, maxBytes: 8192 } });
    monitor.start();
    traffic(clock, monitor, 3600, 10);
    expect(monitor.history.bytes).toBeLessThanOrEqual(8192);
    expect(monitor.history.read().points.length).toBe(monitor.history.capacity);
    expect(monitor.history.capacity).toBeLessThan(360);
  });

  it('default: one hour at 10 s in well under the 1 MiB ceiling', () => {
    const { monitor } = make();
    expect(monitor.history.capacity).toBe(360);
    expect(monitor.history.bytes).toBe(360 * (7 + 4 * 2) * 8);
  });

  it('names the field on bad options', () => {
    expect(() => createMonitor({ service: 'a', history: { intervalMs: 10 } })).toThrow(ConfigError);
    expect(() => createMonitor({ service: 'a', history: { intervalMs: 10 } })).toThrow(/history\.intervalMs/);
  });

  it('marks incidents opened and resolved and actions applied on the time axis', async () => {
    const { clock, monitor } = make({ preset: 'runbook' });
    monitor.start();
    traffic(clock, monitor, 60, 10);
    const incident = monitor.incidents.open({ type: 'latency', severity: 'high', summary: 'p95 over 800 ms' });
    monitor.incidents.resolve(incident.id, { by: 'alice', notes: 'fine' });
    const kinds = monitor.history.read().markers.map((m) => m.kind);
    expect(kinds).toContain('incident-opened');
    expect(kinds).toContain('incident-resolved');
    const opened = monitor.history.read().markers.find((m) => m.kind === 'incident-opened')!;
    expect(opened.incidentId).toBe(incident.id);
    expect(opened.at).toBe(clock.now());
  });
});

describe('history SLO descriptions', () => {
  it('describes every kind of SLO with the unit, direction and target evaluate() reports, without reading the probes at creation', () => {
    const clock = new ManualClock();
    let probeReads = 0;
    const count = <T,>(v: T) => () => {
      probeReads++;
      return v;
    };
    const monitor = createMonitor({
      service: 'api',
      clock,
      probes: {
        memory: count({ heapUsed: 1, heapLimit: 10, rss: 1, rssLimit: 10 }),
        cpuMicros: count(0),
        eventLoopDelayP99: count(null),
        start: () => {},
        stop: () => {},
      },
      slos: [
        { name: 'lat', kind: 'latency', quantile: 0.99, thresholdMs: 250 },
        { name: 'ok', kind: 'success-rate', objective: 0.995 },
        { name: 'err', kind: 'error-rate', max: 0.02, route: 'GET /a' },
        { name: 'hits', kind: 'cache-hit-rate', cache: 'users', objective: 0.7 },
        { name: 'mem', kind: 'memory', max: 0.9 },
        { name: 'cpu', kind: 'cpu', max: 0.8 },
        { name: 'loop', kind: 'event-loop-delay', thresholdMs: 40 },
      ],
    });
    monitors.push(monitor);
    expect(probeReads).toBe(0);
    const described = monitor.history.read().slos;
    const evaluated = monitor.evaluate().slos.map((r) => ({ name: r.name, kind: r.kind, unit: r.unit, direction: r.direction, target: r.target }));
    expect(described).toEqual(evaluated);
  });
});

describe('GET /stats/history', () => {
  async function call(surface: HttpSurface, path: string, search: string, token: string | null) {
    const m = surface.match('GET', path)!;
    const reply = await surface.handle(m.route, {
      method: 'GET', path, params: m.params, search,
      headers: token === null ? {} : { authorization: `Bearer ${token}` },
      body: { kind: 'none' }, ip: '10.0.0.1', raw: {},
    });
    return { status: reply.status, json: JSON.parse(reply.body) as Record<string, any> };
  }

  it('serves the ring to the read role; since and limit bound the output', async () => {
    const { clock, monitor } = make();
    monitor.start();
    traffic(clock, monitor, 100, 20);
    const surface = new HttpSurface(monitor, { auth } as HttpOptions);
    const all = await call(surface, '/stats/history', '', RO);
    expect(all.status).toBe(200);
    expect(all.json['points']).toHaveLength(10);
    expect(all.json['service']).toBe('api');
    const two = await call(surface, '/stats/history', '?limit=2', RO);
    expect(two.json['points']).toHaveLength(2);
    const since = all.json['points'][6].at as number;
    const after = await call(surface, '/stats/history', `?since=${since}`, RO);
    expect(after.json['points'].map((p: { at: number }) => p.at)).toEqual(all.json['points'].slice(7).map((p: { at: number }) => p.at));
  });

  it('needs the read role and rejects a bad limit naming it', async () => {
    const { monitor } = make();
    const surface = new HttpSurface(monitor, { auth } as HttpOptions);
    expect((await call(surface, '/stats/history', '', null)).status).toBe(401);
    const bad = await call(surface, '/stats/history', '?limit=0', RO);
    expect(bad.status).toBe(400);
    expect(JSON.stringify(bad.json)).toMatch(/limit/);
  });
});

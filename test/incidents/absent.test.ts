import { describe, expect, it } from 'vitest';
import { ConfigError, createMonitor, type MonitorOptions, type SloInput } from '../../src/index.js';
import { ManualClock } from '../../src/testing/index.js';
import { fixedProbes } from './helpers.js';

const S = 1_000;
const MIN = 60 * S;
const STEP = 10 * S;

function setup(slos: SloInput[], extra: Partial<MonitorOptions> = {}) {
  const clock = new ManualClock();
  const monitor = createMonitor({ service: 'search-api', clock, probes: fixedProbes(), slos, ...extra });
  const t0 = clock.now();
  const events: string[] = [];
  monitor.on('incident:opened', (i) => events.push(`${(clock.now() - t0) / S}s opened ${i.type} ${i.scope} ${i.severity}`));
  monitor.on('incident:resolved', (i) => events.push(`${(clock.now() - t0) / S}s resolved ${i.type} ${i.scope}`));
  /** Every 10 s for `ms`: `n` requests on `route` (0 = silence), then an evaluation. */
  const run = (ms: number, n: number, route = 'GET /search') => {
    for (let t = 0; t < ms; t += STEP) {
      for (let i = 0; i < n; i++) monitor.recordRequest({ route, durationMs: 20, status: 200 });
      monitor.evaluate();
      clock.advance(STEP);
    }
  };
  return { clock, monitor, run, events };
}

describe('absent-signal detection: traffic that stops is not health', () => {
  it('a route SLO whose route goes silent opens service-down after absentAfterMs (default 5 min) and resolves when traffic returns', () => {
    const { run, events } = setup([{ name: 'search-availability', kind: 'success-rate', objective: 0.99, route: 'GET /search' }]);
    run(10 * MIN, 10); // last requests at 590 s
    run(10 * MIN, 0, 'GET /other'); // silence on GET /search, other routes still busy
    run(1 * MIN, 10); // back at 1200 s
    expect(events).toEqual([
      `${590 + 300}s opened service-down route:GET /search critical`,
      '1200s resolved service-down route:GET /search',
    ]);
  });

  it('all-traffic SLOs watch the whole service (scope service); one incident however many SLOs share the traffic', () => {
    const { run, events, monitor } = setup(
      [
        { name: 'availability', kind: 'success-rate', objective: 0.99 },
        { name: 'p95', kind: 'latency', quantile: 0.95, thresholdMs: 800, absentAfterMs: 2 * MIN },
      ],
    );
    run(5 * MIN, 10);
    run(5 * MIN, 0);
    // The shortest absentAfterMs of the SLOs on the stream wins: last request at 290 s, + 120 s.
    expect(events).toEqual([`${290 + 120}s opened service-down service critical`]);
    const inc = monitor.incidents.list({ status: 'active' })[0]!;
    expect(inc.summary).toMatch(/No requests for 2m 00s .*availability, p95/);
    expect(inc.detector).toBe('absent-traffic');
  });

  it('never fires for traffic never seen, nor with absentAfterMs: false', () => {
    const never = setup([{ name: 'availability', kind: 'success-rate', objective: 0.99 }]);
    never.run(30 * MIN, 0);
    expect(never.events).toEqual([]);
    const off = setup([{ name: 'batch', kind: 'success-rate', objective: 0.99, route: 'POST /batch', absentAfterMs: false }]);
    off.run(MIN, 10, 'POST /batch');
    off.run(30 * MIN, 0);
    expect(off.events).toEqual([]);
  });

  it('rejects a bad absentAfterMs naming the field', () => {
    let err: unknown;
    try {
      createMonitor({ service: 'x', slos: [{ name: 'a', kind: 'error-rate', max: 0.01, absentAfterMs: -5 }] });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).code).toBe('CONFIG_INVALID');
    expect((err as ConfigError).issues.map((i) => i.path)).toEqual(['slos.0.absentAfterMs']);
  });
});

#!/usr/bin/env node
/**
 * The second demo scenario, for the trust features: firebreak stays quiet
 * when nothing is wrong and when someone said so.
 *
 *   1. A deploy: the service restarts with a normal error rate (0.2 %, well
 *      inside the 99.5 % objective) and a few slow warm-up requests → no page.
 *   2. A maintenance window for a reindex, plus a silence for the search
 *      route's latency: the reindex slows search to 2.5 s → the incident is
 *      recorded but suppressed (no page, no auto-remediation), and it is in
 *      the history markers and the timeline.
 *   3. The window and the silence end while latency is still high → it pages.
 *
 * Runs on a ManualClock (firebreak/testing), so the 30 simulated minutes take
 * about a second and the story is the same on every machine:
 *   node examples/express-demo/trust.mjs
 */
import * as firebreak from '../../dist/index.js';
import { ManualClock } from '../../dist/testing.js';
import { createNarrator } from './narrate.mjs';

const say = createNarrator();
const clock = new ManualClock(Date.UTC(2026, 0, 5, 1, 55));
const monitor = firebreak.createMonitor({
  service: 'search-api',
  clock,
  preset: 'runbook',
  slos: [{ name: 'success-rate', kind: 'success-rate', objective: 0.995 }],
  detectors: [
    { kind: 'cpu', enabled: false },
    { kind: 'event-loop-delay', enabled: false },
    { kind: 'memory', enabled: false },
  ],
});
const pages = [];
const suppressed = [];
monitor.on('incident:opened', (i) => {
  pages.push(i);
  say.event('📟', `PAGE: ${i.type} (${i.severity}, ${i.priority}) ${i.summary}`);
});
monitor.on('incident:suppressed', (i) => {
  suppressed.push(i);
  say.event('🔕', `suppressed (${i.suppressed?.kind ?? '?'}): ${i.type} — recorded, not paged`);
});
const utc = () => new Date(clock.now()).toISOString().slice(11, 19) + ' UTC';

/** `seconds` of traffic at 20 requests/s, evaluated every 10 s as `start()` would. */
function traffic(seconds, { ms = 60, errorEvery = 0, slowFirst = 0 } = {}) {
  let n = 0;
  for (let s = 0; s < seconds; s++) {
    for (let i = 0; i < 20; i++, n++) {
      const fail = errorEvery > 0 && n % errorEvery === 0;
      monitor.recordRequest({ route: 'GET /search', durationMs: n < slowFirst ? 1500 : ms + (i % 5) * 8, status: fail ? 503 : 200 });
    }
    clock.advance(1000);
    if (clock.now() % 10_000 === 0) monitor.evaluate();
  }
}

say.title('firebreak trust demo · search-api on a fake clock (30 simulated minutes)');

say.phase(1, 3, `Deploy v43 at ${utc()}: restart, warm-up, normal 0.2 % error rate`);
traffic(120);
say.step('v43 rolling out: 30 slow warm-up requests, then 1 error in 500 (0.2 %)');
traffic(300, { errorEvery: 500, slowFirst: 30 });
const s1 = monitor.stats();
say.step(`success ${(s1.overall.successRate * 100).toFixed(2)} % · p95 ${Math.round(s1.overall.latencyMs.p95)} ms · pages so far: ${pages.length}`);
if (pages.length !== 0) throw new Error('a normal deploy paged');
say.event('✓', 'no page: the error rate is inside the objective and the warm-up never held past forMs');

say.phase(2, 3, 'Maintenance window "nightly reindex" (02:00–02:10 UTC) and a silence for search latency');
const window = monitor.maintenance.add({
  name: 'nightly reindex',
  once: { startsAt: Date.UTC(2026, 0, 5, 2, 0), endsAt: Date.UTC(2026, 0, 5, 2, 10) },
  matchers: [{ name: 'type', value: 'high-latency' }],
  createdBy: 'ops',
  comment: 'catalogue reindex',
});
traffic(Math.max(0, (Date.UTC(2026, 0, 5, 2, 0) - clock.now()) / 1000));
const silence = monitor.silences.add({
  matchers: [{ name: 'type', value: 'high-latency' }],
  endsAt: Date.UTC(2026, 0, 5, 2, 10),
  createdBy: 'alice',
  comment: 'reindex slows search; expected',
});
say.step(`${utc()}: window open (${monitor.maintenance.list().find((w) => w.id === window.id)?.active ? 'active' : 'inactive'}), silence ${silence.id} active; the reindex slows search to 2.5 s`);
traffic(240, { ms: 2500 });
const held = monitor.incidents.list({ status: 'active' }).find((i) => i.type === 'high-latency');
say.step(`incident ${held?.id ?? '—'} open but ${held?.suppressed ? `suppressed by ${held.suppressed.kind}` : 'NOT suppressed'} · pages: ${pages.length}`);
if (held === undefined || held.suppressed === undefined || pages.length !== 0) throw new Error('the maintenance window did not hold the page');

say.phase(3, 3, 'The window and the silence end while search is still slow');
traffic((Date.UTC(2026, 0, 5, 2, 12) - clock.now()) / 1000, { ms: 2500 });
say.step(`${utc()}: pages: ${pages.length}`);
if (pages.length === 0 && !monitor.incidents.list({ status: 'active' }).some((i) => i.type === 'high-latency' && i.suppressed === undefined)) {
  throw new Error('still silent after the window and the silence ended');
}
const markers = monitor.history.read().markers.map((m) => `${new Date(m.at).toISOString().slice(11, 19)}Z ${m.kind} ${m.label}`);
say.block(markers.join('\n') || '(no markers)');
await monitor.close();
say.done(`trust demo complete: the deploy did not page; the reindex was held by its window and silence (${suppressed.length} suppressed), and paged once they ended`);

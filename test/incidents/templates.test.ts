import { describe, expect, it } from 'vitest';
import { renderAlert, renderPostmortem, renderResolved, renderUpdate, type Incident } from '../../src/index.js';
import { setup, steps } from './helpers.js';

const ID = /inc_[0-9a-z]{18}/g;
const fixId = <T>(v: T): T => JSON.parse(JSON.stringify(v).replace(ID, 'inc_TEST')) as T;

/** A realistic incident: a latency spike the runbook preset detects, worked by on-call, then resolved. */
function realistic() {
  const { clock, monitor } = setup({ preset: 'runbook' });
  let opened: Incident | undefined;
  monitor.on('incident:opened', (i) => (opened = i));
  steps(clock, monitor, 30, 100);
  steps(clock, monitor, 8, 2500); // opens (high) at +70 s
  const id = opened!.id;
  clock.advance(3 * 60_000 - 10_000); // steps() already moved 10 s past the opening evaluation
  monitor.incidents.acknowledge(id, { by: 'alice', note: 'Paged, looking' });
  clock.advance(60_000);
  monitor.incidents.mitigate(id, { by: 'alice', note: 'Disabling cross-encoder reranking' });
  monitor.incidents.record(id, { kind: 'action', by: 'alice', message: 'Executed reranking.disable (30 s)', data: { executionId: 'ex_1' } });
  monitor.incidents.addNote(id, { by: 'bob', text: 'Traffic from tenant 42 tripled at 00:05' });
  const update = monitor.incidents.require(id);
  const updateAt = clock.now();
  steps(clock, monitor, 6, 6000); // escalates to critical
  monitor.incidents.addActionItem(id, { text: 'Cap rerank batch size per tenant', owner: 'alice' });
  monitor.incidents.addActionItem(id, { text: 'Alert on per-tenant traffic spikes' });
  steps(clock, monitor, 6, 100);
  monitor.incidents.resolve(id, { by: 'alice', notes: 'Reranking disabled; tenant 42 rate-limited', rootCause: 'A tenant batch job tripled rerank load' });
  const resolved = monitor.incidents.require(id);
  return { opened: opened!, update, updateAt, resolved, postmortem: monitor.incidents.postmortem(id) };
}

describe('communication templates (runbook formats)', () => {
  const r = realistic();

  it('renders the alert: severity, summary, impact, status, ETA, updates, current actions', () => {
    const msg = fixId(renderAlert(r.opened, { service: 'search-api' }));
    expect(msg.title).toBe('INCIDENT ALERT - HIGH (P1)');
    expect(msg.markdown).toContain('**INCIDENT ALERT - HIGH (P1)**');
    expect(msg.markdown).toMatch(/\*\*Summary:\*\* p95 latency 25\d\d ms is above the high threshold \(2000 ms\)/);
    expect(msg.markdown).toContain('**Impact:** Requests are slow (p95 latency');
    expect(msg.markdown).toContain('**Status:** Under investigation');
    expect(msg.markdown).toContain('**ETA:** Unknown; P1 response within 1h 00m');
    expect(msg.markdown).toContain('**Updates:** Will provide updates every 30 minutes');
    expect(msg.markdown).toContain('- [ ] Investigating root cause');
    expect(msg.text).not.toContain('**');
    expect(msg.text).toContain('Status: Under investigation');
    expect(msg.slack.blocks[0]).toEqual({ type: 'header', text: { type: 'plain_text', text: 'INCIDENT ALERT - HIGH (P1)' } });
    expect(msg.slack.text).toMatch(/^INCIDENT ALERT - HIGH \(P1\): p95 latency/);
    expect(JSON.parse(JSON.stringify(msg.slack))).toEqual(msg.slack); // plain JSON
    expect(msg).toMatchSnapshot();
  });

  it('honours impact, ETA and update-interval overrides', () => {
    const msg = renderAlert(r.opened, { impact: 'Search results take 3 s for all users', eta: '30 minutes', updateEveryMinutes: 15 });
    expect(msg.text).toContain('Impact: Search results take 3 s for all users');
    expect(msg.text).toContain('ETA: 30 minutes');
    expect(msg.text).toContain('Updates: Will provide updates every 15 minutes');
  });

  it('renders the update: status, progress from the timeline, next steps, ETA', () => {
    const msg = fixId(renderUpdate(r.update, { service: 'search-api', now: r.updateAt, eta: '20 minutes' }));
    expect(msg.title).toBe('INCIDENT UPDATE - HIGH (P1)');
    expect(msg.text).toContain('Status: Mitigating');
    expect(msg.text).toContain('Progress: 4 steps since open (below)');
    expect(msg.text).toContain('Next Steps: Verify the mitigation in the metrics; Resolve once the signal stays clear');
    expect(msg.text).toContain('ETA: 20 minutes');
    expect(msg.text).toContain('Open for: 4m 00s');
    expect(msg.text).toMatch(/- 2026-01-01 00:\d\d:\d\d UTC Mitigation started by alice: Disabling cross-encoder reranking \(alice\)/);
    expect(msg.text).toContain('Executed reranking.disable (30 s) (alice)');
    expect(msg).toMatchSnapshot();
  });

  it('renders the resolution: root cause, resolution, duration, follow-up; titled with the peak severity', () => {
    const msg = fixId(renderResolved(r.resolved, { service: 'search-api' }));
    expect(msg.title).toBe('INCIDENT RESOLVED - CRITICAL (P0)');
    expect(msg.text).toContain('Root Cause: A tenant batch job tripled rerank load');
    expect(msg.text).toContain('Resolution: Reranking disabled; tenant 42 rate-limited');
    expect(msg.text).toContain(`Duration: 6m 00s`);
    expect(msg.text).toContain('Follow-up: 2 action items (below)');
    expect(msg.markdown).toContain('- [ ] Cap rerank batch size per tenant (owner: alice)');
    const fields = (msg.slack.blocks[1] as { fields: { text: string }[] }).fields.map((f) => f.text);
    expect(fields).toContain('*Duration:*\n6m 00s');
    expect(msg).toMatchSnapshot();
  });

  it('a still-open incident renders a resolution notice that says so', () => {
    expect(renderResolved(r.update).text).toContain('Duration: Still open');
    expect(renderResolved(r.update).text).toContain('Resolution: Not resolved yet');
    expect(renderResolved(r.update, { now: r.updateAt }).text).toContain('Duration: 4m 00s (still open)');
  });
});

describe('post-mortem', () => {
  const r = realistic();
  const md = r.postmortem.replace(ID, 'inc_TEST');

  it('has the facts, detection delay, timeline relative to open, peak, root cause and action items', () => {
    expect(md.startsWith('# Post-mortem: p95 latency')).toBe(true);
    expect(md).toContain('| Severity | critical (P0) |');
    expect(md).toContain('| Detected | 2026-01-01 00:05:10 UTC |');
    expect(md).toContain('| Opened | 2026-01-01 00:06:10 UTC |');
    expect(md).toContain('| Acknowledged | 2026-01-01 00:09:10 UTC (T+3m 00s) by alice |');
    expect(md).toContain('| Total duration | 6m 00s |');
    expect(md).toContain('- Detection delay (condition first seen → incident opened): 1m 00s');
    expect(md).toContain('- Time to acknowledge: 3m 00s');
    expect(md).toContain('- Time to first action: 4m 00s');
    expect(md).toContain('- Time to resolve: 6m 00s');
    expect(md).toMatch(/\| T-1m 00s \| 2026-01-01 00:05:10 UTC \| Detected \| firebreak \|/);
    expect(md).toMatch(/\| T\+0s \| 2026-01-01 00:06:10 UTC \| Opened \| firebreak \|/);
    expect(md).toMatch(/\| T\+4m 00s \| [^|]+ \| Action \| alice \| Executed reranking.disable \(30 s\) \|/);
    expect(md).toMatch(/\| T\+4m \d\ds \| [^|]+ \| Escalated \| firebreak \|/);
    expect(md).toMatch(/- Peak: p95 latency (59|60)\d\d ms \(threshold 5000 ms\) at [^(]+\(T\+4m 00s\)/); // ±1 % histogram
    expect(md).toContain('## Root cause\n\nA tenant batch job tripled rerank load');
    expect(md).toContain('- [ ] Alert on per-tenant traffic spikes');
    expect(md).toMatchSnapshot();
  });

  it('renders manual, unresolved incidents and escapes table cells', () => {
    const inc: Incident = {
      id: 'inc_x',
      type: 'auth-failure-spike',
      scope: 'service',
      severity: 'medium',
      priority: 'P2',
      status: 'open',
      summary: '401s | spiking',
      source: 'manual',
      detectedAt: 0,
      openedAt: 0,
      reopenCount: 0,
      notes: [],
      actionItems: [],
      timeline: [{ at: 0, kind: 'opened', by: 'a|b', message: 'line 1\nline 2 | more' }],
    };
    const out = renderPostmortem(inc, { now: 90_000 });
    expect(out).toContain('| Source | manual report |');
    expect(out).toContain('| Total duration | 1m 30s (still open) |');
    expect(out).toContain('| T+0s | 1970-01-01 00:00:00 UTC | Opened | a\\|b | line 1 line 2 \\| more |');
    expect(out).toContain('No signal recorded (manual incident).');
    expect(out).toContain('- Time to resolve: not resolved');
  });
});

/**
 * Runbook metadata (owner, runbook URL, escalation contacts) on SLOs, incident
 * types and actions: validated at config time, resolved onto incidents (the
 * SLO's over the type's), and shown wherever a responder reads an incident.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { HttpSurface } from '../../src/http/surface.js';
import type { HttpOptions } from '../../src/http/options.js';
import { ConfigError, createMonitor, renderAlert, renderPostmortem, renderResolved, renderUpdate, type Incident, type MonitorOptions } from '../../src/index.js';
import { renderIncident, renderProcedures } from '../../src/cli/render.js';
import { setup, steps } from './helpers.js';

const LATENCY_RUNBOOK = { owner: 'search-oncall', url: 'https://wiki.example.com/runbooks/high-latency', contacts: ['@alice', '#search-incidents'] };
const SLO_RUNBOOK = { owner: 'checkout-team', url: 'https://wiki.example.com/slo/checkout-p95' };

function configError(opts: Partial<MonitorOptions>): ConfigError {
  try {
    setup(opts);
  } catch (err) {
    if (err instanceof ConfigError) return err;
    throw err;
  }
  throw new Error('expected a ConfigError');
}

describe('runbook metadata: configuration', () => {
  it('rejects a non-http(s) runbook URL on an SLO, naming the field path', () => {
    const err = configError({ slos: [{ name: 'p95', kind: 'latency', quantile: 0.95, thresholdMs: 800, runbook: { url: 'javascript:alert(1)' } }] });
    expect(err.code).toBe('CONFIG_INVALID');
    expect(err.message).toContain('slos.0.runbook.url');
  });

  it('rejects a bad URL on an incident type, naming the type', () => {
    const err = configError({ incidents: { types: { 'high-latency': { runbook: { url: 'not a url' } } } } });
    expect(err.message).toContain('incidents.types.high-latency.runbook.url');
  });

  it('bounds owner length, contact count and unknown fields', () => {
    expect(configError({ incidents: { types: { x: { runbook: { owner: 'o'.repeat(201) } } } } }).message).toContain('incidents.types.x.runbook.owner');
    expect(configError({ incidents: { types: { x: { runbook: { contacts: Array.from({ length: 11 }, (_, i) => `c${i}`) } } } } }).message).toContain(
      'incidents.types.x.runbook.contacts',
    );
    expect(configError({ incidents: { types: { x: { runbook: { pager: 'p' } as never } } } }).message).toContain('pager');
    expect(configError({ incidents: { types: { x: { runbook: { url: `https://a.example/${'p'.repeat(2_000)}` } } } } }).message).toContain('runbook.url');
  });

  it('rejects a bad runbook on an action at register time with a ConfigError naming the field', () => {
    const { monitor } = setup();
    let caught: unknown;
    try {
      monitor.actions.register({ id: 'x.y', title: 'X', runbook: { url: 'ftp://files.example.com/rb' }, execute: () => {} });
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(ConfigError);
    expect((caught as ConfigError).message).toContain('runbook.url');
  });
});

describe('runbook metadata: resolution onto incidents', () => {
  const opts: Partial<MonitorOptions> = {
    slos: [{ name: 'checkout-p95', kind: 'latency', quantile: 0.95, thresholdMs: 800, runbook: SLO_RUNBOOK }],
    incidents: { types: { 'slo-burn': { runbook: { owner: 'sre', url: 'https://wiki.example.com/slo-burn', contacts: ['@sre-lead'] } }, 'high-latency': { runbook: LATENCY_RUNBOOK } } },
  };

  it('an incident carries its type runbook', () => {
    const { monitor } = setup(opts);
    const inc = monitor.incidents.open({ type: 'high-latency', severity: 'high', summary: 'slow' });
    expect(inc.runbook).toEqual(LATENCY_RUNBOOK);
    expect(monitor.incidents.require(inc.id).runbook).toEqual(LATENCY_RUNBOOK);
  });

  it('for an slo:<name> scope the SLO wins over the type, field by field', () => {
    const { monitor } = setup(opts);
    const inc = monitor.incidents.open({ type: 'slo-burn', scope: 'slo:checkout-p95', severity: 'high', summary: 'burning' });
    // owner and url from the SLO; contacts, which the SLO does not set, from the type.
    expect(inc.runbook).toEqual({ owner: 'checkout-team', url: 'https://wiki.example.com/slo/checkout-p95', contacts: ['@sre-lead'] });
  });

  it('an SLO runbook applies to its slo scope even when the type has none; other scopes get nothing', () => {
    const { monitor } = setup({ slos: opts.slos! });
    expect(monitor.incidents.open({ type: 'custom', scope: 'slo:checkout-p95', severity: 'low', summary: 'x' }).runbook).toEqual(SLO_RUNBOOK);
    expect(monitor.incidents.open({ type: 'custom', scope: 'slo:other', severity: 'low', summary: 'x' }).runbook).toBeUndefined();
    expect(monitor.incidents.open({ type: 'custom', severity: 'low', summary: 'x' })).not.toHaveProperty('runbook');
  });

  it('incident types named like Object.prototype members do not resolve to anything', () => {
    const { monitor } = setup(opts);
    expect(monitor.incidents.open({ type: 'constructor', severity: 'low', summary: 'x' }).runbook).toBeUndefined();
    expect(monitor.incidents.open({ type: '__proto__', severity: 'low', summary: 'x' }).runbook).toBeUndefined();
  });

  it('an incident opened by a detector carries its type runbook', () => {
    const { clock, monitor } = setup({ preset: 'runbook', incidents: opts.incidents! });
    let opened: Incident | undefined;
    monitor.on('incident:opened', (i) => {
      if (i.type === 'high-latency') opened = i;
    });
    steps(clock, monitor, 30, 100);
    steps(clock, monitor, 8, 2500);
    expect(opened?.runbook).toEqual(LATENCY_RUNBOOK);
  });
});

describe('runbook metadata: rendering surfaces', () => {
  const incident = (): Incident => {
    const { monitor } = setup({ incidents: { types: { 'high-latency': { runbook: LATENCY_RUNBOOK } } } });
    const inc = monitor.incidents.open({ type: 'high-latency', severity: 'high', summary: 'Search is slow' });
    monitor.incidents.resolve(inc.id, { by: 'alice', notes: 'scaled out' });
    return monitor.incidents.require(inc.id);
  };

  it('alert, update and resolution show owner, runbook URL and contacts in text, markdown and Slack', () => {
    const inc = incident();
    for (const msg of [renderAlert(inc), renderUpdate(inc), renderResolved(inc)]) {
      expect(msg.text).toContain('Owner: search-oncall');
      expect(msg.text).toContain('Runbook: https://wiki.example.com/runbooks/high-latency');
      expect(msg.text).toContain('Escalation: @alice, #search-incidents');
      expect(msg.markdown).toContain('**Owner:** search-oncall');
      expect(msg.markdown).toContain('**Runbook:** https://wiki.example.com/runbooks/high-latency');
      const fields = msg.slack.blocks.flatMap((b) => (b.type === 'section' ? (b.fields ?? []) : [])).map((f) => f.text);
      expect(fields).toContain('*Owner:*\nsearch-oncall');
      expect(fields).toContain('*Runbook:*\nhttps://wiki.example.com/runbooks/high-latency');
      expect(fields).toContain('*Escalation:*\n@alice, #search-incidents');
    }
  });

  it('the alert with runbook metadata, every format (snapshot)', () => {
    const msg = JSON.parse(JSON.stringify(renderAlert(incident(), { service: 'search-api' })).replace(/inc_[0-9a-z]{18}/g, 'inc_TEST')) as unknown;
    expect(msg).toMatchSnapshot();
  });

  it('messages of an incident without runbook metadata have no runbook fields', () => {
    const { monitor } = setup();
    const inc = monitor.incidents.open({ type: 'high-latency', severity: 'high', summary: 'Search is slow' });
    expect(renderAlert(inc).text).not.toMatch(/Owner:|Runbook:|Escalation:/);
  });

  it('the post-mortem lists owner, runbook and escalation contacts in its facts', () => {
    const md = renderPostmortem(incident());
    expect(md).toContain('| Owner | search-oncall |');
    expect(md).toContain('| Runbook | https://wiki.example.com/runbooks/high-latency |');
    expect(md).toContain('| Escalation contacts | @alice, #search-incidents |');
  });

  it('procedure steps show their action runbook; built-in actions without one have none', () => {
    const { monitor } = setup({
      incidents: { types: { 'index-corruption': { runbook: { owner: 'search-oncall' } } } },
      playbooks: { 'index-corruption': [{ action: 'index.reload', mode: 'manual' }, { action: 'feature.emergency-stop', mode: 'manual' }] },
    });
    monitor.actions.register({
      id: 'index.reload',
      title: 'Reload the index',
      runbook: { owner: 'index-team', url: 'https://wiki.example.com/runbooks/index-reload', contacts: ['@bob'] },
      execute: () => {},
    });
    const inc = monitor.incidents.open({ type: 'index-corruption', severity: 'critical', summary: 'checksum mismatch' });
    const procs = monitor.incidents.procedures(inc.id) as { action: string; runbook?: unknown }[];
    expect(procs[0]).toMatchObject({ action: 'index.reload', runbook: { owner: 'index-team', url: 'https://wiki.example.com/runbooks/index-reload', contacts: ['@bob'] } });
    expect(procs[1]).not.toHaveProperty('runbook');
    expect(monitor.actions.get('index.reload')?.runbook?.url).toBe('https://wiki.example.com/runbooks/index-reload');
  });
});

describe('runbook metadata over HTTP', () => {
  const TOKEN = 'ro-token-0123456789abcdef';
  const auth: HttpOptions['auth'] = { tokens: [{ name: 'grafana', token: TOKEN, role: 'read' }] };
  async function get(surface: HttpSurface, path: string) {
    const m = surface.match('GET', path)!;
    const reply = await surface.handle(m.route, {
      method: 'GET',
      path,
      params: m.params,
      search: '',
      headers: { authorization: `Bearer ${TOKEN}` },
      body: { kind: 'none' },
      ip: '10.0.0.1',
      raw: {},
    });
    return { status: reply.status, json: JSON.parse(reply.body) as Record<string, unknown> };
  }

  it('GET /admin/incidents/:id returns the runbook; the procedures answer is headed by it', async () => {
    const { monitor } = setup({ incidents: { types: { 'high-latency': { runbook: LATENCY_RUNBOOK } } } });
    const surface = new HttpSurface(monitor, { auth } as HttpOptions);
    const inc = monitor.incidents.open({ type: 'high-latency', severity: 'high', summary: 'slow' });
    const one = await get(surface, `/admin/incidents/${inc.id}`);
    expect(one.status).toBe(200);
    expect(one.json['runbook']).toEqual(LATENCY_RUNBOOK);
    const procs = await get(surface, `/admin/incidents/${inc.id}/procedures`);
    expect(procs.status).toBe(200);
    expect(procs.json['runbook']).toEqual(LATENCY_RUNBOOK);
    expect(Array.isArray(procs.json['procedures'])).toBe(true);
  });
});

describe('runbook metadata in the incident log', () => {
  let dir: string | undefined;
  afterEach(() => {
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
    dir = undefined;
  });

  it('a tampered stored runbook (javascript: link) is dropped on replay, the incident kept', () => {
    dir = mkdtempSync(join(tmpdir(), 'fb-runbook-'));
    const path = join(dir, 'incidents.jsonl');
    const incident = {
      id: 'inc_000000000000000001',
      type: 'custom',
      scope: 'service',
      severity: 'high',
      priority: 'P1',
      status: 'open',
      summary: 'stored',
      source: 'manual',
      detectedAt: 0,
      openedAt: 0,
      reopenCount: 0,
      notes: [],
      actionItems: [],
      timeline: [],
      runbook: { url: 'javascript:alert(1)', contacts: 'not-a-list' },
    };
    writeFileSync(path, JSON.stringify({ v: 1, seq: 1, at: 0, change: 'opened', incident }) + '\n');
    const monitor = createMonitor({ service: 'api', incidentLog: { path } });
    try {
      const restored = monitor.incidents.get('inc_000000000000000001');
      expect(restored?.summary).toBe('stored');
      expect(restored?.runbook).toBeUndefined();
      expect(() => renderAlert(restored!)).not.toThrow();
    } finally {
      void monitor.close();
    }
  });
});

describe('runbook metadata in the CLI', () => {
  const paint = (_c: string, text: string): string => text;

  it('`show` lists owner, runbook and escalation; `procedures` heads the table with them and adds a RUNBOOK column', () => {
    const shown = renderIncident({ id: 'inc_1', type: 'high-latency', severity: 'high', status: 'open', runbook: LATENCY_RUNBOOK }, 0, paint);
    expect(shown).toMatch(/Owner: +search-oncall/);
    expect(shown).toMatch(/Runbook: +https:\/\/wiki\.example\.com\/runbooks\/high-latency/);
    expect(shown).toMatch(/Escalation: +@alice, #search-incidents/);
    const procs = renderProcedures(
      { incident: 'inc_1', runbook: LATENCY_RUNBOOK, procedures: [{ step: 1, action: 'index.reload', title: 'Reload', runbook: { url: 'https://wiki.example.com/rb/reload' } }] },
      paint,
    );
    expect(procs.split('\n')[0]).toMatch(/^Owner: +search-oncall/);
    expect(procs).toContain('RUNBOOK');
    expect(procs).toContain('https://wiki.example.com/rb/reload');
  });

  it('without runbook metadata the CLI output has no runbook lines or column', () => {
    expect(renderIncident({ id: 'inc_1', type: 'x', severity: 'low', status: 'open' }, 0, paint)).not.toMatch(/Owner|Runbook|Escalation/);
    expect(renderProcedures({ procedures: [{ step: 1, action: 'a', title: 'A' }] }, paint)).not.toContain('RUNBOOK');
  });
});

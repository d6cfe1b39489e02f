/**
 * Human renderings of the admin API's answers. The readers are tolerant
 * (a missing field prints as blank) because the CLI may talk to a newer or
 * older server than itself; `--json` prints the answers untouched.
 */
import { clean, fields, table, type Colour, type Column, type Paint } from './output.js';
import type { EmergencyRefRow } from './emergency-ref.js';

type Obj = Record<string, unknown>;

function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * The array in an answer: the body itself, or its first array-valued field among `keys`.
 *
 * @example
 * ```ts
 * listOf({ incidents: [{ id: 'inc_1' }] }, 'incidents'); // [{ id: 'inc_1' }]
 * ```
 */
export function listOf(body: unknown, ...keys: string[]): Obj[] {
  if (Array.isArray(body)) return body.filter(isObj);
  if (isObj(body)) {
    for (const k of keys) {
      const v = body[k];
      if (Array.isArray(v)) return v.filter(isObj);
    }
  }
  return [];
}

function str(o: Obj, ...keys: string[]): string | undefined {
  for (const k of keys) {
    const v = o[k];
    if (typeof v === 'string') return v;
    if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  }
  return undefined;
}

function num(o: Obj, ...keys: string[]): number | undefined {
  for (const k of keys) {
    const v = o[k];
    if (typeof v === 'number' && Number.isFinite(v)) return v;
  }
  return undefined;
}

function bool(o: Obj, ...keys: string[]): boolean | undefined {
  for (const k of keys) if (typeof o[k] === 'boolean') return o[k] as boolean;
  return undefined;
}

/**
 * A duration for humans: `95ms`, `42s`, `3m 05s`, `2h 10m`, `3d 4h`.
 *
 * @example
 * ```ts
 * duration(185_000); // '3m 05s'
 * ```
 */
export function duration(ms: number | undefined): string {
  if (ms === undefined || !Number.isFinite(ms)) return '';
  if (ms < 0) ms = 0;
  if (ms < 1000) return `${Math.round(ms)}ms`;
  const s = Math.floor(ms / 1000);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m ${String(s % 60).padStart(2, '0')}s`;
  const h = Math.floor(m / 60);
  if (h < 24) return `${h}h ${String(m % 60).padStart(2, '0')}m`;
  return `${Math.floor(h / 24)}d ${h % 24}h`;
}

function time(at: number | undefined): string {
  return at === undefined ? '' : new Date(at).toISOString().replace('T', ' ').replace(/\.\d+Z$/, 'Z');
}

const STATUS_COLOUR: Record<string, Colour> = {
  ok: 'green',
  warning: 'yellow',
  breach: 'red',
  'no-data': 'gray',
  open: 'red',
  acknowledged: 'yellow',
  mitigating: 'cyan',
  resolved: 'green',
  done: 'green',
  failed: 'red',
  pending: 'gray',
  reverted: 'magenta',
  succeeded: 'green',
  success: 'green',
  timeout: 'red',
  noop: 'gray',
  'no-op': 'gray',
};

const SEVERITY_COLOUR: Record<string, Colour> = { critical: 'red', high: 'red', medium: 'yellow', low: 'blue' };

function sloValue(o: Obj): string {
  const v = num(o, 'value');
  if (v === undefined) return '—';
  return str(o, 'unit') === 'ms' ? `${v < 10 ? v.toFixed(2) : Math.round(v)} ms` : `${(v * 100).toFixed(2)}%`;
}

function sloTarget(o: Obj): string {
  const t = num(o, 'target');
  if (t === undefined) return '';
  const op = str(o, 'direction') === 'min' ? '≥' : '≤';
  return str(o, 'unit') === 'ms' ? `${op} ${t} ms` : `${op} ${(t * 100).toFixed(2)}%`;
}

/** The SLO table of `status`. */
export function renderSlos(body: unknown, paint: Paint): string {
  const slos = listOf(body, 'slos');
  if (slos.length === 0) return 'No SLOs configured.\n';
  const cols: Column<Obj>[] = [
    { header: 'SLO', value: (o) => str(o, 'name') ?? '' },
    { header: 'KIND', value: (o) => str(o, 'kind') ?? '' },
    { header: 'VALUE', value: sloValue, align: 'right' },
    { header: 'TARGET', value: sloTarget },
    { header: 'STATUS', value: (o) => str(o, 'status') ?? '', colour: (o) => STATUS_COLOUR[str(o, 'status') ?? ''] },
    { header: 'SAMPLES', value: (o) => str(o, 'samples') ?? '', align: 'right' },
    {
      header: 'BUDGET LEFT',
      value: (o) => {
        const b = num(o, 'errorBudgetRemaining');
        return b === undefined ? '' : `${(b * 100).toFixed(1)}%`;
      },
      align: 'right',
    },
  ];
  return table(slos, cols, paint);
}

function age(o: Obj, now: number): string {
  const given = num(o, 'ageMs');
  if (given !== undefined) return duration(given);
  const opened = num(o, 'openedAt');
  return opened === undefined ? '' : duration((num(o, 'resolvedAt') ?? now) - opened);
}

function acknowledged(o: Obj): string {
  const flag = bool(o, 'acknowledged');
  const at = num(o, 'acknowledgedAt');
  if (flag === false || (flag === undefined && at === undefined)) return 'no';
  const by = str(o, 'acknowledgedBy');
  return by === undefined ? 'yes' : `yes (${by})`;
}

/** Incidents as a table (`status`, `active`). */
export function renderIncidents(list: Obj[], now: number, paint: Paint, empty = 'No open incidents.'): string {
  if (list.length === 0) return `${paint('green', empty)}\n`;
  const cols: Column<Obj>[] = [
    { header: 'ID', value: (o) => str(o, 'id') ?? '' },
    { header: 'TYPE', value: (o) => str(o, 'type') ?? '' },
    { header: 'SEVERITY', value: (o) => str(o, 'severity') ?? '', colour: (o) => SEVERITY_COLOUR[str(o, 'severity') ?? ''] },
    { header: 'PRI', value: (o) => str(o, 'priority') ?? '' },
    { header: 'STATUS', value: (o) => str(o, 'status') ?? '', colour: (o) => STATUS_COLOUR[str(o, 'status') ?? ''] },
    { header: 'AGE', value: (o) => age(o, now), align: 'right' },
    { header: 'ACK', value: acknowledged },
    { header: 'SUMMARY', value: (o) => str(o, 'summary') ?? '', max: 70 },
  ];
  return table(list, cols, paint);
}

/** One incident in full: fields, timeline, notes and action items (`show`). */
export function renderIncident(body: unknown, now: number, paint: Paint): string {
  const o = isObj(body) && isObj(body['incident']) ? body['incident'] : isObj(body) ? body : {};
  const opened = num(o, 'openedAt');
  const sev = str(o, 'severity') ?? '';
  const status = str(o, 'status') ?? '';
  const signal = (s: unknown): string | undefined => {
    if (!isObj(s)) return undefined;
    const unit = str(s, 'unit');
    const v = num(s, 'value');
    const shown = v === undefined ? '' : unit === 'ratio' ? `${(v * 100).toFixed(2)}%` : unit === 'ms' ? `${Math.round(v)} ms` : String(v);
    const th = num(s, 'threshold');
    return `${str(s, 'name') ?? ''} ${shown}${th === undefined ? '' : ` (threshold ${unit === 'ratio' ? `${(th * 100).toFixed(2)}%` : th})`}`;
  };
  let out = `${paint('bold', `Incident ${clean(str(o, 'id') ?? '?')}`)}  ${paint(SEVERITY_COLOUR[sev] ?? 'bold', sev.toUpperCase())} ${clean(str(o, 'priority') ?? '')}  ${paint(STATUS_COLOUR[status] ?? 'bold', status)}\n`;
  out += fields(
    [
      ['Summary', str(o, 'summary')],
      ['Type', str(o, 'type')],
      ['Scope', str(o, 'scope')],
      ['Source', str(o, 'source')],
      ['Opened', opened === undefined ? undefined : `${time(opened)} (${age(o, now)} ago)`],
      ['Acknowledged', num(o, 'acknowledgedAt') === undefined ? 'no' : `${time(num(o, 'acknowledgedAt'))} by ${str(o, 'acknowledgedBy') ?? '?'}`],
      ['Resolved', num(o, 'resolvedAt') === undefined ? undefined : `${time(num(o, 'resolvedAt'))} by ${str(o, 'resolvedBy') ?? '?'}`],
      ['Duration', duration(num(o, 'durationMs'))],
      ['Signal at open', signal(o['signalAtOpen'])],
      ['Signal peak', signal(o['signalPeak'])],
      ['Root cause', str(o, 'rootCause')],
      ...runbookRows(o['runbook']),
    ],
    paint,
  );
  const timeline = listOf(o['timeline']);
  if (timeline.length > 0) {
    out += `\n${paint('bold', 'Timeline')}\n`;
    out += table(
      timeline,
      [
        { header: 'AT', value: (e) => (opened === undefined ? time(num(e, 'at')) : `+${duration((num(e, 'at') ?? opened) - opened) || '0ms'}`), align: 'right' },
        { header: 'KIND', value: (e) => str(e, 'kind') ?? '' },
        { header: 'BY', value: (e) => str(e, 'by') ?? '' },
        { header: 'MESSAGE', value: (e) => str(e, 'message') ?? '', max: 90 },
      ],
      paint,
    );
  }
  const notes = Array.isArray(o['notes']) ? (o['notes'] as unknown[]).filter((n) => typeof n === 'string') : [];
  if (notes.length > 0) out += `\n${paint('bold', 'Notes')}\n${notes.map((n) => `- ${clean(n)}`).join('\n')}\n`;
  const items = listOf(o['actionItems']);
  if (items.length > 0) {
    out += `\n${paint('bold', 'Action items')}\n`;
    out += items.map((i) => `- [${bool(i, 'done') === true ? 'x' : ' '}] ${clean(str(i, 'text') ?? '')}${str(i, 'owner') === undefined ? '' : ` (${clean(str(i, 'owner'))})`}`).join('\n') + '\n';
  }
  return out;
}

function seconds(o: Obj): string {
  const s = num(o, 'estimatedSeconds', 'estimatedTimeSeconds');
  return s === undefined ? '' : duration(s * 1000);
}

/** Owner, runbook URL and contacts of a served `runbook` object, as field rows (undefined values are skipped). */
function runbookRows(rb: unknown): [string, string | undefined][] {
  if (!isObj(rb)) return [];
  const contacts = Array.isArray(rb['contacts']) ? (rb['contacts'] as unknown[]).filter((c): c is string => typeof c === 'string') : [];
  return [
    ['Owner', str(rb, 'owner')],
    ['Runbook', str(rb, 'url')],
    ['Escalation', contacts.length === 0 ? undefined : contacts.join(', ')],
  ];
}

/** An incident's procedure steps (`procedures`). */
export function renderProcedures(body: unknown, paint: Paint): string {
  const steps = listOf(body, 'steps', 'procedures');
  const head = runbookRows(isObj(body) ? body['runbook'] : undefined).some(([, v]) => v !== undefined)
    ? fields(runbookRows(isObj(body) ? body['runbook'] : undefined), paint) + '\n'
    : '';
  if (steps.length === 0) return `${head}No procedure steps for this incident (no playbook for its type).\n`;
  const stepRunbook = (o: Obj): string => (isObj(o['runbook']) ? (str(o['runbook'], 'url') ?? str(o['runbook'], 'owner') ?? '') : '');
  const withRunbook = steps.some((o) => stepRunbook(o) !== '');
  let n = 0;
  return head + table(
    steps,
    [
      { header: '#', value: (o) => str(o, 'step', 'index') ?? String(++n), align: 'right' },
      { header: 'ACTION', value: (o) => str(o, 'actionId', 'action', 'id') ?? '' },
      { header: 'TITLE', value: (o) => str(o, 'title') ?? '', max: 40 },
      { header: 'EST', value: seconds, align: 'right' },
      { header: 'MODE', value: (o) => str(o, 'mode') ?? (bool(o, 'auto') === true ? 'auto' : bool(o, 'auto') === false ? 'manual' : '') },
      { header: 'CONFIRM', value: (o) => (bool(o, 'requiresConfirm') === true ? 'yes' : '') },
      { header: 'STATUS', value: (o) => str(o, 'status') ?? '', colour: (o) => STATUS_COLOUR[str(o, 'status') ?? ''] },
      { header: 'VERIFY', value: (o) => str(o, 'verification', 'verify') ?? '', max: 50 },
      ...(withRunbook ? [{ header: 'RUNBOOK', value: stepRunbook, max: 60 }] : []),
    ],
    paint,
  );
}

/** The registered actions (`actions`). */
export function renderActions(body: unknown, paint: Paint): string {
  const actions = listOf(body, 'actions');
  if (actions.length === 0) return 'No actions registered.\n';
  return table(
    actions,
    [
      { header: 'ID', value: (o) => str(o, 'id') ?? '' },
      { header: 'TITLE', value: (o) => str(o, 'title') ?? '', max: 45 },
      { header: 'RISK', value: (o) => str(o, 'risk') ?? '', colour: (o) => (str(o, 'risk') === 'risky' ? 'yellow' : undefined) },
      { header: 'CONFIRM', value: (o) => (bool(o, 'requiresConfirm') === true ? 'yes' : '') },
      { header: 'REVERT', value: (o) => (bool(o, 'revertible') === true ? 'yes' : bool(o, 'revertible') === false ? 'no' : '') },
      { header: 'EST', value: seconds, align: 'right' },
    ],
    paint,
  );
}

/** The result of `execute`. */
export function renderExecution(body: unknown, paint: Paint): string {
  const o = isObj(body) && isObj(body['execution']) ? body['execution'] : isObj(body) ? body : {};
  const status = str(o, 'outcome', 'status') ?? 'done';
  const head = `${paint('bold', `Action ${clean(str(o, 'actionId', 'action') ?? '')}`)}: ${paint(STATUS_COLOUR[status] ?? 'bold', status)}\n`;
  return (
    head +
    fields(
      [
        ['Execution', str(o, 'id', 'executionId')],
        ['Incident', str(o, 'incidentId')],
        ['By', str(o, 'by')],
        ['Took', duration(num(o, 'durationMs'))],
        ['Result', str(o, 'message', 'summary')],
        ['Error', str(o, 'error')],
        ['Params', isObj(o['params']) && Object.keys(o['params']).length > 0 ? JSON.stringify(o['params']) : undefined],
      ],
      paint,
    )
  );
}

/** What `detect` found: SLO transitions and incident changes (opened, escalated, resolved…). */
export function renderDetect(body: unknown, now: number, paint: Paint): string {
  const o = isObj(body) ? body : {};
  const transitions = listOf(o, 'transitions');
  let out = `Evaluation ran${num(o, 'at') === undefined ? '' : ` at ${time(num(o, 'at'))}`}.\n`;
  if (transitions.length === 0) out += 'No SLO status changed.\n';
  else {
    out += table(
      transitions,
      [
        { header: 'SLO', value: (t) => str(t, 'slo') ?? '' },
        { header: 'FROM', value: (t) => str(t, 'from') ?? '', colour: (t) => STATUS_COLOUR[str(t, 'from') ?? ''] },
        { header: 'TO', value: (t) => str(t, 'to') ?? '', colour: (t) => STATUS_COLOUR[str(t, 'to') ?? ''] },
      ],
      paint,
    );
  }
  const changes = isObj(o['incidents']) ? o['incidents'] : {};
  let changed = 0;
  for (const kind of ['opened', 'reopened', 'escalated', 'deescalated', 'resolved', 'overdue']) {
    const list = listOf(changes[kind]);
    if (list.length === 0) continue;
    changed += list.length;
    out += `\n${paint('bold', `Incidents ${kind} (${list.length})`)}\n${renderIncidents(list, now, paint)}`;
  }
  if (changed === 0) out += 'No incident opened, escalated or resolved.\n';
  return out;
}

/** One-line confirmation of a lifecycle change (`ack`, `resolve`). */
export function renderChange(verb: string, body: unknown, paint: Paint): string {
  const o = isObj(body) && isObj(body['incident']) ? body['incident'] : isObj(body) ? body : {};
  const status = str(o, 'status') ?? '';
  return `Incident ${clean(str(o, 'id') ?? '')} ${verb}: ${paint(STATUS_COLOUR[status] ?? 'bold', status)}${str(o, 'summary') === undefined ? '' : ` — ${clean(str(o, 'summary'))}`}\n`;
}

/** The playbook quick-reference table (`emergency-ref`). */
export function renderEmergencyRef(rows: readonly EmergencyRefRow[], paint: Paint): string {
  return table(
    rows,
    [
      { header: 'INCIDENT TYPE', value: (r) => r.type },
      { header: 'SEVERITY', value: (r) => r.severity, colour: (r) => SEVERITY_COLOUR[r.severity] },
      { header: 'PRIMARY ACTION', value: (r) => r.primary, max: 70 },
      { header: 'SECONDARY ACTION', value: (r) => r.secondary, max: 70 },
      { header: 'EST. TIME', value: (r) => (r.estimatedSeconds === null ? '?' : duration(r.estimatedSeconds * 1000)), align: 'right' },
    ],
    paint,
  );
}

function matchers(o: Obj): string {
  const list = listOf(o['matchers']);
  if (list.length === 0) return '(every incident)';
  return list.map((m) => `${str(m, 'name') ?? '?'}${str(m, 'op') ?? '='}${str(m, 'value') ?? ''}`).join(', ');
}

const SILENCE_STATE_COLOUR: Record<string, Colour> = { active: 'yellow', pending: 'cyan', expired: 'gray' };

/** Silences as a table (`silence list`); times are UTC on the server's clock. */
export function renderSilences(body: unknown, paint: Paint): string {
  const list = listOf(body, 'silences');
  if (list.length === 0) return 'No silences.\n';
  return table(
    list,
    [
      { header: 'ID', value: (o) => str(o, 'id') ?? '' },
      { header: 'STATE', value: (o) => str(o, 'state') ?? '', colour: (o) => SILENCE_STATE_COLOUR[str(o, 'state') ?? ''] },
      { header: 'MATCHERS', value: matchers, max: 60 },
      { header: 'STARTS', value: (o) => time(num(o, 'startsAt')) },
      { header: 'ENDS', value: (o) => time(num(o, 'endsAt')) },
      { header: 'BY', value: (o) => str(o, 'createdBy') ?? '' },
      { header: 'COMMENT', value: (o) => str(o, 'comment') ?? '', max: 60 },
    ],
    paint,
  );
}

/** One-line confirmation of `silence add` / `silence expire`. */
export function renderSilenceChange(verb: string, body: unknown, paint: Paint): string {
  const o = isObj(body) ? body : {};
  const state = str(o, 'state') ?? '';
  const until = state === 'expired' ? '' : ` until ${time(num(o, 'endsAt'))}`;
  return `Silence ${clean(str(o, 'id') ?? '')} ${verb}: ${paint(SILENCE_STATE_COLOUR[state] ?? 'bold', state)}${until} — ${clean(matchers(o))}\n`;
}

function schedule(o: Obj): string {
  const once = isObj(o['once']) ? o['once'] : undefined;
  if (once !== undefined) return `once ${time(num(once, 'startsAt'))} → ${time(num(once, 'endsAt'))}`;
  const daily = isObj(o['daily']) ? o['daily'] : undefined;
  if (daily !== undefined) return `daily ${str(daily, 'at') ?? '?'} UTC for ${duration(num(daily, 'durationMs'))}`;
  const weekly = isObj(o['weekly']) ? o['weekly'] : undefined;
  if (weekly !== undefined) {
    const days = Array.isArray(weekly['days']) ? (weekly['days'] as unknown[]).filter((d) => typeof d === 'string').join(',') : '?';
    return `weekly ${days} ${str(weekly, 'at') ?? '?'} UTC for ${duration(num(weekly, 'durationMs'))}`;
  }
  return '';
}

function windowState(o: Obj): string {
  if (bool(o, 'active') === true) return `open until ${time(num(o, 'activeUntil'))}`;
  const next = num(o, 'nextStartAt');
  return next === undefined ? 'closed' : `next ${time(next)}`;
}

/** Maintenance windows as a table (`maintenance list`); times are UTC on the server's clock. */
export function renderMaintenance(body: unknown, paint: Paint): string {
  const list = listOf(body, 'windows');
  if (list.length === 0) return 'No maintenance windows.\n';
  return table(
    list,
    [
      { header: 'ID', value: (o) => str(o, 'id') ?? '' },
      { header: 'NAME', value: (o) => str(o, 'name') ?? '', max: 30 },
      { header: 'SCHEDULE', value: schedule, max: 70 },
      { header: 'NOW', value: windowState, colour: (o) => (bool(o, 'active') === true ? 'yellow' : undefined) },
      { header: 'MATCHERS', value: matchers, max: 50 },
      { header: 'BY', value: (o) => str(o, 'createdBy') ?? '' },
      { header: 'COMMENT', value: (o) => str(o, 'comment') ?? '', max: 50 },
    ],
    paint,
  );
}

/** One-line confirmation of `maintenance add` / `maintenance remove`. */
export function renderMaintenanceChange(verb: string, body: unknown, paint: Paint): string {
  const o = isObj(body) ? body : {};
  const state = verb === 'removed' ? '' : ` (${windowState(o)})`;
  return `Maintenance window ${clean(str(o, 'id') ?? '')} "${clean(str(o, 'name') ?? '')}" ${verb}: ${paint(verb === 'removed' ? 'gray' : 'bold', clean(schedule(o)))}${state} — ${clean(matchers(o))}\n`;
}

const SPARKS = '▁▂▃▄▅▆▇█';

/**
 * A sparkline of `values` scaled to their own range (blank where a value is
 * missing), at most `width` characters (the newest values).
 *
 * @example
 * ```ts
 * sparkline([1, 2, 3, null, 8]); // '▁▂▃ █'
 * ```
 */
export function sparkline(values: readonly (number | null | undefined)[], width = 60): string {
  const vs = values.slice(-width);
  const ok = vs.filter((v): v is number => typeof v === 'number' && Number.isFinite(v));
  if (ok.length === 0) return '';
  const lo = Math.min(...ok);
  const hi = Math.max(...ok);
  return vs
    .map((v) => {
      if (typeof v !== 'number' || !Number.isFinite(v)) return ' ';
      const i = hi === lo ? 0 : Math.round(((v - lo) / (hi - lo)) * (SPARKS.length - 1));
      return SPARKS[i];
    })
    .join('');
}

function fmtSeries(values: (number | null)[], fmt: (v: number) => string): [string, string, string] {
  const ok = values.filter((v): v is number => v !== null && Number.isFinite(v));
  if (ok.length === 0) return ['', '', ''];
  return [fmt(Math.min(...ok)), fmt(Math.max(...ok)), fmt(ok[ok.length - 1]!)];
}

/** `status --history`: one sparkline per series of `GET /stats/history`, with min, max and latest, times in UTC. */
export function renderHistory(body: unknown, paint: Paint, width = 60): string {
  const points = listOf(body, 'points');
  if (points.length === 0) return 'No history yet (the first snapshot comes with the first evaluation).\n';
  const col = (key: string): (number | null)[] => points.map((p) => num(p, key) ?? null);
  const ms = (v: number): string => (v < 10 ? `${v.toFixed(2)}ms` : `${Math.round(v)}ms`);
  const pct = (v: number): string => `${(v * 100).toFixed(2)}%`;
  const rate = (v: number): string => `${v.toFixed(1)}/s`;
  const rows: [string, (number | null)[], (v: number) => string][] = [
    ['requests', col('rate'), rate],
    ['success', col('successRate'), pct],
    ['p50', col('p50'), ms],
    ['p95', col('p95'), ms],
    ['p99', col('p99'), ms],
    ['cache hit', col('cacheHitRate'), pct],
  ];
  const slos = listOf(body, 'slos');
  for (const s of slos) {
    const name = str(s, 'name');
    if (name === undefined) continue;
    const budget = points.map((p) => {
      const sp = isObj(p['slos']) ? p['slos'][name] : undefined;
      return isObj(sp) ? (num(sp, 'budget') ?? null) : null;
    });
    if (budget.some((b) => b !== null)) rows.push([`${clean(name)} budget`, budget, pct]);
  }
  const first = num(points[0]!, 'at');
  const last = num(points[points.length - 1]!, 'at');
  const utc = (t: number | undefined): string => (t === undefined ? '?' : new Date(t).toISOString().slice(0, 19).replace('T', ' '));
  const label = Math.max(...rows.map((r) => r[0].length));
  const lines = rows.map(([name, values, fmt]) => {
    const [lo, hi, now] = fmtSeries(values, fmt);
    return `${name.padEnd(label)}  ${sparkline(values, width).padEnd(Math.min(width, points.length))}  ${paint('gray', `min ${lo} max ${hi}`)}  now ${now}`;
  });
  const markers = listOf(body, 'markers').slice(-5).map((m) => `  ${utc(num(m, 'at'))}Z  ${clean(str(m, 'kind') ?? '')}  ${clean(str(m, 'label') ?? '')}`);
  return (
    `${paint('bold', 'History')} ${utc(first)} → ${utc(last)} UTC (${points.length} points)\n${lines.join('\n')}\n` +
    (markers.length ? `${paint('bold', 'Events')}\n${markers.join('\n')}\n` : '')
  );
}

/**
 * The runbooks' communication templates (initial alert, status update,
 * resolution notice) rendered from an incident as markdown, plain text and a
 * Slack incoming-webhook payload. Pure functions: same incident, same text.
 */
import { formatDuration, formatSignal, formatTime, formatValue } from './format.js';
import { SEVERITY_POLICY, SEVERITIES, compareSeverity, type Incident, type IncidentStatus, type Severity } from './types.js';

/**
 * Options of the render functions; everything is optional.
 *
 * @example
 * ```ts
 * renderAlert(incident, { service: 'search-api', impact: 'All searches fail', eta: '30 minutes' });
 * ```
 */
export interface RenderOptions {
  /** Service name shown in the message footer. */
  service?: string;
  /** Who or what is affected (default: derived from the incident type, scope and signal). */
  impact?: string;
  /** Estimated resolution time, in words (default: unknown, with the priority's response time). */
  eta?: string;
  /** Planned actions for an update (default: from the status). */
  nextSteps?: readonly string[];
  /** Clock time the message is rendered at (updates show how long the incident has been open). */
  now?: number;
  /** Promised update interval, in minutes (default 30). */
  updateEveryMinutes?: number;
}

/**
 * A Slack Block Kit text object.
 *
 * @example
 * ```ts
 * const t: SlackText = { type: 'mrkdwn', text: '*Status:* Mitigating' };
 * ```
 */
export interface SlackText {
  type: 'mrkdwn' | 'plain_text';
  text: string;
}

/**
 * The Slack blocks the templates use.
 *
 * @example
 * ```ts
 * renderAlert(incident).slack.blocks.filter((b) => b.type === 'section');
 * ```
 */
export type SlackBlock =
  | { type: 'header'; text: SlackText }
  | { type: 'section'; text?: SlackText; fields?: SlackText[] }
  | { type: 'context'; elements: SlackText[] }
  | { type: 'divider' };

/**
 * A Slack incoming-webhook / `chat.postMessage` payload.
 *
 * @example
 * ```ts
 * await fetch(slackWebhookUrl, { method: 'POST', body: JSON.stringify(renderAlert(incident).slack) });
 * ```
 */
export interface SlackPayload {
  /** Fallback text for notifications. */
  text: string;
  blocks: SlackBlock[];
}

/**
 * One rendered message in every format.
 *
 * @example
 * ```ts
 * const { title, markdown, text, slack } = renderResolved(incident);
 * ```
 */
export interface RenderedMessage {
  kind: 'alert' | 'update' | 'resolved';
  /** `INCIDENT ALERT - HIGH (P1)` and the like. */
  title: string;
  markdown: string;
  text: string;
  slack: SlackPayload;
}

interface Field {
  label: string;
  value: string;
}

interface Parts {
  kind: RenderedMessage['kind'];
  title: string;
  fields: Field[];
  /** A titled list (current actions, progress, follow-up). */
  list?: { title: string; items: { text: string; checked?: boolean }[] };
  footer: string;
}

const STATUS_WORDS: Record<IncidentStatus, string> = {
  open: 'Under investigation',
  acknowledged: 'Investigating (acknowledged)',
  mitigating: 'Mitigating',
  resolved: 'Resolved',
};

function severityLabel(severity: Severity): string {
  return `${severity.toUpperCase()} (${SEVERITY_POLICY[severity].priority})`;
}

function scopeWords(scope: string): string {
  if (scope === 'service') return '';
  const [kind, ...rest] = scope.split(':');
  const name = rest.join(':');
  if (name === '') return ` (${scope})`;
  return ` on ${kind} ${name}`;
}

/**
 * The default impact line: what the incident type means for users, with the signal.
 *
 * @example
 * ```ts
 * defaultImpact(incident); // 'Requests are slow (p95 latency 2500 ms).'
 * ```
 */
export function defaultImpact(incident: Incident): string {
  const signal = incident.signalPeak ?? incident.signalAtOpen;
  const reading = signal === undefined ? '' : ` (${signal.name} ${formatValue(signal.value, signal.unit)})`;
  const where = scopeWords(incident.scope);
  switch (incident.type) {
    case 'high-latency':
      return `Requests${where} are slow${reading}.`;
    case 'high-error-rate':
    case 'slo-burn':
      return `Requests${where} are failing${reading}.`;
    case 'cache-failure':
      return `The cache${where} is not serving hits, so more requests reach the backend${reading}.`;
    case 'memory-exhaustion':
      return `The process is close to its memory limit; requests may fail or the process may restart${reading}.`;
    case 'rate-limit-attack':
      return `Many requests${where} are being rejected with 429${reading}.`;
    case 'service-down':
      return `The service${where} is failing its health checks${reading}.`;
    case 'dependency-failure':
      return `A dependency${where} is failing${reading}.`;
    default:
      return `${incident.type}${where}${reading}.`;
  }
}

function defaultEta(incident: Incident): string {
  const p = SEVERITY_POLICY[incident.severity];
  return `Unknown; ${p.priority} response within ${formatDuration(p.respondWithinMs)}`;
}

/**
 * The worst severity the incident reached (from its timeline).
 *
 * @example
 * ```ts
 * peakSeverity(incident); // 'critical' if it ever escalated there
 * ```
 */
export function peakSeverity(incident: Incident): Severity {
  let peak = incident.severity;
  for (const e of incident.timeline) {
    for (const key of ['severity', 'to', 'from']) {
      const v = e.data?.[key];
      if (typeof v === 'string' && (SEVERITIES as readonly string[]).includes(v) && compareSeverity(v as Severity, peak) > 0) peak = v as Severity;
    }
  }
  return peak;
}

/** Owner, runbook link and escalation contacts, when the incident carries them (after the other fields, so existing layouts keep their order). */
function runbookFields(incident: Incident): Field[] {
  const rb = incident.runbook;
  if (rb === undefined) return [];
  const out: Field[] = [];
  if (rb.owner !== undefined) out.push({ label: 'Owner', value: rb.owner });
  if (rb.url !== undefined) out.push({ label: 'Runbook', value: rb.url });
  if (rb.contacts !== undefined && rb.contacts.length > 0) out.push({ label: 'Escalation', value: rb.contacts.join(', ') });
  return out;
}

function footer(incident: Incident, opts: RenderOptions): string {
  const service = opts.service === undefined ? '' : `${opts.service} · `;
  return `${service}${incident.id} · ${incident.type} · ${incident.scope} · opened ${formatTime(incident.openedAt)}`;
}

function render(p: Parts): RenderedMessage {
  const md: string[] = [`**${p.title}**`, ''];
  const txt: string[] = [p.title, ''];
  for (const f of p.fields) {
    md.push(`**${f.label}:** ${f.value}`);
    txt.push(`${f.label}: ${f.value}`);
  }
  const blocks: SlackBlock[] = [
    { type: 'header', text: { type: 'plain_text', text: p.title.slice(0, 150) } },
    // Slack allows at most 10 fields per section and 2000 characters per field.
    ...chunk(p.fields, 10).map(
      (fs): SlackBlock => ({ type: 'section', fields: fs.map((f) => ({ type: 'mrkdwn', text: `*${f.label}:*\n${f.value}`.slice(0, 2000) })) }),
    ),
  ];
  if (p.list !== undefined && p.list.items.length > 0) {
    md.push('', `**${p.list.title}:**`);
    txt.push('', `${p.list.title}:`);
    const lines: string[] = [];
    for (const item of p.list.items) {
      const box = item.checked === undefined ? '' : item.checked ? '[x] ' : '[ ] ';
      md.push(`- ${box}${item.text}`);
      txt.push(`- ${box}${item.text}`);
      lines.push(`• ${item.checked === undefined ? '' : item.checked ? '☑ ' : '☐ '}${item.text}`);
    }
    blocks.push({ type: 'section', text: { type: 'mrkdwn', text: `*${p.list.title}:*\n${lines.join('\n')}`.slice(0, 3000) } });
  }
  md.push('', `_${p.footer}_`);
  txt.push('', p.footer);
  blocks.push({ type: 'context', elements: [{ type: 'mrkdwn', text: p.footer }] });
  const summary = p.fields.find((f) => f.label === 'Summary')?.value ?? '';
  return { kind: p.kind, title: p.title, markdown: md.join('\n') + '\n', text: txt.join('\n') + '\n', slack: { text: `${p.title}: ${summary}`, blocks } };
}

function chunk<T>(xs: readonly T[], n: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < xs.length; i += n) out.push(xs.slice(i, i + n));
  return out;
}

/**
 * The initial incident alert (runbook "INCIDENT ALERT" template): severity,
 * summary, impact, status, ETA, update cadence and current actions.
 *
 * @example
 * ```ts
 * monitor.on('incident:opened', (i) => pager.send(renderAlert(i, { service: 'search-api' }).text));
 * ```
 */
export function renderAlert(incident: Incident, opts: RenderOptions = {}): RenderedMessage {
  const fields: Field[] = [
    { label: 'Summary', value: incident.summary },
    { label: 'Impact', value: opts.impact ?? defaultImpact(incident) },
    { label: 'Status', value: STATUS_WORDS[incident.status] },
    { label: 'ETA', value: opts.eta ?? defaultEta(incident) },
    { label: 'Updates', value: `Will provide updates every ${opts.updateEveryMinutes ?? 30} minutes` },
  ];
  if (incident.signalAtOpen !== undefined) fields.push({ label: 'Signal', value: formatSignal(incident.signalAtOpen) });
  fields.push(...runbookFields(incident));
  const acked = incident.acknowledgedAt !== undefined || incident.status !== 'open';
  return render({
    kind: 'alert',
    title: `INCIDENT ALERT - ${severityLabel(incident.severity)}`,
    fields,
    list: {
      title: 'Current Actions',
      items: [
        { text: 'Investigating root cause', checked: acked },
        { text: 'Implementing immediate mitigation', checked: incident.mitigatingAt !== undefined || incident.status === 'resolved' },
        { text: 'Monitoring system health', checked: true },
      ],
    },
    footer: footer(incident, opts),
  });
}

const PROGRESS_KINDS = new Set(['acknowledged', 'mitigating', 'action', 'action-failed', 'action-reverted', 'note', 'escalated', 'deescalated', 'recovered', 'reopened']);

function defaultNextSteps(incident: Incident): string[] {
  switch (incident.status) {
    case 'open':
      return ['Acknowledge and assign an incident commander', 'Assess impact and start mitigation'];
    case 'acknowledged':
      return ['Identify the root cause', 'Apply the playbook mitigation'];
    case 'mitigating':
      return ['Verify the mitigation in the metrics', 'Resolve once the signal stays clear'];
    case 'resolved':
      return ['Write the post-mortem'];
  }
}

/**
 * A status update (runbook "INCIDENT UPDATE" template): summary, status,
 * progress so far (from the timeline), next steps and ETA.
 *
 * @example
 * ```ts
 * slack.post(renderUpdate(monitor.incidents.require(id), { now: Date.now(), eta: '30 minutes' }).slack);
 * ```
 */
export function renderUpdate(incident: Incident, opts: RenderOptions = {}): RenderedMessage {
  const progress = incident.timeline.filter((e) => PROGRESS_KINDS.has(e.kind)).slice(-10);
  const fields: Field[] = [
    { label: 'Summary', value: incident.summary },
    { label: 'Status', value: STATUS_WORDS[incident.status] },
    {
      label: 'Progress',
      value: progress.length === 0 ? 'No actions recorded yet' : `${progress.length} step${progress.length === 1 ? '' : 's'} since open (below)`,
    },
    { label: 'Next Steps', value: (opts.nextSteps ?? defaultNextSteps(incident)).join('; ') },
    { label: 'ETA', value: opts.eta ?? defaultEta(incident) },
  ];
  if (opts.now !== undefined) fields.push({ label: 'Open for', value: formatDuration(opts.now - incident.openedAt) });
  const peak = incident.signalPeak;
  if (peak !== undefined) fields.push({ label: 'Peak signal', value: formatSignal(peak) });
  fields.push(...runbookFields(incident));
  return render({
    kind: 'update',
    title: `INCIDENT UPDATE - ${severityLabel(incident.severity)}`,
    fields,
    list: {
      title: 'Timeline',
      items: progress.map((e) => ({ text: `${formatTime(e.at)} ${e.message}${e.by === 'firebreak' ? '' : ` (${e.by})`}` })),
    },
    footer: footer(incident, opts),
  });
}

/**
 * The resolution notice (runbook "INCIDENT RESOLVED" template): summary,
 * root cause, resolution, duration and follow-up (the action items).
 *
 * @example
 * ```ts
 * monitor.on('incident:resolved', (i) => statusPage.post(renderResolved(i).markdown));
 * ```
 */
export function renderResolved(incident: Incident, opts: RenderOptions = {}): RenderedMessage {
  const resolvedEntry = incident.status === 'resolved' ? [...incident.timeline].reverse().find((e) => e.kind === 'resolved') : undefined;
  const resolutionNotes = resolvedEntry?.data?.['notes'];
  const duration =
    incident.durationMs !== undefined
      ? formatDuration(incident.durationMs)
      : opts.now !== undefined
        ? `${formatDuration(opts.now - incident.openedAt)} (still open)`
        : 'Still open';
  const fields: Field[] = [
    { label: 'Summary', value: incident.summary },
    { label: 'Root Cause', value: incident.rootCause ?? 'Under investigation' },
    {
      label: 'Resolution',
      value: typeof resolutionNotes === 'string' ? resolutionNotes : (resolvedEntry?.message ?? 'Not resolved yet'),
    },
    { label: 'Duration', value: duration },
    {
      label: 'Follow-up',
      value: incident.actionItems.length === 0 ? 'Post-incident review to be scheduled' : `${incident.actionItems.length} action item${incident.actionItems.length === 1 ? '' : 's'} (below)`,
    },
    ...runbookFields(incident),
  ];
  return render({
    kind: 'resolved',
    title: `INCIDENT RESOLVED - ${severityLabel(peakSeverity(incident))}`,
    fields,
    list: {
      title: 'Action Items',
      items: incident.actionItems.map((a) => ({ text: `${a.text}${a.owner === undefined ? '' : ` (owner: ${a.owner})`}`, checked: a.done })),
    },
    footer: footer(incident, opts),
  });
}

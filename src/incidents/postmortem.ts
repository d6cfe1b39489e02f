import { formatDuration, formatRelative, formatSignal, formatTime } from './format.js';
import { defaultImpact, peakSeverity } from './templates.js';
import { SEVERITY_POLICY, type Incident, type TimelineKind } from './types.js';

/**
 * Options of {@link renderPostmortem}.
 *
 * @example
 * ```ts
 * renderPostmortem(incident, { service: 'search-api', now: Date.now() });
 * ```
 */
export interface PostmortemOptions {
  /** Service name for the header. */
  service?: string;
  /** Clock time of rendering (for incidents not resolved yet). */
  now?: number;
}

const KIND_WORDS: Record<TimelineKind, string> = {
  detected: 'Detected',
  opened: 'Opened',
  escalated: 'Escalated',
  deescalated: 'De-escalated',
  acknowledged: 'Acknowledged',
  mitigating: 'Mitigation started',
  action: 'Action',
  'action-failed': 'Action failed',
  'action-reverted': 'Action reverted',
  note: 'Note',
  overdue: 'Overdue',
  resolved: 'Resolved',
  reopened: 'Reopened',
  recovered: 'Signal recovered',
  suppressed: 'Not paged',
  unsuppressed: 'Paging resumed',
};

/** Escapes what would break a markdown table cell. */
function cell(s: string): string {
  return s.replace(/\\/g, '\\\\').replace(/\|/g, '\\|').replace(/\r?\n/g, ' ');
}

function runbookFacts(incident: Incident): [string, string][] {
  const rb = incident.runbook;
  if (rb === undefined) return [];
  const out: [string, string][] = [];
  if (rb.owner !== undefined) out.push(['Owner', rb.owner]);
  if (rb.url !== undefined) out.push(['Runbook', rb.url]);
  if (rb.contacts !== undefined && rb.contacts.length > 0) out.push(['Escalation contacts', rb.contacts.join(', ')]);
  return out;
}

function after(origin: number, at: number | undefined): string {
  return at === undefined ? '—' : `${formatTime(at)} (${formatRelative(at - origin)})`;
}

/**
 * A markdown post-mortem of an incident: facts table, impact, signal at open
 * and peak, the timeline with times relative to open (detection shows as
 * negative), response times (detection delay, time to acknowledge, mitigate,
 * resolve), root cause, resolution notes and action items.
 *
 * @example
 * ```ts
 * const md = renderPostmortem(monitor.incidents.require(id), { service: 'search-api' });
 * ```
 */
export function renderPostmortem(incident: Incident, opts: PostmortemOptions = {}): string {
  const o = incident.openedAt;
  const peak = peakSeverity(incident);
  const endAt = incident.resolvedAt ?? opts.now;
  const out: string[] = [];
  out.push(`# Post-mortem: ${incident.summary}`, '');
  const facts: [string, string][] = [
    ['Incident', `\`${incident.id}\``],
    ...(opts.service === undefined ? [] : ([['Service', opts.service]] as [string, string][])),
    ['Type', incident.type],
    ['Scope', incident.scope],
    [
      'Severity',
      peak === incident.severity
        ? `${incident.severity} (${incident.priority})`
        : `${peak} (${SEVERITY_POLICY[peak].priority}) at peak, ${incident.severity} (${incident.priority}) at the end`,
    ],
    ['Status', incident.status],
    ['Source', incident.source === 'auto' ? `automatic (${incident.detector ?? 'detector'})` : 'manual report'],
    ...runbookFacts(incident),
    ['Detected', formatTime(incident.detectedAt)],
    ['Opened', formatTime(o)],
    ['Acknowledged', incident.acknowledgedAt === undefined ? '—' : `${after(o, incident.acknowledgedAt)} by ${incident.acknowledgedBy ?? 'unknown'}`],
    ['Resolved', incident.resolvedAt === undefined ? '—' : `${after(o, incident.resolvedAt)} by ${incident.resolvedBy ?? 'unknown'}`],
    ['Total duration', endAt === undefined ? '—' : `${formatDuration(endAt - o)}${incident.resolvedAt === undefined ? ' (still open)' : ''}`],
  ];
  out.push('| Field | Value |', '| --- | --- |', ...facts.map(([k, v]) => `| ${k} | ${cell(v)} |`), '');

  out.push('## Impact', '', defaultImpact(incident), '');

  out.push('## Signal', '');
  if (incident.signalAtOpen === undefined && incident.signalPeak === undefined) out.push('No signal recorded (manual incident).');
  if (incident.signalAtOpen !== undefined) out.push(`- At open: ${formatSignal(incident.signalAtOpen)}`);
  if (incident.signalPeak !== undefined) {
    out.push(`- Peak: ${formatSignal(incident.signalPeak)} at ${formatTime(incident.signalPeak.at)} (${formatRelative(incident.signalPeak.at - o)})`);
  }
  out.push('');

  out.push('## Timeline', '', '| From open | Time | Event | By | Details |', '| --- | --- | --- | --- | --- |');
  for (const e of incident.timeline) {
    out.push(`| ${formatRelative(e.at - o)} | ${formatTime(e.at)} | ${KIND_WORDS[e.kind] ?? e.kind} | ${cell(e.by)} | ${cell(e.message)} |`);
  }
  if ((incident.timelineDropped ?? 0) > 0) out.push('', `_${incident.timelineDropped} older timeline entries were dropped (timeline cap)._`);
  out.push('');

  const ack = incident.acknowledgedAt;
  const firstAction = incident.timeline.find((e) => e.kind === 'action' || e.kind === 'mitigating');
  out.push('## Response', '');
  out.push(`- Detection delay (condition first seen → incident opened): ${formatDuration(o - incident.detectedAt)}`);
  out.push(`- Time to acknowledge: ${ack === undefined ? 'not acknowledged' : formatDuration(ack - o)}${incident.overdueAt !== undefined ? ' (overdue)' : ''}`);
  out.push(`- Time to first action: ${firstAction === undefined ? 'no action recorded' : formatDuration(firstAction.at - o)}`);
  out.push(`- Time to resolve: ${incident.resolvedAt === undefined ? 'not resolved' : formatDuration(incident.resolvedAt - o)}`);
  if (incident.reopenCount > 0) out.push(`- Reopened ${incident.reopenCount} time${incident.reopenCount === 1 ? '' : 's'}`);
  out.push('');

  out.push('## Root cause', '', incident.rootCause ?? '_Not recorded yet._', '');
  out.push('## Notes and resolution', '');
  if (incident.notes.length === 0) out.push('_No notes._');
  else for (const n of incident.notes) out.push(`- ${n}`);
  out.push('');
  out.push('## Action items', '');
  if (incident.actionItems.length === 0) out.push('_None recorded._');
  else for (const a of incident.actionItems) out.push(`- [${a.done ? 'x' : ' '}] ${a.text}${a.owner === undefined ? '' : ` (owner: ${a.owner})`}`);
  out.push('');
  return out.join('\n');
}

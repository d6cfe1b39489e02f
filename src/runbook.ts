/**
 * Runbook metadata: who owns a thing, where its runbook lives and whom to
 * escalate to. Configured on SLOs, incident types and actions; an incident
 * carries the metadata resolved for it, and every message, procedure,
 * post-mortem and the dashboard show it.
 */
import { z } from 'zod';

/** Escalation contacts per runbook entry at most. */
export const MAX_RUNBOOK_CONTACTS = 10;

/** Runbook metadata as configured: every field optional, lengths and counts bounded. */
export const runbookMetaSchema = z.strictObject({
  /** Owning team or person, e.g. `search-oncall`. */
  owner: z.string().min(1, 'owner must not be empty').max(200, 'owner must be at most 200 characters').optional(),
  /** Where the runbook lives: an http(s) URL. */
  url: z
    .url({ protocol: /^https?$/, error: 'url must be an http(s) URL' })
    .max(2_000, 'url must be at most 2000 characters')
    .optional(),
  /** Escalation contacts, in order (people, rotations, channels). */
  contacts: z
    .array(z.string().min(1, 'a contact must not be empty').max(200, 'a contact must be at most 200 characters'))
    .max(MAX_RUNBOOK_CONTACTS, `at most ${MAX_RUNBOOK_CONTACTS} contacts`)
    .optional(),
});

/**
 * Runbook metadata as written in options (`owner`, `url`, `contacts`).
 *
 * @example
 * ```ts
 * createMonitor({ service: 'api', slos: [{ name: 'p95', kind: 'latency', quantile: 0.95, thresholdMs: 800, runbook: { owner: 'search' } }] });
 * ```
 */
export type RunbookMetaInput = z.input<typeof runbookMetaSchema>;

/**
 * Runbook metadata: owner, runbook URL and escalation contacts.
 *
 * @example
 * ```ts
 * const rb: RunbookMeta = { owner: 'search-oncall', url: 'https://wiki.example.com/runbooks/latency', contacts: ['@alice', '#search-incidents'] };
 * ```
 */
export interface RunbookMeta {
  owner?: string;
  url?: string;
  contacts?: string[];
}

/**
 * Merges runbook metadata field by field, later sources winning; `undefined`
 * when no source sets any field. Contacts are replaced, never concatenated,
 * so the more specific source decides whom to call.
 *
 * @example
 * ```ts
 * mergeRunbook({ owner: 'platform', url: 'https://wiki/x' }, { owner: 'search' }); // { owner: 'search', url: 'https://wiki/x' }
 * ```
 */
export function mergeRunbook(...sources: readonly (RunbookMetaInput | undefined)[]): RunbookMeta | undefined {
  const out: RunbookMeta = {};
  for (const s of sources) {
    if (s === undefined) continue;
    if (s.owner !== undefined) out.owner = s.owner;
    if (s.url !== undefined) out.url = s.url;
    if (s.contacts !== undefined && s.contacts.length > 0) out.contacts = [...s.contacts];
  }
  return out.owner === undefined && out.url === undefined && out.contacts === undefined ? undefined : out;
}

/**
 * One line describing runbook metadata (`owner search · runbook https://… · contacts @a, @b`), or `''`.
 *
 * @example
 * ```ts
 * runbookLine({ owner: 'search', url: 'https://wiki/x' }); // 'owner search · runbook https://wiki/x'
 * ```
 */
export function runbookLine(rb: RunbookMeta | undefined): string {
  if (rb === undefined) return '';
  const parts: string[] = [];
  if (rb.owner !== undefined) parts.push(`owner ${rb.owner}`);
  if (rb.url !== undefined) parts.push(`runbook ${rb.url}`);
  if (rb.contacts !== undefined && rb.contacts.length > 0) parts.push(`contacts ${rb.contacts.join(', ')}`);
  return parts.join(' · ');
}

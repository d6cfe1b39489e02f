import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import type { ChangeLatch, SharedState } from '../change-latch.js';
import type { Clock } from '../clock.js';
import { LimitError, NotFoundError, ValidationError } from '../errors.js';
import { parseInput } from './inputs.js';
import { compileMatchers, describeMatchers, matcherSchema, type CompiledMatchers, type Matcher } from './matchers.js';
import type { Incident } from './types.js';

const MAX_DURATION_MS = 366 * 86_400_000;
const epochMs = (what: string) => z.number({ error: `${what} must be a number (epoch ms)` }).int().nonnegative();

/** `monitor.silences.add()` input, as validated. */
/** The fields of the input, without the cross-field checks (the HTTP body derives from it). */
export const silenceFieldsSchema = z.strictObject({
    /** Every matcher must hold for an incident to be silenced (1 to 20). */
    matchers: z.array(matcherSchema).min(1, 'at least one matcher is required').max(20, 'at most 20 matchers'),
    /** When it starts (epoch ms on the monitor's clock; default now). */
    startsAt: epochMs('startsAt').optional(),
    /** When it ends (exclusive). Give `endsAt` or `durationMs`. */
    endsAt: epochMs('endsAt').optional(),
    /** How long from `startsAt` it lasts (at most 366 days). */
    durationMs: z.number().int().positive().max(MAX_DURATION_MS, 'must be at most 366 days').optional(),
    /** Who created it. */
    createdBy: z.string().trim().min(1, 'must not be empty').max(200, 'must be at most 200 characters'),
    /** Why: shown on the timeline of every incident it silences. */
    comment: z.string().trim().min(1, 'must not be empty').max(1_000, 'must be at most 1000 characters'),
  });

/** A silence as the fleet shares it: times relative to when it was exported. */
const sharedSilenceSchema = z.object({
  matchers: z.array(matcherSchema).min(1).max(20),
  startsInMs: z.number().finite(),
  endsInMs: z.number().finite(),
  createdInMs: z.number().finite(),
  createdBy: z.string().min(1).max(200),
  comment: z.string().min(1).max(1_000),
  expiredBy: z.string().max(200).optional(),
});

/** `add()` input, as validated. */
export const silenceInputSchema = silenceFieldsSchema.superRefine((s, ctx) => {
    if ((s.endsAt === undefined) === (s.durationMs === undefined)) {
      ctx.addIssue({ code: 'custom', path: ['endsAt'], message: 'give exactly one of endsAt or durationMs' });
    }
  });
/**
 * A silence as written.
 *
 * @example
 * ```ts
 * const input: SilenceInput = { matchers: [{ name: 'type', value: 'high-latency' }], durationMs: 3_600_000, createdBy: 'alice', comment: 'reindexing' };
 * ```
 */
export type SilenceInput = z.input<typeof silenceInputSchema>;

/**
 * `pending` before `startsAt`, `active` from `startsAt` until just before
 * `endsAt`, `expired` from `endsAt` on.
 *
 * @example
 * ```ts
 * monitor.silences.list({ state: 'active' });
 * ```
 */
export type SilenceState = 'pending' | 'active' | 'expired';

/**
 * A silence: while active, incidents its matchers select are recorded (with
 * their timelines) but page nobody and run no auto-remediation.
 *
 * @example
 * ```ts
 * for (const s of monitor.silences.list()) console.log(s.id, s.state, s.createdBy, s.comment);
 * ```
 */
export interface Silence {
  id: string;
  matchers: Matcher[];
  startsAt: number;
  /** Exclusive: the silence no longer holds at `endsAt`. */
  endsAt: number;
  createdBy: string;
  comment: string;
  createdAt: number;
  /** Who expired it early, if someone did. */
  expiredBy?: string;
  state: SilenceState;
}

/**
 * Bounds of the silence store.
 *
 * @example
 * ```ts
 * SILENCE_LIMITS.maxSilences; // 1000
 * ```
 */
export const SILENCE_LIMITS = Object.freeze({
  /** Pending and active silences at most; adding more throws `LimitError`. */
  maxSilences: 1_000,
  /** Bytes (JSON) of pending and active silences at most; adding more throws `LimitError`. */
  maxBytes: 1024 * 1024,
  /** Expired silences kept for `list()` (oldest dropped first). */
  keepExpired: 100,
});

interface Stored {
  s: Omit<Silence, 'state'>;
  test: CompiledMatchers;
  bytes: number;
}

function stateAt(s: { startsAt: number; endsAt: number }, now: number): SilenceState {
  if (now < s.startsAt) return 'pending';
  return now < s.endsAt ? 'active' : 'expired';
}

/**
 * The silences of a monitor (`monitor.silences`). Times are on the monitor's
 * clock; a silence stops holding exactly at its `endsAt`, and the incidents it
 * held page at the next evaluation if they are still unresolved.
 *
 * @example
 * ```ts
 * const s = monitor.silences.add({ matchers: [{ name: 'scope', op: '=~', value: 'cache:.*' }], durationMs: 30 * 60_000, createdBy: 'alice', comment: 'cache migration' });
 * monitor.silences.expire(s.id, 'alice');
 * ```
 */
export class Silences {
  private readonly clock: Clock;
  private readonly live = new Map<string, Stored>();
  private readonly expired: Omit<Silence, 'state'>[] = [];
  private bytes = 0;
  private seq = 0;
  private readonly changed: () => void;
  /** @internal The monitor's change latch (the fleet shares silences). */
  shared: ChangeLatch | undefined;

  /** @internal Built by the monitor; use `monitor.silences`. */
  constructor(clock: Clock, onChange: () => void) {
    this.clock = clock;
    this.changed = onChange;
  }

  /**
   * Adds a silence. Throws `ValidationError` naming the bad field, or
   * `LimitError` past {@link SILENCE_LIMITS}.
   *
   * @example
   * ```ts
   * monitor.silences.add({ matchers: [{ name: 'type', value: 'slo-burn' }], durationMs: 3_600_000, createdBy: 'alice', comment: 'budget reset' });
   * ```
   */
  add(input: SilenceInput): Silence {
    const v = parseInput(silenceInputSchema, 'silence', input);
    const now = this.clock.now();
    this.sweep(now);
    const startsAt = v.startsAt ?? now;
    const endsAt = v.endsAt ?? startsAt + (v.durationMs ?? 0);
    if (endsAt <= startsAt) throw new ValidationError('silence', [{ path: 'endsAt', message: 'endsAt must be after startsAt' }]);
    if (endsAt <= now) throw new ValidationError('silence', [{ path: 'endsAt', message: 'endsAt must be in the future' }]);
    if (endsAt - startsAt > MAX_DURATION_MS) throw new ValidationError('silence', [{ path: 'endsAt', message: 'a silence lasts at most 366 days' }]);
    const s: Omit<Silence, 'state'> = {
      // The random part keeps ids unique across the replicas of a fleet.
      id: `sil_${now.toString(36)}_${(++this.seq).toString(36)}${randomBytes(3).toString('hex')}`,
      matchers: v.matchers,
      startsAt,
      endsAt,
      createdBy: v.createdBy,
      comment: v.comment,
      createdAt: now,
    };
    const bytes = JSON.stringify(s).length * 2;
    if (this.live.size >= SILENCE_LIMITS.maxSilences) throw new LimitError('silences', SILENCE_LIMITS.maxSilences);
    if (this.bytes + bytes > SILENCE_LIMITS.maxBytes) throw new LimitError('bytes of silences', SILENCE_LIMITS.maxBytes);
    this.live.set(s.id, { s, test: compileMatchers(s.matchers), bytes });
    this.bytes += bytes;
    this.changed();
    this.shared?.changed('silence', s.id);
    return { ...s, matchers: s.matchers.map((m) => ({ ...m })), state: stateAt(s, now) };
  }

  /**
   * Silences by state (default: all kept), newest first.
   *
   * @example
   * ```ts
   * monitor.silences.list({ state: 'active' }).map((s) => s.id);
   * ```
   */
  list(filter: { state?: SilenceState } = {}): Silence[] {
    const now = this.clock.now();
    this.sweep(now);
    const all = [...[...this.live.values()].map((x) => x.s), ...this.expired].map((s) => ({ ...s, matchers: s.matchers.map((m) => ({ ...m })), state: stateAt(s, now) }));
    return all.filter((s) => filter.state === undefined || s.state === filter.state).sort((a, b) => b.createdAt - a.createdAt || (a.id < b.id ? 1 : -1));
  }

  /**
   * The silence with `id`, or `undefined`.
   *
   * @example
   * ```ts
   * monitor.silences.get(id)?.state;
   * ```
   */
  get(id: string): Silence | undefined {
    return this.list().find((s) => s.id === id);
  }

  /**
   * Ends a pending or active silence now; throws `NotFoundError` for an unknown
   * or already expired one. Incidents it held page at the next evaluation.
   *
   * @example
   * ```ts
   * monitor.silences.expire(id, 'alice');
   * ```
   */
  expire(id: string, by = 'anonymous'): Silence {
    const now = this.clock.now();
    this.sweep(now);
    const x = typeof id === 'string' ? this.live.get(id) : undefined;
    if (x === undefined) throw new NotFoundError('silence', String(id));
    x.s.endsAt = now;
    if (x.s.startsAt > now) x.s.startsAt = now;
    x.s.expiredBy = String(by).slice(0, 200);
    this.sweep(now);
    this.changed();
    this.shared?.changed('silence', x.s.id);
    return { ...x.s, matchers: x.s.matchers.map((m) => ({ ...m })), state: 'expired' };
  }

  /** @internal One silence as the fleet shares it (times relative to `now`), or undefined when forgotten. */
  exportShared(id: string, now: number): SharedState | undefined {
    const s = this.live.get(id)?.s ?? this.expired.find((e) => e.id === id);
    if (s === undefined) return undefined;
    const out: SharedState = {
      matchers: s.matchers,
      startsInMs: s.startsAt - now,
      endsInMs: s.endsAt - now,
      createdInMs: s.createdAt - now,
      createdBy: s.createdBy,
      comment: s.comment,
    };
    if (s.expiredBy !== undefined) out['expiredBy'] = s.expiredBy;
    return out;
  }

  /**
   * @internal Takes a silence from the fleet (added, or expired early, on another replica).
   * Throws `ValidationError` on a malformed one and `LimitError` past the limits, as `add` does.
   */
  applyShared(id: string, state: SharedState, now: number): void {
    const v = parseInput(sharedSilenceSchema, 'shared silence', state);
    const def: Omit<Silence, 'state'> = {
      id,
      matchers: v.matchers,
      startsAt: now + v.startsInMs,
      endsAt: now + v.endsInMs,
      createdBy: v.createdBy,
      comment: v.comment,
      createdAt: now + v.createdInMs,
    };
    if (v.expiredBy !== undefined) def.expiredBy = v.expiredBy;
    this.sweep(now);
    const live = this.live.get(id);
    if (live !== undefined) {
      // Same silence: only its end (an early expiry) can have changed.
      if (Math.abs(live.s.endsAt - def.endsAt) <= 50 && live.s.expiredBy === def.expiredBy) return;
      live.s.endsAt = def.endsAt;
      if (live.s.startsAt > def.endsAt) live.s.startsAt = def.endsAt;
      if (def.expiredBy !== undefined) live.s.expiredBy = def.expiredBy;
      this.sweep(now);
      this.changed();
      return;
    }
    if (this.expired.some((e) => e.id === id)) return;
    if (def.endsAt <= now) {
      this.expired.push(def);
      if (this.expired.length > SILENCE_LIMITS.keepExpired) this.expired.shift();
      return;
    }
    const bytes = JSON.stringify(def).length * 2;
    if (this.live.size >= SILENCE_LIMITS.maxSilences) throw new LimitError('silences', SILENCE_LIMITS.maxSilences);
    if (this.bytes + bytes > SILENCE_LIMITS.maxBytes) throw new LimitError('bytes of silences', SILENCE_LIMITS.maxBytes);
    this.live.set(id, { s: def, test: compileMatchers(def.matchers), bytes });
    this.bytes += bytes;
    this.changed();
  }

  /** @internal The active silence that matches `incident` at `now`, if any. */
  matching(incident: Incident, now: number): Omit<Silence, 'state'> | undefined {
    for (const x of this.live.values()) {
      if (x.s.startsAt <= now && now < x.s.endsAt && x.test(incident)) return x.s;
    }
    return undefined;
  }

  /** @internal Count and bytes of pending and active silences. */
  usage(): { silences: number; bytes: number; expiredKept: number } {
    this.sweep(this.clock.now());
    return { silences: this.live.size, bytes: this.bytes, expiredKept: this.expired.length };
  }

  /** @internal One line for the timeline. */
  static describe(s: Omit<Silence, 'state'>): string {
    return `silenced by ${s.id} (${s.createdBy}: ${s.comment}; ${describeMatchers(s.matchers)}; until ${new Date(s.endsAt).toISOString()})`;
  }

  /** Moves expired silences out of the live set (their bytes free up); keeps the last few for `list()`. */
  private sweep(now: number): void {
    for (const [id, x] of this.live) {
      if (now < x.s.endsAt) continue;
      this.live.delete(id);
      this.bytes -= x.bytes;
      this.expired.push(x.s);
      if (this.expired.length > SILENCE_LIMITS.keepExpired) this.expired.shift();
    }
  }
}

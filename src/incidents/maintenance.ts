import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import type { ChangeLatch, SharedState } from '../change-latch.js';
import type { Clock } from '../clock.js';
import { LimitError, NotFoundError, ValidationError } from '../errors.js';
import { parseInput } from './inputs.js';
import { compileMatchers, describeMatchers, matcherSchema, type CompiledMatchers, type Matcher } from './matchers.js';
import type { Incident } from './types.js';

const DAY_MS = 86_400_000;
/**
 * Week days as `weekly.days` names them (UTC).
 *
 * @example
 * ```ts
 * WEEKDAYS.indexOf('sun'); // 0, as Date.prototype.getUTCDay()
 * ```
 */
export const WEEKDAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'] as const;
/** A week day (UTC). */
export type Weekday = (typeof WEEKDAYS)[number];

const hhmm = z
  .string()
  .regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'must be a UTC time HH:MM (00:00 to 23:59)');
const epochMs = (what: string) => z.number({ error: `${what} must be a number (epoch ms)` }).int().nonnegative();

/** `monitor.maintenance.add()` input, as validated. */
/** The fields of the input, without the cross-field checks (the HTTP body derives from it). */
export const maintenanceFieldsSchema = z.strictObject({
    /** A short name for listings and timelines. */
    name: z.string().trim().min(1, 'must not be empty').max(100, 'must be at most 100 characters'),
    /** Incidents it covers; every matcher must hold (none: every incident of the monitor). */
    matchers: z.array(matcherSchema).max(20, 'at most 20 matchers').default([]),
    /** A one-off window: `[startsAt, endsAt)` on the monitor's clock. */
    once: z.strictObject({ startsAt: epochMs('startsAt'), endsAt: epochMs('endsAt') }).optional(),
    /** Every day at `at` (UTC) for `durationMs` (at most 24 h). */
    daily: z.strictObject({ at: hhmm, durationMs: z.number().int().positive().max(DAY_MS, 'must be at most 24 h') }).optional(),
    /** On `days` at `at` (UTC) for `durationMs` (at most 7 days). */
    weekly: z
      .strictObject({
        days: z.array(z.enum(WEEKDAYS, { error: `must be one of ${WEEKDAYS.join(', ')}` })).min(1, 'at least one day').max(7),
        at: hhmm,
        durationMs: z.number().int().positive().max(7 * DAY_MS, 'must be at most 7 days'),
      })
      .optional(),
    createdBy: z.string().trim().min(1, 'must not be empty').max(200, 'must be at most 200 characters'),
    comment: z.string().trim().max(1_000, 'must be at most 1000 characters').default(''),
  });

/** `add()` input, as validated. */
export const maintenanceInputSchema = maintenanceFieldsSchema.superRefine((w, ctx) => {
    const kinds = [w.once, w.daily, w.weekly].filter((k) => k !== undefined).length;
    if (kinds !== 1) ctx.addIssue({ code: 'custom', path: ['once'], message: 'give exactly one of once, daily or weekly' });
    if (w.once !== undefined && w.once.endsAt <= w.once.startsAt) ctx.addIssue({ code: 'custom', path: ['once', 'endsAt'], message: 'endsAt must be after startsAt' });
  });
/**
 * A maintenance window as written.
 *
 * @example
 * ```ts
 * const nightly: MaintenanceInput = { name: 'nightly reindex', daily: { at: '02:00', durationMs: 30 * 60_000 }, matchers: [{ name: 'type', value: 'high-latency' }], createdBy: 'ops' };
 * ```
 */
export type MaintenanceInput = z.input<typeof maintenanceInputSchema>;

/**
 * A maintenance window: while it is open, the incidents it covers are recorded
 * (with their timelines) but page nobody and run no auto-remediation.
 *
 * @example
 * ```ts
 * for (const w of monitor.maintenance.list()) console.log(w.id, w.name, w.active, w.nextStartAt);
 * ```
 */
export interface MaintenanceWindow {
  id: string;
  name: string;
  matchers: Matcher[];
  once?: { startsAt: number; endsAt: number };
  daily?: { at: string; durationMs: number };
  weekly?: { days: Weekday[]; at: string; durationMs: number };
  createdBy: string;
  comment: string;
  createdAt: number;
  /** Open now. */
  active: boolean;
  /** When the current opening ends, while active. */
  activeUntil?: number;
  /** When it next opens (absent for a one-off window that has started). */
  nextStartAt?: number;
}

/**
 * Bounds of the maintenance windows.
 *
 * @example
 * ```ts
 * MAINTENANCE_LIMITS.maxWindows; // 100
 * ```
 */
export const MAINTENANCE_LIMITS = Object.freeze({
  /** Windows at most; adding more throws `LimitError`. */
  maxWindows: 100,
  /** Bytes (JSON) of all windows at most; adding more throws `LimitError`. */
  maxBytes: 256 * 1024,
});

type Def = Omit<MaintenanceWindow, 'active' | 'activeUntil' | 'nextStartAt'>;

/** A window as the fleet shares it (validated again on every replica). */
const sharedWindowSchema = z.object({
  name: z.string().min(1).max(100),
  matchers: z.array(matcherSchema).max(20),
  once: z.object({ startsAt: z.number().finite(), endsAt: z.number().finite() }).optional(),
  daily: z.object({ at: hhmm, durationMs: z.number().int().positive() }).optional(),
  weekly: z.object({ days: z.array(z.enum(WEEKDAYS)).min(1).max(7), at: hhmm, durationMs: z.number().int().positive() }).optional(),
  createdBy: z.string().min(1).max(200),
  comment: z.string().max(1_000),
  createdAt: z.number().finite(),
});
interface Stored {
  w: Def;
  test: CompiledMatchers;
  bytes: number;
}

function minutesOf(at: string): number {
  return Number(at.slice(0, 2)) * 60 + Number(at.slice(3, 5));
}

/**
 * The opening `[start, end)` of `w` that contains `now`, if any; else the
 * next start (both on the clock's epoch ms, UTC calendar).
 */
export function windowAt(w: Pick<Def, 'once' | 'daily' | 'weekly'>, now: number): { activeUntil?: number; nextStartAt?: number } {
  if (w.once !== undefined) {
    if (now < w.once.startsAt) return { nextStartAt: w.once.startsAt };
    return now < w.once.endsAt ? { activeUntil: w.once.endsAt } : {};
  }
  const rec = w.daily ?? w.weekly;
  if (rec === undefined) return {};
  const days = w.weekly === undefined ? undefined : new Set(w.weekly.days.map((d) => WEEKDAYS.indexOf(d)));
  const offset = minutesOf(rec.at) * 60_000;
  const today = Math.floor(now / DAY_MS) * DAY_MS;
  const on = (dayStart: number) => days === undefined || days.has(new Date(dayStart).getUTCDay());
  // An opening that started up to durationMs ago (≤ 7 days back) may still hold; scan back, then forward.
  let activeUntil: number | undefined;
  for (let k = 0; k <= 7; k++) {
    const dayStart = today - k * DAY_MS;
    const start = dayStart + offset;
    if (start > now || !on(dayStart)) continue;
    if (now < start + rec.durationMs) activeUntil = Math.max(activeUntil ?? 0, start + rec.durationMs);
  }
  let nextStartAt: number | undefined;
  for (let k = 0; k <= 7; k++) {
    const dayStart = today + k * DAY_MS;
    const start = dayStart + offset;
    if (start <= now || !on(dayStart)) continue;
    nextStartAt = start;
    break;
  }
  const out: { activeUntil?: number; nextStartAt?: number } = {};
  if (activeUntil !== undefined) out.activeUntil = activeUntil;
  if (nextStartAt !== undefined) out.nextStartAt = nextStartAt;
  return out;
}

/**
 * The maintenance windows of a monitor (`monitor.maintenance`): one-off, or
 * recurring daily or weekly at a UTC time, on the monitor's clock.
 *
 * @example
 * ```ts
 * const w = monitor.maintenance.add({ name: 'Sunday deploys', weekly: { days: ['sun'], at: '22:00', durationMs: 2 * 3_600_000 }, createdBy: 'ops' });
 * monitor.maintenance.remove(w.id);
 * ```
 */
export class Maintenance {
  private readonly clock: Clock;
  private readonly windows = new Map<string, Stored>();
  private bytes = 0;
  private seq = 0;
  private readonly changed: () => void;
  /** @internal The monitor's change latch (the fleet shares maintenance windows). */
  shared: ChangeLatch | undefined;

  /** @internal Built by the monitor; use `monitor.maintenance`. */
  constructor(clock: Clock, onChange: () => void) {
    this.clock = clock;
    this.changed = onChange;
  }

  /**
   * Adds a window. Throws `ValidationError` naming the bad field, or `LimitError` past {@link MAINTENANCE_LIMITS}.
   *
   * @example
   * ```ts
   * monitor.maintenance.add({ name: 'db upgrade', once: { startsAt: Date.parse('2030-01-05T02:00:00Z'), endsAt: Date.parse('2030-01-05T04:00:00Z') }, createdBy: 'alice' });
   * ```
   */
  add(input: MaintenanceInput): MaintenanceWindow {
    const v = parseInput(maintenanceInputSchema, 'maintenance window', input);
    const now = this.clock.now();
    if (v.once !== undefined && v.once.endsAt <= now) throw new ValidationError('maintenance window', [{ path: 'once.endsAt', message: 'endsAt must be in the future' }]);
    const w: Def = { id: `mw_${now.toString(36)}_${(++this.seq).toString(36)}${randomBytes(3).toString('hex')}`, name: v.name, matchers: v.matchers, createdBy: v.createdBy, comment: v.comment, createdAt: now };
    if (v.once !== undefined) w.once = v.once;
    if (v.daily !== undefined) w.daily = v.daily;
    if (v.weekly !== undefined) w.weekly = { ...v.weekly, days: [...new Set(v.weekly.days)] };
    const bytes = JSON.stringify(w).length * 2;
    if (this.windows.size >= MAINTENANCE_LIMITS.maxWindows) throw new LimitError('maintenance windows', MAINTENANCE_LIMITS.maxWindows);
    if (this.bytes + bytes > MAINTENANCE_LIMITS.maxBytes) throw new LimitError('bytes of maintenance windows', MAINTENANCE_LIMITS.maxBytes);
    this.windows.set(w.id, { w, test: compileMatchers(w.matchers), bytes });
    this.bytes += bytes;
    this.changed();
    this.shared?.changed('maintenance', w.id);
    return this.view(w, now);
  }

  /**
   * Every window, with whether it is open now and when it next opens.
   *
   * @example
   * ```ts
   * monitor.maintenance.list().filter((w) => w.active);
   * ```
   */
  list(): MaintenanceWindow[] {
    const now = this.clock.now();
    return [...this.windows.values()].map((x) => this.view(x.w, now));
  }

  /**
   * Removes a window (incidents it held page at the next evaluation); throws `NotFoundError` for an unknown id.
   *
   * @example
   * ```ts
   * monitor.maintenance.remove(id);
   * ```
   */
  remove(id: string): MaintenanceWindow {
    const x = typeof id === 'string' ? this.windows.get(id) : undefined;
    if (x === undefined) throw new NotFoundError('maintenance window', String(id));
    this.windows.delete(id);
    this.bytes -= x.bytes;
    this.changed();
    this.shared?.changed('maintenance', id);
    return this.view(x.w, this.clock.now());
  }

  /**
   * @internal One window as the fleet shares it (`{ removed: true }` once removed). Its times
   * stay absolute: a window is a calendar time ("02:00 UTC"), the same instant on every replica.
   */
  exportShared(id: string): SharedState {
    const x = this.windows.get(id);
    return x === undefined ? { removed: true } : { window: x.w };
  }

  /** @internal Takes a window from the fleet (added or removed on another replica); throws on a malformed one or past the limits. */
  applyShared(id: string, state: SharedState): void {
    const existing = this.windows.get(id);
    if (state['removed'] === true) {
      if (existing === undefined) return;
      this.windows.delete(id);
      this.bytes -= existing.bytes;
      this.changed();
      return;
    }
    if (existing !== undefined) return;
    const v = parseInput(sharedWindowSchema, 'shared maintenance window', state['window']);
    const w: Def = { id, name: v.name, matchers: v.matchers, createdBy: v.createdBy, comment: v.comment, createdAt: v.createdAt };
    if (v.once !== undefined) w.once = v.once;
    if (v.daily !== undefined) w.daily = v.daily;
    if (v.weekly !== undefined) w.weekly = v.weekly;
    const bytes = JSON.stringify(w).length * 2;
    if (this.windows.size >= MAINTENANCE_LIMITS.maxWindows) throw new LimitError('maintenance windows', MAINTENANCE_LIMITS.maxWindows);
    if (this.bytes + bytes > MAINTENANCE_LIMITS.maxBytes) throw new LimitError('bytes of maintenance windows', MAINTENANCE_LIMITS.maxBytes);
    this.windows.set(id, { w, test: compileMatchers(w.matchers), bytes });
    this.bytes += bytes;
    this.changed();
  }

  /** @internal The open window that covers `incident` at `now`, if any. */
  matching(incident: Incident, now: number): Def | undefined {
    for (const x of this.windows.values()) {
      if (windowAt(x.w, now).activeUntil !== undefined && x.test(incident)) return x.w;
    }
    return undefined;
  }

  /** @internal */
  usage(): { windows: number; bytes: number } {
    return { windows: this.windows.size, bytes: this.bytes };
  }

  /** @internal One line for the timeline. */
  static describe(w: Def, now: number): string {
    const until = windowAt(w, now).activeUntil;
    return `in maintenance window ${w.id} "${w.name}" (${w.createdBy}; ${describeMatchers(w.matchers)}${until === undefined ? '' : `; until ${new Date(until).toISOString()}`})`;
  }

  private view(w: Def, now: number): MaintenanceWindow {
    const at = windowAt(w, now);
    const out: MaintenanceWindow = structuredClone({ ...w, active: at.activeUntil !== undefined });
    if (at.activeUntil !== undefined) out.activeUntil = at.activeUntil;
    if (at.nextStartAt !== undefined) out.nextStartAt = at.nextStartAt;
    return out;
  }
}

import type { Clock, TimerHandle } from '../clock.js';
import { errorMessage, guardedAbort } from '../safe-call.js';
import { NOTIFY_EVENTS, type IncidentEventName, type NotifierConfig, type NotifierFn } from './config.js';
import { notificationDedupKey, type Notification } from './notification.js';
import { renderAlert, renderResolved, renderUpdate, type RenderedMessage } from './templates.js';

/**
 * Delivery figures of one notifier, as `stats().incidents.notifiers` reports them.
 *
 * @example
 * ```ts
 * const { delivered, failed, dropped } = monitor.stats().incidents.notifiers[0]!;
 * ```
 */
export interface NotifierStats {
  name: string;
  kind: 'function' | 'webhook';
  /** Waiting to be sent (not counting one in flight or waiting to retry). */
  queued: number;
  inFlight: boolean;
  delivered: number;
  /** Gave up after all retries (or a non-retryable answer). */
  failed: number;
  /** Not sent: the queue was full, or `stop()` cancelled it. */
  dropped: number;
  /** Attempts after the first. */
  retries: number;
  /**
   * Notifications given up on after being queued: every attempt failed (or
   * the answer was not retryable), or `close()` ran out of time while they
   * waited. Each one also fired `notifier:dead-letter`.
   */
  deadLettered: number;
  lastError?: string;
  lastErrorAt?: number;
}

/** Default events: everything but the chatty `incident:updated`. */
const DEFAULT_EVENTS: readonly IncidentEventName[] = NOTIFY_EVENTS.filter((e) => e !== 'incident:updated');

class HttpStatusError extends Error {
  readonly status: number;
  /** What `Retry-After` asked for, in ms from now (uncapped), if it parsed. */
  readonly retryAfterMs: number | undefined;
  constructor(status: number, retryAfterMs: number | undefined) {
    super(`webhook answered HTTP ${status}`);
    this.status = status;
    this.retryAfterMs = retryAfterMs;
  }
}

/**
 * Parses a `Retry-After` header: delay-seconds or an HTTP date (RFC 9110
 * §10.2.3), as ms from `now`; undefined when absent or unparseable. A date
 * in the past is 0.
 */
export function parseRetryAfter(value: string | null | undefined, now: number): number | undefined {
  if (value === null || value === undefined) return undefined;
  const v = value.trim();
  if (/^\d+$/.test(v)) return Number(v) * 1000;
  // Every HTTP-date form starts with a day name; Date.parse alone would read '-5' as a year.
  if (v.length > 64 || !/^[A-Za-z]{3}/.test(v)) return undefined;
  const at = Date.parse(v);
  return Number.isFinite(at) ? Math.max(0, at - now) : undefined;
}

/**
 * One notification given up on, as `notifier:dead-letter` reports it.
 *
 * @example
 * ```ts
 * monitor.on('notifier:dead-letter', (d) => deadLetters.push(d));
 * ```
 */
export interface DeadLetter {
  /** The notifier's name (as in stats). */
  notifier: string;
  notification: Notification;
  /** `failed`: retries exhausted or not retryable; `closed`: `close()` ran out of time. */
  reason: 'failed' | 'closed';
  /** Attempts made. */
  attempts: number;
  /** The last error, if an attempt failed. */
  error?: string;
}

/** What a channel reports to its owner; both must not throw (they are called in try blocks anyway). */
export interface NotifierHooks {
  /** An attempt failed (it may be retried). */
  onError(notifier: string, err: unknown, attempt: number): void;
  onDeadLetter(dead: DeadLetter): void;
  /** In [0, 1): the jitter source (default `Math.random`). */
  random?: () => number;
}

const noHooks: NotifierHooks = { onError: () => {}, onDeadLetter: () => {} };

/** The message a notification renders to: alert when opened, resolution notice when resolved, else an update. */
export function messageFor(n: Notification): RenderedMessage {
  const opts = { service: n.service, now: n.at };
  if (n.event === 'incident:opened' || n.event === 'incident:reopened') return renderAlert(n.incident, opts);
  if (n.event === 'incident:resolved') return renderResolved(n.incident, opts);
  return renderUpdate(n.incident, opts);
}

interface Pending {
  n: Notification;
  attempt: number;
  lastError?: string;
}

/**
 * One notifier with its own bounded queue: notifications are delivered one
 * at a time, in order, off the caller's path (the first attempt starts in a
 * microtask), each attempt bounded by `timeoutMs` on the monitor's clock,
 * failures retried on the same clock after a full-jitter backoff (a random
 * wait in [0, min(maxBackoffMs, backoffMs × 2^attempt)], so that many
 * monitors failing together do not retry in step), or after what the
 * webhook's `Retry-After` asked for, capped at `maxBackoffMs`.
 */
class Channel {
  readonly name: string;
  readonly kind: 'function' | 'webhook';
  private readonly cfg: Exclude<NotifierConfig, NotifierFn>;
  private readonly send: (n: Notification, signal: AbortSignal) => Promise<void>;
  private readonly events: ReadonlySet<string>;
  private readonly clock: Clock;
  private queue: Pending[] = [];
  private busy = false;
  /** Resolves when the attempt in flight settles. */
  current: Promise<void> | undefined;
  private abortCurrent: (() => void) | undefined;
  private retryTimer: TimerHandle | undefined;
  /** The notification waiting in backoff, if any. */
  private retrying: Pending | undefined;
  private readonly counts = { delivered: 0, failed: 0, dropped: 0, retries: 0, deadLettered: 0 };
  private lastError: { message: string; at: number } | undefined;
  private readonly hooks: NotifierHooks;
  private readonly random: () => number;
  private idleWaiters: (() => void)[] = [];

  constructor(cfg: NotifierConfig, index: number, clock: Clock, hooks: NotifierHooks = noHooks) {
    this.clock = clock;
    this.hooks = hooks;
    this.random = hooks.random ?? Math.random;
    if (typeof cfg === 'function') {
      this.cfg = { notify: cfg, timeoutMs: 5_000, retries: 3, backoffMs: 1_000, maxBackoffMs: 30_000, queueSize: 100 };
    } else {
      this.cfg = cfg;
    }
    const c = this.cfg;
    this.events = new Set(c.events ?? DEFAULT_EVENTS);
    if ('webhook' in c) {
      this.kind = 'webhook';
      this.name = c.name ?? `webhook ${new URL(c.webhook).host}`;
      this.send = async (n, signal) => {
        const body = c.format === 'slack' ? messageFor(n).slack : { event: n.event, service: n.service, at: n.at, dedupKey: n.dedupKey, incidentId: n.incident.id, incident: n.incident, text: messageFor(n).text };
        const res = await fetch(c.webhook, {
          method: 'POST',
          headers: { 'content-type': 'application/json', ...c.headers },
          body: JSON.stringify(body),
          signal,
        });
        await res.arrayBuffer().catch(() => undefined); // release the connection
        if (!res.ok) throw new HttpStatusError(res.status, parseRetryAfter(res.headers.get('retry-after'), this.clock.now()));
      };
    } else {
      this.kind = 'function';
      this.name = c.name ?? `notifier-${index}`;
      const fn = c.notify;
      this.send = async (n, signal) => {
        await fn(n, signal);
      };
    }
  }

  enqueue(n: Notification): void {
    if (!this.events.has(n.event)) return;
    if (this.queue.length >= this.cfg.queueSize) {
      this.counts.dropped++;
      return;
    }
    this.queue.push({ n, attempt: 0 });
    this.pump();
  }

  /** Aborts the attempt in flight and drops everything queued or waiting to retry (counted as dropped). */
  stop(): void {
    if (this.retryTimer !== undefined) {
      this.clock.clearTimeout(this.retryTimer);
      this.retryTimer = undefined;
      this.retrying = undefined;
      this.counts.dropped++;
      this.busy = false;
    }
    this.counts.dropped += this.queue.length;
    this.queue = [];
    this.abortCurrent?.();
    this.wakeIdle();
  }

  /** True when nothing is queued, in flight or waiting to retry. */
  get idle(): boolean {
    return !this.busy && this.queue.length === 0;
  }

  /** Resolves once the channel is {@link idle} (retries in backoff included). Never rejects. */
  drained(): Promise<void> {
    if (this.idle) return Promise.resolve();
    return new Promise<void>((resolve) => this.idleWaiters.push(resolve));
  }

  /**
   * Gives up on everything still queued, in flight or waiting to retry:
   * each is dead-lettered (reason `closed`), counted and reported.
   */
  abandon(): void {
    const left: Pending[] = [];
    if (this.retryTimer !== undefined) {
      this.clock.clearTimeout(this.retryTimer);
      this.retryTimer = undefined;
      if (this.retrying !== undefined) left.push(this.retrying);
      this.retrying = undefined;
      this.busy = false;
    }
    const inFlight = this.inFlight;
    if (inFlight !== undefined) {
      left.push(inFlight);
      this.abortCurrent = undefined;
      this.abortInFlight?.();
    }
    left.push(...this.queue);
    this.queue = [];
    this.busy = false;
    for (const p of left) this.deadLetter(p, 'closed');
    this.wakeIdle();
  }

  stats(): NotifierStats {
    const s: NotifierStats = {
      name: this.name,
      kind: this.kind,
      queued: this.queue.length,
      inFlight: this.current !== undefined,
      ...this.counts,
    };
    if (this.lastError !== undefined) {
      s.lastError = this.lastError.message;
      s.lastErrorAt = this.lastError.at;
    }
    return s;
  }

  private pump(): void {
    if (this.busy) return;
    const next = this.queue.shift();
    if (next === undefined) {
      this.wakeIdle();
      return;
    }
    this.busy = true;
    this.attempt(next);
  }

  private wakeIdle(): void {
    if (!this.idle || this.idleWaiters.length === 0) return;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const w of waiters) w();
  }

  private inFlight: Pending | undefined;
  private abortInFlight: (() => void) | undefined;

  /** The wait before retry number `attempt + 1`: full jitter, or `Retry-After` (capped). */
  private backoff(err: unknown, attempt: number): number {
    const cap = this.cfg.maxBackoffMs;
    if (err instanceof HttpStatusError && err.retryAfterMs !== undefined) return Math.min(cap, err.retryAfterMs);
    const ceiling = Math.min(cap, this.cfg.backoffMs * 2 ** attempt);
    let r = 0;
    try {
      r = this.random();
    } catch {
      // An injected source that throws: no jitter rather than a stuck channel.
    }
    if (!(r >= 0 && r < 1)) r = 0;
    return Math.floor(r * (ceiling + 1));
  }

  private deadLetter(p: Pending, reason: DeadLetter['reason']): void {
    this.counts.deadLettered++;
    const dead: DeadLetter = { notifier: this.name, notification: p.n, reason, attempts: reason === 'failed' ? p.attempt + 1 : p.attempt };
    if (p.lastError !== undefined) dead.error = p.lastError;
    try {
      this.hooks.onDeadLetter(dead);
    } catch {
      // Reporting is best effort; the count above already holds it.
    }
  }

  private attempt(p: Pending): void {
    const handle = guardedAbort();
    let settle!: () => void;
    this.current = new Promise<void>((resolve) => (settle = resolve));
    this.inFlight = p;
    let done = false;
    const finish = (err: unknown, stopped = false): void => {
      if (done) return;
      done = true;
      this.clock.clearTimeout(timer);
      this.current = undefined;
      this.abortCurrent = undefined;
      this.abortInFlight = undefined;
      this.inFlight = undefined;
      if (err === undefined) {
        if (stopped) this.counts.dropped++;
        else this.counts.delivered++;
        this.next();
      } else if (stopped) {
        // abandon() dead-letters it itself.
      } else {
        // errorMessage never throws: a throw here would leave the channel busy forever.
        const message = errorMessage(err).slice(0, 500);
        this.lastError = { message, at: this.clock.now() };
        p.lastError = message;
        try {
          this.hooks.onError(this.name, err, p.attempt);
        } catch {
          // Reporting is best effort.
        }
        if (p.attempt < this.cfg.retries && retryable(err)) {
          this.retrying = p;
          this.retryTimer = this.clock.setTimeout(() => {
            this.retryTimer = undefined;
            this.retrying = undefined;
            this.counts.retries++;
            this.attempt({ n: p.n, attempt: p.attempt + 1, lastError: message });
          }, this.backoff(err, p.attempt));
        } else {
          this.counts.failed++;
          this.deadLetter(p, 'failed');
          this.next();
        }
      }
      settle();
    };
    const timer = this.clock.setTimeout(() => {
      finish(new Error(`timed out after ${this.cfg.timeoutMs} ms`));
      handle.abort(`notifier timed out after ${this.cfg.timeoutMs} ms`);
    }, this.cfg.timeoutMs);
    this.abortCurrent = () => {
      finish(undefined, true);
      handle.abort('notifier stopped');
    };
    this.abortInFlight = () => {
      finish(new Error('closed'), true);
      handle.abort('monitor closed');
    };
    // A microtask away from the caller: a slow or throwing notifier never runs inside evaluate().
    Promise.resolve()
      .then(() => (done ? undefined : this.send(p.n, handle.signal)))
      .then(
        () => finish(undefined),
        (err: unknown) => finish(err ?? new Error('notifier failed')),
      );
  }

  private next(): void {
    this.busy = false;
    this.pump();
  }
}

function retryable(err: unknown): boolean {
  // A 4xx other than 408/429 will not get better by asking again.
  if (err instanceof HttpStatusError) return err.status >= 500 || err.status === 408 || err.status === 429;
  return true;
}

/**
 * Every configured notifier. Receives incident events from the manager and
 * fans them out to the channels; nothing here ever throws into the caller.
 */
export class Notifiers {
  private readonly channels: Channel[];
  private readonly service: string;

  constructor(configs: readonly NotifierConfig[], clock: Clock, service: string, hooks?: NotifierHooks) {
    this.channels = configs.map((c, i) => new Channel(c, i, clock, hooks));
    this.service = service;
  }

  /** Number of notifiers. */
  get size(): number {
    return this.channels.length;
  }

  /** Queues `incident` for every notifier that wants `event`. */
  notify(event: IncidentEventName, incident: Notification['incident'], at: number): void {
    if (this.channels.length === 0) return;
    const n: Notification = { event, service: this.service, at, incident, dedupKey: notificationDedupKey(this.service, incident) };
    for (const c of this.channels) c.enqueue(n);
  }

  /** Resolves when no attempt is in flight (retries waiting on the clock are not awaited). Never rejects. */
  async settled(): Promise<void> {
    for (;;) {
      const inFlight = this.channels.map((c) => c.current).filter((p): p is Promise<void> => p !== undefined);
      if (inFlight.length === 0) return;
      await Promise.all(inFlight);
    }
  }

  /** Resolves when every channel is idle: queues empty, nothing in flight or waiting to retry. Never rejects. */
  async drained(): Promise<void> {
    await Promise.all(this.channels.map((c) => c.drained()));
  }

  /** Dead-letters (reason `closed`) everything still queued, in flight or waiting to retry. */
  abandon(): void {
    for (const c of this.channels) c.abandon();
  }

  /** Cancels retries and queued notifications and aborts attempts in flight (counted as dropped). */
  stop(): void {
    for (const c of this.channels) c.stop();
  }

  stats(): NotifierStats[] {
    return this.channels.map((c) => c.stats());
  }
}

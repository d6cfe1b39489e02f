import type { Clock, TimerHandle } from '../clock.js';
import { errorMessage } from '../safe-call.js';
import { NOTIFY_EVENTS, type IncidentEventName, type NotifierConfig, type NotifierFn } from './config.js';
import type { Notification } from './notification.js';
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
  lastError?: string;
  lastErrorAt?: number;
}

/** Default events: everything but the chatty `incident:updated`. */
const DEFAULT_EVENTS: readonly IncidentEventName[] = NOTIFY_EVENTS.filter((e) => e !== 'incident:updated');

class HttpStatusError extends Error {
  readonly status: number;
  constructor(status: number) {
    super(`webhook answered HTTP ${status}`);
    this.status = status;
  }
}

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
}

/**
 * One notifier with its own bounded queue: notifications are delivered one
 * at a time, in order, off the caller's path (the first attempt starts in a
 * microtask), each attempt bounded by `timeoutMs` on the monitor's clock,
 * failures retried with exponential backoff on the same clock.
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
  private readonly counts = { delivered: 0, failed: 0, dropped: 0, retries: 0 };
  private lastError: { message: string; at: number } | undefined;

  constructor(cfg: NotifierConfig, index: number, clock: Clock) {
    this.clock = clock;
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
        const body = c.format === 'slack' ? messageFor(n).slack : { event: n.event, service: n.service, at: n.at, incident: n.incident, text: messageFor(n).text };
        const res = await fetch(c.webhook, {
          method: 'POST',
          headers: { 'content-type': 'application/json', ...c.headers },
          body: JSON.stringify(body),
          signal,
        });
        await res.arrayBuffer().catch(() => undefined); // release the connection
        if (!res.ok) throw new HttpStatusError(res.status);
      };
    } else {
      this.kind = 'function';
      this.name = c.name ?? `notifier-${index}`;
      const fn = c.notify;
      this.send = async (n) => {
        await fn(n);
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
      this.counts.dropped++;
      this.busy = false;
    }
    this.counts.dropped += this.queue.length;
    this.queue = [];
    this.abortCurrent?.();
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
    if (next === undefined) return;
    this.busy = true;
    this.attempt(next);
  }

  private attempt(p: Pending): void {
    const controller = new AbortController();
    let settle!: () => void;
    this.current = new Promise<void>((resolve) => (settle = resolve));
    let done = false;
    const finish = (err: unknown, stopped = false): void => {
      if (done) return;
      done = true;
      this.clock.clearTimeout(timer);
      this.current = undefined;
      this.abortCurrent = undefined;
      if (err === undefined) {
        this.counts.delivered++;
        this.next();
      } else if (stopped) {
        this.counts.dropped++;
        this.next();
      } else {
        // errorMessage never throws: a throw here would leave the channel busy forever.
        this.lastError = { message: errorMessage(err).slice(0, 500), at: this.clock.now() };
        if (p.attempt < this.cfg.retries && retryable(err)) {
          const wait = Math.min(this.cfg.maxBackoffMs, this.cfg.backoffMs * 2 ** p.attempt);
          this.retryTimer = this.clock.setTimeout(() => {
            this.retryTimer = undefined;
            this.counts.retries++;
            this.attempt({ n: p.n, attempt: p.attempt + 1 });
          }, wait);
        } else {
          this.counts.failed++;
          this.next();
        }
      }
      settle();
    };
    const timer = this.clock.setTimeout(() => {
      finish(new Error(`timed out after ${this.cfg.timeoutMs} ms`));
      controller.abort();
    }, this.cfg.timeoutMs);
    this.abortCurrent = () => {
      finish(undefined, true);
      controller.abort();
    };
    // A microtask away from the caller: a slow or throwing notifier never runs inside evaluate().
    Promise.resolve()
      .then(() => (done ? undefined : this.send(p.n, controller.signal)))
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

  constructor(configs: readonly NotifierConfig[], clock: Clock, service: string) {
    this.channels = configs.map((c, i) => new Channel(c, i, clock));
    this.service = service;
  }

  /** Number of notifiers. */
  get size(): number {
    return this.channels.length;
  }

  /** Queues `incident` for every notifier that wants `event`. */
  notify(event: IncidentEventName, incident: Notification['incident'], at: number): void {
    if (this.channels.length === 0) return;
    const n: Notification = { event, service: this.service, at, incident };
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

  /** Cancels retries and queued notifications and aborts attempts in flight (counted as dropped). */
  stop(): void {
    for (const c of this.channels) c.stop();
  }

  stats(): NotifierStats[] {
    return this.channels.map((c) => c.stats());
  }
}

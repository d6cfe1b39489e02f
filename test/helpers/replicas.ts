import { fork, type ChildProcess } from 'node:child_process';
import { resolve } from 'node:path';

const SCRIPT = resolve(import.meta.dirname, '../fleet/replica.mjs');

/** One replica process started by {@link startReplica}. */
export interface Replica {
  readonly name: string;
  /** Its HTTP port on 127.0.0.1. */
  readonly port: number;
  readonly url: string;
  readonly process: ChildProcess;
  /** Resolves when `fleet.ready` resolved in the child. */
  readonly ready: Promise<void>;
  /** Runs `expr` (a JS expression over `ctx` = { monitor, fleet, redis, … }) in the child; resolves its JSON value. */
  eval<T = unknown>(expr: string): Promise<T>;
  /** Graceful stop (closes fleet and monitor). */
  stop(): Promise<void>;
  /** SIGKILL, as a crash would. */
  kill(): Promise<void>;
}

/** Options of {@link startReplica}; everything but `setup` reaches the setup module as `cfg`. */
export interface ReplicaOptions {
  /** Path of an ESM module whose default export builds the service (see test/fleet/replica.mjs). */
  setup: string;
  replica: string;
  redisUrl: string;
  [extra: string]: unknown;
}

let nextId = 0;

/**
 * Forks test/fleet/replica.mjs (which needs `npm run build`: it loads dist/)
 * and resolves once its server listens.
 */
export function startReplica(options: ReplicaOptions): Promise<Replica> {
  const child = fork(SCRIPT, [], {
    env: { ...process.env, FIREBREAK_REPLICA: JSON.stringify(options) },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  let readyResolve: () => void = () => {};
  const ready = new Promise<void>((r) => {
    readyResolve = r;
  });
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  return new Promise((resolveStart, rejectStart) => {
    const timer = setTimeout(() => rejectStart(new Error(`replica ${options.replica} did not listen within 15 s`)), 15_000);
    child.once('exit', (code) => {
      clearTimeout(timer);
      rejectStart(new Error(`replica ${options.replica} exited with ${code} before listening`));
      for (const p of pending.values()) p.reject(new Error(`replica ${options.replica} exited`));
    });
    child.on('message', (raw) => {
      const msg = raw as { type: string; port?: number; id?: number; value?: unknown; error?: string };
      if (msg.type === 'listening' && msg.port !== undefined) {
        clearTimeout(timer);
        const port = msg.port;
        resolveStart({
          name: options.replica,
          port,
          url: `http://127.0.0.1:${port}`,
          process: child,
          ready,
          eval: <T,>(expr: string) =>
            new Promise<T>((res, rej) => {
              const id = ++nextId;
              pending.set(id, { resolve: res as (v: unknown) => void, reject: rej });
              child.send({ type: 'eval', id, expr });
            }),
          stop: async () => {
            if (child.exitCode === null && child.signalCode === null) {
              child.send({ type: 'stop' });
              const t = setTimeout(() => child.kill('SIGKILL'), 5_000);
              await exited;
              clearTimeout(t);
            }
          },
          kill: async () => {
            if (child.exitCode === null && child.signalCode === null) {
              child.kill('SIGKILL');
              await exited;
            }
          },
        });
      } else if (msg.type === 'ready') {
        readyResolve();
      } else if (msg.type === 'eval-result' && msg.id !== undefined) {
        const p = pending.get(msg.id);
        pending.delete(msg.id);
        if (msg.error !== undefined) p?.reject(new Error(msg.error));
        else p?.resolve(msg.value);
      }
    });
  });
}

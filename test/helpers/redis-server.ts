import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import { delimiter, join } from 'node:path';
import type { TestContext } from 'vitest';

/**
 * Where redis-server is: `$REDIS_SERVER` when set (and only there), else the
 * first `redis-server` on `$PATH`, else /usr/bin/redis-server.
 */
export function findRedisServer(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const explicit = env['REDIS_SERVER'];
  const candidates =
    explicit !== undefined && explicit !== ''
      ? [explicit]
      : [...(env['PATH'] ?? '').split(delimiter).filter(Boolean).map((dir) => join(dir, 'redis-server')), '/usr/bin/redis-server'];
  return candidates.find((p) => existsSync(p) && statSync(p).isFile());
}

/**
 * The redis-server binary, or: under CI (`$CI` set) a failure, since CI must
 * run the fleet tests; elsewhere the test is skipped with how to install it.
 */
export function requireRedisServer(ctx: TestContext | undefined, env: NodeJS.ProcessEnv = process.env): string {
  const found = findRedisServer(env);
  if (found !== undefined) return found;
  if (env['CI']) throw new Error('redis-server is required in CI (Debian package `redis-server`, or set REDIS_SERVER) but was not found on PATH');
  const why = 'redis-server not installed: apt-get install redis-server (required when CI is set)';
  if (ctx !== undefined) ctx.skip(why);
  throw new Error(why);
}

/** True when a redis-server binary exists (use with `describe.skipIf(!hasRedis && !process.env.CI)`). */
export const hasRedisServer = findRedisServer() !== undefined;

/** A free TCP port on 127.0.0.1 (bound, read, released). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr !== null ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

/** A redis-server the test owns: loopback only, no persistence, stopped in afterAll/afterEach. */
export interface TestRedis {
  readonly port: number;
  /** `redis://127.0.0.1:<port>` */
  readonly url: string;
  /** Stops the server (SIGTERM, then SIGKILL after 2 s); resolves when it exited. */
  stop(): Promise<void>;
  /** Kills the server at once (SIGKILL), as a crash would. */
  kill(): Promise<void>;
  /** Starts it again on the same port (empty, since persistence is off). */
  restart(): Promise<void>;
  /** True while the process runs. */
  readonly running: boolean;
}

/**
 * Starts a redis-server on a free loopback port with persistence off.
 * Skips the test (or fails under CI) when redis-server is not installed.
 *
 * @example
 * ```ts
 * let redis: TestRedis;
 * beforeAll(async () => { if (hasRedisServer || process.env['CI']) redis = await startRedis(); });
 * afterAll(() => redis?.stop());
 * describe.skipIf(!hasRedisServer && !process.env['CI'])('…', () => { … });
 * ```
 */
export async function startRedis(ctx?: TestContext, options: { port?: number } = {}): Promise<TestRedis> {
  const bin = requireRedisServer(ctx);
  const port = options.port ?? (await freePort());
  let child: ChildProcess | undefined;

  const launch = async (): Promise<void> => {
    const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--protected-mode', 'yes', '--loglevel', 'warning', '--daemonize', 'no'];
    const proc = spawn(bin, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    child = proc;
    let stderr = '';
    proc.stderr?.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    const deadline = Date.now() + 10_000;
    for (;;) {
      if (proc.exitCode !== null) throw new Error(`redis-server exited with ${proc.exitCode}: ${stderr}`);
      if (await ping(port)) return;
      if (Date.now() > deadline) throw new Error(`redis-server did not answer PING on ${port} within 10 s: ${stderr}`);
      await new Promise((r) => setTimeout(r, 25));
    }
  };

  const exit = (signal: NodeJS.Signals): Promise<void> => {
    const proc = child;
    child = undefined;
    if (proc === undefined || proc.exitCode !== null || proc.signalCode !== null) return Promise.resolve();
    return new Promise((resolve) => {
      const t = setTimeout(() => proc.kill('SIGKILL'), 2_000);
      proc.once('exit', () => {
        clearTimeout(t);
        resolve();
      });
      proc.kill(signal);
    });
  };

  await launch();
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    stop: () => exit('SIGTERM'),
    kill: () => exit('SIGKILL'),
    restart: async () => {
      await exit('SIGTERM');
      await launch();
    },
    get running() {
      return child !== undefined && child.exitCode === null && child.signalCode === null;
    },
  };
}

function ping(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = connect(port, '127.0.0.1');
    let buf = '';
    const done = (ok: boolean): void => {
      sock.destroy();
      resolve(ok);
    };
    sock.setTimeout(500, () => done(false));
    sock.once('error', () => done(false));
    sock.on('data', (d) => {
      buf += d.toString();
      if (buf.includes('\r\n')) done(buf.startsWith('+PONG'));
    });
    sock.once('connect', () => sock.write('PING\r\n'));
  });
}

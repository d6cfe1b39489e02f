import type { IncomingMessage, ServerResponse } from 'node:http';
import { z } from 'zod';
import { parseConfig } from '../config.js';
import type { Monitor } from '../monitor.js';
import { mapError } from '../http/errors.js';
import { writeReply } from '../http/node-reply.js';
import { httpOptionsSchema } from '../http/options.js';
import { HttpSurface, type HttpReply } from '../http/surface.js';

const prefixSchema = z
  .string()
  .regex(/^(\/[^/?#\s]+)*\/?$/, 'prefix must be a path like /ops (no query, no spaces)')
  .default('');

/**
 * Options of {@link createHandler}: the route options plus where they are mounted.
 *
 * @example
 * ```ts
 * nodeHandlerOptionsSchema.parse({ auth: { tokens: [token] }, prefix: '/ops' });
 * ```
 */
export const nodeHandlerOptionsSchema = httpOptionsSchema.extend({
  /** Path the routes live under, e.g. `/ops` serves `/ops/stats/slo`. Default: the root. */
  prefix: prefixSchema,
  /**
   * Reverse proxies in front of the server whose `X-Forwarded-For` is to be
   * believed (as Express's `trust proxy` hop count). `0` (default): the
   * socket's address; `X-Forwarded-For` is ignored, since any client can send it.
   */
  trustProxy: z.number().int().min(0).max(16).default(0),
});

/**
 * Options of {@link createHandler}.
 *
 * @example
 * ```ts
 * const opts: NodeHandlerOptions = { auth: { tokens: [process.env.ADMIN_TOKEN!] }, prefix: '/ops' };
 * ```
 */
export type NodeHandlerOptions = z.input<typeof nodeHandlerOptionsSchema>;

/**
 * A `node:http` request listener that can defer to the host with `next()`.
 *
 * @example
 * ```ts
 * const handler: FirebreakNodeHandler = createHandler(monitor, opts);
 * createServer((req, res) => handler(req, res, () => app(req, res)));
 * ```
 */
export type FirebreakNodeHandler = (req: IncomingMessage, res: ServerResponse, next?: (err?: unknown) => void) => void;

/**
 * The client address, trusting the last `hops` entries of X-Forwarded-For
 * (each added by a proxy we trust) and nothing further left.
 */
function clientAddress(req: IncomingMessage, hops: number): string | undefined {
  const socketAddress = req.socket.remoteAddress;
  if (hops === 0) return socketAddress;
  const header = req.headers['x-forwarded-for'];
  const raw = Array.isArray(header) ? header.join(',') : header;
  if (raw === undefined) return socketAddress;
  const chain = raw
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  // Nearest first: the socket peer, then what each trusted proxy saw.
  const idx = Math.min(hops, chain.length);
  return idx === 0 ? socketAddress : chain[chain.length - idx];
}

/** Strips the mount prefix; undefined when the path is not under it. */
function relativePath(path: string, prefix: string): string | undefined {
  if (prefix === '') return path;
  if (path === prefix) return '/';
  return path.startsWith(`${prefix}/`) ? path.slice(prefix.length) : undefined;
}

/**
 * A plain `node:http` handler serving the admin, stats, health and metrics
 * routes. Requests it has no route for go to `next()` when given, else get a
 * JSON 404. Throws a `ConfigError` at creation when options are invalid or
 * `auth` is missing.
 *
 * @example
 * ```ts
 * import { createServer } from 'node:http';
 * import { createHandler } from 'firebreak/http';
 * const firebreak = createHandler(monitor, { auth: { tokens: [process.env.ADMIN_TOKEN!] } });
 * createServer((req, res) => firebreak(req, res, () => app(req, res))).listen(8080);
 * ```
 */
export function createHandler(monitor: Monitor, options: NodeHandlerOptions): FirebreakNodeHandler {
  const { prefix: rawPrefix, trustProxy, ...httpOptions } = parseConfig(nodeHandlerOptionsSchema, 'firebreak HTTP options', options);
  const prefix = rawPrefix.endsWith('/') ? rawPrefix.slice(0, -1) : rawPrefix;
  const surface = new HttpSurface(monitor, httpOptions);

  return (req, res, next) => {
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const fullPath = q === -1 ? url : url.slice(0, q);
    const path = relativePath(fullPath, prefix);
    const method = req.method ?? 'GET';
    const headOnly = method === 'HEAD';
    let match: ReturnType<HttpSurface['match']>;
    try {
      match = path === undefined ? undefined : surface.match(method, path);
    } catch (err) {
      const mapped = mapError(err);
      const reply: HttpReply = {
        status: mapped.status,
        headers: { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' },
        body: JSON.stringify(mapped.body),
      };
      writeReply(res, reply, headOnly);
      return;
    }
    if (match === undefined) {
      if (next !== undefined) next();
      else writeReply(res, surface.notFound(method, fullPath), headOnly);
      return;
    }
    void surface
      .handle(match.route, {
        method,
        path: fullPath,
        params: match.params,
        search: q === -1 ? '' : url.slice(q),
        headers: req.headers,
        body: { kind: 'stream', stream: req },
        ip: clientAddress(req, trustProxy),
        raw: req,
      })
      .then((reply) => writeReply(res, reply, headOnly))
      // Only writing can fail here (a header the host's proxy mangled…); never crash the host.
      .catch(() => res.destroy());
  };
}

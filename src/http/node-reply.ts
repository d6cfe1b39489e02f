import type { ServerResponse } from 'node:http';
import type { HttpReply } from './surface.js';

/**
 * Writes an {@link HttpReply} to a Node `ServerResponse` (Express responses
 * are ones too). Does nothing if the response already started or the client
 * went away.
 *
 * @example
 * ```ts
 * writeReply(res, await surface.handle(route, input), req.method === 'HEAD');
 * ```
 */
export function writeReply(res: ServerResponse, reply: HttpReply, headOnly = false): void {
  if (res.headersSent || res.destroyed) return;
  res.statusCode = reply.status;
  for (const name in reply.headers) res.setHeader(name, reply.headers[name]!);
  res.setHeader('content-length', Buffer.byteLength(reply.body));
  res.end(headOnly ? undefined : reply.body);
}

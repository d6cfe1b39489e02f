/**
 * `firebreak/http`: the framework-agnostic HTTP surface and the plain
 * `node:http` handler. Everything an adapter for another framework needs is
 * here: build an {@link HttpSurface}, translate a request into an
 * {@link HttpInput}, write back the {@link HttpReply}.
 *
 * @example
 * ```ts
 * import { createServer } from 'node:http';
 * import { createHandler } from 'firebreak/http';
 * createServer(createHandler(monitor, { auth: { tokens: [process.env.ADMIN_TOKEN!] } })).listen(8080);
 * ```
 *
 * @packageDocumentation
 */
export * from '../http/index.js';
export { createHandler, nodeHandlerOptionsSchema } from './node-http.js';
export type { NodeHandlerOptions, FirebreakNodeHandler } from './node-http.js';

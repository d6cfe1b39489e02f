// One replica of a service, as a child process: a real HTTP server on a
// loopback port with firebreak's admin routes and the fleet attached.
// Spawned by test/helpers/replicas.ts; the service itself is a setup module
// (FIREBREAK_REPLICA.setup) so each test shapes its own controls.
import { createServer } from 'node:http';
import { pathToFileURL } from 'node:url';
import { resolve } from 'node:path';

const dist = resolve(import.meta.dirname, '../../dist');
const cfg = JSON.parse(process.env.FIREBREAK_REPLICA ?? '{}');
const firebreak = await import(pathToFileURL(`${dist}/index.js`).href);
const { redisFleet } = await import(pathToFileURL(`${dist}/redis.js`).href);
const http = await import(pathToFileURL(`${dist}/http.js`).href);
const { Redis } = await import('ioredis');
const setup = (await import(pathToFileURL(resolve(cfg.setup)).href)).default;

const redis = new Redis(cfg.redisUrl, { maxRetriesPerRequest: 1, retryStrategy: (n) => Math.min(50 * n, 500) });
redis.on('error', () => {});
// setup({ ...}) returns { monitor, fleet?, handle?(req, res): boolean } — handle serves the service's own routes.
const built = await setup({ cfg, firebreak, redisFleet, http, redis });
const { monitor } = built;
const admin = http.createHandler(monitor, { auth: 'none', ...(cfg.http ?? {}) });
const server = createServer((req, res) => {
  if (built.handle?.(req, res)) return;
  admin(req, res);
});
server.listen(0, '127.0.0.1', () => {
  process.send?.({ type: 'listening', port: server.address().port, replica: cfg.replica });
});
if (built.fleet) {
  built.fleet.ready.then(() => process.send?.({ type: 'ready', replica: cfg.replica }));
}
process.on('message', async (msg) => {
  if (msg?.type === 'eval') {
    // Test-only hook: run an expression against the replica's objects.
    try {
      const value = await new Function('ctx', `return (async () => (${msg.expr}))()`)({ ...built, redis });
      process.send?.({ type: 'eval-result', id: msg.id, value: JSON.parse(JSON.stringify(value ?? null)) });
    } catch (err) {
      process.send?.({ type: 'eval-result', id: msg.id, error: String(err?.stack ?? err) });
    }
  } else if (msg?.type === 'stop') {
    server.close();
    await built.fleet?.close();
    await monitor.close();
    redis.disconnect();
    process.exit(0);
  }
});

// One hello-world server for the HTTP bench (bench/http.bench.mjs), in its own
// process so autocannon and the server do not share an event loop.
//   node bench/http-server.mjs <express|fastify>-<plain|floor|firebreak|competitor>
// "floor" is the least any recording can add: an empty middleware (Express) or an
// empty onResponse hook (Fastify), the framework's own cost of calling one.
// "before" loads the adapter from FIREBREAK_BENCH_BEFORE (a directory holding an
// express.js / fastify.js built from an earlier commit), for an A/B of a change.
// Prints "READY <port>" once listening on 127.0.0.1; answers an IPC "cpu"
// message with its process.cpuUsage() (µs), so the bench can report CPU time
// per request, which machine load distorts less than requests per second.
import { createMonitor } from '../dist/index.js';

process.on('message', (msg) => {
  if (msg === 'cpu') {
    const { user, system } = process.cpuUsage();
    process.send({ cpuMicros: user + system });
  }
});

const variant = process.argv[2] ?? '';
const [framework, kind] = variant.split('-');

async function expressApp() {
  const { default: express } = await import('express');
  const app = express();
  if (kind === 'firebreak' || kind === 'before') {
    const from = kind === 'before' ? `${process.env.FIREBREAK_BENCH_BEFORE}/express.js` : '../dist/express.js';
    const { firebreakMiddleware } = await import(from);
    app.use(firebreakMiddleware(createMonitor({ service: 'bench' }).start()));
  } else if (kind === 'floor') {
    app.use((req, res, next) => next());
  } else if (kind === 'competitor') {
    const { default: promBundle } = await import('express-prom-bundle');
    app.use(promBundle({ includeMethod: true, includePath: true }));
  }
  app.get('/hello/:name', (req, res) => {
    res.json({ hello: req.params.name });
  });
  const server = app.listen(0, '127.0.0.1', () => console.log(`READY ${server.address().port}`));
}

async function fastifyApp() {
  const { default: Fastify } = await import('fastify');
  const app = Fastify();
  if (kind === 'firebreak' || kind === 'before') {
    const from = kind === 'before' ? `${process.env.FIREBREAK_BENCH_BEFORE}/fastify.js` : '../dist/fastify.js';
    const { default: firebreak } = await import(from);
    await app.register(firebreak, { monitor: createMonitor({ service: 'bench' }).start(), routes: false });
  } else if (kind === 'floor') {
    app.addHook('onResponse', (request, reply, done) => done());
  } else if (kind === 'competitor') {
    const client = await import('prom-client');
    const registry = new client.Registry();
    const histogram = new client.Histogram({
      name: 'http_request_duration_seconds',
      help: 'Request duration',
      labelNames: ['method', 'route', 'status_code'],
      registers: [registry],
    });
    app.addHook('onResponse', (request, reply, done) => {
      histogram.observe(
        { method: request.method, route: request.routeOptions.url ?? 'not-found', status_code: reply.statusCode },
        reply.elapsedTime / 1000,
      );
      done();
    });
  }
  app.get('/hello/:name', async (request) => ({ hello: request.params.name }));
  await app.listen({ port: 0, host: '127.0.0.1' });
  console.log(`READY ${app.server.address().port}`);
}

if (framework === 'express') await expressApp();
else if (framework === 'fastify') await fastifyApp();
else {
  console.error(`unknown variant ${variant}`);
  process.exit(2);
}

// Fastify plugin cost in-process: CPU per request of `app.inject()` (no sockets, no
// load generator), plain vs the framework floor (an empty onResponse hook) vs
// firebreak (vs the plugin built from an earlier commit, FIREBREAK_BENCH_BEFORE=dir).
// On a machine too loaded for the autocannon section to resolve a few percent,
// this one still does: the variants run in interleaved batches in one thread,
// and ratios are medians of per-round ratios. inject() builds a mock socket per
// request, so the plugin's once-per-connection `close` listener is paid on every
// request here: an upper bound for keep-alive traffic. The `-noabort` variants
// (recordAborted: false) isolate the recording hook itself.
import Fastify from 'fastify';
import { createMonitor } from '../dist/index.js';
import { table } from './lib.mjs';

export const title = 'Fastify plugin, in-process CPU per request (inject), plain vs floor vs firebreak';
export const order = 61;

const ROUNDS = Number(process.env.FIREBREAK_BENCH_ADAPTER_ROUNDS ?? 15);
const BATCH = 2_000;

async function build(kind) {
  const app = Fastify();
  if (kind === 'floor') app.addHook('onResponse', (request, reply, done) => done());
  if (kind.startsWith('firebreak') || kind.startsWith('before')) {
    const from = kind.startsWith('before') ? `${process.env.FIREBREAK_BENCH_BEFORE}/fastify.js` : '../dist/fastify.js';
    const { default: plugin } = await import(from);
    await app.register(plugin, { monitor: createMonitor({ service: 'bench' }).start(), routes: false, recordAborted: !kind.endsWith('-noabort') });
  }
  app.get('/hello/:name', async (request) => ({ hello: request.params.name }));
  await app.ready();
  return app;
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

async function batch(app) {
  const t0 = process.cpuUsage();
  for (let i = 0; i < BATCH; i++) {
    const res = await app.inject({ method: 'GET', url: '/hello/world' });
    if (res.statusCode !== 200) throw new Error(`status ${res.statusCode}`);
  }
  const d = process.cpuUsage(t0);
  return (d.user + d.system) / BATCH;
}

export default async function adapters(ctx) {
  const before = process.env.FIREBREAK_BENCH_BEFORE ? ['before', 'before-noabort'] : [];
  const kinds = ['plain', 'floor', ...before, 'firebreak', 'firebreak-noabort'];
  const apps = {};
  for (const k of kinds) apps[k] = await build(k);
  for (const k of kinds) await batch(apps[k]); // warm-up
  const cpu = Object.fromEntries(kinds.map((k) => [k, []]));
  for (let r = 0; r < ROUNDS; r++) {
    for (let i = 0; i < kinds.length; i++) {
      const k = kinds[(i + r) % kinds.length];
      cpu[k].push(await batch(apps[k]));
    }
  }
  const paired = (k, base) => median(cpu[k].map((v, i) => v / cpu[base][i]));
  const pct = (v) => `${(v * 100).toFixed(1)} %`;
  const header = ['variant', 'CPU µs/request (median)', 'vs plain (paired)', 'vs floor (paired)'];
  const rows = kinds.map((k) => [k, median(cpu[k]).toFixed(2), pct(paired(k, 'plain')), pct(paired(k, 'floor'))]);
  ctx.log(`${ROUNDS} interleaved rounds of ${BATCH} injects per variant`);
  if (ctx.table) ctx.table('fastify inject CPU per request', header, rows);
  else ctx.log(table(header, rows));
  ctx.target('fastify (inject): firebreak extra CPU per request vs plain (paired)', { value: paired('firebreak', 'plain') - 1, limit: 0.05, format: pct });
  ctx.target('fastify (inject): firebreak, recordAborted: false, extra CPU per request vs plain (paired)', { value: paired('firebreak-noabort', 'plain') - 1, limit: 0.05, format: pct });
  for (const app of Object.values(apps)) await app.close();
}

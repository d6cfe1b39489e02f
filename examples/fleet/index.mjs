#!/usr/bin/env node
/**
 * firebreak fleet example: three replicas of one search service behind a
 * round-robin proxy, joined on a local redis-server. The story:
 *
 *   1. traffic flows through the proxy to all three replicas;
 *   2. replica b's reranker breaks: b's success rate falls, ONE incident opens
 *      for the fleet (the same id on every replica) and ONE page goes out;
 *   3. the operator pulls the `rerank` kill switch ONCE, through the proxy
 *      (whichever replica answers): all three stop reranking;
 *   4. b recovers and the incident resolves, still with one page.
 *
 *   npm run build && node examples/fleet/index.mjs    # needs redis-server on PATH (or REDIS_URL)
 */
import { fork, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createServer, request } from 'node:http';
import { connect } from 'node:net';

const token = randomBytes(16).toString('hex');
const t0 = Date.now();
const say = (msg) => console.log(`[${((Date.now() - t0) / 1000).toFixed(1).padStart(5)} s] ${msg}`);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const children = [];
const listen = (srv) => new Promise((r) => srv.listen(0, '127.0.0.1', () => r(srv.address().port)));

async function until(what, fn, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

function ping(port) {
  return new Promise((resolve) => {
    const sock = connect(port, '127.0.0.1');
    sock.once('error', () => resolve(false));
    sock.once('connect', () => sock.write('PING\r\n'));
    sock.once('data', (d) => {
      sock.destroy();
      resolve(String(d).startsWith('+PONG'));
    });
  });
}

// ── Redis: REDIS_URL, or a redis-server of our own on a free loopback port, persistence off ──
let redisUrl = process.env.REDIS_URL;
if (!redisUrl) {
  const probe = createServer();
  const port = await listen(probe);
  await new Promise((r) => probe.close(r)); // free it for redis-server
  const redis = spawn(process.env.REDIS_SERVER ?? 'redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
  redis.on('error', (err) => {
    console.error(`cannot start redis-server (${err.message}): install it (apt-get install redis-server) or set REDIS_URL`);
    process.exit(1);
  });
  children.push(redis);
  redisUrl = `redis://127.0.0.1:${port}`;
  await until('redis-server', () => ping(port), 10_000);
}

// ── The pager: a webhook receiver counting pages ──
const pages = [];
const pager = createServer((req, res) => {
  let body = '';
  req.on('data', (c) => (body += c));
  req.on('end', () => {
    res.end('ok');
    try {
      const n = JSON.parse(body);
      pages.push(n);
      say(`📟 page: ${n.event} ${n.incident?.id ?? n.incidentId ?? ''} (dedup key ${n.dedupKey ?? '-'})`);
    } catch {
      /* not JSON: not a page */
    }
  });
});
const pagerPort = await listen(pager);

// ── Three replicas ──
const replicas = await Promise.all(
  ['a', 'b', 'c'].map(
    (name) =>
      new Promise((resolve, reject) => {
        const child = fork(new URL('./replica.mjs', import.meta.url), [], {
          env: { ...process.env, REPLICA: `search-${name}`, REDIS_URL: redisUrl, PAGER_URL: `http://127.0.0.1:${pagerPort}/`, FIREBREAK_TOKEN: token },
          stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
        });
        children.push(child);
        child.once('exit', (code) => reject(new Error(`replica ${name} exited with ${code}`)));
        child.on('message', (m) => m?.ready && resolve({ name: `search-${name}`, port: m.port, child }));
      }),
  ),
);
say(`3 replicas ready (fleet state loaded from ${redisUrl}): ${replicas.map((r) => `${r.name}:${r.port}`).join(', ')}`);

// ── A round-robin proxy, as a load balancer would be ──
let next = 0;
const proxy = createServer((req, res) => {
  const target = replicas[next++ % replicas.length];
  const up = request({ host: '127.0.0.1', port: target.port, path: req.url, method: req.method, headers: req.headers }, (r) => {
    res.writeHead(r.statusCode ?? 502, r.headers);
    r.pipe(res);
  });
  up.on('error', () => res.writeHead(502).end());
  req.pipe(up);
});
const proxyPort = Number(process.env.PORT ?? 0) || (await listen(proxy));
if (!proxy.listening) await new Promise((r) => proxy.listen(proxyPort, '127.0.0.1', r));
const base = `http://127.0.0.1:${proxy.address().port}`;
say(`proxy on ${base}`);

// ── Traffic: 30 searches a second through the proxy ──
const traffic = setInterval(() => void fetch(`${base}/search?q=tent`).then((r) => r.arrayBuffer()).catch(() => undefined), 33);
const auth = { authorization: `Bearer ${token}` };
const incidentsOn = async (r) => {
  const body = await (await fetch(`http://127.0.0.1:${r.port}/admin/incidents?status=active`, { headers: auth })).json();
  return Array.isArray(body) ? body : (body.incidents ?? []);
};

await sleep(3_000);
say('all healthy; now replica search-b gets a broken reranker (its /search answers 500 while reranking)');
replicas[1].child.send({ fault: true });

const opened = await until('an incident', async () => (await incidentsOn(replicas[1]))[0]);
say(`⚠ incident ${opened.id} opened: ${opened.summary}`);
const ids = await until('the incident on every replica', async () => {
  const lists = await Promise.all(replicas.map(incidentsOn));
  return lists.every((l) => l.some((i) => i.id === opened.id)) ? lists.map((l) => l.map((i) => i.id).join(',')) : undefined;
});
replicas.forEach((r, i) => say(`   GET /admin/incidents on ${r.name}: ${ids[i]}`));
await until('the page', async () => pages.length >= 1);

say('operator: POST /admin/features/rerank/disable, once, through the proxy');
const pulled = await fetch(`${base}/admin/features/rerank/disable`, { method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: JSON.stringify({ reason: 'reranker failing on search-b' }) });
const answer = await pulled.json();
say(`   answered by ${answer.replica ?? answer.execution?.replica ?? 'a replica'}: ${pulled.status} ${answer.outcome ?? answer.execution?.outcome ?? ''}`);
await until('rerank off on every replica', async () => {
  const states = await Promise.all(
    replicas.map(async (r) => (await (await fetch(`http://127.0.0.1:${r.port}/search`)).json()).reranked),
  );
  return states.every((s) => s === false);
});
say('   rerank is off on search-a, search-b and search-c');

const resolved = await until('the incident to resolve', async () => {
  const res = await fetch(`http://127.0.0.1:${replicas[0].port}/admin/incidents/${opened.id}`, { headers: auth });
  const inc = await res.json();
  const i = inc.incident ?? inc;
  return i.status === 'resolved' ? i : undefined;
}, 45_000);
say(`✓ incident ${resolved.id} resolved on the fleet`);
await sleep(500);
const opens = pages.filter((p) => p.event === 'incident:opened').length;
say(`pages for the outage: ${opens} (one cause, one page), notifications in all: ${pages.length}`);

clearInterval(traffic);
for (const r of replicas) r.child.send({ stop: true });
await sleep(500);
for (const c of children) c.kill('SIGTERM');
proxy.close();
pager.close();
say(opens === 1 ? 'fleet example complete' : 'fleet example FAILED: expected exactly one page');
process.exit(opens === 1 ? 0 : 1);

// Requests per second of a hello-world app, plain vs with firebreak recording
// vs the usual prom-client alternative, for Express and Fastify. Each server
// runs in its own process; autocannon drives it from this one over 127.0.0.1.
// Runs are interleaved (the order rotates every round) so drift in machine
// load hits every variant alike; medians of the rounds are compared. Server
// CPU time per request is printed beside req/s: on a busy machine it is the
// steadier of the two.
import { execFileSync, spawn } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';

export const title = 'HTTP recording overhead: hello-world req/s, plain vs firebreak vs prom-client (autocannon)';
export const order = 60;

const SERVER = fileURLToPath(new URL('./http-server.mjs', import.meta.url));
const ROUNDS = Number(process.env.FIREBREAK_BENCH_HTTP_ROUNDS ?? 7);
const SECONDS = Number(process.env.FIREBREAK_BENCH_HTTP_SECONDS ?? 1.5);

// On a 2-core machine the load generator and the server otherwise fight for
// the same cores, and the req/s of a run says more about the scheduler than
// about the server. With taskset (util-linux), servers get core 0 and
// autocannon (this process) the others, for the length of this section.
function taskset(...args) {
  try {
    execFileSync('taskset', args, { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}
const CORES = availableParallelism();
const PIN = CORES >= 2 && taskset('-p', String(process.pid));
const CONNECTIONS = 32;

const ONLY = process.env.FIREBREAK_BENCH_HTTP_ONLY; // e.g. "express"
const FRAMEWORKS = [
  { name: 'express', competitor: 'express-prom-bundle', floor: 'empty middleware (floor)' },
  { name: 'fastify', competitor: 'prom-client onResponse hook', floor: 'empty onResponse hook (floor)' },
].filter((f) => ONLY === undefined || f.name === ONLY);
// "floor": an empty middleware / empty onResponse hook, the framework's own price of any recording.
// "before": the adapter built from an earlier commit (FIREBREAK_BENCH_BEFORE=dir), for an A/B of a change.
const KINDS = ['plain', 'floor', ...(process.env.FIREBREAK_BENCH_BEFORE ? ['before'] : []), 'firebreak', 'competitor'];

function startServer(variant) {
  return new Promise((resolve, reject) => {
    const [cmd, args] = PIN ? ['taskset', ['-c', '0', process.execPath, SERVER, variant]] : [process.execPath, [SERVER, variant]];
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'inherit', 'ipc'] });
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
      const m = /READY (\d+)/.exec(out);
      if (m) resolve({ child, url: `http://127.0.0.1:${m[1]}/hello/world` });
    });
    child.on('exit', (code) => reject(new Error(`${variant} server exited with ${code}`)));
  });
}

function cpuMicros(child) {
  return new Promise((resolve) => {
    child.once('message', (m) => resolve(m.cpuMicros));
    child.send('cpu');
  });
}

function load(url, seconds) {
  return new Promise((resolve, reject) => {
    autocannon({ url, connections: CONNECTIONS, duration: seconds }, (err, result) => {
      if (err) reject(err);
      else if (result.errors > 0 || result.non2xx > 0) reject(new Error(`${url}: ${result.errors} errors, ${result.non2xx} non-2xx`));
      else resolve(result);
    });
  });
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

function pad(rows) {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => String(r[i]).length)));
  return rows.map((r) => r.map((c, i) => (i === 0 ? String(c).padEnd(widths[i]) : String(c).padStart(widths[i]))).join('  ')).join('\n');
}

const pct = (v) => `${(v * 100).toFixed(1)} %`;

export default async function http(ctx) {
  ctx.log(`autocannon: ${CONNECTIONS} connections, ${ROUNDS} interleaved rounds of ${SECONDS} s per variant; medians`);
  if (PIN) {
    taskset('-cp', `1-${CORES - 1}`, String(process.pid));
    ctx.log('servers pinned to core 0, autocannon to the other cores (taskset)');
  } else {
    ctx.log('taskset unavailable: servers and autocannon share the cores, expect noise');
  }
  try {
    await run(ctx);
  } finally {
    if (PIN) taskset('-cp', `0-${CORES - 1}`, String(process.pid));
  }
}

async function run(ctx) {
  for (const fw of FRAMEWORKS) {
    const servers = {};
    try {
      for (const kind of KINDS) servers[kind] = await startServer(`${fw.name}-${kind}`);
      // Warm-up: JIT and connection set-up, not measured.
      for (const kind of KINDS) await load(servers[kind].url, 0.5);
      const rps = Object.fromEntries(KINDS.map((k) => [k, []]));
      const cpu = Object.fromEntries(KINDS.map((k) => [k, []]));
      for (let round = 0; round < ROUNDS; round++) {
        for (let i = 0; i < KINDS.length; i++) {
          const kind = KINDS[(i + round) % KINDS.length];
          const { child, url } = servers[kind];
          const before = await cpuMicros(child);
          const result = await load(url, SECONDS);
          const after = await cpuMicros(child);
          // Completed requests over the measured time (autocannon's per-second average drops partial seconds).
          rps[kind].push(result.requests.total / result.duration);
          cpu[kind].push((after - before) / result.requests.total);
        }
      }
      // Each round's variants ran back to back: the median of per-round
      // ratios cancels the drift between rounds that medians of req/s keep.
      const paired = (kind) => median(rps[kind].map((v, i) => v / rps.plain[i]));
      // Server CPU per request, paired the same way: the steadier measure on a shared machine.
      const pairedCpu = (kind) => median(cpu[kind].map((v, i) => v / cpu.plain[i]));
      const rows = [['variant', 'req/s', 'vs plain (paired)', 'CPU µs/req', 'CPU vs plain (paired)', 'req/s by round']];
      for (const kind of KINDS) {
        const label = kind === 'competitor' ? fw.competitor : kind === 'floor' ? fw.floor : kind === 'before' ? 'firebreak, before (FIREBREAK_BENCH_BEFORE)' : kind;
        const r = median(rps[kind]);
        const c = median(cpu[kind]);
        rows.push([`${fw.name} ${label}`, Math.round(r), pct(paired(kind)), c.toFixed(1), pct(pairedCpu(kind)), rps[kind].map((v) => Math.round(v)).join(' ')]);
      }
      ctx.log('');
      if (ctx.table) ctx.table(`${fw.name}: req/s and server CPU per request`, rows[0], rows.slice(1));
      else ctx.log(pad(rows));
      ctx.target(`${fw.name}: firebreak req/s vs plain (paired)`, { value: paired('firebreak'), limit: 0.95, better: 'higher', format: pct });
      ctx.target(`${fw.name}: firebreak extra server CPU per request (paired)`, { value: pairedCpu('firebreak') - 1, limit: 0.05, format: pct });
      ctx.log(`${fw.name}: firebreak's server CPU per request beyond the floor (paired per round): ${pct(median(cpu.firebreak.map((v, i) => v / cpu.floor[i])) - 1)}`);
    } finally {
      for (const s of Object.values(servers)) s.child.kill();
    }
  }
}

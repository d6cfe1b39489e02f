// /metrics exposition: monitor.metrics() against prom-client's registry.metrics()
// holding the same series (a histogram by route and method with the same
// buckets, a requests counter by route, method and outcome, a rate-limited
// counter by route and method), interleaved rounds, paired ratios.
import client from 'prom-client';
import { createMonitor } from '../dist/index.js';
import { fmt, table } from './lib.mjs';

export const title = '/metrics exposition vs prom-client registry.metrics(), same series count';
export const order = 40;

const BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 0.8, 1, 2, 2.5, 5, 10];
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

function build(routes) {
  const monitor = createMonitor({ service: 'bench', maxRoutes: routes + 1 });
  const reg = new client.Registry();
  const hist = new client.Histogram({ name: 'peer_request_duration_seconds', help: 'h', labelNames: ['route', 'method'], buckets: BUCKETS, registers: [reg] });
  const total = new client.Counter({ name: 'peer_requests_total', help: 'c', labelNames: ['route', 'method', 'outcome'], registers: [reg] });
  const limited = new client.Counter({ name: 'peer_requests_rate_limited_total', help: 'c', labelNames: ['route', 'method'], registers: [reg] });
  for (let r = 0; r < routes; r++) {
    const method = r % 3 === 0 ? 'POST' : 'GET';
    const path = `/api/v1/resource-${r}/:id`;
    for (let i = 0; i < 20; i++) {
      const ms = 5 + ((i * 37 + r) % 900);
      monitor.recordRequest({ route: `${method} ${path}`, durationMs: ms, status: i === 0 ? 500 : 200 });
      hist.observe({ route: path, method }, ms / 1000);
    }
    total.inc({ route: path, method, outcome: 'success' }, 19);
    total.inc({ route: path, method, outcome: 'failure' }, 1);
    limited.inc({ route: path, method }, 0);
  }
  return { ours: () => monitor.metrics(), peer: () => reg.metrics(), monitor };
}

async function time(fn, n) {
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < n; i++) await fn();
  return Number(process.hrtime.bigint() - t0) / n / 1e6;
}

export default async function (ctx) {
  const rows = [];
  let at200;
  for (const routes of [20, 200, 1000]) {
    const { ours, peer, monitor } = build(routes);
    const a = await ours();
    const b = await peer();
    const lines = (t) => t.split('\n').filter((l) => l !== '' && !l.startsWith('#')).length;
    // Warm-up, then interleaved rounds in a rotating order.
    for (let i = 0; i < (routes >= 1000 ? 3 : 20); i++) {
      await ours();
      await peer();
    }
    const n = routes >= 1000 ? 1 : routes >= 200 ? 4 : 40;
    const ro = [];
    const rp = [];
    const rounds = routes >= 1000 ? 8 : 30;
    for (let round = 0; round < rounds; round++) {
      if (round % 2 === 0) {
        ro.push(await time(ours, n));
        rp.push(await time(peer, n));
      } else {
        rp.push(await time(peer, n));
        ro.push(await time(ours, n));
      }
    }
    const ratio = median(ro.map((x, i) => x / rp[i]));
    if (routes === 200) at200 = ratio;
    rows.push([routes, lines(a), lines(b), fmt.ms(median(ro)), fmt.ms(median(rp)), fmt.ratio(ratio)]);
    await monitor.close();
  }
  ctx.log(table(['routes', 'our lines', 'peer lines', 'monitor.metrics()', 'prom-client metrics()', 'ours ÷ peer (paired median)'], rows));
  ctx.log('our lines include the SLO/incident/control families with no SLOs configured (headers only), so the series counts match');
  ctx.target('/metrics exposition ÷ prom-client registry.metrics(), 200 routes', { value: at200, limit: 1.0, format: fmt.ratio });
}

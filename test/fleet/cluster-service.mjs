// node:cluster service for test/fleet/cluster.test.ts: the primary serves the
// workers' merged /metrics (clusterMetrics) on its own loopback port; each
// worker serves the service on the shared port and records every request.
import cluster from 'node:cluster';
import { createServer } from 'node:http';
import { pathToFileURL } from 'node:url';
import { resolve } from 'node:path';

const dist = resolve(import.meta.dirname, '../../dist');
const firebreak = await import(pathToFileURL(`${dist}/index.js`).href);
const WORKERS = 2;

if (cluster.isPrimary) {
  cluster.schedulingPolicy = cluster.SCHED_RR;
  const metrics = firebreak.clusterMetrics({ onError: (e) => process.send?.({ type: 'error', message: e.message }) });
  const metricsServer = createServer(metrics.handler);
  let servicePort;
  let listening = 0;
  for (let i = 0; i < WORKERS; i++) {
    const w = cluster.fork({ WORKER_INDEX: String(i) });
    w.on('listening', (addr) => {
      servicePort = addr.port;
      if (++listening === WORKERS) {
        metricsServer.listen(0, '127.0.0.1', () => process.send?.({ type: 'listening', servicePort, metricsPort: metricsServer.address().port }));
      }
    });
  }
  process.on('message', (msg) => {
    if (msg?.type === 'stop') {
      for (const w of Object.values(cluster.workers ?? {})) w?.kill();
      metricsServer.close();
      process.exit(0);
    }
  });
} else {
  const index = Number(process.env.WORKER_INDEX);
  const monitor = firebreak.createMonitor({
    service: 'checkout',
    minSamples: 1,
    slos: [{ name: 'availability', kind: 'success-rate', objective: 0.9 }],
  });
  const rerank = monitor.feature('rerank');
  if (index === 1) rerank.disable({ reason: 'worker 1 pulled the kill switch' });
  firebreak.clusterWorkerMetrics(monitor);
  const server = createServer((req, res) => {
    const fail = req.url === '/fail';
    res.statusCode = fail ? 503 : 200;
    res.end(String(index));
    monitor.recordRequest({ route: `GET ${fail ? '/fail' : '/ok'}`, durationMs: 5, status: res.statusCode });
  });
  // In a cluster, listen(0) gives every worker the same port (the primary owns the socket).
  server.listen(0, '127.0.0.1');
}

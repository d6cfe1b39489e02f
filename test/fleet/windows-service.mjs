// A service for the fleet-windows replica tests: SLOs, the windows part
// publishing every cfg.publishEveryMs, and GET /work?ms=&status= recording
// one request of that duration and status.
export default async function setup({ cfg, firebreak, redisFleet, redis }) {
  const monitor = firebreak.createMonitor({
    service: cfg.service ?? 'checkout',
    minSamples: 1,
    slos: [
      { name: 'p95', kind: 'latency', quantile: 0.95, thresholdMs: 100, absentAfterMs: false },
      { name: 'availability', kind: 'success-rate', objective: 0.9, absentAfterMs: false },
    ],
  });
  const fleet = redisFleet(monitor, { redis, replica: cfg.replica, reconcileEveryMs: 1_000, windows: { publishEveryMs: cfg.publishEveryMs ?? 200 } });
  return {
    monitor,
    fleet,
    handle(req, res) {
      const url = new URL(req.url, 'http://x');
      if (url.pathname !== '/work') return false;
      const status = Number(url.searchParams.get('status') ?? 200);
      res.statusCode = status;
      res.end('ok');
      monitor.recordRequest({ route: 'GET /work', durationMs: Number(url.searchParams.get('ms') ?? 1), status });
      return true;
    },
  };
}

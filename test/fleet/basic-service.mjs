// A minimal service for replica tests: one feature, the fleet attached.
export default async function setup({ cfg, firebreak, redisFleet, redis }) {
  const monitor = firebreak.createMonitor({ service: cfg.service ?? 'checkout' });
  monitor.feature('recommendations');
  const fleet = redisFleet(monitor, { redis, replica: cfg.replica, reconcileEveryMs: 1_000 });
  return {
    monitor,
    fleet,
    handle(req, res) {
      if (req.url !== '/work') return false;
      const start = performance.now();
      res.end('ok');
      monitor.recordRequest({ route: 'GET /work', durationMs: performance.now() - start, status: 200 });
      return true;
    },
  };
}

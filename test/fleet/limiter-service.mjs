// A service for the fleet-limiter scenarios: one limiter ("api", 50 per
// minute by default), GET /work limited by the x-client header through the
// same synchronous decision the HTTP adapters use.
export default async function setup({ cfg, firebreak, redisFleet, http, redis }) {
  const monitor = firebreak.createMonitor({ service: cfg.service ?? 'checkout' });
  const limiter = monitor.rateLimiter('api', { maxRequests: cfg.maxRequests ?? 50, windowSeconds: cfg.windowSeconds ?? 60 });
  const fleet = redisFleet(monitor, { redis, replica: cfg.replica, reconcileEveryMs: 1_000 });
  const stats = { limited: 0, errors: 0 };
  return {
    monitor,
    fleet,
    limiter,
    handle(req, res) {
      if (!req.url?.startsWith('/work')) return false;
      const client = String(req.headers['x-client'] ?? 'anonymous');
      const d = http.decideRateLimit(limiter, () => client, stats, true);
      res.writeHead(d.allowed ? 200 : 429, d.headers);
      res.end(d.allowed ? 'ok' : d.body);
      return true;
    },
  };
}

// A service for the fleet-incident scenario: GET /work answers 500 while the fault is on
// (POST /fault/on, /fault/off); a dependency-failure detector fires when the last
// evaluation period saw a 500. Every notification goes to cfg.receiver (a webhook).
export default async function setup({ cfg, firebreak, redisFleet, redis }) {
  const monitor = firebreak.createMonitor({
    service: cfg.service ?? 'checkout',
    incidents: { forMs: 0, clearForMs: 0 },
    notifiers: [{ webhook: cfg.receiver, retries: 0, timeoutMs: 2_000 }],
    autoRemediate: true,
    playbooks: { 'dependency-failure': [{ action: 'feature.disable', params: { name: 'recommendations' }, mode: 'auto' }] },
  });
  monitor.feature('recommendations');
  let fault = false;
  let errors = 0;
  monitor.detector({
    type: 'dependency-failure',
    scope: 'payments',
    evaluate: () => {
      const firing = errors > 0;
      errors = 0;
      return firing ? 'critical' : false;
    },
  });
  const fleet = redisFleet(monitor, { redis, replica: cfg.replica, reconcileEveryMs: 300, incidents: { leaseMs: 1_000 } });
  return {
    monitor,
    fleet,
    handle(req, res) {
      if (req.url === '/fault/on' || req.url === '/fault/off') {
        fault = req.url === '/fault/on';
        res.end('ok');
        return true;
      }
      if (req.url !== '/work') return false;
      const status = fault ? 500 : 200;
      if (fault) errors++;
      res.statusCode = status;
      res.end(fault ? 'payments down' : 'ok');
      monitor.recordRequest({ route: 'GET /work', durationMs: 1, status });
      return true;
    },
  };
}

// A service for the shared-control-state replica tests: a risky feature, a canary and the
// runbook's "emergency stop all features" line (POST /admin/canary/emergency-stop).
// cfg.gated: the fleet's Redis scripts wait until `ctx.openGate()`, so a test can watch the
// replica answer 503 on /health/ready while it has not loaded the shared state.
export default async function setup({ cfg, firebreak, redisFleet, redis }) {
  const monitor = firebreak.createMonitor({ service: cfg.service ?? 'checkout' });
  monitor.feature('recommendations', { risky: true });
  monitor.canary('new-index', { percent: 10 });
  let openGate = () => {};
  const gate = new Promise((resolve) => (openGate = resolve));
  const client = cfg.gated
    ? new Proxy(redis, {
        get(target, prop) {
          const value = Reflect.get(target, prop);
          if (prop === 'eval' || prop === 'evalsha') {
            return async (...args) => {
              await gate;
              return value.apply(target, args);
            };
          }
          return typeof value === 'function' ? value.bind(target) : value;
        },
      })
    : redis;
  const fleet = redisFleet(monitor, { redis: client, replica: cfg.replica, reconcileEveryMs: 500, syncTimeoutMs: 60_000 });
  return {
    monitor,
    fleet,
    openGate,
  };
}

import { cpus, loadavg } from 'node:os';
import { monitorEventLoopDelay, performance, type IntervalHistogram } from 'node:perf_hooks';
import { getHeapStatistics } from 'node:v8';
import { version as firebreakVersion } from '../../../package.json';
import type { HealthReport } from '../../incidents/health.js';
import type { Monitor } from '../../monitor.js';
import { HttpError } from '../errors.js';
import { defineRoute, type AnyRoute } from '../route.js';

interface ReadyCache {
  at: number;
  report: Promise<HealthReport>;
}
const readyCache = new WeakMap<Monitor, ReadyCache>();

/** One health run per `maxAgeMs`, shared by concurrent callers. */
function healthReport(monitor: Monitor, maxAgeMs: number): Promise<HealthReport> {
  const now = monitor.clock.now();
  const cached = readyCache.get(monitor);
  if (cached !== undefined && now - cached.at < maxAgeMs) return cached.report;
  const report = monitor.checkHealth();
  readyCache.set(monitor, { at: now, report });
  // A run that failed outright must not be served from the cache.
  report.catch(() => readyCache.delete(monitor));
  return report;
}

// One sampler for the process, started by the first /health/system call and
// never stopped: its timer is unref'd and costs one wake-up per 20 ms.
let loopDelay: IntervalHistogram | undefined;
const ms = (ns: number): number => Math.round(ns / 1e4) / 100;

interface CpuMark {
  at: number;
  micros: number;
}
const cpuMarks = new WeakMap<Monitor, CpuMark>();

/** CPU % of one core since the previous call for this monitor (null on the first). */
function cpuPercent(monitor: Monitor, micros: number): number | null {
  const now = monitor.clock.monotonic();
  const prev = cpuMarks.get(monitor);
  cpuMarks.set(monitor, { at: now, micros });
  if (prev === undefined || now <= prev.at) return null;
  return Math.round(((micros - prev.micros) / 1000 / (now - prev.at)) * 1000) / 10;
}

/** The process as the runbooks' `/health/system` reports it. */
function systemReport(monitor: Monitor): Record<string, unknown> {
  if (loopDelay === undefined) {
    loopDelay = monitorEventLoopDelay({ resolution: 20 });
    loopDelay.enable();
  }
  const mem = process.memoryUsage();
  const heap = getHeapStatistics();
  const cpu = process.cpuUsage();
  const elu = performance.eventLoopUtilization();
  const sampled = loopDelay.count > 0;
  return {
    status: 'ok',
    service: monitor.service,
    at: monitor.clock.now(),
    uptimeSeconds: Math.round(process.uptime()),
    memory: {
      rss: mem.rss,
      heapUsed: mem.heapUsed,
      heapTotal: mem.heapTotal,
      heapLimit: heap.heap_size_limit,
      heapUsedRatio: Math.round((mem.heapUsed / heap.heap_size_limit) * 1e4) / 1e4,
      external: mem.external,
      arrayBuffers: mem.arrayBuffers,
    },
    cpu: { userMicros: cpu.user, systemMicros: cpu.system, percentSinceLastCall: cpuPercent(monitor, cpu.user + cpu.system), cores: cpus().length, loadAverage: loadavg() },
    eventLoop: {
      utilization: Math.round(elu.utilization * 1e4) / 1e4,
      // Since the first /health/system call (the sampler starts then).
      delayMs: sampled ? { p50: ms(loopDelay.percentile(50)), p99: ms(loopDelay.percentile(99)), max: ms(loopDelay.max) } : null,
    },
    versions: { node: process.versions.node, v8: process.versions.v8, firebreak: firebreakVersion },
    platform: { os: process.platform, arch: process.arch, pid: process.pid },
  };
}

/** `GET /health` (liveness), `GET /health/ready` (readiness), `GET /health/system` (the process) and `GET /metrics`. */
export const healthRoutes: AnyRoute[] = [
  defineRoute({
    method: 'GET',
    path: '/health',
    access: 'public',
    summary: 'Liveness: 200 while the process serves requests',
    handler: ({ monitor }) => ({ json: { status: 'ok', service: monitor.service, at: monitor.clock.now() } }),
  }),
  defineRoute({
    method: 'GET',
    path: '/health/ready',
    access: 'public',
    summary: 'Readiness: runs the health checks (with their timeouts); 503 naming the failing critical checks',
    handler: async ({ monitor, options }) => {
      const report = await healthReport(monitor, options.readyCacheMs);
      // Public route: names and outcomes only. Error texts (hosts, ports…) are
      // in GET /stats/incidents for the read role.
      const checks = report.checks.map(({ name, ok, critical, durationMs }) => ({ name, ok, critical, durationMs }));
      if (report.status === 'failing') {
        const failing = report.checks.filter((c) => !c.ok && c.critical).map((c) => c.name);
        throw new HttpError('NOT_READY', `Not ready: critical health checks failing: ${failing.join(', ')}`, {
          status: report.status,
          failing,
          checks,
          at: report.at,
        });
      }
      return { json: { status: report.status, service: monitor.service, checks, at: report.at } };
    },
  }),
  defineRoute({
    method: 'GET',
    path: '/health/system',
    // Versions, memory and pid are reconnaissance for an attacker: read role, as /stats/*.
    access: 'read',
    summary: 'The process: memory, CPU, event-loop utilisation and delay, uptime, versions (read role)',
    handler: ({ monitor }) => ({ json: systemReport(monitor) }),
  }),
  defineRoute({
    method: 'GET',
    path: '/metrics',
    access: 'metrics',
    summary: 'Prometheus text exposition (public or read role, per metricsAccess)',
    handler: async ({ monitor }) => ({ text: await monitor.metrics(), contentType: monitor.registry.contentType }),
  }),
];

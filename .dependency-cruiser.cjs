/**
 * Layer rules of src/ (checked by `npm run lint:deps` and test/layers.test.ts).
 * The data path reads top to bottom: record (metrics) → evaluate (slo) →
 * detect (incidents) → act (actions) → expose (http, adapters, cli). A module
 * may import its own layer or a lower one, never a higher one, and never in a
 * loop. The monitor composes everything; entry points sit above it.
 */
/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    { name: 'no-circular', severity: 'error', comment: 'import loops make the load order matter and hide a missing layer', from: {}, to: { circular: true } },
    {
      name: 'no-upward-from-base',
      severity: 'error',
      comment: 'clock, errors, safe-call, logger, events depend on nothing of firebreak above them',
      from: { path: '^src/(clock|errors|safe-call|logger|events|runbook|change-latch)\\.ts$' },
      to: { path: '^src/(metrics|slo|incidents|actions|http|adapters|cli|redis|testing|monitor|config|index)' },
    },
    {
      name: 'no-upward-from-metrics',
      severity: 'error',
      from: { path: '^src/metrics/' },
      to: { path: '^src/(slo|incidents|actions|http|adapters|cli|redis|testing|monitor|config|index)' },
    },
    {
      name: 'no-upward-from-slo',
      severity: 'error',
      from: { path: '^src/slo/' },
      to: { path: '^src/(incidents|actions|http|adapters|cli|redis|testing|monitor|config|index)' },
    },
    {
      name: 'no-upward-from-incidents',
      severity: 'error',
      from: { path: '^src/incidents/' },
      to: { path: '^src/(actions|http|adapters|cli|redis|testing|monitor|config|index)' },
    },
    {
      name: 'no-upward-from-actions',
      severity: 'error',
      from: { path: '^src/actions/' },
      to: { path: '^src/(http|adapters|cli|redis|testing|monitor|config|index)' },
    },
    {
      name: 'http-never-imports-adapters',
      severity: 'error',
      comment: 'adapters import the HTTP surface, never the reverse',
      from: { path: '^src/http/' },
      to: { path: '^src/(adapters|cli|redis|index)' },
    },
    {
      name: 'only-redis-imports-ioredis',
      severity: 'error',
      comment: 'ioredis is an optional peer: only firebreak/redis may load it',
      from: { pathNot: '^src/redis/' },
      to: { path: 'node_modules/ioredis' },
    },
    {
      name: 'only-integrations-import-their-peers',
      severity: 'error',
      comment: 'optional peers load only from their own subpath (firebreak/openfeature, firebreak/otel)',
      from: { pathNot: '^src/(openfeature|otel)/' },
      to: { path: 'node_modules/@(openfeature|opentelemetry)/' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { extensions: ['.ts', '.js'] },
    exclude: { path: '\\.(d\\.ts)$' },
  },
};

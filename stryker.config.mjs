// @ts-check
/**
 * Mutation testing: how many deliberately planted bugs the suite catches.
 *
 *   npm run mutation                      the core set (hot path, detection, controls, auth/body)
 *   npm run mutation -- src/a.ts src/b.ts only these files (and only the tests that cover them)
 *   MUTATION_TESTS='test/metrics/**' npm run mutation -- src/metrics/counter-ring.ts
 *                                         a quick, focused score: only these test files run
 *   MUTATION_EXCLUDE='**\/*.mutants.test.ts' …   leave some test files out (before/after comparisons)
 *
 * The machine running this is usually shared, so one test process at a time.
 * Incremental mode keeps the previous results in reports/ and only re-tests
 * mutants whose code or covering tests changed.
 */

/** The files `npm run mutation` mutates when none are given. @type {string[]} */
export const coreSet = [
  'src/metrics/*.ts',
  'src/slo/evaluate.ts',
  'src/incidents/hysteresis.ts',
  'src/incidents/burn-rate.ts',
  'src/incidents/detection.ts',
  'src/incidents/lifecycle.ts',
  'src/incidents/log.ts',
  'src/actions/controls/rate-limiter.ts',
  'src/actions/controls/feature.ts',
  'src/actions/controls/cache.ts',
  'src/actions/controls/fallback.ts',
  'src/actions/controls/canary.ts',
  'src/actions/remediation.ts',
  'src/http/auth.ts',
  'src/http/body.ts',
];

/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
const config = {
  packageManager: 'npm',
  testRunner: 'vitest',
  plugins: ['@stryker-mutator/vitest-runner'],
  vitest: { configFile: 'vitest.mutation.config.ts', related: true },
  coverageAnalysis: 'perTest',
  concurrency: 1,
  mutate: coreSet,
  // Type errors in mutants are not worth a test run; vitest strips types, so
  // without a checker they show up as survivors or runtime errors instead.
  checkers: [],
  ignoreStatic: true,
  incremental: true,
  incrementalFile: 'reports/stryker-incremental.json',
  reporters: ['clear-text', 'progress', 'json', 'html'],
  jsonReporter: { fileName: 'reports/mutation/mutation.json' },
  htmlReporter: { fileName: 'reports/mutation/mutation.html' },
  clearTextReporter: { allowColor: false, logTests: false, maxTestsToLog: 0 },
  // Mutants that loop forever are detected as timeouts; keep the wait short on a busy machine.
  timeoutMS: 4_000,
  tempDirName: '.stryker-tmp',
  cleanTempDir: true,
};

export default config;

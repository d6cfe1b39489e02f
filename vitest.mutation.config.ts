import { defineConfig } from 'vitest/config';

const list = (v: string | undefined): string[] => (v ?? '').split(',').map((s) => s.trim()).filter((s) => s.length > 0);
/** Comma-separated globs: only these test files (a quick, focused score for one source file). */
const only = list(process.env['MUTATION_TESTS']);
/** Comma-separated globs left out as well (e.g. `**\/*.mutants.test.ts` for a before/after comparison). */
const skip = list(process.env['MUTATION_EXCLUDE']);

/**
 * The suite Stryker runs against each mutant: everything that exercises src/
 * directly. Left out are the tests that need dist/ or spawn processes or a
 * browser (package, examples, CLI, dashboard browser, promtool): they are slow,
 * they test the build rather than the source, and a mutant in src/ cannot reach them.
 */
export default defineConfig({
  test: {
    include: only.length > 0 ? only : ['test/**/*.test.ts'],
    exclude: [
      'test/package.test.ts',
      'test/examples/**',
      'test/cli/cli.test.ts',
      'test/http/dashboard-browser.test.ts',
      'test/http/promtool.test.ts',
      '**/node_modules/**',
      ...skip,
    ],
    testTimeout: 20_000,
    hookTimeout: 30_000,
  },
});

import { defineConfig } from 'vitest/config';

// The example's own config, so it runs on its own: npx vitest run --config examples/testing/vitest.config.ts
export default defineConfig({
  test: { root: import.meta.dirname, include: ['**/*.test.ts'] },
});

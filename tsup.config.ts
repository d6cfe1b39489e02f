import { defineConfig } from 'tsup';

export default defineConfig([
  {
    entry: {
      index: 'src/index.ts',
      testing: 'src/testing/index.ts',
      express: 'src/adapters/express.ts',
      fastify: 'src/adapters/fastify.ts',
      http: 'src/http/index.ts',
      redis: 'src/redis/index.ts',
    },
    format: ['esm', 'cjs'],
    dts: true,
    sourcemap: true,
    // The CLI build below runs in parallel into the same folder: keep its output.
    clean: ['!cli.js', '!cli.js.map'],
    target: 'node20',
    splitting: true,
    treeshake: true,
  },
  {
    // The `firebreak` bin: one ESM file, runnable with `node dist/cli.js`.
    entry: { cli: 'src/cli/main.ts' },
    format: ['esm'],
    dts: false,
    sourcemap: true,
    clean: false,
    target: 'node20',
    splitting: false,
    treeshake: true,
    banner: { js: '#!/usr/bin/env node' },
    // The library itself is loaded through the package's own name (dist/index.js), not bundled twice.
    external: ['firebreak'],
  },
]);

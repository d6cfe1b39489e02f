import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { defineConfig, type Options } from 'tsup';

/** `import text from './file?raw'`: the file's text as a string (vite does the same in tests). */
const raw: NonNullable<Options['esbuildPlugins']>[number] = {
  name: 'raw',
  setup(build) {
    build.onResolve({ filter: /\?raw$/ }, (args) => ({ path: resolve(args.resolveDir, args.path.slice(0, -4)), namespace: 'raw' }));
    build.onLoad({ filter: /.*/, namespace: 'raw' }, async (args) => ({ contents: await readFile(args.path, 'utf8'), loader: 'text' }));
  },
};

export default defineConfig([
  {
    entry: {
      index: 'src/index.ts',
      testing: 'src/testing/index.ts',
      express: 'src/adapters/express.ts',
      fastify: 'src/adapters/fastify.ts',
      http: 'src/adapters/http.ts',
      redis: 'src/redis/index.ts',
      openfeature: 'src/openfeature/index.ts',
      otel: 'src/otel/index.ts',
    },
    format: ['esm', 'cjs'],
    dts: true,
    sourcemap: true,
    // The CLI build below runs in parallel into the same folder: keep its output.
    clean: ['!cli.js', '!cli.js.map'],
    target: 'node20',
    splitting: true,
    treeshake: true,
    esbuildPlugins: [raw],
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
    esbuildPlugins: [raw],
    // The library itself is loaded through the package's own name (dist/index.js), not bundled twice.
    external: ['firebreak'],
  },
]);

#!/usr/bin/env node
// `npm run demo` builds only when dist/ is older than src/ (or package.json / tsup.config.ts),
// and then quietly: the demo's first screen is the demo, not 70 lines of bundler output.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Newest modification time (ms) of a file or of any file under a directory; 0 when absent. */
export function newest(path) {
  if (!existsSync(path)) return 0;
  const st = statSync(path);
  if (!st.isDirectory()) return st.mtimeMs;
  let max = 0;
  for (const name of readdirSync(path)) max = Math.max(max, newest(join(path, name)));
  return max;
}

/** Whether dist/ needs a build: an entry point missing, or a source newer than the oldest entry point. */
export function isStale(root) {
  const outputs = ['dist/index.js', 'dist/cli.js', 'dist/express.js'].map((p) => join(root, p));
  if (outputs.some((p) => !existsSync(p))) return true;
  const built = Math.min(...outputs.map((p) => statSync(p).mtimeMs));
  const source = Math.max(newest(join(root, 'src')), newest(join(root, 'package.json')), newest(join(root, 'tsup.config.ts')));
  return source > built;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const root = fileURLToPath(new URL('..', import.meta.url));
  if (isStale(root)) {
    process.stdout.write('building firebreak (src/ is newer than dist/)…\n');
    const r = spawnSync(process.execPath, [join(root, 'node_modules/tsup/dist/cli-default.js'), '--silent'], { cwd: root, stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8' });
    if (r.status !== 0) {
      process.stderr.write(r.stderr ?? '');
      process.exit(r.status ?? 1);
    }
  }
}

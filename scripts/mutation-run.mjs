#!/usr/bin/env node
/**
 * `npm run mutation [-- <src/ files…> [stryker flags]]`
 *
 * Runs Stryker on the given source files (or the core set from
 * stryker.config.mjs when none is given), then prints a per-file score table
 * from the JSON report. Arguments starting with `-` are passed to Stryker
 * untouched, with their values (e.g. `--force` to ignore the incremental
 * baseline, `--incrementalFile reports/other.json`).
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

const args = process.argv.slice(2);
// A source file is under src/ (a path, a glob or file.ts:line:col); anything else is a Stryker flag or its value.
const isFile = (a) => a.startsWith('src/') || a.startsWith('./src/');
const files = args.filter(isFile);
const flags = args.filter((a) => !isFile(a));
for (const f of files) {
  if (!existsSync(f.replace(/:.*$/, '')) && !/[*?{]/.test(f)) {
    console.error(`mutation: no such file: ${f}`);
    process.exit(2);
  }
}
const strykerArgs = ['stryker', 'run', ...(files.length > 0 ? ['--mutate', files.join(',')] : []), ...flags];
const run = spawnSync('npx', strykerArgs, { stdio: 'inherit' });
const table = spawnSync(process.execPath, [new URL('./mutation-table.mjs', import.meta.url).pathname], { stdio: 'inherit' });
process.exit(run.status ?? table.status ?? 1);

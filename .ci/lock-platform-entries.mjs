#!/usr/bin/env node
// Re-adds rollup's optional per-platform packages to package-lock.json.
//
// Why: the registry mirror this project is built against answers 404 for
// rollup's non-linux-x64 binaries, so `npm install` silently leaves them out
// of the lock, and `npm ci` (what .ci/run uses) then refuses the lock as out of
// sync ("Missing: @rollup/rollup-darwin-arm64@ from lock file"). The entries
// written here carry os/cpu/libc, so npm ci skips them on this platform, as it
// would skip full entries. Run it after any `npm install` that rewrites the lock:
//
//   node .ci/lock-platform-entries.mjs && npm ci
import { readFileSync, writeFileSync } from 'node:fs';

const path = new URL('../package-lock.json', import.meta.url);
const lock = JSON.parse(readFileSync(path, 'utf8'));
const rollup = lock.packages['node_modules/rollup'];
if (rollup === undefined) throw new Error('rollup is not in the lock');
let added = 0;
for (const name of Object.keys(rollup.optionalDependencies ?? {})) {
  const key = `node_modules/${name}`;
  if (lock.packages[key] !== undefined) continue;
  const m = /^@rollup\/rollup-([a-z0-9]+)-([a-z0-9]+)(?:-([a-z]+))?$/.exec(name);
  if (m === null) throw new Error(`unexpected package name ${name}`);
  const [, os, cpu, abi] = m;
  const entry = { version: rollup.version, cpu: [cpu], dev: true };
  if (abi === 'gnu' || abi === 'gnueabihf') entry.libc = ['glibc'];
  if (abi === 'musl' || abi === 'musleabihf') entry.libc = ['musl'];
  Object.assign(entry, { license: 'MIT', optional: true, os: [os] });
  lock.packages[key] = entry;
  added++;
}
const sorted = {};
for (const k of Object.keys(lock.packages).sort((a, b) => (a === '' ? -1 : b === '' ? 1 : a.localeCompare(b, 'en')))) sorted[k] = lock.packages[k];
lock.packages = sorted;
writeFileSync(path, `${JSON.stringify(lock, null, 2)}\n`);
console.log(`package-lock.json: ${added} platform entries added`);

#!/usr/bin/env node
// Runs every bench/*.bench.mjs section in one process, against the built
// package in ../dist, then prints a summary of every target with pass/fail.
//
//   npm run bench                    # build, then all sections
//   node --expose-gc bench/run.mjs recording memory   # only the named sections
//
// Adding a section: create bench/<name>.bench.mjs exporting
//   export const title = 'What it measures';
//   export const order = 50;          // optional; sections run by order, then file name
//   export default async function (ctx) { ... }
// where ctx.log(text) prints, and ctx.target(name, { value, limit, format, better })
// records a target for the summary (better: 'lower' (default) or 'higher').
// Exit status is 1 when any target fails.
import { readdir } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { dirname, join } from 'node:path';
import { cpus } from 'node:os';
import { table } from './lib.mjs';

const here = dirname(fileURLToPath(import.meta.url));

// The memory section needs gc(): re-run ourselves with it rather than measure garbage.
if (typeof globalThis.gc !== 'function') {
  const r = spawnSync(process.execPath, ['--expose-gc', fileURLToPath(import.meta.url), ...process.argv.slice(2)], { stdio: 'inherit' });
  process.exit(r.status ?? 1);
}
if (!existsSync(join(here, '..', 'dist', 'index.js'))) {
  console.error('bench: dist/ is missing; run `npm run build` first (or use `npm run bench`).');
  process.exit(1);
}

const only = process.argv.slice(2);
const files = (await readdir(here)).filter((f) => f.endsWith('.bench.mjs'));
const sections = [];
for (const file of files) {
  const mod = await import(pathToFileURL(join(here, file)).href);
  const name = file.replace(/\.bench\.mjs$/, '');
  if (only.length > 0 && !only.includes(name)) continue;
  if (typeof mod.default !== 'function') throw new Error(`${file} must export a default function (ctx) => void`);
  sections.push({ name, title: mod.title ?? name, order: mod.order ?? 100, run: mod.default });
}
sections.sort((a, b) => a.order - b.order || a.name.localeCompare(b.name));

const cpu = cpus()[0]?.model ?? 'unknown CPU';
console.log(`firebreak bench · node ${process.version} · ${cpu} × ${cpus().length} · ${new Date().toISOString()}`);

const targets = [];
const started = process.hrtime.bigint();
for (const s of sections) {
  console.log(`\n== ${s.name}: ${s.title} ==`);
  const t0 = process.hrtime.bigint();
  const ctx = {
    log: (text = '') => console.log(text),
    target(name, { value, limit, format = (v) => String(v), better = 'lower' }) {
      const pass = better === 'lower' ? value <= limit : value >= limit;
      targets.push({ section: s.name, name, value: format(value), limit: `${better === 'lower' ? '≤' : '≥'} ${format(limit)}`, pass });
    },
  };
  try {
    await s.run(ctx);
  } catch (err) {
    console.error(err);
    targets.push({ section: s.name, name: 'section ran', value: 'threw', limit: 'no error', pass: false });
  }
  console.log(`(${(Number(process.hrtime.bigint() - t0) / 1e9).toFixed(1)} s)`);
}

console.log(`\n== summary (${(Number(process.hrtime.bigint() - started) / 1e9).toFixed(1)} s) ==`);
console.log(
  table(
    ['section', 'target', 'measured', 'limit', 'result'],
    targets.map((t) => [t.section, t.name, t.value, t.limit, t.pass ? 'pass' : 'FAIL']),
  ),
);
const failed = targets.filter((t) => !t.pass).length;
console.log(failed === 0 ? `\nall ${targets.length} targets met` : `\n${failed} of ${targets.length} targets missed`);
process.exitCode = failed === 0 ? 0 : 1;

#!/usr/bin/env node
// Runs every bench/*.bench.mjs section in one process, against the built
// package in ../dist, then prints a summary of every target with pass/fail.
//
//   npm run bench                    # build, then all sections
//   node --expose-gc bench/run.mjs recording memory   # only the named sections
//   npm run bench -- --json > bench.json                # machine-readable results on stdout
//                                                       # (the human-readable report goes to stderr)
//
// Adding a section: create bench/<name>.bench.mjs exporting
//   export const title = 'What it measures';
//   export const order = 50;          // optional; sections run by order, then file name
//   export default async function (ctx) { ... }
// where ctx.log(text) prints, ctx.target(name, { value, limit, format, better })
// records a target for the summary (better: 'lower' (default) or 'higher'), and
// ctx.table(name, header, rows) prints a table and keeps it for --json.
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

const args = process.argv.slice(2);
const json = args.includes('--json');
const only = args.filter((a) => !a.startsWith('--'));
// With --json, stdout carries only the JSON document.
const say = json ? (text = '') => process.stderr.write(`${text}\n`) : (text = '') => console.log(text);
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
const startedAt = new Date().toISOString();
say(`firebreak bench · node ${process.version} · ${cpu} × ${cpus().length} · ${startedAt}`);

const targets = [];
const results = [];
const started = process.hrtime.bigint();
for (const s of sections) {
  say(`\n== ${s.name}: ${s.title} ==`);
  const t0 = process.hrtime.bigint();
  const section = { section: s.name, title: s.title, tables: [], seconds: 0 };
  results.push(section);
  const ctx = {
    log: say,
    target(name, { value, limit, format = (v) => String(v), better = 'lower' }) {
      const pass = better === 'lower' ? value <= limit : value >= limit;
      targets.push({ section: s.name, name, value: format(value), limit: `${better === 'lower' ? '≤' : '≥'} ${format(limit)}`, pass, raw: { value, limit, better } });
    },
    table(name, header, rows) {
      say(table(header, rows));
      section.tables.push({ name, columns: header, rows });
    },
  };
  try {
    await s.run(ctx);
  } catch (err) {
    console.error(err);
    targets.push({ section: s.name, name: 'section ran', value: 'threw', limit: 'no error', pass: false });
  }
  section.seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  say(`(${section.seconds.toFixed(1)} s)`);
}

say(`\n== summary (${(Number(process.hrtime.bigint() - started) / 1e9).toFixed(1)} s) ==`);
say(
  table(
    ['section', 'target', 'measured', 'limit', 'result'],
    targets.map((t) => [t.section, t.name, t.value, t.limit, t.pass ? 'pass' : 'FAIL']),
  ),
);
const failed = targets.filter((t) => !t.pass).length;
say(failed === 0 ? `\nall ${targets.length} targets met` : `\n${failed} of ${targets.length} targets missed`);
if (json) {
  const doc = {
    node: process.version,
    cpu,
    cores: cpus().length,
    startedAt,
    sections: results,
    targets: targets.map(({ section, name, value, limit, pass, raw }) => ({ section, name, measured: raw.value, limit: raw.limit, better: raw.better, text: { measured: value, limit }, pass })),
    passed: failed === 0,
  };
  process.stdout.write(`${JSON.stringify(doc, null, 2)}\n`);
}
process.exitCode = failed === 0 ? 0 : 1;

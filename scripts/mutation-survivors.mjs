#!/usr/bin/env node
/**
 * Lists the surviving (and uncovered) mutants of Stryker's JSON report, one
 * line each with file:line:column, mutator and the replacement, to pick the
 * next test to write: `node scripts/mutation-survivors.mjs [report.json]`.
 */
import { readFileSync } from 'node:fs';

const path = process.argv[2] ?? 'reports/mutation/mutation.json';
const report = JSON.parse(readFileSync(path, 'utf8'));
for (const [file, { source, mutants }] of Object.entries(report.files)) {
  const lines = source.split('\n');
  for (const m of mutants) {
    if (m.status !== 'Survived' && m.status !== 'NoCoverage') continue;
    const { line, column } = m.location.start;
    const original = (lines[line - 1] ?? '').trim();
    console.log(`${m.status === 'Survived' ? 'survived' : 'no-cov  '} ${file}:${line}:${column} ${m.mutatorName}: ${original.slice(0, 110)}  =>  ${String(m.replacement ?? '').replace(/\s+/g, ' ').slice(0, 80)}`);
  }
}

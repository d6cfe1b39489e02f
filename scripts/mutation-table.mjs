#!/usr/bin/env node
/**
 * Prints the mutation score per file from Stryker's JSON report
 * (reports/mutation/mutation.json, or the path given as the first argument).
 *
 * Score = killed (incl. timeouts) / (all − ignored − compile errors), the same
 * as Stryker's "% Mutation score"; "covered" leaves out mutants no test reaches.
 */
import { readFileSync } from 'node:fs';

const path = process.argv[2] ?? 'reports/mutation/mutation.json';
let report;
try {
  report = JSON.parse(readFileSync(path, 'utf8'));
} catch (err) {
  console.error(`mutation-table: cannot read ${path}: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(2);
}

const rows = [];
const total = { killed: 0, survived: 0, noCov: 0, timeout: 0, errors: 0 };
for (const [file, { mutants }] of Object.entries(report.files).sort(([a], [b]) => a.localeCompare(b))) {
  const c = { killed: 0, survived: 0, noCov: 0, timeout: 0, errors: 0 };
  for (const m of mutants) {
    if (m.status === 'Killed') c.killed++;
    else if (m.status === 'Timeout') c.timeout++;
    else if (m.status === 'Survived') c.survived++;
    else if (m.status === 'NoCoverage') c.noCov++;
    else if (m.status === 'RuntimeError' || m.status === 'CompileError') c.errors++;
  }
  for (const k of Object.keys(total)) total[k] += c[k];
  rows.push([file, c]);
}

const pct = (n, d) => (d === 0 ? '  n/a' : `${((100 * n) / d).toFixed(1).padStart(5)}`);
const line = (name, c) => {
  const detected = c.killed + c.timeout;
  const valid = detected + c.survived + c.noCov;
  const covered = detected + c.survived;
  return `${name.padEnd(44)} ${pct(detected, valid)} % ${pct(detected, covered)} % ${String(c.killed).padStart(6)} ${String(c.timeout).padStart(7)} ${String(c.survived).padStart(8)} ${String(c.noCov).padStart(6)}`;
};
console.log(`${'file'.padEnd(44)}  score  covered  killed timeout survived no-cov`);
for (const [file, c] of rows) console.log(line(file, c));
if (rows.length > 1) console.log(line('all files', total));

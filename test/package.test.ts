/**
 * The package as a user gets it: build, `npm pack`, install the tarball into
 * a fresh project (first without, then with its optional peers such as
 * express and fastify), then import every subpath of `exports` with `import`
 * and `require` in child processes, and type-check a consumer against the
 * published types under moduleResolution node16, bundler and node10.
 *
 * Subpaths come from package.json, so a new entry point (firebreak/express…)
 * is covered as soon as it is added to `exports`.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const root = resolve(import.meta.dirname, '..');
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
  name: string;
  exports: Record<string, unknown>;
  typesVersions?: Record<string, Record<string, string[]>>;
  peerDependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
};
/** Optional peers (express, fastify…) as a consumer would add them: the versions we develop against. */
const peers = Object.entries(pkg.peerDependencies ?? {}).map(([name, range]) => `${name}@${pkg.devDependencies?.[name] ?? range}`);
/** `firebreak`, `firebreak/testing`, … from the exports map (package.json itself excluded). */
const specifiers = Object.keys(pkg.exports)
  .filter((key) => key !== './package.json')
  .map((key) => (key === '.' ? pkg.name : `${pkg.name}/${key.slice(2)}`));
/** Exports that must exist (and be functions) on the subpaths we know; later subpaths get the generic checks. */
const KNOWN: Record<string, string[]> = {
  firebreak: ['createMonitor', 'Monitor', 'ConfigError', 'systemClock', 'monitorOptionsSchema'],
  'firebreak/testing': ['ManualClock'],
};

/** Every string leaf of an exports entry (condition targets). */
function targets(entry: unknown): string[] {
  if (typeof entry === 'string') return [entry];
  if (entry !== null && typeof entry === 'object') return Object.values(entry).flatMap(targets);
  return [];
}

// npm run-script exports its own context (prefix, package, lifecycle); the nested npm must not see it.
const env = Object.fromEntries(
  Object.entries(process.env).filter(([k]) => !/^npm_(config_(local_)?prefix|package_|lifecycle_|command)/i.test(k) && k !== 'INIT_CWD'),
);

function run(cmd: string, args: string[], cwd: string): string {
  try {
    return execFileSync(cmd, args, { cwd, env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 300_000 });
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string; message: string };
    throw new Error(`${cmd} ${args.join(' ')} failed in ${cwd}:\n${e.message}\n${e.stdout ?? ''}\n${e.stderr ?? ''}`);
  }
}

let work: string;
let project: string;
let packed: { filename: string; files: { path: string }[] };

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'firebreak-pack-'));
  project = join(work, 'consumer');
  run('npm', ['run', 'build'], root);
  [packed] = JSON.parse(run('npm', ['pack', '--json', '--pack-destination', work], root)) as [typeof packed];
  run('mkdir', ['-p', project], work);
  writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'firebreak-consumer', version: '0.0.0', private: true }, null, 2));
  run('npm', ['install', '--prefix', project, '--prefer-offline', '--no-audit', '--no-fund', join(work, packed.filename)], project);
}, 420_000);

afterAll(() => {
  if (work !== undefined) rmSync(work, { recursive: true, force: true });
});

describe('the packed package, before its optional peers are installed', () => {
  it('loads the root and every subpath that needs no peer; the others fail only for a missing peer', () => {
    const list = JSON.stringify(specifiers);
    const peerNames = JSON.stringify(Object.keys(pkg.peerDependencies ?? {}));
    writeFileSync(
      join(project, 'bare.mjs'),
      `const peers = ${peerNames};\nconst out = {};\nfor (const s of ${list}) {\n  try { await import(s); out[s] = 'ok'; }\n  catch (e) { const peer = peers.find((p) => String(e && e.message).includes("'" + p + "'")); out[s] = e && e.code === 'ERR_MODULE_NOT_FOUND' && peer ? 'needs ' + peer : 'broken: ' + (e && e.message); }\n}\nconsole.log(JSON.stringify(out));\n`,
    );
    const out = JSON.parse(run(process.execPath, ['bare.mjs'], project)) as Record<string, string>;
    expect(out['firebreak']).toBe('ok');
    expect(out['firebreak/testing']).toBe('ok');
    for (const spec of specifiers) expect(out[spec], spec).toMatch(/^(ok|needs .+)$/);
  });
});

describe('the packed package', () => {
  beforeAll(() => {
    if (peers.length > 0) run('npm', ['install', '--prefix', project, '--prefer-offline', '--no-audit', '--no-fund', ...peers], project);
  }, 180_000);

  it('discovers its subpaths from package.json', () => {
    expect(specifiers).toEqual(expect.arrayContaining(['firebreak', 'firebreak/testing']));
  });

  it('ships every file the exports map points at, and no sources or tests', () => {
    const files = new Set(packed.files.map((f) => f.path));
    for (const target of Object.values(pkg.exports).flatMap(targets)) expect(files, target).toContain(target.replace(/^\.\//, ''));
    expect([...files].filter((f) => /^(src|test|bench)\//.test(f))).toEqual([]);
  });

  it('maps every subpath for moduleResolution node10 (typesVersions)', () => {
    const mapped = Object.keys(pkg.typesVersions?.['*'] ?? {});
    for (const spec of specifiers.filter((s) => s !== pkg.name)) expect(mapped, spec).toContain(spec.slice(pkg.name.length + 1));
  });

  it('loads every subpath with import and require, with the same exports', { timeout: 60_000 }, () => {
    const list = JSON.stringify(specifiers);
    writeFileSync(
      join(project, 'esm.mjs'),
      `const out = {};\nfor (const s of ${list}) { const m = await import(s); out[s] = Object.fromEntries(Object.entries(m).map(([k, v]) => [k, typeof v])); }\nconsole.log(JSON.stringify(out));\n`,
    );
    writeFileSync(
      join(project, 'cjs.cjs'),
      `const out = {};\nfor (const s of ${list}) { const m = require(s); out[s] = Object.fromEntries(Object.entries(m).map(([k, v]) => [k, typeof v])); }\nconsole.log(JSON.stringify(out));\n`,
    );
    const esm = JSON.parse(run(process.execPath, ['esm.mjs'], project)) as Record<string, Record<string, string>>;
    const cjs = JSON.parse(run(process.execPath, ['cjs.cjs'], project)) as Record<string, Record<string, string>>;
    for (const spec of specifiers) {
      expect(Object.keys(esm[spec]!).length, `${spec} (import) exports something`).toBeGreaterThan(0);
      expect(Object.values(esm[spec]!), `${spec} exports at least one function or class`).toContain('function');
      expect(cjs[spec], `${spec}: require() and import see the same exports`).toEqual(esm[spec]);
      for (const name of KNOWN[spec] ?? []) {
        expect(esm[spec]![name], `${spec} exports ${name}`).toBe(name === 'systemClock' || name === 'monitorOptionsSchema' ? 'object' : 'function');
      }
    }
  });

  it('works end to end from both module systems, with its dependencies installed from the registry', { timeout: 60_000 }, () => {
    const body = (load: string) => `${load}
const monitor = createMonitor({ service: 'consumer', clock: new ManualClock(), minSamples: 1,
  slos: [{ name: 'p95', kind: 'latency', quantile: 0.95, thresholdMs: 100 }] });
monitor.recordRequest({ route: 'GET /x', durationMs: 250, status: 200 });
let bad = 'none';
try { createMonitor({ service: '' }); } catch (e) { bad = e instanceof ConfigError ? e.code : 'other'; }
monitor.metrics().then((text) => console.log(JSON.stringify({
  status: monitor.evaluate().slos[0].status, bad, exposed: text.includes('firebreak_request_duration_seconds_bucket') })));
`;
    writeFileSync(join(project, 'use.mjs'), body("import { createMonitor, ConfigError } from 'firebreak';\nimport { ManualClock } from 'firebreak/testing';"));
    writeFileSync(
      join(project, 'use.cjs'),
      body("const { createMonitor, ConfigError } = require('firebreak');\nconst { ManualClock } = require('firebreak/testing');"),
    );
    const expected = { status: 'breach', bad: 'CONFIG_INVALID', exposed: true };
    expect(JSON.parse(run(process.execPath, ['use.mjs'], project))).toEqual(expected);
    expect(JSON.parse(run(process.execPath, ['use.cjs'], project))).toEqual(expected);
  });

  it('type-checks a consumer against the published types (node16 ESM and CJS, bundler, node10)', () => {
    const imports = specifiers.map((s, i) => `import * as sub${i} from '${s}';`).join('\n');
    const consumer = `${imports}
import { createMonitor, ConfigError, type Monitor, type MonitorOptions, type SloResult } from 'firebreak';
import { ManualClock } from 'firebreak/testing';

const clock = new ManualClock();
const options: MonitorOptions = {
  service: 'consumer',
  clock,
  slos: [{ name: 'p95', kind: 'latency', quantile: 0.95, thresholdMs: 800 }],
};
const monitor: Monitor = createMonitor(options);
monitor.recordRequest({ route: 'GET /x', durationMs: 12, status: 200 });
const slos: SloResult[] = monitor.evaluate().slos;
const p95: number | null | undefined = slos[0]?.value;
monitor.on('slo:breach', (r) => {
  const name: string = r.name;
  void name;
});
const stats = monitor.stats();
const rate: number | null | undefined = stats.routes['GET /x']?.successRate;
// @ts-expect-error durationMs is a number, so the types are not \`any\`
monitor.recordRequest({ route: 'GET /x', durationMs: '12' });
// @ts-expect-error an unknown SLO kind is rejected by the types too
createMonitor({ service: 'x', slos: [{ name: 'a', kind: 'throughput' }] });
export function describeError(err: unknown): string[] {
  return err instanceof ConfigError ? err.issues.map((i) => i.path) : [];
}
export const used = [p95, rate, ${specifiers.map((_, i) => `sub${i}`).join(', ')}];
`;
    writeFileSync(join(project, 'consumer.ts'), consumer);
    writeFileSync(join(project, 'consumer.mts'), consumer);
    writeFileSync(join(project, 'consumer.cts'), consumer);
    const base = {
      target: 'ES2022',
      lib: ['ES2023'],
      strict: true,
      noEmit: true,
      // Our .d.ts/.d.cts are checked, not skipped; zod's CJS typings need esModuleInterop (tsc --init's default).
      skipLibCheck: false,
      esModuleInterop: true,
      types: ['node'],
      typeRoots: [join(root, 'node_modules', '@types')],
    };
    const configs: Record<string, { compilerOptions: Record<string, unknown>; files: string[] }> = {
      node16: { compilerOptions: { ...base, module: 'node16', moduleResolution: 'node16' }, files: ['consumer.mts', 'consumer.cts'] },
      bundler: { compilerOptions: { ...base, module: 'esnext', moduleResolution: 'bundler' }, files: ['consumer.ts'] },
      node10: { compilerOptions: { ...base, module: 'commonjs', moduleResolution: 'node10' }, files: ['consumer.ts'] },
    };
    const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
    for (const [name, config] of Object.entries(configs)) {
      writeFileSync(join(project, `tsconfig.${name}.json`), JSON.stringify(config, null, 2));
      expect(() => run(process.execPath, [tsc, '-p', `tsconfig.${name}.json`], project), name).not.toThrow();
    }
  }, 150_000); // three full type-checks, third-party .d.ts included
});

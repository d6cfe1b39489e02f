/**
 * A consumer with its own, different zod (zod 3) next to firebreak. firebreak
 * keeps zod 4 as a regular dependency, so npm nests it under
 * node_modules/firebreak and the consumer's zod 3 stays at the top: the two
 * copies never meet in the consumer's types, because firebreak's published
 * types only carry zod in its own option aliases and in `params`.
 *
 * What the consumer must see (docs/controls-and-actions.md, "zod versions"):
 * firebreak loads, type-checks and runs with zod 3 installed; the consumer's
 * zod 3 code is untouched; a zod 3 schema as an action's `params` is a type
 * error and, at runtime (plain JS, or a cast), a ConfigError naming `params`;
 * a schema built with firebreak's `z` export (its zod 4) is accepted, typed and
 * listed as JSON Schema.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const root = resolve(import.meta.dirname, '..');

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

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'firebreak-zod3-'));
  project = join(work, 'consumer');
  run('npm', ['run', 'build'], root);
  const [packed] = JSON.parse(run('npm', ['pack', '--json', '--pack-destination', work], root)) as [{ filename: string }];
  run('mkdir', ['-p', project], work);
  writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'zod3-consumer', version: '0.0.0', private: true, type: 'module' }, null, 2));
  run('npm', ['install', '--prefix', project, '--prefer-offline', '--no-audit', '--no-fund', join(work, packed!.filename), 'zod@3'], project);
}, 300_000);

afterAll(() => {
  if (work !== undefined) rmSync(work, { recursive: true, force: true });
});

const consumer = `import { z } from 'zod';
import { ConfigError, createMonitor, z as z4 } from 'firebreak';

const monitor = createMonitor({ service: 'zod3-consumer' });
const rerank = monitor.feature('rerank', { risky: true });

// The consumer's own zod 3 code, unaffected by firebreak's zod 4.
const User = z.object({ name: z.string().min(1) });
const user: { name: string } = User.parse({ name: 'ada' });

// A zod 3 schema as params: a type error, and a ConfigError naming params at runtime.
let zod3: { code: string; paths: string[]; message: string } | undefined;
try {
  // @ts-expect-error firebreak's params take a zod 4 schema
  monitor.actions.register({ id: 'zod3.params', title: 'zod 3 params', params: z.object({ n: z.number() }), execute: () => {} });
} catch (e) {
  if (e instanceof ConfigError) zod3 = { code: e.code, paths: e.issues.map((i) => i.path), message: e.message };
}

// A schema built with firebreak's own zod 4 (its \`z\` export): typed params, validated, listed as JSON Schema.
let seen = 0;
monitor.actions.register({
  id: 'batch.resize',
  title: 'Resize the batch',
  risk: 'safe',
  params: z4.object({ size: z4.number().int().positive() }),
  execute: ({ params }) => {
    const size: number = params.size;
    seen = size;
    return { message: 'resized to ' + size };
  },
});
const ok = await monitor.actions.execute('batch.resize', { params: { size: 8 }, by: 'alice' });
let bad: { code: string; paths: string[] } | undefined;
try {
  await monitor.actions.execute('batch.resize', { params: { size: -1 }, by: 'alice' });
} catch (e) {
  const err = e as { code: string; issues: { path: string }[] };
  bad = { code: err.code, paths: err.issues.map((i) => i.path) };
}
const listed = monitor.actions.get('batch.resize')?.params;
rerank.disable();

console.log(JSON.stringify({
  user: user.name,
  zod3,
  registered: monitor.actions.list().map((a) => a.id),
  outcome: ok.outcome,
  seen,
  bad,
  listed,
  rerank: rerank.isEnabled(),
}));
await monitor.close();
`;

describe('a consumer with zod 3 installed next to firebreak', () => {
  it('installs two copies that do not meet: zod 3 at the top, zod 4 nested under firebreak', () => {
    const top = JSON.parse(readFileSync(join(project, 'node_modules', 'zod', 'package.json'), 'utf8')) as { version: string };
    const nested = JSON.parse(readFileSync(join(project, 'node_modules', 'firebreak', 'node_modules', 'zod', 'package.json'), 'utf8')) as {
      version: string;
    };
    expect(top.version).toMatch(/^3\./);
    expect(nested.version).toMatch(/^4\./);
  });

  it('type-checks, refuses a zod 3 params schema (types and ConfigError naming params), and runs one built with firebreak\'s z', { timeout: 300_000 }, () => {
    writeFileSync(join(project, 'consumer.mts'), consumer);
    const config = {
      compilerOptions: {
        target: 'ES2022',
        lib: ['ES2023'],
        module: 'node16',
        moduleResolution: 'node16',
        strict: true,
        exactOptionalPropertyTypes: true,
        // firebreak's .d.ts (and the zod 4 they reference) are checked, not skipped.
        skipLibCheck: false,
        esModuleInterop: true,
        types: ['node'],
        typeRoots: [join(root, 'node_modules', '@types')],
        outDir: 'out',
      },
      files: ['consumer.mts'],
    };
    writeFileSync(join(project, 'tsconfig.json'), JSON.stringify(config, null, 2));
    const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
    // The consumer's expect-error directive makes tsc fail if a zod 3 schema were ever accepted by the types.
    run(process.execPath, [tsc, '-p', 'tsconfig.json'], project);
    const out = JSON.parse(run(process.execPath, [join('out', 'consumer.mjs')], project)) as {
      user: string;
      zod3?: { code: string; paths: string[]; message: string };
      registered: string[];
      outcome: string;
      seen: number;
      bad?: { code: string; paths: string[] };
      listed?: { type?: string; properties?: Record<string, unknown> };
      rerank: boolean;
    };
    expect(out.user).toBe('ada');
    expect(out.zod3?.code).toBe('CONFIG_INVALID');
    expect(out.zod3?.paths).toEqual(['params']);
    expect(out.zod3?.message).toMatch(/zod 3/);
    expect(out.registered).toEqual(expect.not.arrayContaining(['zod3.params']));
    expect(out.outcome).toBe('success');
    expect(out.seen).toBe(8);
    expect(out.bad?.code).toBe('VALIDATION_FAILED');
    expect(out.bad?.paths).toEqual(['size']);
    expect(out.listed?.type).toBe('object');
    expect(Object.keys(out.listed?.properties ?? {})).toEqual(['size']);
    expect(out.rerank).toBe(false);
  });
});

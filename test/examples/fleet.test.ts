/**
 * examples/fleet as a user runs it (against the built package, with its own
 * redis-server): a fault on one of three replicas behind a round-robin proxy
 * opens one incident with the same id on every replica and one page; the
 * kill switch pulled once through the proxy turns reranking off on all three;
 * the incident resolves, and the example exits 0 by itself.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { hasRedisServer } from '../helpers/redis-server.js';

const root = fileURLToPath(new URL('../..', import.meta.url));

describe.skipIf(!hasRedisServer && !process.env['CI'])('examples/fleet (skipped: redis-server not installed)', () => {
  it('one fault, one incident on every replica, one page; the lever pulled once reaches all three', { timeout: 120_000 }, async () => {
    expect(existsSync(`${root}dist/redis.js`), 'run `npm run build` first').toBe(true);
    const { code, output } = await new Promise<{ code: number | null; output: string }>((resolve) => {
      const child = spawn(process.execPath, ['examples/fleet/index.mjs'], { cwd: root, env: { ...process.env, NO_COLOR: '1' } });
      let output = '';
      child.stdout.on('data', (c: Buffer) => (output += c.toString()));
      child.stderr.on('data', (c: Buffer) => (output += c.toString()));
      const killer = setTimeout(() => child.kill('SIGKILL'), 110_000);
      child.on('close', (c) => {
        clearTimeout(killer);
        resolve({ code: c, output });
      });
    });
    expect(code, output).toBe(0);
    const id = /incident (inc_\w+) opened/.exec(output)?.[1];
    expect(id, output).toBeDefined();
    for (const r of ['search-a', 'search-b', 'search-c']) expect(output).toContain(`GET /admin/incidents on ${r}: ${id}`);
    expect(output).toContain('rerank is off on search-a, search-b and search-c');
    expect(output).toContain(`incident ${id} resolved on the fleet`);
    expect(output).toContain('pages for the outage: 1 (one cause, one page)');
    expect(output.match(/page: incident:opened/g)).toHaveLength(1);
  });
});

import { existsSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { anchors, fromRoot, type Link, links, markdownPages, readPage, ROOT } from './markdown.js';

/**
 * Pages other work is still writing: a link to one of these may point at a
 * file that does not exist yet. Remove an entry once its page is merged (or
 * empty the list); a listed page that exists is checked like any other.
 */
const PENDING_PAGES: readonly string[] = [];

const EXTERNAL = /^[a-z][a-z0-9+.-]*:/i; // https:, mailto:, …

/** Why a relative link is broken, or undefined when it is fine. */
function brokenBecause(link: Link): string | undefined {
  if (EXTERNAL.test(link.target)) return undefined;
  const [pathPart = '', fragment] = link.target.split('#', 2);
  const path = decodeURIComponent(pathPart);
  const file = path === '' ? link.file : fromRoot(join(ROOT, dirname(link.file), path));
  if (file.startsWith('..')) return `${link.target} leaves the repository`;
  if (!existsSync(join(ROOT, file))) return PENDING_PAGES.includes(file) ? undefined : `${file} does not exist`;
  if (fragment === undefined || fragment === '') return undefined;
  if (!file.endsWith('.md') || statSync(join(ROOT, file)).isDirectory()) return undefined;
  return anchors(readPage(file)).has(fragment) ? undefined : `${file} has no heading #${fragment}`;
}

describe('links in README.md, CONTRIBUTING.md and docs/', () => {
  const all = markdownPages().flatMap((file) => links(readPage(file), file));

  it('finds the links (the README links into docs/)', () => {
    expect(all.filter((l) => l.file === 'README.md' && l.target.startsWith('docs/')).length).toBeGreaterThanOrEqual(8);
  });

  it('every relative link points at an existing file and heading', () => {
    const broken = all.flatMap((l) => {
      const why = brokenBecause(l);
      return why === undefined ? [] : [`${l.file}:${l.line}: (${l.target}) ${why}`];
    });
    expect(broken).toEqual([]);
  });

  it('catches a link to a missing file and to a missing heading', () => {
    const page = 'README.md';
    expect(brokenBecause({ file: page, line: 1, target: 'docs/no-such-page.md' })).toBe('docs/no-such-page.md does not exist');
    expect(brokenBecause({ file: 'docs/http.md', line: 1, target: 'no-such-page.md' })).toBe('docs/no-such-page.md does not exist');
    expect(brokenBecause({ file: page, line: 1, target: 'docs/http.md#no-such-heading' })).toBe('docs/http.md has no heading #no-such-heading');
    expect(brokenBecause({ file: 'docs/http.md', line: 1, target: '#no-such-heading' })).toBe('docs/http.md has no heading #no-such-heading');
    expect(brokenBecause({ file: 'docs/http.md', line: 1, target: '../README.md#set-up' })).toBeUndefined();
    expect(brokenBecause({ file: page, line: 1, target: 'https://example.com/x.md' })).toBeUndefined();
  });
});

describe('markdown helpers', () => {
  it('links() skips code and reads inline and image links', () => {
    const md = ['see [a](a.md) and ![b](img/b.png "t")', '`[c](c.md)`', '```md', '[d](d.md)', '```', '<a href="e.md#x">e</a>'].join('\n');
    expect(links(md, 'x.md').map((l) => `${l.line}:${l.target}`)).toEqual(['1:a.md', '1:img/b.png', '6:e.md#x']);
  });

  it('anchors() slugs headings as GitHub does', () => {
    const md = ['# Set-up', '## HTTP routes', '### Route options: `createHandler(monitor, options)`', '## Errors', '## Errors', '```sh', '# not a heading', '```'].join('\n');
    expect([...anchors(md)]).toEqual(['set-up', 'http-routes', 'route-options-createhandlermonitor-options', 'errors', 'errors-1']);
  });
});

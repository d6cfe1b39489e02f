// Reads the project's markdown for the docs tests: which pages there are, the
// code blocks in them (with their hidden preludes) and their links and headings.
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Repository root. */
export const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/**
 * The pages users read: README.md, CONTRIBUTING.md and every docs/*.md. Read
 * from disk each time, so a page someone adds is checked without a list here.
 */
export function markdownPages(): string[] {
  const docs = readdirSync(join(ROOT, 'docs'))
    .filter((name) => name.endsWith('.md'))
    .sort()
    .map((name) => `docs/${name}`);
  return ['README.md', 'CONTRIBUTING.md', ...docs];
}

/** Fence languages that are type-checked, and the file extension each compiles as. */
export const CHECKED_LANGUAGES: Readonly<Record<string, '.ts' | '.mjs'>> = {
  ts: '.ts',
  typescript: '.ts',
  js: '.mjs',
  javascript: '.mjs',
};

/** One fenced code block. */
export interface CodeBlock {
  /** Page path relative to the repository root. */
  file: string;
  /** 1-based line of the opening fence. */
  line: number;
  /** Fence language, lower case ('' when none). */
  lang: string;
  /** The block's text. */
  code: string;
  /** Hidden declarations from a `<!-- snippet-prelude … -->` comment right above the fence. */
  prelude: string;
  /** 1-based line of the prelude's first code line (0 when there is none). */
  preludeLine: number;
}

const FENCE = /^ {0,3}(`{3,}|~{3,})\s*([^\s`]*)/;
const PRELUDE_OPEN = /^ {0,3}<!--\s*snippet-prelude\s*$/;
const PRELUDE_CLOSE = /^\s*-->\s*$/;

/**
 * Every fenced block of a markdown text. A prelude is an HTML comment that
 * ends on the line just above the fence:
 *
 *     <!-- snippet-prelude
 *     declare const monitor: import('firebreak').Monitor;
 *     -->
 *     ```ts
 */
export function codeBlocks(markdown: string, file: string): CodeBlock[] {
  const lines = markdown.split('\n');
  const blocks: CodeBlock[] = [];
  let prelude: { text: string; line: number; endsAt: number } | undefined;
  for (let i = 0; i < lines.length; i++) {
    const text = lines[i] ?? '';
    if (PRELUDE_OPEN.test(text)) {
      const start = i + 1;
      let end = start;
      while (end < lines.length && !PRELUDE_CLOSE.test(lines[end] ?? '')) end++;
      if (end >= lines.length) throw new Error(`${file}:${i + 1}: snippet-prelude comment is never closed`);
      prelude = { text: lines.slice(start, end).join('\n'), line: start + 1, endsAt: end };
      i = end;
      continue;
    }
    const open = FENCE.exec(text);
    if (open === null) continue;
    const marker = open[1] ?? '```';
    const lang = (open[2] ?? '').toLowerCase();
    let end = i + 1;
    const close = new RegExp(`^ {0,3}${marker[0] === '`' ? '`' : '~'}{${marker.length},}\\s*$`);
    while (end < lines.length && !close.test(lines[end] ?? '')) end++;
    if (end >= lines.length) throw new Error(`${file}:${i + 1}: code block is never closed`);
    const own = prelude !== undefined && prelude.endsAt === i - 1 ? prelude : undefined;
    blocks.push({
      file,
      line: i + 1,
      lang,
      code: lines.slice(i + 1, end).join('\n'),
      prelude: own?.text ?? '',
      preludeLine: own?.line ?? 0,
    });
    prelude = undefined;
    i = end;
  }
  return blocks;
}

/** A markdown link or image target, outside code blocks and inline code. */
export interface Link {
  file: string;
  line: number;
  target: string;
}

/** Every `[text](target)` / `![alt](target)` / `<a href="target">` link of a page, code excluded. */
export function links(markdown: string, file: string): Link[] {
  const out: Link[] = [];
  let fence: RegExp | undefined;
  markdown.split('\n').forEach((raw, i) => {
    if (fence !== undefined) {
      if (fence.test(raw)) fence = undefined;
      return;
    }
    const open = FENCE.exec(raw);
    if (open !== null) {
      const marker = open[1] ?? '```';
      fence = new RegExp(`^ {0,3}${marker[0] === '`' ? '`' : '~'}{${marker.length},}\\s*$`);
      return;
    }
    const text = raw.replace(/`[^`]*`/g, '');
    for (const m of text.matchAll(/\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)) out.push({ file, line: i + 1, target: m[1] ?? '' });
    for (const m of text.matchAll(/<a\s[^>]*href="([^"]+)"/g)) out.push({ file, line: i + 1, target: m[1] ?? '' });
  });
  return out;
}

/**
 * The anchors GitHub (and npm) give a page's headings: lower case, punctuation
 * other than `-` and `_` dropped, spaces turned into `-`, repeats suffixed -1, -2…
 */
export function anchors(markdown: string): Set<string> {
  const seen = new Map<string, number>();
  const out = new Set<string>();
  let fence: RegExp | undefined;
  for (const raw of markdown.split('\n')) {
    if (fence !== undefined) {
      if (fence.test(raw)) fence = undefined;
      continue;
    }
    const open = FENCE.exec(raw);
    if (open !== null) {
      const marker = open[1] ?? '```';
      fence = new RegExp(`^ {0,3}${marker[0] === '`' ? '`' : '~'}{${marker.length},}\\s*$`);
      continue;
    }
    const heading = /^ {0,3}#{1,6}\s+(.*?)\s*#*\s*$/.exec(raw);
    if (heading === null) continue;
    const slug = (heading[1] ?? '')
      .toLowerCase()
      .replace(/<[^>]+>/g, '')
      .replace(/[^\p{L}\p{N}\s_-]/gu, '')
      .replace(/\s/g, '-');
    const n = seen.get(slug) ?? 0;
    seen.set(slug, n + 1);
    out.add(n === 0 ? slug : `${slug}-${n}`);
  }
  return out;
}

/** Reads a page relative to the repository root. */
export function readPage(file: string): string {
  return readFileSync(join(ROOT, file), 'utf8');
}

/** A path relative to the repository root, with forward slashes. */
export function fromRoot(absolute: string): string {
  return relative(ROOT, absolute).split('\\').join('/');
}

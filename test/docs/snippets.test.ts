import { beforeAll, describe, expect, it } from 'vitest';
import { checkSnippets, type SnippetProblem } from './check-snippets.js';
import { CHECKED_LANGUAGES, type CodeBlock, codeBlocks, markdownPages, readPage } from './markdown.js';

// Every ```ts / ```typescript / ```js block of README.md, CONTRIBUTING.md and
// docs/*.md is compiled against src with the project's strict options (see
// CONTRIBUTING.md, "Code blocks in the docs"). The fixture proves that a block
// misusing the API fails.
const FIXTURE = 'test/docs/fixtures/snippets.md';

const pages = markdownPages();
const pageBlocks = pages.flatMap((file) => codeBlocks(readPage(file), file)).filter((b) => b.lang in CHECKED_LANGUAGES);
const fixtureBlocks = codeBlocks(readPage(FIXTURE), FIXTURE);

let results: Map<string, SnippetProblem[]>;
beforeAll(() => {
  results = checkSnippets([...pageBlocks, ...fixtureBlocks]);
}, 180_000);

function problemsOf(block: CodeBlock | undefined): SnippetProblem[] {
  if (block === undefined) throw new Error('no such block');
  const problems = results.get(`${block.file}:${block.line}`);
  if (problems === undefined) throw new Error(`${block.file}:${block.line} was not checked`);
  return problems;
}

describe('code blocks in README.md and docs/', () => {
  it('finds the checked blocks of every page', () => {
    expect(pages).toContain('README.md');
    expect(pages).toContain('docs/configuration.md');
    expect(pageBlocks.filter((b) => b.file === 'README.md').length).toBeGreaterThanOrEqual(3);
  });

  it.each(pageBlocks.map((b) => [`${b.file}:${b.line}`, b] as const))('%s compiles against the real API', (_at, block) => {
    expect(problemsOf(block).map((p) => `${p.at}: ${p.message}`)).toEqual([]);
  });
});

describe('the snippet checker (fixture)', () => {
  const [good, wrongType, wrongMethod, freeVariable, wrongOption, wrongImport, sh, json] = fixtureBlocks;

  it('compiles a correct block whose free variables a prelude declares', () => {
    expect(good?.prelude).toContain('declare const monitor');
    expect(problemsOf(good)).toEqual([]);
  });

  it('fails a block that passes a wrong type, at the markdown line of the mistake', () => {
    const problems = problemsOf(wrongType);
    expect(problems).toHaveLength(1);
    expect(problems[0]?.at).toBe(`${FIXTURE}:${(wrongType?.line ?? 0) + 2}`);
    expect(problems[0]?.message).toMatch(/'string' is not assignable to type 'number'/);
  });

  it('fails a block that calls a method the API does not have', () => {
    expect(problemsOf(wrongMethod).map((p) => p.message).join('\n')).toMatch(/Property 'recordRequests' does not exist/);
  });

  it('fails a block that uses an undeclared variable', () => {
    expect(problemsOf(freeVariable).map((p) => p.message).join('\n')).toMatch(/Cannot find name 'monitor'/);
  });

  it('checks JavaScript blocks too (a misspelt option)', () => {
    expect(problemsOf(wrongOption).map((p) => p.message).join('\n')).toMatch(/evaluateEveryMS/);
  });

  it('fails an import from the wrong subpath', () => {
    expect(problemsOf(wrongImport).map((p) => p.message).join('\n')).toMatch(/firebreakRouter/);
  });

  it('leaves shell and JSON blocks alone', () => {
    expect([sh?.lang, json?.lang]).toEqual(['sh', 'json']);
    expect(results.has(`${FIXTURE}:${sh?.line ?? 0}`)).toBe(false);
    expect(results.has(`${FIXTURE}:${json?.line ?? 0}`)).toBe(false);
  });
});

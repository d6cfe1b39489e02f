// Type-checks markdown code blocks with the TypeScript compiler API, against
// the project's src (test/docs/tsconfig.snippets.json maps every `firebreak`
// subpath to its source file). All blocks go into one program, so the library
// is checked once however many blocks there are.
import { join } from 'node:path';
import ts from 'typescript';
import { CHECKED_LANGUAGES, type CodeBlock, ROOT } from './markdown.js';

/** A compiler message placed back on the markdown page. */
export interface SnippetProblem {
  /** `file:line` of the offending markdown line. */
  at: string;
  message: string;
}

const CONFIG = join(ROOT, 'test/docs/tsconfig.snippets.json');
/** Virtual folder the blocks are compiled in: inside the repository, so node_modules resolves. */
const VIRTUAL_DIR = join(ROOT, 'test/docs/.snippets');

/** The file name a block compiles as, or undefined when its language is not checked. */
export function snippetFileName(block: CodeBlock): string | undefined {
  const ext = CHECKED_LANGUAGES[block.lang];
  if (ext === undefined) return undefined;
  return join(VIRTUAL_DIR, `${block.file.replace(/[^\w.-]/g, '_')}__L${block.line}${ext}`);
}

/**
 * The source a block compiles as: its prelude, then its code, then `export {}`
 * so that every block is a module (its own scope, top-level await allowed).
 */
function snippetSource(block: CodeBlock): { text: string; preludeLines: number } {
  const prelude = block.prelude === '' ? [] : block.prelude.split('\n');
  return { text: [...prelude, block.code, 'export {};', ''].join('\n'), preludeLines: prelude.length };
}

function compilerOptions(): ts.CompilerOptions {
  const read = ts.readConfigFile(CONFIG, (path) => ts.sys.readFile(path));
  if (read.error !== undefined) throw new Error(ts.flattenDiagnosticMessageText(read.error.messageText, '\n'));
  const parsed = ts.parseJsonConfigFileContent(read.config, ts.sys, join(ROOT, 'test/docs'), undefined, CONFIG);
  // 18003 = "No inputs were found": the config lists no files on purpose.
  const errors = parsed.errors.filter((d) => d.code !== 18003);
  if (errors.length > 0) throw new Error(errors.map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n')).join('\n'));
  return { ...parsed.options, noEmit: true };
}

/**
 * Compiles the blocks whose language is checked; returns each block's
 * problems (an empty list for a block that compiles) keyed by `file:line`.
 */
export function checkSnippets(blocks: readonly CodeBlock[]): Map<string, SnippetProblem[]> {
  const options = compilerOptions();
  const virtual = new Map<string, { block: CodeBlock; text: string; preludeLines: number }>();
  for (const block of blocks) {
    const name = snippetFileName(block);
    if (name !== undefined) virtual.set(name, { block, ...snippetSource(block) });
  }
  const host = ts.createCompilerHost(options, true);
  const { fileExists, readFile, getSourceFile } = host;
  host.fileExists = (path) => virtual.has(path) || fileExists.call(host, path);
  host.readFile = (path) => virtual.get(path)?.text ?? readFile.call(host, path);
  host.getSourceFile = (path, language, onError, create) => {
    const v = virtual.get(path);
    return v === undefined ? getSourceFile.call(host, path, language, onError, create) : ts.createSourceFile(path, v.text, language, true);
  };
  const program = ts.createProgram({ rootNames: [...virtual.keys()], options, host });

  const results = new Map<string, SnippetProblem[]>();
  for (const [name, { block, preludeLines }] of virtual) {
    const sf = program.getSourceFile(name);
    if (sf === undefined) throw new Error(`${name} was not compiled`);
    const diagnostics = [...program.getSyntacticDiagnostics(sf), ...program.getSemanticDiagnostics(sf)];
    results.set(
      `${block.file}:${block.line}`,
      diagnostics.map((d) => {
        const line = d.start === undefined ? 0 : sf.getLineAndCharacterOfPosition(d.start).line;
        // Lines of the prelude map onto the comment, the rest onto the block.
        const mdLine = line < preludeLines ? block.preludeLine + line : block.line + 1 + line - preludeLines;
        return { at: `${block.file}:${mdLine}`, message: ts.flattenDiagnosticMessageText(d.messageText, '\n') };
      }),
    );
  }
  return results;
}

// `import text from './file?raw'`: the file's text, inlined at build time
// (tsup's raw plugin in tsup.config.ts; vite/vitest natively).
declare module '*?raw' {
  const text: string;
  export default text;
}

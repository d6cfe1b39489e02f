/**
 * Console narration for the demo: elapsed time on every line, phases with
 * progress, and no colours unless stdout is a terminal (NO_COLOR honoured).
 */
export function createNarrator(out = process.stdout) {
  const started = performance.now();
  const colour = out.isTTY === true && !process.env.NO_COLOR;
  const paint = (code, text) => (colour ? `\u001b[${code}m${text}\u001b[0m` : text);
  const stamp = () => paint('2', `[${((performance.now() - started) / 1000).toFixed(1).padStart(5)}s]`);
  const line = (text) => out.write(`${stamp()} ${text}\n`);
  return {
    title: (text) => line(paint('1', text)),
    phase: (n, of, text) => line(paint('1;36', `── ${n}/${of} ${text}`)),
    step: (text) => line(`   ${text}`),
    progress: (text) => line(paint('2', `   … ${text}`)),
    event: (icon, text) => line(`   ${icon} ${text}`),
    block: (text) => out.write(`${String(text).trimEnd().replace(/^/gm, '     │ ')}\n`),
    done: (text) => line(paint('1;32', `✓ ${text}`)),
    fail: (text) => line(paint('1;31', `✗ ${text}`)),
    keep: (lines) => lines.forEach((l) => line(paint('1', l))),
  };
}

import { describe, expect, it } from 'vitest';
import { clean, painter, table } from '../../src/cli/output.js';
import { duration } from '../../src/cli/render.js';

const tty = { write: () => true, isTTY: true };
const pipe = { write: () => true, isTTY: false };

describe('CLI output', () => {
  it('colours only on a TTY with NO_COLOR unset or empty', () => {
    expect(painter(tty, {})('red', 'breach')).toBe('\u001b[31mbreach\u001b[39m');
    expect(painter(tty, { NO_COLOR: '' })('red', 'breach')).toContain('\u001b[31m');
    expect(painter(tty, { NO_COLOR: '1' })('red', 'breach')).toBe('breach');
    expect(painter(pipe, {})('red', 'breach')).toBe('breach');
  });

  it('aligns columns ignoring colour codes', () => {
    const paint = painter(tty, {});
    const out = table(
      [{ a: 'x', b: 'long value' }, { a: 'longer', b: 'y' }],
      [
        { header: 'A', value: (r) => r.a, colour: () => 'green' },
        { header: 'B', value: (r) => r.b },
      ],
      paint,
    );
    // eslint-disable-next-line no-control-regex
    const plain = out.replace(/\u001b\[[0-9;]*m/g, '').split('\n');
    expect(plain[0]).toBe('A       B');
    expect(plain[1]).toBe('x       long value');
    expect(plain[2]).toBe('longer  y');
  });

  it('neutralises terminal escape sequences in server data', () => {
    expect(clean('evil\u001b]0;pwned\u0007title')).toBe('evil?]0;pwned?title');
    const out = table([{ s: 'a\u001b[2Jb' }], [{ header: 'S', value: (r) => r.s }], painter(pipe, {}));
    expect(out).not.toContain('\u001b');
  });

  it('cuts long cells with an ellipsis and folds newlines', () => {
    const out = table([{ s: `line1\nline2 ${'x'.repeat(100)}` }], [{ header: 'S', value: (r) => r.s, max: 20 }], painter(pipe, {}));
    expect(out.split('\n')[1]).toBe('line1 line2 xxxxxxx…');
  });

  it('formats durations for humans', () => {
    expect(duration(950)).toBe('950ms');
    expect(duration(42_000)).toBe('42s');
    expect(duration(185_000)).toBe('3m 05s');
    expect(duration(2 * 3_600_000 + 600_000)).toBe('2h 10m');
    expect(duration(3 * 86_400_000 + 4 * 3_600_000)).toBe('3d 4h');
  });
});

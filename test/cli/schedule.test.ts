import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { CliError, EXIT } from '../../src/cli/exit-codes.js';
import { CLI_MATCHER_NAMES, CLI_WEEKDAYS, maintenanceBody, parseDuration, parseInstant, parseMatcher, silenceBody } from '../../src/cli/schedule.js';
import { MATCHER_NAMES } from '../../src/incidents/matchers.js';
import { WEEKDAYS } from '../../src/incidents/maintenance.js';
import { maintenanceInputSchema } from '../../src/incidents/maintenance.js';
import { silenceInputSchema } from '../../src/incidents/silences.js';

function usage(fn: () => unknown): CliError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(CliError);
    expect((err as CliError).exitCode).toBe(EXIT.usage);
    return err as CliError;
  }
  throw new Error('expected a usage error');
}

describe('silence/maintenance flag parsing', () => {
  it('accepts every matcher name and weekday the library accepts, and no other', () => {
    // The CLI keeps its own copies (no zod in the bundle): they must not drift from the server's.
    expect([...CLI_MATCHER_NAMES]).toEqual([...MATCHER_NAMES]);
    expect([...CLI_WEEKDAYS]).toEqual([...WEEKDAYS]);
    for (const name of MATCHER_NAMES) expect(parseMatcher(`${name}=x`)).toEqual({ name, op: '=', value: 'x' });
  });

  it('parses the four operators, the longest first, and keeps the rest of the text as the value', () => {
    expect(parseMatcher('scope=~route:.*')).toEqual({ name: 'scope', op: '=~', value: 'route:.*' });
    expect(parseMatcher('scope!~limiter:.*')).toEqual({ name: 'scope', op: '!~', value: 'limiter:.*' });
    expect(parseMatcher('severity!=low')).toEqual({ name: 'severity', op: '!=', value: 'low' });
    expect(parseMatcher('scope=route:GET /a=b')).toEqual({ name: 'scope', op: '=', value: 'route:GET /a=b' });
    expect(parseMatcher('detector=')).toEqual({ name: 'detector', op: '=', value: '' });
  });

  it('parses durations with units and refuses bare numbers and zero', () => {
    expect(parseDuration('90s', '--duration', 86_400_000)).toBe(90_000);
    expect(parseDuration('1h30m', '--duration', 86_400_000)).toBe(5_400_000);
    expect(parseDuration('1d', '--duration', 86_400_000)).toBe(86_400_000);
    expect(parseDuration('1w', '--duration', 7 * 86_400_000)).toBe(7 * 86_400_000);
    expect(parseDuration('250ms', '--duration', 86_400_000)).toBe(250);
    expect(usage(() => parseDuration('120', '--duration', 86_400_000)).message).toContain('--duration');
    expect(usage(() => parseDuration('0h', '--duration', 86_400_000)).message).toContain('longer than zero');
    expect(usage(() => parseDuration('1d1s', '--duration', 86_400_000)).message).toContain('at most 24 h');
    expect(usage(() => parseDuration('99999999999999999999999h', '--duration', 86_400_000)).message).toContain('at most');
  });

  it('takes instants only with a zone, so a command means the same time on every machine', () => {
    expect(parseInstant('2030-01-05T02:00Z', '--until')).toBe(Date.UTC(2030, 0, 5, 2));
    expect(parseInstant('2030-01-05T04:00:00.500+02:00', '--until')).toBe(Date.UTC(2030, 0, 5, 2, 0, 0, 500));
    expect(usage(() => parseInstant('2030-01-05T02:00:00', '--until')).message).toContain('--until');
    expect(usage(() => parseInstant('2030-01-05', '--start')).message).toContain('--start');
    expect(usage(() => parseInstant('2030-02-30T02:00:00Z', '--end')).message).toContain('--end');
  });

  it('builds bodies the library validates as they are', () => {
    const silence = silenceBody({ match: ['type=high-latency', 'scope=~route:.*'], duration: '2h', comment: 'deploy' });
    expect(silenceInputSchema.safeParse({ ...silence, createdBy: 'alice' }).success).toBe(true);
    const until = silenceBody({ match: ['type=x'], start: '2030-01-05T02:00:00Z', until: '2030-01-05T03:00:00Z', comment: 'x' });
    expect(until).toMatchObject({ startsAt: Date.UTC(2030, 0, 5, 2), endsAt: Date.UTC(2030, 0, 5, 3) });
    expect(silenceInputSchema.safeParse({ ...until, createdBy: 'alice' }).success).toBe(true);

    const bodies = [
      maintenanceBody({ name: 'n', match: [], daily: true, at: '02:00', duration: '30m' }),
      maintenanceBody({ name: 'w', match: ['type=x'], weekly: 'sat,sun', at: '22:00', duration: '4h', comment: 'c' }),
      maintenanceBody({ name: 'o', match: [], start: '2030-01-05T02:00:00Z', end: '2030-01-05T04:00:00Z' }),
      maintenanceBody({ name: 'o', match: [], start: '2030-01-05T02:00:00Z', duration: '2h' }),
    ];
    for (const b of bodies) expect(maintenanceInputSchema.safeParse({ ...b, createdBy: 'ops' }).success).toBe(true);
    expect(bodies[1]).toMatchObject({ weekly: { days: ['sun', 'sat'] } }); // week order, as getUTCDay() counts
  });

  it('names the flag in every refusal', () => {
    expect(usage(() => silenceBody({ match: ['type=x'], duration: '1h', until: '2030-01-05T03:00:00Z', comment: 'x' })).message).toMatch(/--duration .* --until/);
    expect(usage(() => silenceBody({ match: ['type=x'], start: '2030-01-05T03:00:00Z', until: '2030-01-05T03:00:00Z', comment: 'x' })).message).toContain('--until must be after --start');
    expect(usage(() => silenceBody({ match: [...Array(21)].map(() => 'type=x'), duration: '1h', comment: 'x' })).message).toContain('--match');
    expect(usage(() => maintenanceBody({ name: 'x'.repeat(101), match: [], daily: true, at: '02:00', duration: '1h' })).message).toContain('--name');
    expect(usage(() => maintenanceBody({ name: 'w', match: [], weekly: ' , ', at: '02:00', duration: '1h' })).message).toContain('--weekly');
  });
});

/** Splits a documented shell line into words (quotes only; the docs use no escapes or variables). */
function words(line: string): string[] {
  return [...line.matchAll(/'([^']*)'|"([^"]*)"|(\S+)/g)].map((m) => m[1] ?? m[2] ?? m[3] ?? '');
}

describe('the documented silence and maintenance commands', () => {
  it('every one parses and sends a request the server can accept', async () => {
    const { run } = await import('../../src/cli/program.js');
    const lines = ['docs/silences-and-inhibition.md', 'docs/dashboard-and-cli.md'].flatMap((f) =>
      readFileSync(new URL(`../../${f}`, import.meta.url), 'utf8')
        .split('\n')
        .filter((l) => /^firebreak (silence|maintenance) /.test(l))
        .map((l) => l.replace(/\s+#.*$/, '')),
    );
    expect(lines.length).toBeGreaterThanOrEqual(10);
    for (const line of lines) {
      const sent: { method: string; body: unknown }[] = [];
      const fetchFn = (async (_url: string, init: RequestInit) => {
        sent.push({ method: String(init.method), body: init.body === undefined ? undefined : JSON.parse(String(init.body)) });
        return new Response('{}', { status: 200, headers: { 'content-type': 'application/json' } });
      }) as unknown as typeof fetch;
      const err: string[] = [];
      const argv = words(line).slice(1).filter((w) => w !== '[--state' && w !== 'active]');
      const code = await run(argv, { env: { FIREBREAK_URL: 'http://127.0.0.1:1', FIREBREAK_TOKEN: 't' }, stdout: { write: () => true }, stderr: { write: (s: string) => err.push(s) }, fetch: fetchFn });
      expect(code, `${line}: ${err.join('')}`).toBe(0);
      expect(sent, line).toHaveLength(1);
      const body = sent[0]!.body as Record<string, unknown> | undefined;
      if (line.includes('silence add')) expect(silenceInputSchema.safeParse({ ...body, createdBy: 'ops' }).success, line).toBe(true);
      if (line.includes('maintenance add')) expect(maintenanceInputSchema.safeParse({ ...body, createdBy: 'ops' }).success, line).toBe(true);
    }
  });
});

import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
// @ts-expect-error -- a plain .mjs script without types
import { referenceSection, referenceTable, replaceSection } from '../../scripts/config-reference.mjs';
import * as root from '../../src/index.js';
import * as http from '../../src/http/index.js';

type Gen = (r: unknown, h: unknown) => string;

describe('configuration reference (docs/configuration.md)', () => {
  it('matches what the zod schemas accept (run `npm run build && node scripts/config-reference.mjs --write` after changing options)', () => {
    const page = readFileSync(new URL('../../docs/configuration.md', import.meta.url), 'utf8');
    const generated = (referenceSection as Gen)(root, http);
    expect((replaceSection as (a: string, b: string) => string)(page, generated)).toBe(page);
  });

  it('lists every option with its type, default and bounds', () => {
    const table = (referenceTable as (s: z.ZodType) => string)(
      z.strictObject({
        service: z.string().min(1),
        window: z.strictObject({ slotMs: z.number().int().positive().default(10_000) }).optional(),
        slos: z.array(z.discriminatedUnion('kind', [z.strictObject({ kind: z.literal('cpu'), max: z.number().max(4) })])).default([]),
      }),
    );
    expect(table).toContain('| `service` | string | yes |  | length ≥ 1 |');
    expect(table).toContain('| `window.slotMs` | integer |  | `10000` | > 0, integer |');
    expect(table).toContain('| `slos[]{kind: "cpu"}.max` | number | yes |  | ≤ 4 |');
  });
});

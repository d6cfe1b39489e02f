import { z } from 'zod';

/** Longest control name accepted. */
export const MAX_NAME = 100;

/** zod schema of a control name. */
export const controlNameSchema = z
  .string()
  .min(1, 'name must not be empty')
  .max(MAX_NAME, `name must be at most ${MAX_NAME} characters`);

/**
 * Params schema of a control action: `name` picks the control (optional when
 * exactly one exists) plus the action's own fields. The check runs at
 * validation time, so an unknown or ambiguous name is a `ValidationError` on
 * `name` before anything runs.
 */
export function namedParams<Shape extends z.ZodRawShape>(kind: string, controls: ReadonlyMap<string, unknown>, shape: Shape) {
  return z
    .strictObject({ name: controlNameSchema.optional(), ...shape })
    .superRefine((v, ctx) => {
      const name = (v as { name?: string }).name;
      if (name !== undefined) {
        if (!controls.has(name)) {
          ctx.addIssue({ code: 'custom', path: ['name'], message: `unknown ${kind} "${name}" (known: ${known(controls)})` });
        }
      } else if (controls.size !== 1) {
        ctx.addIssue({
          code: 'custom',
          path: ['name'],
          message: controls.size === 0 ? `no ${kind} exists` : `name is required: several ${kind}s exist (${known(controls)})`,
        });
      }
    });
}

/** The control named `name`, or the only one; throws if it vanished since validation. */
export function pick<T>(kind: string, controls: ReadonlyMap<string, T>, name: string | undefined): T {
  const c = name !== undefined ? controls.get(name) : controls.size === 1 ? controls.values().next().value : undefined;
  if (c === undefined) throw new Error(`no ${kind} ${name ?? ''}`.trim());
  return c;
}

function known(controls: ReadonlyMap<string, unknown>): string {
  const names = [...controls.keys()];
  return names.length === 0 ? 'none' : names.slice(0, 10).join(', ') + (names.length > 10 ? ', …' : '');
}

import { describe, expect, it } from 'vitest';
import { FirebreakError } from '../../src/errors.js';
import { Authenticator, roleAllows } from '../../src/http/auth.js';
import { HttpError } from '../../src/http/errors.js';
import { httpOptionsSchema, type AuthRequest, type HttpOptions } from '../../src/http/options.js';

const A = 'alpha-token-0123456789';
const B = 'bravo-token-0123456789';

function authenticator(auth: HttpOptions['auth']): Authenticator {
  return new Authenticator(httpOptionsSchema.parse({ auth }).auth);
}

function req(headers: Record<string, string> = {}): AuthRequest {
  return { method: 'GET', path: '/stats/slo', headers, ip: '127.0.0.1', raw: {} };
}

async function rejection(p: Promise<unknown>): Promise<unknown> {
  return p.then(
    () => {
      throw new Error('expected a rejection');
    },
    (err: unknown) => err,
  );
}

async function expect401(p: Promise<unknown>, challenge: string): Promise<void> {
  const err = await rejection(p);
  expect(err).toBeInstanceOf(HttpError);
  expect(err).toMatchObject({ code: 'UNAUTHORIZED', headers: { 'www-authenticate': challenge } });
}

const INVALID = 'Bearer realm="firebreak", error="invalid_token"';
const REQUIRED = 'Bearer realm="firebreak"';

describe('authorize() that declines', () => {
  for (const [label, value] of [
    ['undefined', undefined],
    ['null', null],
    ['false', false],
  ] as const) {
    it(`returning ${label} is a 401, not a 500`, async () => {
      const auth = authenticator({ authorize: (() => value) as never });
      await expect401(auth.authenticate(req()), REQUIRED);
      await expect401(auth.authenticate(req({ authorization: 'Bearer whatever' })), INVALID);
      const asyncAuth = authenticator({ authorize: (async () => value) as never });
      await expect401(asyncAuth.authenticate(req()), REQUIRED);
    });
  }

  it('returning something that is not a caller is a 500 (a plain Error), not a grant', async () => {
    for (const bad of [true, 0, '', 'alice', {}, { name: 'x' }, { role: 'operator' }]) {
      const auth = authenticator({ authorize: () => bad as never });
      const err = await rejection(auth.authenticate(req()));
      expect(err).toBeInstanceOf(Error);
      expect(err).not.toBeInstanceOf(FirebreakError);
    }
  });

  it('a wrong token falls through to authorize(), which may still grant', async () => {
    const auth = authenticator({ tokens: [A], authorize: () => ({ name: 'sso', role: 'read' }) });
    expect(await auth.authenticate(req({ authorization: `Bearer ${B}` }))).toEqual({ name: 'sso', role: 'read' });
  });

});

describe('the Authorization header is matched whole', () => {
  const auth = authenticator({ tokens: [A] });

  it('accepts the scheme in any case, and spaces or tabs around the token', async () => {
    for (const h of [`Bearer ${A}`, `bearer ${A}`, `BEARER ${A}`, `Bearer \t ${A}`, `Bearer ${A}  `, `Bearer ${A}\t`]) {
      expect(await auth.authenticate(req({ authorization: h }))).toEqual({ name: 'default', role: 'operator' });
    }
  });

  it('refuses anything before the scheme or after the token', async () => {
    for (const h of [`xBearer ${A}`, ` Bearer ${A}`, `Bearer ${A} junk`, `Bearer ${A}\njunk`, `Bearer  ${A} ${A}`, `Bearer${A}`, `Token Bearer ${A}`]) {
      await expect401(auth.authenticate(req({ authorization: h })), INVALID);
    }
  });

});

describe('open mode and roles', () => {
  it("auth 'none' makes every caller an operator named anonymous, without looking at headers", async () => {
    const open = authenticator('none');
    expect(open.open).toBe(true);
    expect(await open.authenticate(req({ authorization: 'Basic nonsense' }))).toEqual({ name: 'anonymous', role: 'operator' });
    expect(authenticator({ tokens: [A] }).open).toBe(false);
  });

  it('each role allows itself', () => {
    expect(roleAllows('read', 'read')).toBe(true);
    expect(roleAllows('operator', 'operator')).toBe(true);
  });
});

describe('odd headers and duplicate tokens', () => {
  it('an Authorization header that is not a string (repeated header → array) is refused', async () => {
    const auth = authenticator({ tokens: [A] });
    const r = { ...req(), headers: { authorization: [`Bearer ${A}`] as unknown as string } };
    await expect401(auth.authenticate(r), INVALID);
  });

  it('says what is missing or wrong in the 401 message', async () => {
    const auth = authenticator({ tokens: [A] });
    const missing = await rejection(auth.authenticate(req()));
    expect((missing as Error).message).toBe('Authentication required: send Authorization: Bearer <token>');
    const wrong = await rejection(auth.authenticate(req({ authorization: `Bearer ${B}` })));
    expect((wrong as Error).message).toBe('Invalid credentials');
  });

  it('the same secret listed twice is refused at configuration, so a presented token names one caller', () => {
    const twice = {
      tokens: [
        { name: 'first', token: A, role: 'read' as const },
        { name: 'second', token: A, role: 'operator' as const },
      ],
    };
    expect(httpOptionsSchema.safeParse({ auth: twice }).success).toBe(false);
  });
});

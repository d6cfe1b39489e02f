import * as crypto from 'node:crypto';
import { describe, expect, it, vi } from 'vitest';

vi.mock('node:crypto', async (importOriginal) => {
  const real = await importOriginal<typeof import('node:crypto')>();
  return { ...real, timingSafeEqual: vi.fn(real.timingSafeEqual) };
});

import { ConfigError, FirebreakError } from '../../src/errors.js';
import { Authenticator, roleAllows } from '../../src/http/auth.js';
import { httpOptionsSchema, type AuthRequest, type HttpOptions } from '../../src/http/options.js';

const A = 'alpha-token-0123456789';
const B = 'bravo-token-0123456789';

function authenticator(auth: HttpOptions['auth']): Authenticator {
  return new Authenticator(httpOptionsSchema.parse({ auth }).auth);
}

function req(headers: Record<string, string> = {}): AuthRequest {
  return { method: 'GET', path: '/stats/slo', headers, ip: '127.0.0.1', raw: {} };
}

async function failure(p: Promise<unknown>): Promise<FirebreakError & { headers?: Record<string, string> }> {
  try {
    await p;
  } catch (err) {
    return err as FirebreakError;
  }
  throw new Error('expected a rejection');
}

describe('bearer tokens', () => {
  it('treats a plain string as an operator token named default', async () => {
    const caller = await authenticator({ tokens: [A] }).authenticate(req({ authorization: `Bearer ${A}` }));
    expect(caller).toEqual({ name: 'default', role: 'operator' });
  });

  it('names tokens and gives them their role', async () => {
    const auth = authenticator({
      tokens: [
        { name: 'alice', token: A, role: 'operator' },
        { name: 'grafana', token: B, role: 'read' },
      ],
    });
    expect(await auth.authenticate(req({ authorization: `Bearer ${B}` }))).toEqual({ name: 'grafana', role: 'read' });
    expect(await auth.authenticate(req({ authorization: `bearer   ${A}` }))).toEqual({ name: 'alice', role: 'operator' });
  });

  it('answers 401 with a Bearer challenge when no credentials are sent', async () => {
    const err = await failure(authenticator({ tokens: [A] }).authenticate(req()));
    expect(err.code).toBe('UNAUTHORIZED');
    expect(err.headers?.['www-authenticate']).toBe('Bearer realm="firebreak"');
  });

  it('answers 401 invalid_token for a wrong token, a prefix of a token, or another scheme', async () => {
    const auth = authenticator({ tokens: [A] });
    for (const authorization of [`Bearer ${B}`, `Bearer ${A.slice(0, -1)}`, `Bearer ${A}x`, `Basic ${A}`, 'Bearer']) {
      const err = await failure(auth.authenticate(req({ authorization })));
      expect(err.code).toBe('UNAUTHORIZED');
      expect(err.headers?.['www-authenticate']).toContain('invalid_token');
    }
  });

  it('compares against every token with timingSafeEqual, even after a match', async () => {
    const spy = vi.mocked(crypto.timingSafeEqual);
    spy.mockClear();
    const auth = authenticator({
      tokens: [
        { name: 'one', token: A, role: 'operator' },
        { name: 'two', token: B, role: 'read' },
        { name: 'three', token: 'charlie-token-0123456789', role: 'read' },
      ],
    });
    await auth.authenticate(req({ authorization: `Bearer ${A}` }));
    expect(spy).toHaveBeenCalledTimes(3);
    // Equal-length digests: the presented token's length never decides the comparison.
    for (const [a, b] of spy.mock.calls) expect((a as Buffer).length).toBe((b as Buffer).length);
  });

  it('ranks operator above read', () => {
    expect(roleAllows('operator', 'read')).toBe(true);
    expect(roleAllows('read', 'operator')).toBe(false);
  });
});

describe('authorize(req)', () => {
  it('lets the host decide, after tokens', async () => {
    const auth = authenticator({
      tokens: [A],
      authorize: (r) => (r.headers['x-ops-key'] === 'k' ? { name: 'ops-bot', role: 'read' } : null),
    });
    expect(await auth.authenticate(req({ 'x-ops-key': 'k' }))).toEqual({ name: 'ops-bot', role: 'read' });
    expect(await auth.authenticate(req({ authorization: `Bearer ${A}`, 'x-ops-key': 'k' }))).toEqual({ name: 'default', role: 'operator' });
    expect((await failure(auth.authenticate(req({ 'x-ops-key': 'nope' })))).code).toBe('UNAUTHORIZED');
  });

  it('may be async, and sees the request', async () => {
    const seen: AuthRequest[] = [];
    const auth = authenticator({
      authorize: async (r) => {
        seen.push(r);
        return { name: 'sso-user', role: 'operator' };
      },
    });
    expect(await auth.authenticate(req())).toEqual({ name: 'sso-user', role: 'operator' });
    expect(seen[0]?.path).toBe('/stats/slo');
  });

  it('fails closed when authorize throws or returns a malformed caller', async () => {
    const throwing = authenticator({
      authorize: () => {
        throw new Error('idp down');
      },
    });
    await expect(throwing.authenticate(req())).rejects.toThrow('idp down');
    const malformed = authenticator({ authorize: () => ({ name: 'x', role: 'admin' }) as never });
    await expect(malformed.authenticate(req())).rejects.toThrow(/role/);
    // A 500 (a plain Error), never a 401/403 the caller could take for a verdict on its credentials.
    const err: unknown = await malformed.authenticate(req()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Error);
    expect(err).not.toBeInstanceOf(FirebreakError);
    expect((err as Error).message).toMatch(/authorize\(\) result/);
  });
});

describe('auth options', () => {
  const parse = (input: unknown) => {
    const r = httpOptionsSchema.safeParse(input);
    return r.success ? undefined : ConfigError.fromZod('firebreak HTTP options', r.error).message;
  };

  it('requires auth, explaining how to opt out', () => {
    expect(parse({})).toMatch(/auth is required.*auth: 'none'/);
  });

  it('names a missing (undefined) token, as from an unset environment variable', () => {
    expect(parse({ auth: { tokens: [undefined] } })).toMatch(/tokens\.0.*is the environment variable set/);
  });

  it('refuses short tokens, duplicate names and duplicate tokens', () => {
    expect(parse({ auth: { tokens: ['short'] } })).toMatch(/at least 16 characters/);
    expect(parse({ auth: { tokens: ['a token with spaces in it'] } })).toMatch(/whitespace/);
    expect(parse({ auth: { tokens: [A, { name: 'default', token: B, role: 'read' }] } })).toMatch(/duplicate token name "default"/);
    expect(parse({ auth: { tokens: [{ name: 'x', token: A, role: 'read' }, { name: 'y', token: A, role: 'operator' }] } })).toMatch(
      /same token is listed twice/,
    );
  });

  it('requires the role of a named token', () => {
    expect(parse({ auth: { tokens: [{ name: 'x', token: A }] } })).toMatch(/tokens\.0/);
  });

  it('refuses an empty auth object and unknown auth fields', () => {
    expect(parse({ auth: {} })).toMatch(/auth needs tokens or authorize/);
    expect(parse({ auth: { tokens: [A], password: 'x' } })).toMatch(/password/);
  });
});

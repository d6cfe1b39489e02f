import { createHash, timingSafeEqual } from 'node:crypto';
import { ValidationError } from '../errors.js';
import { HttpError } from './errors.js';
import { callerSchema, type AuthRequest, type Caller, type ResolvedHttpOptions, type Role } from './options.js';

interface TokenEntry {
  caller: Caller;
  digest: Buffer;
}

const RANK: Record<Role, number> = { read: 1, operator: 2 };

/** True when `role` may call a route that requires `required`. */
export function roleAllows(role: Role, required: Role): boolean {
  return RANK[role] >= RANK[required];
}

// Digests make every comparison the same length, so timingSafeEqual never
// throws and the token's length does not leak through timing either.
const digest = (token: string): Buffer => createHash('sha256').update(token, 'utf8').digest();

const BEARER = /^Bearer[ \t]+([^\s]+)[ \t]*$/i;

/**
 * Establishes who is calling from bearer tokens (compared in constant time)
 * and/or the host's `authorize(req)`.
 */
export class Authenticator {
  /** True when auth is `'none'`: every caller is an operator named `anonymous`. */
  readonly open: boolean;
  private readonly tokens: TokenEntry[];
  private readonly authorize: ((req: AuthRequest) => unknown) | undefined;

  constructor(auth: ResolvedHttpOptions['auth']) {
    this.open = auth === 'none';
    this.tokens = [];
    this.authorize = undefined;
    if (auth === 'none') return;
    for (const t of auth.tokens ?? []) {
      const caller: Caller = typeof t === 'string' ? { name: 'default', role: 'operator' } : { name: t.name, role: t.role };
      this.tokens.push({ caller, digest: digest(typeof t === 'string' ? t : t.token) });
    }
    this.authorize = auth.authorize;
  }

  /**
   * The caller, or throws 401 (`UNAUTHORIZED`) with a `WWW-Authenticate`
   * challenge. A throwing `authorize` fails closed (500, not a grant).
   */
  async authenticate(req: AuthRequest): Promise<Caller> {
    return (await this.identify(req)).caller;
  }

  /**
   * As {@link authenticate}, and says whether the caller was established by
   * a bearer token: a credential a cross-site form or a plain link cannot
   * carry, unlike a cookie `authorize(req)` may rely on, or no credential
   * at all (`auth: 'none'`).
   */
  async identify(req: AuthRequest): Promise<{ caller: Caller; bearer: boolean }> {
    if (this.open) return { caller: { name: 'anonymous', role: 'operator' }, bearer: false };
    const header = req.headers.authorization;
    const presented = typeof header === 'string' ? BEARER.exec(header)?.[1] : undefined;
    if (presented !== undefined && this.tokens.length > 0) {
      const d = digest(presented);
      let found: Caller | undefined;
      // Compare against every token, without stopping at a match.
      for (const entry of this.tokens) {
        if (timingSafeEqual(d, entry.digest) && found === undefined) found = entry.caller;
      }
      if (found !== undefined) return { caller: found, bearer: true };
    }
    if (this.authorize !== undefined) {
      const result = await this.authorize(req);
      if (result !== null && result !== undefined && result !== false) {
        const parsed = callerSchema.safeParse(result);
        if (!parsed.success) {
          // The host's authorize() is broken: refuse, and say why in the 500 cause.
          throw new Error(ValidationError.fromZod('authorize() result', parsed.error).message);
        }
        return { caller: parsed.data, bearer: false };
      }
    }
    if (header === undefined) {
      throw new HttpError('UNAUTHORIZED', 'Authentication required: send Authorization: Bearer <token>', null, {
        'www-authenticate': 'Bearer realm="firebreak"',
      });
    }
    throw new HttpError('UNAUTHORIZED', 'Invalid credentials', null, {
      'www-authenticate': 'Bearer realm="firebreak", error="invalid_token"',
    });
  }
}

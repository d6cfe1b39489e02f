import { CliError, EXIT, usageError } from './exit-codes.js';

/** How the CLI reaches a service's admin API. */
export interface ClientOptions {
  /** Base URL where the firebreak router is mounted, e.g. `http://127.0.0.1:3000` or `https://host/ops`. */
  url: string;
  /** Bearer token; omitted when not given (the server then answers 401 unless it runs with `auth: 'none'`). */
  token?: string | undefined;
  /** Give up on a request after this long. */
  timeoutMs: number;
  /** Injected for tests; defaults to the global fetch. */
  fetch?: typeof fetch;
}

/** The error body every firebreak route sends. */
interface ErrorBody {
  error?: { code?: unknown; message?: unknown; details?: unknown };
}

const NETWORK_REASONS: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'connection reset',
  ENOTFOUND: 'host not found',
  EAI_AGAIN: 'host not found (DNS lookup failed)',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  ETIMEDOUT: 'connection timed out',
  UND_ERR_SOCKET: 'connection closed by the server',
};

/**
 * A thin client of the firebreak admin routes on the global `fetch`. Every
 * failure becomes a {@link CliError} with the right exit code and a message
 * an operator can act on.
 *
 * @example
 * ```ts
 * const client = new AdminClient({ url: 'http://127.0.0.1:3000', token: process.env.FIREBREAK_TOKEN, timeoutMs: 10_000 });
 * const incidents = await client.get('/admin/incidents?status=active');
 * ```
 */
export class AdminClient {
  readonly base: URL;
  private readonly token: string | undefined;
  private readonly timeoutMs: number;
  private readonly fetchFn: typeof fetch;

  constructor(opts: ClientOptions) {
    let base: URL;
    try {
      base = new URL(opts.url);
    } catch {
      throw usageError(`invalid --url "${opts.url}": expected e.g. http://127.0.0.1:3000`);
    }
    if (base.protocol !== 'http:' && base.protocol !== 'https:') {
      throw usageError(`invalid --url "${opts.url}": only http: and https: are supported`);
    }
    this.base = base;
    this.token = opts.token === '' ? undefined : opts.token;
    this.timeoutMs = opts.timeoutMs;
    this.fetchFn = opts.fetch ?? globalThis.fetch;
  }

  /** The base URL as shown in messages (no trailing slash). */
  get display(): string {
    return this.base.href.replace(/\/+$/, '');
  }

  /** GET a JSON route. */
  async get(path: string): Promise<unknown> {
    return this.json(await this.send('GET', path));
  }

  /** GET a text route (the post-mortem is `text/markdown`). */
  async getText(path: string): Promise<string> {
    return (await this.send('GET', path, undefined, 'text/markdown, text/plain;q=0.9, */*;q=0.1')).text();
  }

  /** POST a JSON body (always a JSON object: the routes reject other content types). */
  async post(path: string, body: Record<string, unknown> = {}): Promise<unknown> {
    return this.json(await this.send('POST', path, body));
  }

  /** DELETE a resource (expire a silence, remove a maintenance window); answers the JSON the route sends. */
  async del(path: string): Promise<unknown> {
    return this.json(await this.send('DELETE', path));
  }

  private url(path: string): string {
    return `${this.display}${path}`;
  }

  private async send(method: 'GET' | 'POST' | 'DELETE', path: string, body?: Record<string, unknown>, accept = 'application/json'): Promise<Response> {
    const headers: Record<string, string> = { accept };
    if (this.token !== undefined) headers['authorization'] = `Bearer ${this.token}`;
    const init: RequestInit = { method, headers, signal: AbortSignal.timeout(this.timeoutMs), redirect: 'error' };
    if (body !== undefined) {
      headers['content-type'] = 'application/json';
      init.body = JSON.stringify(body);
    }
    let res: Response;
    try {
      res = await this.fetchFn(this.url(path), init);
    } catch (err) {
      throw new CliError(EXIT.requestFailed, 'UNREACHABLE', `cannot reach ${this.display}: ${this.networkReason(err)}`);
    }
    if (!res.ok) throw await this.httpError(method, path, res);
    return res;
  }

  private networkReason(err: unknown): string {
    const e = err as { name?: string; message?: string; cause?: { code?: string; message?: string } };
    if (e?.name === 'TimeoutError' || e?.name === 'AbortError') return `no answer within ${this.timeoutMs} ms`;
    const code = e?.cause?.code;
    if (code !== undefined && NETWORK_REASONS[code] !== undefined) return NETWORK_REASONS[code]!;
    return e?.cause?.message ?? e?.message ?? String(err);
  }

  private async httpError(method: string, path: string, res: Response): Promise<CliError> {
    const text = await res.text().catch(() => '');
    let body: ErrorBody = {};
    try {
      body = JSON.parse(text) as ErrorBody;
    } catch {
      // Not one of ours (a proxy's HTML page…): report the status alone.
    }
    const code = typeof body.error?.code === 'string' ? body.error.code : `HTTP_${res.status}`;
    const serverMessage = typeof body.error?.message === 'string' ? body.error.message : res.statusText || 'request failed';
    const details = body.error?.details;
    const extra = details === undefined ? { status: res.status } : { status: res.status, details };
    if (res.status === 401) {
      const hint =
        this.token === undefined
          ? 'no token given: pass --token or set FIREBREAK_TOKEN'
          : 'the server rejected the token: check --token / FIREBREAK_TOKEN';
      return new CliError(EXIT.auth, code, `authentication failed (401): ${hint}`, extra);
    }
    if (res.status === 403) {
      return new CliError(EXIT.auth, code, `forbidden (403): ${serverMessage} (this needs a token with the operator role)`, extra);
    }
    return new CliError(EXIT.requestFailed, code, `${method} ${path} failed (${res.status} ${code}): ${serverMessage}`, extra);
  }

  private async json(res: Response): Promise<unknown> {
    const text = await res.text();
    if (text === '') return null;
    try {
      return JSON.parse(text) as unknown;
    } catch {
      throw new CliError(EXIT.requestFailed, 'BAD_RESPONSE', `the server at ${this.display} did not answer JSON (is --url the firebreak mount point?)`);
    }
  }
}

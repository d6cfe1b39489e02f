import type { IncomingHttpHeaders } from 'node:http';
import type { Clock, TimerHandle } from '../clock.js';
import { ValidationError } from '../errors.js';
import { HttpError } from './errors.js';
import { MAX_JSON_DEPTH, sanitizeJson } from './safe-json.js';

/**
 * A readable byte stream, as `IncomingMessage` is.
 *
 * @example
 * ```ts
 * const source: BodySource = { kind: 'stream', stream: req as ByteStream };
 * ```
 */
export interface ByteStream {
  on(event: 'data', fn: (chunk: Buffer | string) => void): unknown;
  on(event: 'end', fn: () => void): unknown;
  on(event: 'error', fn: (err: Error) => void): unknown;
  removeListener(event: string, fn: (...args: never[]) => void): unknown;
  pause(): unknown;
}

/**
 * Where a request body comes from: the unread stream, bytes a framework
 * already buffered, a value a host body-parser already parsed, or nothing.
 *
 * @example
 * ```ts
 * const source: BodySource = req.readableEnded ? { kind: 'parsed', value: req.body } : { kind: 'stream', stream: req };
 * ```
 */
export type BodySource =
  | { kind: 'stream'; stream: ByteStream }
  | { kind: 'bytes'; bytes: Buffer | string }
  | { kind: 'parsed'; value: unknown }
  | { kind: 'none' };

const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false });

/**
 * True for `application/json` and `application/<anything>+json`, with or without parameters.
 *
 * @example
 * ```ts
 * isJsonMediaType('application/json; charset=utf-8'); // true
 * isJsonMediaType('text/plain'); // false
 * ```
 */
export function isJsonMediaType(contentType: string | undefined): boolean {
  if (contentType === undefined) return false;
  const semi = contentType.indexOf(';');
  const type = (semi === -1 ? contentType : contentType.slice(0, semi)).trim().toLowerCase();
  if (type === 'application/json') return true;
  return type.startsWith('application/') && type.endsWith('+json');
}

/**
 * True for `application/x-www-form-urlencoded`, what `curl -d` sends when
 * no `Content-Type` is given (and what a cross-site HTML form posts).
 *
 * @example
 * ```ts
 * isFormMediaType('application/x-www-form-urlencoded'); // true
 * ```
 */
export function isFormMediaType(contentType: string | undefined): boolean {
  if (contentType === undefined) return false;
  const semi = contentType.indexOf(';');
  return (semi === -1 ? contentType : contentType.slice(0, semi)).trim().toLowerCase() === 'application/x-www-form-urlencoded';
}

/**
 * How {@link readJsonBody} treats the content type.
 *
 * @example
 * ```ts
 * const opts: JsonBodyOptions = { formEncodedJson: true };
 * ```
 */
export interface JsonBodyOptions {
  /**
   * Also accept a JSON object labelled `application/x-www-form-urlencoded`,
   * the type `curl -d '{"max_requests":10}'` sends by default. Anything that
   * is not a JSON object is still refused (415). Set it only for a request a
   * browser cannot forge, one authenticated by an `Authorization: Bearer`
   * header: a cross-site HTML form can post this content type without a
   * CORS preflight, so elsewhere the 415 is the CSRF defence.
   */
  formEncodedJson?: boolean;
}

function tooLarge(limit: number): HttpError {
  // Close the connection: the rest of an oversized body is not worth reading.
  return new HttpError('PAYLOAD_TOO_LARGE', `Request body exceeds ${limit} bytes`, { limitBytes: limit }, { connection: 'close' });
}

function timedOut(ms: number): HttpError {
  // The client is stalling (or gone): answer, then drop the connection rather
  // than wait for the rest of a body nobody will read.
  return new HttpError('REQUEST_TIMEOUT', `Request body not received within ${ms} ms`, { timeoutMs: ms }, { connection: 'close' });
}

function tooDeep(path: string): ValidationError {
  return new ValidationError('request body', [{ path, message: `JSON nesting deeper than ${MAX_JSON_DEPTH} levels` }]);
}

/**
 * How long the library waits for a body it reads itself, on which clock.
 *
 * @example
 * ```ts
 * const deadline: BodyDeadline = { clock: monitor.clock, timeoutMs: 10_000 };
 * ```
 */
export interface BodyDeadline {
  clock: Clock;
  /** Time allowed from the first read to the last byte; then 408 and the connection is closed. */
  timeoutMs: number;
}

function unsupported(contentType: string | undefined): HttpError {
  return new HttpError(
    'UNSUPPORTED_MEDIA_TYPE',
    `Request body must be JSON (Content-Type: application/json), got ${contentType === undefined ? 'no Content-Type' : JSON.stringify(contentType)}`,
    { contentType: contentType ?? null },
  );
}

function notAJsonObject(contentType: string): HttpError {
  return new HttpError(
    'UNSUPPORTED_MEDIA_TYPE',
    `Request body must be a JSON object (send Content-Type: application/json), got ${JSON.stringify(contentType)} that is not one`,
    { contentType },
  );
}

/** A form-labelled body is accepted only when it is a JSON object. */
function requireObject(value: unknown, contentType: string): unknown {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw notAJsonObject(contentType);
  return value;
}

/**
 * The JSON text a host's `express.urlencoded()` turned into a form object:
 * `{"max_requests":10}` parses as the single key `{"max_requests":10}` with
 * an empty value (or, when the text held a `=`, the key and value either
 * side of the first one). Anything else (several keys, nested values) is not
 * recoverable and is undefined.
 */
function jsonTextOfForm(value: unknown): string | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  const keys = Object.keys(value);
  if (keys.length !== 1) return undefined;
  const key = keys[0]!;
  const v = (value as Record<string, unknown>)[key];
  if (typeof v !== 'string') return undefined;
  return v === '' ? key : `${key}=${v}`;
}

function declaredLength(headers: IncomingHttpHeaders): number | undefined {
  const raw = headers['content-length'];
  if (raw === undefined) return undefined;
  const n = Number(raw);
  return Number.isFinite(n) && n >= 0 ? n : undefined;
}

function readStream(stream: ByteStream, limit: number, deadline: BodyDeadline | undefined): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let timer: TimerHandle | undefined;
    const cleanup = (): void => {
      if (timer !== undefined) deadline?.clock.clearTimeout(timer);
      timer = undefined;
      stream.removeListener('data', onData);
      stream.removeListener('end', onEnd);
      stream.removeListener('error', onError);
    };
    const onData = (chunk: Buffer | string): void => {
      const buf = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
      size += buf.length;
      if (size > limit) {
        cleanup();
        // Stop pulling bytes into memory; the 413 response closes the connection
        // (Node discards whatever is still in flight).
        stream.pause();
        reject(tooLarge(limit));
        return;
      }
      chunks.push(buf);
    };
    const onEnd = (): void => {
      cleanup();
      resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size));
    };
    const onError = (err: Error): void => {
      cleanup();
      reject(err);
    };
    if (deadline !== undefined) {
      // A total deadline, not an idle one: a client trickling one byte a
      // second must not hold the request open either.
      timer = deadline.clock.setTimeout(() => {
        timer = undefined;
        cleanup();
        stream.pause();
        reject(timedOut(deadline.timeoutMs));
      }, deadline.timeoutMs);
    }
    stream.on('data', onData);
    stream.on('end', onEnd);
    stream.on('error', onError);
  });
}

interface Frame {
  value: unknown;
  depth: number;
  key: string;
  parent: Frame | undefined;
}

function pathOf(frame: Frame): string {
  const keys: string[] = [];
  for (let f: Frame | undefined = frame; f?.parent !== undefined; f = f.parent) keys.push(f.key);
  return keys.reverse().join('.');
}

/**
 * Walks a value a host parser produced, without recursion (a body nested
 * 50,000 deep overflows the stack of `JSON.stringify` and of any recursive
 * walk): refuses nesting deeper than {@link MAX_JSON_DEPTH} (400) and stops
 * as soon as its JSON size passes `limit` (413). Every node visited adds at
 * least one byte, so the work is bounded by `limit` even for a value with
 * shared references or cycles (a cycle is refused as too deep).
 */
export function checkParsed(value: unknown, limit: number): void {
  let size = 0;
  const stack: Frame[] = [{ value, depth: 0, key: '', parent: undefined }];
  for (let frame = stack.pop(); frame !== undefined; frame = stack.pop()) {
    const v = frame.value;
    if (typeof v === 'string') size += Buffer.byteLength(v) + 2;
    else if (typeof v === 'number') size += String(v).length;
    else if (typeof v === 'boolean') size += v ? 4 : 5;
    else if (typeof v !== 'object' || v === null) size += 4;
    else {
      if (frame.depth >= MAX_JSON_DEPTH) throw tooDeep(pathOf(frame));
      size += 2;
      if (Array.isArray(v)) {
        size += Math.max(0, v.length - 1);
        if (size > limit) throw tooLarge(limit);
        for (let i = v.length - 1; i >= 0; i--) stack.push({ value: v[i] as unknown, depth: frame.depth + 1, key: String(i), parent: frame });
      } else {
        const keys = Object.keys(v);
        for (let i = keys.length - 1; i >= 0; i--) {
          const key = keys[i]!;
          size += Buffer.byteLength(key) + 4;
          if (size > limit) throw tooLarge(limit);
          stack.push({ value: (v as Record<string, unknown>)[key], depth: frame.depth + 1, key, parent: frame });
        }
      }
    }
    if (size > limit) throw tooLarge(limit);
  }
}

function parseBytes(bytes: Buffer | string): unknown {
  let text: string;
  try {
    text = typeof bytes === 'string' ? bytes : decoder.decode(bytes);
  } catch {
    throw new HttpError('INVALID_JSON', 'Request body is not valid UTF-8');
  }
  if (text.trim() === '') return undefined;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new HttpError('INVALID_JSON', `Request body is not valid JSON: ${(err as Error).message}`);
  }
  return sanitizeJson(value);
}

/** A form-labelled body that is no JSON at all is a real form post: 415, not 400. */
function parseFormJson(bytes: Buffer | string, contentType: string): unknown {
  let text: string;
  try {
    text = typeof bytes === 'string' ? bytes : decoder.decode(bytes);
  } catch {
    throw notAJsonObject(contentType);
  }
  const trimmed = text.trim();
  if (!trimmed.startsWith('{')) throw notAJsonObject(contentType);
  return parseBytes(trimmed);
}

/**
 * Reads a JSON request body: at most `limit` bytes (else 413), only with a
 * JSON content type (else 415), parsed into null-prototype objects with
 * `__proto__`/`constructor`/`prototype` keys refused (400). An empty body
 * reads as `undefined`, so `curl -X POST` without `-d` works. Nesting deeper
 * than {@link MAX_JSON_DEPTH} levels is refused (400 `VALIDATION_FAILED`),
 * also in a value a host parser already parsed. With a `deadline`, a stream
 * that has not ended in time is abandoned (408 `REQUEST_TIMEOUT`, with
 * `connection: close`). With `formEncodedJson`, a JSON object labelled
 * `application/x-www-form-urlencoded` is accepted too (see
 * {@link JsonBodyOptions}), also when a host `express.urlencoded()` parsed it first.
 *
 * @example
 * ```ts
 * const body = await readJsonBody({ kind: 'stream', stream: req }, req.headers, 16_384, { clock: monitor.clock, timeoutMs: 10_000 });
 * ```
 */
export async function readJsonBody(
  source: BodySource,
  headers: IncomingHttpHeaders,
  limit: number,
  deadline?: BodyDeadline,
  options: JsonBodyOptions = {},
): Promise<unknown> {
  if (source.kind === 'none') return undefined;
  const contentType = headers['content-type'];
  const length = declaredLength(headers);
  if (length !== undefined && length > limit) throw tooLarge(limit);
  const announcesBody = (length !== undefined && length > 0) || headers['transfer-encoding'] !== undefined;
  // `contentType` is only ever a form type here when it is set.
  const form = options.formEncodedJson === true && isFormMediaType(contentType) ? contentType : undefined;
  // Refuse a mislabelled body before reading it (a form post, text/plain…).
  if (announcesBody && contentType !== undefined && !isJsonMediaType(contentType) && form === undefined) throw unsupported(contentType);

  let bytes: Buffer | string;
  if (source.kind === 'stream') bytes = await readStream(source.stream, limit, deadline);
  else if (source.kind === 'bytes') bytes = source.bytes;
  else {
    const v = source.value;
    if (typeof v === 'string' || Buffer.isBuffer(v)) bytes = v;
    else if (v === undefined || v === null) return undefined;
    else if (form !== undefined) {
      // A host express.urlencoded() got there first: recover the JSON text it split.
      if (typeof v === 'object' && Object.keys(v).length === 0) return undefined;
      const text = jsonTextOfForm(v);
      if (text === undefined) throw notAJsonObject(form);
      if (Buffer.byteLength(text) > limit) throw tooLarge(limit);
      return requireObject(parseFormJson(text, form), form);
    } else {
      // A host parser (express.json()) got there first: its size limit applied; hold ours too.
      if (!isJsonMediaType(contentType)) throw unsupported(contentType);
      checkParsed(v, limit);
      return sanitizeJson(v);
    }
  }
  if (Buffer.byteLength(bytes) > limit) throw tooLarge(limit);
  if (bytes.length === 0) return undefined;
  if (form !== undefined) return requireObject(parseFormJson(bytes, form), form);
  if (!isJsonMediaType(contentType)) throw unsupported(contentType);
  return parseBytes(bytes);
}

import { PassThrough, Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { FirebreakError } from '../../src/errors.js';
import { isJsonMediaType, readJsonBody, type BodySource } from '../../src/http/body.js';
import { sanitizeJson } from '../../src/http/safe-json.js';
import { HttpError } from '../../src/http/errors.js';
import { ManualClock } from '../../src/testing/index.js';

const JSON_HEADERS = { 'content-type': 'application/json' };
const stream = (...chunks: (string | Buffer)[]): BodySource => ({ kind: 'stream', stream: Readable.from(chunks) });

async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (err) {
    if (err instanceof FirebreakError) return err.code;
    throw err;
  }
  throw new Error('expected a rejection');
}

describe('reading JSON bodies', () => {
  it('parses a JSON body from a stream in chunks', async () => {
    const body = await readJsonBody(stream('{"max_requests":', ' 10}'), JSON_HEADERS, 16_384);
    expect(body).toEqual({ max_requests: 10 });
  });

  it('reads an empty body as undefined, whatever the content type', async () => {
    expect(await readJsonBody(stream(), {}, 16_384)).toBeUndefined();
    expect(await readJsonBody(stream(), { 'content-type': 'text/plain', 'content-length': '0' }, 16_384)).toBeUndefined();
    expect(await readJsonBody({ kind: 'none' }, JSON_HEADERS, 16_384)).toBeUndefined();
  });

  it('accepts application/json with parameters and +json types, nothing else', () => {
    expect(isJsonMediaType('application/json; charset=utf-8')).toBe(true);
    expect(isJsonMediaType('Application/JSON')).toBe(true);
    expect(isJsonMediaType('application/merge-patch+json')).toBe(true);
    expect(isJsonMediaType('application/x-www-form-urlencoded')).toBe(false);
    expect(isJsonMediaType('text/plain')).toBe(false);
    expect(isJsonMediaType('text/json')).toBe(false);
    expect(isJsonMediaType(undefined)).toBe(false);
  });

  it('refuses a body over the limit by its Content-Length without reading it (413)', async () => {
    let read = false;
    const source: BodySource = {
      kind: 'stream',
      stream: Readable.from(
        (function* () {
          read = true;
          yield 'x';
        })(),
      ),
    };
    expect(await codeOf(readJsonBody(source, { ...JSON_HEADERS, 'content-length': '16385' }, 16_384))).toBe('PAYLOAD_TOO_LARGE');
    expect(read).toBe(false);
  });

  it('stops reading a chunked body as soon as it passes the limit (413)', async () => {
    let chunksRead = 0;
    const source: BodySource = {
      kind: 'stream',
      stream: Readable.from(
        (function* () {
          for (let i = 0; i < 1000; i++) {
            chunksRead++;
            yield Buffer.alloc(1024, 0x20);
          }
        })(),
      ),
    };
    expect(await codeOf(readJsonBody(source, { ...JSON_HEADERS, 'transfer-encoding': 'chunked' }, 16_384))).toBe('PAYLOAD_TOO_LARGE');
    expect(chunksRead).toBeLessThan(1000);
  });

  it('accepts a body of exactly the limit', async () => {
    const text = `{"a":"${'x'.repeat(16_384 - 8)}"}`;
    expect(Buffer.byteLength(text)).toBe(16_384);
    expect(await readJsonBody(stream(text), JSON_HEADERS, 16_384)).toEqual({ a: 'x'.repeat(16_376) });
  });

  it('refuses a non-JSON content type (415), before reading when the body is announced', async () => {
    expect(await codeOf(readJsonBody(stream('max_requests=10'), { 'content-type': 'application/x-www-form-urlencoded', 'content-length': '15' }, 16_384))).toBe(
      'UNSUPPORTED_MEDIA_TYPE',
    );
    // curl -d without -H: JSON text, form content type.
    expect(await codeOf(readJsonBody(stream('{"a":1}'), { 'content-type': 'application/x-www-form-urlencoded' }, 16_384))).toBe(
      'UNSUPPORTED_MEDIA_TYPE',
    );
    expect(await codeOf(readJsonBody(stream('{"a":1}'), {}, 16_384))).toBe('UNSUPPORTED_MEDIA_TYPE');
  });

  it('refuses invalid JSON and invalid UTF-8 (400 INVALID_JSON)', async () => {
    expect(await codeOf(readJsonBody(stream('{"a":'), JSON_HEADERS, 16_384))).toBe('INVALID_JSON');
    expect(await codeOf(readJsonBody(stream(Buffer.from([0x7b, 0xff, 0x7d])), JSON_HEADERS, 16_384))).toBe('INVALID_JSON');
  });

  it('refuses prototype-polluting keys at any depth and never pollutes', async () => {
    const attempts = [
      '{"__proto__": {"polluted": true}}',
      '{"constructor": {"prototype": {"polluted": true}}}',
      '{"params": {"nested": [{"__proto__": {"polluted": true}}]}}',
    ];
    for (const text of attempts) {
      expect(await codeOf(readJsonBody(stream(text), JSON_HEADERS, 16_384))).toBe('VALIDATION_FAILED');
    }
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
    expect(Object.prototype).not.toHaveProperty('polluted');
  });

  it('names the offending path', () => {
    try {
      sanitizeJson(JSON.parse('{"params":{"a":{"__proto__":{}}}}'));
      expect.unreachable();
    } catch (err) {
      expect((err as FirebreakError).details).toEqual([{ path: 'params.a.__proto__', message: 'key "__proto__" is not allowed' }]);
    }
  });

  it('returns null-prototype objects', async () => {
    const body = (await readJsonBody(stream('{"a":{"b":1},"c":[{"d":2}]}'), JSON_HEADERS, 16_384)) as Record<string, any>;
    expect(Object.getPrototypeOf(body)).toBeNull();
    expect(Object.getPrototypeOf(body['a'])).toBeNull();
    expect(Object.getPrototypeOf(body['c'][0])).toBeNull();
  });

  it('refuses nesting deeper than 32 levels', async () => {
    const deep = '['.repeat(40) + ']'.repeat(40);
    expect(await codeOf(readJsonBody(stream(deep), JSON_HEADERS, 16_384))).toBe('VALIDATION_FAILED');
  });

  it('takes a value a host parser already parsed, holding the same rules', async () => {
    expect(await readJsonBody({ kind: 'parsed', value: { a: 1 } }, JSON_HEADERS, 16_384)).toEqual({ a: 1 });
    expect(await codeOf(readJsonBody({ kind: 'parsed', value: JSON.parse('{"__proto__":{"x":1}}') }, JSON_HEADERS, 16_384))).toBe(
      'VALIDATION_FAILED',
    );
    expect(await codeOf(readJsonBody({ kind: 'parsed', value: { a: 'x'.repeat(20_000) } }, JSON_HEADERS, 16_384))).toBe('PAYLOAD_TOO_LARGE');
    expect(await codeOf(readJsonBody({ kind: 'parsed', value: 'a=1' }, { 'content-type': 'text/plain' }, 16_384))).toBe(
      'UNSUPPORTED_MEDIA_TYPE',
    );
  });

  it('refuses a host-parsed value nested 50,000 deep with 400, not a stack overflow', async () => {
    const deep = JSON.parse('['.repeat(50_000) + ']'.repeat(50_000)) as unknown;
    const err = await readJsonBody({ kind: 'parsed', value: deep }, JSON_HEADERS, 1_048_576).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(FirebreakError);
    expect((err as FirebreakError).code).toBe('VALIDATION_FAILED');
    expect((err as FirebreakError).details).toEqual([{ path: Array.from({ length: 32 }, () => '0').join('.'), message: 'JSON nesting deeper than 32 levels' }]);
  });

  it('refuses a cyclic host-parsed value (too deep) instead of throwing a TypeError', async () => {
    const cyclic: Record<string, unknown> = { a: 1 };
    cyclic['self'] = cyclic;
    expect(await codeOf(readJsonBody({ kind: 'parsed', value: cyclic }, JSON_HEADERS, 16_384))).toBe('VALIDATION_FAILED');
  });

  it('measures a host-parsed value with shared references in work bounded by the limit', async () => {
    // 2^30 paths through 30 shared nodes: a walk that did not stop at the limit would never end.
    let node: unknown = 'x';
    for (let i = 0; i < 30; i++) node = { l: node, r: node };
    expect(await codeOf(readJsonBody({ kind: 'parsed', value: node }, JSON_HEADERS, 16_384))).toBe('PAYLOAD_TOO_LARGE');
  });
});

describe('the body deadline', () => {
  it('answers 408 with connection: close when the stream has not ended in time, and stops reading', async () => {
    const clock = new ManualClock();
    const stream = new PassThrough();
    stream.write('{"a":');
    const pending = readJsonBody({ kind: 'stream', stream }, JSON_HEADERS, 16_384, { clock, timeoutMs: 5_000 }).catch((e: unknown) => e);
    clock.advance(4_999);
    stream.write('1');
    clock.advance(1);
    const err = await pending;
    expect(err).toBeInstanceOf(HttpError);
    expect((err as HttpError).code).toBe('REQUEST_TIMEOUT');
    expect((err as HttpError).details).toEqual({ timeoutMs: 5_000 });
    expect((err as HttpError).headers).toEqual({ connection: 'close' });
    expect(stream.listenerCount('data')).toBe(0);
  });

  it('cancels its timer when the body ends in time', async () => {
    const clock = new ManualClock();
    const body = await readJsonBody(stream('{"a":', '1}'), JSON_HEADERS, 16_384, { clock, timeoutMs: 5_000 });
    expect(body).toEqual({ a: 1 });
    expect(clock.pendingTimers()).toBe(0);
  });

  it('cancels its timer when the body is refused as too large', async () => {
    const clock = new ManualClock();
    const big = stream(...Array.from({ length: 20 }, () => Buffer.alloc(1024, 0x20)));
    expect(await codeOf(readJsonBody(big, JSON_HEADERS, 16_384, { clock, timeoutMs: 5_000 }))).toBe('PAYLOAD_TOO_LARGE');
    expect(clock.pendingTimers()).toBe(0);
  });
});

import type { IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http';
import { promisify } from 'node:util';
import zlib from 'node:zlib';

/**
 * Bodies the gateway parses and writes again as plain UTF-8 JSON (or a form) must be read as what their
 * labels say, and must leave without those labels (issue 14.6): a `charset=utf-16le` or
 * `Content-Encoding: gzip` kept on a re-serialised UTF-8 body tells the upstream to decode it wrongly.
 *
 * Accepted, and decoded before the JSON guard:
 * - Content-Encoding: one of gzip (x-gzip), deflate (zlib, or raw deflate as some senders write it), br,
 *   or identity. Decompressed with node:zlib in the thread pool, output bounded by the body limit: a
 *   zip bomb stops at `limit` bytes (413) instead of filling memory. Stacked codings are refused.
 * - charset: utf-8 (utf8), utf-16le, utf-16be, utf-16 (byte order mark, else big-endian: RFC 2781 §4.3),
 *   decoded strictly (an unpaired surrogate is refused, never replaced by U+FFFD).
 * Anything else is refused naming the header (415), not forwarded with a label that no longer holds.
 */
export type BodyDecodeFault =
  | { kind: 'unsupported'; header: 'content-encoding' | 'content-type'; value: string; accepted: string }
  | { kind: 'too-large'; limit: number }
  | { kind: 'corrupt'; header: 'content-encoding' | 'content-type'; value: string };

export type BodyDecodeResult = { ok: true; body: Buffer; decoded: boolean } | { ok: false; fault: BodyDecodeFault };

export const ACCEPTED_CODINGS = 'gzip, deflate, br, identity';
export const ACCEPTED_CHARSETS = 'utf-8, utf-16le, utf-16be, utf-16';

const gunzip = promisify(zlib.gunzip);
const inflate = promisify(zlib.inflate);
const inflateRaw = promisify(zlib.inflateRaw);
const brotli = promisify(zlib.brotliDecompress);

/** True when the body needs no decoding: no Content-Encoding (or identity), no charset other than UTF-8. */
export function isPlainUtf8(headers: IncomingHttpHeaders): boolean {
  const coding = headers['content-encoding'];
  if (coding !== undefined && !(typeof coding === 'string' && coding.trim().toLowerCase() === 'identity')) return false;
  const type = headers['content-type'];
  if (type === undefined || !type.includes(';')) return true;
  const charset = charsetOf(type);
  return charset === undefined || charset === 'utf-8' || charset === 'utf8';
}

/** Decodes `buf` per its Content-Encoding and the charset of its Content-Type into plain UTF-8. */
export async function decodeBody(
  buf: Buffer,
  headers: IncomingHttpHeaders,
  limit: number,
  textOnly: 'json' | 'form' = 'json',
): Promise<BodyDecodeResult> {
  let body = buf;
  let decoded = false;
  const coding = headerValue(headers['content-encoding']);
  if (coding !== undefined) {
    const codings = coding
      .toLowerCase()
      .split(',')
      .map((c) => c.trim())
      .filter((c) => c !== '' && c !== 'identity');
    if (codings.length > 1 || (codings.length === 1 && !isKnownCoding(codings[0]))) {
      return fault({ kind: 'unsupported', header: 'content-encoding', value: coding, accepted: ACCEPTED_CODINGS });
    }
    if (codings.length === 1) {
      const out = await decompress(codings[0], body, limit);
      if (out === 'too-large') return fault({ kind: 'too-large', limit });
      if (out === 'corrupt') return fault({ kind: 'corrupt', header: 'content-encoding', value: coding });
      body = out;
      decoded = true;
    }
  }
  const contentType = headerValue(headers['content-type']);
  const charset = contentType === undefined ? undefined : charsetOf(contentType);
  if (charset === undefined || charset === 'utf-8' || charset === 'utf8') return { ok: true, body, decoded };
  const label = utf16Label(charset, body);
  if (label === undefined || textOnly === 'form') {
    return fault({
      kind: 'unsupported',
      header: 'content-type',
      value: contentType!,
      accepted: textOnly === 'form' ? 'utf-8' : ACCEPTED_CHARSETS,
    });
  }
  let text: string;
  try {
    text = new TextDecoder(label, { fatal: true }).decode(body);
  } catch {
    return fault({ kind: 'corrupt', header: 'content-type', value: contentType! });
  }
  const utf8 = Buffer.from(text, 'utf8');
  if (utf8.length > limit) return fault({ kind: 'too-large', limit });
  return { ok: true, body: utf8, decoded: true };
}

/**
 * Outgoing request headers for a body the gateway wrote as UTF-8: no Content-Encoding, and a charset
 * parameter that says utf-8 wherever the caller's said anything (the media type itself is kept).
 */
export function describeUtf8Request(headers: Record<string, string | string[] | undefined>): void {
  delete headers['content-encoding'];
  const ct = headers['content-type'];
  if (typeof ct === 'string' && charsetOf(ct) !== undefined) headers['content-type'] = withUtf8Charset(ct);
}

/**
 * Relayed response headers for an answer the gateway re-serialised: no Content-Encoding, no digest of
 * bytes no longer sent, a UTF-8 charset, and a strong ETag made weak (same meaning, other bytes).
 */
export function describeUtf8Response(headers: OutgoingHttpHeaders): void {
  for (const name of ['content-encoding', 'content-md5', 'content-digest', 'repr-digest', 'digest']) {
    delete headers[name];
  }
  const ct = headers['content-type'];
  if (typeof ct === 'string' && charsetOf(ct) !== undefined) headers['content-type'] = withUtf8Charset(ct);
  const etag = headers.etag;
  if (typeof etag === 'string' && !etag.startsWith('W/')) headers.etag = `W/${etag}`;
}

/**
 * Content-Type values already read, with what was read from them. A deployment sees a handful of distinct
 * values, and each request asked up to four times (read, decode, re-label, answer): split, trim and
 * lower-case each time were ~1.5% of the full pipeline's CPU (issue 19). Bounded: callers choose them.
 */
const MEMO_MAX = 64;
const charsets = new Map<string, string | null>();
const utf8Labels = new Map<string, string>();

/** `fn(key)`, remembered in `memo` (emptied when full). */
export function memoised<T>(memo: Map<string, T>, key: string, fn: (key: string) => T): T {
  let value = memo.get(key);
  if (value === undefined && !memo.has(key)) {
    value = fn(key);
    if (memo.size >= MEMO_MAX) memo.clear();
    memo.set(key, value);
  }
  return value as T;
}

/** The charset parameter of a Content-Type, lower case, unquoted; undefined when there is none. */
export function charsetOf(contentType: string): string | undefined {
  return memoised(charsets, contentType, readCharset) ?? undefined;
}

function readCharset(contentType: string): string | null {
  const params = contentType.split(';');
  for (let i = 1; i < params.length; i++) {
    const eq = params[i].indexOf('=');
    if (eq === -1 || params[i].slice(0, eq).trim().toLowerCase() !== 'charset') continue;
    return params[i]
      .slice(eq + 1)
      .trim()
      .replace(/^"(.*)"$/, '$1')
      .toLowerCase();
  }
  return null;
}

function withUtf8Charset(contentType: string): string {
  return memoised(utf8Labels, contentType, labelUtf8);
}

function labelUtf8(contentType: string): string {
  const parts = contentType.split(';');
  const kept = parts.slice(1).filter((p) => {
    const eq = p.indexOf('=');
    return eq === -1 || p.slice(0, eq).trim().toLowerCase() !== 'charset';
  });
  return [parts[0].trim(), ...kept.map((p) => p.trim()).filter((p) => p !== ''), 'charset=utf-8'].join('; ');
}

function utf16Label(charset: string, body: Buffer): 'utf-16le' | 'utf-16be' | undefined {
  if (charset === 'utf-16le' || charset === 'utf-16be') return charset;
  if (charset !== 'utf-16') return undefined;
  return body.length >= 2 && body[0] === 0xff && body[1] === 0xfe ? 'utf-16le' : 'utf-16be';
}

function isKnownCoding(c: string): boolean {
  return c === 'gzip' || c === 'x-gzip' || c === 'deflate' || c === 'br';
}

async function decompress(coding: string, body: Buffer, limit: number): Promise<Buffer | 'too-large' | 'corrupt'> {
  const options = { maxOutputLength: Math.max(1, limit) };
  try {
    if (coding === 'br') return await brotli(body, options);
    if (coding === 'deflate') {
      try {
        return await inflate(body, options);
      } catch (err) {
        if (isTooLarge(err)) throw err;
        return await inflateRaw(body, options);
      }
    }
    return await gunzip(body, options);
  } catch (err) {
    return isTooLarge(err) ? 'too-large' : 'corrupt';
  }
}

function isTooLarge(err: unknown): boolean {
  return (err as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE';
}

function headerValue(v: string | string[] | undefined): string | undefined {
  if (v === undefined) return undefined;
  return Array.isArray(v) ? v.join(', ') : v;
}

function fault(f: BodyDecodeFault): BodyDecodeResult {
  return { ok: false, fault: f };
}

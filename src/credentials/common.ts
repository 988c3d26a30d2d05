import { createHash } from 'node:crypto';
import type { Static } from 'typebox';
import { Type } from '../plugin/schema-type.ts';
import { ConfigPathError } from '../config/config-error.ts';
import { formUrlEncode } from '../logging/secret-masker.ts';
import type { SecretSource } from '../config/secrets.ts';
import { sendTokenRequest, type TokenHttpRequest } from './token-http.ts';
import { tokenEndpointFailed } from './token-source.ts';
import type { StrategyDeps } from './types.ts';

type Path = readonly (string | number)[];

/** Options every token-fetching strategy shares, with their defaults (filled in by the plug-in loader). */
export const tokenTimingSchemaProperties = {
  /** Refresh this long before the token expires. */
  refreshSkewSeconds: Type.Integer({ minimum: 0, default: 60 }),
  /** Whole token call, connect to last byte. */
  timeoutMs: Type.Integer({ minimum: 1, default: 10_000 }),
  /** While the endpoint fails, at most one token call per this interval. */
  minRetryIntervalMs: Type.Integer({ minimum: 0, default: 1000 }),
};
export type TokenTimingOptions = Static<ReturnType<typeof Type.Object<typeof tokenTimingSchemaProperties>>>;

/** Header name syntax (RFC 9110 token). */
export const headerNameSchema = Type.String({ pattern: "^[!#$%&'*+.^_`|~0-9A-Za-z-]+$" });

export function secretSource(deps: StrategyDeps): SecretSource {
  return { env: deps.env ?? process.env, configDir: deps.configDir ?? process.cwd() };
}

/**
 * Token cache key: upstream, strategy and a digest of the options and resolved secrets, so two credential
 * sets for one upstream never share a token, a reload with the same credentials keeps its token, and a
 * rotated secret gets a fresh one. The digest is one-way; the key never shows a secret.
 */
export function tokenCacheKey(upstreamId: string, strategy: string, material: unknown): string {
  const digest = createHash('sha256').update(JSON.stringify(material)).digest('hex').slice(0, 16);
  return `${upstreamId}|${strategy}|${digest}`;
}

/** Sets a header on the call, overwriting what the caller sent under any casing. */
export function setHeader(headers: Record<string, string | string[] | undefined>, name: string, value: string): void {
  const lower = name.toLowerCase();
  // Header names are ASCII tokens: only one of the same length can be this name in another case.
  for (const existing of Object.keys(headers)) {
    if (existing.length === lower.length && existing !== lower && existing.toLowerCase() === lower)
      delete headers[existing];
  }
  headers[lower] = value;
}

/** Removes a header from the call under any casing. */
export function removeHeader(headers: Record<string, string | string[] | undefined>, name: string): void {
  const lower = name.toLowerCase();
  for (const existing of Object.keys(headers)) if (existing.toLowerCase() === lower) delete headers[existing];
}

/** The token a call carried in `value` (a header set by setHeader), without its scheme; undefined if none. */
export function injectedToken(value: string | string[] | undefined, scheme: string | undefined): string | undefined {
  if (typeof value !== 'string') return undefined;
  return scheme ? (value.startsWith(`${scheme} `) ? value.slice(scheme.length + 1) : undefined) : value;
}

/** Reads a lifetime field: a number or a numeric string of seconds; anything else is undefined. */
export function toSeconds(value: unknown): number | undefined {
  const n = typeof value === 'number' ? value : typeof value === 'string' && value.trim() !== '' ? Number(value) : NaN;
  return Number.isFinite(n) && n > 0 ? n : undefined;
}

/**
 * Parses a token endpoint's answer as JSON, or returns a reason saying what came back instead (an HTML
 * error page from a reverse proxy, an empty body). `scrub` removes secrets from any text quoted.
 */
export function parseJsonAnswer(
  res: { status: number; contentType: string; text: string },
  scrub: (text: string) => string,
): { ok: true; json: unknown } | { ok: false; reason: string } {
  if (res.text.trim() === '') return { ok: false, reason: `HTTP ${res.status} with an empty answer` };
  try {
    return { ok: true, json: JSON.parse(res.text) };
  } catch {
    const kind = res.contentType ? res.contentType.split(';')[0] : 'no content type';
    const excerpt = /html/i.test(kind) || /^\s*</.test(res.text) ? htmlTitle(res.text) : res.text;
    return { ok: false, reason: `HTTP ${res.status} answered non-JSON (${kind}): ${scrub(excerpt)}` };
  }
}

/**
 * Sends a token request and reads its answer as JSON: a transport fault or a non-JSON answer is a failure
 * of the upstream's token endpoint, its text scrubbed of the secrets sent. The status is the caller's to judge.
 */
export async function requestTokenAnswer(
  req: TokenHttpRequest,
  upstreamId: string,
  scrub: (text: string) => string,
): Promise<{ status: number; json: unknown }> {
  let res;
  try {
    res = await sendTokenRequest(req);
  } catch (err) {
    throw tokenEndpointFailed(upstreamId, scrub((err as Error).message), err);
  }
  const parsed = parseJsonAnswer(res, scrub);
  if (!parsed.ok) throw tokenEndpointFailed(upstreamId, parsed.reason);
  return { status: res.status, json: parsed.json };
}

function htmlTitle(html: string): string {
  const title = /<title[^>]*>([^<]*)<\/title>/i.exec(html)?.[1];
  return title ?? html.replace(/<[^>]*>/g, ' ');
}

/**
 * The base64 text of an OAuth2 client's HTTP Basic credentials. RFC 6749 §2.3.1: the client id and
 * secret are each encoded with application/x-www-form-urlencoded, then joined by `:` and base64-encoded,
 * so a secret holding `+`, `%`, `:` or non-ASCII reaches a compliant server intact (`raw` skips the
 * form-encoding, for servers that do not decode it).
 */
export function basicCredentials(id: string, secret: string, encoding: 'form' | 'raw', path: Path): string {
  // RFC 7617: unencoded, a colon in the id would be read as the end of it.
  if (encoding === 'raw' && id.includes(':')) {
    throw new ConfigPathError([...path, 'clientAuth'], 'basic', 'basic-raw cannot carry a client id holding ":"');
  }
  const pair = encoding === 'form' ? `${formUrlEncode(id)}:${formUrlEncode(secret)}` : `${id}:${secret}`;
  return Buffer.from(pair, 'utf8').toString('base64');
}

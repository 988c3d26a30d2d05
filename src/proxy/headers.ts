import type { IncomingHttpHeaders, IncomingMessage, OutgoingHttpHeaders } from 'node:http';

/** RFC 9110 §7.6.1 hop-by-hop headers, plus legacy ones; never forwarded in either direction. */
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy-authenticate',
  'proxy-authorization',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
]);

/** Headers that carry the caller's credentials for the gateway itself: consumed here, never forwarded. */
const GATEWAY_CREDENTIALS = ['x-api-key', 'x-admin-key'];

export interface ForwardInfo {
  readonly requestId: string;
  readonly remoteAddress: string | undefined;
  readonly proto: 'http' | 'https';
  /** True when the caller's Authorization header authenticated it to the gateway (JWT): drop it. */
  readonly dropAuthorization: boolean;
}

/**
 * The headers to send upstream: the caller's, minus hop-by-hop and gateway credentials, with
 * X-Forwarded-For appended, X-Forwarded-Proto/Host and X-Request-Id set. Host is set by the forwarder.
 */
export function outgoingHeaders(req: IncomingMessage, info: ForwardInfo): Record<string, string | string[]> {
  const src = req.headers;
  const out: Record<string, string | string[]> = {};
  const connectionTokens = listConnectionTokens(src.connection);
  for (const name in src) {
    const value = src[name];
    if (value === undefined || HOP_BY_HOP.has(name) || name === 'host') continue;
    if (connectionTokens !== undefined && connectionTokens.has(name)) continue;
    out[name] = value;
  }
  for (const name of GATEWAY_CREDENTIALS) delete out[name];
  if (info.dropAuthorization) delete out.authorization;
  const prior = src['x-forwarded-for'];
  const remote = info.remoteAddress ?? 'unknown';
  out['x-forwarded-for'] = prior ? `${Array.isArray(prior) ? prior.join(', ') : prior}, ${remote}` : remote;
  out['x-forwarded-proto'] = info.proto;
  if (src.host) out['x-forwarded-host'] = src.host;
  out['x-request-id'] = info.requestId;
  return out;
}

/** Removes hop-by-hop headers from an upstream response before it is relayed to the caller. */
export function relayableResponseHeaders(headers: IncomingHttpHeaders): OutgoingHttpHeaders {
  const out: OutgoingHttpHeaders = {};
  const connectionTokens = listConnectionTokens(headers.connection);
  for (const name in headers) {
    if (HOP_BY_HOP.has(name)) continue;
    if (connectionTokens !== undefined && connectionTokens.has(name)) continue;
    out[name] = headers[name];
  }
  return out;
}

/** In-place variant for http-proxy-middleware's proxyRes hook (it copies proxyRes.headers afterwards). */
export function stripHopByHop(headers: IncomingHttpHeaders): void {
  const connectionTokens = listConnectionTokens(headers.connection);
  for (const name of Object.keys(headers)) {
    // transfer-encoding is left for httpxy/Node to manage the framing of the relayed body.
    if (
      (HOP_BY_HOP.has(name) && name !== 'transfer-encoding' && name !== 'connection') ||
      connectionTokens?.has(name)
    ) {
      delete headers[name];
    }
  }
}

function listConnectionTokens(value: string | string[] | undefined): Set<string> | undefined {
  if (!value) return undefined;
  const tokens = (Array.isArray(value) ? value.join(',') : value)
    .split(',')
    .map((t) => t.trim().toLowerCase())
    .filter((t) => t && t !== 'close' && t !== 'keep-alive');
  return tokens.length > 0 ? new Set(tokens) : undefined;
}

/**
 * A request id from the caller is kept when it is short and plain; otherwise a new one is made. An id
 * holding a run of 9 or more digits is replaced too (issue 14.7): callers have sent the citizen's ID
 * number (or a phone number) as their id, and the id is written in clear in the audit trail, the log, the
 * answer and the upstream's headers. Replaced, not hashed: a hash would still be a value derived from an
 * ID number travelling to the upstream, and the caller learns the new id from the X-Request-Id answer header.
 * (A UUID whose last group is all digits, about 1 in 280, is replaced as well.)
 */
export function acceptableRequestId(value: string | string[] | undefined): string | undefined {
  if (typeof value !== 'string') return undefined;
  return /^[A-Za-z0-9._:-]{1,128}$/.test(value) && !/[0-9]{9}/.test(value) ? value : undefined;
}

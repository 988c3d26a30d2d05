import type { IncomingHttpHeaders, IncomingMessage, OutgoingHttpHeaders } from 'node:http';
import { isIP, type BlockList } from 'node:net';
import { addressIn, normalizeAddress } from '../auth/addresses.ts';

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

/**
 * The body's framing and the target host are the gateway's own (src/upstream/framing.ts, the upstream
 * client): a caller's value is never copied onward, so no caller can frame a byte the upstream reads.
 */
const FRAMING = new Set(['content-length', 'transfer-encoding', 'host', 'expect']);

/**
 * Headers that make common upstream stacks route, re-method or re-attribute a request (IIS/Symfony
 * X-Original-URL and X-Rewrite-URL, Spring/Express/ASP.NET method overrides, client-address headers that
 * servers log or trust). A caller would otherwise step past the route's path and method checks or speak
 * for someone else: dropped unless the route lists one in `forwardHeaders`. The forwarding chain
 * (X-Forwarded-*, Forwarded) is rebuilt by the gateway instead.
 */
export const ROUTING_OVERRIDE_HEADERS: readonly string[] = [
  'x-original-url',
  'x-rewrite-url',
  'x-original-uri',
  'x-override-url',
  'x-http-method-override',
  'x-http-method',
  'x-method-override',
  'x-real-ip',
  'x-client-ip',
  'true-client-ip',
  'x-cluster-client-ip',
  'client-ip',
];

/** Set by the gateway from the trusted-proxy chain; the caller's values never pass. */
const FORWARDING_CHAIN = new Set([
  'forwarded',
  'x-forwarded-for',
  'x-forwarded-host',
  'x-forwarded-proto',
  'x-forwarded-port',
  'x-forwarded-prefix',
  'x-forwarded-server',
  'x-request-id',
]);

/**
 * A `Connection` option may remove a caller's end-to-end header (RFC 9110 §7.6.1), but never one the
 * gateway frames or sets itself: `Connection: content-length` once made the streamed path drop the
 * length and send the body unframed.
 */
const NOT_NAMEABLE_IN_CONNECTION = new Set([...FRAMING, ...FORWARDING_CHAIN]);

export interface ForwardInfo {
  readonly requestId: string;
  readonly proto: 'http' | 'https';
  /** True when the caller's Authorization header authenticated it to the gateway (JWT): drop it. */
  readonly dropAuthorization: boolean;
  /** `auth.trustedProxies`: whose X-Forwarded-For entries are believed. */
  readonly trustedProxies?: BlockList;
  /** Routing-override headers this route lets through (lower-case names, from `forwardHeaders`). */
  readonly allowHeaders?: ReadonlySet<string>;
}

/**
 * The headers to send upstream: the caller's end-to-end headers, minus hop-by-hop, framing, gateway
 * credentials and routing-override headers the route does not allow; X-Forwarded-For and Forwarded
 * rebuilt from the trusted-proxy chain; X-Forwarded-Proto/Host and X-Request-Id set. Host and the body's
 * framing are written by the upstream client; credentials are injected after this, so no caller header
 * (Connection included) can remove or replace them.
 */
export function outgoingHeaders(req: IncomingMessage, info: ForwardInfo): Record<string, string | string[]> {
  const src = req.headers;
  const out: Record<string, string | string[]> = {};
  const connectionTokens = listConnectionTokens(src.connection, NOT_NAMEABLE_IN_CONNECTION);
  for (const name in src) {
    const value = src[name];
    if (value === undefined) continue;
    const rule = NOT_FORWARDED.get(name);
    if (rule === DROP || (rule === UNLESS_ALLOWED && !info.allowHeaders?.has(name))) continue;
    if (connectionTokens !== undefined && connectionTokens.has(name)) continue;
    if (info.dropAuthorization && name === 'authorization') continue;
    out[name] = value;
  }
  const chain = forwardingChain(req, info.trustedProxies);
  out['x-forwarded-for'] = chain.length > 0 ? chain.join(', ') : 'unknown';
  out.forwarded = forwardedHeader(chain, info.proto, src.host);
  out['x-forwarded-proto'] = info.proto;
  if (src.host) out['x-forwarded-host'] = src.host;
  out['x-request-id'] = info.requestId;
  return out;
}

/**
 * What outgoingHeaders does with a caller's header, in one lookup per header: DROP (hop-by-hop, framing,
 * forwarding chain, the gateway's own credentials), UNLESS_ALLOWED (routing overrides: dropped unless the
 * route's `forwardHeaders` lists it); a name not here is forwarded. (Dropped in the loop, not copied and
 * then deleted: a `delete` turns the call's headers into a slow dictionary for every later reader.)
 */
const DROP = 1;
const UNLESS_ALLOWED = 2;
// A name in both kinds is dropped: the DROP entries come last, and a Map keeps a key's last value.
const NOT_FORWARDED = new Map<string, number>([
  ...ROUTING_OVERRIDE_HEADERS.map((n): [string, number] => [n, UNLESS_ALLOWED]),
  ...[...HOP_BY_HOP, ...FRAMING, ...FORWARDING_CHAIN, ...GATEWAY_CREDENTIALS].map((n): [string, number] => [n, DROP]),
]);

/**
 * The addresses the request passed through, client first, as far as they can be believed: the socket
 * peer, and before it the X-Forwarded-For entries added by trusted proxies, read from the right up to
 * and including the first address that is not a trusted proxy (the client, as `clientAddress` finds
 * it). Whatever stands left of that was written by the caller and is dropped.
 */
export function forwardingChain(req: IncomingMessage, trustedProxies: BlockList | undefined): string[] {
  const peer = req.socket?.remoteAddress ? normalizeAddress(req.socket.remoteAddress) : undefined;
  if (peer === undefined) return [];
  const chain = [peer];
  if (!trustedProxies || !addressIn(trustedProxies, peer)) return chain;
  const header = req.headers['x-forwarded-for'];
  const hops = (Array.isArray(header) ? header.join(',') : (header ?? '')).split(',');
  for (let i = hops.length - 1; i >= 0; i--) {
    const hop = normalizeAddress(hops[i].trim());
    if (hop === '') continue;
    if (isIP(hop) === 0) break; // garbage: nothing left of it is believed
    chain.unshift(hop);
    if (!addressIn(trustedProxies, hop)) break;
  }
  return chain;
}

/** RFC 7239 `Forwarded`: one element per hop; the last (the gateway's own view) with proto and host. */
function forwardedHeader(chain: readonly string[], proto: string, host: string | undefined): string {
  const nodes = chain.length > 0 ? chain : ['unknown'];
  const elements = nodes.map((address) => `for=${forwardedNode(address)}`);
  elements[elements.length - 1] += `;proto=${proto}${host ? `;host=${quoted(host)}` : ''}`;
  return elements.join(', ');
}

function forwardedNode(address: string): string {
  const family = isIP(address);
  if (family === 6) return `"[${address}]"`;
  return family === 4 ? address : 'unknown';
}

function quoted(value: string): string {
  if (!value.includes('"') && !value.includes('\\')) return `"${value}"`;
  return `"${value.replace(/["\\]/g, (c) => `\\${c}`)}"`;
}

/** Removes hop-by-hop headers from an upstream response before it is relayed to the caller. */
export function relayableResponseHeaders(headers: IncomingHttpHeaders): OutgoingHttpHeaders {
  const out: OutgoingHttpHeaders = {};
  const connectionTokens = listConnectionTokens(headers.connection, RESPONSE_FRAMING);
  for (const name in headers) {
    if (HOP_BY_HOP.has(name)) continue;
    if (connectionTokens !== undefined && connectionTokens.has(name)) continue;
    out[name] = headers[name];
  }
  return out;
}

/** In-place variant for http-proxy-middleware's proxyRes hook (it copies proxyRes.headers afterwards). */
export function stripHopByHop(headers: IncomingHttpHeaders): void {
  const connectionTokens = listConnectionTokens(headers.connection, RESPONSE_FRAMING);
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

/** An upstream's `Connection` cannot strip the framing of the answer relayed to the caller either. */
const RESPONSE_FRAMING = new Set(['content-length', 'transfer-encoding']);

/** The header names a `Connection` field lists, less `close`/`keep-alive` and the names in `protect`. */
function listConnectionTokens(
  value: string | string[] | undefined,
  protect: ReadonlySet<string>,
): Set<string> | undefined {
  if (!value) return undefined;
  // What nearly every caller and upstream sends lists no header name.
  if (value === 'keep-alive' || value === 'close' || value === 'Keep-Alive' || value === 'Close') return undefined;
  const tokens = (Array.isArray(value) ? value.join(',') : value)
    .split(',')
    .map((t) => t.trim().toLowerCase())
    .filter((t) => t && t !== 'close' && t !== 'keep-alive' && !protect.has(t));
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

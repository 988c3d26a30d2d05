import type { IncomingMessage } from 'node:http';
import { GatewayError } from '../errors/gateway-error.ts';

/**
 * How the gateway frames the body it sends upstream. Decided here, from what Node's parser established
 * about the caller's message (never from header values copied onward), and written by the upstream
 * client: the streamed path sets exactly one of Content-Length / Transfer-Encoding: chunked, the
 * managed client (undici) writes Content-Length for the buffer it is given.
 */
export type BodyFraming =
  { readonly kind: 'none' } | { readonly kind: 'length'; readonly length: number } | { readonly kind: 'chunked' };

/**
 * Methods whose requests never carry content here. RFC 9110 §9.3 gives a body on them no meaning, and a
 * server that ignores Content-Length on them (the CL.0 desync class) would read the body as the next
 * request on a pooled connection: refused, never forwarded. (TRACE and CONNECT are not route methods
 * either: 405/404 by the route table, and Node closes CONNECT without a `connect` listener.)
 */
const NO_CONTENT_METHODS = new Set(['GET', 'HEAD', 'OPTIONS', 'TRACE', 'CONNECT']);

const NONE: BodyFraming = { kind: 'none' };
const CHUNKED: BodyFraming = { kind: 'chunked' };

/**
 * The framing of the caller's request, or GW_BAD_REQUEST (400 in the route's dialect) when the message
 * is one a desync attack would send. Node's parser (llhttp, strict: `insecureHTTPParser` is off) has
 * already refused Content-Length with Transfer-Encoding, repeated or malformed Content-Length,
 * Transfer-Encoding not ending in `chunked`, obs-fold, bare LF and bad chunk sizes; this adds what it lets
 * through (RFC 9112 §3.2, §6.1, §6.3).
 */
export function requestFraming(req: IncomingMessage): BodyFraming {
  const method = req.method ?? 'GET';
  const te = req.headers['transfer-encoding'];
  const cl = req.headers['content-length'];
  if (countHeaderLines(req, 'host') > 1) throw refusal('nhiều tiêu đề Host');
  if (te !== undefined) {
    // RFC 9112 §6.1: Transfer-Encoding in an HTTP/1.0 message means the framing is faulty.
    if (req.httpVersionMajor !== 1 || req.httpVersionMinor < 1)
      throw refusal('Transfer-Encoding trong thông điệp HTTP/1.0');
    // Only `chunked` alone: Node accepts `gzip, chunked` and hands over still-gzipped bytes, which the
    // upstream would receive with nothing saying so.
    if (te.trim().toLowerCase() !== 'chunked') throw refusal('chỉ chấp nhận Transfer-Encoding: chunked');
    if (NO_CONTENT_METHODS.has(method)) throw refusal(`yêu cầu ${method} không được kèm dữ liệu`);
    return CHUNKED;
  }
  if (cl === undefined) return NONE;
  const length = Number(cl); // a plain decimal: llhttp refused anything else
  if (length === 0) return NONE;
  if (NO_CONTENT_METHODS.has(method)) throw refusal(`yêu cầu ${method} không được kèm dữ liệu`);
  return { kind: 'length', length };
}

/** Methods whose semantics anticipate content (RFC 9110 §9.3). */
const CONTENT_METHODS = new Set(['POST', 'PUT', 'PATCH']);

/**
 * True when a request with this method and a body must close its upstream connection: a DELETE body is
 * forwarded (framed), but a server that ignores the length on a DELETE (CL.0) would read the body as a
 * next request. `Connection: close` forbids it to process anything more on the connection (RFC 9112
 * §9.6), and the gateway does not reuse it.
 */
export function closesConnection(method: string, hasBody: boolean): boolean {
  return hasBody && !CONTENT_METHODS.has(method);
}

function countHeaderLines(req: IncomingMessage, name: string): number {
  let n = 0;
  const raw = req.rawHeaders;
  for (let i = 0; i < raw.length; i += 2) if (raw[i].length === name.length && raw[i].toLowerCase() === name) n++;
  return n;
}

function refusal(reason: string): GatewayError {
  return new GatewayError('GW_BAD_REQUEST', { reason: `khung thông điệp không hợp lệ: ${reason}` });
}

import { GatewayError } from '../../errors/gateway-error.ts';
import { decodeBody, isPlainUtf8, type BodyDecodeFault } from '../body-encoding.ts';
import type { Exchange } from '../exchange.ts';
import {
  checkDeclaredLength,
  isFormContentType,
  isJsonContentType,
  isXmlContentType,
  readRequestBody,
} from '../read-body.ts';
import { xmlBodyRefusal } from '../xml-body.ts';
import { describeFault } from './faults.ts';

/** Bodies up to this size with a Content-Length are buffered rather than streamed (`pass` routes). */
export const SMALL_BODY_BYTES = 64 * 1024;

/**
 * Reads the caller's body as the route's plan says: a promise of the whole body, or undefined when there is
 * none or it streams (then `ex.streamed`). A `pass` route reads a small body of declared length whole and
 * sends it as is (byte-identical): the call can then be replayed after a 401 or on a dead pooled socket,
 * and it skips the streaming machinery. Larger or chunked bodies (uploads, SOAP streams) stream through
 * http-proxy-middleware untouched. A declared length over the limit is a 413 before a byte is read.
 */
export function read(ex: Exchange): Promise<Buffer> | undefined {
  const { req, framing } = ex;
  const plan = ex.route.plan;
  checkDeclaredLength(req, plan.bodyLimit);
  if (framing.kind === 'none') return undefined;
  if (plan.body === 'pass' && (framing.kind !== 'length' || framing.length > SMALL_BODY_BYTES)) {
    ex.streamed = true;
    return undefined;
  }
  return readRequestBody(req, plan.bodyLimit);
}

/**
 * A body the gateway parses and writes again: its media type checked (415), then, when its labels say it
 * is not plain UTF-8 (a Content-Encoding, another charset), a promise of it decoded. Undefined when there
 * is nothing to decode.
 */
export function decode(ex: Exchange): Promise<Buffer> | undefined {
  const { body, req } = ex;
  const mode = ex.route.plan.body;
  if (body === undefined) return undefined;
  if (mode === 'json') {
    if (body.length === 0) return undefined;
    const { accepts } = ex.route.plan;
    const type = req.headers['content-type'];
    if (accepts.xml && isXmlContentType(type)) return acceptXml(ex, body);
    if (!accepts.json || !isJsonContentType(type)) throw unsupportedMediaType(ex);
    return isPlainUtf8(req.headers) ? undefined : decodeRequest(ex, body, 'json');
  }
  if (mode === 'form') {
    if (!isFormContentType(req.headers['content-type'])) throw unsupportedMediaType(ex);
    return isPlainUtf8(req.headers) ? undefined : decodeRequest(ex, body, 'form');
  }
  return undefined;
}

function unsupportedMediaType(ex: Exchange): GatewayError {
  const { body: mode, accepts } = ex.route.plan;
  const accepted =
    mode === 'form'
      ? 'application/x-www-form-urlencoded'
      : [accepts.json ? 'application/json' : '', accepts.xml ? 'text/xml, application/soap+xml' : '']
          .filter(Boolean)
          .join(', ');
  return new GatewayError('GW_UNSUPPORTED_MEDIA_TYPE', {
    route: ex.route.id,
    contentType: ex.req.headers['content-type'] ?? '(none)',
    accepted,
  });
}

/**
 * An XML body on a route that takes one: checked to be what its label says, then marked to go upstream as
 * it came. The JSON stages never see it, so the check is what keeps a JSON body labelled text/xml from
 * skipping validation (xml-body.ts).
 */
function acceptXml(ex: Exchange, body: Buffer): undefined {
  const refusal = xmlBodyRefusal(ex.req.headers, body);
  if (refusal?.kind === 'encoding') {
    throw new GatewayError('GW_UNSUPPORTED_BODY_ENCODING', { route: ex.route.id, ...refusal.fault });
  }
  if (refusal) {
    throw new GatewayError('GW_BODY_NOT_XML', {
      contentType: ex.req.headers['content-type'] ?? '(none)',
      reason: refusal.reason,
    });
  }
  ex.xml = true;
  return undefined;
}

/** Content-Encoding and charset of a body the gateway will re-serialise (body-encoding.ts). */
async function decodeRequest(ex: Exchange, body: Buffer, kind: 'json' | 'form'): Promise<Buffer> {
  const out = await decodeBody(body, ex.req.headers, ex.route.plan.bodyLimit, kind);
  if (out.ok) return out.body;
  throw requestDecodeError(ex.route.id, out.fault);
}

/** A caller's body the gateway cannot read as labelled: 415 naming the header, 413, or 400. */
export function requestDecodeError(route: string, fault: BodyDecodeFault): GatewayError {
  if (fault.kind === 'too-large') return new GatewayError('GW_PAYLOAD_TOO_LARGE', { limit: fault.limit });
  if (fault.kind === 'unsupported') {
    const header = fault.header === 'content-type' ? 'Content-Type' : 'Content-Encoding';
    return new GatewayError('GW_UNSUPPORTED_BODY_ENCODING', {
      route,
      header,
      value: fault.value,
      accepted: fault.accepted,
    });
  }
  return new GatewayError('GW_BAD_REQUEST', { reason: describeFault(fault) });
}

import type { OutgoingHttpHeaders } from 'node:http';
import { toGatewayError } from '../errors/gateway-error.ts';
import { maskUrl } from '../logging/mask.ts';
import type { Exchange } from './exchange.ts';

/**
 * The one writer of the answers the gateway composes itself (its errors in the route's dialect, the
 * routes it answers locally): one head for all, never cached, never sniffed, the request id on each.
 * Relayed upstream answers are not written here (stages/respond.ts): their head is the upstream's.
 */
export function writeAnswer(
  ex: Exchange,
  status: number,
  contentType: string,
  body: string,
  headers?: OutgoingHttpHeaders,
): void {
  const bytes = Buffer.byteLength(body);
  ex.record.status = status;
  ex.record.bytes = bytes;
  ex.res.writeHead(status, {
    ...headers,
    'content-type': contentType,
    'content-length': String(bytes),
    'cache-control': 'no-store',
    'x-content-type-options': 'nosniff',
    'x-request-id': ex.requestId,
  });
  ex.res.end(body);
}

/** A JSON value the gateway answers with (a local route's answer). */
export function writeJsonAnswer(ex: Exchange, status: number, value: unknown): void {
  writeAnswer(ex, status, 'application/json; charset=utf-8', JSON.stringify(value));
}

/** Grace a caller gets to finish sending a body the gateway refused before its connection is cut. */
const DRAIN_GRACE_MS = 5000;

/** Any failure of an exchange, as the route's error dialect renders it (or a cut connection, once the head left). */
export function writeFailure(ex: Exchange, err: unknown): void {
  const { req, res, requestId } = ex;
  const gwErr = toGatewayError(err, requestId);
  ex.record.errorCode = gwErr.code;
  if (gwErr.code === 'GW_INTERNAL') ex.ctx.logger.error('internal error', { requestId, error: err });
  if (res.headersSent) {
    res.destroy();
    return;
  }
  if (!req.complete) {
    // The body was not (fully) read: discard what still comes, close the connection after the answer,
    // and cut a caller that keeps sending past the grace period.
    res.setHeader('connection', 'close');
    req.resume();
    const cut = setTimeout(() => req.socket.destroy(), DRAIN_GRACE_MS);
    cut.unref();
    req.once('end', () => clearTimeout(cut));
  }
  // The path is the caller's: an ID number in it (plain or %-encoded) is not echoed (issue 14.7).
  const out = ex.render(gwErr, { requestId, path: maskUrl(ex.path) });
  writeAnswer(ex, out.status, out.contentType, out.body, gwErr.headers);
}

import type { IncomingHttpHeaders } from 'node:http';
import { performance } from 'node:perf_hooks';
import { compressedCoding, decodeForMasking, scrubRelayedHeaders } from '../../credentials/relay-scrub.ts';
import { GatewayError, type FieldError } from '../../errors/gateway-error.ts';
import { relayableResponseHeaders } from '../../upstream/headers.ts';
import type { UpstreamResponse } from '../../upstream/upstream-call.ts';
import { writeJsonAnswer } from '../answer.ts';
import { decodeBody, describeUtf8Response, isPlainUtf8 } from '../body-encoding.ts';
import type { Exchange } from '../exchange.ts';
import { parseGuarded, readAnswer, type ParsedAnswer } from '../parse-json.ts';
import { isJsonContentType } from '../read-body.ts';
import { describeFault } from './faults.ts';
import { declaredLength } from './send.ts';
import { verifySignedAnswer } from '../../upstream/answer-signature.ts';

/** Largest answer read whole only for a credential that looks for its "token expired" signal in bodies. */
const SNIFF_LIMIT = 256 * 1024;

/** `replay`: the upstream refused the injected token and the call may be sent again; `done`: answered. */
export type Verdict = 'done' | 'replay';

/**
 * The upstream's answer to a buffered call, to the caller. Streamed straight through (head scrubbed, body
 * masked on the way) unless something must read it whole: a response stage, a credential that looks for a
 * token-rejection signal in bodies, or a compressed answer whose secrets must be found. A refused token
 * (when `replayable`) asks for a replay instead. Returns a promise only when the answer is read whole.
 */
export function respond(ex: Exchange, answer: UpstreamResponse, replayable: boolean): Verdict | Promise<Verdict> {
  const { route, call, masker } = ex;
  const { credentials } = route.upstream;
  const head = call.method === 'HEAD'; // no body to read; its Content-Length is the GET's: relayed as is
  // Read whole when small enough: for a credential that looks for its "token expired" signal in bodies, and
  // for `audit.answerSubjectFields` on a route that maps nothing (issue 16.6: read for its keys, relayed
  // byte for byte; a larger or chunked answer is relayed unread). Checked only when one of them asks.
  const small =
    !head &&
    (credentials.inspectsBody === true || route.auditsAnswer === true) &&
    isJsonContentType(answer.headers['content-type']) &&
    !answer.headers['content-encoding'] &&
    Number(answer.headers['content-length'] ?? NaN) <= SNIFF_LIMIT;
  const sniffable = small && credentials.inspectsBody === true;
  const audited = small && route.auditsAnswer === true && !ex.xml;
  // An answer compressed although identity was asked for is read and decoded, so it can be searched.
  const coding = masker && !head ? compressedCoding(answer.headers['content-encoding']) : undefined;
  if (((!responseStage(ex) && !route.signature) || head) && !sniffable && !audited && coding === undefined) {
    if (replayable && credentials.isTokenRejected(answer.statusCode, undefined)) {
      credentials.invalidate(call);
      answer.discard();
      return 'replay';
    }
    relay(ex, answer);
    return 'done';
  }
  return respondRead(ex, answer, replayable, coding);
}

/** The route's response stage, for a JSON exchange: the answer to an XML body is relayed as it comes. */
function responseStage(ex: Exchange) {
  return ex.xml ? undefined : ex.route.response;
}

/** The answer relayed as it comes: status, headers minus hop-by-hop, body with back-pressure and masked. */
function relay(ex: Exchange, answer: UpstreamResponse): void {
  const { record, masker } = ex;
  const headers = relayableResponseHeaders(answer.headers);
  scrubRelayedHeaders(headers, masker, ex.route.plan.allowSetCookie);
  headers['x-request-id'] = ex.requestId;
  record.status = answer.statusCode;
  ex.res.writeHead(answer.statusCode, headers);
  answer.relay(
    ex.res,
    () => {
      record.bytes = answer.bytes;
      record.upstreamMs = performance.now() - ex.upstreamStarted;
    },
    masker?.stream(declaredLength(answer.headers['content-length'])),
  );
}

/**
 * The answer read whole: decoded where it came compressed, checked for a refused token (the raw bytes are
 * parsed only when a strategy looks at bodies), guarded, parsed, mapped and validated when the route has a
 * response stage (2xx only: the upstream's own errors pass unchanged), masked, written with its length.
 */
async function respondRead(
  ex: Exchange,
  answer: UpstreamResponse,
  replayable: boolean,
  coding: string | undefined,
): Promise<Verdict> {
  const { route, call, masker, record, ctx } = ex;
  const { upstream } = route;
  const read = await answer.read(ctx.maxResponseBytes);
  const buf = coding ? decodeForMasking(read, coding, upstream.id, ctx.maxResponseBytes) : read;
  record.upstreamMs = performance.now() - ex.upstreamStarted;
  const status = answer.statusCode;
  let parsed: ParsedAnswer | undefined;
  const stage = responseStage(ex);
  if ((stage || route.signature || (route.auditsAnswer && !ex.xml)) && buf.length > 0) {
    // Decoded (and awaited) only when the labels say the bytes are not plain UTF-8; an answer decoded for
    // the masker already (compressed though identity was asked for) is not decoded twice.
    const labels = coding ? { ...answer.headers, 'content-encoding': undefined } : answer.headers;
    const reading = parseAnswer(ex, labels, buf);
    parsed = reading instanceof Promise ? await reading : reading;
  }
  let value = parsed?.ok ? parsed.value : undefined;
  if (replayable && upstream.credentials.isTokenRejected(status, value ?? buf)) {
    upstream.credentials.invalidate(call);
    return 'replay';
  }
  const ok = status >= 200 && status < 300;
  const adapts = stage !== undefined && ok;
  // A signed route's success must be read (report mode or not): unread, it would be relayed unchecked.
  if (route.signature && ok && parsed !== undefined && !parsed.ok) throw parsed.error;
  // Any answer holding data is checked, whatever its status: a forged error answer must not carry data either.
  if (route.signature && parsed?.ok) {
    value = await verifySignedAnswer(value, route.signature.spec, route.signature.verifier, upstream.id);
  }
  if (adapts && parsed !== undefined && !parsed.ok) unmapped(ex, parsed.error);
  const outBody =
    adapts && parsed?.ok
      ? adaptAnswer(ex, value, parsed.rawNumbers)
      : route.signature && parsed?.ok
        ? value
        : undefined;
  if (outBody !== undefined) ex.record.answer = outBody;
  else if (route.auditsAnswer && ok && parsed?.ok) ex.record.answer = value;
  const payload = outBody === undefined ? buf : Buffer.from(JSON.stringify(outBody));
  masker?.maskInPlace(payload);
  const headers = relayableResponseHeaders(answer.headers);
  scrubRelayedHeaders(headers, masker, route.plan.allowSetCookie);
  if (coding) delete headers['content-encoding'];
  if (outBody !== undefined) describeUtf8Response(headers);
  headers['content-length'] = String(payload.length);
  headers['x-request-id'] = ex.requestId;
  record.status = status;
  record.bytes = payload.length;
  ex.res.writeHead(status, headers);
  ex.res.end(payload);
  return 'done';
}

/**
 * An answer's bytes (already uncompressed) parsed as the gateway reads every answer: decoded when its
 * labels say it is not plain UTF-8, byte-guarded, numbers a double cannot hold kept exact. A promise only
 * when it had to be decoded.
 */
function parseAnswer(ex: Exchange, labels: IncomingHttpHeaders, buf: Buffer): ParsedAnswer | Promise<ParsedAnswer> {
  if (isPlainUtf8(labels)) return readAnswer(ex, buf);
  return decodeAnswer(ex, labels, buf).then((plain) =>
    plain instanceof GatewayError ? { ok: false, error: plain } : readAnswer(ex, plain),
  );
}

/** An answer the response stage cannot read: a 502 in `enforce` mode, a warning (relayed as it came) in `report`. */
function unmapped(ex: Exchange, error: GatewayError): void {
  if (ex.route.response!.mode === 'enforce') throw error;
  ex.ctx.logger.warn('response not mapped (report mode)', {
    requestId: ex.requestId,
    route: ex.route.id,
    error: error.message,
  });
}

/**
 * A 2xx answer read whole by another stage (a delivered push, stages/deliver.ts) through the route's
 * response stage, exactly as respond maps one: parsed (parseAnswer), mapped and checked. The value to send
 * back, or undefined to relay the bytes as they came (an unreadable answer in `report` mode).
 */
export async function adaptReadAnswer(ex: Exchange, labels: IncomingHttpHeaders, buf: Buffer): Promise<unknown> {
  const parsed = await parseAnswer(ex, labels, buf);
  if (!parsed.ok) {
    unmapped(ex, parsed.error);
    return undefined;
  }
  return adaptAnswer(ex, parsed.value, parsed.rawNumbers);
}

/** An answer labelled with a Content-Encoding or a non-UTF-8 charset, decoded; a fault is a 502. */
async function decodeAnswer(ex: Exchange, labels: IncomingHttpHeaders, buf: Buffer): Promise<Buffer | GatewayError> {
  const decoded = await decodeBody(buf, labels, ex.ctx.maxResponseBytes);
  if (decoded.ok) return decoded.body;
  return new GatewayError('GW_UPSTREAM_BAD_RESPONSE', {
    upstream: ex.route.upstream.id,
    reason: describeFault(decoded.fault),
  });
}

/** An answer the response stage faulted: marked in the record; a 502 in `enforce` mode, a warning in `report` mode (direct and queued routes alike). */
function rejectAnswer(ex: Exchange, errors: readonly FieldError[]): void {
  ex.record.responseRejected = true;
  if (ex.route.response!.mode === 'enforce') {
    throw new GatewayError(
      'GW_UPSTREAM_BAD_RESPONSE',
      { upstream: ex.route.upstream.id, reason: `${errors.length} lỗi so với lược đồ phản hồi` },
      { details: errors },
    );
  }
  ex.ctx.logger.warn('response schema violation (report mode)', {
    requestId: ex.requestId,
    route: ex.route.id,
    errors,
  });
}

/** The response stage over a parsed answer: 502 on a violation in `enforce` mode, a warning in `report`. */
function adaptAnswer(ex: Exchange, body: unknown, rawNumbers?: boolean): unknown {
  const stage = ex.route.response!;
  const out = stage.run(body, rawNumbers);
  if (out.errors.length === 0) return out.body;
  rejectAnswer(ex, out.errors);
  return body;
}

/** Routes the gateway answers itself (MOLISA GetToken compatibility): the body parsed, no upstream call. */
export function answerLocally(ex: Exchange): void {
  const { body } = ex;
  const value = body !== undefined && body.length > 0 ? parseGuarded(ex, body).value : undefined;
  const out = ex.route.answer!(value);
  writeJsonAnswer(ex, out.status, out.body);
}

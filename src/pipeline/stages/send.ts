import { performance } from 'node:perf_hooks';
import type { IncomingMessage } from 'node:http';
import { Transform } from 'node:stream';
import { callBody } from '../../credentials/call-body.ts';
import { compressedCoding, scrubRelayedHeaders, streamDecoder } from '../../credentials/relay-scrub.ts';
import type { SecretMasker } from '../../logging/secret-masker.ts';
import type { StreamBodyFilter } from '../../upstream/stream-forwarder.ts';
import { callUpstream, type UpstreamResponse } from '../../upstream/upstream-call.ts';
import { upstreamError } from '../../upstream/upstream-error.ts';
import type { Exchange } from '../exchange.ts';

/**
 * Sends a buffered (or empty) call with the managed client; the promise settles with the answer's head.
 * The body is serialised here, after the credentials wrote into it. Injected secrets are searched in the
 * answer's bytes, and a response stage reads them: such answers are asked for uncompressed (issue 13.5).
 */
export function send(ex: Exchange): Promise<UpstreamResponse> {
  const { call, route } = ex;
  const body = callBody(call, ex.body);
  if (call.json !== undefined) call.headers['content-type'] ??= 'application/json; charset=utf-8';
  ex.masker = route.upstream.credentials.relayMasker?.();
  if (route.plan.readsAnswer || ex.masker) call.headers['accept-encoding'] = 'identity';
  ex.upstreamStarted = performance.now();
  return callUpstream(route.upstream, {
    method: call.method,
    path: ex.upstreamPath,
    headers: call.headers as Record<string, string | string[]>,
    body,
    responseTimeoutMs: route.plan.responseTimeoutMs,
    // A caller that left early cancels the upstream call. (Not an AbortSignal: wiring one into every
    // call costs EventTarget listeners; cancelling the dispatch directly costs nothing.)
    onCancel: (cancel) => (ex.cancel = cancel),
  });
}

/** Takes the consumer's share of the upstream's streamed connections (GW_… when it has used it up). */
export function reserveStream(ex: Exchange): void {
  ex.release = ex.route.upstream.consumerShare.acquire(ex.consumer!.id);
}

/**
 * Streamed body: http-proxy-middleware pipes it untouched, framed by the gateway (Content-Length or
 * chunked), within the consumer's share of the upstream's connections and the minimum upload rate. The
 * answer is relayed by the forwarder, its head scrubbed and its body masked on the way. A streamed body is
 * gone once sent: a refused token is invalidated for the next call, this one is not replayed.
 */
export function sendStream(ex: Exchange): Promise<void> {
  const { req, res, call, route, record, framing } = ex;
  const { upstream, plan } = route;
  if (framing.kind === 'none') throw new Error('a streamed exchange has a body');
  res.setHeader('x-request-id', ex.requestId);
  // The framing is the gateway's: httpxy reads it from here (and then neither adds `Content-Length: 0`
  // to a DELETE nor reuses the connection after a chunked body); the forwarder sets it again last.
  if (framing.kind === 'length') call.headers['content-length'] = String(framing.length);
  else call.headers['transfer-encoding'] = 'chunked';
  const masker = upstream.credentials.relayMasker?.();
  ex.masker = masker;
  if (masker) call.headers['accept-encoding'] = 'identity';
  req.headers = call.headers as IncomingMessage['headers'];
  const upstreamStarted = performance.now();
  ex.upstreamStarted = upstreamStarted;
  return new Promise<void>((resolve, reject) => {
    let settled = false;
    upstream.stream(
      req,
      res,
      {
        path: ex.upstreamPath,
        responseTimeoutMs: plan.responseTimeoutMs,
        maxBodyBytes: plan.bodyLimit,
        framing,
        upload: plan.upload,
        maskBody: masker ? (upstreamRes) => streamedBodyMasker(masker, upstreamRes.headers) : undefined,
        onResponse: (upstreamRes) => {
          record.status = upstreamRes.statusCode;
          // Before httpxy copies the head: injected secrets masked, the national side's cookies dropped.
          scrubRelayedHeaders(upstreamRes.headers, masker, plan.allowSetCookie);
          if (upstream.credentials.isTokenRejected(upstreamRes.statusCode ?? 0, undefined))
            upstream.credentials.invalidate(call);
          upstreamRes.on('data', (chunk: Buffer) => (record.bytes += chunk.length));
          upstreamRes.once('end', () => (record.upstreamMs = performance.now() - upstreamStarted));
        },
      },
      (err) => {
        if (settled) return;
        settled = true;
        if (err) reject(upstreamError(err, upstream.id));
        else resolve();
      },
    );
  });
}

/**
 * The masker of a streamed answer; one compressed although identity was asked for is decoded first and
 * relayed decoded (its Content-Encoding and Content-Length removed before httpxy copies the head).
 */
function streamedBodyMasker(masker: SecretMasker, headers: IncomingMessage['headers']): StreamBodyFilter {
  const coding = compressedCoding(headers['content-encoding']);
  if (coding === undefined) return { masker: masker.stream(declaredLength(headers['content-length'])) };
  delete headers['content-encoding'];
  delete headers['content-length'];
  const decoder =
    streamDecoder(coding) ??
    new Transform({
      transform(_chunk, _encoding, callback) {
        callback(new Error(`content coding ${coding} cannot be decoded to check the answer`));
      },
    });
  return { masker: masker.stream(), decoder };
}

/** A Content-Length header's value as a number, when it is one. */
export function declaredLength(value: string | undefined): number | undefined {
  const length = Number(value);
  return value !== undefined && Number.isSafeInteger(length) ? length : undefined;
}

import { randomBytes } from 'node:crypto';
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';
import { Transform } from 'node:stream';
import type { Clock } from '../config/types.ts';
import type { ErrorRenderer } from '../errors/dialects/dialect.ts';
import { GatewayError, toGatewayError, type FieldError } from '../errors/gateway-error.ts';
import { compressedCoding, decodeForMasking, scrubRelayedHeaders, streamDecoder } from '../credentials/relay-scrub.ts';
import type { SecretMasker } from '../credentials/secret-masker.ts';
import { createLineWriter, type Logger } from '../logging/logger.ts';
import { maskUrl } from '../logging/mask.ts';
import { requestFraming, type BodyFraming } from '../proxy/framing.ts';
import { acceptableRequestId, outgoingHeaders, relayableResponseHeaders } from '../proxy/headers.ts';
import type { StreamBodyFilter } from '../proxy/stream-forwarder.ts';
import { callUpstream, type UpstreamResponse } from '../proxy/upstream-call.ts';
import { upstreamError } from '../proxy/upstream-error.ts';
import { releaseRetired, type RouteRuntime, type Runtime } from '../runtime/runtime.ts';
import {
  decodeBody,
  describeUtf8Request,
  describeUtf8Response,
  isPlainUtf8,
  type BodyDecodeFault,
} from './body-encoding.ts';
import type { OutgoingCall } from './contracts.ts';
import { guardJsonBytes, type JsonBytesLimits } from './json-guard.ts';
import { checkDeclaredLength, isFormContentType, isJsonContentType, readRequestBody } from './read-body.ts';
import { pathRefusal, queryRefusal } from '../routing/path-confinement.ts';

/** What one exchange produced; the access log, metrics and audit trail read it when the response closes. */
export interface ExchangeRecord {
  readonly requestId: string;
  readonly method: string;
  readonly path: string;
  route?: string;
  /** The matched route's config (audit settings), so observers need no lookup by id. */
  routeConfig?: RouteRuntime['config'];
  consumer?: string;
  upstream?: string;
  status?: number;
  errorCode?: string;
  bytes: number;
  upstreamMs?: number;
  durationMs?: number;
  /** The request body as the upstream received it (parsed routes only), for audit business keys. */
  body?: unknown;
  validationRejected?: boolean;
  responseRejected?: boolean;
}

/** Observers other modules plug in (audit, metrics). */
export interface PipelineHooks {
  onExchange?(record: ExchangeRecord, runtime: Runtime): void;
  /** Called once the caller is known to be allowed, before any work: throws a GatewayError to refuse (audit down). */
  admit?(route: RouteRuntime): void;
  /** +1 when a request matched a route, -1 when its response closed. */
  onInFlight?(route: string, delta: number): void;
}

/**
 * `exactNumbers`: the byte guard saw a number literal a double may not carry; the parser carries any that
 * it does not as its source text and says so with `rawNumbers` (src/transform/exact-numbers.ts).
 */
export type JsonParser = (
  buf: Buffer,
  limits: { maxDepth: number; exactNumbers?: boolean },
) => { ok: true; value: unknown; rawNumbers?: boolean } | { ok: false; error: GatewayError };

export interface PipelineDeps {
  current(): Runtime;
  readonly logger: Logger;
  readonly clock: Clock;
  readonly parseJson?: JsonParser;
  readonly hooks?: PipelineHooks;
  /** Largest upstream JSON body read to look for a "token expired" signal or to map a response. */
  readonly maxResponseBytes?: number;
}

const SNIFF_LIMIT = 256 * 1024;

/** The gateway's request pipeline: match, authenticate, authorize, adapt, inject credentials, forward. */
export function createGatewayHandler(deps: PipelineDeps): (req: IncomingMessage, res: ServerResponse) => void {
  const parseJson = deps.parseJson ?? parseJsonPlain;
  const maxResponseBytes = deps.maxResponseBytes ?? 16 * 1024 * 1024;
  const { logger, hooks } = deps;
  const accessLog = createLineWriter(logger, 'access');

  return (req, res) => {
    const runtime = deps.current();
    runtime.inFlight++;
    const started = performance.now();
    const requestId = acceptableRequestId(req.headers['x-request-id']) ?? newRequestId();
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const path = q === -1 ? url : url.slice(0, q);
    const query = q === -1 ? '' : url.slice(q);
    const record: ExchangeRecord = { requestId, method: req.method ?? 'GET', path, bytes: 0 };
    res.setHeader('x-request-id', requestId);
    let render: ErrorRenderer = runtime.rendererForPath(path);

    res.once('close', () => {
      if (record.route !== undefined) hooks?.onInFlight?.(record.route, -1);
      record.durationMs = performance.now() - started;
      record.status ??= res.statusCode;
      if (--runtime.inFlight === 0 && runtime.retiredBy) releaseRetired(runtime, runtime.retiredBy);
      accessLog({
        requestId,
        route: record.route,
        consumer: record.consumer,
        upstream: record.upstream,
        method: record.method,
        path: maskUrl(url),
        status: res.writableFinished ? record.status : `${record.status} (aborted)`,
        errorCode: record.errorCode,
        bytes: record.bytes,
        durationMs: round(record.durationMs),
        upstreamMs: record.upstreamMs === undefined ? undefined : round(record.upstreamMs),
      });
      hooks?.onExchange?.(record, runtime);
    });

    const fail = (err: unknown) => {
      const gwErr = toGatewayError(err, requestId);
      record.errorCode = gwErr.code;
      if (gwErr.code === 'GW_INTERNAL') logger.error('internal error', { requestId, error: err });
      if (res.headersSent) {
        res.destroy();
        return;
      }
      if (!req.complete) {
        // The body was not (fully) read: discard what still comes, close the connection after the answer,
        // and cut a caller that keeps sending past the grace period.
        res.setHeader('connection', 'close');
        req.resume();
        const cut = setTimeout(() => req.socket.destroy(), 5000);
        cut.unref();
        req.once('end', () => clearTimeout(cut));
      }
      // The path is the caller's: an ID number in it (plain or %-encoded) is not echoed (issue 14.7).
      const out = render(gwErr, { requestId, path: maskUrl(path) });
      record.status = out.status;
      record.bytes = Buffer.byteLength(out.body);
      res.writeHead(out.status, {
        ...gwErr.headers,
        'content-type': out.contentType,
        'content-length': String(record.bytes),
        'cache-control': 'no-store',
        'x-content-type-options': 'nosniff',
        'x-request-id': requestId,
      });
      res.end(out.body);
    };

    const handle = async () => {
      // Before matching: a path any upstream server could resolve elsewhere is never forwarded (13.2).
      const refusal = pathRefusal(path) ?? queryRefusal(query.slice(1));
      if (refusal) {
        // Answered in the dialect of the route the path would match, when there is one.
        const target = runtime.routes.match(record.method, path, req.headers);
        if (target.kind === 'route') render = target.route.render;
        throw new GatewayError('GW_PATH_NOT_ALLOWED', { reason: refusal });
      }
      const match = runtime.routes.match(record.method, path, req.headers);
      if (match.kind === 'none') throw new GatewayError('GW_ROUTE_NOT_FOUND', { method: record.method, path });
      if (match.kind === 'method') {
        throw new GatewayError(
          'GW_METHOD_NOT_ALLOWED',
          { method: record.method, path, allow: match.allow.join(', ') },
          { headers: { allow: match.allow.join(', ') } },
        );
      }
      const { route, params } = match;
      const { upstream } = route;
      render = route.render;
      if ((route.pattern.paramNames.length > 0 || route.pattern.hasWildcard) && runtime.caseShadow) {
        if (runtime.caseShadow(record.method, path, req.headers, route)) {
          throw new GatewayError('GW_PATH_NOT_ALLOWED', {
            reason: 'đường dẫn chỉ khác đường dẫn của một tuyến khác ở chữ hoa/thường',
          });
        }
      }
      record.route = route.id;
      record.routeConfig = route.config;
      record.upstream = upstream.id;
      hooks?.onInFlight?.(route.id, 1);
      // Before anything else reads the body: a message a desync attack would send is refused here.
      const framing = requestFraming(req);

      const { consumers } = runtime;
      const consumer = await consumers.authenticator.authenticate(req);
      record.consumer = consumer.id;
      consumers.authorize(route, consumer, req);
      hooks?.admit?.(route);
      const limitHeaders = await consumers.rateLimit?.(consumer, route);
      if (limitHeaders) for (const [k, v] of Object.entries(limitHeaders)) res.setHeader(k, v);

      const limit = runtime.config.limits.bodyBytes;
      checkDeclaredLength(req, limit);
      if (route.answer) return answerLocally(route.answer, limit, framing);
      const headers = outgoingHeaders(req, {
        requestId,
        proto: (req.socket as { encrypted?: boolean }).encrypted ? 'https' : 'http',
        dropAuthorization: consumer.via === 'jwt',
        trustedProxies: runtime.trustedProxies,
        allowHeaders: route.forwardHeaders,
      });
      const upstreamPath = route.upstreamPath(params) + query;
      const call: OutgoingCall = { method: record.method, headers, query };
      const noBody = framing.kind === 'none';

      if (route.parseJson || route.parseForm) {
        let body: Buffer | undefined;
        if (!noBody) body = await readRequestBody(req, limit);
        if (route.parseJson && body !== undefined && body.length > 0) {
          if (!isJsonContentType(req.headers['content-type'])) {
            throw new GatewayError('GW_UNSUPPORTED_MEDIA_TYPE', {
              route: route.id,
              contentType: req.headers['content-type'] ?? '(none)',
            });
          }
          // The body is written again as UTF-8 JSON: read it as its labels say, and drop the labels.
          if (!isPlainUtf8(req.headers)) body = await decodeRequest(route, body, limit, 'json');
          const parsed = parseGuarded(body);
          call.json = adaptRequest(route, parsed.value, record, parsed.rawNumbers);
          describeUtf8Request(call.headers);
          record.body = call.json;
        } else if (route.parseJson && route.request) {
          throw new GatewayError('GW_BAD_REQUEST', { reason: `tuyến ${route.id} cần dữ liệu JSON trong thân yêu cầu` });
        } else if (route.parseForm && body !== undefined) {
          if (!isFormContentType(req.headers['content-type'])) {
            throw new GatewayError('GW_UNSUPPORTED_MEDIA_TYPE', {
              route: route.id,
              contentType: req.headers['content-type'] ?? '(none)',
            });
          }
          if (!isPlainUtf8(req.headers)) body = await decodeRequest(route, body, limit, 'form');
          call.form = new URLSearchParams(body.toString('utf8'));
          describeUtf8Request(call.headers);
        } else if (body !== undefined) {
          call.json = undefined;
          return forwardBuffered(route, call, upstreamPath, body);
        }
        return forwardBuffered(route, call, upstreamPath, undefined);
      }
      if (noBody) return forwardBuffered(route, call, upstreamPath, undefined);
      // A small body of declared length is read whole and sent as is (byte-identical): the call can then
      // be replayed after a 401 or on a dead pooled socket, and it skips the streaming machinery. Larger
      // or chunked bodies (uploads, SOAP streams) stream through http-proxy-middleware untouched.
      if (framing.kind === 'length' && framing.length <= SMALL_BODY_BYTES)
        return forwardBuffered(route, call, upstreamPath, await readRequestBody(req, limit));
      return forwardStream(route, call, upstreamPath, framing, consumer.id);
    };

    /** Routes the gateway answers itself (MOLISA GetToken compatibility): no upstream call. */
    const answerLocally = async (answer: NonNullable<RouteRuntime['answer']>, limit: number, framing: BodyFraming) => {
      const raw = framing.kind === 'none' ? Buffer.alloc(0) : await readRequestBody(req, limit);
      let body: unknown;
      if (raw.length > 0) body = parseGuarded(raw).value;
      const out = answer(body);
      const payload = JSON.stringify(out.body);
      record.status = out.status;
      record.bytes = Buffer.byteLength(payload);
      res.writeHead(out.status, {
        'content-type': 'application/json; charset=utf-8',
        'content-length': String(record.bytes),
        'cache-control': 'no-store',
      });
      res.end(payload);
    };

    /** Body in memory (or none): the call can be replayed once after a token refresh. */
    const forwardBuffered = async (
      route: RouteRuntime,
      base: OutgoingCall,
      upstreamPath: string,
      raw: Buffer | undefined,
    ) => {
      const { upstream } = route;
      // A caller that left early cancels the upstream call. (Not an AbortSignal: wiring one into every
      // call costs EventTarget listeners; cancelling the dispatch directly costs nothing.)
      let cancel: (() => void) | undefined;
      res.once('close', () => {
        if (!res.writableFinished) cancel?.();
      });
      for (let attempt = 0; ; attempt++) {
        const call: OutgoingCall = {
          method: base.method,
          headers: attempt === 0 ? base.headers : { ...base.headers },
          json: base.json,
          form: base.form,
          query: base.query,
        };
        if (!upstream.credentials.applyCached?.(call)) await upstream.credentials.apply(call);
        const body = serialiseBody(call, raw);
        if (call.json !== undefined) call.headers['content-type'] ??= 'application/json; charset=utf-8';
        // Injected secrets are searched in the answer's bytes: ask for them uncompressed (issue 13.5).
        const masker = upstream.credentials.relayMasker?.();
        if (route.response || masker) call.headers['accept-encoding'] = 'identity';
        const upstreamStarted = performance.now();
        const upstreamRes = await callUpstream(upstream, {
          method: call.method,
          path: upstreamPath,
          headers: call.headers as Record<string, string | string[]>,
          body,
          responseTimeoutMs: route.responseTimeoutMs,
          onCancel: (c) => (cancel = c),
        });
        const status = upstreamRes.statusCode;
        const length = Number(upstreamRes.headers['content-length'] ?? NaN);
        // A HEAD answer has no body to read, and its Content-Length is the GET's: relay it as is.
        // Without a response stage, only a credential that reads answer bodies (MOLISA error_code) needs
        // the body in memory; everything else streams straight through.
        const sniffable =
          call.method !== 'HEAD' &&
          upstream.credentials.inspectsBody === true &&
          isJsonContentType(upstreamRes.headers['content-type']) &&
          !upstreamRes.headers['content-encoding'] &&
          length <= SNIFF_LIMIT;
        // An answer compressed although identity was asked for is read and decoded, so it can be searched.
        const coding =
          masker && call.method !== 'HEAD' ? compressedCoding(upstreamRes.headers['content-encoding']) : undefined;
        if ((!route.response || call.method === 'HEAD') && !sniffable && coding === undefined) {
          if (attempt === 0 && upstream.credentials.isTokenRejected(status, undefined)) {
            upstream.credentials.invalidate(call);
            upstreamRes.discard();
            continue;
          }
          relay(route, upstreamRes, upstreamStarted, masker);
          return;
        }
        const read = await upstreamRes.read(maxResponseBytes);
        const buf = coding ? decodeForMasking(read, coding, upstream.id, maxResponseBytes) : read;
        record.upstreamMs = performance.now() - upstreamStarted;
        // Parsed only when the response is mapped or validated; the token-rejection check gets the raw
        // buffer and parses it only if a strategy looks at bodies (MOLISA error_code), not on every call.
        // The answer gets the request's guards (encoding, depth, key count, exact numbers): a hostile or
        // broken upstream must not reach the mapping's recursion (issue 14.5).
        let answer: Answer | undefined;
        if (route.response && buf.length > 0) {
          // Decoding (and its await) only when the labels say the bytes are not plain UTF-8.
          // An answer the masker decoded already (compressed though identity was asked for) is not decoded twice.
          const labels = coding ? { ...upstreamRes.headers, 'content-encoding': undefined } : upstreamRes.headers;
          const plain = isPlainUtf8(labels) ? buf : await decodeAnswer(route, labels, buf);
          answer = plain instanceof GatewayError ? { ok: false, error: plain } : readAnswer(route, plain);
        }
        const parsed = answer?.ok ? answer.value : undefined;
        if (attempt === 0 && upstream.credentials.isTokenRejected(status, parsed ?? buf)) {
          upstream.credentials.invalidate(call);
          continue;
        }
        // Response stages check what the upstream accepted (2xx); its own errors pass through unchanged.
        const adapt = route.response !== undefined && status >= 200 && status < 300;
        if (adapt && answer !== undefined && !answer.ok) {
          if (route.response?.mode === 'enforce') throw answer.error;
          logger.warn('response not mapped (report mode)', { requestId, route: route.id, error: answer.error.message });
        }
        const outBody = adapt && answer?.ok ? adaptResponse(route, answer.value, answer.rawNumbers) : undefined;
        const payload = outBody === undefined ? buf : Buffer.from(JSON.stringify(outBody));
        masker?.maskInPlace(payload);
        const headers = relayableResponseHeaders(upstreamRes.headers);
        scrubRelayedHeaders(headers, masker, route.config.allowSetCookie === true);
        if (coding) delete headers['content-encoding'];
        if (outBody !== undefined) describeUtf8Response(headers);
        headers['content-length'] = String(payload.length);
        headers['x-request-id'] = requestId;
        record.status = status;
        record.bytes = payload.length;
        res.writeHead(status, headers);
        res.end(payload);
        return;
      }
    };

    /** The upstream's answer relayed as it comes: status, headers minus hop-by-hop, body with back-pressure. */
    const relay = (
      route: RouteRuntime,
      upstreamRes: UpstreamResponse,
      upstreamStarted: number,
      masker: SecretMasker | undefined,
    ) => {
      const headers = relayableResponseHeaders(upstreamRes.headers);
      scrubRelayedHeaders(headers, masker, route.config.allowSetCookie === true);
      headers['x-request-id'] = requestId;
      record.status = upstreamRes.statusCode;
      res.writeHead(upstreamRes.statusCode, headers);
      upstreamRes.relay(
        res,
        () => {
          record.bytes = upstreamRes.bytes;
          record.upstreamMs = performance.now() - upstreamStarted;
        },
        masker?.stream(declaredLength(upstreamRes.headers['content-length'])),
      );
    };

    /**
     * Streamed body: http-proxy-middleware pipes it untouched, framed by the gateway (Content-Length or
     * chunked), within the consumer's share of the upstream's connections and the minimum upload rate.
     */
    const forwardStream = async (
      route: RouteRuntime,
      call: OutgoingCall,
      upstreamPath: string,
      framing: Exclude<BodyFraming, { kind: 'none' }>,
      consumerId: string,
    ) => {
      const { upstream } = route;
      const release = upstream.consumerShare.acquire(consumerId);
      res.once('close', release);
      await upstream.credentials.apply(call);
      // The framing is the gateway's: httpxy reads it from here (and then neither adds `Content-Length: 0`
      // to a DELETE nor reuses the connection after a chunked body); the forwarder sets it again last.
      if (framing.kind === 'length') call.headers['content-length'] = String(framing.length);
      else call.headers['transfer-encoding'] = 'chunked';
      const masker = upstream.credentials.relayMasker?.();
      if (masker) call.headers['accept-encoding'] = 'identity';
      req.headers = call.headers as IncomingMessage['headers'];
      const upstreamStarted = performance.now();
      await new Promise<void>((resolve, reject) => {
        let settled = false;
        upstream.stream(
          req,
          res,
          {
            path: upstreamPath,
            responseTimeoutMs: route.responseTimeoutMs,
            maxBodyBytes: runtime.config.limits.bodyBytes,
            framing,
            upload: runtime.config.limits.upload,
            maskBody: masker ? (upstreamRes) => streamedBodyMasker(masker, upstreamRes.headers) : undefined,
            onResponse: (upstreamRes) => {
              record.status = upstreamRes.statusCode;
              // Before httpxy copies the head: injected secrets masked, the national side's cookies dropped.
              scrubRelayedHeaders(upstreamRes.headers, masker, route.config.allowSetCookie === true);
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
    };

    /** The limits the byte guard enforces on request bodies and mapped answers alike. */
    const jsonLimits = (): JsonBytesLimits => ({
      maxDepth: runtime.config.limits.jsonDepth,
      maxKeys: runtime.config.limits.objectKeys,
    });

    /** Guard, then parse (exactly where the guard saw a number at risk); throws the caller's 400. */
    const parseGuarded = (buf: Buffer): { value: unknown; rawNumbers?: boolean } => {
      const limits = jsonLimits();
      const verdict = guardJsonBytes(buf, limits);
      if (verdict instanceof GatewayError) throw verdict;
      const parsed = parseJson(buf, { maxDepth: limits.maxDepth, exactNumbers: verdict === 'exact-numbers' });
      if (!parsed.ok) throw parsed.error;
      return parsed;
    };

    /** Content-Encoding and charset of a body the gateway will re-serialise (body-encoding.ts). */
    const decodeRequest = async (route: RouteRuntime, body: Buffer, limit: number, kind: 'json' | 'form') => {
      const out = await decodeBody(body, req.headers, limit, kind);
      if (out.ok) return out.body;
      throw requestDecodeError(route.id, out.fault);
    };

    /** An answer labelled with a Content-Encoding or a non-UTF-8 charset, decoded; a fault is a 502. */
    const decodeAnswer = async (route: RouteRuntime, labels: IncomingHttpHeaders, buf: Buffer) => {
      const decoded = await decodeBody(buf, labels, maxResponseBytes);
      if (decoded.ok) return decoded.body;
      return new GatewayError('GW_UPSTREAM_BAD_RESPONSE', {
        upstream: route.upstream.id,
        reason: describeFault(decoded.fault),
      });
    };

    /** An upstream answer guarded and parsed like a request; a fault is a 502 naming the upstream and rule. */
    const readAnswer = (route: RouteRuntime, body: Buffer): Answer => {
      const bad = (reason: string): Answer => ({
        ok: false,
        error: new GatewayError('GW_UPSTREAM_BAD_RESPONSE', { upstream: route.upstream.id, reason }),
      });
      const limits = jsonLimits();
      const verdict = guardJsonBytes(body, limits);
      if (verdict instanceof GatewayError) {
        const reason = String(verdict.params.reason ?? verdict.message);
        return bad(verdict.code === 'GW_MALFORMED_JSON' ? `phản hồi không phải JSON hợp lệ (${reason})` : reason);
      }
      const parsed = parseJson(body, {
        maxDepth: limits.maxDepth,
        exactNumbers: verdict === 'exact-numbers',
      });
      if (!parsed.ok) {
        const detail = String(parsed.error.params.reason ?? parsed.error.message);
        return bad(parsed.error.code === 'GW_MALFORMED_JSON' ? `phản hồi không phải JSON hợp lệ (${detail})` : detail);
      }
      return parsed;
    };

    const adaptRequest = (route: RouteRuntime, body: unknown, rec: ExchangeRecord, rawNumbers?: boolean): unknown => {
      const stage = route.request;
      if (!stage) return body;
      const out = stage.run(body, rawNumbers);
      if (out.errors.length > 0) {
        rec.validationRejected = true;
        throw validationError(out.errors);
      }
      return out.body;
    };

    const adaptResponse = (route: RouteRuntime, body: unknown, rawNumbers?: boolean): unknown => {
      const stage = route.response;
      if (!stage) return body;
      const out = stage.run(body, rawNumbers);
      if (out.errors.length > 0) {
        record.responseRejected = true;
        if (stage.mode === 'enforce') {
          throw new GatewayError(
            'GW_UPSTREAM_BAD_RESPONSE',
            { upstream: route.upstream.id, reason: `${out.errors.length} lỗi so với lược đồ phản hồi` },
            { details: out.errors },
          );
        }
        logger.warn('response schema violation (report mode)', { requestId, route: route.id, errors: out.errors });
        return body;
      }
      return out.body;
    };

    handle().catch(fail);
  };
}

/** Bodies up to this size with a Content-Length are buffered rather than streamed. */
const SMALL_BODY_BYTES = 64 * 1024;

function validationError(errors: FieldError[]): GatewayError {
  return new GatewayError('GW_VALIDATION_FAILED', { count: errors.length }, { details: errors });
}

function serialiseBody(call: OutgoingCall, raw: Buffer | undefined): Buffer | undefined {
  if (call.json !== undefined) return Buffer.from(JSON.stringify(call.json));
  if (call.form !== undefined) return Buffer.from(call.form.toString());
  return raw;
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

function declaredLength(value: string | undefined): number | undefined {
  const length = Number(value);
  return value !== undefined && Number.isSafeInteger(length) ? length : undefined;
}

/** An upstream answer parsed for a response stage, or why it could not be. */
type Answer = { ok: true; value: unknown; rawNumbers?: boolean } | { ok: false; error: GatewayError };

/** A caller's body the gateway cannot read as labelled: 415 naming the header, 413, or 400. */
function requestDecodeError(route: string, fault: BodyDecodeFault): GatewayError {
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

function describeFault(fault: BodyDecodeFault): string {
  if (fault.kind === 'too-large') return `dữ liệu sau khi giải nén vượt ${fault.limit} byte`;
  const header = fault.header === 'content-type' ? 'Content-Type' : 'Content-Encoding';
  if (fault.kind === 'unsupported') return `${header}: ${fault.value} không được hỗ trợ (chấp nhận: ${fault.accepted})`;
  return `dữ liệu không giải mã được theo ${header}: ${fault.value}`;
}

/** Plain JSON.parse with the position of the fault; the transform module supplies a stricter parser. */
export const parseJsonPlain: JsonParser = (buf) => {
  try {
    return { ok: true, value: JSON.parse(buf.toString('utf8')) };
  } catch (err) {
    return { ok: false, error: new GatewayError('GW_MALFORMED_JSON', { reason: (err as Error).message }) };
  }
};

/**
 * 16 base64url characters (96 random bits). Not a UUID: a UUID's last group is all digits about once in
 * 270 requests, and the log masker would then hide it as a 12-digit personal ID number.
 */
function newRequestId(): string {
  if (idPoolOffset + 12 > idPool.length) {
    idPool = randomBytes(12 * 512); // one CSPRNG call per 512 ids
    idPoolOffset = 0;
  }
  idPoolOffset += 12;
  return idPool.toString('base64url', idPoolOffset - 12, idPoolOffset);
}
let idPool = Buffer.alloc(0);
let idPoolOffset = 0;

function round(ms: number): number {
  return Math.round(ms * 100) / 100;
}

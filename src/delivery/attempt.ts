import type { IncomingHttpHeaders } from 'node:http';
import { performance } from 'node:perf_hooks';
import { callBody } from '../credentials/call-body.ts';
import { compressedCoding, decodeForMasking } from '../credentials/relay-scrub.ts';
import type { CredentialChain, OutgoingCall } from '../credentials/types.ts';
import { GatewayError } from '../errors/gateway-error.ts';
import { parseJsonText } from '../transform/json-body.ts';
import { callUpstream, type UpstreamTarget } from '../upstream/upstream-call.ts';
import type { AcceptanceRule, Judgement } from './acceptance.ts';
import type { SealedRequest } from './seal.ts';

/** The header every attempt of a delivery carries, so the national side can deduplicate too. */
export const DELIVERY_ID_HEADER = 'x-lgsp-delivery-id';

/** Largest answer to a push that is read (pushes answer a short status document). */
const MAX_ANSWER_BYTES = 1024 * 1024;

/** What a delivery needs of its upstream: the target, its credentials and how it judges answers. */
export interface DeliveryUpstream extends UpstreamTarget {
  readonly credentials: CredentialChain;
  readonly acceptance: AcceptanceRule;
}

/** One attempt's end. `answer` is set when the upstream answered (read whole), `error` when it did not. */
export interface AttemptResult {
  readonly judgement: Judgement;
  readonly status: number | null;
  /** Coded, citizen-data-free: `GW_UPSTREAM_TIMEOUT`, `HTTP 503`, `HTTP 200 error_code=4`. */
  readonly reason: string | null;
  readonly answer?: { readonly headers: IncomingHttpHeaders; readonly body: Buffer };
  /** The failure when nothing was answered (connection refused, timeout, token endpoint down). */
  readonly error?: GatewayError;
  /** The call as it was last sent (its credentials: the relayed answer's secrets are masked with them). */
  readonly call: OutgoingCall;
  readonly upstreamMs: number;
}

export interface AttemptOptions {
  readonly deliveryId: string;
  readonly responseTimeoutMs: number;
  /** Sends again after the upstream refused the injected token (the credentials refreshed first). */
  readonly tokenReplays: number;
  readonly onCancel?: (cancel: () => void) => void;
}

/**
 * One attempt of a push: the route's credential chain applied afresh (refreshed and replayed when the
 * upstream refuses the token, as on the direct path), the request sent with `X-LGSP-Delivery-Id`, the
 * answer read whole and judged by the upstream's acceptance rule. Never throws: a failure is a result.
 */
export async function attemptDelivery(
  upstream: DeliveryUpstream,
  request: SealedRequest,
  options: AttemptOptions,
): Promise<AttemptResult> {
  const started = performance.now();
  const { credentials } = upstream;
  let call = outgoingCall(request, credentials.bodyNeed, options.deliveryId);
  for (let attempt = 0; ; attempt++) {
    try {
      if (!credentials.applyCached?.(call)) await credentials.apply(call);
      const answer = await callUpstream(upstream, {
        method: call.method,
        path: request.path,
        headers: call.headers as Record<string, string | string[]>,
        body: callBody(call, request.body),
        responseTimeoutMs: options.responseTimeoutMs,
        onCancel: options.onCancel,
      });
      const read = await answer.read(MAX_ANSWER_BYTES);
      const coding = compressedCoding(answer.headers['content-encoding']);
      const body = coding ? decodeForMasking(read, coding, upstream.id, MAX_ANSWER_BYTES) : read;
      const headers = coding ? { ...answer.headers, 'content-encoding': undefined } : answer.headers;
      if (credentials.isTokenRejected(answer.statusCode, body)) {
        credentials.invalidate(call);
        if (attempt < options.tokenReplays) {
          call = { ...call, headers: { ...call.headers } };
          continue;
        }
        return {
          judgement: 'retry',
          status: answer.statusCode,
          reason: `HTTP ${answer.statusCode} token refused`,
          answer: { headers, body },
          call,
          upstreamMs: performance.now() - started,
        };
      }
      const verdict = upstream.acceptance(answer.statusCode, body);
      return {
        ...verdict,
        status: answer.statusCode,
        answer: { headers, body },
        call,
        upstreamMs: performance.now() - started,
      };
    } catch (err) {
      const error = err instanceof GatewayError ? err : new GatewayError('GW_INTERNAL', {}, { cause: err });
      return {
        judgement: 'retry',
        status: null,
        reason: error.code,
        error,
        call,
        upstreamMs: performance.now() - started,
      };
    }
  }
}

/** The sealed request as the credential strategies see it (a body they write into parsed again). */
function outgoingCall(request: SealedRequest, bodyNeed: CredentialChain['bodyNeed'], deliveryId: string): OutgoingCall {
  const headers: OutgoingCall['headers'] = { ...request.headers, [DELIVERY_ID_HEADER]: deliveryId };
  // Answers are read whole and judged: asked uncompressed (decoded anyway when the upstream ignores it).
  headers['accept-encoding'] = 'identity';
  const q = request.path.indexOf('?');
  const call: OutgoingCall = { method: request.method, headers, query: q === -1 ? '' : request.path.slice(q) };
  if (bodyNeed === 'json' && request.body) {
    // Parsed as every body is (numbers a double cannot hold kept as their source text), so the credential's
    // field is added without changing a value; the body passed the route's guards when it was sealed.
    const parsed = parseJsonText(request.body.toString('utf8'), { maxDepth: Number.MAX_SAFE_INTEGER });
    if (!parsed.ok) throw parsed.error;
    call.json = parsed.value;
  }
  if (bodyNeed === 'form' && request.body) call.form = new URLSearchParams(request.body.toString('utf8'));
  return call;
}

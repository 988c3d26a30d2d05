import type { AttemptResult } from '../../delivery/attempt.ts';
import type { SealedRequest } from '../../delivery/seal.ts';
import type { Delivery } from '../../delivery/store.ts';
import { callBody } from '../../credentials/call-body.ts';
import { scrubRelayedHeaders } from '../../credentials/relay-scrub.ts';
import { GatewayError } from '../../errors/gateway-error.ts';
import { relayableResponseHeaders } from '../../upstream/headers.ts';
import { describeUtf8Response } from '../body-encoding.ts';
import { writeFailure, writeJsonAnswer } from '../answer.ts';
import type { Exchange } from '../exchange.ts';
import { adaptReadAnswer } from './respond.ts';

/**
 * Durable delivery (issue 17), the stage after adapt on routes whose plan says `queued` or `direct`.
 * Queued: the mapped request is sealed and written to the store (claimed) BEFORE anything is answered; the
 * first attempt is made at once, and the caller gets the upstream's real answer when it accepts or refuses
 * for good, else a 202 notice with the tracking id (the worker delivers it later). Direct with a business
 * key: sent once as on the direct path and recorded in the ledger. The credentials are applied at each
 * attempt (src/delivery/attempt.ts), never stored.
 */
export async function deliver(ex: Exchange): Promise<void> {
  const engine = ex.ctx.delivery;
  const { route } = ex;
  if (!engine) throw new GatewayError('GW_DELIVERY_UNAVAILABLE', { reason: 'no delivery store is open' });
  const request = sealedRequest(ex);
  const row = engine.prepare(route, request, ex.call.json, ex.consumer!.id);
  ex.record.upstream = route.upstream.id;
  if (route.plan.delivery === 'direct') {
    const result = await engine.attemptDirect(route, row, request);
    return await answerAttempt(ex, result, row.id);
  }
  let stored;
  try {
    stored = await engine.enqueue(row);
  } catch (err) {
    if (err instanceof GatewayError) throw err; // the engine's own refusal (the consumer's backlog is full)
    ex.ctx.logger.error('delivery store: push not stored', {
      requestId: ex.requestId,
      route: route.id,
      error: (err as Error).message,
    });
    throw new GatewayError('GW_DELIVERY_UNAVAILABLE', { reason: 'kho lưu tạm không ghi được' });
  }
  const { delivery } = stored;
  if (stored.kind === 'duplicate') return notice(ex, delivery, 'GW_DELIVERY_DUPLICATE', null);
  if (stored.kind === 'queued') return notice(ex, delivery, 'GW_DELIVERY_ACCEPTED', 'đang chờ gửi');
  const first = await engine.attemptClaimed(route, delivery, request);
  if (first.result.judgement === 'retry') {
    return notice(ex, { ...delivery, state: first.state }, 'GW_DELIVERY_ACCEPTED', first.result.reason);
  }
  await answerAttempt(ex, first.result, delivery.id);
}

/** The request as it is stored and sent: the adapted call, before any credential is applied. */
function sealedRequest(ex: Exchange): SealedRequest {
  const { call } = ex;
  const headers: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(call.headers)) if (value !== undefined) headers[name] = value;
  if (call.json !== undefined) headers['content-type'] ??= 'application/json; charset=utf-8';
  return { method: call.method, path: ex.upstreamPath, headers, body: callBody(call, ex.body) };
}

/**
 * The upstream's own answer, relayed with the push's ledger id: head scrubbed of hop-by-hop headers, cookies and injected secrets,
 * body masked and, for a 2xx on a route with a response stage, mapped. No answer at all: the failure in
 * the route's dialect.
 */
async function answerAttempt(ex: Exchange, result: AttemptResult, deliveryId: string): Promise<void> {
  const { route, record } = ex;
  const { answer } = result;
  record.upstreamMs = result.upstreamMs;
  if (!answer) throw result.error ?? new GatewayError('GW_INTERNAL', { requestId: ex.requestId });
  const status = result.status!;
  const masker = route.upstream.credentials.relayMasker?.();
  const headers = relayableResponseHeaders(answer.headers);
  scrubRelayedHeaders(headers, masker, route.plan.allowSetCookie);
  let payload = answer.body;
  if (route.response && status >= 200 && status < 300 && payload.length > 0) {
    const mapped = await adaptReadAnswer(ex, answer.headers, payload);
    if (mapped !== undefined) {
      payload = Buffer.from(JSON.stringify(mapped));
      describeUtf8Response(headers);
    }
  }
  payload = Buffer.from(payload);
  masker?.maskInPlace(payload);
  headers['content-length'] = String(payload.length);
  headers['x-request-id'] = ex.requestId;
  // The ledger's row of this push, whether the upstream accepted or refused it (`deliveries show <id>`).
  headers['x-lgsp-delivery-id'] = deliveryId;
  record.status = status;
  record.bytes = payload.length;
  ex.res.writeHead(status, headers);
  ex.res.end(payload);
}

/**
 * The caller's answer when the push is stored but not (yet) delivered, or was already: 202 in the route's
 * dialect with the tracking id, or the admin's compatibility answer (`delivery.acceptedAnswer`).
 */
function notice(
  ex: Exchange,
  delivery: Pick<Delivery, 'id' | 'state' | 'upstreamId'>,
  code: 'GW_DELIVERY_ACCEPTED' | 'GW_DELIVERY_DUPLICATE',
  reason: string | null,
): void {
  ex.res.setHeader('x-lgsp-delivery-id', delivery.id);
  const compat = ex.route.delivery?.acceptedAnswer;
  if (compat && code === 'GW_DELIVERY_ACCEPTED') {
    writeJsonAnswer(ex, compat.status, withTrackingId(compat.body, delivery.id));
    return;
  }
  writeFailure(
    ex,
    new GatewayError(code, {
      upstream: delivery.upstreamId,
      trackingId: delivery.id,
      state: delivery.state,
      reason: reason ?? undefined,
    }),
  );
}

/** The compatibility answer with every `{trackingId}` in its strings replaced by the id. */
function withTrackingId(value: unknown, id: string): unknown {
  if (typeof value === 'string') return value.replaceAll('{trackingId}', id);
  if (Array.isArray(value)) return value.map((v) => withTrackingId(v, id));
  if (value !== null && typeof value === 'object')
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, withTrackingId(v, id)]));
  return value;
}

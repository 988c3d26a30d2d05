import type { GatewayConfig, RouteConfig } from '../config/types.ts';

/**
 * How a route treats the caller's body, decided once at load:
 * - `answer`: the gateway answers the route itself (MOLISA GetToken compatibility); no upstream call.
 * - `json`: read whole, decoded, guarded, parsed, mapped and validated, sent as UTF-8 JSON (a request stage,
 *   or a credential that writes into the JSON body).
 * - `form`: read whole, decoded, parsed as a form, sent again (a credential that writes into the form).
 * - `pass`: sent as the caller sent it: a small body of declared length buffered (byte-identical, so the
 *   call can be replayed), anything larger or chunked streamed.
 */
export type BodyMode = 'answer' | 'json' | 'form' | 'pass';

/**
 * Everything the request path needs about one route that can be known at load (fastify's per-route
 * context is the model): the request path reads these fields and computes none of them. The plan is data:
 * it names no stage; src/pipeline picks the stages that run each body mode.
 */
export interface RoutePlan {
  readonly body: BodyMode;
  /** `limits.bodyBytes`: largest caller body read or streamed. */
  readonly bodyLimit: number;
  /** The byte guard's limits, for request bodies and mapped answers alike. */
  readonly json: { readonly maxDepth: number; readonly maxKeys: number };
  /** Minimum rate of a streamed body (`limits.upload`). */
  readonly upload: GatewayConfig['limits']['upload'];
  /** Upstream answer timeout: the route's `timeoutMs`, else its upstream's. */
  readonly responseTimeoutMs: number;
  /** A response stage reads the answer: ask for it uncompressed. */
  readonly readsAnswer: boolean;
  /** `allowSetCookie`: the national side's cookies are relayed (otherwise dropped). */
  readonly allowSetCookie: boolean;
  /**
   * The retry policy of a buffered call: how many times it is sent again after the upstream refused the
   * injected token (the credentials are invalidated and applied afresh first). Streamed bodies are gone
   * once sent: they are never replayed, only the token is invalidated for the next call.
   */
  readonly tokenReplays: number;
  /**
   * Durable delivery (issue 17): `none` (today's path), `direct` (sent once, recorded in the ledger) or
   * `queued` (stored before the caller is answered, retried until delivered). Queued and recorded pushes
   * take the delivery stage after adapt; the route's `delivery` runtime holds what it compiled.
   */
  readonly delivery: 'none' | 'direct' | 'queued';
}

/** The facts about a route's body the plan is compiled from (the route builder knows them). */
export interface RoutePlanInputs {
  readonly route: RouteConfig;
  readonly limits: GatewayConfig['limits'];
  readonly upstreamResponseTimeoutMs: number;
  /** The route has a request stage (mapping or schema). */
  readonly hasRequestStage: boolean;
  readonly hasResponseStage: boolean;
  /** What the upstream's credentials write into the body, if anything. */
  readonly credentialBodyNeed?: 'json' | 'form';
}

/** Compiles a route's plan; a frozen value, read by every request of the route. */
export function compileRoutePlan(inputs: RoutePlanInputs): RoutePlan {
  const { route, limits } = inputs;
  return Object.freeze({
    body: bodyMode(inputs),
    bodyLimit: limits.bodyBytes,
    json: Object.freeze({ maxDepth: limits.jsonDepth, maxKeys: limits.objectKeys }),
    upload: limits.upload,
    responseTimeoutMs: route.timeoutMs ?? inputs.upstreamResponseTimeoutMs,
    readsAnswer: inputs.hasResponseStage,
    allowSetCookie: route.allowSetCookie === true,
    tokenReplays: 1,
    delivery: deliveryMode(route),
  });
}

function bodyMode(inputs: RoutePlanInputs): BodyMode {
  if (inputs.route.answer) return 'answer';
  if (inputs.hasRequestStage || inputs.credentialBodyNeed === 'json') return 'json';
  if (inputs.credentialBodyNeed === 'form') return 'form';
  return 'pass';
}

/** A route's delivery: queued; direct with a business key (recorded in the ledger); else none. */
function deliveryMode(route: RouteConfig): RoutePlan['delivery'] {
  const delivery = route.delivery;
  if (!delivery) return 'none';
  if (delivery.mode === 'queued') return 'queued';
  return delivery.businessKey === undefined ? 'none' : 'direct';
}

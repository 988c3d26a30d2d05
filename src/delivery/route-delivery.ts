import type { RouteDeliveryConfig } from '../config/types.ts';
import type { DeliveryUpstream } from './attempt.ts';
import { getPath } from '../credentials/json-path.ts';
import { compileBusinessKey } from './business-key.ts';

/** A route's `delivery:` compiled at load (runtime/runtime.ts keeps it on the route's runtime). */
export interface RouteDelivery {
  readonly mode: 'direct' | 'queued';
  /** Ordering and duplicate scope (`group`, default the upstream id). */
  readonly group: string;
  /** The call's name in the ledger (`operation`, default the route id). */
  readonly operation: string;
  /** The call's name read from the body (`operationField`), when the route names one. */
  readonly operationOf?: (body: unknown) => string | undefined;
  /** The business key of a mapped body, when the route names one. */
  readonly businessKey?: (body: unknown) => string | undefined;
  readonly retry: RouteDeliveryConfig['retry'];
  readonly acceptedAnswer?: RouteDeliveryConfig['acceptedAnswer'];
}

/** What the engine and its worker need of a route: read from the current runtime by id at each attempt. */
export interface DeliveryRoute {
  readonly id: string;
  readonly upstream: DeliveryUpstream & {
    readonly config: { readonly maxSockets: number; readonly consumerShare: number };
  };
  readonly plan: { readonly responseTimeoutMs: number; readonly tokenReplays: number };
  readonly delivery?: RouteDelivery;
}

export function compileRouteDelivery(config: RouteDeliveryConfig, routeId: string, upstreamId: string): RouteDelivery {
  return Object.freeze({
    mode: config.mode,
    group: config.group ?? upstreamId,
    operation: config.operation ?? routeId,
    operationOf: config.operationField === undefined ? undefined : operationReader(config.operationField),
    businessKey: config.businessKey === undefined ? undefined : compileBusinessKey(config.businessKey),
    retry: config.retry,
    acceptedAnswer: config.acceptedAnswer,
  });
}

/**
 * The call's name at a dot path of the body (the first record's, in an array): a short code or nothing.
 * Never a run of 9+ digits: the ledger keeps it in clear and shows it on admin pages, and a caller may
 * have put a citizen's ID number there.
 */
function operationReader(path: string): (body: unknown) => string | undefined {
  return (body) => {
    const value = getPath(Array.isArray(body) ? body[0] : body, path);
    return typeof value === 'string' && /^[\w.-]{1,64}$/.test(value) && !/\d{9}/.test(value) ? value : undefined;
  };
}

import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ConsumerIdentity } from '../auth/identity.ts';
import type { DeliveryEngine } from '../delivery/engine.ts';
import type { OutgoingCall } from '../credentials/types.ts';
import type { SecretMasker } from '../logging/secret-masker.ts';
import type { ErrorRenderer } from '../errors/dialects/dialect.ts';
import type { GatewayError } from '../errors/gateway-error.ts';
import type { Logger } from '../logging/logger.ts';
import type { BodyFraming } from '../upstream/framing.ts';
import type { RouteRuntime, Runtime } from '../runtime/runtime.ts';

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
  /**
   * The audit's business keys of the request body as mapped (parsed routes only), before a credential
   * writes into it: taken by the `onBody` hook (issue 19).
   */
  keys?: Record<string, string | string[]>;
  /** The answer as the caller received it (answers read whole and mapped or verified), for audit keys. */
  answer?: unknown;
  validationRejected?: boolean;
  /** The officer who asked (route `officer:`), for the audit trail. */
  officer?: string;
  responseRejected?: boolean;
}

/** Observers other modules plug in (audit, metrics). */
export interface PipelineHooks {
  onExchange?(record: ExchangeRecord, runtime: Runtime): void;
  /** Called once the caller is known to be allowed, before any work: throws a GatewayError to refuse (audit down). */
  admit?(route: RouteRuntime): void;
  /** +1 when a request matched a route, -1 when its response closed. */
  onInFlight?(route: string, delta: number): void;
  /**
   * Called with the request body as soon as it is mapped (adapt), while it is still in the CPU's caches
   * and before a credential writes into it: the audit takes its business keys there (`record.keys`).
   */
  onBody?(record: ExchangeRecord, body: unknown): void;
}

/**
 * `exactNumbers`: the byte guard saw a number literal a double may not carry; the parser carries any that
 * it does not as its source text and says so with `rawNumbers` (src/transform/exact-numbers.ts).
 * `guarded`: the guard also proved the bytes UTF-8, within `maxDepth` and free of forbidden keys, so the
 * parser need not check those again (src/transform/json-guard.ts guardJsonBody).
 */
export type JsonParser = (
  buf: Buffer,
  limits: { maxDepth: number; exactNumbers?: boolean; guarded?: boolean },
) => { ok: true; value: unknown; rawNumbers?: boolean } | { ok: false; error: GatewayError };

/** What every exchange of one handler shares: built once, when the handler is created. */
export interface PipelineContext {
  readonly logger: Logger;
  readonly hooks?: PipelineHooks;
  readonly parseJson: JsonParser;
  /** Largest upstream JSON body read to look for a "token expired" signal or to map a response. */
  readonly maxResponseBytes: number;
  /** The durable delivery engine (issue 17), when a delivery store is open. */
  readonly delivery?: DeliveryEngine;
}

/**
 * One request on its way through the stages (stages/*.ts). Each stage reads what the earlier ones
 * established and adds its own part; the route's plan (runtime/route-plan.ts) says which stages run.
 * One object per request, all fields declared here so every exchange has the same shape.
 */
export class Exchange {
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  readonly runtime: Runtime;
  readonly ctx: PipelineContext;
  readonly requestId: string;
  /** The request target as the caller sent it (the access log's, before any forwarder rewrites req.url). */
  readonly url: string;
  /** The caller's path, without the query. */
  readonly path: string;
  /** `?…` as the caller sent it, or ''. */
  readonly query: string;
  readonly record: ExchangeRecord;
  /** The dialect errors are written in: the route's once one matched, before that the path's guess. */
  render: ErrorRenderer;
  /** Set by the match stage; every later stage may rely on it. */
  route!: RouteRuntime;
  params!: Record<string, string>;
  /** How the caller framed its body (upstream/framing.ts), decided before anything reads it. */
  framing!: BodyFraming;
  consumer: ConsumerIdentity | undefined = undefined;
  /** The outgoing request as the credential strategies see it. */
  call!: OutgoingCall;
  /** Upstream path and query. */
  upstreamPath = '';
  /** The body as read (then decoded, for parsed modes); undefined when there is none. */
  body: Buffer | undefined = undefined;
  /** The body streams through instead of being read (set by the read stage). */
  streamed = false;
  /** An XML body on a `json` route that takes XML (`bodies: [json, xml]`): sent byte-identical, never parsed. */
  xml = false;
  /** Masks the injected secrets in the relayed answer; set by the credentials stage. */
  masker: SecretMasker | undefined = undefined;
  /** When the current upstream call left. */
  upstreamStarted = 0;
  /** Cuts the upstream call when the caller leaves early (set by the send stage). */
  cancel: (() => void) | undefined = undefined;
  /** Gives back the consumer's share of the upstream's streamed connections (set by the send stage). */
  release: (() => void) | undefined = undefined;

  constructor(req: IncomingMessage, res: ServerResponse, runtime: Runtime, ctx: PipelineContext, requestId: string) {
    this.req = req;
    this.res = res;
    this.runtime = runtime;
    this.ctx = ctx;
    this.requestId = requestId;
    const url = req.url ?? '/';
    this.url = url;
    const q = url.indexOf('?');
    this.path = q === -1 ? url : url.slice(0, q);
    this.query = q === -1 ? '' : url.slice(q);
    this.record = newExchangeRecord(requestId, req.method ?? 'GET', this.path);
    this.render = runtime.rendererForPath(this.path);
  }
}

/**
 * A record with every field present from the start (undefined until a stage sets it): the stages then store
 * into a shape the record already has, instead of growing it property by property, one map transition and
 * (past the literal's own slots) a grown property array each (~5% of the gateway's CPU per full-pipeline
 * request in its profile). The type makes a field added to ExchangeRecord come here too.
 */
export function newExchangeRecord(requestId: string, method: string, path: string): ExchangeRecord {
  return {
    requestId,
    method,
    path,
    route: undefined,
    routeConfig: undefined,
    consumer: undefined,
    upstream: undefined,
    status: undefined,
    errorCode: undefined,
    bytes: 0,
    upstreamMs: undefined,
    durationMs: undefined,
    keys: undefined,
    answer: undefined,
    validationRejected: undefined,
    officer: undefined,
    responseRejected: undefined,
  } satisfies Record<keyof ExchangeRecord, unknown>;
}

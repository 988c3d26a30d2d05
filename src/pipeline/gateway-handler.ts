import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';
import { createAccessLineWriter, type Logger } from '../logging/logger.ts';
import { maskUrl } from '../logging/mask.ts';
import { acceptableRequestId } from '../upstream/headers.ts';
import { releaseRetired, type Runtime } from '../runtime/runtime.ts';
import type { Clock } from '../config/types.ts';
import type { DeliveryEngine } from '../delivery/engine.ts';
import { writeFailure } from './answer.ts';
import { Exchange, type JsonParser, type PipelineContext, type PipelineHooks } from './exchange.ts';
import { parseJsonPlain } from './parse-json.ts';
import { adapt } from './stages/adapt.ts';
import { authenticate } from './stages/authenticate.ts';
import { authorize } from './stages/authorize.ts';
import { credentials, replayCall } from './stages/credentials.ts';
import { announceLimits, limit } from './stages/limit.ts';
import { guard } from './stages/guard.ts';
import { match } from './stages/match.ts';
import { deliver } from './stages/deliver.ts';
import { decode, read } from './stages/read.ts';
import { answerLocally, respond } from './stages/respond.ts';
import { reserveStream, send, sendStream } from './stages/send.ts';

// The pipeline's public shapes live with the exchange; gateway.ts takes them from its entry point here.
export type { ExchangeRecord, JsonParser, PipelineHooks } from './exchange.ts';
export { parseJsonPlain } from './parse-json.ts';

export interface PipelineDeps {
  current(): Runtime;
  readonly logger: Logger;
  readonly clock: Clock;
  readonly parseJson?: JsonParser;
  readonly hooks?: PipelineHooks;
  /** Largest upstream JSON body read to look for a "token expired" signal or to map a response. */
  readonly maxResponseBytes?: number;
  /** Durable delivery (issue 17): queued and recorded pushes go through it. */
  readonly delivery?: DeliveryEngine;
}

/**
 * The gateway's request pipeline. Each request becomes one Exchange, run through module-level stages
 * (stages/*.ts) as its route's plan (runtime/route-plan.ts, compiled at load) says:
 * match → authenticate → authorize → limit → read → adapt → guard → credentials → send → respond, or
 * after the guards → deliver on routes with durable delivery.
 */
export function createGatewayHandler(deps: PipelineDeps): (req: IncomingMessage, res: ServerResponse) => void {
  const ctx: PipelineContext = {
    logger: deps.logger,
    hooks: deps.hooks,
    parseJson: deps.parseJson ?? parseJsonPlain,
    maxResponseBytes: deps.maxResponseBytes ?? 16 * 1024 * 1024,
    delivery: deps.delivery,
  };
  const accessLog = createAccessLineWriter(deps.logger);

  return (req, res) => {
    const runtime = deps.current();
    runtime.inFlight++;
    const started = performance.now();
    const requestId = acceptableRequestId(req.headers['x-request-id']) ?? newRequestId();
    const ex = new Exchange(req, res, runtime, ctx, requestId);
    // X-Request-Id is written by each writer of the head (answer.ts writeAnswer, respond, deliver), inside
    // the header object it gives writeHead, and by sendStream before httpxy copies the upstream's head: a
    // header set here already would send every writeHead down node:http's slower path that merges the
    // object into set headers one setHeader at a time (~0.8 µs per answer).
    // `on`, not `once`: a response closes once, and `once` wraps each listener in a closure of its own.
    res.on('close', () => {
      // The caller left before its answer was complete: a buffered upstream call is cut.
      if (!res.writableFinished) ex.cancel?.();
      ex.release?.();
      const { record } = ex;
      if (record.route !== undefined) ctx.hooks?.onInFlight?.(record.route, -1);
      record.durationMs = performance.now() - started;
      record.status ??= res.statusCode;
      if (--runtime.inFlight === 0 && runtime.retiredBy) releaseRetired(runtime, runtime.retiredBy);
      accessLog({
        requestId,
        route: record.route,
        consumer: record.consumer,
        upstream: record.upstream,
        method: record.method,
        path: maskUrl(ex.url),
        status: res.writableFinished ? record.status : `${record.status} (aborted)`,
        errorCode: record.errorCode,
        bytes: record.bytes,
        durationMs: round(record.durationMs),
        upstreamMs: record.upstreamMs === undefined ? undefined : round(record.upstreamMs),
      });
      ctx.hooks?.onExchange?.(record, runtime);
    });
    void runExchange(ex);
  };
}

/**
 * Runs one exchange through its stages. The runner holds every wait: a stage that must wait for I/O
 * returns its promise (undefined when it has nothing to wait for), so the stages cost no await of their
 * own, and the buffered call's retry loop is bounded by the plan's `tokenReplays`.
 */
async function runExchange(ex: Exchange): Promise<void> {
  try {
    match(ex);
    const caller = authenticate(ex);
    authorize(ex, caller instanceof Promise ? await caller : caller);
    const limiting = limit(ex);
    if (limiting) announceLimits(ex, await limiting);
    const reading = read(ex);
    if (reading) ex.body = await reading;
    const decoding = decode(ex);
    if (decoding) ex.body = await decoding;
    const plan = ex.route.plan;
    if (plan.body === 'answer') return answerLocally(ex);
    adapt(ex);
    const guarding = guard(ex);
    if (guarding) await guarding;
    if (plan.delivery !== 'none') return await deliver(ex);
    if (ex.streamed) {
      reserveStream(ex);
      const applying = credentials(ex);
      if (applying) await applying;
      return await sendStream(ex);
    }
    for (let attempt = 0; attempt <= plan.tokenReplays; attempt++) {
      const applying = credentials(ex);
      if (applying) await applying;
      const answer = await send(ex);
      const responding = respond(ex, answer, attempt < plan.tokenReplays);
      const verdict = typeof responding === 'string' ? responding : await responding;
      if (verdict === 'done') return;
      replayCall(ex);
    }
  } catch (err) {
    writeFailure(ex, err);
  }
}

/**
 * 16 base64url characters (96 random bits). Not a UUID: a UUID's last group is all digits about once in
 * 270 requests, and the log masker would then hide it as a 12-digit personal ID number.
 */
function newRequestId(): string {
  if (idPoolOffset + 16 > idPool.length) {
    // One CSPRNG call and one encoding per 512 ids: 12 bytes are 16 base64url characters with no padding,
    // so the pool's text cut every 16 characters gives each 12 bytes' own encoding.
    idPool = randomBytes(12 * 512).toString('base64url');
    idPoolOffset = 0;
  }
  idPoolOffset += 16;
  return idPool.slice(idPoolOffset - 16, idPoolOffset);
}
let idPool = '';
let idPoolOffset = 0;

function round(ms: number): number {
  return Math.round(ms * 100) / 100;
}

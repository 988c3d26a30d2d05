import type { IncomingHttpHeaders, ServerResponse } from 'node:http';
import type http from 'node:http';
import type { Dispatcher } from 'undici';
import type { StreamMasker } from '../logging/secret-masker.ts';
import { GatewayError } from '../errors/gateway-error.ts';
import { closesConnection } from './framing.ts';
import { timeoutError, upstreamError } from './upstream-error.ts';

export interface UpstreamTarget {
  readonly id: string;
  readonly url: URL;
  /** The URL's path without its trailing slash ('' for `/`), put before each call's path: upstreamBasePath. */
  readonly basePath: string;
  /** node:http keep-alive agent: used by the stream forwarder (http-proxy-middleware) for large bodies. */
  readonly agent: http.Agent;
  /** undici pool: used by the managed client below for empty and buffered bodies (most calls). */
  readonly dispatcher: Dispatcher;
  readonly connectTimeoutMs: number;
  readonly responseTimeoutMs: number;
}

export interface UpstreamCallOptions {
  readonly method: string;
  /** Path and query on the upstream, without its base path (added here). */
  readonly path: string;
  readonly headers: Record<string, string | string[]>;
  /** Buffered body, or undefined for none. */
  readonly body?: Buffer;
  readonly responseTimeoutMs?: number;
  /** Receives a function that cancels the call, so the caller can cut it when its own client went away. */
  readonly onCancel?: (cancel: () => void) => void;
}

const IDEMPOTENT = new Set(['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE']);
/** Errors of a connection that died before any answer came: an idempotent call may be sent again. */
const RETRYABLE = new Set(['UND_ERR_SOCKET', 'ECONNRESET', 'EPIPE']);
/** Never sent by the managed client: framing is its own (undici rejects these headers outright). */
const CLIENT_FRAMING = new Set(['content-length', 'expect', 'host']);
/** Below this, the body idle timeout is a native timer of our own (undici's would be off by up to ~1 s). */
const PRECISE_BODY_TIMEOUT_MS = 5000;

/**
 * Sends one request with a buffered (or empty) body and resolves with the response head; the caller then
 * relays, reads or discards the body. Because the body is in memory the call can be repeated: once when a
 * pooled keep-alive connection turns out to be dead (idempotent methods only, nothing was answered), and by
 * the pipeline after a 401 token refresh.
 *
 * Why undici's dispatcher and not `http.request`: per call it allocates about half as much and costs
 * ~10 µs less CPU on loopback (measured, docs/benchmarks.md), and its handler writes the body straight
 * into the caller's response without a Readable stream and `pipe` in between.
 */
export async function callUpstream(target: UpstreamTarget, options: UpstreamCallOptions): Promise<UpstreamResponse> {
  try {
    return await sendOnce(target, options);
  } catch (err) {
    if ((err as { retryable?: boolean }).retryable && IDEMPOTENT.has(options.method)) {
      return sendOnce(target, options);
    }
    throw err;
  }
}

function sendOnce(target: UpstreamTarget, options: UpstreamCallOptions): Promise<UpstreamResponse> {
  const { url } = target;
  const headers = withoutClientFraming(options.headers);
  const timeout = options.responseTimeoutMs ?? target.responseTimeoutMs;
  return new Promise((resolve, reject) => {
    const exchange = new UpstreamResponse(target, timeout, resolve, reject);
    options.onCancel?.(() => exchange.cancel());
    target.dispatcher.dispatch(
      {
        origin: url.origin,
        method: options.method as Dispatcher.HttpMethod,
        path: target.basePath + options.path,
        headers,
        body: options.body ?? (options.method === 'GET' || options.method === 'HEAD' ? null : Buffer.alloc(0)),
        headersTimeout: timeout,
        // undici writes the framing (Content-Length of the buffer) and, with `reset`, `Connection: close`.
        reset: closesConnection(options.method, options.body !== undefined && options.body.length > 0) || undefined,
        // undici's body timer ticks every ~0.5 s (fine for the usual 30 s); short ones are timed here.
        bodyTimeout: timeout >= PRECISE_BODY_TIMEOUT_MS ? timeout : 0,
      },
      exchange,
    );
  });
}

/** The call's headers less the client's framing; the object itself when it holds none (no copy per call). */
function withoutClientFraming(headers: Record<string, string | string[]>): Record<string, string | string[]> {
  let framed = false;
  for (const name of CLIENT_FRAMING) if (Object.hasOwn(headers, name)) framed = true;
  if (!framed) return headers;
  const out: Record<string, string | string[]> = {};
  for (const name in headers) if (!CLIENT_FRAMING.has(name)) out[name] = headers[name];
  return out;
}

/** An upstream URL's path without its trailing slash ('' for `/`): the target's basePath, made at load. */
export function upstreamBasePath(url: URL): string {
  return url.pathname === '/' ? '' : url.pathname.replace(/\/$/, '');
}

type Sink = { data(chunk: Buffer): void; end(): void; error(err: Error): void };

/**
 * One upstream exchange, as an undici dispatch handler: the head resolves the call; body chunks go to
 * whatever the caller attached (relay, read whole, discard), and are held until it attaches.
 */
export class UpstreamResponse implements Dispatcher.DispatchHandler {
  statusCode = 0;
  headers: IncomingHttpHeaders = {};
  /** Body bytes received so far. */
  bytes = 0;
  private controller?: Dispatcher.DispatchController;
  private sink?: Sink;
  private held?: Buffer[];
  private ended = false;
  private failure?: Error;
  private headed = false;
  private idleTimer?: NodeJS.Timeout;
  private cancelled = false;
  private readonly target: UpstreamTarget;
  private readonly timeoutMs: number;
  private readonly resolveHead: (r: UpstreamResponse) => void;
  private readonly rejectHead: (err: unknown) => void;

  constructor(
    target: UpstreamTarget,
    timeoutMs: number,
    resolve: (r: UpstreamResponse) => void,
    reject: (err: unknown) => void,
  ) {
    this.target = target;
    this.timeoutMs = timeoutMs;
    this.resolveHead = resolve;
    this.rejectHead = reject;
  }

  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.controller = controller;
    if (this.cancelled) controller.abort(new Error('caller left'));
  }

  onResponseStart(_controller: Dispatcher.DispatchController, statusCode: number, headers: IncomingHttpHeaders): void {
    this.statusCode = statusCode;
    this.headers = headers;
    this.headed = true;
    if (this.timeoutMs < PRECISE_BODY_TIMEOUT_MS) {
      this.idleTimer = setTimeout(() => {
        this.controller?.abort(timeoutError(this.target.id, this.timeoutMs, 'body'));
      }, this.timeoutMs);
    }
    this.resolveHead(this);
  }

  onResponseData(_controller: Dispatcher.DispatchController, chunk: Buffer): void {
    this.bytes += chunk.length;
    this.idleTimer?.refresh();
    if (this.sink) this.sink.data(chunk);
    else (this.held ??= []).push(chunk);
  }

  onResponseEnd(): void {
    if (this.idleTimer) clearTimeout(this.idleTimer);
    this.ended = true;
    this.sink?.end();
  }

  onResponseError(_controller: Dispatcher.DispatchController, err: Error): void {
    if (this.idleTimer) clearTimeout(this.idleTimer);
    const gwErr = this.toGatewayError(err);
    if (!this.headed) {
      this.headed = true;
      this.rejectHead(gwErr);
      return;
    }
    this.failure = gwErr;
    this.sink?.error(gwErr);
  }

  /** Cuts the call (the caller went away); nothing more is delivered. */
  cancel(): void {
    this.cancelled = true;
    this.sink = { data() {}, end() {}, error() {} };
    this.controller?.abort(new Error('caller left'));
  }

  /**
   * Writes the body into `res` as it comes (the head must already be written), with back-pressure; a
   * body cut upstream destroys `res`, so the caller sees a broken answer rather than a short one.
   * `masker` masks injected secrets in the bytes on the way (logging/secret-masker.ts).
   */
  relay(res: ServerResponse, onEnd?: () => void, masker?: StreamMasker): void {
    let paused = false;
    this.attach({
      data: (received) => {
        // Injected secrets masked on the way (same length: the relayed Content-Length stays true).
        const chunk = masker ? masker.push(received) : received;
        if (chunk.length === 0) return;
        // Chunks already parsed may still come after pause(): one 'drain' listener is enough for them all.
        if (!res.write(chunk) && this.controller && !paused) {
          const controller = this.controller;
          paused = true;
          controller.pause();
          res.once('drain', () => {
            paused = false;
            controller.resume();
          });
        }
      },
      end: () => {
        onEnd?.();
        const rest = masker?.flush();
        if (rest && rest.length > 0) res.end(rest);
        else res.end();
      },
      error: () => res.destroy(),
    });
  }

  /** Reads the whole body, failing with the upstream named when it exceeds `limit` or breaks. */
  read(limit: number): Promise<Buffer> {
    return new Promise((resolve, reject) => {
      const chunks: Buffer[] = [];
      let size = 0;
      let done = false;
      this.attach({
        data: (chunk) => {
          if (done) return;
          size += chunk.length;
          if (size > limit) {
            done = true;
            this.controller?.abort(new Error('response too large'));
            reject(
              upstreamError(
                Object.assign(new Error(`response larger than ${limit} bytes`), { code: 'ETOOLARGE' }),
                this.target.id,
              ),
            );
            return;
          }
          chunks.push(chunk);
        },
        end: () => {
          if (done) return;
          done = true;
          resolve(chunks.length === 1 ? chunks[0] : Buffer.concat(chunks));
        },
        error: (err) => {
          if (done) return;
          done = true;
          reject(err);
        },
      });
    });
  }

  /** Drops the body (keeps the connection reusable when it ends normally). */
  discard(): void {
    this.attach({ data() {}, end() {}, error() {} });
  }

  private attach(sink: Sink): void {
    if (this.cancelled) return;
    this.sink = sink;
    const held = this.held;
    this.held = undefined;
    if (held) for (const chunk of held) sink.data(chunk);
    if (this.failure) sink.error(this.failure);
    else if (this.ended) sink.end();
  }

  private toGatewayError(err: Error) {
    if (err instanceof GatewayError) return err;
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'UND_ERR_CONNECT_TIMEOUT')
      return timeoutError(this.target.id, this.target.connectTimeoutMs, 'connect');
    if (code === 'UND_ERR_HEADERS_TIMEOUT') return timeoutError(this.target.id, this.timeoutMs, 'response');
    if (code === 'UND_ERR_BODY_TIMEOUT') return timeoutError(this.target.id, this.timeoutMs, 'body');
    const gwErr = upstreamError(err, this.target.id);
    // Nothing was answered and the connection died (typically a pooled one the upstream had closed).
    return code !== undefined && RETRYABLE.has(code) && !this.headed
      ? Object.assign(gwErr, { retryable: true })
      : gwErr;
  }
}

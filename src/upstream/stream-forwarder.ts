import type { EventEmitter } from 'node:events';
import type { ClientRequest, IncomingMessage, ServerResponse } from 'node:http';
import { Transform } from 'node:stream';
import { createProxyMiddleware, proxyEventsPlugin, type Plugin as HpmPlugin } from 'http-proxy-middleware';
import type { StreamMasker } from '../logging/secret-masker.ts';
import { closesConnection, type BodyFraming } from './framing.ts';
import { stripHopByHop } from './headers.ts';
import { watchUpload } from './upload-watch.ts';
import type { UpstreamTarget } from './upstream-call.ts';
import { timeoutError } from './upstream-error.ts';

/** What the pipeline hands the stream forwarder for one request (kept on the request object). */
export interface StreamCall {
  /** Upstream path and query, without the upstream's base path (httpxy prepends it). */
  readonly path: string;
  readonly responseTimeoutMs: number;
  /** A chunked body passing this many bytes is cut off and answered 413. */
  readonly maxBodyBytes: number;
  /** The framing the gateway writes: the caller's body as Content-Length or chunked, never unframed. */
  readonly framing: Exclude<BodyFraming, { kind: 'none' }>;
  /** A body arriving slower than this over a window is cut (408): it would hold a pooled socket. */
  readonly upload: { readonly minBytesPerSecond: number; readonly windowMs: number };
  /** Called with the upstream response head, before it is relayed (token-rejection check, metrics). */
  readonly onResponse?: (res: IncomingMessage) => void;
  /**
   * The filter of the answer's body, when injected secrets must not reach the caller (issue 13.5); called
   * after onResponse, before the head is copied (it may edit the head: a decoded body loses its coding).
   */
  readonly maskBody?: (res: IncomingMessage) => StreamBodyFilter;
}

/** A masker for a streamed answer's bytes, and a decoder to run first when the answer came compressed. */
export interface StreamBodyFilter {
  readonly masker: StreamMasker;
  readonly decoder?: Transform;
}

const CALL = Symbol('lgsp.streamCall');
const DONE = Symbol('lgsp.streamDone');
type WithCall = IncomingMessage & { [CALL]?: StreamCall; [DONE]?: (err?: unknown) => void };

export type StreamForwarder = ((
  req: IncomingMessage,
  res: ServerResponse,
  call: StreamCall,
  done: (err?: unknown) => void,
) => void) & {
  /** Detaches the forwarder from the listening servers it saw (called when its upstream is retired). */
  release(): void;
};

/**
 * Streams a request body to the upstream untouched (JSON, SOAP, multipart, binary, chunked) with
 * http-proxy-middleware, over the upstream's keep-alive agent. The caller's headers must already be the
 * outgoing ones (req.headers replaced by the pipeline).
 */
export function createStreamForwarder(target: UpstreamTarget): StreamForwarder {
  // With an 'error' listener registered, httpxy emits upstream failures (refused, reset, our own timeout
  // and size errors passed to proxyReq.destroy) as events and resolves proxy.web(): route each one to
  // the request's own completion callback, which renders it in the caller's dialect.
  const routeErrorsToRequest: HpmPlugin = (proxyServer) => {
    proxyServer.on('error', (err: Error, req?: IncomingMessage) => (req as WithCall | undefined)?.[DONE]?.(err));
  };
  const middleware = createProxyMiddleware<IncomingMessage, ServerResponse>({
    target: target.url.href,
    agent: target.agent,
    changeOrigin: true,
    ejectPlugins: true,
    // proxyEventsPlugin wires the `on:` hooks below; the default logger and error-response plugins are
    // left out: errors are rendered by the pipeline in the caller's dialect.
    plugins: [routeErrorsToRequest, proxyEventsPlugin],
    pathRewrite: (_path, req) => (req as WithCall)[CALL]?.path,
    on: {
      proxyReq: (proxyReq: ClientRequest, req) => {
        const call = (req as WithCall)[CALL];
        if (!call) return;
        const socket = proxyReq.socket;
        if (socket && (socket as { connecting?: boolean }).connecting) {
          const t = setTimeout(
            () => proxyReq.destroy(timeoutError(target.id, target.connectTimeoutMs, 'connect')),
            target.connectTimeoutMs,
          );
          socket.once('connect', () => clearTimeout(t));
          proxyReq.once('close', () => clearTimeout(t));
        }
        const t = setTimeout(
          () => proxyReq.destroy(timeoutError(target.id, call.responseTimeoutMs, 'response')),
          call.responseTimeoutMs,
        );
        proxyReq.once('response', () => clearTimeout(t));
        proxyReq.once('close', () => clearTimeout(t));
        frameBody(proxyReq, call.framing);
        watchUpload(req, proxyReq, call);
      },
      proxyRes: (proxyRes, req, res) => {
        stripHopByHop(proxyRes.headers);
        // Connection is hop-by-hop: the caller's own wish (or a drain in progress) decides, never the
        // upstream's. httpxy would copy the upstream's value, or `keep-alive` when the caller's headers
        // (replaced by the outgoing ones) have none: a caller's `Connection: close` was left open.
        proxyRes.headers.connection =
          res.shouldKeepAlive && res.getHeader('connection') !== 'close' ? 'keep-alive' : 'close';
        // Same idle timeout on the body as the managed client: a stalled or trickling body is cut, and the
        // caller's response (its head already relayed) is cut too rather than left hanging.
        const idleMs = (req as WithCall)[CALL]?.responseTimeoutMs ?? target.responseTimeoutMs;
        proxyRes.setTimeout(idleMs, () => proxyRes.destroy(timeoutError(target.id, idleMs, 'body')));
        proxyRes.once('error', () => res.destroy());
        proxyRes.once('aborted', () => res.destroy());
        const call = (req as WithCall)[CALL];
        call?.onResponse?.(proxyRes);
        if (call?.maskBody) insertBodyFilter(proxyRes, call.maskBody(proxyRes));
      },
    },
  });
  // http-proxy-middleware adds a 'close' listener to the listening server on its first request and never
  // removes it: each forwarder retired by a reload stayed reachable from the server, with its proxy. Note
  // which listener it added per server, so release() can take it off again.
  const serverListeners = new Map<EventEmitter, ReturnType<EventEmitter['listeners']>>();
  const forward = (req: IncomingMessage, res: ServerResponse, call: StreamCall, done: (err?: unknown) => void) => {
    let settled = false;
    const once = (err?: unknown) => {
      if (settled) return;
      settled = true;
      done(err);
    };
    (req as WithCall)[CALL] = call;
    (req as WithCall)[DONE] = once;
    res.once('finish', () => once());
    res.once('close', () => once());
    const server = (req.socket as { server?: EventEmitter } | null)?.server;
    const before = server && !serverListeners.has(server) ? server.listeners('close') : undefined;
    if (server && before) serverListeners.set(server, []);
    middleware(req, res, (err?: unknown) => once(err ?? new Error('request was not proxied')))
      .then(() => {
        if (server && before)
          serverListeners.set(
            server,
            server.listeners('close').filter((l) => !before.includes(l)),
          );
      })
      .catch(once);
  };
  return Object.assign(forward, {
    release() {
      for (const [server, listeners] of serverListeners)
        for (const l of listeners) server.off('close', l as (...args: unknown[]) => void);
      serverListeners.clear();
    },
  });
}

/**
 * Writes the gateway's own framing on the outgoing request before its head is sent: exactly one of
 * Content-Length (the length Node's parser held the caller's body to) or `Transfer-Encoding: chunked`.
 * Node's client frames no body on GET/HEAD/DELETE/OPTIONS unless told to, and httpxy sets
 * `Content-Length: 0` on a DELETE or OPTIONS without one: either way the body reached the upstream
 * unframed, as the next request on a pooled connection (issue 13.1).
 */
function frameBody(proxyReq: ClientRequest, framing: StreamCall['framing']): void {
  if (proxyReq.headersSent) {
    proxyReq.destroy(new Error('request head sent before the gateway framed the body'));
    return;
  }
  proxyReq.removeHeader('content-length');
  proxyReq.removeHeader('transfer-encoding');
  if (framing.kind === 'length') proxyReq.setHeader('content-length', String(framing.length));
  else proxyReq.setHeader('transfer-encoding', 'chunked');
  if (closesConnection(proxyReq.method, true)) proxyReq.setHeader('connection', 'close');
}

/**
 * Puts a masking filter between the upstream answer and the caller: httpxy pipes `proxyRes` into the
 * response right after the proxyRes hook, so that one pipe() call is routed through the filter. The mask
 * keeps every byte count, so the Content-Length httpxy copies stays true.
 */
function insertBodyFilter(proxyRes: IncomingMessage, { masker, decoder }: StreamBodyFilter): void {
  const filter = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      callback(null, masker.push(chunk));
    },
    flush(callback) {
      callback(null, masker.flush());
    },
  });
  const pipe = proxyRes.pipe.bind(proxyRes);
  proxyRes.pipe = <T extends NodeJS.WritableStream>(destination: T, options?: { end?: boolean }): T => {
    if (decoder) {
      // A body that cannot be decoded cannot be checked: the caller's answer is cut, not relayed.
      decoder.once('error', (err) => (destination as unknown as { destroy(err: Error): void }).destroy(err));
      pipe(decoder).pipe(filter);
    } else pipe(filter);
    return filter.pipe(destination, options);
  };
}

import http, { type IncomingMessage } from 'node:http';
import https from 'node:https';
import { timeoutError, upstreamError } from './upstream-error.ts';

export interface UpstreamTarget {
  readonly id: string;
  readonly url: URL;
  readonly agent: http.Agent;
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
  /** Receives each outgoing request, so the caller can destroy it when its own client went away. */
  readonly onRequest?: (req: http.ClientRequest) => void;
}

const IDEMPOTENT = new Set(['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE']);

/**
 * Sends one request with a buffered (or empty) body and resolves with the response head; the caller
 * streams or buffers the body. Because the body is in memory the call can be repeated: once when a
 * pooled keep-alive socket turns out to be dead (idempotent methods only), and by the pipeline after a
 * 401 token refresh.
 */
export async function callUpstream(target: UpstreamTarget, options: UpstreamCallOptions): Promise<IncomingMessage> {
  try {
    return await sendOnce(target, options);
  } catch (err) {
    if ((err as { reusedSocket?: boolean }).reusedSocket && IDEMPOTENT.has(options.method)) {
      return sendOnce(target, options);
    }
    throw err;
  }
}

function sendOnce(target: UpstreamTarget, options: UpstreamCallOptions): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    const { url } = target;
    const basePath = url.pathname === '/' ? '' : url.pathname.replace(/\/$/, '');
    const headers: Record<string, string | string[]> = { ...options.headers, host: url.host };
    if (options.body !== undefined) headers['content-length'] = String(options.body.length);
    else if (options.method !== 'GET' && options.method !== 'HEAD') headers['content-length'] = '0';
    const transport = url.protocol === 'https:' ? https : http;
    const req = transport.request({
      protocol: url.protocol,
      hostname: url.hostname,
      port: url.port || undefined,
      method: options.method,
      path: basePath + options.path,
      headers,
      agent: target.agent,
    });
    options.onRequest?.(req);
    let settled = false;
    const timers: NodeJS.Timeout[] = [];
    const fail = (err: unknown) => {
      if (settled) return;
      settled = true;
      timers.forEach(clearTimeout);
      const gwErr = upstreamError(err, target.id);
      const reused = req.reusedSocket && (err as NodeJS.ErrnoException)?.code === 'ECONNRESET';
      reject(Object.assign(gwErr, { reusedSocket: reused }));
    };
    req.on('socket', (socket) => {
      if ((socket as { connecting?: boolean }).connecting) {
        const t = setTimeout(
          () => req.destroy(timeoutError(target.id, target.connectTimeoutMs, 'connect')),
          target.connectTimeoutMs,
        );
        timers.push(t);
        socket.once('connect', () => clearTimeout(t));
      }
    });
    const responseTimeout = options.responseTimeoutMs ?? target.responseTimeoutMs;
    timers.push(setTimeout(() => req.destroy(timeoutError(target.id, responseTimeout, 'response')), responseTimeout));
    req.on('error', fail);
    req.on('response', (res) => {
      if (settled) {
        res.resume();
        return;
      }
      settled = true;
      timers.forEach(clearTimeout);
      // The head came; the body may still stall or trickle. Cut it when the socket stays silent for the
      // response timeout (an idle timer, reset by every chunk), or the exchange would hang forever.
      res.setTimeout(responseTimeout, () => res.destroy(timeoutError(target.id, responseTimeout, 'body')));
      resolve(res);
    });
    req.end(options.body);
  });
}

/** Reads a whole response body, failing with the upstream named when it exceeds `limit` or breaks. */
export function readResponseBody(res: IncomingMessage, limit: number, upstream: string): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    res.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        res.destroy();
        reject(
          upstreamError(
            Object.assign(new Error(`response larger than ${limit} bytes`), { code: 'ETOOLARGE' }),
            upstream,
          ),
        );
        return;
      }
      chunks.push(chunk);
    });
    res.on('end', () => resolve(chunks.length === 1 ? chunks[0] : Buffer.concat(chunks)));
    res.on('error', (err) => reject(upstreamError(err, upstream)));
    // `aborted` fires before `error`: when the body was cut on purpose (idle timeout), report that reason.
    res.on('aborted', () =>
      reject(
        upstreamError(res.errored ?? Object.assign(new Error('response aborted'), { code: 'ECONNRESET' }), upstream),
      ),
    );
  });
}

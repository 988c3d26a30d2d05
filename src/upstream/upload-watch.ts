import { GatewayError } from '../errors/gateway-error.ts';
import type { StreamCall } from './stream-forwarder.ts';

/** The caller's request as the watch sees it (an IncomingMessage). */
export interface UploadSource {
  readonly complete: boolean;
  on(event: 'data', listener: (chunk: Buffer) => void): unknown;
  off(event: 'data', listener: (chunk: Buffer) => void): unknown;
  once(event: 'end', listener: () => void): unknown;
}

/** The outgoing request as the watch sees it (a ClientRequest). */
export interface UploadSink {
  readonly writableNeedDrain: boolean;
  destroy(err?: Error): unknown;
  once(event: 'close', listener: () => void): unknown;
}

/**
 * Counts the body as it flows (the listener joins the pipe httpxy sets up in this same tick): past the
 * body limit, or past the declared length (Node's parser prevents it; cheap to be sure), the upstream
 * request is destroyed with its socket. Every `windowMs` the bytes that came must reach
 * `minBytesPerSecond`, unless the upstream itself is not reading (back-pressure is not the caller's fault).
 */
export function watchUpload(
  req: UploadSource,
  proxyReq: UploadSink,
  call: Pick<StreamCall, 'framing' | 'maxBodyBytes' | 'upload'>,
): void {
  const limit = call.framing.kind === 'length' ? Math.min(call.framing.length, call.maxBodyBytes) : call.maxBodyBytes;
  let size = 0;
  let windowStart = 0;
  const { minBytesPerSecond, windowMs } = call.upload;
  const minPerWindow = (minBytesPerSecond * windowMs) / 1000;
  let timer: NodeJS.Timeout | undefined;
  const stop = () => {
    if (timer) clearTimeout(timer);
    req.off('data', onData);
  };
  const onData = (chunk: Buffer) => {
    size += chunk.length;
    if (size > limit) {
      stop();
      const err =
        size > call.maxBodyBytes
          ? new GatewayError('GW_PAYLOAD_TOO_LARGE', { limit: call.maxBodyBytes })
          : new Error('body longer than its Content-Length');
      proxyReq.destroy(err);
    }
  };
  req.on('data', onData);
  if (minBytesPerSecond > 0 && !req.complete) {
    timer = setTimeout(function check() {
      if (req.complete) return;
      if (size - windowStart < minPerWindow && !proxyReq.writableNeedDrain) {
        stop();
        proxyReq.destroy(new GatewayError('GW_UPLOAD_TOO_SLOW', { minBytesPerSecond, windowMs }));
        return;
      }
      windowStart = size;
      timer = setTimeout(check, windowMs);
    }, windowMs);
  }
  req.once('end', stop);
  proxyReq.once('close', stop);
}

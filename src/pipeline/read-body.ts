import type { IncomingMessage } from 'node:http';
import { GatewayError } from '../errors/gateway-error.ts';
import { memoised } from './body-encoding.ts';

/** Content-Length over the limit: answer 413 before reading a byte. */
export function checkDeclaredLength(req: IncomingMessage, limit: number): void {
  const cl = req.headers['content-length'];
  if (cl !== undefined && Number(cl) > limit) throw new GatewayError('GW_PAYLOAD_TOO_LARGE', { limit });
}

/**
 * Reads the whole request body, answering 413 as soon as it passes `limit`. A body that came in one chunk
 * (the usual small one) is that chunk, not a copy. Listeners are added with `on`: the request emits each
 * of these events once at most, and a promise settles once (`once` wraps every listener in a closure).
 */
export function readRequestBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  checkDeclaredLength(req, limit);
  return new Promise((resolve, reject) => {
    let first: Buffer | undefined;
    let more: Buffer[] | undefined;
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        req.off('data', onData);
        req.pause();
        reject(new GatewayError('GW_PAYLOAD_TOO_LARGE', { limit }));
        return;
      }
      if (first === undefined) first = chunk;
      else (more ??= [first]).push(chunk);
    };
    req.on('data', onData);
    req.on('end', () => resolve(more ? Buffer.concat(more, size) : (first ?? Buffer.alloc(0))));
    req.on('error', (err) =>
      reject(new GatewayError('GW_BAD_REQUEST', { reason: `đọc dữ liệu gửi lên thất bại (${err.message})` })),
    );
    req.on('aborted', () =>
      reject(new GatewayError('GW_BAD_REQUEST', { reason: 'bên gọi ngắt kết nối khi đang gửi dữ liệu' })),
    );
  });
}

/** application/json and any `+json` type. */
export function isJsonContentType(value: string | string[] | undefined): boolean {
  return typeof value === 'string' && memoised(jsonTypes, value, readJsonType);
}

const jsonTypes = new Map<string, boolean>();

function readJsonType(value: string): boolean {
  const type = value.split(';')[0].trim().toLowerCase();
  return type === 'application/json' || type.endsWith('+json');
}

/**
 * text/xml, application/xml and any `+xml` type (SOAP 1.2's application/soap+xml). Not a JSON type, so a
 * caller cannot label one body both ways.
 */
export function isXmlContentType(value: string | string[] | undefined): boolean {
  if (typeof value !== 'string') return false;
  const type = value.split(';')[0].trim().toLowerCase();
  return type === 'text/xml' || type === 'application/xml' || type.endsWith('+xml');
}

export function isFormContentType(value: string | string[] | undefined): boolean {
  return typeof value === 'string' && value.split(';')[0].trim().toLowerCase() === 'application/x-www-form-urlencoded';
}

import type { IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http';
import type { Transform } from 'node:stream';
import zlib from 'node:zlib';
import { GatewayError } from '../errors/gateway-error.ts';
import type { SecretMasker } from '../logging/secret-masker.ts';

/**
 * What an upstream's answer may not carry back to the caller (issue 13.5): the credentials the gateway
 * injected, quoted in a header value, and cookies of the national side, which would bind the caller to a
 * session opened with the gateway's credentials. Body bytes are masked by the masker's stream; headers
 * here, in place, before they are written.
 */
export function scrubRelayedHeaders(
  headers: IncomingHttpHeaders | OutgoingHttpHeaders,
  masker: SecretMasker | undefined,
  allowSetCookie: boolean,
): void {
  if (!allowSetCookie && headers['set-cookie'] !== undefined) delete headers['set-cookie'];
  if (!masker) return;
  for (const name in headers) {
    const value = headers[name];
    if (typeof value === 'string') {
      const masked = masker.maskHeaderValue(value);
      if (masked !== value) headers[name] = masked;
    } else if (Array.isArray(value)) headers[name] = value.map((v) => masker.maskHeaderValue(v));
  }
}

/**
 * The content coding of an answer the masker cannot search as it is: an upstream asked for `identity`
 * that compressed anyway. `identity` or none gives undefined.
 */
export function compressedCoding(value: string | string[] | undefined): string | undefined {
  const coding = (Array.isArray(value) ? value.join(',') : (value ?? '')).trim().toLowerCase();
  return coding === '' || coding === 'identity' ? undefined : coding;
}

const DECODERS: Record<string, { sync: typeof zlib.gunzipSync; stream: () => Transform }> = {
  gzip: { sync: zlib.gunzipSync, stream: () => zlib.createGunzip() },
  'x-gzip': { sync: zlib.gunzipSync, stream: () => zlib.createGunzip() },
  deflate: { sync: zlib.inflateSync, stream: () => zlib.createInflate() },
  br: { sync: zlib.brotliDecompressSync, stream: () => zlib.createBrotliDecompress() },
};

/**
 * A compressed answer decoded so its bytes can be searched (it is then relayed decoded, without its
 * Content-Encoding). A coding the gateway cannot decode, a corrupt body or one over `limit` bytes decoded
 * is refused: an answer that cannot be checked for the injected secrets is not relayed.
 */
export function decodeForMasking(body: Buffer, coding: string, upstream: string, limit: number): Buffer {
  const decoder = Object.hasOwn(DECODERS, coding) ? DECODERS[coding] : undefined;
  if (!decoder) throw cannotCheck(upstream, `nén kiểu ${coding.slice(0, 32)} không giải được`);
  try {
    return decoder.sync(body, { maxOutputLength: limit });
  } catch {
    throw cannotCheck(upstream, `dữ liệu nén ${coding} hỏng hoặc vượt ${limit} byte khi giải nén`);
  }
}

/** A streaming decoder for `coding`, or undefined when the gateway cannot decode it. */
export function streamDecoder(coding: string): Transform | undefined {
  return Object.hasOwn(DECODERS, coding) ? DECODERS[coding].stream() : undefined;
}

function cannotCheck(upstream: string, why: string): GatewayError {
  return new GatewayError('GW_UPSTREAM_BAD_RESPONSE', {
    upstream,
    reason: `phản hồi nén dù cổng đã yêu cầu không nén (${why}); cổng không kiểm tra được thông tin xác thực trong đó`,
  });
}

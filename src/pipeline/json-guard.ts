import { isUtf8 } from 'node:buffer';
import { GatewayError } from '../errors/gateway-error.ts';

/**
 * Checks a JSON body's bytes before any parser sees them, whichever parser the gateway is built with:
 * - bytes that are not UTF-8 are refused (GW_MALFORMED_JSON): decoding would swap them for U+FFFD and
 *   forward a silently altered name or address;
 * - nesting deeper than `maxDepth` (objects and arrays each count one level) is refused (GW_BAD_REQUEST):
 *   `limits.jsonDepth` is the promise, and a deep body overflows the stack of any recursive step later
 *   (JSON.stringify, mapping, audit key extraction);
 * - an integer literal beyond 2^53 is refused (GW_BAD_REQUEST): JSON.parse would round it, and an ID
 *   sent as a number would reach the upstream as a different number. Such values must be strings.
 * One pass, no recursion, no allocation per byte.
 */
export function guardJsonBytes(buf: Buffer, maxDepth: number): GatewayError | undefined {
  if (!isUtf8(buf)) return new GatewayError('GW_MALFORMED_JSON', { reason: 'dữ liệu không phải UTF-8 hợp lệ' });
  let depth = 0;
  const n = buf.length;
  for (let i = 0; i < n; i++) {
    const c = buf[i];
    if (c === 0x22) {
      // A string: skip to its closing quote in a tight loop (most of a body's bytes are string bytes).
      for (i++; i < n; i++) {
        const s = buf[i];
        if (s === 0x22) break;
        if (s === 0x5c) i++;
      }
    } else if (c === 0x5b || c === 0x7b) {
      if (++depth > maxDepth) {
        return new GatewayError('GW_BAD_REQUEST', { reason: `dữ liệu lồng sâu quá ${maxDepth} cấp` });
      }
    } else if (c === 0x5d || c === 0x7d) depth--;
    else if (isDigit(c) || c === 0x2d) {
      const start = i;
      let j = c === 0x2d ? i + 1 : i;
      while (j < buf.length && isDigit(buf[j])) j++;
      const integer = buf[j] !== 0x2e && buf[j] !== 0x65 && buf[j] !== 0x45;
      if (integer && j - start >= 16 && !Number.isSafeInteger(Number(buf.toString('latin1', start, j)))) {
        return new GatewayError('GW_BAD_REQUEST', {
          reason: `số nguyên ${buf.toString('latin1', start, Math.min(j, start + 40))} vượt quá 2^53, không giữ được chính xác; hãy gửi dưới dạng chuỗi`,
        });
      }
      while (j < buf.length && isNumberChar(buf[j])) j++;
      i = j - 1;
    }
  }
  return undefined;
}

function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}

function isNumberChar(c: number): boolean {
  return isDigit(c) || c === 0x2e || c === 0x65 || c === 0x45 || c === 0x2b || c === 0x2d;
}

import { isUtf8 } from 'node:buffer';
import { GatewayError } from '../errors/gateway-error.ts';
import { FORBIDDEN_KEYS } from './path.ts';

/** What the byte guard enforces (config `limits.jsonDepth`, `limits.objectKeys`). */
export interface JsonBytesLimits {
  readonly maxDepth: number;
  /** Most members one object may have; default unbounded. */
  readonly maxKeys?: number;
}

/**
 * The guard's verdict: a refusal, `'exact-numbers'` when the body holds a number literal that a double may
 * not carry exactly (the parser must then take its exact path, json-body.ts), or undefined (all clear).
 */
export type JsonBytesVerdict = GatewayError | 'exact-numbers' | undefined;

/**
 * Checks a JSON body's bytes before any parser sees them, whichever parser the gateway is built with:
 * - bytes that are not UTF-8 are refused (GW_MALFORMED_JSON): decoding would swap them for U+FFFD and
 *   forward a silently altered name or address;
 * - nesting deeper than `maxDepth` (objects and arrays each count one level) is refused (GW_BAD_REQUEST):
 *   `limits.jsonDepth` is the promise, and a deep body overflows the stack of any recursive step later
 *   (JSON.stringify, mapping, audit key extraction);
 * - an object with more than `maxKeys` members is refused (GW_BAD_REQUEST) before it is parsed: every
 *   later step (rename plans, shape caches, schema errors) is linear in a record's key count, and a record
 *   of 600,000 keys pinned hundreds of MB (issue 14.1). Counted as `:` outside strings at each depth;
 * - a number literal with more than 15 significant digits, or an exponent of 3 digits or more, is flagged
 *   ('exact-numbers'): a double carries every decimal of up to 15 digits in the normal range exactly, so
 *   only these may be changed by JSON.parse (1e400 -> Infinity -> null; 12345678901234567890 rounded).
 *   The flag only sends the body to the slower exact parser; it refuses nothing by itself.
 * One pass, no recursion, no allocation per byte.
 */
export function guardJsonBytes(buf: Buffer, limits: JsonBytesLimits): JsonBytesVerdict {
  const facts = guardJsonBody(buf, limits);
  return facts instanceof GatewayError ? facts : facts.exactNumbers ? 'exact-numbers' : undefined;
}

/**
 * What guardJsonBody found out about a body it let through: `exactNumbers` as the 'exact-numbers'
 * verdict; `checked`: no object key can be `__proto__`, `constructor` or `prototype` (none is spelt so,
 * and no key holds an escape that could spell one). With `checked`, the parser need not walk the parsed
 * value again for depth and those keys (json-body.ts `guarded`): the bytes are UTF-8, nested at most
 * `maxDepth` deep, and hold none of them.
 */
export interface JsonBodyFacts {
  readonly exactNumbers: boolean;
  readonly checked: boolean;
}

const FACTS: readonly JsonBodyFacts[] = [
  { exactNumbers: false, checked: false },
  { exactNumbers: true, checked: false },
  { exactNumbers: false, checked: true },
  { exactNumbers: true, checked: true },
].map((f) => Object.freeze(f));

/** guardJsonBytes with the facts it established (no allocation: one of four frozen objects). */
export function guardJsonBody(buf: Buffer, limits: JsonBytesLimits): GatewayError | JsonBodyFacts {
  if (!isUtf8(buf)) return new GatewayError('GW_MALFORMED_JSON', { reason: 'dữ liệu không phải UTF-8 hợp lệ' });
  const { maxDepth } = limits;
  const maxKeys = limits.maxKeys ?? Infinity;
  const members = memberCounts(maxDepth);
  let depth = 0;
  let risky = false;
  let keysClear = true;
  // The last string's bytes [stringStart, stringEnd) and whether it held an escape: at a `:` it is a key.
  let stringStart = 0;
  let stringEnd = 0;
  let escaped = false;
  const n = buf.length;
  // No backslash anywhere (the usual body): a string ends at the next quote, and no key holds an escape.
  const escapeFree = buf.indexOf(0x5c) === -1;
  for (let i = 0; i < n; i++) {
    const c = buf[i];
    if (c === 0x22) {
      // A string: skip to its closing quote in a tight loop (most of a body's bytes are string bytes).
      stringStart = i + 1;
      if (escapeFree) {
        for (i++; i < n && buf[i] !== 0x22; i++);
      } else {
        escaped = false;
        for (i++; i < n; i++) {
          const s = buf[i];
          if (s === 0x22) break;
          if (s === 0x5c) {
            escaped = true;
            i++;
          }
        }
      }
      stringEnd = i;
      continue;
    }
    // One table read decides the rest: most bytes outside strings (`,`, spaces, letters of literals) are 0.
    const kind = BYTE_KIND[c];
    if (kind === 0) continue;
    if (kind === COLON) {
      if (depth > 0 && ++members[depth] > maxKeys) {
        return new GatewayError('GW_BAD_REQUEST', {
          reason: `một đối tượng có quá ${maxKeys} khóa (limits.objectKeys)`,
        });
      }
      if (keysClear && (escaped || isForbiddenKey(buf, stringStart, stringEnd))) keysClear = false;
    } else if (kind === OPEN) {
      if (++depth > maxDepth) {
        return new GatewayError('GW_BAD_REQUEST', {
          reason: `dữ liệu lồng sâu quá ${maxDepth} cấp (limits.jsonDepth)`,
        });
      }
      members[depth] = 0;
    } else if (kind === CLOSE) depth--;
    else {
      const end = numberEnd(buf, i);
      if (!risky && numberAtRisk(buf, i, end)) risky = true;
      i = end - 1;
    }
  }
  return FACTS[(risky ? 1 : 0) + (keysClear ? 2 : 0)];
}

/** What a byte outside strings means to the guard (0: nothing); `"` is tested before the table. */
const COLON = 1;
const OPEN = 2;
const CLOSE = 3;
const NUMBER = 4;
const BYTE_KIND = new Uint8Array(256);
BYTE_KIND[0x3a] = COLON;
BYTE_KIND[0x5b] = BYTE_KIND[0x7b] = OPEN;
BYTE_KIND[0x5d] = BYTE_KIND[0x7d] = CLOSE;
BYTE_KIND[0x2d] = NUMBER;
for (let c = 0x30; c <= 0x39; c++) BYTE_KIND[c] = NUMBER;

/**
 * The keys the parser refuses (path.ts FORBIDDEN_KEYS, json-body.ts) as bytes, with their lengths and
 * first bytes for a quick "not one of them"; made on first use (path.ts imports this module through
 * exact-numbers.ts).
 */
let forbidden: { keys: readonly Uint8Array[]; lengths: Uint8Array; firsts: Uint8Array } | undefined;

/**
 * True when the (escape-free) key `buf[start, end)` is one of FORBIDDEN_KEYS. Runs at every key of every
 * body: a key of another length, or whose first byte starts none of them, is answered without a call, and
 * the rest compared byte by byte here (a `Buffer.compare` per 9- or 11-byte key was half the guard's time).
 */
function isForbiddenKey(buf: Buffer, start: number, end: number): boolean {
  forbidden ??= forbiddenKeyBytes();
  const length = end - start;
  if (forbidden.lengths[length] !== 1 || forbidden.firsts[buf[start]] !== 1) return false;
  for (const key of forbidden.keys) {
    if (key.length !== length) continue;
    let k = 0;
    while (k < length && key[k] === buf[start + k]) k++;
    if (k === length) return true;
  }
  return false;
}

function forbiddenKeyBytes(): NonNullable<typeof forbidden> {
  const keys = [...FORBIDDEN_KEYS].map((k) => Buffer.from(k, 'latin1'));
  const firsts = new Uint8Array(256);
  const lengths = new Uint8Array(Math.max(...keys.map((k) => k.length)) + 1);
  for (const key of keys) {
    firsts[key[0]] = 1;
    lengths[key.length] = 1;
  }
  return { keys, lengths, firsts };
}

/**
 * The first number literal outside strings of a JSON text (a string, e.g. an embedded `data` field) that a
 * double may not carry exactly — the same rule as guardJsonBytes, on UTF-16 code units — and that `accept`
 * takes (default: any), as `[start, end)`; undefined when there is none.
 */
export function findNumberAtRisk(
  text: string,
  accept: (start: number, end: number) => boolean = () => true,
): { start: number; end: number } | undefined {
  const n = text.length;
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22) {
      for (i++; i < n; i++) {
        const s = text.charCodeAt(i);
        if (s === 0x22) break;
        if (s === 0x5c) i++;
      }
    } else if (isDigit(c) || c === 0x2d) {
      let j = i;
      while (j < n && isNumberChar(text.charCodeAt(j))) j++;
      if (numberAtRisk(text, i, j) && accept(i, j)) return { start: i, end: j };
      i = j - 1;
    }
  }
  return undefined;
}

/** True when a JSON text holds a number literal outside strings that a double may not carry exactly. */
export function textHasNumbersAtRisk(text: string): boolean {
  return findNumberAtRisk(text) !== undefined;
}

type CodeUnits = { readonly length: number } & ({ [i: number]: number } | string);

/** End (exclusive) of the number literal starting at `i`. */
function numberEnd(buf: Buffer, i: number): number {
  let j = i + 1;
  while (j < buf.length && isNumberChar(buf[j])) j++;
  return j;
}

/**
 * More than 15 digits before the exponent (zeros included), or an exponent written with 3 digits or more.
 * Conservative on purpose (`1.0000000000000000` and `0.00000000000000012` are flagged though exact; the
 * exact parser then finds they are), so that the rule needs no arithmetic: every literal it lets through
 * has at most 15 significant digits and a magnitude between 1e-114 and 1e114, which a double carries.
 */
export function numberAtRisk(src: CodeUnits, start: number, end: number): boolean {
  if (end - start < 5) return false; // the shortest literal at risk is 1e100
  let digits = 0;
  let k = start;
  for (; k < end; k++) {
    const c = at(src, k);
    if (c === 0x65 || c === 0x45) break;
    if (isDigit(c) && ++digits > 15) return true;
  }
  let exponent = 0;
  for (k++; k < end; k++) if (isDigit(at(src, k)) && ++exponent >= 3) return true;
  return false;
}

function at(src: CodeUnits, k: number): number {
  return typeof src === 'string' ? src.charCodeAt(k) : (src as { [i: number]: number })[k];
}

let members = new Uint32Array(65);

/** The per-depth member counters, grown once to the largest depth limit seen (no allocation per call). */
function memberCounts(maxDepth: number): Uint32Array {
  if (members.length <= maxDepth) members = new Uint32Array(maxDepth + 1);
  return members;
}

function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}

function isNumberChar(c: number): boolean {
  return isDigit(c) || c === 0x2e || c === 0x65 || c === 0x45 || c === 0x2b || c === 0x2d;
}

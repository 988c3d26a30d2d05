import { isRawNumber } from './exact-numbers.ts';

/**
 * `Buffer.from(JSON.stringify(value))` in one pass: the JSON text written straight as UTF-8 bytes, byte for
 * byte what that expression gives, without the intermediate string. A re-serialised body holds Vietnamese
 * text, so JSON.stringify makes a two-byte string (~8 KB for a 4 KB body) that `Buffer.from` then measures
 * and transcodes again; the two were ~9% of the full pipeline's CPU (issue 19).
 *
 * Written for the data a parsed and mapped body holds: plain objects (Object.prototype or null prototype)
 * and arrays of strings, numbers, booleans, null and numbers carried as their source text (JSON.rawJSON,
 * exact-numbers.ts). Anything else — a Date or another class instance, a `toJSON` method, a BigInt, a
 * Symbol or function at the top, a cycle, nesting past MAX_DEPTH — is handed whole to
 * `Buffer.from(JSON.stringify(value))`, which gives (or throws) exactly what it did before.
 *
 * The escaping is JSON.stringify's (ECMA-262 QuoteJSONString, well-formed since ES2019): `"` and `\`
 * escaped, \b \t \n \f \r by name, other code units below 0x20 as \u00xx, a lone surrogate as \udxxx
 * (lower-case hex); everything else, U+2028/U+2029 and DEL included, written as is.
 */
export function jsonUtf8(value: unknown): Buffer {
  // Re-entered from a getter of the value being written (never plain data): the slab is in use.
  if (busy) return Buffer.from(JSON.stringify(value));
  busy = true;
  try {
    start = pos = align(pos);
    depth = 0;
    if (!writeValue(value, false)) {
      pos = start;
      return Buffer.from(JSON.stringify(value));
    }
    const body = out.subarray(start, pos);
    // A large body keeps its slab to itself: the next one starts a fresh slab.
    if (pos - start > SLAB_BYTES / 4) pos = out.length;
    return body;
  } finally {
    busy = false;
  }
}

/**
 * Bodies are written into a slab and handed out as views of it (as Buffer.from does with its 8 KB pool
 * for small strings), so a body costs no allocation and no copy of its own. A body that outgrows what is
 * left of the slab moves, with what it has written, to a new one. A view keeps its slab alive: 64 KB is
 * at most ~15 bodies of the usual few KB, each held only while its call is in flight.
 */
const SLAB_BYTES = 64 * 1024;
/** Deeper than this, the value goes to JSON.stringify (whose own limit is the stack). */
const MAX_DEPTH = 1000;

// Empty until the first body (a gateway without JSON routes never makes one).
let out: Buffer = Buffer.alloc(0);
/** Where the body being written starts in `out`, and where its next byte goes. */
let start = 0;
let pos = 0;
let depth = 0;
let busy = false;
const { hasOwnProperty } = Object.prototype;

function align(at: number): number {
  return (at + 7) & ~7;
}

/** Makes room for `n` more bytes: a new slab (the body so far copied to its start) when this one is full. */
function reserve(n: number): void {
  if (pos + n <= out.length) return;
  const written = pos - start;
  const slab = Buffer.allocUnsafeSlow(Math.max(SLAB_BYTES, 2 * (written + n)));
  if (written > 0) out.copy(slab, 0, start, pos);
  out = slab;
  start = 0;
  pos = written;
}

/**
 * Writes `v`; false when it is not plain data (the caller then falls back). `inArray`: where
 * JSON.stringify writes `null` for undefined, a function or a symbol (an object member is skipped by the
 * caller before it gets here).
 */
function writeValue(v: unknown, inArray: boolean): boolean {
  switch (typeof v) {
    case 'string':
      writeString(v);
      return true;
    case 'number':
      writeNumber(v);
      return true;
    case 'boolean':
      if (v) writeAscii('true');
      else writeAscii('false');
      return true;
    case 'object':
      if (v === null) {
        writeAscii('null');
        return true;
      }
      return writeObject(v);
    case 'undefined':
    case 'function':
    case 'symbol':
      if (!inArray) return false; // at the top JSON.stringify gives undefined (and Buffer.from throws)
      writeAscii('null');
      return true;
    default:
      return false; // bigint: JSON.stringify throws
  }
}

function writeObject(v: object): boolean {
  if (++depth > MAX_DEPTH) return false;
  if (Array.isArray(v)) {
    if (Object.getPrototypeOf(v) !== Array.prototype || typeof (v as { toJSON?: unknown }).toJSON === 'function') {
      return false;
    }
    reserve(1);
    out[pos++] = 0x5b; // [
    for (let i = 0; i < v.length; i++) {
      if (i > 0) {
        reserve(1);
        out[pos++] = 0x2c;
      }
      if (!writeValue(v[i], true)) return false;
    }
    reserve(1);
    out[pos++] = 0x5d;
  } else if (isRawNumber(v)) {
    if (!writeRaw((v as { rawJSON: string }).rawJSON)) return false;
  } else {
    const proto: unknown = Object.getPrototypeOf(v);
    if (proto !== Object.prototype && proto !== null) return false;
    if (typeof (v as { toJSON?: unknown }).toJSON === 'function') return false;
    reserve(1);
    out[pos++] = 0x7b; // {
    let first = true;
    const record = v as Record<string, unknown>;
    // for-in over own keys, in Object.keys order, without an array per object. V8 answers
    // `hasOwnProperty.call` inside for-in from the enum cache (Object.hasOwn it looks up: ~12% of the whole).
    for (const key in record) {
      if (!hasOwnProperty.call(record, key)) continue;
      const member = record[key];
      const t = typeof member;
      if (t === 'undefined' || t === 'function' || t === 'symbol') continue;
      if (!first) {
        reserve(1);
        out[pos++] = 0x2c;
      }
      first = false;
      writeString(key);
      reserve(1);
      out[pos++] = 0x3a;
      if (!writeValue(member, false)) return false;
    }
    reserve(1);
    out[pos++] = 0x7d;
  }
  depth--;
  return true;
}

function writeNumber(n: number): void {
  if (n >= 0 && n < 0x40000000 && (n | 0) === n) {
    // A small non-negative integer: its digits, no string made.
    reserve(10);
    if (n < 10) {
      out[pos++] = 0x30 + n;
      return;
    }
    let digits = 1;
    for (let m = n; m >= 10; m = (m / 10) | 0) digits++;
    pos += digits;
    let at = pos;
    let m = n;
    do {
      out[--at] = 0x30 + (m % 10);
      m = (m / 10) | 0;
    } while (m > 0);
    return;
  }
  writeAscii(Number.isFinite(n) ? String(n) : 'null');
}

/** Text known to be ASCII without anything to escape (literals, number texts). */
function writeAscii(s: string): void {
  reserve(s.length);
  for (let i = 0; i < s.length; i++) out[pos++] = s.charCodeAt(i);
}

/**
 * A JSON.rawJSON text (a number's source: ASCII) written as it is, never escaped; false for one that is not
 * ASCII (Buffer.from would write a lone surrogate in it as U+FFFD, not as an escape: left to the fallback).
 */
function writeRaw(s: string): boolean {
  reserve(s.length);
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0x80) return false;
    out[pos++] = c;
  }
  return true;
}

/** What each ASCII code unit becomes inside a JSON string: 0 as is, else the escape's second byte (`u`: \u00xx). */
const ESCAPE = new Uint8Array(128);
for (let c = 0; c < 0x20; c++) ESCAPE[c] = 0x75; // u
ESCAPE[0x08] = 0x62; // b
ESCAPE[0x09] = 0x74; // t
ESCAPE[0x0a] = 0x6e; // n
ESCAPE[0x0c] = 0x66; // f
ESCAPE[0x0d] = 0x72; // r
ESCAPE[0x22] = 0x22; // "
ESCAPE[0x5c] = 0x5c; // \
const HEX = [0x30, 0x31, 0x32, 0x33, 0x34, 0x35, 0x36, 0x37, 0x38, 0x39, 0x61, 0x62, 0x63, 0x64, 0x65, 0x66];

function writeString(s: string): void {
  const n = s.length;
  reserve(n * 6 + 2); // the longest a code unit can become: \u00xx or \udxxx
  // Locals, not the module's `out`/`pos`, in the loop that runs per character.
  const o = out;
  let p = pos;
  o[p++] = 0x22;
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) {
      const e = ESCAPE[c];
      if (e === 0) o[p++] = c;
      else {
        o[p++] = 0x5c;
        o[p++] = e;
        if (e === 0x75) {
          o[p++] = 0x30;
          o[p++] = 0x30;
          o[p++] = HEX[c >> 4];
          o[p++] = HEX[c & 15];
        }
      }
    } else if (c < 0x800) {
      o[p++] = 0xc0 | (c >> 6);
      o[p++] = 0x80 | (c & 0x3f);
    } else if (c < 0xd800 || c > 0xdfff) {
      o[p++] = 0xe0 | (c >> 12);
      o[p++] = 0x80 | ((c >> 6) & 0x3f);
      o[p++] = 0x80 | (c & 0x3f);
    } else {
      pos = p;
      i = writeSurrogate(s, i, c);
      p = pos;
    }
  }
  o[p++] = 0x22;
  pos = p;
}

/**
 * Writes the surrogate `c` at `s[i]`: with its low surrogate as the 4-byte UTF-8 of the pair, alone as
 * the escape \udxxx (as JSON.stringify writes it). Returns the index of the last code unit used.
 */
function writeSurrogate(s: string, i: number, c: number): number {
  if (c < 0xdc00 && i + 1 < s.length) {
    const d = s.charCodeAt(i + 1);
    if (d >= 0xdc00 && d <= 0xdfff) {
      const p = 0x10000 + ((c - 0xd800) << 10) + (d - 0xdc00);
      out[pos++] = 0xf0 | (p >> 18);
      out[pos++] = 0x80 | ((p >> 12) & 0x3f);
      out[pos++] = 0x80 | ((p >> 6) & 0x3f);
      out[pos++] = 0x80 | (p & 0x3f);
      return i + 1;
    }
  }
  out[pos++] = 0x5c;
  out[pos++] = 0x75;
  out[pos++] = HEX[c >> 12];
  out[pos++] = HEX[(c >> 8) & 15];
  out[pos++] = HEX[(c >> 4) & 15];
  out[pos++] = HEX[c & 15];
  return i;
}

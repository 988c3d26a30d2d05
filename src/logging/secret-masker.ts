/**
 * Masks known secret values (injected tokens, client secrets, static keys) wherever they could come back:
 * in an upstream's answer relayed to a caller (issue 13.5), and in token-endpoint errors shown in a 502,
 * a log line or /admin (issue 14.7). A server that quotes what it received writes it in its own
 * encoding, so every secret is searched in each of them:
 * - as is;
 * - percent-encoded (`encodeURIComponent` and `application/x-www-form-urlencoded`, `+` for space), with
 *   upper- and lower-case hex: a form body or query string echoed back;
 * - JSON-escaped the way common stacks write it: minimal (JavaScript, Jackson), `\/` and `\uxxxx` for
 *   non-ASCII (PHP), `\uxxxx` for non-ASCII (Python), `\uXXXX` for non-ASCII and `<>&'+` (.NET);
 * - base64 and base64url of the secret and of its form-encoded text, at the 3 byte alignments a secret can
 *   have inside a longer base64 run (an echoed `Authorization: Basic` header, a base64 JSON header).
 *
 * Each occurrence is replaced by `*` of the SAME byte length: Content-Length stays true and a relayed body
 * can keep streaming (StreamMasker carries only the bytes that could begin a secret into the next chunk).
 */

/** Secrets shorter than this are not searched in relayed bodies: masking them would corrupt ordinary text. */
export const MIN_RELAY_SECRET_LENGTH = 6;

const MASK_BYTE = 0x2a; // '*'

/** Every text under which `secret` may be echoed, without duplicates. */
export function secretEncodings(secret: string): string[] {
  const out = new Set<string>([secret]);
  const uri = encodeURIComponent(secret);
  const form = formUrlEncode(secret);
  for (const encoded of [uri, form]) {
    out.add(encoded);
    out.add(encoded.replace(/%[0-9A-F]{2}/g, (h) => h.toLowerCase()));
  }
  out.add(jsonEscape(secret, () => false, false));
  out.add(jsonEscape(secret, (c) => c === 0x2f || c > 0x7e, false)); // PHP: \/ and \u00e9
  out.add(jsonEscape(secret, (c) => c > 0x7e, false)); // Python: \u00e9
  out.add(jsonEscape(secret, (c) => c > 0x7e || DOTNET_ESCAPED.has(c), true)); // .NET: \u002B, \u00E9
  for (const text of new Set([secret, form])) {
    for (const run of base64Runs(Buffer.from(text, 'utf8'))) {
      out.add(run);
      out.add(run.replace(/\+/g, '-').replace(/\//g, '_'));
    }
  }
  return [...out].filter((s) => s.length > 0);
}

/** RFC 6749 Appendix B / WHATWG form encoding of one value (`+` for space, `%XX` for the rest). */
export function formUrlEncode(value: string): string {
  return new URLSearchParams([['', value]]).toString().slice(1);
}

const DOTNET_ESCAPED = new Set([0x3c, 0x3e, 0x26, 0x27, 0x2b, 0x60]); // < > & ' + `

function jsonEscape(text: string, escapeAlso: (code: number) => boolean, upperHex: boolean): string {
  const minimal = JSON.stringify(text).slice(1, -1);
  let out = '';
  for (let i = 0; i < minimal.length; i++) {
    const code = minimal.charCodeAt(i);
    if (code === 0x5c) {
      // an escape JSON.stringify wrote: keep it whole
      const next = minimal[i + 1];
      const length = next === 'u' ? 6 : 2;
      out += minimal.slice(i, i + length);
      i += length - 1;
    } else if (escapeAlso(code)) {
      const hex = code.toString(16).padStart(4, '0');
      out += code === 0x2f && !upperHex ? '\\/' : `\\u${upperHex ? hex.toUpperCase() : hex}`;
    } else out += minimal[i];
  }
  return out;
}

/**
 * The base64 characters that depend on `bytes` alone when they sit at offset 0, 1 or 2 (mod 3) of a
 * longer encoded run: the characters shared with the neighbours' bits are left out.
 */
function base64Runs(bytes: Buffer): string[] {
  const runs: string[] = [];
  for (const align of [0, 1, 2]) {
    const padded = Buffer.concat([Buffer.alloc(align), bytes]);
    const encoded = padded.toString('base64').replace(/=+$/, '');
    const start = [0, 2, 3][align];
    const end = Math.floor((padded.length * 8) / 6);
    if (end - start >= 4) runs.push(encoded.slice(start, end));
  }
  return runs;
}

/** A compiled set of byte patterns, longest first. */
export interface SecretMasker {
  readonly patterns: readonly Buffer[];
  /** Masks every occurrence in `buf`, in place; returns true when something was masked. */
  maskInPlace(buf: Buffer): boolean;
  /**
   * A header value with every occurrence masked (same length). Node hands header values over as byte
   * strings (one char per byte, latin1), which is how the patterns are searched here.
   */
  maskHeaderValue(value: string): string;
  /** A fresh masker for one streamed body; with `length` (Content-Length) the last chunk is not held back. */
  stream(length?: number): StreamMasker;
}

export interface StreamMasker {
  /** Masks a chunk; returns the bytes that can be sent now (a possible secret's start is held back). */
  push(chunk: Buffer): Buffer;
  /** The bytes held back, at the end of the body. */
  flush(): Buffer;
}

/** Compiles the masker of a set of secrets (each in every encoding), or undefined when none qualifies. */
export function createSecretMasker(
  secrets: Iterable<string>,
  minLength = MIN_RELAY_SECRET_LENGTH,
): SecretMasker | undefined {
  const texts = new Set<string>();
  for (const secret of secrets) {
    if (secret.length < minLength) continue;
    for (const encoded of secretEncodings(secret)) if (encoded.length >= minLength) texts.add(encoded);
  }
  if (texts.size === 0) return undefined;
  const patterns = [...texts].map((t) => Buffer.from(t, 'utf8')).sort((a, b) => b.length - a.length);
  // Searched as byte strings: V8's string search beats Buffer.indexOf by about 2x on 4 KB JSON bodies, and
  // one latin1 view of a body costs less than one Buffer.indexOf pass (bench/secret-masker.bench.ts).
  const needles = patterns.map((p) => p.toString('latin1'));
  const shortest = needles[needles.length - 1].length;

  const maskInPlace = (buf: Buffer): boolean => {
    if (buf.length < shortest) return false;
    const text = buf.toString('latin1');
    let found = false;
    for (const needle of needles) {
      for (let at = text.indexOf(needle); at !== -1; at = text.indexOf(needle, at + needle.length)) {
        found = true;
        buf.fill(MASK_BYTE, at, at + needle.length);
      }
    }
    return found;
  };

  /** Length of the longest tail of `buf` that is the start of some pattern (it may continue in the next chunk). */
  const heldTail = (buf: Buffer): number => {
    const text = buf.toString('latin1');
    let held = 0;
    for (const needle of needles) {
      // Candidate starts: a tail shorter than the pattern (a whole one was masked) and longer than `held`.
      const end = text.length - held;
      const first = needle[0];
      for (let at = text.indexOf(first, Math.max(0, text.length - needle.length + 1)); at !== -1 && at < end;) {
        if (needle.startsWith(text.slice(at))) {
          held = text.length - at;
          break;
        }
        at = text.indexOf(first, at + 1);
      }
    }
    return held;
  };

  return {
    patterns,
    maskInPlace,
    maskHeaderValue(value) {
      if (value.length < shortest) return value;
      let out = value;
      for (const needle of needles) if (out.includes(needle)) out = out.split(needle).join('*'.repeat(needle.length));
      return out;
    },
    stream(length) {
      let carry: Buffer | undefined;
      let seen = 0;
      return {
        push(chunk) {
          seen += chunk.length;
          const buf = carry ? Buffer.concat([carry, chunk]) : chunk;
          maskInPlace(buf);
          // The declared last bytes: nothing can continue, nothing is held.
          const held = length !== undefined && seen >= length ? 0 : heldTail(buf);
          carry = held > 0 ? Buffer.from(buf.subarray(buf.length - held)) : undefined;
          return held > 0 ? buf.subarray(0, buf.length - held) : buf;
        },
        flush() {
          const rest = carry ?? Buffer.alloc(0);
          carry = undefined;
          return rest;
        },
      };
    },
  };
}

/**
 * Text safe to quote in an error, a log line or /admin: every known secret masked in every encoding
 * (`[REDACTED]` replaces it; the length need not be kept here).
 */
export function redactSecrets(text: string, secrets: Iterable<string>, minLength = 3): string {
  const values = new Set<string>();
  for (const secret of secrets) {
    if (secret.length < minLength) continue;
    for (const encoded of secretEncodings(secret)) if (encoded.length >= minLength) values.add(encoded);
  }
  let out = text;
  for (const value of [...values].sort((a, b) => b.length - a.length)) {
    if (out.includes(value)) out = out.split(value).join('[REDACTED]');
  }
  return out;
}

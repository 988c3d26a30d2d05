/**
 * The `byte` string format (OpenAPI; RFC 4648 §4 base64), checked in one linear pass over the string.
 * ajv-formats checks it with a regular expression whose backtracking overflows the stack on valid base64
 * above ~4.4 MB (a RangeError, answered 500) and accepts `"%%% junk %%%\n"` (issue 14.4); civil-status
 * pushes carry attachments this way (`fileDinhKem[].duLieuTepDinhKem`).
 *
 * Accepted: the standard alphabet `A-Z a-z 0-9 + /`, length a multiple of 4, `=` padding only at the end
 * (one or two), and zero bits in the unused low bits of the last character (RFC 4648 §3.5 canonical
 * encoding: otherwise two different texts decode to one file). The empty string encodes zero bytes.
 * Refused: line breaks and any other whitespace (RFC 4648 §3.1: not allowed unless the referring spec says
 * so, and neither OpenAPI nor the civil-status spec does; MIME's 76-column lines are for e-mail), the URL
 * alphabet `-_` (RFC 4648 §5, a different format), and missing padding.
 */
export function isBase64(s: string): boolean {
  const n = s.length;
  if (n % 4 !== 0) return false;
  let end = n;
  if (n > 0 && s.charCodeAt(n - 1) === 0x3d) end = s.charCodeAt(n - 2) === 0x3d ? n - 2 : n - 1;
  for (let i = 0; i < end; i++) {
    const c = s.charCodeAt(i);
    if (c > 0x7a || VALUE[c] === 0xff) return false;
  }
  if (end === n) return true;
  // Canonical: the bits after the last whole byte are zero (4 bits with "==", 2 bits with "=").
  const last = VALUE[s.charCodeAt(end - 1)];
  return (last & (end === n - 2 ? 0x0f : 0x03)) === 0;
}

/** Value of each base64 character (RFC 4648 table 1); 0xff for characters outside the alphabet. */
const VALUE = new Uint8Array(0x7b).fill(0xff);
const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
for (let i = 0; i < ALPHABET.length; i++) VALUE[ALPHABET.charCodeAt(i)] = i;

/**
 * Normalisation of lookup keys for catalogues and tolerant key matching. Senders differ in case, surrounding
 * spaces, Unicode composition (NFC/NFD Vietnamese) and leading zeros of numeric codes (`"01"` vs GSO `1`,
 * seed 004 §VI.2 and its JSON example).
 */

/**
 * Lookup key of a catalogue value: trimmed, NFC, lower case, a hyphen or dash (with any spaces around it)
 * the same as one space ("Xơ-Đăng" = "Xơ Đăng", "Bà Rịa - Vũng Tàu" = "Bà Rịa Vũng Tàu"), the typographic
 * apostrophe the same as `'`; all-digit codes lose leading zeros. Diacritics are never stripped: "Lự" and
 * "Lụ" are different letters (issue 16.1), so a real alternative spelling is an alias in the catalogue.
 */
export function normalizeCode(value: string): string {
  let s = value.trim().normalize('NFC').toLowerCase();
  if (SEPARATOR_VARIANT.test(s)) s = s.replace(SEPARATOR_RUN, ' ').replace(APOSTROPHES, "'");
  if (s.length > 1 && s.charCodeAt(0) === 48 /* '0' */ && isAllDigits(s)) {
    let i = 0;
    while (i < s.length - 1 && s.charCodeAt(i) === 48) i++;
    return s.slice(i);
  }
  return s;
}

/**
 * `s.trim()`, without the call when neither end can be whitespace: every character trim() removes
 * (WhiteSpace and LineTerminator: U+0009-U+000D, U+0020, U+00A0, U+1680, U+2000-U+200A, U+2028, U+2029,
 * U+202F, U+205F, U+3000, U+FEFF) is at most U+0020, U+00A0, or U+1680 and above.
 */
export function trimmed(s: string): string {
  const n = s.length;
  return n > 0 && (mayBeSpace(s.charCodeAt(0)) || mayBeSpace(s.charCodeAt(n - 1))) ? s.trim() : s;
}

function mayBeSpace(c: number): boolean {
  return c <= 0x20 || c === 0xa0 || c >= 0x1680;
}

const COMBINING = /[\u0300-\u036f]/;

/**
 * True when `s` holds a combining mark (U+0300-U+036F): decomposed Vietnamese always carries one, and
 * only then is NFC worth its cost. Short strings (codes, dates) are scanned by char code, which is cheaper
 * than a call into the regular expression; longer ones take the expression.
 */
export function hasCombiningMark(s: string): boolean {
  if (s.length > 12) return COMBINING.test(s);
  for (let i = 0; i < s.length; i++) if ((s.charCodeAt(i) - 0x300) >>> 0 < 0x70) return true;
  return false;
}

/**
 * False when UTF-8 JSON text `utf8` certainly parses to strings without a combining mark (U+0300-U+036F):
 * no byte 0xCC or 0xCD (their UTF-8 lead bytes: U+0300 is CC 80, U+036F is CD AF) and no escape `\u03`.
 * Any other answer is true (a 0xCC byte inside another character's encoding cannot occur: UTF-8 lead
 * bytes never appear as continuation bytes; an escaped backslash before `u03` only errs towards true).
 * The mapping's `nfc` trim then skips its per-string scan (BodyFacts.noCombiningMarks, issue 19).
 */
export function mayHoldCombiningMarks(utf8: Buffer): boolean {
  return utf8.indexOf(0xcc) >= 0 || utf8.indexOf(0xcd) >= 0 || utf8.indexOf(ESCAPED_03) >= 0;
}

const ESCAPED_03 = Buffer.from('\\u03', 'latin1');

/** Key name compared loosely: surrounding whitespace and letter case ignored (`" UserIdCreated"`). */
export function normalizeKey(key: string): string {
  return key.trim().toLowerCase();
}

// Hyphen-minus, U+2010-U+2015 (hyphen, non-breaking hyphen, figure dash, en and em dash, bar), several
// spaces in a row, a space other than U+0020, or a typographic apostrophe (U+2019, U+02BC).
const SEPARATOR_VARIANT = /[-\u2010-\u2015\u2019\u02bc]|\s\s|[^\S ]/;
// A dash is a separator only between two characters: a leading "-1" stays a different value from "1".
const SEPARATOR_RUN = /(?<=\S)\s*[-\u2010-\u2015]+\s*(?=\S)|\s+/g;
const APOSTROPHES = /[\u2019\u02bc]/g;

function isAllDigits(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 48 || c > 57) return false;
  }
  return true;
}

/** Scalar catalogue/config value as a string, or undefined for objects/arrays/null. */
export function scalarToString(v: unknown): string | undefined {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' && Number.isFinite(v)) return String(v);
  if (typeof v === 'boolean') return String(v);
  return undefined;
}

/**
 * Normalisation of lookup keys for catalogues and tolerant key matching. Senders differ in case, surrounding
 * spaces, Unicode composition (NFC/NFD Vietnamese) and leading zeros of numeric codes (`"01"` vs GSO `1`,
 * seed 004 §VI.2 and its JSON example).
 */

/** Lookup key of a catalogue value: trimmed, NFC, lower case; all-digit codes lose leading zeros. */
export function normalizeCode(value: string): string {
  const s = value.trim().normalize('NFC').toLowerCase();
  if (s.length > 1 && s.charCodeAt(0) === 48 /* '0' */ && isAllDigits(s)) {
    let i = 0;
    while (i < s.length - 1 && s.charCodeAt(i) === 48) i++;
    return s.slice(i);
  }
  return s;
}

/** Key name compared loosely: surrounding whitespace and letter case ignored (`" UserIdCreated"`). */
export function normalizeKey(key: string): string {
  return key.trim().toLowerCase();
}

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

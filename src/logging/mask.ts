/**
 * The one masking function every log line passes through (Decree 13/2023 on personal data; domain.md §3).
 * It hides personal ID numbers (12 digits), old ID card numbers (9 digits), phone numbers and the values
 * of secret-bearing headers, query parameters and JSON keys.
 */

// 12-digit personal ID (Số định danh cá nhân / CCCD) and 9-digit old ID card (CMND), as whole numbers only:
// digits glued to other digits (a 14-digit timestamp) are left alone.
const ID_NUMBER = /(?<!\d)(\d{12}|\d{9})(?!\d)/g;
// Vietnamese phone numbers: 0xxxxxxxxx or +84/84 followed by 9 digits, optionally with spaces, dots or dashes.
const PHONE = /(?<![\d+])(?:\+?84|0)(?:[ .-]?\d){9}(?!\d)/g;

/** Header, query and JSON key names whose values are secrets. Lower case. */
export const SECRET_NAMES: ReadonlySet<string> = new Set([
  'authorization',
  'proxy-authorization',
  'cookie',
  'set-cookie',
  'x-api-key',
  'x-admin-key',
  'accesskey',
  'acceptkey',
  'lgspaccesstoken',
  'token',
  'access_token',
  'refresh_token',
  'id_token',
  'client_secret',
  'consumer_secret',
  'consumersecret',
  'secret',
  'secretkey',
  'password',
  'passwd',
  'pwd',
  'matkhau',
  'mat_khau',
  'signature',
  'private_key',
  'client_assertion',
  'apikey',
  'api_key',
  'code',
]);

// Parts of a name that mark its value as a secret wherever they appear in it (`X-Amz-Signature`,
// `client_secret`, `userPassword`, `matKhau`, `sessionToken`), compared on the name lower-cased with
// `-`, `_`, `.`, `[`, `]` and spaces removed.
const SECRET_NAME_PARTS = [
  'token',
  'secret',
  'passw',
  'matkhau',
  'pwd',
  'apikey',
  'signature',
  'credential',
  'session',
];
// Short names that are secrets only as the whole name (`key=`, `sig=`): as parts they would match `monkey`,
// `design`.
const SECRET_WHOLE_NAMES = new Set(['key', 'sig', 'pass', 'pin', 'otp', 'jwt', 'mk']);

/**
 * True when a query parameter of this name holds a secret: SECRET_NAMES, or a name containing one of the
 * parts, or ending in `key`. Broader than the JSON keys of log fields (maskValue), where names such as
 * `tokenUrl` or `hashKey` are the gateway's own and their values are not secrets.
 */
export function isSecretQueryName(name: string): boolean {
  const lower = name.toLowerCase();
  if (SECRET_NAMES.has(lower)) return true;
  const compact = lower.replace(/[-_.[\] ]/g, '');
  if (SECRET_WHOLE_NAMES.has(compact) || compact.endsWith('key') || compact.endsWith('pass')) return true;
  for (const part of SECRET_NAME_PARTS) if (compact.includes(part)) return true;
  return false;
}

const REDACTED = '[REDACTED]';

// A percent-encoded digit, also double-encoded (`%30`, `%2530`): an ID number sent as `%30%31…` (or mixed
// with plain digits) is still an ID number once the upstream decodes it.
const ENCODED_DIGIT = /%(?:25)*3([0-9])/gi;

// Any other percent-encoded byte, also double-encoded (`%20`, `%2520`): one character to whoever decodes it,
// so its hex digits are not digits of the number beside it (`x%20001099012345` holds a 12-digit ID).
const ENCODED_BYTE = /(%(?:25)*[0-9A-Fa-f]{2})/;

/**
 * Masks identifiers inside free text (percent-encoded digits are decoded first, so they are masked too;
 * other percent-encoded bytes separate the numbers around them).
 */
export function maskText(text: string): string {
  if (text.includes('%')) {
    text = text.replace(ENCODED_DIGIT, '$1');
    if (text.includes('%')) {
      const parts = text.split(ENCODED_BYTE);
      if (parts.length > 1) return parts.map((part, i) => (i % 2 === 1 ? part : maskPlain(part))).join('');
    }
  }
  return maskPlain(text);
}

function maskPlain(text: string): string {
  // Fast path: nothing long enough to be an ID or a phone (both hold at least 9 digits).
  if (text.length < 9 || !/\d{9}/.test(text)) return text;
  return text.replace(PHONE, '[PHONE]').replace(ID_NUMBER, (m) => (m.length === 12 ? '[ID12]' : '[ID9]'));
}

/**
 * Returns `path?query` with the values of secret query parameters removed (names compared decoded, so
 * `pass%77ord=` is a password too) and ID numbers masked in the path and the other values.
 */
export function maskUrl(url: string): string {
  const q = url.indexOf('?');
  if (q === -1) return maskText(url);
  // Each `&`- or `;`-separated pair of the query, its separators kept.
  let out = url.slice(0, q + 1);
  let start = q + 1;
  for (let i = start; i <= url.length; i++) {
    const c = i === url.length ? -1 : url.charCodeAt(i);
    if (c !== -1 && c !== 0x26 && c !== 0x3b) continue;
    const pair = url.slice(start, i);
    const eq = pair.indexOf('=');
    const rawName = eq === -1 ? pair : pair.slice(0, eq);
    out += isSecretRawQueryName(rawName, eq !== -1) ? `${rawName}=${REDACTED}` : pair;
    if (c !== -1) out += url[i];
    start = i + 1;
  }
  return maskText(out);
}

/**
 * isSecretQueryName of a parameter name as written in a URL (`+` and percent-escapes not yet decoded).
 * Callers send the same few names on every request: the verdicts on plain names (letters, `_`, `-`, `.`,
 * brackets; no digits, so no ID number; up to 40 characters) are remembered, at most 256 of them, all
 * forgotten at once when full, so a caller inventing names costs only the work done before. A pair without
 * `=` (its whole text is the "name": it may be a bare token) is never remembered.
 */
function isSecretRawQueryName(rawName: string, named: boolean): boolean {
  let secret = secretRawNames.get(rawName);
  if (secret === undefined) {
    secret = isSecretQueryName(decodeSafe(rawName.replace(/\+/g, ' ')));
    if (named && PLAIN_NAME.test(rawName)) {
      if (secretRawNames.size >= 256) secretRawNames.clear();
      secretRawNames.set(rawName, secret);
    }
  }
  return secret;
}
const secretRawNames = new Map<string, boolean>();
const PLAIN_NAME = /^[A-Za-z_.[\]-]{1,40}$/;

function decodeSafe(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

/** Deep-copies a value with secret keys redacted and identifiers masked in every string. */
export function maskValue(value: unknown, depth = 0): unknown {
  if (typeof value === 'string') return maskText(value);
  if (typeof value === 'number') {
    // An integer of at most 8 digits cannot hold an ID or a phone number (the access line's status, bytes),
    // nor can such a number with at most two decimals (the access line's durations, rounded to 0.01 ms):
    // when value is the double nearest to n / 100, String(value) is n / 100 written out (at most 10
    // significant digits always read back exactly), so no run of 9 digits.
    if (value < 1e8 && value > -1e8 && (Number.isInteger(value) || Math.round(value * 100) / 100 === value))
      return value;
    const text = String(value);
    const masked = maskText(text);
    return masked === text ? value : masked;
  }
  if (value === null || typeof value !== 'object' || depth > 8) return value;
  if (value instanceof Error) return { name: value.name, message: maskText(value.message) };
  if (Array.isArray(value)) return value.map((v) => maskValue(v, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value)) {
    out[key] = SECRET_NAMES.has(key.toLowerCase()) ? REDACTED : maskValue(v, depth + 1);
  }
  return out;
}

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
  'apikey',
  'api_key',
  'code',
]);

const REDACTED = '[REDACTED]';

/** Masks identifiers inside free text. */
export function maskText(text: string): string {
  if (!/\d{9}/.test(text)) return text; // fast path: nothing long enough to be an ID or a phone
  return text.replace(PHONE, '[PHONE]').replace(ID_NUMBER, (m) => (m.length === 12 ? '[ID12]' : '[ID9]'));
}

/** Returns `path?query` with the values of secret query parameters removed. */
export function maskUrl(url: string): string {
  const q = url.indexOf('?');
  if (q === -1) return maskText(url);
  const params = url
    .slice(q + 1)
    .split('&')
    .map((pair) => {
      const eq = pair.indexOf('=');
      const name = decodeSafe(eq === -1 ? pair : pair.slice(0, eq)).toLowerCase();
      return SECRET_NAMES.has(name) ? `${pair.slice(0, eq === -1 ? pair.length : eq)}=${REDACTED}` : pair;
    });
  return maskText(`${url.slice(0, q)}?${params.join('&')}`);
}

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

import { GatewayError } from '../errors/gateway-error.ts';
import { findNumberAtRisk, numberAtRisk } from './json-guard.ts';

/**
 * Numbers the gateway cannot carry in a double (issue 14.6): `1e400` (Infinity, serialised as null),
 * `12345678901234567890` and `0.12345678901234567890123` (rounded). On bodies the gateway re-serialises,
 * such a number is carried as its source text: JSON.parse's reviver sees the literal (`context.source`)
 * and puts a `JSON.rawJSON(source)` in the tree, which JSON.stringify writes back byte for byte.
 * Mapping ops treat it as an opaque value (path.ts isRecord); schema validation sees the nearest double
 * (numericView). Only bodies whose bytes hold a literal at risk (json-guard.ts numberAtRisk) get here.
 *
 * A runtime without JSON.rawJSON (Node 20) cannot carry them: the body is refused naming the literal and
 * where it is. Numbers are never altered silently.
 */

interface RawJson {
  readonly rawJSON: string;
}
type JsonWithSource = typeof JSON & {
  rawJSON?: (text: string) => RawJson;
  isRawJSON?: (v: unknown) => boolean;
};

const J = JSON as JsonWithSource;
const rawJSON = J.rawJSON;

/** True for a number carried as its source text (a JSON.rawJSON object). */
export const isRawNumber: (v: unknown) => boolean = J.isRawJSON ?? (() => false);

/** True when this runtime can carry numbers as their source text. */
export const canCarryRawNumbers = rawJSON !== undefined;

/**
 * True when `value` (a double) written back by JSON.stringify denotes the same decimal number as `source`
 * (the literal it was parsed from): `1.50` -> `1.5` is the same number, `1e400` -> `null` is not.
 */
export function carriesExactly(source: string, value: number): boolean {
  if (!Number.isFinite(value)) return false;
  return decimalKey(source) === decimalKey(String(value));
}

/** Sign, significant digits and exponent of a JSON number literal: `-0.0120e2` -> `-12e0` (0.12 x 10^0). */
function decimalKey(s: string): string {
  let i = 0;
  const negative = s.charCodeAt(0) === 0x2d;
  if (negative) i = 1;
  let digits = '';
  let point = -1;
  for (; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0x2e) point = digits.length;
    else if (c === 0x65 || c === 0x45) break;
    else digits += s[i];
  }
  if (point < 0) point = digits.length;
  const exponent = i < s.length ? Number(s.slice(i + 1)) : 0;
  let lead = 0;
  while (lead < digits.length && digits.charCodeAt(lead) === 0x30) lead++;
  if (lead === digits.length) return '0'; // zero, whatever its sign or exponent
  let trail = digits.length;
  while (digits.charCodeAt(trail - 1) === 0x30) trail--;
  return `${negative ? '-' : ''}${digits.slice(lead, trail)}e${point - lead + exponent}`;
}

/** The first number literal (outside strings) a double does not carry exactly, with its offset. */
export function findInexactNumber(text: string): { literal: string; position: number } | undefined {
  const found = findNumberAtRisk(text, (start, end) => {
    const literal = text.slice(start, end);
    return !carriesExactly(literal, Number(literal));
  });
  return found && { literal: text.slice(found.start, found.end), position: found.start };
}

/**
 * Parses `text` carrying every inexact number as its source text; `first` is the first such literal
 * (findInexactNumber), named in the refusal where the runtime cannot carry it. Throws SyntaxError like
 * JSON.parse on malformed text.
 */
export function parseExact(
  text: string,
  first: { literal: string; position: number },
): { ok: true; value: unknown } | { ok: false; error: GatewayError } {
  if (rawJSON === undefined) {
    JSON.parse(text); // malformed text is reported as such first
    const shown = first.literal.length > 40 ? `${first.literal.slice(0, 40)}…` : first.literal;
    return {
      ok: false,
      error: new GatewayError('GW_BAD_REQUEST', {
        reason: `số ${shown} (vị trí ${first.position}) không giữ được chính xác trên phiên bản Node này; hãy gửi dưới dạng chuỗi`,
      }),
    };
  }
  const value: unknown = JSON.parse(text, function reviveExact(_key, v: unknown, context?: { source?: string }) {
    if (typeof v !== 'number') return v;
    const source = context?.source;
    if (source === undefined || !numberAtRisk(source, 0, source.length) || carriesExactly(source, v)) return v;
    return rawJSON(source);
  });
  return { ok: true, value };
}

/**
 * A copy of `value` with every raw number replaced by its nearest finite double: what the schema judges
 * (ajv checks `typeof === 'number'`). Only made for bodies that hold raw numbers. Depth is bounded by
 * the guards that ran before (limits.jsonDepth, embedded JSON's maxDepth).
 */
export function numericView(value: unknown): unknown {
  if (typeof value !== 'object' || value === null) return value;
  if (isRawNumber(value)) {
    // The nearest finite double: ajv's `type: number` refuses Infinity, and 1e400 is a valid JSON number.
    const n = Number((value as RawJson).rawJSON);
    return Number.isFinite(n) ? n : Math.sign(n) * Number.MAX_VALUE;
  }
  if (Array.isArray(value)) return value.map(numericView);
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(value)) {
    // defineProperty: a key `__proto__` never reaches the setter (json-body.ts refuses it anyway).
    Object.defineProperty(out, key, {
      value: numericView((value as Record<string, unknown>)[key]),
      enumerable: true,
      writable: true,
      configurable: true,
    });
  }
  return out;
}

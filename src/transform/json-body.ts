import { isUtf8 } from 'node:buffer';
import { GatewayError } from '../errors/gateway-error.ts';
import { textHasNumbersAtRisk } from './json-guard.ts';
import { findInexactNumber, isRawNumber, parseExact } from './exact-numbers.ts';
import { FORBIDDEN_KEYS } from './path.ts';

/** `rawNumbers`: the value holds numbers carried as their source text (exact-numbers.ts). */
export type ParseResult = { ok: true; value: unknown; rawNumbers?: boolean } | { ok: false; error: GatewayError };

export interface ParseLimits {
  readonly maxDepth: number;
  /**
   * The caller (json-guard) saw a number literal a double may not carry exactly: check, and carry any that
   * is not exact as its source text. Undefined: scan the text here (for JSON embedded in a field).
   */
  readonly exactNumbers?: boolean;
  /**
   * The bytes passed guardJsonBody (json-guard.ts) with `checked`: UTF-8, nested at most `maxDepth` deep,
   * no key that is or could spell a forbidden one. The parsed value is then not walked again for those.
   */
  readonly guarded?: boolean;
}

/**
 * Parses a JSON body for the mapping/validation pipeline. Failures name where they are:
 * - GW_MALFORMED_JSON with `line`, `column` (1-based) and `position` (0-based, in characters) params;
 *   bytes that are not UTF-8 are malformed too (a silent U+FFFD would corrupt Vietnamese names);
 * - GW_BAD_REQUEST when nesting is deeper than `maxDepth` (arrays and objects each count one level) or
 *   when an object has a key `__proto__`, `constructor` or `prototype`.
 *
 * Why reject rather than strip the three keys: JSON.parse makes `__proto__` an own property, harmless by
 * itself, but any later `out[key] = value` copy of it calls the `__proto__` setter and swaps the copy's
 * prototype. No seed payload uses these names, so a body carrying one is buggy or hostile, and silently
 * dropping data is worse than a clear 400 naming the pointer. The mapping ops also refuse them in config
 * and never copy them (defence in depth).
 *
 * A UTF-8 byte order mark is skipped (RFC 8259 §8.1 allows parsers to ignore it; .NET senders emit it).
 */
export function parseJsonBody(buf: Buffer, limits: ParseLimits): ParseResult {
  if (!limits.guarded && !isUtf8(buf)) {
    const at = firstInvalidUtf8(buf);
    const { line, column } = lineColumn(buf.subarray(0, at).toString('utf8'), Infinity);
    return {
      ok: false,
      error: new GatewayError('GW_MALFORMED_JSON', {
        reason: `dữ liệu không phải UTF-8 hợp lệ tại dòng ${line}, cột ${column} (byte ${at})`,
        line,
        column,
        position: at,
      }),
    };
  }
  let text = buf.toString('utf8');
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  return parseJsonText(text, limits);
}

/** Same checks as parseJsonBody on a string (used for JSON embedded in a field, e.g. VNeID `loAS`). */
export function parseJsonText(text: string, limits: ParseLimits): ParseResult {
  let value: unknown;
  let rawNumbers = false;
  try {
    const atRisk = limits.exactNumbers ?? textHasNumbersAtRisk(text);
    const inexact = atRisk ? findInexactNumber(text) : undefined;
    if (inexact === undefined) value = JSON.parse(text);
    else {
      const exact = parseExact(text, inexact);
      if (!exact.ok) return exact;
      value = exact.value;
      rawNumbers = true;
    }
  } catch (err) {
    const msg = err instanceof Error ? err.message : String(err);
    const m = /at position (\d+)/.exec(msg);
    const position = m ? Number(m[1]) : text.length;
    return malformed(describeSyntaxError(msg, text, position), text, position);
  }
  const problem = limits.guarded ? undefined : inspect(value, limits.maxDepth);
  if (problem) return { ok: false, error: new GatewayError('GW_BAD_REQUEST', { reason: problem }) };
  return rawNumbers ? { ok: true, value, rawNumbers } : { ok: true, value };
}

function malformed(reason: string, text: string, position: number): ParseResult {
  // position: UTF-16 index into the decoded text, as V8 reports it.
  const { line, column } = lineColumn(text, position);
  return {
    ok: false,
    error: new GatewayError('GW_MALFORMED_JSON', {
      reason: `${reason} tại dòng ${line}, cột ${column} (vị trí ${position})`,
      line,
      column,
      position,
    }),
  };
}

function describeSyntaxError(msg: string, text: string, position: number): string {
  if (text.trim() === '') return 'thân yêu cầu rỗng';
  if (position >= text.length) return 'dữ liệu kết thúc đột ngột';
  const ch = JSON.stringify(text[position]);
  // V8's messages are English; keep the first clause as a hint for developers.
  const hint = msg.replace(/\s*(?:in JSON )?at position \d+.*$/s, '').trim();
  return `ký tự ${ch} không hợp lệ (${hint})`;
}

/** 1-based line and column of a 0-based character position. */
export function lineColumn(text: string, position: number): { line: number; column: number } {
  let line = 1;
  let lineStart = 0;
  const end = Math.min(position, text.length);
  for (let i = 0; i < end; i++) {
    if (text.charCodeAt(i) === 10) {
      line++;
      lineStart = i + 1;
    }
  }
  return { line, column: end - lineStart + 1 };
}

/** Byte offset of the first byte that breaks UTF-8 (RFC 3629 table 1); runs only on a rejected body. */
export function firstInvalidUtf8(buf: Uint8Array): number {
  let i = 0;
  while (i < buf.length) {
    const b = buf[i];
    let need: number;
    let lo = 0x80;
    let hi = 0xbf;
    if (b < 0x80) need = 0;
    else if (b >= 0xc2 && b <= 0xdf) need = 1;
    else if (b >= 0xe0 && b <= 0xef) {
      need = 2;
      if (b === 0xe0) lo = 0xa0;
      if (b === 0xed) hi = 0x9f; // no UTF-16 surrogates
    } else if (b >= 0xf0 && b <= 0xf4) {
      need = 3;
      if (b === 0xf0) lo = 0x90;
      if (b === 0xf4) hi = 0x8f;
    } else return i;
    for (let k = 1; k <= need; k++) {
      const c = buf[i + k];
      if (c === undefined || c < (k === 1 ? lo : 0x80) || c > (k === 1 ? hi : 0xbf)) return i;
    }
    i += need + 1;
  }
  return buf.length;
}

/** Iterative walk (no recursion, so a deep body cannot overflow the stack): depth and forbidden keys. */
function inspect(root: unknown, maxDepth: number): string | undefined {
  if (typeof root !== 'object' || root === null) return undefined;
  const stack: { node: object; depth: number; pointer: string }[] = [{ node: root, depth: 1, pointer: '' }];
  while (stack.length > 0) {
    const { node, depth, pointer } = stack.pop()!;
    if (depth > maxDepth) return `dữ liệu lồng sâu quá ${maxDepth} cấp tại ${pointer || '/'}`;
    if (Array.isArray(node)) {
      for (let i = 0; i < node.length; i++) {
        const child: unknown = node[i];
        if (typeof child === 'object' && child !== null && !isRawNumber(child)) {
          stack.push({ node: child, depth: depth + 1, pointer: `${pointer}/${i}` });
        }
      }
    } else {
      for (const key of Object.keys(node)) {
        if (FORBIDDEN_KEYS.has(key)) return `khóa "${key}" không được phép (tại ${pointer}/${key})`;
        const child: unknown = (node as Record<string, unknown>)[key];
        if (typeof child === 'object' && child !== null && !isRawNumber(child)) {
          stack.push({ node: child, depth: depth + 1, pointer: `${pointer}/${escape(key)}` });
        }
      }
    }
  }
  return undefined;
}

function escape(k: string): string {
  return k.replace(/~/g, '~0').replace(/\//g, '~1');
}

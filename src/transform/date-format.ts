import type { format as DfFormat, isValid as DfIsValid, parse as DfParse } from 'date-fns';
import { createRequire } from 'node:module';

// date-fns is loaded through `require` (its CommonJS build), not `import`: loading its ES modules (~150
// files for parse + format) leaves ~85 MB of loader garbage that grows the V8 heap at start, and the
// heap is not given back (gateway RSS at rest 300 MB instead of ~95 MB; see docs/benchmarks.md).
const require = createRequire(import.meta.url);
const { format: dfFormat } = require('date-fns/format') as { format: typeof DfFormat };
const { isValid: dfIsValid } = require('date-fns/isValid') as { isValid: typeof DfIsValid };
const { parse: dfParse } = require('date-fns/parse') as { parse: typeof DfParse };

/**
 * Date formats for the `date` mapping op. Format strings use date-fns tokens (Unicode TR35: `dd/MM/yyyy`,
 * `yyyyMMddHHmmss`, ...); the name `ISO` means ISO 8601 (`2021-12-12`, `2021-12-12T12:22:34`, with optional
 * fraction and `Z`/`±HH:MM`).
 *
 * Why two paths: date-fns `parse` costs ~15 µs per call (measured on the 2-core CI box), so a 4 KB MOLISA
 * body with a dozen dates would blow the 100 µs budget of issue 4. Formats made only of the numeric tokens
 * below are compiled at load into closures that read digits by char code; any other format goes through
 * date-fns parse/format (also used at load to reject format strings date-fns does not understand, and in
 * the tests as the reference the fast path must agree with).
 */
export interface DateParts {
  readonly year: number;
  readonly month: number; // 1-12
  readonly day: number;
  readonly hour: number;
  readonly minute: number;
  readonly second: number;
  readonly ms: number;
}

export type DateParser = (text: string) => DateParts | undefined;
export type DateFormatter = (parts: DateParts) => string;

/** Minutes east of UTC of a `±HH:MM` offset string, or undefined when malformed. */
export function parseOffset(text: string): number | undefined {
  const m = /^([+-])(\d{2}):(\d{2})$/.exec(text);
  if (!m || Number(m[2]) > 14 || Number(m[3]) > 59) return undefined;
  const v = Number(m[2]) * 60 + Number(m[3]);
  return m[1] === '-' ? -v : v;
}

/** True when (year, month, day, hour, minute, second) is a real calendar time (31/02 is not). */
export function isRealDate(y: number, mo: number, d: number, h = 0, mi = 0, s = 0): boolean {
  if (y < 1 || y > 9999 || mo < 1 || mo > 12 || d < 1 || h > 23 || mi > 59 || s > 59) return false;
  return d <= daysInMonth(y, mo);
}

function daysInMonth(y: number, mo: number): number {
  if (mo === 2) return (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0 ? 29 : 28;
  return mo === 4 || mo === 6 || mo === 9 || mo === 11 ? 30 : 31;
}

type Token =
  | { readonly t: 'lit'; readonly text: string }
  | { readonly t: 'num'; readonly field: keyof DateParts; readonly min: number; readonly max: number };

const NUMERIC: Readonly<Record<string, { field: keyof DateParts; min: number; max: number }>> = {
  yyyy: { field: 'year', min: 4, max: 4 },
  MM: { field: 'month', min: 2, max: 2 },
  M: { field: 'month', min: 1, max: 2 },
  dd: { field: 'day', min: 2, max: 2 },
  d: { field: 'day', min: 1, max: 2 },
  HH: { field: 'hour', min: 2, max: 2 },
  H: { field: 'hour', min: 1, max: 2 },
  mm: { field: 'minute', min: 2, max: 2 },
  m: { field: 'minute', min: 1, max: 2 },
  ss: { field: 'second', min: 2, max: 2 },
  s: { field: 'second', min: 1, max: 2 },
  SSS: { field: 'ms', min: 3, max: 3 },
};

/** Splits a date-fns format into numeric tokens and literals; undefined if it uses other tokens. */
function tokenize(fmt: string): Token[] | undefined {
  const out: Token[] = [];
  let i = 0;
  while (i < fmt.length) {
    const c = fmt[i];
    if (/[a-zA-Z]/.test(c)) {
      let j = i;
      while (j < fmt.length && fmt[j] === c) j++;
      const spec = NUMERIC[fmt.slice(i, j)];
      if (!spec) return undefined;
      out.push({ t: 'num', ...spec });
      i = j;
    } else if (c === "'") {
      const end = fmt.indexOf("'", i + 1);
      if (end === i + 1) {
        out.push({ t: 'lit', text: "'" });
        i += 2;
        continue;
      }
      if (end < 0) return undefined;
      out.push({ t: 'lit', text: fmt.slice(i + 1, end) });
      i = end + 1;
    } else {
      out.push({ t: 'lit', text: c });
      i++;
    }
  }
  return out;
}

/** Throws a readable Error when date-fns does not accept `fmt` both ways. */
function checkWithDateFns(fmt: string): void {
  const sample = new Date(2021, 11, 12, 12, 22, 34, 567);
  const text = dfFormat(sample, fmt);
  const back = dfParse(text, fmt, sample);
  if (!dfIsValid(back)) throw new Error(`format "${fmt}" cannot read back what it writes`);
}

/** Compiles one input format (or `ISO`) into a strict parser; throws Error on an unusable format. */
export function compileParser(fmt: string): DateParser {
  if (fmt === 'ISO') return parseIso;
  checkWithDateFns(fmt);
  const tokens = tokenize(fmt);
  if (!tokens) return dateFnsParser(fmt);
  const fields = new Set(tokens.flatMap((t) => (t.t === 'num' ? [t.field] : [])));
  if (!fields.has('year') || !fields.has('month') || !fields.has('day')) {
    throw new Error(`format "${fmt}" needs a year (yyyy), a month (MM) and a day (dd)`);
  }
  // Length bounds reject most non-matching inputs before reading a digit (formats are tried in order).
  let minLen = 0;
  let maxLen = 0;
  for (const tok of tokens) {
    minLen += tok.t === 'lit' ? tok.text.length : tok.min;
    maxLen += tok.t === 'lit' ? tok.text.length : tok.max;
  }
  return (text) => {
    if (text.length < minLen || text.length > maxLen) return undefined;
    const v = { year: 0, month: 0, day: 0, hour: 0, minute: 0, second: 0, ms: 0 };
    let pos = 0;
    for (const tok of tokens) {
      if (tok.t === 'lit') {
        if (!text.startsWith(tok.text, pos)) return undefined;
        pos += tok.text.length;
        continue;
      }
      let n = 0;
      let len = 0;
      while (len < tok.max && pos < text.length) {
        const c = text.charCodeAt(pos);
        if (c < 48 || c > 57) break;
        n = n * 10 + (c - 48);
        pos++;
        len++;
      }
      if (len < tok.min) return undefined;
      v[tok.field] = n;
    }
    if (pos !== text.length) return undefined;
    return isRealDate(v.year, v.month, v.day, v.hour, v.minute, v.second) ? v : undefined;
  };
}

function dateFnsParser(fmt: string): DateParser {
  return (text) => {
    const ref = new Date(2000, 0, 1, 0, 0, 0, 0);
    const d = dfParse(text, fmt, ref);
    if (!dfIsValid(d)) return undefined;
    return {
      year: d.getFullYear(),
      month: d.getMonth() + 1,
      day: d.getDate(),
      hour: d.getHours(),
      minute: d.getMinutes(),
      second: d.getSeconds(),
      ms: d.getMilliseconds(),
    };
  };
}

const ISO = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(Z|[+-]\d{2}:?\d{2})?)?$/;

/**
 * ISO 8601 date or date-time. A time with an offset (`Z`, `+07:00`) is an instant: it is marked so the op
 * can move it to the target offset; without one it is a local (Vietnam) wall-clock time taken as is.
 */
export function parseIso(text: string): (DateParts & { readonly offsetMin?: number }) | undefined {
  if (text.length < 10 || text.charCodeAt(4) !== 45 /* '-' */) return undefined;
  const m = ISO.exec(text);
  if (!m) return undefined;
  const parts = {
    year: Number(m[1]),
    month: Number(m[2]),
    day: Number(m[3]),
    hour: m[4] === undefined ? 0 : Number(m[4]),
    minute: m[5] === undefined ? 0 : Number(m[5]),
    second: m[6] === undefined ? 0 : Number(m[6]),
    ms: m[7] === undefined ? 0 : Number(m[7].slice(0, 3).padEnd(3, '0')),
  };
  if (!isRealDate(parts.year, parts.month, parts.day, parts.hour, parts.minute, parts.second)) return undefined;
  if (m[8] === undefined) return parts;
  const off = m[8] === 'Z' ? 0 : parseOffset(m[8].length === 5 ? `${m[8].slice(0, 3)}:${m[8].slice(3)}` : m[8]);
  if (off === undefined) return undefined;
  return { ...parts, offsetMin: off };
}

/** Moves an instant given with `fromOffset` minutes to wall-clock parts at `toOffset` minutes. */
export function shiftParts(p: DateParts, fromOffset: number, toOffset: number): DateParts {
  if (fromOffset === toOffset) return p;
  const utc = Date.UTC(p.year, p.month - 1, p.day, p.hour, p.minute, p.second, p.ms) - fromOffset * 60_000;
  const d = new Date(utc + toOffset * 60_000);
  return {
    year: d.getUTCFullYear(),
    month: d.getUTCMonth() + 1,
    day: d.getUTCDate(),
    hour: d.getUTCHours(),
    minute: d.getUTCMinutes(),
    second: d.getUTCSeconds(),
    ms: d.getUTCMilliseconds(),
  };
}

function pad(n: number, width: number): string {
  const s = String(n);
  return s.length >= width ? s : '0'.repeat(width - s.length) + s;
}

/**
 * True when formatting what `fmt` parsed gives back the very text parsed: only fixed-width numeric tokens
 * (`dd`, `MM`, `yyyy`, `HH`, `mm`, `ss`, `SSS`) and literals, each field once. The date op then keeps an
 * input already in its target format as is instead of formatting it again.
 */
export function isCanonicalFormat(fmt: string): boolean {
  if (fmt === 'ISO') return false;
  const tokens = tokenize(fmt);
  if (!tokens) return false;
  const seen = new Set<string>();
  for (const tok of tokens) {
    if (tok.t === 'lit') continue;
    if (tok.min !== tok.max || seen.has(tok.field)) return false;
    seen.add(tok.field);
  }
  return true;
}

/** Compiles the target format (or `ISO`, which writes `yyyy-MM-ddTHH:mm:ss±HH:MM` at `offsetMin`). */
export function compileFormatter(fmt: string, offsetMin: number): DateFormatter {
  if (fmt === 'ISO') {
    const sign = offsetMin < 0 ? '-' : '+';
    const abs = Math.abs(offsetMin);
    const suffix = `${sign}${pad(Math.floor(abs / 60), 2)}:${pad(abs % 60, 2)}`;
    return (p) =>
      `${pad(p.year, 4)}-${pad(p.month, 2)}-${pad(p.day, 2)}T${pad(p.hour, 2)}:${pad(p.minute, 2)}:${pad(p.second, 2)}${suffix}`;
  }
  checkWithDateFns(fmt);
  const tokens = tokenize(fmt);
  if (!tokens) {
    return (p) => {
      const d = new Date(2000, 0, 1, p.hour, p.minute, p.second, p.ms);
      d.setFullYear(p.year, p.month - 1, p.day);
      return dfFormat(d, fmt);
    };
  }
  const parts = tokens.map((tok) => (tok.t === 'lit' ? () => tok.text : (p: DateParts) => pad(p[tok.field], tok.min)));
  return (p) => {
    let out = '';
    for (const part of parts) out += part(p);
    return out;
  };
}

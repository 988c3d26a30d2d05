import type { format as DfFormat, isValid as DfIsValid, parse as DfParse } from 'date-fns';
import { createRequire } from 'node:module';

interface DateFns {
  readonly format: typeof DfFormat;
  readonly isValid: typeof DfIsValid;
  readonly parse: typeof DfParse;
}

let loadedDateFns: DateFns | undefined;

/**
 * date-fns, loaded by the first format compiled that needs it (a token other than the numeric ones below,
 * or a field written twice, which date-fns refuses with its own message): the formats of the shipped
 * mappings are all numeric, and the gateway then never holds date-fns (~1 MB of V8 heap and ~2.5 MB of
 * RSS at rest, its 80 modules and its 0.2 MB `exports` map in Node's package.json cache: docs/benchmarks.md, "Memory at rest").
 * A format is compiled when the config loads, so a config that needs date-fns loads it then, never at a
 * request. Through `require` (its CommonJS build), not `import`: loading its ES modules (~150 files for
 * parse + format) leaves ~85 MB of loader garbage that grows the V8 heap at start, and the heap is not
 * given back (gateway RSS at rest 300 MB instead of ~95 MB; see docs/benchmarks.md).
 */
function dateFns(): DateFns {
  if (loadedDateFns) return loadedDateFns;
  const require = createRequire(import.meta.url);
  loadedDateFns = {
    format: (require('date-fns/format') as { format: typeof DfFormat }).format,
    isValid: (require('date-fns/isValid') as { isValid: typeof DfIsValid }).isValid,
    parse: (require('date-fns/parse') as { parse: typeof DfParse }).parse,
  };
  return loadedDateFns;
}

/**
 * Date formats for the `date` mapping op. Format strings use date-fns tokens (Unicode TR35: `dd/MM/yyyy`,
 * `yyyyMMddHHmmss`, ...); the name `ISO` means ISO 8601 (`2021-12-12`, `2021-12-12T12:22:34`, with optional
 * fraction and `Z`/`±HH:MM`).
 *
 * Why two paths: date-fns `parse` costs ~15 µs per call (measured on the 2-core CI box), so a 4 KB MOLISA
 * body with a dozen dates would blow the 100 µs budget of issue 4. Formats made only of the numeric tokens
 * below are compiled at load into closures that read digits by char code; any other format goes through
 * date-fns parse/format (also used at load to reject format strings date-fns does not understand, and in
 * the tests as the reference the fast path must agree with), loaded only then (`dateFns`).
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
      if (fmt[i + 1] === "'") {
        out.push({ t: 'lit', text: "'" });
        i += 2;
        continue;
      }
      // Quoted text up to the next lone quote; inside it `''` is one quote (TR35, as date-fns reads it:
      // `'l''x'` is l'x). Unterminated: left to date-fns.
      let text = '';
      let j = i + 1;
      for (;;) {
        const end = fmt.indexOf("'", j);
        if (end < 0) return undefined;
        text += fmt.slice(j, end);
        if (fmt[end + 1] !== "'") {
          j = end + 1;
          break;
        }
        text += "'";
        j = end + 2;
      }
      out.push({ t: 'lit', text });
      i = j;
    } else {
      out.push({ t: 'lit', text: c });
      i++;
    }
  }
  return out;
}

/**
 * Throws a readable Error when date-fns does not accept `fmt` both ways. A format of numeric tokens and
 * literals (`tokens`) with each field once is one date-fns accepts (it writes it and reads it back; a
 * property test in test/unit/transform/date-format.test.ts holds this against date-fns), so date-fns is
 * not asked; any other format is checked by date-fns itself, which gives its own reason.
 */
function checkFormat(fmt: string, tokens: readonly Token[] | undefined): void {
  if (tokens && eachFieldOnce(tokens)) return;
  const { format, isValid, parse } = dateFns();
  const sample = new Date(2021, 11, 12, 12, 22, 34, 567);
  const text = format(sample, fmt);
  const back = parse(text, fmt, sample);
  if (!isValid(back)) throw new Error(`format "${fmt}" cannot read back what it writes`);
}

function eachFieldOnce(tokens: readonly Token[]): boolean {
  const fields = tokens.flatMap((t) => (t.t === 'num' ? [t.field] : []));
  return new Set(fields).size === fields.length;
}

/** Compiles one input format (or `ISO`) into a strict parser; throws Error on an unusable format. */
export function compileParser(fmt: string): DateParser {
  if (fmt === 'ISO') return parseIso;
  const tokens = tokenize(fmt);
  checkFormat(fmt, tokens);
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
  // The tokens as flat arrays, one step per literal character (`code`) or numeric token (`code` -1, the
  // field's index): read by char code into locals, without allocation or keyed stores. Walking the token
  // objects cost ~200 ns a value, the date op's largest share of map + validate (issue 19).
  const code: number[] = [];
  const least: number[] = [];
  const most: number[] = [];
  const field: number[] = [];
  for (const tok of tokens) {
    if (tok.t === 'lit') {
      for (let i = 0; i < tok.text.length; i++) {
        code.push(tok.text.charCodeAt(i));
        least.push(0);
        most.push(0);
        field.push(-1);
      }
    } else {
      code.push(-1);
      least.push(tok.min);
      most.push(tok.max);
      field.push(PART_INDEX[tok.field]);
    }
  }
  const steps = code.length;
  return (text) => {
    if (text.length < minLen || text.length > maxLen) return undefined;
    let year = 0;
    let month = 0;
    let day = 0;
    let hour = 0;
    let minute = 0;
    let second = 0;
    let ms = 0;
    let pos = 0;
    for (let s = 0; s < steps; s++) {
      if (code[s] >= 0) {
        if (text.charCodeAt(pos) !== code[s]) return undefined;
        pos++;
        continue;
      }
      let n = 0;
      let len = 0;
      while (len < most[s] && pos < text.length) {
        const c = text.charCodeAt(pos);
        if (c < 48 || c > 57) break;
        n = n * 10 + (c - 48);
        pos++;
        len++;
      }
      if (len < least[s]) return undefined;
      switch (field[s]) {
        case 0:
          year = n;
          break;
        case 1:
          month = n;
          break;
        case 2:
          day = n;
          break;
        case 3:
          hour = n;
          break;
        case 4:
          minute = n;
          break;
        case 5:
          second = n;
          break;
        default:
          ms = n;
      }
    }
    if (pos !== text.length) return undefined;
    return isRealDate(year, month, day, hour, minute, second)
      ? { year, month, day, hour, minute, second, ms }
      : undefined;
  };
}

/**
 * For a canonical format (isCanonicalFormat: fixed-width numeric fields, each once): a test generated at
 * load that says whether compileParser(fmt) reads `text`, without building the parts (issue 19: most dates
 * come already in the target format, and the date op then only needs a yes or no). Straight-line code
 * with the positions and character codes written in; only numbers from the tokens enter the source.
 * Undefined for any other format. test/unit/transform/generated-visitors.test.ts compares it with the
 * parser.
 */
export function compileCanonicalTest(fmt: string): ((text: string) => boolean) | undefined {
  if (!isCanonicalFormat(fmt)) return undefined;
  const tokens = tokenize(fmt)!;
  const fields = new Set(tokens.flatMap((t) => (t.t === 'num' ? [t.field] : [])));
  if (!fields.has('year') || !fields.has('month') || !fields.has('day')) return undefined;
  const literals: string[] = [];
  const reads: string[] = [];
  let pos = 0;
  for (const tok of tokens) {
    if (tok.t === 'lit') {
      for (let i = 0; i < tok.text.length; i++) literals.push(`t.charCodeAt(${pos++}) !== ${tok.text.charCodeAt(i)}`);
    } else {
      reads.push(`${tok.field} = digitsAt(t, ${pos}, ${tok.max})`);
      pos += tok.max;
    }
  }
  const parts = ['year', 'month', 'day', 'hour', 'minute', 'second', 'ms'] as const;
  const source = `'use strict';
return function canonicalTest(t) {
if (t.length !== ${pos}${literals.map((l) => ` || ${l}`).join('')}) return false;
let ${parts.map((p) => `${p} = 0`).join(', ')};
${reads.join('; ')};
if (${parts.map((p) => `${p} < 0`).join(' || ')}) return false;
return isRealDate(year, month, day, hour, minute, second);
};`;
  return new Function('digitsAt', 'isRealDate', source)(digitsAt, isRealDate) as (text: string) => boolean;
}

/** Index of each DateParts field in the compiled parser's switch. */
const PART_INDEX: Readonly<Record<keyof DateParts, number>> = {
  year: 0,
  month: 1,
  day: 2,
  hour: 3,
  minute: 4,
  second: 5,
  ms: 6,
};

function dateFnsParser(fmt: string): DateParser {
  const { isValid, parse } = dateFns();
  return (text) => {
    const ref = new Date(2000, 0, 1, 0, 0, 0, 0);
    const d = parse(text, fmt, ref);
    if (!isValid(d)) return undefined;
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

/**
 * ISO 8601 date or date-time. A time with an offset (`Z`, `+07:00`) is an instant: it is marked so the op
 * can move it to the target offset; without one it is a local (Vietnam) wall-clock time taken as is.
 * Read at fixed positions, without a regular expression (issue 19: the expression and its captures were
 * ~0.4 µs a value); the same verdicts as
 * `^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(Z|[+-]\d{2}:?\d{2})?)?$` followed by
 * isRealDate and parseOffset (test/unit/transform/fast-paths.test.ts compares them on generated strings).
 */
export function parseIso(text: string): (DateParts & { readonly offsetMin?: number }) | undefined {
  const n = text.length;
  if (n < 10 || text.charCodeAt(4) !== 45 /* - */ || text.charCodeAt(7) !== 45) return undefined;
  const year = digitsAt(text, 0, 4);
  const month = digitsAt(text, 5, 2);
  const day = digitsAt(text, 8, 2);
  if (year < 0 || month < 0 || day < 0) return undefined;
  let hour = 0;
  let minute = 0;
  let second = 0;
  let ms = 0;
  let offsetMin: number | undefined;
  if (n > 10) {
    const sep = text.charCodeAt(10);
    if ((sep !== 84 /* T */ && sep !== 32) || text.charCodeAt(13) !== 58 /* : */) return undefined;
    hour = digitsAt(text, 11, 2);
    minute = digitsAt(text, 14, 2);
    if (hour < 0 || minute < 0) return undefined;
    let pos = 16;
    if (text.charCodeAt(pos) === 58) {
      second = digitsAt(text, pos + 1, 2);
      if (second < 0) return undefined;
      pos += 3;
      if (text.charCodeAt(pos) === 46 /* . */) {
        let len = 0;
        let fraction = 0;
        while (len < 9 && isDigit(text.charCodeAt(pos + 1 + len))) {
          if (len < 3) fraction = fraction * 10 + (text.charCodeAt(pos + 1 + len) - 48);
          len++;
        }
        if (len === 0) return undefined;
        ms = len >= 3 ? fraction : len === 2 ? fraction * 10 : fraction * 100;
        pos += 1 + len;
      }
    }
    if (pos < n) {
      const z = text.charCodeAt(pos);
      if (z === 90 /* Z */) {
        offsetMin = 0;
        pos++;
      } else if (z === 43 /* + */ || z === 45 /* - */) {
        const colon = text.charCodeAt(pos + 3) === 58 ? 1 : 0;
        const h = digitsAt(text, pos + 1, 2);
        const m = digitsAt(text, pos + 3 + colon, 2);
        if (h < 0 || m < 0) return undefined;
        pos += 5 + colon;
        // parseOffset's bounds: at most 14 hours, 59 minutes.
        if (h > 14 || m > 59) return undefined;
        offsetMin = z === 45 ? -(h * 60 + m) : h * 60 + m;
      } else return undefined;
    }
    if (pos !== n) return undefined;
  }
  if (!isRealDate(year, month, day, hour, minute, second)) return undefined;
  const parts = { year, month, day, hour, minute, second, ms };
  return offsetMin === undefined ? parts : { ...parts, offsetMin };
}

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

/**
 * The number the ASCII digits `s[from, from + count)` write, or -1 when one of them is not a digit (or
 * past the end). Also the schema's date formats' reader (validator.ts).
 */
export function digitsAt(s: string, from: number, count: number): number {
  let n = 0;
  for (let i = from; i < from + count; i++) {
    const d = s.charCodeAt(i) - 48;
    if (!(d >= 0 && d <= 9)) return -1;
    n = n * 10 + d;
  }
  return n;
}

/** Moves an instant given with `fromOffset` minutes to wall-clock parts at `toOffset` minutes. */
export function shiftParts(p: DateParts, fromOffset: number, toOffset: number): DateParts {
  if (fromOffset === toOffset) return p;
  // Years 1-99: Date.UTC reads them as 1901-1999, and that is what this has always written.
  if (p.year < 100) return shiftByDate(p, fromOffset, toOffset);
  // Offsets are at most 14:59 either way, so the wall clock moves by less than two days: minutes and
  // hours carry into days, days into months and years (~10x cheaper than a Date, issue 19).
  const minutes = p.minute + toOffset - fromOffset;
  const hours = p.hour + Math.floor(minutes / 60);
  let days = Math.floor(hours / 24);
  let { year, month, day } = p;
  for (; days > 0; days--) {
    if (++day > daysInMonth(year, month)) {
      day = 1;
      if (++month > 12) {
        month = 1;
        year++;
      }
    }
  }
  for (; days < 0; days++) {
    if (--day < 1) {
      if (--month < 1) {
        month = 12;
        year--;
      }
      day = daysInMonth(year, month);
    }
  }
  const hour = hours - Math.floor(hours / 24) * 24;
  const minute = minutes - Math.floor(minutes / 60) * 60;
  return { year, month, day, hour, minute, second: p.second, ms: p.ms };
}

/** shiftParts through a Date (years 1-99, and the reference the arithmetic is tested against). */
export function shiftByDate(p: DateParts, fromOffset: number, toOffset: number): DateParts {
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
  if (width === 2 && n < 100) return TWO_DIGITS[n];
  const s = String(n);
  return s.length >= width ? s : ZEROS.slice(0, width - s.length) + s;
}

const ZEROS = '0000';
const TWO_DIGITS = Array.from({ length: 100 }, (_, n) => (n < 10 ? '0' : '') + n);

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

/**
 * Compiles the target format (or `ISO`, which writes `yyyy-MM-ddTHH:mm:ss±HH:MM` at `offsetMin`).
 * `generate: false` keeps the token loop for fixed-width formats (the property tests' reference).
 */
export function compileFormatter(fmt: string, offsetMin: number, generate = true): DateFormatter {
  if (fmt === 'ISO') {
    const sign = offsetMin < 0 ? '-' : '+';
    const abs = Math.abs(offsetMin);
    const suffix = `${sign}${pad(Math.floor(abs / 60), 2)}:${pad(abs % 60, 2)}`;
    return (p) =>
      `${pad(p.year, 4)}-${pad(p.month, 2)}-${pad(p.day, 2)}T${pad(p.hour, 2)}:${pad(p.minute, 2)}:${pad(p.second, 2)}${suffix}`;
  }
  const tokens = tokenize(fmt);
  checkFormat(fmt, tokens);
  if (!tokens) {
    const { format } = dateFns();
    return (p) => {
      const d = new Date(2000, 0, 1, p.hour, p.minute, p.second, p.ms);
      d.setFullYear(p.year, p.month - 1, p.day);
      return format(d, fmt);
    };
  }
  // Literal text, or the field (PART_INDEX) padded to its width: no closure per token (issue 19).
  const texts = tokens.map((tok) => (tok.t === 'lit' ? tok.text : ''));
  const fields = tokens.map((tok) => (tok.t === 'lit' ? -1 : PART_INDEX[tok.field]));
  const widths = tokens.map((tok) => (tok.t === 'lit' ? 0 : tok.min));
  const loop: DateFormatter = (p) => {
    let out = '';
    for (let i = 0; i < fields.length; i++) out += fields[i] < 0 ? texts[i] : pad(partAt(p, fields[i]), widths[i]);
    return out;
  };
  const fixed = tokens.every((tok) => tok.t === 'lit' || tok.min === tok.max);
  return generate && fixed ? fixedWidthFormatter(tokens, loop) : loop;
}

/**
 * A fixed-width numeric format (`dd/MM/yyyy HH:mm:ss`, `yyyyMMdd`) generated as one String.fromCharCode
 * of the digits and literal codes (issue 19): one flat string instead of ten concatenations that the
 * schema and JSON.stringify then flatten (~50 instead of ~220 ns a date). Parts outside their width (a
 * year past 9999 after an offset shift) or not whole go to `loop`, which pads as before. Only numbers
 * (positions, char codes, powers of ten) enter the source.
 */
function fixedWidthFormatter(tokens: readonly Token[], loop: DateFormatter): DateFormatter {
  const used = new Map<string, number>();
  const codes: string[] = [];
  for (const tok of tokens) {
    if (tok.t === 'lit') {
      for (let i = 0; i < tok.text.length; i++) codes.push(String(tok.text.charCodeAt(i)));
      continue;
    }
    const name = tok.field;
    used.set(name, Math.max(used.get(name) ?? 0, tok.min));
    for (let i = tok.min - 1; i >= 0; i--) codes.push(`48 + (((${name} / ${10 ** i}) | 0) % 10)`);
  }
  const reads = [...used.keys()].map((n) => `${n} = p.${n}`).join(', ');
  const inRange = [...used].map(([n, w]) => `(${n} | 0) === ${n} && ${n} >= 0 && ${n} < ${10 ** w}`).join(' && ');
  const source = `'use strict';
return function format(p) {
${reads ? `const ${reads};` : ''}
if (!(${inRange || 'true'})) return loop(p);
return String.fromCharCode(${codes.join(', ')});
};`;
  return new Function('loop', source)(loop) as DateFormatter;
}

function partAt(p: DateParts, index: number): number {
  switch (index) {
    case 0:
      return p.year;
    case 1:
      return p.month;
    case 2:
      return p.day;
    case 3:
      return p.hour;
    case 4:
      return p.minute;
    case 5:
      return p.second;
    default:
      return p.ms;
  }
}

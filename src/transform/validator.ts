import { readFileSync, realpathSync } from 'node:fs';
import { isAbsolute, relative, resolve } from 'node:path';
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import { ConfigPathError } from '../config/config-error.ts';
import type { FieldError } from '../errors/gateway-error.ts';
import { isBase64 } from './base64.ts';
import { digitsAt, isRealDate } from './date-format.ts';

/** Compiles schema files of one config load; the same file used by many routes compiles once. */
export interface ValidatorFactory {
  compile(schemaFile: string, path: readonly (string | number)[]): (body: unknown) => FieldError[];
  /** Validators compiled or reused by this factory, by schema file and content (handed to the next load). */
  readonly compiled: ReadonlyMap<string, (body: unknown) => FieldError[]>;
}

export interface ValidatorOptions {
  /** At most this many FieldErrors per body (allErrors on a hostile body could list thousands). */
  readonly maxErrors?: number;
  /**
   * The previous load's factory: a schema file whose content did not change gets its validator back
   * instead of being compiled again (compiling is most of a reload, and a reload holds up traffic).
   */
  readonly reuse?: ValidatorFactory;
}

/**
 * Date formats the seeds use, checked strictly (a real calendar day, 31/02 fails). The format name is what
 * a schema writes in `format`; the label is what error messages show.
 * - `date-dmy` dd/MM/yyyy and `datetime-dmy` dd/MM/yyyy HH:mm:ss: MOLISA DongBoDVC example (seed 004
 *   Appendix 1 §2a), civil-status `ngayTiepNhan` (domain.md §4);
 * - `datetime-compact` yyyyMMddHHmmss: MOLISA XuLyHoSo (seed 004 Appendix 1 §2b);
 * - `date-compact` yyyyMMdd: VNeID `ngayThangNamSinh` / `NgayThangNamSinh` (seed 001).
 */
export const DATE_FORMATS: Readonly<Record<string, { label: string; test: (s: string) => boolean }>> = {
  'date-dmy': { label: 'dd/MM/yyyy', test: (s) => dmy(s, false) },
  'datetime-dmy': { label: 'dd/MM/yyyy HH:mm:ss', test: (s) => dmy(s, true) },
  'datetime-compact': { label: 'yyyyMMddHHmmss', test: (s) => compact(s, true) },
  'date-compact': { label: 'yyyyMMdd', test: (s) => compact(s, false) },
};

/**
 * The seed date formats read at fixed positions, without a regular expression (the schema checks every
 * date of every record: the regex and its capture array were ~5% of map + validate of a 4 KB MOLISA body,
 * issue 19). Same verdicts as `^(\d{2})\/(\d{2})\/(\d{4})(?: (\d{2}):(\d{2}):(\d{2}))?$` and
 * `^(\d{4})(\d{2})(\d{2})(?:(\d{2})(\d{2})(\d{2}))?$` (ASCII digits; `$` is the end of the text)
 * followed by isRealDate; test/unit/transform/fast-paths.test.ts compares them on random strings.
 */
function dmy(s: string, withTime: boolean): boolean {
  if (s.length !== (withTime ? 19 : 10) || s.charCodeAt(2) !== 0x2f || s.charCodeAt(5) !== 0x2f) return false;
  const day = digitsAt(s, 0, 2);
  const month = digitsAt(s, 3, 2);
  const year = digitsAt(s, 6, 4);
  if (!withTime) return day >= 0 && month >= 0 && year >= 0 && isRealDate(year, month, day);
  if (s.charCodeAt(10) !== 0x20 || s.charCodeAt(13) !== 0x3a || s.charCodeAt(16) !== 0x3a) return false;
  const h = digitsAt(s, 11, 2);
  const mi = digitsAt(s, 14, 2);
  const sec = digitsAt(s, 17, 2);
  if (day < 0 || month < 0 || year < 0 || h < 0 || mi < 0 || sec < 0) return false;
  return isRealDate(year, month, day, h, mi, sec);
}

function compact(s: string, withTime: boolean): boolean {
  if (s.length !== (withTime ? 14 : 8)) return false;
  const year = digitsAt(s, 0, 4);
  const month = digitsAt(s, 4, 2);
  const day = digitsAt(s, 6, 2);
  if (year < 0 || month < 0 || day < 0) return false;
  if (!withTime) return isRealDate(year, month, day);
  const h = digitsAt(s, 8, 2);
  const mi = digitsAt(s, 10, 2);
  const sec = digitsAt(s, 12, 2);
  return h >= 0 && mi >= 0 && sec >= 0 && isRealDate(year, month, day, h, mi, sec);
}

/**
 * Compiles the JSON Schema files routes name (draft-07, allErrors, strict; ajv-formats and the seed date
 * formats), each once per load, or reused from the previous load when its content did not change.
 * Schema files are resolved inside `schemasDir` only; a file that is missing, not JSON or does not compile
 * throws ConfigPathError(path, 'schema-compile', ...) naming the file.
 */
export function createValidatorFactory(schemasDir: string, options: ValidatorOptions = {}): ValidatorFactory {
  let instances: { ajv: Ajv; fastAjv: Ajv; firstAjv: Ajv } | undefined;
  // Made on the first schema that is not reused: a reload with unchanged schemas compiles nothing.
  const ajvs = () => (instances ??= createAjvs());
  const cache = new Map<string, (body: unknown) => FieldError[]>();
  const compiled = new Map<string, (body: unknown) => FieldError[]>();
  const maxErrors = options.maxErrors ?? 100;
  const root = resolve(schemasDir);
  return {
    compiled,
    compile(schemaFile, path) {
      const file = resolve(root, schemaFile);
      const rel = relative(root, file);
      if (rel.startsWith('..') || isAbsolute(rel)) {
        throw new ConfigPathError(path, 'schema-compile', `schema file ${schemaFile} is outside the schemas directory`);
      }
      const cached = cache.get(file);
      if (cached) return cached;
      let text: string;
      let schema: unknown;
      try {
        const real = realpathSync(file);
        const realRel = relative(realpathSync(root), real);
        if (realRel.startsWith('..') || isAbsolute(realRel))
          throw new Error('a link points outside the schemas directory');
        text = readFileSync(real, 'utf8');
        schema = JSON.parse(text);
      } catch (err) {
        throw new ConfigPathError(
          path,
          'schema-compile',
          `cannot read schema ${schemaFile}: ${(err as Error).message}`,
        );
      }
      const key = `${file}\0${maxErrors}\0${text}`;
      const reused = options.reuse?.compiled.get(key);
      if (reused) {
        cache.set(file, reused);
        compiled.set(key, reused);
        return reused;
      }
      const { ajv, fastAjv, firstAjv } = ajvs();
      let validate: ValidateFunction;
      try {
        validate = ajv.compile(schema as object);
      } catch (err) {
        throw new ConfigPathError(
          path,
          'schema-compile',
          `schema ${schemaFile} does not compile: ${(err as Error).message}`,
        );
      }
      const fast = lengthMonotone(schema) ? fastAjv.compile(schema as object) : undefined;
      let firstOnly: ValidateFunction | undefined;
      const fn = (body: unknown): FieldError[] => {
        if (fast !== undefined && fast(body)) return [];
        // ajv's allErrors lists every error before we keep `maxErrors`: on a 10 MB batch of records full of
        // unknown keys that is 1.2 million error objects (162 MB, 2.8 s). A body that large gets its first
        // error only (same semantics, compiled on first need); one of ordinary size gets them all.
        if (!hasAtMost(body, ALL_ERRORS_MAX_VALUES)) {
          firstOnly ??= firstAjv.compile(schema as object);
          if (firstOnly(body)) return [];
          return takeErrors(firstOnly, maxErrors);
        }
        if (validate(body)) return [];
        return takeErrors(validate, maxErrors);
      };
      cache.set(file, fn);
      compiled.set(key, fn);
      return fn;
    },
  };
}

/**
 * Bodies with more values than this (objects, arrays and scalars counted) are reported with their first
 * schema error only: at most ~50,000 ajv error objects (~7 MB) can exist for one body.
 */
export const ALL_ERRORS_MAX_VALUES = 50_000;

/** True when `root` holds at most `max` values; stops counting at `max` (iterative, no recursion). */
function hasAtMost(root: unknown, max: number): boolean {
  let count = 0;
  const stack: unknown[] = [root];
  while (stack.length > 0) {
    const node = stack.pop();
    if (++count > max) return false;
    if (typeof node !== 'object' || node === null) continue;
    if (Array.isArray(node)) for (let i = 0; i < node.length; i++) stack.push(node[i]);
    else for (const key in node) stack.push((node as Record<string, unknown>)[key]);
  }
  return true;
}

/** FieldErrors of a failed validation; the validator's own error list is dropped, not kept till next call. */
function takeErrors(validate: ValidateFunction, maxErrors: number): FieldError[] {
  const errors = toFieldErrors(validate.errors ?? [], maxErrors);
  validate.errors = null;
  return errors;
}

/**
 * One Ajv (draft-07, allErrors, strict) with ajv-formats and the seed date formats, its fast twin, and a
 * first-error twin for very large bodies (ALL_ERRORS_MAX_VALUES).
 */
function createAjvs(): { ajv: Ajv; fastAjv: Ajv; firstAjv: Ajv } {
  const ajv = new Ajv({ allErrors: true, strict: true, strictRequired: false, allowUnionTypes: true });
  // The success path: stop at the first error, and compare string lengths in UTF-16 units instead of
  // counting code points with ajv's ucs2length (which reads every character of every string with a
  // maxLength): 8.4 -> 4.1 µs on a 4 KB MOLISA body. Only used where its "valid" implies the real
  // validator's (see lengthMonotone); any "invalid" is re-checked by the real one, so every error is still
  // reported with the code-point semantics. (`unicode` is deprecated in ajv 8 but honoured; `logger: false`
  // silences the notice.)
  const fastAjv = new Ajv({
    allErrors: false,
    strict: true,
    strictRequired: false,
    allowUnionTypes: true,
    unicode: false,
    logger: false,
  });
  const firstAjv = new Ajv({ allErrors: false, strict: true, strictRequired: false, allowUnionTypes: true });
  for (const a of [ajv, fastAjv, firstAjv]) {
    addFormats.default(a);
    hardenFormats(a);
    a.addFormat('byte', { type: 'string', validate: isBase64 });
    for (const [name, f] of Object.entries(DATE_FORMATS)) a.addFormat(name, { type: 'string', validate: f.test });
  }
  return { ajv, fastAjv, firstAjv };
}

/**
 * Longest string ajv-formats' regular-expression formats (uri, email, hostname...) are run on: longer is
 * invalid. Their backtracking patterns take ~0.7 s and then overflow the stack on a 9 MB string (issue
 * 14.4 found it for `byte`; `uri`, `uri-reference` and `uri-template` do the same), and no URI, address or
 * name a national platform accepts comes near 64 KiB. `byte` has its own linear check (base64.ts).
 */
export const MAX_FORMAT_INPUT = 64 * 1024;

/** Wraps every format ajv-formats registered: strings over MAX_FORMAT_INPUT fail, and a throw fails. */
function hardenFormats(ajv: Ajv): void {
  for (const [name, format] of Object.entries(ajv.formats)) {
    if (format === undefined || format === true || typeof format === 'string') continue;
    const def = format instanceof RegExp || typeof format === 'function' ? { validate: format } : format;
    if (def.async === true || typeof def.validate === 'string') continue;
    const check = def.validate;
    const test = check instanceof RegExp ? (s: string) => check.test(s) : (check as (v: unknown) => boolean);
    const type = 'type' in def ? def.type : 'string';
    const validate = (v: unknown): boolean => {
      if (typeof v === 'string' && v.length > MAX_FORMAT_INPUT) return false;
      try {
        return test(v as string);
      } catch {
        return false; // a RangeError from a regular expression's backtracking is an invalid value, not a 500
      }
    };
    ajv.addFormat(name, { ...def, type, validate } as Parameters<Ajv['addFormat']>[1]);
  }
}

/**
 * True when a body the UTF-16-length validator accepts is certainly accepted by the code-point one. A
 * string's code-point count is at most its UTF-16 length, so `maxLength` passing in UTF-16 passes in code
 * points; `minLength` 0 or 1 means the same in both (non-empty). That carries over to the whole schema as
 * long as no keyword can turn a failing sub-schema into a pass (`not`, `oneOf`, `if`/`then`/`else`), no
 * `minLength` is above 1, and every `$ref` stays in the file. Anything else: no fast validator (false).
 */
export function lengthMonotone(schema: unknown): boolean {
  if (Array.isArray(schema)) return schema.every(lengthMonotone);
  if (typeof schema !== 'object' || schema === null) return true;
  for (const [key, value] of Object.entries(schema)) {
    if (key === 'not' || key === 'oneOf' || key === 'if' || key === 'then' || key === 'else') return false;
    if (key === 'minLength' && !(typeof value === 'number' && value <= 1)) return false;
    if ((key === '$ref' || key === '$dynamicRef' || key === '$recursiveRef') && !String(value).startsWith('#')) {
      return false;
    }
    if (key === '$data') return false;
    if (!lengthMonotone(value)) return false;
  }
  return true;
}

/** Ajv errors -> FieldErrors with Vietnamese messages; `required`/`additionalProperties` point at the key. */
export function toFieldErrors(errors: readonly ErrorObject[], maxErrors = Infinity): FieldError[] {
  // An anyOf whose branches each only miss a field ("send soDinhDanh or SoDinhDanh") reads best as one
  // error naming the alternatives; other anyOf/oneOf/if errors only summarise branch errors already listed.
  const suppressed = new Set<ErrorObject>();
  const combined = new Map<ErrorObject, FieldError>();
  for (const e of errors) {
    if (e.keyword !== 'anyOf' && e.keyword !== 'oneOf' && e.keyword !== 'if') continue;
    // An `if` error summarises the failures of its `then`/`else` sibling, not of anything under `if`.
    const under =
      e.keyword === 'if'
        ? [e.schemaPath.slice(0, -2) + 'then/', e.schemaPath.slice(0, -2) + 'else/']
        : [e.schemaPath + '/'];
    const subs = errors.filter((o) => o !== e && under.some((prefix) => o.schemaPath.startsWith(prefix)));
    if (subs.length === 0) continue;
    if (e.keyword === 'anyOf' && subs.every((o) => o.keyword === 'required' && o.instancePath === e.instancePath)) {
      const names = subs.map(
        (o) => `${e.instancePath}/${escapeKey(String((o.params as { missingProperty: string }).missingProperty))}`,
      );
      combined.set(e, {
        pointer: e.instancePath,
        rule: 'anyOf',
        message: `Cần ít nhất một trong các trường: ${names.join(', ')} (anyOf)`,
        limit: names,
      });
      subs.forEach((o) => suppressed.add(o));
    } else suppressed.add(e);
  }
  const out: FieldError[] = [];
  for (const e of errors) {
    if (out.length >= maxErrors) break;
    if (suppressed.has(e)) continue;
    out.push(combined.get(e) ?? toFieldError(e));
  }
  return out;
}

function escapeKey(k: string): string {
  return k.replace(/~/g, '~0').replace(/\//g, '~1');
}

function toFieldError(e: ErrorObject): FieldError {
  const p = e.params as Record<string, unknown>;
  let pointer = e.instancePath;
  const at = () => (pointer === '' ? 'Dữ liệu gốc' : `Trường ${pointer}`);
  let text: string;
  let limit: unknown;
  switch (e.keyword) {
    case 'required':
      pointer += '/' + escapeKey(String(p.missingProperty));
      return {
        pointer,
        rule: 'required',
        message: `Thiếu trường bắt buộc ${pointer} (required)`,
        limit: p.missingProperty,
      };
    case 'additionalProperties':
      pointer += '/' + escapeKey(String(p.additionalProperty));
      text = `${at()} không có trong đặc tả, không được gửi`;
      limit = false;
      break;
    case 'maxLength':
      text = `${at()} dài quá ${p.limit} ký tự`;
      limit = p.limit;
      break;
    case 'minLength':
      text = Number(p.limit) === 1 ? `${at()} không được để trống` : `${at()} ngắn hơn ${p.limit} ký tự`;
      limit = p.limit;
      break;
    case 'maxItems':
      text = `${at()} có quá ${p.limit} phần tử`;
      limit = p.limit;
      break;
    case 'minItems':
      text = `${at()} phải có ít nhất ${p.limit} phần tử`;
      limit = p.limit;
      break;
    case 'maximum':
    case 'exclusiveMaximum':
    case 'minimum':
    case 'exclusiveMinimum':
      text = `${at()} phải ${p.comparison} ${p.limit}`;
      limit = p.limit;
      break;
    case 'type':
      text = `${at()} phải có kiểu ${p.type}`;
      limit = p.type;
      break;
    case 'pattern':
      text = `${at()} không đúng mẫu ${p.pattern}`;
      limit = p.pattern;
      break;
    case 'format': {
      const label = DATE_FORMATS[String(p.format)]?.label ?? String(p.format);
      text = `${at()} không đúng định dạng ${label}`;
      limit = label;
      break;
    }
    case 'enum':
      text = `${at()} phải là một trong các giá trị: ${(p.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')}`;
      limit = p.allowedValues;
      break;
    case 'const':
      text = `${at()} phải bằng ${JSON.stringify(p.allowedValue)}`;
      limit = p.allowedValue;
      break;
    case 'uniqueItems':
      text = `${at()} có phần tử trùng nhau (vị trí ${p.j} và ${p.i})`;
      break;
    case 'anyOf':
    case 'oneOf':
      text = `${at()} không khớp cấu trúc nào được chấp nhận`;
      break;
    default:
      text = `${at()} không hợp lệ: ${e.message ?? e.keyword}`;
  }
  const message = `${text} (${e.keyword})`;
  return limit === undefined ? { pointer, rule: e.keyword, message } : { pointer, rule: e.keyword, message, limit };
}

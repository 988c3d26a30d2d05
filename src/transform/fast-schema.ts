import { FORBIDDEN_KEYS } from './path.ts';

/**
 * The schema's success path generated at load (issue 19): one function per schema node (and per
 * definition a `$ref` names) that answers true only where ajv accepts the body too, written for the
 * keywords the shipped schemas use. validator.ts asks it first and ajv only when it says false, so every
 * error is still ajv's; where the schema uses anything else (or anything this code has not been proved
 * against), compileFastCheck gives undefined and ajv's own fast validator stays.
 *
 * What it spares over ajv's generated code: `additionalProperties: false` asked once per key through a Set
 * of the names (ajv calls `hasOwnProperty` on the schema's `properties` object per key), and the error
 * bookkeeping of a validator that can report. Strings compare their UTF-16 length with maxLength and
 * minLength (only 0 or 1, validator.ts lengthMonotone): a string within maxLength UTF-16 units is within it
 * in code points. Wherever the check is stricter than ajv (a number that is not finite), false only means
 * "ask ajv".
 *
 * Schema text (property names, enum values) enters the source only as JSON.stringify'd literals; a property
 * named `__proto__`, `constructor` or `prototype` makes the schema unsupported (no generated reads of
 * them). Patterns and formats are values passed in, never source. test/unit/transform/fast-schema.test.ts
 * compares the verdicts with ajv on generated bodies.
 */
export type FastCheck = (body: unknown) => boolean;

/** Keywords that say nothing about the instance. */
const ANNOTATIONS = new Set([
  'title',
  'description',
  '$comment',
  'examples',
  'default',
  'deprecated',
  'readOnly',
  'writeOnly',
]);

class Unsupported extends Error {}

/**
 * The generated success path of `schema`, or undefined when it uses a keyword outside the supported set.
 * `formats`: the string formats by name (validator.ts DATE_FORMATS tests); any other format is unsupported.
 * `flags`: the flags ajv compiles `pattern` with (`u`, ajv's unicodeRegExp default).
 */
export function compileFastCheck(
  schema: unknown,
  formats: Readonly<Record<string, (s: string) => boolean>>,
  flags = 'u',
): FastCheck | undefined {
  const values: unknown[] = [];
  const functions: string[] = [];
  const byRef = new Map<string, string>();

  const value = (v: unknown): string => {
    values.push(v);
    return `k[${values.length - 1}]`;
  };

  /** Compiles `node` into a function declaration; returns its name. */
  const compile = (node: unknown, isRoot: boolean): string => {
    const name = `f${functions.length}`;
    const at = functions.push('') - 1; // the slot is taken first: functions made inside come after it
    functions[at] = `function ${name}(v) {\n${body(node, isRoot)}\nreturn true;\n}`;
    return name;
  };

  const ref = (target: string): string => {
    const known = byRef.get(target);
    if (known !== undefined) return known;
    const m = /^#\/(definitions|\$defs)\/([^/~%]+)$/.exec(target);
    const defs = m && isObject(schema) ? schema[m[1]] : undefined;
    if (!m || !isObject(defs) || !Object.hasOwn(defs, m[2])) throw new Unsupported(target);
    const name = `f${functions.length}`;
    byRef.set(target, name); // before compiling: a definition may refer to itself
    const at = functions.push('') - 1;
    functions[at] = `function ${name}(v) {\n${body(defs[m[2]], false)}\nreturn true;\n}`;
    return name;
  };

  const body = (node: unknown, isRoot: boolean): string => {
    if (node === true) return '';
    if (node === false) return 'return false;';
    if (!isObject(node)) throw new Unsupported('schema');
    const out: string[] = [];
    const strings: string[] = [];
    const numbers: string[] = [];
    const arrays: string[] = [];
    const objects: string[] = [];
    for (const [key, arg] of Object.entries(node)) {
      if (ANNOTATIONS.has(key)) continue;
      switch (key) {
        case '$schema':
        case 'definitions':
        case '$defs':
          if (!isRoot) throw new Unsupported(key);
          break;
        case '$ref':
          if (typeof arg !== 'string' || Object.keys(node).some((k) => k !== '$ref' && !ANNOTATIONS.has(k))) {
            throw new Unsupported(key);
          }
          out.push(`if (!${ref(arg)}(v)) return false;`);
          break;
        case 'type':
          out.push(`if (!(${typeTest(arg)})) return false;`);
          break;
        case 'enum':
          if (!Array.isArray(arg) || arg.length === 0 || !arg.every(isPrimitive)) throw new Unsupported(key);
          out.push(`if (!(${arg.map((c) => `v === ${JSON.stringify(c)}`).join(' || ')})) return false;`);
          break;
        case 'const':
          if (!isPrimitive(arg)) throw new Unsupported(key);
          out.push(`if (v !== ${JSON.stringify(arg)}) return false;`);
          break;
        case 'maxLength':
          strings.push(`if (v.length > ${count(arg)}) return false;`);
          break;
        case 'minLength':
          if (count(arg) > 1) throw new Unsupported(key);
          strings.push(`if (v.length < ${count(arg)}) return false;`);
          break;
        case 'format': {
          const test = typeof arg === 'string' && Object.hasOwn(formats, arg) ? formats[arg] : undefined;
          if (test === undefined) throw new Unsupported(key);
          strings.push(`if (!${value(test)}(v)) return false;`);
          break;
        }
        case 'pattern': {
          if (typeof arg !== 'string') throw new Unsupported(key);
          const test =
            DIGITS[arg] ??
            (
              (re: RegExp) => (s: string) =>
                re.test(s)
            )(new RegExp(arg, flags));
          strings.push(`if (!${value(test)}(v)) return false;`);
          break;
        }
        case 'minimum':
        case 'maximum':
        case 'exclusiveMinimum':
        case 'exclusiveMaximum': {
          if (typeof arg !== 'number' || !Number.isFinite(arg)) throw new Unsupported(key);
          const op = { minimum: '>=', maximum: '<=', exclusiveMinimum: '>', exclusiveMaximum: '<' }[key];
          numbers.push(`if (!(v ${op} ${JSON.stringify(arg)})) return false;`);
          break;
        }
        case 'minItems':
          arrays.push(`if (v.length < ${count(arg)}) return false;`);
          break;
        case 'maxItems':
          arrays.push(`if (v.length > ${count(arg)}) return false;`);
          break;
        case 'items': {
          if (Array.isArray(arg)) throw new Unsupported(key);
          const each = compile(arg, false);
          arrays.push(`for (let i = 0; i < v.length; i++) if (!${each}(v[i])) return false;`);
          break;
        }
        case 'required':
          if (!Array.isArray(arg) || !arg.every((n) => typeof n === 'string' && !FORBIDDEN_KEYS.has(n))) {
            throw new Unsupported(key);
          }
          for (const n of arg) objects.push(`if (v[${JSON.stringify(n)}] === undefined) return false;`);
          break;
        case 'properties':
          if (!isObject(arg)) throw new Unsupported(key);
          for (const [n, sub] of Object.entries(arg)) {
            if (FORBIDDEN_KEYS.has(n)) throw new Unsupported(n);
            const lit = JSON.stringify(n);
            objects.push(`{ const x = v[${lit}]; if (x !== undefined && !${compile(sub, false)}(x)) return false; }`);
          }
          break;
        case 'additionalProperties': {
          if (arg === true) break;
          if (arg !== false) throw new Unsupported(key);
          const props = node.properties;
          if (props !== undefined && !isObject(props)) throw new Unsupported(key);
          if (node.patternProperties !== undefined) throw new Unsupported(key);
          const names = value(new Set(Object.keys(props ?? {})));
          const seen = value([]);
          // A key list met before (for-in order) whose keys were all found in `names` needs no lookups.
          objects.push(`if (!${value(seenBefore)}(v, ${seen})) {
for (const key in v) if (!${names}.has(key)) return false;
if (${seen}.length < ${KEY_LISTS}) ${seen}.push(${value(forInKeys)}(v));
}`);
          break;
        }
        default:
          throw new Unsupported(key);
      }
    }
    if (strings.length > 0) out.push(`if (typeof v === 'string') {\n${strings.join('\n')}\n}`);
    if (numbers.length > 0) out.push(`if (typeof v === 'number') {\n${numbers.join('\n')}\n}`);
    if (arrays.length > 0) out.push(`if (Array.isArray(v)) {\n${arrays.join('\n')}\n}`);
    if (objects.length > 0) {
      out.push(`if (typeof v === 'object' && v !== null && !Array.isArray(v)) {\n${objects.join('\n')}\n}`);
    }
    return out.join('\n');
  };

  let root: string;
  try {
    root = compile(schema, true);
  } catch (err) {
    if (err instanceof Unsupported) return undefined;
    throw err;
  }
  const source = `'use strict';\n${functions.join('\n')}\nreturn ${root};`;
  return new Function('k', source)(values) as FastCheck;
}

/**
 * Key lists a node with `additionalProperties: false` remembers (first met, never replaced): each holds
 * only names of the schema's `properties`, so what is kept is bounded by the schema, not by the bodies.
 */
export const KEY_LISTS = 4;

/** True when a for-in loop over `v` reads exactly one of `lists` (same keys, same order). */
function seenBefore(v: Record<string, unknown>, lists: readonly (readonly string[])[]): boolean {
  outer: for (let l = 0; l < lists.length; l++) {
    const keys = lists[l];
    let i = 0;
    for (const key in v) {
      if (i === keys.length || key !== keys[i]) continue outer;
      i++;
    }
    if (i === keys.length) return true;
  }
  return false;
}

function forInKeys(v: Record<string, unknown>): string[] {
  const keys: string[] = [];
  for (const key in v) keys.push(key);
  return keys;
}

/**
 * Patterns of digit codes (`^[0-9]+$`, the MOLISA id fields) read by char code instead of a `u` regular
 * expression: the same verdict (`$` without the `m` flag is the end of the text), without the call.
 */
const DIGITS: Readonly<Record<string, (s: string) => boolean>> = {
  '^[0-9]+$': (s) => s.length > 0 && allDigits(s),
  '^[0-9]*$': allDigits,
  '^\\d+$': (s) => s.length > 0 && allDigits(s),
  '^\\d*$': allDigits,
};

function allDigits(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x30 || c > 0x39) return false;
  }
  return true;
}

/** The test of one `type` (or a list of them), as ajv reads it, stricter where ajv is lenient. */
function typeTest(type: unknown): string {
  const types = Array.isArray(type) ? type : [type];
  if (types.length === 0) throw new Unsupported('type');
  return types
    .map((t) => {
      switch (t) {
        case 'string':
          return "typeof v === 'string'";
        case 'boolean':
          return "typeof v === 'boolean'";
        case 'null':
          return 'v === null';
        case 'number':
          return "(typeof v === 'number' && Number.isFinite(v))";
        case 'integer':
          return 'Number.isInteger(v)';
        case 'array':
          return 'Array.isArray(v)';
        case 'object':
          return "(typeof v === 'object' && v !== null && !Array.isArray(v))";
        default:
          throw new Unsupported('type');
      }
    })
    .join(' || ');
}

function count(n: unknown): number {
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 0) throw new Unsupported('count');
  return n;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function isPrimitive(v: unknown): boolean {
  return v === null || typeof v === 'string' || typeof v === 'boolean' || (typeof v === 'number' && Number.isFinite(v));
}

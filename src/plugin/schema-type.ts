import type { Type as TypeBox } from 'typebox';

/**
 * The builders of the config's JSON Schemas, written as TypeBox's `Type.*` and producing the very objects
 * TypeBox produces (test/unit/plugin/schema-type.test.ts compares them, hidden `~kind` markers included),
 * without loading TypeBox at run time.
 *
 * Every config shape and plug-in option block is one TypeBox declaration (docs/architecture.md): its
 * JSON Schema is what ajv checks at load, its `Static<>` the type the code reads. The type comes from
 * TypeBox's declarations, erased at compile time (`import type`); the schema is plain data that these
 * few lines write. TypeBox's module graph (373 ES modules: its type engine, parser and compiler) stayed
 * resident in every gateway to build ~500 small objects once at import: 3 MB of the V8 heap and ~4 MB of
 * RSS at rest (docs/benchmarks.md, "Memory at rest"). Only the builders the config uses are here; a new one is added with
 * a case in the test.
 */
type Builders = Pick<
  typeof TypeBox,
  | 'Array'
  | 'Boolean'
  | 'Enum'
  | 'Integer'
  | 'Number'
  | 'Object'
  | 'Optional'
  | 'Record'
  | 'String'
  | 'Union'
  | 'Unknown'
  | 'Unsafe'
>;

type Schema = Record<PropertyKey, unknown>;

/** TypeBox's `Memory.Create`: the schema's keywords, then the options, then the kind as a hidden property. */
function create(kind: string, keywords: Schema, options?: object): Schema {
  const schema: Schema = { ...keywords, ...options };
  return hide(schema, { '~kind': kind });
}

function hide(schema: Schema, hidden: Schema): Schema {
  for (const key of Object.keys(hidden))
    Object.defineProperty(schema, key, { configurable: true, writable: true, enumerable: false, value: hidden[key] });
  return schema;
}

const UNSAFE_KEYS = new Set<PropertyKey>(['__proto__', 'constructor', 'prototype']);

/** TypeBox's `Memory.Update`: a copy (descriptors kept), the hidden markers added, then the new keywords. */
function update(current: Schema, hidden: Schema, keywords: object = {}): Schema {
  const out: Schema = {};
  for (const key of Reflect.ownKeys(current)) {
    if (UNSAFE_KEYS.has(key) || Object.hasOwn(hidden, key) || Object.hasOwn(keywords, key)) continue;
    Object.defineProperty(out, key, Object.getOwnPropertyDescriptor(current, key)!);
  }
  hide(out, hidden);
  for (const [key, value] of Object.entries(keywords)) {
    if (UNSAFE_KEYS.has(key)) continue;
    Object.defineProperty(out, key, { configurable: true, enumerable: true, writable: true, value });
  }
  return out;
}

const isSchema = (value: unknown): value is Schema => typeof value === 'object' && value !== null;

function objectSchema(properties: Schema, options?: object): Schema {
  const required = Object.getOwnPropertyNames(properties).filter((key) => {
    const property = properties[key];
    return !(isSchema(property) && '~optional' in property);
  });
  return create('Object', { type: 'object', ...(required.length > 0 ? { required } : {}), properties }, options);
}

function enumSchema(values: unknown, options?: object): Schema {
  if (!Array.isArray(values)) throw new TypeError('Type.Enum takes a list of values here');
  return create('Enum', { enum: values }, options);
}

function recordSchema(key: unknown, value: unknown, options?: object): Schema {
  // TypeBox writes a string key without its own pattern as the pattern `^.*$`; other keys are not needed.
  if (!isSchema(key) || key['~kind'] !== 'String' || 'pattern' in key)
    throw new TypeError('Type.Record takes a Type.String() key here');
  return update(create('Record', { type: 'object', patternProperties: { '^.*$': value } }), {}, options);
}

export const Type = {
  Array: (items: unknown, options?: object) => create('Array', { type: 'array', items }, options),
  Boolean: (options?: object) => create('Boolean', { type: 'boolean' }, options),
  Enum: enumSchema,
  Integer: (options?: object) => create('Integer', { type: 'integer' }, options),
  Number: (options?: object) => create('Number', { type: 'number' }, options),
  Object: objectSchema,
  Optional: (type: Schema) => update(type, { '~optional': true }),
  Record: recordSchema,
  String: (options?: object) => create('String', { type: 'string' }, options),
  Union: (anyOf: unknown, options?: object) => create('Union', { anyOf }, options),
  Unknown: (options?: object) => create('Unknown', {}, options),
  Unsafe: (schema: Schema) => update(schema, { '~unsafe': null }),
} as unknown as Builders;

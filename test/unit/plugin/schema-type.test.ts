import { readdirSync, readFileSync } from 'node:fs';
import { registerHooks } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { Type as TypeBox } from 'typebox';
import { Type } from '../../../src/plugin/schema-type.ts';

/**
 * src/plugin/schema-type.ts writes the config's JSON Schemas without loading TypeBox. Its output must be
 * TypeBox's, object for object: same keys in the same order (ajv generates its checks in key order), the
 * same hidden markers (`~kind`, `~optional`, `~unsafe`, not enumerable), shared sub-schemas shared alike.
 */

/** Where `a` and `b` differ (a path and a reason), or undefined; functions are not compared. */
function difference(a: unknown, b: unknown, path = '$', seen = new Map<object, object>()): string | undefined {
  if (typeof a === 'function' && typeof b === 'function') return undefined;
  if (typeof a === 'symbol' && typeof b === 'symbol')
    return a.description === b.description ? undefined : `${path}: ${String(a)} vs ${String(b)}`;
  if (typeof a !== 'object' || a === null || typeof b !== 'object' || b === null)
    return Object.is(a, b) ? undefined : `${path}: ${String(a)} vs ${String(b)}`;
  if (seen.has(a)) return seen.get(a) === b ? undefined : `${path}: shared differently`;
  seen.set(a, b);
  if (Object.getPrototypeOf(a) !== Object.getPrototypeOf(b)) return `${path}: another prototype`;
  if (a instanceof RegExp || a instanceof Map || a instanceof Set)
    return String(a) === String(b) &&
      JSON.stringify([...(a as Set<unknown>)]) === JSON.stringify([...(b as Set<unknown>)])
      ? undefined
      : `${path}: ${String(a)} vs ${String(b)}`;
  const keysA = Reflect.ownKeys(a).map(String);
  const keysB = Reflect.ownKeys(b).map(String);
  if (keysA.join('\n') !== keysB.join('\n')) return `${path}: keys [${keysA}] vs [${keysB}]`;
  for (const key of Reflect.ownKeys(a)) {
    const da = Object.getOwnPropertyDescriptor(a, key)!;
    const db = Object.getOwnPropertyDescriptor(b, key)!;
    const at = `${path}.${String(key)}`;
    if (da.enumerable !== db.enumerable || da.writable !== db.writable || da.configurable !== db.configurable)
      return `${at}: another descriptor`;
    const inner = 'value' in da ? difference(da.value, db.value, at, seen) : undefined;
    if (inner) return inner;
  }
  return undefined;
}

/**
 * Every src module that builds schemas, loaded a second time with TypeBox's `Type` in place of the
 * builder: a resolve hook gives each module imported from a `?typebox` module the same query (a second,
 * separate module graph) and sends that graph's src/plugin/schema-type.ts to test/helpers/typebox-type.ts.
 */
const SCHEMA_MODULES = [
  'config/config-schema.ts',
  'config/consumers-schema.ts',
  'config/delivery-store-schema.ts',
  'credentials/index.ts',
  'credentials/common.ts',
  'credentials/token-rejection.ts',
  'credentials/molisa-compat-token.ts',
  'errors/dialects/index.ts',
  'policy/guards/registry.ts',
  'transform/ops/registry.ts',
  'transform/ops/common.ts',
];

let hooked = false;
function hookTypeBoxGraph(): void {
  if (hooked) return;
  hooked = true;
  const builder = new URL('../../../src/plugin/schema-type.ts', import.meta.url).href;
  const stand_in = new URL('../../helpers/typebox-type.ts', import.meta.url).href;
  const src = new URL('../../../src/', import.meta.url).href;
  registerHooks({
    resolve(specifier, context, next) {
      const resolved = next(specifier, context);
      const plain = resolved.url.replace(/\?typebox$/, '');
      const inGraph = context.parentURL?.endsWith('?typebox') || resolved.url !== plain;
      if (!inGraph || !plain.startsWith(src)) return resolved;
      return { ...resolved, url: plain === builder ? stand_in : `${plain}?typebox` };
    },
  });
}

describe('schema builders (src/plugin/schema-type.ts): the JSON Schemas TypeBox writes, without TypeBox', () => {
  it('each builder, with and without options, writes what TypeBox writes', () => {
    const cases: [string, (T: typeof Type) => unknown][] = [
      ['String', (T) => T.String()],
      ['String options', (T) => T.String({ minLength: 1, pattern: '^a$', default: 'a' })],
      ['Integer', (T) => T.Integer({ minimum: 0 })],
      ['Number', (T) => T.Number({ exclusiveMinimum: 0, maximum: 1 })],
      ['Boolean', (T) => T.Boolean({ default: true })],
      ['Unknown', (T) => T.Unknown({ default: { a: 1 } })],
      ['Array', (T) => T.Array(T.String(), { minItems: 1, uniqueItems: true })],
      ['Enum', (T) => T.Enum(['a', 'b'], { default: 'a' })],
      ['Union', (T) => T.Union([T.String(), T.Array(T.String())])],
      ['Unsafe', (T) => T.Unsafe<string>({ type: ['string', 'number'], description: 'x' })],
      ['Optional', (T) => T.Optional(T.Enum(['a']))],
      ['Optional of Unsafe', (T) => T.Optional(T.Unsafe<unknown>({ anyOf: [{ type: 'string' }] }))],
      ['Record', (T) => T.Record(T.String(), T.Unknown())],
      ['Record options', (T) => T.Record(T.String(), T.Integer(), { minProperties: 1 })],
      [
        'Object',
        (T) =>
          T.Object(
            { a: T.String(), b: T.Optional(T.Integer()), c: T.Object({ d: T.Optional(T.Boolean()) }) },
            { additionalProperties: false, default: {} },
          ),
      ],
      ['Object, all optional', (T) => T.Object({ a: T.Optional(T.String()) })],
      ['Object, empty', (T) => T.Object({})],
    ];
    for (const [name, build] of cases) {
      const ours = build(Type);
      const theirs = build(TypeBox as unknown as typeof Type);
      expect(difference(ours, theirs), name).to.equal(undefined);
      expect(JSON.stringify(ours), name).to.equal(JSON.stringify(theirs));
    }
  });

  it('the comparison sees a hidden marker missing, a key out of order and a schema shared differently', () => {
    expect(difference(Type.Optional(Type.String()), Type.String())).to.match(/keys/);
    expect(difference({ a: 1, b: 2 }, { b: 2, a: 1 })).to.match(/keys/);
    const shared = { type: 'string' };
    expect(difference({ a: shared, b: shared }, { a: { type: 'string' }, b: { type: 'string' } })).to.match(/shared/);
    const hidden = Type.String();
    Object.defineProperty(hidden, 'x', { value: 1, enumerable: false, writable: true, configurable: true });
    const shown = Type.String() as unknown as Record<string, unknown>;
    shown.x = 1;
    expect(difference(hidden, shown)).to.match(/descriptor|keys/);
  });

  it("every schema the gateway builds (config, consumers, plug-in options) is TypeBox's, built by TypeBox's Type", async () => {
    hookTypeBoxGraph();
    for (const module of SCHEMA_MODULES) {
      const url = new URL(`../../../src/${module}`, import.meta.url).href;
      const ours = (await import(url)) as Record<string, unknown>;
      const theirs = (await import(`${url}?typebox`)) as Record<string, unknown>;
      expect(Object.keys(ours), module).to.deep.equal(Object.keys(theirs));
      expect(Object.keys(ours).length, module).to.be.greaterThan(0);
      for (const name of Object.keys(ours))
        expect(difference(ours[name], theirs[name]), `${module}: ${name}`).to.equal(undefined);
    }
  });

  it('the second module graph really is built by TypeBox (its builder is not this one)', async () => {
    hookTypeBoxGraph();
    const url = new URL('../../../src/plugin/schema-type.ts', import.meta.url).href;
    const module = (await import(`${url}?typebox`)) as { Type: unknown };
    expect(module.Type).to.equal(TypeBox);
  });

  it('no file of src/ loads TypeBox at run time: its imports of typebox are type imports, erased at compile time', () => {
    const src = fileURLToPath(new URL('../../../src/', import.meta.url));
    const valueImports: string[] = [];
    for (const entry of readdirSync(src, { recursive: true, withFileTypes: true })) {
      if (!entry.isFile() || !entry.name.endsWith('.ts')) continue;
      const text = readFileSync(path.join(entry.parentPath, entry.name), 'utf8');
      for (const m of text.matchAll(/^(import|export)(\s+type)?\b[^;]*?from\s+'typebox(\/[^']*)?'/gm))
        if (!m[2]) valueImports.push(`${path.relative(src, path.join(entry.parentPath, entry.name))}: ${m[0]}`);
      if (/import\(\s*'typebox/.test(text)) valueImports.push(`${entry.name}: import('typebox')`);
    }
    expect(valueImports).to.deep.equal([]);
  });

  it('refuses the builder forms TypeBox knows and this builder does not write (an enum object, a patterned key)', () => {
    expect(() => Type.Enum({ A: 'a' } as never)).to.throw(TypeError);
    expect(() => Type.Record(Type.String({ pattern: '^x' }), Type.Unknown())).to.throw(TypeError);
    expect(() => Type.Record(Type.Integer() as never, Type.Unknown())).to.throw(TypeError);
  });
});

import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'chai';
import fc from 'fast-check';
import { Ajv, type ValidateFunction } from 'ajv';
import { compileFastCheck } from '../../../src/transform/fast-schema.ts';
import { DATE_FORMATS, lengthMonotone } from '../../../src/transform/validator.ts';
import { SCHEMAS } from './helpers.ts';

/**
 * The schema's generated success path (src/transform/fast-schema.ts, issue 19) must never say yes where ajv
 * says no (validator.ts asks ajv on every no, so a no costs time, never a verdict), and on the shipped
 * schemas it gives ajv's first-error verdict exactly, so the fast path stays fast. Bodies are generated from
 * each schema (valid ones, and values broken at random depth: wrong types, lengths around the limits in
 * UTF-16 units and code points, broken dates, extra and missing keys).
 */
const tests = Object.fromEntries(Object.entries(DATE_FORMATS).map(([n, f]) => [n, f.test]));

function ajvs(schema: object): { full: ValidateFunction; first: ValidateFunction } {
  const make = (o: object) => {
    const a = new Ajv({ strict: true, strictRequired: false, allowUnionTypes: true, logger: false, ...o });
    for (const [name, f] of Object.entries(DATE_FORMATS)) a.addFormat(name, { type: 'string', validate: f.test });
    return a.compile(schema);
  };
  return { full: make({ allErrors: true }), first: make({ allErrors: false, unicode: false }) };
}

const junk = fc.oneof(
  fc.constantFrom(null, true, 0, -1, 1.5, '', ' ', '😀', [], {}, '1', 'NA', [1], { a: 1 }),
  fc.string({ maxLength: 4 }),
  fc.integer(),
);
const pad2 = (n: number) => String(n).padStart(2, '0');
const dateParts = fc.tuple(
  fc.integer({ min: 0, max: 10000 }),
  fc.integer({ min: 0, max: 13 }),
  fc.integer({ min: 0, max: 32 }),
  fc.integer({ min: 0, max: 60 }),
);
const dateText = (format: string) =>
  dateParts.map(([y, mo, d, t]) => {
    const yyyy = String(y).padStart(4, '0');
    const time = [pad2(t % 25), pad2(t), pad2(59 - (t % 60))];
    switch (format) {
      case 'date-dmy':
        return `${pad2(d)}/${pad2(mo)}/${yyyy}`;
      case 'datetime-dmy':
        return `${pad2(d)}/${pad2(mo)}/${yyyy} ${time.join(':')}`;
      case 'date-compact':
        return `${yyyy}${pad2(mo)}${pad2(d)}`;
      default:
        return `${yyyy}${pad2(mo)}${pad2(d)}${time.join('')}`;
    }
  });

const validDate = (format: string) =>
  fc
    .tuple(fc.integer({ min: 1, max: 9999 }), fc.integer({ min: 1, max: 12 }), fc.integer({ min: 1, max: 28 }))
    .chain(([y, mo, d]) =>
      dateText(format).map((t) => t.replace(/^\d+\/\d+\/\d+/, `${pad2(d)}/${pad2(mo)}/${String(y).padStart(4, '0')}`)),
    )
    .filter((t) => DATE_FORMATS[format].test(t));

type Schema = Record<string, unknown>;

/**
 * Values for `schema` (under `root` for $ref): with `valid`, values the schema accepts (as far as this
 * knows); otherwise mostly valid-looking, broken now and then at any depth.
 */
function fromSchema(schema: unknown, root: Schema, depth = 0, valid = false): fc.Arbitrary<unknown> {
  if (typeof schema !== 'object' || schema === null || depth > 6) return valid ? fc.constant(1) : junk;
  const s = schema as Schema;
  if (typeof s.$ref === 'string') {
    const [, group, name] = /^#\/(definitions|\$defs)\/(.+)$/.exec(s.$ref)!;
    return fromSchema((root[group] as Schema)[name], root, depth + 1, valid);
  }
  const good: fc.Arbitrary<unknown>[] = [];
  if (Array.isArray(s.enum)) good.push(fc.constantFrom(...(s.enum as unknown[])));
  if (s.const !== undefined) good.push(fc.constant(s.const));
  const types = Array.isArray(s.type) ? s.type : s.type === undefined ? [] : [s.type];
  for (const t of types) {
    switch (t) {
      case 'string': {
        const max = typeof s.maxLength === 'number' ? s.maxLength : 12;
        const min = typeof s.minLength === 'number' ? s.minLength : 0;
        const text = valid
          ? typeof s.format === 'string' && s.format in DATE_FORMATS
            ? validDate(s.format)
            : typeof s.pattern === 'string'
              ? fc.stringMatching(new RegExp(s.pattern)).filter((x) => x.length <= max)
              : fc.string({ minLength: min, maxLength: max })
          : typeof s.format === 'string' && s.format in DATE_FORMATS
            ? dateText(s.format)
            : typeof s.pattern === 'string'
              ? fc.oneof(fc.stringMatching(/^[0-9]{0,6}$/), fc.stringMatching(new RegExp(s.pattern as string)))
              : fc.oneof(
                  fc.string({ minLength: Math.max(0, max - 2), maxLength: max + 1 }),
                  fc.string({ unit: 'grapheme', minLength: Math.max(0, max - 2), maxLength: max + 1 }),
                  fc.string({ maxLength: 3 }),
                );
        good.push(text);
        break;
      }
      case 'integer':
        good.push(fc.integer({ min: -5, max: 1_000_000 }));
        if (!valid) good.push(fc.constantFrom(0, 1, 2.5));
        break;
      case 'number':
        good.push(fc.double({ noNaN: true, noDefaultInfinity: true }));
        break;
      case 'boolean':
        good.push(fc.boolean());
        break;
      case 'null':
        good.push(fc.constant(null));
        break;
      case 'array': {
        const min = typeof s.minItems === 'number' ? s.minItems : 0;
        const max = Math.min(typeof s.maxItems === 'number' ? s.maxItems + 1 : 4, 4);
        const items = fromSchema(s.items, root, depth + 1, valid);
        good.push(
          fc.array(
            items,
            valid
              ? { minLength: min, maxLength: Math.max(min, max - 1) }
              : { minLength: Math.max(0, min - 1), maxLength: max },
          ),
        );
        break;
      }
      case 'object': {
        const props = (s.properties ?? {}) as Record<string, unknown>;
        const required = (s.required ?? []) as string[];
        const entries = Object.keys(props).map((k) =>
          fc.tuple(fc.constant(k), fromSchema(props[k], root, depth + 1, valid)),
        );
        if (valid) {
          const must = entries.filter((_, i) => required.includes(Object.keys(props)[i]));
          const may = entries.filter((_, i) => !required.includes(Object.keys(props)[i]));
          good.push(
            fc
              .subarray(may)
              .chain((some) => fc.tuple(...must, ...some))
              .map((kv) => Object.fromEntries(kv as [string, unknown][])),
          );
          break;
        }
        good.push(
          fc
            .tuple(
              fc.subarray(entries.length > 0 ? entries : [fc.tuple(fc.constant('x'), junk)]),
              fc.constantFrom(...(entries.length > 0 ? entries : [fc.tuple(fc.constant('x'), junk)])),
              fc.array(fc.tuple(fc.constantFrom('extra', 'toString', required[0] ?? 'r'), junk), { maxLength: 1 }),
              fc.boolean(),
            )
            .chain(([some, one, extra, all]) =>
              fc.tuple(...(all ? entries : [...some, one]), ...extra.map((e) => fc.constant(e))),
            )
            .map((kv) => Object.fromEntries(kv as [string, unknown][])),
        );
        break;
      }
    }
  }
  if (good.length === 0) good.push(valid ? fc.constant(1) : junk);
  if (valid) return fc.oneof(...good);
  return fc.oneof({ arbitrary: fc.oneof(...good), weight: 12 }, { arbitrary: junk, weight: 1 });
}

function shippedSchemas(): { file: string; schema: Schema }[] {
  const out: { file: string; schema: Schema }[] = [];
  for (const dir of readdirSync(SCHEMAS)) {
    for (const f of readdirSync(join(SCHEMAS, dir)).filter((x) => x.endsWith('.json'))) {
      out.push({ file: `${dir}/${f}`, schema: JSON.parse(readFileSync(join(SCHEMAS, dir, f), 'utf8')) as Schema });
    }
  }
  return out;
}

describe('generated schema success path (fast-schema.ts)', () => {
  const shipped = shippedSchemas();

  it('covers the MOLISA, VNeID and civil-status schemas the full pipeline uses', () => {
    const generated = shipped.filter((s) => compileFastCheck(s.schema, tests) !== undefined).map((s) => s.file);
    expect(generated).to.include.members([
      'molisa/DongBoDVC.json',
      'molisa/XuLyHoSo.json',
      'vneid/userinfo.response.json',
    ]);
  });

  for (const { file, schema } of shipped) {
    const check = lengthMonotone(schema) ? compileFastCheck(schema, tests) : undefined;
    if (check === undefined) continue;
    it(`${file}: yes only where ajv says yes, and ajv's first-error verdict exactly`, () => {
      const { full, first } = ajvs(schema);
      let yes = 0;
      fc.assert(
        fc.property(fc.oneof(fromSchema(schema, schema), fromSchema(schema, schema, 0, true)), (body) => {
          const verdict = check(body);
          if (verdict) {
            yes++;
            expect(full(body), 'ajv (allErrors, code points) accepts').to.equal(true);
          }
          expect(verdict, 'same as ajv first-error, UTF-16').to.equal(first(body));
        }),
        { numRuns: 1500 },
      );
      expect(yes, 'some generated bodies are valid').to.be.greaterThan(0);
    });
  }

  it('schema text cannot become code: hostile property names and enum values', () => {
    const names = ['a"b', "a'b", '\\', '${x}', '`', '*/', 'ls\u2028ps\u2029', '"); __pwnedBySchema = 1; ("'];
    const schema = {
      type: 'object',
      additionalProperties: false,
      required: names.slice(0, 3),
      properties: Object.fromEntries(
        names.map((n) => [n, { type: 'string', enum: [...new Set([n, 'x', '"); __pwnedBySchema = 1; ("'])] }]),
      ),
    };
    (globalThis as Record<string, unknown>).__pwnedBySchema = undefined;
    try {
      const check = compileFastCheck(schema, tests)!;
      const { first } = ajvs(schema);
      fc.assert(
        fc.property(fromSchema(schema, schema), (body) => {
          expect(check(body)).to.equal(first(body));
        }),
        { numRuns: 1000 },
      );
      expect(check(Object.fromEntries(names.map((n) => [n, n])))).to.equal(true);
      expect((globalThis as Record<string, unknown>).__pwnedBySchema).to.equal(undefined);
    } finally {
      delete (globalThis as Record<string, unknown>).__pwnedBySchema;
    }
  });

  it('anything outside the supported keywords, or a forbidden name, keeps ajv', () => {
    for (const schema of [
      JSON.parse('{"type":"object","properties":{"__proto__":{"type":"string"}}}'),
      { type: 'object', required: ['constructor'] },
      { type: 'string', format: 'email' },
      { type: 'object', additionalProperties: { type: 'string' } },
      { type: 'object', patternProperties: { '^a': {} }, additionalProperties: false },
      { anyOf: [{ type: 'string' }] },
      { type: 'array', items: [{ type: 'string' }] },
      { type: 'string', minLength: 2 },
      { enum: [{ a: 1 }] },
      { $ref: 'other.json#/x' },
      { $ref: '#/definitions/a', type: 'string', definitions: { a: {} } },
      { properties: { a: { $id: 'x' } } },
    ]) {
      expect(compileFastCheck(schema, tests), JSON.stringify(schema)).to.equal(undefined);
    }
  });

  it('key lists met before spare the lookups, and an unknown key is still refused after them', () => {
    const schema = {
      type: 'array',
      items: { type: 'object', additionalProperties: false, properties: { a: {}, b: {} } },
    };
    const check = compileFastCheck(schema, tests)!;
    const shapes = [{ a: 1 }, { b: 1 }, { a: 1, b: 1 }, { b: 1, a: 1 }, {}];
    expect(check(shapes)).to.equal(true);
    expect(check([...shapes, { a: 1, c: 1 }])).to.equal(false);
    expect(check([{ a: 1, b: 1, c: 1 }])).to.equal(false);
    expect(check([{ c: 1 }])).to.equal(false);
  });

  it('digit patterns read by char code give what the regular expression gives', () => {
    for (const pattern of ['^[0-9]+$', '^[0-9]*$', '^\\d+$', '^\\d*$']) {
      const check = compileFastCheck({ type: 'string', pattern }, tests)!;
      const re = new RegExp(pattern, 'u');
      fc.assert(
        fc.property(fc.oneof(fc.stringMatching(/^[0-9]{0,4}\n?$/), fc.string({ maxLength: 4 })), (s) => {
          expect(check(s), `${pattern} ${JSON.stringify(s)}`).to.equal(re.test(s));
        }),
        { numRuns: 2000 },
      );
      for (const s of ['', '1', '12\n', '١٢', '０', '1a'])
        expect(check(s), `${pattern} ${JSON.stringify(s)}`).to.equal(re.test(s));
    }
  });
});

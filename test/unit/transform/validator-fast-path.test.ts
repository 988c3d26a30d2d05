import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import fc from 'fast-check';
import { Ajv } from 'ajv';
import { createValidatorFactory } from '../../../src/transform/index.ts';
import { lengthMonotone } from '../../../src/transform/validator.ts';
import { SCHEMAS } from './helpers.ts';

/**
 * validator.ts answers "valid" from a first-error, UTF-16-length validator when the schema allows it, and
 * asks the full (allErrors, code-point length) validator otherwise. Results must be those of the full one.
 */
describe('validator: fast success path', () => {
  let dir: string;
  const write = (name: string, schema: unknown) => writeFileSync(join(dir, name), JSON.stringify(schema));
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'schemas-'));
    write('max.json', {
      type: 'object',
      properties: { s: { type: 'string', maxLength: 3, minLength: 1 }, n: { type: 'integer' } },
      required: ['s'],
    });
    write('min2.json', { type: 'string', minLength: 2 });
    write('not.json', { not: { type: 'string', maxLength: 2 } });
    write('oneof.json', {
      oneOf: [
        { type: 'string', maxLength: 2 },
        { type: 'string', pattern: '^😀' },
      ],
    });
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('shipped schemas all qualify; not / oneOf / if / minLength > 1 / outside $ref do not', () => {
    for (const f of ['molisa/DongBoDVC.json', 'hotich/push.json', 'vneid/userinfo.response.json']) {
      expect(lengthMonotone(readJson(join(SCHEMAS, f)))).to.equal(true);
    }
    expect(lengthMonotone({ not: {} })).to.equal(false);
    expect(lengthMonotone({ properties: { a: { oneOf: [{}] } } })).to.equal(false);
    expect(lengthMonotone({ if: {}, then: {} })).to.equal(false);
    expect(lengthMonotone({ items: [{ minLength: 2 }] })).to.equal(false);
    expect(lengthMonotone({ $ref: 'other.json#/x' })).to.equal(false);
    expect(lengthMonotone({ $ref: '#/definitions/x', minLength: 1, maxLength: 9 })).to.equal(true);
  });

  it('counts characters, not UTF-16 units: astral characters within maxLength pass', () => {
    const v = createValidatorFactory(dir).compile('max.json', ['r']);
    expect(v({ s: '😀😀😀' })).to.deep.equal([]); // 6 UTF-16 units, 3 characters
    expect(v({ s: '😀😀😀😀' }).map((e) => e.rule)).to.deep.equal(['maxLength']);
    expect(v({ s: 'Việt' }).map((e) => e.rule)).to.deep.equal(['maxLength']);
  });

  it('still reports every error when the body fails', () => {
    const v = createValidatorFactory(dir).compile('max.json', ['r']);
    expect(v({ s: 'abcd', n: 1.5, extra: 1 }).map((e) => `${e.pointer} ${e.rule}`)).to.deep.equal([
      '/s maxLength',
      '/n type',
    ]);
    expect(v({ n: 'x' }).map((e) => `${e.pointer} ${e.rule}`)).to.deep.equal(['/s required', '/n type']);
  });

  it('schemas where UTF-16 lengths could wrongly pass keep the full validator', () => {
    const f = createValidatorFactory(dir);
    expect(
      f
        .compile('min2.json', ['r'])('😀')
        .map((e) => e.rule),
    ).to.deep.equal(['minLength']);
    expect(f.compile('not.json', ['r'])('😀😀')).to.have.length(1); // 2 characters: maxLength 2 holds
    expect(f.compile('oneof.json', ['r'])('😀😀')).to.have.length(1); // both branches hold
  });

  it('agrees with a plain allErrors Ajv on random strings and records', () => {
    const f = createValidatorFactory(dir);
    const ours = f.compile('max.json', ['r']);
    const ajv = new Ajv({ allErrors: true, strict: true, strictRequired: false });
    const ref = ajv.compile(readJson(join(dir, 'max.json')) as object);
    const str = fc.string({ unit: 'binary', maxLength: 8 });
    fc.assert(
      fc.property(
        fc.record({ s: fc.oneof(str, fc.integer()), n: fc.oneof(fc.integer(), fc.double()) }, { requiredKeys: [] }),
        (body) => {
          expect(ours(body).length === 0).to.equal(ref(body));
        },
      ),
      { numRuns: 500 },
    );
  });
});

function readJson(file: string): unknown {
  return JSON.parse(readFileSync(file, 'utf8'));
}

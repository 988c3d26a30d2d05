import { expect } from 'chai';
import fc from 'fast-check';
import { numberAtRisk } from '../../../src/transform/json-guard.ts';
import { carriesExactly, findInexactNumber, numericView } from '../../../src/transform/exact-numbers.ts';
import { compileMapping, createMappingDeps, loadCatalogs, parseJsonText } from '../../../src/transform/index.ts';
import { CATALOGS } from './helpers.ts';

/** A JSON number literal as an exact rational m x 10^e (BigInt), the reference for "same number". */
function rational(literal: string): { m: bigint; e: number } {
  const r = /^(-?)(\d+)(?:\.(\d+))?(?:[eE]([+-]?\d+))?$/.exec(literal);
  if (!r) throw new Error(`not a number literal: ${literal}`);
  const frac = r[3] ?? '';
  const m = BigInt(r[2] + frac) * (r[1] === '-' ? -1n : 1n);
  return { m, e: Number(r[4] ?? 0) - frac.length };
}

function sameNumber(a: string, b: string): boolean {
  const x = rational(a);
  const y = rational(b);
  if (x.m === 0n || y.m === 0n) return x.m === y.m;
  const e = Math.min(x.e, y.e);
  return x.m * 10n ** BigInt(x.e - e) === y.m * 10n ** BigInt(y.e - e);
}

/** What JSON.stringify writes for a double, as a literal the reference reads (null for non-finite). */
const written = (v: number) => (Number.isFinite(v) ? String(v).replace('e+', 'e') : 'null');

const literal = fc
  .tuple(
    fc.boolean(),
    fc.oneof(fc.constant('0'), fc.stringMatching(/^[1-9][0-9]{0,24}$/)),
    fc.option(fc.stringMatching(/^[0-9]{1,25}$/), { nil: undefined }),
    fc.option(fc.integer({ min: -420, max: 420 }), { nil: undefined }),
  )
  .map(
    ([neg, int, frac, exp]) => `${neg ? '-' : ''}${int}${frac ? `.${frac}` : ''}${exp === undefined ? '' : `e${exp}`}`,
  );

describe('exact numbers (issue 14.6)', () => {
  it('carriesExactly agrees with a BigInt reference on any literal', () => {
    fc.assert(
      fc.property(literal, (lit) => {
        const v = Number(lit);
        const expected = Number.isFinite(v) && sameNumber(lit, written(v));
        expect(carriesExactly(lit, v), lit).to.equal(expected);
      }),
      { numRuns: 5000 },
    );
  });

  it('the byte rule is sound: a literal it lets through is carried exactly by a double', () => {
    fc.assert(
      fc.property(literal, (lit) => {
        if (!numberAtRisk(lit, 0, lit.length)) expect(carriesExactly(lit, Number(lit)), lit).to.equal(true);
      }),
      { numRuns: 5000 },
    );
  });

  it('parse + stringify gives back the same number for every literal, as text where a double cannot', () => {
    fc.assert(
      fc.property(literal, (lit) => {
        const r = parseJsonText(`{"a":[${lit}],"b":${lit}}`, { maxDepth: 8 });
        expect(r.ok).to.equal(true);
        const out = JSON.parse(JSON.stringify((r as { value: unknown }).value), (_k, v, ctx?: { source?: string }) =>
          typeof v === 'number' ? ctx!.source : v,
        ) as { a: string[]; b: string };
        expect(sameNumber(out.a[0], lit), `${lit} -> ${out.a[0]}`).to.equal(true);
        expect(sameNumber(out.b, lit), `${lit} -> ${out.b}`).to.equal(true);
      }),
      { numRuns: 3000 },
    );
  });

  it('carries 1e400, big integers and long decimals as written; keeps plain numbers as doubles', () => {
    const text = '{"inf":1e400,"big":12345678901234567890,"dec":0.1234567890123456789,"n":1.50,"s":"1e400"}';
    const r = parseJsonText(text, { maxDepth: 8 });
    expect(r.ok && r.rawNumbers).to.equal(true);
    const value = (r as { value: Record<string, unknown> }).value;
    expect(value.n).to.equal(1.5);
    expect(JSON.stringify(value)).to.equal(
      '{"inf":1e400,"big":12345678901234567890,"dec":0.1234567890123456789,"n":1.5,"s":"1e400"}',
    );
    expect(numericView(value)).to.deep.equal({
      inf: Number.MAX_VALUE,
      big: Number('12345678901234567890'),
      dec: Number('0.1234567890123456789'),
      n: 1.5,
      s: '1e400',
    });
    expect(findInexactNumber('{"a":1.0000000000000000,"b":9007199254740992}')).to.equal(undefined);
    expect(findInexactNumber('{"a":"9007199254740993","b":9007199254740993}')).to.deep.equal({
      literal: '9007199254740993',
      position: 28,
    });
  });

  it('a raw number at the depth limit does not count as one more level', () => {
    expect(parseJsonText('[[12345678901234567890]]', { maxDepth: 2 }).ok).to.equal(true);
  });

  it('mapping ops treat a raw number as a value, never as a record', () => {
    const map = compileMapping(
      [
        { op: 'allowOnly', at: '[].x', fields: ['keep'], action: 'drop' },
        { op: 'rename', at: '[].x', fields: { rawJSON: 'renamed' } },
        { op: 'default', at: '[].x', values: { added: 1 } },
      ],
      createMappingDeps(loadCatalogs(CATALOGS)),
      ['t'],
    );
    const r = parseJsonText('[{"x":12345678901234567890},{"x":{"keep":1e400,"drop":1}}]', { maxDepth: 8 });
    const out = map((r as { value: unknown }).value);
    expect(out.errors).to.deep.equal([]);
    expect(JSON.stringify(out.body)).to.equal('[{"x":12345678901234567890},{"x":{"keep":1e400,"added":1}}]');
  });
});

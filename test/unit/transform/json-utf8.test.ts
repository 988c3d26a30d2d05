import { expect } from 'chai';
import fc from 'fast-check';
import { jsonUtf8 } from '../../../src/transform/json-utf8.ts';

/**
 * jsonUtf8 must give, byte for byte, what `Buffer.from(JSON.stringify(value))` gives (the send stage's
 * bytes before, and the upstream's Content-Length), or throw what it throws. Strings are drawn from every
 * kind of code unit that JSON.stringify treats differently: ASCII, the escapes, other control characters,
 * DEL, 2- and 3-byte UTF-8, U+2028/U+2029, surrogate pairs and lone surrogates of both halves.
 */
const reference = (v: unknown): Buffer => Buffer.from(JSON.stringify(v));

const codeUnit = fc.oneof(
  fc.integer({ min: 0x20, max: 0x7e }),
  fc.constantFrom(0x22, 0x5c, 0x2f, 0x08, 0x09, 0x0a, 0x0c, 0x0d, 0x7f, 0x2028, 0x2029, 0xfeff, 0xfffd),
  fc.integer({ min: 0, max: 0x1f }),
  fc.integer({ min: 0x80, max: 0x7ff }),
  fc.integer({ min: 0x800, max: 0xffff }), // lone and paired surrogates included
  fc.integer({ min: 0xd800, max: 0xdfff }),
);
const text = fc.array(codeUnit, { maxLength: 40 }).map((units) => String.fromCharCode(...units));
const pairs = fc
  .array(fc.integer({ min: 0x10000, max: 0x10ffff }), { maxLength: 4 })
  .map((cps) => String.fromCodePoint(...cps));
const str = fc.oneof(text, pairs, fc.string(), fc.constantFrom('Nguyễn Văn An', 'Tổ dân phố Đại Cát 3', ''));
const num = fc.oneof(
  fc.integer(),
  fc.integer({ min: 0, max: 2 ** 31 }),
  fc.double(),
  fc.constantFrom(0, -0, 1e21, 1e-7, 5e-324, Number.MAX_VALUE, 2 ** 30, 2 ** 30 - 1, 2 ** 53, NaN, Infinity, -Infinity),
);
const raw = fc
  .constantFrom('12345678901234567890', '1e400', '-0.12345678901234567891', '9007199254740993')
  .map((s) => (JSON as unknown as { rawJSON(t: string): unknown }).rawJSON(s));
const leaf = fc.oneof(str, num, fc.boolean(), fc.constant(null), raw);
const { value } = fc.letrec((tie) => ({
  value: fc.oneof({ depthSize: 'small' }, leaf, tie('array'), tie('object'), tie('nullProto')),
  array: fc.array(fc.oneof(tie('value'), fc.constant(undefined)), { maxLength: 6 }),
  object: fc.dictionary(str, fc.oneof(tie('value'), fc.constant(undefined)), { maxKeys: 6 }),
  nullProto: fc
    .dictionary(str, tie('value'), { maxKeys: 4 })
    .map((o) => Object.assign(Object.create(null) as object, o)),
}));

function same(v: unknown): void {
  expect(jsonUtf8(v).equals(reference(v)), JSON.stringify(v)).to.equal(true);
}

describe('jsonUtf8: JSON.stringify written straight as UTF-8 bytes', () => {
  it('gives the bytes of Buffer.from(JSON.stringify(v)) for generated values', () => {
    fc.assert(
      fc.property(value, (v) => same(v)),
      { numRuns: 3000 },
    );
  });

  it('every code unit, alone and next to each kind of neighbour, as JSON.stringify escapes it', () => {
    for (let c = 0; c <= 0xffff; c++) {
      const ch = String.fromCharCode(c);
      same(ch);
      same({ [ch]: `a${ch}\ud800` });
    }
    same('\ud83d\ude00\ude00\ud83d'); // a pair, then a low and a high surrogate alone
    same('\ud83d'); // a high surrogate at the very end
  });

  it('skips undefined, functions and symbols in objects, writes null for them in arrays and for holes', () => {
    // eslint-disable-next-line no-sparse-arrays
    same({ a: undefined, b: () => 1, c: Symbol('x'), d: [undefined, () => 1, Symbol('y'), , 1], e: 1 });
    same([undefined]);
    same({});
    same([]);
  });

  it('numbers are written as JSON.stringify writes them (integers, -0, exponents, non-finite)', () => {
    for (const n of [
      0,
      -0,
      7,
      10,
      99,
      100,
      2 ** 30 - 1,
      2 ** 30,
      2 ** 31,
      -1,
      0.1,
      1e21,
      1e-7,
      123.456,
      NaN,
      -Infinity,
    ]) {
      same(n);
      same([n]);
    }
  });

  it('anything but plain data goes to JSON.stringify: the same bytes, or the same error', () => {
    class Row {
      a = 1;
    }
    same({ when: new Date(0), row: new Row(), map: new Map([[1, 2]]), boxed: [new String('x'), new Number(2)] });
    same({ a: { toJSON: () => 'replaced' } });
    same({ toJSON: 'not a function' });
    same(Object.assign([1, 2], { toJSON: () => 'array replaced' }));
    expect(() => jsonUtf8({ a: 1n })).to.throw(TypeError);
    const cycle: Record<string, unknown> = { a: 1 };
    cycle.self = { back: cycle };
    expect(() => jsonUtf8(cycle)).to.throw(TypeError);
    expect(() => jsonUtf8(undefined)).to.throw(TypeError); // JSON.stringify gives undefined
    expect(() => jsonUtf8(() => 1)).to.throw(TypeError);
  });

  it('an inherited enumerable property is not written (only own keys, as Object.keys)', () => {
    const proto = { inherited: 1 };
    same(Object.assign(Object.create(proto) as object, { own: 2 })); // not Object.prototype: JSON.stringify
    (Object.prototype as Record<string, unknown>).polluted = 'yes';
    try {
      same({ own: 1 });
    } finally {
      delete (Object.prototype as Record<string, unknown>).polluted;
    }
    same({ 2: 'b', 1: 'a', z: 1, y: 2 }); // integer keys first, then insertion order
    same(JSON.parse('{"a":1,"__proto__":{"x":[1]},"b":2}')); // an own __proto__ (JSON.parse makes one)
  });

  it('nesting deeper than its own limit is left to JSON.stringify (same bytes)', () => {
    let deep: unknown = 'x';
    for (let i = 0; i < 3000; i++) deep = i % 2 ? [deep] : { k: deep };
    same(deep);
  });

  it('bodies handed out earlier are not overwritten by later ones, across slabs and large bodies', () => {
    const kept: [Buffer, Buffer][] = [];
    const big = 'Đ'.repeat(50_000);
    for (let i = 0; i < 300; i++) {
      const v = i % 37 === 0 ? { big, i } : { name: `Nguyễn ${i}`, pad: 'x'.repeat((i * 97) % 3000), i };
      kept.push([jsonUtf8(v), reference(v)]);
    }
    same({ huge: 'ấ'.repeat(400_000) }); // larger than a slab several times over
    for (const [got, want] of kept) expect(got.equals(want)).to.equal(true);
  });

  it('a getter that serialises another value meanwhile gets its own bytes, and the outer body stays whole', () => {
    const inner = { name: 'Trần Thị Bình' };
    let innerBytes: Buffer | undefined;
    const outer = {
      before: 'x'.repeat(50),
      get during() {
        innerBytes = jsonUtf8(inner);
        return 'Đại Cát';
      },
      after: [1, 2, 3],
    };
    same(outer);
    expect(innerBytes!.equals(reference(inner))).to.equal(true);
  });

  it('a getter that throws: the error, as JSON.stringify would throw it, and the next body intact', () => {
    const bad = {
      a: 'x'.repeat(100),
      get b(): string {
        throw new RangeError('getter');
      },
    };
    expect(() => jsonUtf8(bad)).to.throw(RangeError, 'getter');
    same({ after: 'throw' });
  });

  it('a value that falls back midway leaves the next body intact', () => {
    expect(() => jsonUtf8({ a: 'x'.repeat(100), b: 1n })).to.throw(TypeError);
    same({ after: 'fallback' });
  });
});

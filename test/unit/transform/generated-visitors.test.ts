import { expect } from 'chai';
import fc from 'fast-check';
import { ConfigPathError } from '../../../src/config/config-error.ts';
import {
  compileCanonicalTest,
  compileFormatter,
  compileParser,
  isCanonicalFormat,
} from '../../../src/transform/date-format.ts';
import { compileMapping, createMappingDeps, loadCatalogs, type MappingFn } from '../../../src/transform/index.ts';
import { generatedValueVisitor, KEEP, type MapCtx, type ValueFn } from '../../../src/transform/ops/common.ts';
import { hasKeys, ShapeCache } from '../../../src/transform/shape.ts';
import { hasCombiningMark, mayHoldCombiningMarks, trimmed } from '../../../src/transform/text.ts';
import { CATALOGS } from './helpers.ts';

/**
 * Code generated at load (issue 19): the per-field visitors of codelist/date (ops/common.ts
 * generatedValueVisitor, field names written into the source), the canonical date tests (date-format.ts
 * compileCanonicalTest), and the shortcuts of trim (text.ts trimmed, hasCombiningMark). Each must give
 * exactly what the generic code gives, and a field name, which is config, must never become code.
 */
const deps = createMappingDeps(loadCatalogs(CATALOGS));
const text = (v: unknown) => JSON.stringify(v, (_k, x: unknown) => (x === undefined ? '(undefined)' : x));

// Names an attacker with a say in a YAML file would try (paths refuse `.`, `[` and `]`; the global the
// payloads set exists during the tests, so a breakout would set it): string and template breakouts, comments, line
// separators (a raw U+2028 ended a string literal before ES2019), lone surrogates, names of
// Object.prototype (an inherited value must read as absent), numeric names (element stores).
const HOSTILE = [
  'a"b',
  "a'b",
  'a\\',
  '\\"; __pwnedByFieldName = 1; //',
  '"); __pwnedByFieldName = 1; o = ("',
  '${__pwnedByFieldName = 1}',
  '`; __pwnedByFieldName = 1; `',
  '*/ __pwnedByFieldName = 1; /*',
  'line\nbreak',
  'ls\u2028ps\u2029',
  '\ud800lone',
  '</script>',
  'toString',
  'valueOf',
  'hasOwnProperty',
  '__defineGetter__',
  '0',
  '1e3',
  'tiếng Việt',
];

function lists(fields: string[]): Record<string, unknown>[][] {
  return [
    [
      {
        op: 'codelist',
        at: '[]',
        fields,
        catalog: 'gender',
        from: ['id', 'code', 'name', 'aliases'],
        to: 'id',
        as: 'string',
        unknown: 'reject',
        emptyValues: ['', 'NA'],
        onEmpty: 'drop',
      },
    ],
    [{ op: 'date', at: '[]', fields, from: ['dd/MM/yyyy', 'yyyyMMdd', 'ISO'], to: 'dd/MM/yyyy', onEmpty: 'reject' }],
    [{ op: 'date', fields, from: ['d/M/yyyy', 'yyyyMMddHHmmss'], to: 'yyyyMMddHHmmss', onEmpty: 'keep' }],
  ];
}

const value = fc.oneof(
  fc.constantFrom('1', '01', 'Nam', 'nữ', 'NA', '', ' ', null, 'x', 1034, 1, true, '12/12/2021', ' 19520229 '),
  fc.constantFrom('2021-06-30', '2023-03-01T02:15:00Z', '31/02/2021', '20181220221912', '1/2/2020', 20181220),
  fc.string({ maxLength: 4 }),
  fc.constant(undefined),
  fc.constant({ nested: 1 }),
);
const record = (names: string[]) =>
  fc.array(fc.tuple(fc.constantFrom(...names, 'other'), value), { maxLength: 12 }).map((kv) => Object.fromEntries(kv));
const body = (names: string[]) =>
  fc.oneof(fc.array(fc.oneof(record(names), value), { maxLength: 6 }), record(names), value);

function same(generated: MappingFn, generic: MappingFn, input: unknown): void {
  const json = JSON.stringify(input);
  const copy = () => (json === undefined ? undefined : JSON.parse(json));
  const g = generated(copy());
  const r = generic(copy());
  expect(text(g.body), 'body').to.equal(text(r.body));
  expect(g.errors, 'errors').to.deep.equal(r.errors);
}

describe('visitors generated at load (issue 19)', () => {
  beforeEach(() => {
    (globalThis as Record<string, unknown>).__pwnedByFieldName = undefined;
  });
  afterEach(() => {
    expect((globalThis as Record<string, unknown>).__pwnedByFieldName, 'code ran from a field name').to.equal(
      undefined,
    );
    delete (globalThis as Record<string, unknown>).__pwnedByFieldName;
  });

  it('codelist and date over hostile field names: same bodies and errors as the generic loop', () => {
    for (const ops of lists(HOSTILE)) {
      const generated = compileMapping(ops, deps, ['t']);
      const generic = compileMapping(ops, deps, ['t'], { fuse: false, generate: false });
      fc.assert(
        fc.property(body(HOSTILE), (b) => {
          same(generated, generic, b);
        }),
        { numRuns: 300 },
      );
    }
  });

  it('a hostile name is read and written as the name it is, and reported under it', () => {
    const ops = lists(HOSTILE)[0];
    const map = compileMapping(ops, deps, ['t']);
    const input = [Object.fromEntries(HOSTILE.map((k) => [k, 'Nam']))];
    const out = map(input);
    expect(out.errors).to.deep.equal([]);
    expect(Object.keys((out.body as object[])[0])).to.deep.equal(Object.keys(input[0]));
    expect((out.body as Record<string, unknown>[])[0]).to.deep.equal(
      Object.fromEntries(HOSTILE.map((k) => [k, '1034'])),
    );
    const bad = map([{ 'a"b': 'x', 'ls\u2028ps\u2029': 'y' }]);
    expect(bad.errors.map((e) => e.pointer)).to.deep.equal(['/0/a"b', '/0/ls\u2028ps\u2029']);
  });

  it('an inherited name (toString, valueOf) reads as absent, as in the generic loop', () => {
    const map = compileMapping(lists(['toString', 'valueOf'])[1], deps, ['t']);
    const out = map([{ a: 1 }, { toString: '12/12/2021', valueOf: 'x' }]);
    expect(text(out.body)).to.equal(text([{ a: 1 }, { toString: '12/12/2021', valueOf: 'x' }]));
    expect(out.errors.map((e) => e.pointer)).to.deep.equal(['/1/valueOf']);
  });

  it('__proto__, constructor and prototype are refused at load, and never generated', () => {
    for (const name of ['__proto__', 'constructor', 'prototype']) {
      for (const ops of lists(['ok', name])) {
        expect(() => compileMapping(ops, deps, ['t']), name).to.throw(ConfigPathError, /not allowed/);
      }
    }
    // Called directly with one (a plug-in's own use), the generator keeps the generic loop.
    const seen: string[] = [];
    const each: ValueFn = (v, _o, key) => (seen.push(key), v === 1 ? 2 : KEEP);
    const visit = generatedValueVisitor(['__proto__', 'a'], each);
    const obj = JSON.parse('{"__proto__": 1, "a": 1}') as Record<string, unknown>;
    const ctx = { errors: [], trail: [], removed: [] } as unknown as MapCtx;
    visit(obj, [], ctx);
    expect(seen).to.deep.equal(['__proto__', 'a']);
    expect(Object.getPrototypeOf(obj)).to.equal(Object.prototype);
    expect(obj.a).to.equal(2);
  });
});

describe('canonical date tests (date-format.ts compileCanonicalTest)', () => {
  const formats = [
    'dd/MM/yyyy',
    'dd/MM/yyyy HH:mm:ss',
    'yyyyMMddHHmmss',
    'yyyyMMdd',
    'yyyy-MM-dd',
    "yyyy-MM-dd'T'HH:mm:ss.SSS",
    'HH:mm dd.MM.yyyy',
  ];

  it('answer what the parser answers, on near-miss and random text', () => {
    const digit = fc.constantFrom(...'0123456789');
    for (const fmt of formats) {
      expect(isCanonicalFormat(fmt), fmt).to.equal(true);
      const test = compileCanonicalTest(fmt)!;
      const parse = compileParser(fmt);
      // Texts shaped like the format: every letter a digit, literals kept, sometimes one character changed.
      const shaped = fc
        .tuple(
          fc.array(digit, { minLength: fmt.length, maxLength: fmt.length }),
          fc.integer({ min: -1, max: fmt.length }),
          fc.string({ maxLength: 1 }),
        )
        .map(([ds, at, ch]) => {
          const base = sample(fmt, ds);
          return at < 0 || at >= base.length ? base : base.slice(0, at) + ch + base.slice(at + 1);
        });
      fc.assert(
        fc.property(fc.oneof(shaped, fc.string({ maxLength: 24 }), fc.stringMatching(/^[0-9/: .T-]{0,24}$/)), (s) => {
          expect(test(s), `${fmt}: ${JSON.stringify(s)}`).to.equal(parse(s) !== undefined);
        }),
        { numRuns: 3000 },
      );
    }
  });

  it('real calendar days only, and not for other formats', () => {
    const t = compileCanonicalTest('dd/MM/yyyy')!;
    expect(['29/02/2024', '31/12/9999', '01/01/0001'].map(t)).to.deep.equal([true, true, true]);
    expect(
      ['29/02/2023', '31/04/2021', '00/01/2021', '01/13/2021', '01/01/0000', '1/01/2021', '01/01/2021 '].map(t),
    ).to.deep.equal([false, false, false, false, false, false, false]);
    for (const fmt of ['d/M/yyyy', 'ISO', 'dd/MM', 'MMM yyyy'])
      expect(compileCanonicalTest(fmt), fmt).to.equal(undefined);
  });
});

describe('fixed-width date formatters (date-format.ts compileFormatter)', () => {
  it('write what the token loop writes, parts out of their width included', () => {
    const part = fc.oneof(
      fc.integer({ min: 0, max: 99 }),
      fc.integer({ min: 0, max: 12_000 }),
      fc.constantFrom(-1, 0, 9, 10, 99, 100, 999, 1000, 9999, 10000, 2.5, -0),
    );
    const parts = fc.record({
      year: part,
      month: part,
      day: part,
      hour: part,
      minute: part,
      second: part,
      ms: part,
    });
    for (const fmt of [
      'dd/MM/yyyy',
      'dd/MM/yyyy HH:mm:ss',
      'yyyyMMddHHmmss',
      'yyyyMMdd',
      "yyyy-MM-dd'T'HH:mm:ss.SSS",
    ]) {
      const generated = compileFormatter(fmt, 420);
      const loop = compileFormatter(fmt, 420, false);
      fc.assert(
        fc.property(parts, (p) => {
          expect(generated(p), fmt).to.equal(loop(p));
        }),
        { numRuns: 3000 },
      );
    }
  });
});

/** A text in `fmt` with the format's letters replaced by `digits` in order (quoted literals unquoted). */
function sample(fmt: string, digits: string[]): string {
  let out = '';
  let k = 0;
  for (let i = 0; i < fmt.length; i++) {
    const c = fmt[i];
    if (c === "'") {
      const end = fmt.indexOf("'", i + 1);
      out += fmt.slice(i + 1, end);
      i = end;
    } else out += /[a-zA-Z]/.test(c) ? digits[k++] : c;
  }
  return out;
}

describe("trim's shortcuts (text.ts)", () => {
  const spaces = [...'\t\n\v\f\r \u00a0\u1680\u2000\u2005\u200a\u2028\u2029\u202f\u205f\u3000\ufeff\u0085\u180e'];
  const piece = fc.oneof(
    fc.constantFrom(...spaces),
    fc.constantFrom(
      'a',
      'ễ',
      'e\u0301',
      '\u0300',
      '\u036f',
      '\u036f\u0370',
      '\u02ff',
      'Nguyễn'.normalize('NFD'),
      '\ud800',
    ),
    fc.string({ maxLength: 3 }),
    fc.string({ unit: 'binary', maxLength: 3 }),
  );
  const str = fc.array(piece, { maxLength: 10 }).map((p) => p.join(''));

  it('trimmed(s) is s.trim()', () => {
    fc.assert(
      fc.property(str, (s) => {
        expect(trimmed(s)).to.equal(s.trim());
      }),
      { numRuns: 5000 },
    );
    for (const c of spaces) expect(trimmed(`${c}x${c}`), JSON.stringify(c)).to.equal(`${c}x${c}`.trim());
  });

  it('hasCombiningMark(s) is /[\\u0300-\\u036f]/.test(s), short and long', () => {
    fc.assert(
      fc.property(str, (s) => {
        expect(hasCombiningMark(s), JSON.stringify(s)).to.equal(/[\u0300-\u036f]/.test(s));
      }),
      { numRuns: 5000 },
    );
  });
});

describe('shapes recognised without a key array (shape.ts hasKeys, ShapeCache.recentFor)', () => {
  const names = fc.constantFrom('a', 'b', 'MaHoSo', '0', '7', '10', 'toString', '__proto__', 'x y', '');
  const entries = fc.array(fc.tuple(names, fc.oneof(fc.integer(), fc.constant(undefined))), { maxLength: 8 });

  it('hasKeys(obj, keys) is Object.keys(obj) equal to keys, on any object, polluted prototypes included', () => {
    const made = fc.tuple(entries, fc.constantFrom('json', 'literal', 'null-proto', 'class', 'deleted'));
    fc.assert(
      fc.property(made, fc.array(names, { maxLength: 8 }), ([kv, how], other) => {
        const obj = build(kv, how);
        const keys = Object.keys(obj);
        const proto = Object.getPrototypeOf(obj);
        expect(hasKeys(obj, keys), 'own list').to.equal(proto === Object.prototype || proto === null);
        if (hasKeys(obj, other)) expect(other, 'other list').to.deep.equal(keys);
        if (keys.length > 0) expect(hasKeys(obj, keys.slice(0, -1)), 'shorter list').to.equal(false);
        expect(hasKeys(obj, [...keys, 'more']), 'longer list').to.equal(false);
      }),
      { numRuns: 2000 },
    );
    // An enumerable key on Object.prototype (pollution) is not one of the record's keys: false, not a match.
    const obj = { a: 1 };
    try {
      (Object.prototype as Record<string, unknown>).polluted = 1;
      expect(hasKeys(obj, ['a', 'polluted'])).to.equal(false);
      expect(hasKeys(obj, ['a'])).to.equal(false); // not decided here: the caller takes Object.keys
    } finally {
      delete (Object.prototype as Record<string, unknown>).polluted;
    }
    expect(hasKeys(obj, ['a'])).to.equal(true);
    class Rec {
      a = 1;
    }
    expect(hasKeys(new Rec() as unknown as Record<string, unknown>, ['a'])).to.equal(false);
  });

  it('recentFor(obj) answers what get(Object.keys(obj)) answers, or nothing', () => {
    const op = fc.oneof(
      fc.record({ set: fc.array(names, { maxLength: 5 }), plan: fc.integer() }),
      fc.record({ get: entries }),
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 40 }), (ops) => {
        const cache = new ShapeCache<number>();
        for (const o of ops) {
          if ('set' in o) cache.set(o.set, o.plan);
          else {
            const obj = build(o.get, 'json');
            const recent = cache.recentFor(obj);
            const got = cache.get(Object.keys(obj));
            if (recent !== undefined) expect(recent).to.equal(got);
          }
        }
      }),
      { numRuns: 1000 },
    );
    const cache = new ShapeCache<number>();
    cache.set(['a', 'b'], 1);
    cache.set(['b', 'a'], 2);
    expect(cache.recentFor({ a: 1, b: 2 }), 'before any get').to.equal(undefined);
    expect(cache.get(['a', 'b'])).to.equal(1);
    expect(cache.recentFor({ a: 0, b: 0 })).to.equal(1);
    expect(cache.recentFor({ b: 0, a: 0 })).to.equal(undefined);
    expect(cache.recentFor({ a: 0, b: 0, c: 0 })).to.equal(undefined);
  });
});

/** An object with the entries `kv`, made the way `how` says (parsed, literal, other prototypes, deletes). */
function build(kv: [string, number | undefined][], how: string): Record<string, unknown> {
  const plain: Record<string, unknown> = {};
  for (const [k, v] of kv) if (k !== '__proto__') plain[k] = v;
  switch (how) {
    case 'json':
      return JSON.parse(JSON.stringify(Object.fromEntries(kv.map(([k, v]) => [k, v ?? null])))) as Record<
        string,
        unknown
      >;
    case 'null-proto':
      return Object.assign(Object.create(null) as Record<string, unknown>, plain);
    case 'class': {
      class Rec {}
      return Object.assign(new Rec() as Record<string, unknown>, plain);
    }
    case 'deleted': {
      const o: Record<string, unknown> = { ...plain, extra: 1 };
      delete o.extra;
      delete o[Object.keys(o)[0]];
      return o;
    }
    default:
      return plain;
  }
}

describe('BodyFacts: no combining mark in the bytes, no scan per string (text.ts mayHoldCombiningMarks)', () => {
  const nfd = 'Nguyễn Văn Ánh'.normalize('NFD');
  const piece = fc.oneof(
    fc.constantFrom('Hà Nội', nfd, ' a ', 'e\u0301', '\u036f', '\u0370', 'ễ', '\u02ff', '01', ''),
    fc.string({ maxLength: 4 }),
    fc.string({ unit: 'binary', maxLength: 3 }),
  );
  const str = fc.array(piece, { maxLength: 4 }).map((p) => p.join(''));
  const rec = fc.dictionary(fc.constantFrom('HoVaTen', 'a', 'b', 'Ten'), fc.oneof(str, fc.integer()), { maxKeys: 4 });
  // JSON text of a body as a sender may write it: combining marks raw or escaped (\u0301, \u036F).
  const bodyText = fc
    .tuple(fc.array(rec, { maxLength: 4 }), fc.boolean(), fc.boolean())
    .map(([records, escape, upper]) => {
      const json = JSON.stringify(records);
      if (!escape) return json;
      return json.replace(/[\u0300-\u036f]/g, (c) => {
        const hex = c.charCodeAt(0).toString(16).padStart(4, '0');
        return `\\u${upper ? hex.toUpperCase() : hex}`;
      });
    });

  it('says false only for text whose strings hold no combining mark', () => {
    fc.assert(
      fc.property(bodyText, (t) => {
        if (!mayHoldCombiningMarks(Buffer.from(t))) {
          expect(/[\u0300-\u036f]/.test(t) || /[\u0300-\u036f]/.test(JSON.stringify(JSON.parse(t))), t).to.equal(false);
        }
      }),
      { numRuns: 3000 },
    );
    expect(mayHoldCombiningMarks(Buffer.from(JSON.stringify([nfd])))).to.equal(true);
    expect(mayHoldCombiningMarks(Buffer.from('["e\\u0301"]'))).to.equal(true);
    expect(mayHoldCombiningMarks(Buffer.from('["e\\u036F"]'))).to.equal(true);
    expect(mayHoldCombiningMarks(Buffer.from(JSON.stringify(['Hà Nội', 'ễ', 'Ánh'])))).to.equal(false);
  });

  it('a mapping given the fact from the bytes maps as one given nothing; a string from config is still composed', () => {
    const lists: Record<string, unknown>[][] = [
      [
        { op: 'trim', at: '[]', nfc: true },
        { op: 'rename', at: '[]', fields: { a: 'b' } },
      ],
      [
        { op: 'rename', at: '[]', fields: { a: 'b' } },
        { op: 'drop', at: '[]', field: 'x' },
        { op: 'trim', at: '[]', nfc: true },
      ],
      // A constant before the trim writes config text: the fact says nothing about it.
      [
        { op: 'constant', at: '[]', values: { Ten: ` ${nfd} ` } },
        { op: 'trim', at: '[]', nfc: true },
      ],
      [{ op: 'trim', at: '[]', fields: ['HoVaTen', 'Ten'], nfc: true }],
      [{ op: 'trim', at: '[]', nfc: true, phase: 'post' }],
    ];
    for (const ops of lists) {
      const map = compileMapping(ops, deps, ['t']);
      fc.assert(
        fc.property(bodyText, (t) => {
          const facts = { noCombiningMarks: !mayHoldCombiningMarks(Buffer.from(t)) };
          const withFacts = map(JSON.parse(t), undefined, undefined, facts);
          const without = map(JSON.parse(t));
          expect(text(withFacts.body)).to.equal(text(without.body));
          expect(withFacts.errors).to.deep.equal(without.errors);
        }),
        { numRuns: 500 },
      );
    }
    // Told (wrongly) that there are none, the constant's decomposed text is still composed: only strings
    // from the body are trusted to the fact.
    const out = compileMapping(lists[2], deps, ['t'])([{}], undefined, undefined, { noCombiningMarks: true });
    expect((out.body as Record<string, string>[])[0].Ten).to.equal(nfd.normalize('NFC'));
  });
});

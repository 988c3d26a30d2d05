import { expect } from 'chai';
import fc from 'fast-check';
import {
  compileFormatter,
  compileParser,
  isCanonicalFormat,
  isRealDate,
  parseIso,
  parseOffset,
  shiftByDate,
  shiftParts,
} from '../../../src/transform/date-format.ts';
import { DATE_FORMATS } from '../../../src/transform/validator.ts';
import { compileMapping, createMappingDeps, loadCatalogs, type MappingDeps } from '../../../src/transform/index.ts';
import { compileEmptyTest } from '../../../src/transform/ops/common.ts';
import {
  admitShapes,
  compileShapeBuilder,
  MAX_SHAPE_KEY_UNITS,
  MAX_SHAPE_KEYS,
  MAX_SHAPES,
  ShapeCache,
  type PendingShapes,
} from '../../../src/transform/shape.ts';
import { CATALOGS } from './helpers.ts';

/**
 * The mapping's fast paths (per-shape generated builders, compaction by rebuild, the empty-value and
 * date-identity shortcuts) must give exactly what the generic code gives, key order included.
 */
const deps: MappingDeps = createMappingDeps(loadCatalogs(CATALOGS));
/** Key order matters (the upstream sees it), and chai's deep.equal ignores it: compare the JSON text. */
/** Keys holding `undefined` count too (JSON.stringify alone would hide them). */
const text = (v: unknown) => JSON.stringify(v, (_k, x: unknown) => (x === undefined ? '(undefined)' : x));
const same = (a: unknown, b: unknown) => expect(text(a)).to.equal(text(b));

describe('shape builders (shape.ts)', () => {
  it('copy in order under new names and leave out undefined values', () => {
    const build = compileShapeBuilder(['a', 'HKTTC_X', 'c'], ['a', 'HKTT_X', 'c'])!;
    same(build({ a: 1, HKTTC_X: 'x', c: null }), { a: 1, HKTT_X: 'x', c: null });
    same(build({ a: undefined, HKTTC_X: 'x', c: [1] }), { HKTT_X: 'x', c: [1] });
    expect(build({ a: 1, HKTTC_X: 2, c: 3 })).to.not.equal(build({ a: 1, HKTTC_X: 2, c: 3 }));
  });

  it('take any key text safely: quotes, backslashes, line separators, code-like text', () => {
    const keys = ['"}; throw 1; //', '\\', '\u2028\u2029', '${x}', '`', '', '0', '10', 'tiếng Việt'];
    const build = compileShapeBuilder(keys, keys)!;
    const obj = Object.fromEntries(keys.map((k, i) => [k, i]));
    same(build(obj), obj);
  });

  it('refuse forbidden or duplicate targets (callers keep their generic loop)', () => {
    expect(compileShapeBuilder(['__proto__', 'a'], ['__proto__', 'a'])).to.equal(undefined);
    expect(compileShapeBuilder(['a', 'b'], ['constructor', 'b'])).to.equal(undefined);
    expect(compileShapeBuilder(['a', 'b'], ['c', 'c'])).to.equal(undefined);
  });

  it('cache: exact key lists only, bounded', () => {
    const cache = new ShapeCache<number>();
    cache.set(['a', 'b'], 1);
    expect(cache.get(['a', 'b'])).to.equal(1);
    expect(cache.get(['b', 'a'])).to.equal(undefined);
    expect(cache.get(['a'])).to.equal(undefined);
    for (let i = 0; i < MAX_SHAPES * 2; i++) cache.set([`k${i}`], i);
    expect(cache.admits(['new'])).to.equal(false);
    expect(cache.get([`k${MAX_SHAPES - 2}`])).to.equal(MAX_SHAPES - 2);
    expect(cache.get([`k${MAX_SHAPES + 5}`])).to.equal(undefined);
  });

  it('shapes met by a call are cached only once its body is accepted (issue 14.1)', () => {
    const map = compileMapping(
      [{ op: 'rename', at: '[]', fields: { a: 'b' } }],
      createMappingDeps(loadCatalogs(CATALOGS)),
      ['t'],
    );
    const first: PendingShapes = [];
    expect(map([{ a: 1, c: 2 }], first).body).to.deep.equal([{ b: 1, c: 2 }]);
    expect(first).to.have.length(1);
    const second: PendingShapes = [];
    map([{ a: 3, c: 4 }], second);
    expect(second, 'the first body was never accepted: its shape is not cached').to.have.length(1);
    admitShapes(second);
    const third: PendingShapes = [];
    expect(map([{ a: 5, c: 6 }], third).body).to.deep.equal([{ b: 5, c: 6 }]);
    expect(third, 'admitted: a cache hit').to.have.length(0);
  });

  it('cache: bounded in key-name bytes and keys per shape, not only in entries (issue 14.1)', () => {
    const cache = new ShapeCache<number>();
    const wide = Array.from({ length: MAX_SHAPE_KEYS + 1 }, (_, i) => `k${i}`);
    cache.set(wide, 1);
    expect(cache.get(wide)).to.equal(undefined);
    const long = 'x'.repeat(MAX_SHAPE_KEY_UNITS / 4);
    for (let i = 0; i < 10; i++) cache.set([`${long}${i}`], i);
    expect(cache.usage.keyUnits).to.be.at.most(MAX_SHAPE_KEY_UNITS);
    expect(cache.usage.shapes).to.be.below(4);
    expect(cache.admits([long])).to.equal(false);
    expect(cache.admits(['short'])).to.equal(true);
  });
});

describe('mapping fast paths match the generic path', () => {
  const ops = [
    { op: 'drop', at: '[]', fields: ['gone', 'nested.gone'] },
    { op: 'trim', at: '[]' },
    { op: 'rename', at: '[]', tolerant: true, fields: { 'HKTTC_*': 'HKTT_*', Old: 'New' }, canonical: ['MaHoSo'] },
    { op: 'codelist', at: '[]', field: 'GioiTinhId', catalog: 'gender', from: ['id', 'name', 'aliases'] },
    { op: 'drop', at: '[]', field: 'late' },
    { op: 'default', at: '[]', values: { StatusId: 1 } },
  ].map((o) => (o.op === 'codelist' ? { ...o, to: 'id', as: 'string', unknown: 'pass', onEmpty: 'drop' } : o));
  /** A compiled mapping whose shape caches are full, so every record takes the generic code. */
  const generic = () => {
    const m = compileMapping(ops, deps, ['m']);
    for (let i = 0; i < MAX_SHAPES + 1; i++) m([{ [`junk${i}`]: 1, gone: 1, late: 1, GioiTinhId: '' }]);
    return m;
  };
  const KEYS = ['MaHoSo', ' mahoso', 'HKTTC_MaTinh', 'hkttc_MaXa', 'HKTT_MaTinh', 'Old', 'New', 'gone', 'late'];
  const value = fc.oneof(fc.constantFrom('', ' Nam ', 'NA', 'Nữ', '1034', null), fc.string(), fc.integer());
  const record = fc.dictionary(fc.oneof(fc.constantFrom(...KEYS, 'GioiTinhId', 'StatusId'), fc.string()), value, {
    maxKeys: 8,
  });
  const withNested = fc
    .tuple(record, fc.option(fc.dictionary(fc.constantFrom('gone', 'kept'), value)))
    .map(([r, nested]) => (nested === null ? r : { ...r, nested }));

  it('on random records: same body (key order included) and same errors', () => {
    const slow = generic();
    const fast = compileMapping(ops, deps, ['m']);
    fc.assert(
      fc.property(fc.array(withNested, { minLength: 1, maxLength: 4 }), (body) => {
        const a = slow(structuredClone(body));
        const b = fast(structuredClone(body));
        same(b.body, a.body);
        expect(b.errors).to.deep.equal(a.errors);
      }),
      { numRuns: 400 },
    );
  });

  it('compaction replaces a record in its array, or the body itself at the root', () => {
    const m = compileMapping([{ op: 'drop', fields: ['a', 'x.y'] }], deps, ['m']);
    const body = { a: 1, b: 2, x: { y: 1, z: 2 } };
    const out = m(body).body;
    same(out, { b: 2, x: { z: 2 } });
    const arr = compileMapping([{ op: 'drop', at: '[]', field: 'a' }], deps, ['m'])([{ a: 1, b: 2 }, { b: 3 }]);
    same(arr.body, [{ b: 2 }, { b: 3 }]);
  });
});

describe('empty-value test shortcut', () => {
  it('answers as trim + lower-case + lookup would, for any string', () => {
    const lists = [[''], ['', 'NA', 'N/A'], ['không có', 'NULL'], ['İ'], ['\u212A', 'Ña', ' x ']];
    for (const values of lists) {
      const set = new Set(values.map((s) => s.trim().toLowerCase()));
      const test = compileEmptyTest(values);
      const text = fc.oneof(
        fc.string({ unit: 'binary', maxLength: 12 }),
        fc.constantFrom(...values.flatMap((v) => [v, ` ${v} `, v.toUpperCase(), `${v}x`, `  ${v}\t`])),
        fc.stringMatching(/^[A-Za-z/ ]{0,9}$/),
      );
      fc.assert(
        fc.property(text, (s) => {
          expect(test(s)).to.equal(set.has(s.trim().toLowerCase()));
        }),
        { numRuns: 300 },
      );
      expect(test(null)).to.equal(true);
      expect(test(0)).to.equal(false);
    }
  });
});

describe('date formats that read back as written', () => {
  it('isCanonicalFormat: fixed-width numeric tokens, each field once', () => {
    for (const f of ['dd/MM/yyyy', 'dd/MM/yyyy HH:mm:ss', 'yyyyMMddHHmmss', 'yyyyMMdd', "yyyy-MM-dd'T'HH:mm:ss.SSS"]) {
      expect(isCanonicalFormat(f), f).to.equal(true);
    }
    for (const f of ['d/M/yyyy', 'ISO', 'dd/MM/yyyy H:m:s', 'dd/MM/yyyy (dd)', 'do MMMM yyyy']) {
      expect(isCanonicalFormat(f), f).to.equal(false);
    }
  });

  it('for such a format, formatting what was parsed gives back the text', () => {
    for (const f of ['dd/MM/yyyy', 'dd/MM/yyyy HH:mm:ss', 'yyyyMMddHHmmss']) {
      const parse = compileParser(f);
      const format = compileFormatter(f, 420);
      const digits = (n: number) => fc.integer({ min: 0, max: 10 ** n - 1 }).map((v) => String(v).padStart(n, '0'));
      const text = fc
        .tuple(digits(2), digits(2), digits(4), digits(2), digits(2), digits(2))
        .map(([d, m, y, h, mi, s]) =>
          f === 'dd/MM/yyyy'
            ? `${d}/${m}/${y}`
            : f === 'yyyyMMddHHmmss'
              ? `${y}${m}${d}${h}${mi}${s}`
              : `${d}/${m}/${y} ${h}:${mi}:${s}`,
        );
      fc.assert(
        fc.property(text, (t) => {
          const p = parse(t);
          if (p !== undefined) expect(format(p)).to.equal(t);
        }),
        { numRuns: 300 },
      );
    }
  });

  it('the date op keeps or rewrites values exactly as before', () => {
    const m = compileMapping(
      [{ op: 'date', at: '[]', field: 'd', from: ['dd/MM/yyyy', 'd/M/yyyy', 'ISO'], to: 'dd/MM/yyyy' }],
      deps,
      ['m'],
    );
    const out = m([{ d: ' 05/03/2021 ' }, { d: '5/3/2021' }, { d: '2021-03-05T20:00:00Z' }, { d: '31/02/2021' }]);
    same(out.body, [{ d: '05/03/2021' }, { d: '05/03/2021' }, { d: '06/03/2021' }, { d: '31/02/2021' }]);
    expect(out.errors.map((e) => e.pointer)).to.deep.equal(['/3/d']);
  });
});

describe('schema date formats read at fixed positions (validator.ts, issue 19)', () => {
  // The regular expressions the formats were checked with before, as the reference.
  const DMY = /^(\d{2})\/(\d{2})\/(\d{4})(?: (\d{2}):(\d{2}):(\d{2}))?$/;
  const COMPACT = /^(\d{4})(\d{2})(\d{2})(?:(\d{2})(\d{2})(\d{2}))?$/;
  const byRegex = (re: RegExp, order: 'dmy' | 'ymd', withTime: boolean) => (s: string) => {
    const m = re.exec(s);
    if (!m || (m[4] !== undefined) !== withTime) return false;
    const [y, mo, d] = order === 'dmy' ? [+m[3], +m[2], +m[1]] : [+m[1], +m[2], +m[3]];
    return isRealDate(y, mo, d, +(m[4] ?? 0), +(m[5] ?? 0), +(m[6] ?? 0));
  };
  const reference: Record<string, (s: string) => boolean> = {
    'date-dmy': byRegex(DMY, 'dmy', false),
    'datetime-dmy': byRegex(DMY, 'dmy', true),
    'date-compact': byRegex(COMPACT, 'ymd', false),
    'datetime-compact': byRegex(COMPACT, 'ymd', true),
  };
  // Strings near the formats: digits, the separators, other characters (Unicode digits, a final newline).
  const near = fc
    .array(fc.constantFrom(...'0123456789012345678901/: -\n\u0661\uff10xT'.split('')), { maxLength: 21 })
    .map((cs) => cs.join(''));
  const dates = fc
    .tuple(
      fc.integer({ min: 0, max: 39 }),
      fc.integer({ min: 0, max: 13 }),
      fc.integer({ min: 0, max: 9999 }),
      fc.integer({ min: 0, max: 25 }),
      fc.integer({ min: 0, max: 61 }),
      fc.integer({ min: 0, max: 61 }),
    )
    .map(([d, mo, y, h, mi, s]) => {
      const p = (n: number, w: number) => String(n).padStart(w, '0');
      return [
        `${p(d, 2)}/${p(mo, 2)}/${p(y, 4)}`,
        `${p(d, 2)}/${p(mo, 2)}/${p(y, 4)} ${p(h, 2)}:${p(mi, 2)}:${p(s, 2)}`,
        `${p(y, 4)}${p(mo, 2)}${p(d, 2)}`,
        `${p(y, 4)}${p(mo, 2)}${p(d, 2)}${p(h, 2)}${p(mi, 2)}${p(s, 2)}`,
      ];
    });

  it("give the regular expressions' verdicts on real-looking dates and on near misses", () => {
    for (const name of Object.keys(reference)) {
      const test = DATE_FORMATS[name].test;
      fc.assert(
        fc.property(dates, (texts) => texts.every((t) => test(t) === reference[name](t))),
        { numRuns: 2000 },
      );
      fc.assert(
        fc.property(near, (t) => test(t) === reference[name](t)),
        { numRuns: 3000 },
      );
      for (const t of [
        '29/02/2024',
        '29/02/2023',
        '31/04/2021 23:59:59',
        '12/12/2021 24:00:00',
        '20240229',
        '2024022923595',
      ]) {
        expect(test(t), `${name} ${t}`).to.equal(reference[name](t));
      }
    }
  });
});

describe('ISO dates read at fixed positions (date-format.ts parseIso, issue 19)', () => {
  // The regular expression parseIso used before, with parseOffset, as the reference.
  const ISO = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(Z|[+-]\d{2}:?\d{2})?)?$/;
  const reference = (text: string) => {
    if (text.length < 10 || text.charCodeAt(4) !== 45) return undefined;
    const m = ISO.exec(text);
    if (!m) return undefined;
    const parts = {
      year: Number(m[1]),
      month: Number(m[2]),
      day: Number(m[3]),
      hour: m[4] === undefined ? 0 : Number(m[4]),
      minute: m[5] === undefined ? 0 : Number(m[5]),
      second: m[6] === undefined ? 0 : Number(m[6]),
      ms: m[7] === undefined ? 0 : Number(m[7].slice(0, 3).padEnd(3, '0')),
    };
    if (!isRealDate(parts.year, parts.month, parts.day, parts.hour, parts.minute, parts.second)) return undefined;
    if (m[8] === undefined) return parts;
    const off = m[8] === 'Z' ? 0 : parseOffset(m[8].length === 5 ? `${m[8].slice(0, 3)}:${m[8].slice(3)}` : m[8]);
    if (off === undefined) return undefined;
    return { ...parts, offsetMin: off };
  };
  const p = (n: number, w: number) => String(n).padStart(w, '0');
  const iso = fc
    .tuple(
      fc.integer({ min: 0, max: 9999 }),
      fc.integer({ min: 0, max: 13 }),
      fc.integer({ min: 0, max: 32 }),
      fc.integer({ min: 0, max: 25 }),
      fc.integer({ min: 0, max: 61 }),
      fc.integer({ min: 0, max: 61 }),
      fc.constantFrom('', 'T', ' ', 't', 'x'),
      fc.constantFrom('', ':ss', ':ss.f', ':ss.fff', ':ss.fffffffff', ':ss.ffffffffff', '.f', ':s'),
      fc.constantFrom('', 'Z', 'z', '+07:00', '-05:30', '+0700', '+14:59', '+15:00', '-00:60', '+07', '+07:0', '+7:00'),
      fc.string({ maxLength: 2 }),
    )
    .map(([y, mo, d, h, mi, s, sep, sec, zone, tail]) => {
      const date = `${p(y, 4)}-${p(mo, 2)}-${p(d, 2)}`;
      if (sep === '') return date + tail;
      const seconds = sec.replace('ss', p(s, 2)).replace(/f/g, () => String(s % 10));
      return `${date}${sep}${p(h, 2)}:${p(mi, 2)}${seconds}${zone}${tail === 'x' ? tail : ''}`;
    });
  const near = fc
    .array(fc.constantFrom(...'0123456789012-:T .Z+\u0661'.split('')), { maxLength: 32 })
    .map((cs) => cs.join(''));

  it("gives the regular expression's parts, or nothing, on ISO-like text and near misses", () => {
    fc.assert(
      fc.property(fc.oneof(iso, near), (t) => {
        expect(parseIso(t), t).to.deep.equal(reference(t));
      }),
      { numRuns: 5000 },
    );
    for (const t of ['2021-12-12', '2021-12-12T12:22:34.5+07:00', '2024-02-29 00:00', '2023-02-29', '2021-12-12T1']) {
      expect(parseIso(t), t).to.deep.equal(reference(t));
    }
  });
});

describe('moving an instant to another offset without a Date (date-format.ts shiftParts, issue 19)', () => {
  it('gives what Date.UTC gives, across days, months, leap years and the ends of the calendar', () => {
    const offset = fc.integer({ min: -(14 * 60 + 59), max: 14 * 60 + 59 });
    const parts = fc
      .tuple(
        fc.oneof(fc.integer({ min: 1, max: 9999 }), fc.constantFrom(1, 99, 100, 1900, 2000, 2024, 9999)),
        fc.integer({ min: 1, max: 12 }),
        fc.integer({ min: 1, max: 31 }),
        fc.integer({ min: 0, max: 23 }),
        fc.integer({ min: 0, max: 59 }),
        fc.integer({ min: 0, max: 59 }),
        fc.integer({ min: 0, max: 999 }),
      )
      .filter(([y, mo, d]) => isRealDate(y, mo, d))
      .map(([year, month, day, hour, minute, second, ms]) => ({ year, month, day, hour, minute, second, ms }));
    fc.assert(
      fc.property(parts, offset, offset, (p, from, to) => {
        expect(shiftParts(p, from, to)).to.deep.equal(from === to ? p : shiftByDate(p, from, to));
      }),
      { numRuns: 5000 },
    );
  });
});

describe('codelist answers zero-padded digit codes from its exact table (issue 19)', () => {
  it('as the catalogue lookup (normalised: leading zeros dropped) would, for codes padded any way', () => {
    const catalogs = loadCatalogs(CATALOGS);
    for (const [catalog, from, to] of [
      ['ethnicity', ['gso', 'name', 'aliases'], 'id'],
      ['ethnicity', ['id'], 'gso'],
      ['gender', ['id', 'code', 'name', 'aliases'], 'id'],
    ] as const) {
      const cat = catalogs.get(catalog)!;
      const map = compileMapping(
        [{ op: 'codelist', field: 'v', catalog, from: [...from], to, as: 'string', unknown: 'reject' }],
        deps,
        ['m'],
      );
      const expected = (v: string) => {
        for (const column of from) {
          const entry = cat.lookup(column, v);
          if (entry !== undefined) return String(entry[to]);
        }
        return undefined;
      };
      fc.assert(
        fc.property(
          fc.integer({ min: 0, max: 1100 }),
          fc.integer({ min: 0, max: 4 }),
          fc.boolean(),
          (n, zeros, pad) => {
            const v = (pad ? ' ' : '') + '0'.repeat(zeros) + n;
            const out = map({ v });
            const want = expected(v);
            if (want === undefined) expect(out.errors.map((e) => e.rule)).to.deep.equal(['codelist']);
            else expect(out).to.deep.equal({ body: { v: want }, errors: [] });
          },
        ),
        { numRuns: 1500 },
      );
    }
  });
});

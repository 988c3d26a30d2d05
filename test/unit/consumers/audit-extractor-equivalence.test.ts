import { expect } from 'chai';
import { createHmac, createSecretKey } from 'node:crypto';
import fc from 'fast-check';
import { compileAuditKeyExtractor, extractAuditKeys } from '../../../src/observability/audit.ts';
import { compileReferenceAuditKeyExtractor } from '../../helpers/reference-audit-extractor.ts';

/**
 * The audit key extractor was rewritten for speed (one hash per distinct identifier, leaf values handled
 * without a call, no tuples). This is the previous walk, kept verbatim as the reference: both must give
 * the same keys, in the same order, on any body.
 */
function referenceExtract(
  body: unknown,
  hmacKey: Buffer,
  dossierFields = ['MaHoSo', 'maHoSoMCDT', 'maHoSoLT', 'maDinhDanhHoSo'],
  subjectFields = ['soDinhDanh', 'CMND', 'soCMND'],
): Record<string, string | string[]> {
  const dossier = new Map(dossierFields.map((f) => [f.toLowerCase(), f]));
  const subject = new Map(subjectFields.map((f) => [f.toLowerCase(), f]));
  const hash = (v: string) => createHmac('sha256', hmacKey).update(v.trim(), 'utf8').digest('base64url');
  const scalars = (value: unknown): string[] => {
    if (typeof value === 'string') return value.trim() === '' ? [] : [value.trim()];
    if (typeof value === 'number' && Number.isFinite(value)) return [String(value)];
    if (Array.isArray(value))
      return value.flatMap((v) => (typeof v === 'string' || typeof v === 'number' ? scalars(v) : []));
    return [];
  };
  const mayBeJson = (text: string) => {
    const t = text.trim();
    return t.startsWith('{') || t.startsWith('[');
  };
  const found = new Map<string, Set<string>>();
  const add = (name: string, value: string) => {
    const set = found.get(name) ?? new Set<string>();
    if (set.size < 100) set.add(value);
    found.set(name, set);
  };
  const walk = (node: unknown, depth: number): void => {
    if (depth > 4 || node === null) return;
    if (typeof node === 'string') {
      if (!mayBeJson(node)) return;
      try {
        walk(JSON.parse(node.trim()), depth + 1);
      } catch {
        // not JSON
      }
      return;
    }
    if (typeof node !== 'object') return;
    if (Array.isArray(node)) {
      for (const item of node) walk(item, depth + 1);
      return;
    }
    for (const key of Object.keys(node)) {
      const value = (node as Record<string, unknown>)[key];
      const lower = key.trim().toLowerCase();
      const s = subject.get(lower);
      const d = dossier.get(lower);
      if (s) for (const v of scalars(value)) add(s + '#hmac', hash(v));
      // Issue 14.7: a dossier code with 9+ digits in a row is hashed like a subject.
      else if (d)
        for (const v of scalars(value))
          if (/[0-9]{9}/.test(v)) add(d + '#hmac', hash(v));
          else add(d, v);
      else walk(value, depth + 1);
    }
  };
  walk(body, 0);
  const out: Record<string, string | string[]> = {};
  for (const [name, values] of found) out[name] = values.size === 1 ? [...values][0] : [...values];
  return out;
}

const hmacKey = Buffer.from('k'.repeat(40));
const ID = fc.constantFrom('001099012345', ' 001099012345 ', '079204000111', '', '  ', 'x');
const KEY = fc.constantFrom(
  'CMND',
  'cmnd',
  ' CMND ',
  'soDinhDanh',
  'SoDinhDanh',
  'MaHoSo',
  'mahoso',
  'data',
  'HoVaTen',
);
// Dossier codes near the 9-digit rule (an ID-like run is hashed): runs of 7-10 digits cut by separators,
// and digits of other scripts, which do not count.
const CODE = fc.oneof(
  fc.stringMatching(/^[A-Z.-]{0,3}[0-9]{7,10}[-. ]?[0-9]{0,9}[A-Z]?$/),
  fc.constantFrom('H52-12345678-9', '１２３４５６７８９０', '٠١٢٣٤٥٦٧٨٩', 'a123456789', '12345678'),
);
const leaf = fc.oneof(ID, CODE, fc.integer(), fc.double(), fc.boolean(), fc.constant(null), fc.string());

describe('audit key extractor (compiled) matches the reference walk', () => {
  it('on arbitrary nested bodies, including JSON carried in strings, repeats and arrays of IDs', () => {
    const { tree } = fc.letrec((tie) => ({
      tree: fc.oneof({ depthSize: 'small', withCrossShrink: true }, leaf, tie('obj'), tie('arr'), tie('json')),
      obj: fc.dictionary(fc.oneof(KEY, fc.string()), tie('tree'), { maxKeys: 6 }),
      arr: fc.array(tie('tree'), { maxLength: 5 }),
      json: tie('tree').map((v) => ' ' + JSON.stringify(v)),
    }));
    const extract = compileAuditKeyExtractor({ hmacKey: createSecretKey(hmacKey) });
    fc.assert(
      fc.property(tree, (body) => {
        expect(extract(body)).to.deep.equal(referenceExtract(body, hmacKey));
      }),
      { numRuns: 500 },
    );
  });

  it('hashes a citizen listed in several records once and keeps first-seen order', () => {
    const body = [
      { MaHoSo: 'A', CMND: '079204000111' },
      { MaHoSo: 'B', CMND: ' 079204000111' },
      { MaHoSo: 'A', CMND: '001099012345', data: JSON.stringify({ soCMND: ['123456789', 123456789] }) },
    ];
    const got = extractAuditKeys(body, { hmacKey });
    expect(got).to.deep.equal(referenceExtract(body, hmacKey));
    expect(got['CMND#hmac']).to.have.length(2);
    expect(got.MaHoSo).to.deep.equal(['A', 'B']);
  });

  it('keeps the depth limit of 4 levels, JSON strings included', () => {
    const inner = JSON.stringify({ CMND: '079204000111' });
    const shallow = { a: { b: { c: inner } } }; // the string at depth 3, its record at 4: found
    const deep = { a: { b: { c: { d: inner } } } }; // the string at depth 4, its record at 5: not found
    const deepest = { a: { b: { c: { d: { e: '1' } } } } };
    for (const body of [shallow, deep, deepest, [[[[{ CMND: '1' }]]]], [[[[[{ CMND: '1' }]]]]]]) {
      expect(extractAuditKeys(body, { hmacKey })).to.deep.equal(referenceExtract(body, hmacKey));
    }
    expect(extractAuditKeys(shallow, { hmacKey })).to.have.property('CMND#hmac');
    expect(extractAuditKeys(deep, { hmacKey })).to.deep.equal({});
  });

  it('stops at 100 distinct values per key, as before', () => {
    const body = Array.from({ length: 150 }, (_, i) => ({ CMND: String(100000000000 + (i % 120)), MaHoSo: `H-${i}` }));
    const got = extractAuditKeys(body, { hmacKey });
    expect(got).to.deep.equal(referenceExtract(body, hmacKey));
    expect(got['CMND#hmac']).to.have.length(100);
  });
});

/**
 * Issue 19: the extractor keeps one walk's state (output slots, short value lists) across calls and tests
 * own keys with hasOwnProperty.call. It must give what the extractor before it gave
 * (test/helpers/reference-audit-extractor.ts, kept verbatim): the same names in the same order with the
 * same values, on hostile bodies, with one extractor kept across many bodies, as in the gateway.
 */
describe('audit key extractor with a reused state matches the one before it (issue 19)', () => {
  // Key names as senders write them: audit fields in any case and padding, names Object.prototype holds,
  // integer-like names (for-in lists them first), and ordinary fields.
  const NAME = fc.constantFrom(
    'CMND',
    'cmnd',
    ' CMND ',
    '\tsoDinhDanh\n',
    'SODINHDANH',
    'soCMND',
    'MaHoSo',
    'mahoso',
    ' maDinhDanhHoSo',
    'maHoSoMCDT',
    '__proto__',
    'constructor',
    'toString',
    'hasOwnProperty',
    '0',
    '7',
    '10',
    'data',
    'HoVaTen',
    'TenTTHC',
    'StatusId',
    '',
    ' ',
  );
  // Numbers a double cannot hold, carried as their source text (issue 14.6).
  const rawNumber = fc
    .constantFrom('12345678901234567890', '100109901234', '9007199254740993', '-1e400')
    .map((t) => (JSON as unknown as { rawJSON(text: string): unknown }).rawJSON(t));
  const scalar = fc.oneof(ID, CODE, fc.integer(), fc.double(), fc.boolean(), fc.constant(null), fc.string(), rawNumber);
  /** An object with these own keys, as JSON.parse makes it (`__proto__` an own key, not the prototype). */
  const record = (entries: readonly (readonly [string, unknown])[], proto: object | null = Object.prototype) => {
    const o = Object.create(proto) as Record<string, unknown>;
    for (const [k, v] of entries)
      Object.defineProperty(o, k, { value: v, enumerable: true, writable: true, configurable: true });
    return o;
  };
  const { tree } = fc.letrec((tie) => ({
    tree: fc.oneof(
      { depthSize: 'small', withCrossShrink: true },
      scalar,
      tie('obj'),
      tie('arr'),
      tie('json'),
      tie('batch'),
    ),
    obj: fc.array(fc.tuple(fc.oneof(NAME, fc.string()), tie('tree')), { maxLength: 8 }).map((e) => record(e)),
    arr: fc.array(fc.oneof(tie('tree'), ID, CODE), { maxLength: 6 }),
    // JSON text carried in a string, with or without blanks before it.
    json: fc.tuple(fc.constantFrom('', ' ', '\n\t'), tie('tree')).map(([pad, v]) => pad + JSON.stringify(v)),
    // Batches: records of a few key lists sharing first keys (one list a prefix of another, lists that part
    // after a common start), in any order.
    batch: fc
      .tuple(
        fc.array(fc.uniqueArray(NAME, { minLength: 1, maxLength: 6 }), { minLength: 1, maxLength: 3 }),
        fc.array(
          fc.tuple(fc.nat(), fc.nat(), fc.array(fc.oneof(scalar, tie('tree')), { minLength: 6, maxLength: 6 })),
          {
            maxLength: 8,
          },
        ),
      )
      .map(([lists, rows]) =>
        rows.map(([which, cut, values]) => {
          const keys = lists[which % lists.length];
          const n = keys.length - (cut % 3 === 0 ? cut % keys.length : 0);
          return record(keys.slice(0, n).map((k, i) => [k, values[i]] as const));
        }),
      ),
  }));

  const expectSame = (got: unknown, want: unknown) => {
    expect(JSON.stringify(got)).to.equal(JSON.stringify(want)); // names and values in the same order
    expect(got).to.deep.equal(want);
  };

  it('on generated hostile bodies, one extractor kept across all of them (default and configured fields)', () => {
    const key = createSecretKey(hmacKey);
    const configured = {
      hmacKey: key,
      dossierFields: ['maHoSo', 'MAHOSO', 'soBienNhan', 'data'],
      subjectFields: ['cmnd', 'HoVaTen', ' toString', 'constructor'],
    };
    const pairs = [
      [compileAuditKeyExtractor({ hmacKey: key }), compileReferenceAuditKeyExtractor({ hmacKey: key })],
      [compileAuditKeyExtractor(configured), compileReferenceAuditKeyExtractor(configured)],
    ] as const;
    fc.assert(
      fc.property(tree, (body) => {
        for (const [extract, reference] of pairs) expectSame(extract(body), reference(body));
      }),
      { numRuns: 1500 },
    );
  });

  it('reads batches whose records change key lists, call after call', () => {
    const extract = compileAuditKeyExtractor({ hmacKey });
    const reference = compileReferenceAuditKeyExtractor({ hmacKey });
    const a = (i: number) =>
      record([
        ['MaHoSo', `A-${i}`],
        ['x', 1],
        ['CMND', `00109901234${i % 10}`],
        ['y', 'z'],
      ]);
    const b = (i: number) =>
      record([
        ['MaHoSo', `B-${i}`],
        ['x', 1],
        ['soCMND', `07920400011${i % 10}`],
      ]);
    const c = (i: number) =>
      record([
        ['MaHoSo', `C-${i}`],
        ['x', 1],
      ]);
    const d = (i: number) =>
      record([
        ['MaHoSo', `D-${i}`],
        ['X', ' 123456789 '],
        ['CMND', `${i}`],
      ]);
    const bodies = [
      [a(1), b(2), c(3), a(4), d(5), b(6)],
      [c(1), c(2), a(3)],
      [d(1), a(2), b(3), c(4), d(5)],
      { wrap: [b(1), { inner: a(2) }, a(3)] },
      [a(1), JSON.stringify([b(2), c(3)]), a(4)],
    ];
    for (let round = 0; round < 3; round++) for (const body of bodies) expectSame(extract(body), reference(body));
  });

  it('skips keys lent by a prototype, reads null-prototype records, and keeps MAX_VALUES across records', () => {
    const extract = compileAuditKeyExtractor({ hmacKey });
    const reference = compileReferenceAuditKeyExtractor({ hmacKey });
    const lent = record(
      [['x', 1]],
      record([
        ['CMND', '001099012345'],
        ['MaHoSo', 'LENT'],
      ]),
    );
    const bare = record(
      [
        ['CMND', '079204000111'],
        ['MaHoSo', 'BARE'],
      ],
      null,
    );
    const many = Array.from({ length: 150 }, (_, i) =>
      record([
        ['MaHoSo', `H-${i}`],
        ['CMND', String(100000000000 + i)],
      ]),
    );
    for (const body of [lent, [lent, bare, lent], bare, many, [many, many]]) expectSame(extract(body), reference(body));
    expect(extract(many)['CMND#hmac']).to.have.length(100);
  });

  it('a call made from inside another (a getter of the body) gets its own state', () => {
    const extract = compileAuditKeyExtractor({ hmacKey });
    const reference = compileReferenceAuditKeyExtractor({ hmacKey });
    const inner = [{ MaHoSo: 'INNER', CMND: '001099012345' }];
    let seen: unknown;
    const body = { MaHoSo: 'OUTER' } as Record<string, unknown>;
    Object.defineProperty(body, 'data', {
      enumerable: true,
      get: () => {
        seen = extract(inner);
        return 'x';
      },
    });
    Object.defineProperty(body, 'CMND', { enumerable: true, value: '079204000111' });
    const got = extract(body);
    expect(seen).to.deep.equal(reference(inner));
    expectSame(got, { MaHoSo: 'OUTER', 'CMND#hmac': reference([{ CMND: '079204000111' }])['CMND#hmac'] });
  });
});

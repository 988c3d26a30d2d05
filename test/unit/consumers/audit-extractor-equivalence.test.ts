import { expect } from 'chai';
import { createHmac, createSecretKey } from 'node:crypto';
import fc from 'fast-check';
import { compileAuditKeyExtractor, extractAuditKeys } from '../../../src/observability/audit.ts';

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

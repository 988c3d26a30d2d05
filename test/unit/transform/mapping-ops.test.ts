import { expect } from 'chai';
import { ConfigPathError } from '../../../src/config/config-error.ts';
import {
  compileBodyStage,
  compileMapping,
  createMappingDeps,
  createValidatorFactory,
  loadCatalogs,
  mappingOps,
  type MappingDeps,
} from '../../../src/transform/index.ts';
import { CATALOGS, ethnicityOp, SCHEMAS } from './helpers.ts';
import { thrown } from '../../helpers/rejection.ts';

const deps: MappingDeps = createMappingDeps(loadCatalogs(CATALOGS));
const map = (ops: Record<string, unknown>[], body: unknown) => compileMapping(ops, deps, ['m'])(body);
const configError = (ops: Record<string, unknown>[]) =>
  thrown(ConfigPathError, () => compileMapping(ops, deps, ['routes', 2, 'request', 'mapping']));

describe('mapping ops: registry and config errors', () => {
  it('registers every op as a {schema, create} pair', () => {
    expect(Object.keys(mappingOps)).to.have.members([
      'rename',
      'drop',
      'default',
      'constant',
      'codelist',
      'date',
      'embeddedJson',
      'trim',
      'allowOnly',
    ]);
    for (const p of Object.values(mappingOps)) {
      expect(p.schema).to.include({ type: 'object', additionalProperties: false });
      expect(p.create).to.be.a('function');
    }
  });

  it('keeps every option default in the op schemas alone, the ones docs/transform.md documents', () => {
    const defaults = Object.fromEntries(
      Object.entries(mappingOps).map(([name, op]) => {
        const props = (op.schema as { properties: Record<string, { default?: unknown }> }).properties;
        const set = Object.entries(props).filter(([, s]) => 'default' in s);
        return [name, Object.fromEntries(set.map(([key, s]) => [key, s.default]))];
      }),
    );
    const common = { at: '', phase: 'pre' };
    const empty = { emptyValues: [''], onEmpty: 'keep' };
    expect(defaults).to.deep.equal({
      rename: { ...common, tolerant: false, onConflict: 'reject', reverse: false },
      drop: common,
      default: { ...common, when: 'missing' },
      constant: common,
      codelist: { ...common, ...empty },
      date: { ...common, ...empty, offset: '+07:00' },
      embeddedJson: { ...common, reserialize: false, maxDepth: 32, onInvalid: 'reject' },
      trim: { ...common, nfc: false },
      allowOnly: { ...common, action: 'reject' },
    });
  });

  it('fills defaults on a copy: the mapping config is not edited', () => {
    const ops = [{ op: 'date', field: 'd', from: ['dd/MM/yyyy'], to: 'yyyy-MM-dd' }];
    const before = structuredClone(ops);
    expect(map(ops, { d: '20/12/2018' }).body).to.deep.equal({ d: '2018-12-20' });
    expect(ops).to.deep.equal(before);
  });

  it('names an unknown op at its path', () => {
    const e = configError([
      { op: 'drop', field: 'a' },
      { op: 'rname', fields: {} },
    ]);
    expect(e.path).to.deep.equal(['routes', 2, 'request', 'mapping', 1, 'op']);
    expect(e.rule).to.equal('enum');
    expect(e.message).to.contain('rename');
  });

  it('names a misspelt option key (additionalProperties) at its path', () => {
    const e = configError([{ op: 'drop', feild: 'a' }]);
    expect(e.path).to.deep.equal(['routes', 2, 'request', 'mapping', 0, 'feild']);
    expect(e.rule).to.equal('additionalProperties');
  });

  it('requires the unknown-value policy of a codelist', () => {
    const e = configError([{ op: 'codelist', field: 'g', catalog: 'gender', from: 'name', to: 'id' }]);
    expect(e.path).to.deep.equal(['routes', 2, 'request', 'mapping', 0, 'unknown']);
    expect(e.rule).to.equal('required');
  });

  it('refuses an unknown catalogue, column, date format, path and forbidden keys', () => {
    const cases: [Record<string, unknown>, (string | number)[], string][] = [
      [
        { op: 'codelist', field: 'g', catalog: 'genders', from: 'name', to: 'id', unknown: 'pass' },
        ['catalog'],
        'reference',
      ],
      [
        { op: 'codelist', field: 'g', catalog: 'gender', from: 'gso', to: 'id', unknown: 'pass' },
        ['from'],
        'reference',
      ],
      [{ op: 'codelist', field: 'g', catalog: 'gender', from: 'id', to: 'gso', unknown: 'pass' }, ['to'], 'reference'],
      [{ op: 'date', field: 'd', from: ['dd/MM/yyyy', 'YYYY-qq'], to: 'dd/MM/yyyy' }, ['from', 1], 'format'],
      [{ op: 'date', field: 'd', from: ['HH:mm'], to: 'dd/MM/yyyy' }, ['from', 0], 'format'],
      [{ op: 'drop', at: '[].a..b', field: 'x' }, ['at'], 'path'],
      [{ op: 'drop', field: 'a[]' }, ['field'], 'path'],
      [{ op: 'rename', fields: { a: '__proto__' } }, ['fields', 'a'], 'forbidden'],
      [{ op: 'rename', fields: { 'A_*': 'B' } }, ['fields', 'A_*'], 'pattern'],
      [{ op: 'constant', values: { 'x.__proto__.y': 1 } }, ['values', 'x.__proto__.y'], 'path'],
    ];
    for (const [op, tail, rule] of cases) {
      const e = configError([op]);
      expect(e.path, JSON.stringify(op)).to.deep.equal(['routes', 2, 'request', 'mapping', 0, ...tail]);
      expect(e.rule, JSON.stringify(op)).to.equal(rule);
    }
  });

  it('refuses a codelist whose source columns make a value ambiguous (GSO 29 is not id 29)', () => {
    const e = configError([
      { op: 'codelist', field: 'd', catalog: 'ethnicity', from: ['gso', 'id'], to: 'id', unknown: 'pass' },
    ]);
    expect(e.rule).to.equal('ambiguous');
  });

  it('accepts `type:` as a synonym of `op:` (PluginRef)', () => {
    expect(map([{ type: 'drop', field: 'a' }], { a: 1, b: 2 }).body).to.deep.equal({ b: 2 });
  });
});

describe('mapping op: rename', () => {
  it('renames exact keys and prefix patterns in every record, keeping key order', () => {
    const out = map(
      [{ op: 'rename', at: '[]', fields: { PhongBanXuLy: 'DonViXuLy', 'HKTTC_*': 'HKTT_*' } }],
      [{ a: 1, HKTTC_MaTinh: '01', PhongBanXuLy: 'P', z: 2 }, { HKTTC_MaXa: '1' }],
    );
    expect(out.errors).to.deep.equal([]);
    expect(JSON.stringify(out.body)).to.equal('[{"a":1,"HKTT_MaTinh":"01","DonViXuLy":"P","z":2},{"HKTT_MaXa":"1"}]');
  });

  it('matches only exact keys unless tolerant; canonical names repair spaces and case', () => {
    const body = () => ({ ' UserIdCreated': 'u', hkttc_matinh: '01', phongbanxuly: 'P' });
    const strict = map([{ op: 'rename', fields: { PhongBanXuLy: 'DonViXuLy', 'HKTTC_*': 'HKTT_*' } }], body());
    expect(strict.body).to.deep.equal(body());
    const tolerant = map(
      [
        {
          op: 'rename',
          tolerant: true,
          fields: { PhongBanXuLy: 'DonViXuLy', 'HKTTC_*': 'HKTT_*' },
          canonical: ['UseridCreated'],
        },
      ],
      body(),
    );
    expect(tolerant.body).to.deep.equal({ UseridCreated: 'u', HKTT_matinh: '01', DonViXuLy: 'P' });
  });

  it('reports two keys landing on one name with different values, unless told which wins', () => {
    const body = () => ({ HKTT_MaTinh: '01', HKTTC_MaTinh: '02' });
    const ops = (onConflict?: string) => [
      { op: 'rename', fields: { 'HKTTC_*': 'HKTT_*' }, ...(onConflict ? { onConflict } : {}) },
    ];
    const rejected = map(ops(), body());
    expect(rejected.errors).to.deep.equal([
      {
        pointer: '/HKTT_MaTinh',
        rule: 'renameConflict',
        message: 'Trường /HKTT_MaTinh được gửi hai lần dưới hai tên khác nhau (renameConflict)',
        limit: 'HKTT_MaTinh',
      },
    ]);
    expect(map(ops('keep'), body()).body).to.deep.equal({ HKTT_MaTinh: '01' });
    expect(map(ops('overwrite'), body()).body).to.deep.equal({ HKTT_MaTinh: '02' });
    expect(map(ops(), { HKTT_MaTinh: '01', HKTTC_MaTinh: '01' }).errors).to.deep.equal([]);
  });

  it('never copies a __proto__ own key into the rebuilt object', () => {
    const body = JSON.parse('{"__proto__": {"polluted": 1}, "A_x": 1}');
    const out = map([{ op: 'rename', fields: { 'A_*': 'B_*' } }], body).body as Record<string, unknown>;
    expect(Object.getPrototypeOf(out)).to.equal(Object.prototype);
    expect(out).to.deep.equal({ B_x: 1 });
    expect(({} as Record<string, unknown>).polluted).to.equal(undefined);
  });
});

describe('mapping ops: drop, default, constant, trim, allowOnly', () => {
  it('drop removes fields at nested paths and in arrays', () => {
    const out = map(
      [{ op: 'drop', at: '[]', fields: ['a', 'b.c', 'items[].x'] }],
      [{ a: 1, b: { c: 2, d: 3 }, items: [{ x: 1, y: 2 }, { x: 3 }] }],
    );
    expect(out.body).to.deep.equal([{ b: { d: 3 }, items: [{ y: 2 }, {}] }]);
  });

  it('default fills missing (or empty with when: empty) fields; constant always sets', () => {
    const ops = [
      { op: 'default', at: '[]', values: { StatusId: 1, 'meta.src': 'lgsp' } },
      { op: 'default', at: '[]', when: 'empty', values: { MaHuyen: '000' } },
      { op: 'constant', at: '[]', values: { Kenh: 'LGSP', tags: ['a'] } },
    ];
    const out = map(ops, [{ StatusId: 3, MaHuyen: '' }, { Kenh: 'x' }]);
    expect(out.body).to.deep.equal([
      { StatusId: 3, MaHuyen: '000', meta: { src: 'lgsp' }, Kenh: 'LGSP', tags: ['a'] },
      { StatusId: 1, meta: { src: 'lgsp' }, MaHuyen: '000', Kenh: 'LGSP', tags: ['a'] },
    ]);
  });

  it('constant object values are copied per request: editing one body does not leak into the next', () => {
    const fn = compileMapping([{ op: 'constant', values: { tags: ['a'] } }], deps, ['m']);
    const first = fn({}).body as { tags: string[] };
    first.tags.push('leak');
    expect(fn({}).body).to.deep.equal({ tags: ['a'] });
  });

  it('trim trims listed or all string fields, optionally to NFC', () => {
    const nfd = 'Nguye\u0302\u0303n';
    const out = map([{ op: 'trim', at: '[]', nfc: true }], [{ a: ' x ', b: 1, c: ` ${nfd} ` }]);
    expect(out.body).to.deep.equal([{ a: 'x', b: 1, c: 'Nguyễn' }]);
    expect(map([{ op: 'trim', field: 'a' }], { a: ' x ', b: ' y ' }).body).to.deep.equal({ a: 'x', b: ' y ' });
  });

  it('allowOnly drops or reports keys not listed', () => {
    const body = () => [{ a: 1, b: 2 }];
    expect(map([{ op: 'allowOnly', at: '[]', fields: ['a'], action: 'drop' }], body()).body).to.deep.equal([{ a: 1 }]);
    expect(map([{ op: 'allowOnly', at: '[]', fields: ['a'] }], body()).errors.map((e) => e.pointer)).to.deep.equal([
      '/0/b',
    ]);
  });

  it('skips containers that are missing or of another shape', () => {
    const ops = [{ op: 'drop', at: '[].a', field: 'x' }];
    expect(map(ops, { a: { x: 1 } }).body).to.deep.equal({ a: { x: 1 } });
    expect(map(ops, [null, 3, { a: 'str' }, { a: { x: 1, y: 2 } }]).body).to.deep.equal([
      null,
      3,
      { a: 'str' },
      { a: { y: 2 } },
    ]);
  });
});

describe('mapping op: codelist', () => {
  const eth = ethnicityOp;

  it('maps GSO codes with or without leading zeros, names in any case/composition, aliases', () => {
    const out = map(eth(), [
      { DanTocId: '01' },
      { DanTocId: 1 },
      { DanTocId: ' kinh ' },
      { DanTocId: 'Kinh'.normalize('NFD') },
      { DanTocId: 'Mông' },
      { DanTocId: '54' },
    ]);
    expect(out.errors).to.deep.equal([]);
    expect((out.body as { DanTocId: unknown }[]).map((r) => r.DanTocId)).to.deep.equal([
      '29',
      '29',
      '29',
      '29',
      '36',
      '82',
    ]);
  });

  it('maps ids back to names (catalogues work both ways)', () => {
    const out = map([{ op: 'codelist', field: 'd', catalog: 'ethnicity', from: 'id', to: 'name', unknown: 'pass' }], {
      d: 82,
    });
    expect(out.body).to.deep.equal({ d: 'Rơ măm' });
  });

  it('unknown: reject gives a FieldError naming the record; unknown: pass leaves the value', () => {
    const rejected = map(eth(), [{ DanTocId: '01' }, { DanTocId: '55' }]);
    expect(rejected.errors).to.deep.equal([
      {
        pointer: '/1/DanTocId',
        rule: 'codelist',
        message:
          'Trường /1/DanTocId có giá trị không có trong danh mục "ethnicity" (cột gso, name, aliases) (codelist)',
        limit: 'ethnicity',
      },
    ]);
    expect(map(eth({ unknown: 'pass' }), [{ DanTocId: '55' }]).body).to.deep.equal([{ DanTocId: '55' }]);
    expect(map(eth(), [{ DanTocId: { x: 1 } }]).errors[0].rule).to.equal('codelist');
  });

  it('empty values: keep (default), drop, reject', () => {
    expect(map(eth(), [{ DanTocId: '' }]).body).to.deep.equal([{ DanTocId: '' }]);
    expect(
      map(eth({ emptyValues: ['', 'NA'], onEmpty: 'drop' }), [{ DanTocId: 'na' }, { DanTocId: null }]).body,
    ).to.deep.equal([{}, {}]);
    expect(map(eth({ onEmpty: 'reject' }), [{ DanTocId: ' ' }]).errors.map((e) => e.rule)).to.deep.equal(['required']);
  });

  it('gender: ids, population-database digits, names, aliases map; the ambiguous "0" does not', () => {
    const ops = [
      {
        op: 'codelist',
        field: 'g',
        catalog: 'gender',
        from: ['id', 'code', 'name', 'aliases'],
        to: 'id',
        as: 'string',
        unknown: 'reject',
      },
    ];
    for (const [v, want] of [
      ['1', '1034'],
      ['2', '1035'],
      ['Nữ', '1035'],
      ['nam', '1034'],
      ['F', '1035'],
      [1034, '1034'],
    ]) {
      expect(map(ops, { g: v }).body, String(v)).to.deep.equal({ g: want });
    }
    expect(map(ops, { g: '0' }).errors.map((e) => e.rule)).to.deep.equal(['codelist']);
  });

  it('as: number converts the output', () => {
    const ops = [
      { op: 'codelist', field: 'g', catalog: 'gender', from: 'name', to: 'id', as: 'number', unknown: 'pass' },
    ];
    expect(map(ops, { g: 'Nam' }).body).to.deep.equal({ g: 1034 });
  });
});

describe('mapping op: date', () => {
  const op = (extra: Record<string, unknown> = {}) => [
    {
      op: 'date',
      at: '[]',
      fields: ['d'],
      from: ['dd/MM/yyyy', 'dd/MM/yyyy HH:mm:ss', 'yyyyMMddHHmmss', 'yyyyMMdd', 'ISO'],
      to: 'yyyyMMddHHmmss',
      ...extra,
    },
  ];
  const one = (v: unknown, extra?: Record<string, unknown>) => map(op(extra), [{ d: v }]);

  it('reads every declared format and writes the target', () => {
    const cases: [unknown, string][] = [
      ['12/12/2022', '20221212000000'],
      ['12/12/2021 12:22:34', '20211212122234'],
      ['20181220221912', '20181220221912'],
      [20181220221912, '20181220221912'],
      ['20240229', '20240229000000'],
      ['2021-12-12', '20211212000000'],
      ['2021-12-12T12:22:34', '20211212122234'],
      ['2021-12-12T05:22:34.5Z', '20211212122234'],
      ['2021-12-12T12:22:34+07:00', '20211212122234'],
      ['2021-12-31T20:00:00Z', '20220101030000'],
      [' 12/12/2022 ', '20221212000000'],
    ];
    for (const [input, want] of cases) {
      const out = one(input);
      expect(out.errors, String(input)).to.deep.equal([]);
      expect(out.body, String(input)).to.deep.equal([{ d: want }]);
    }
  });

  it('is strict: impossible dates and other shapes are FieldErrors naming the field and the formats', () => {
    for (const bad of [
      '31/02/2022',
      '29/02/2023',
      '12/13/2022',
      '1/2/2022',
      '2022-02-30',
      '20221212246000',
      '12/12/2022 25:00:00',
      'hôm qua',
      true,
    ]) {
      const out = one(bad);
      expect(out.errors, String(bad)).to.have.length(1);
      expect(out.errors[0]).to.deep.include({ pointer: '/0/d', rule: 'date' });
      expect(out.errors[0].message).to.contain('/0/d').and.contain('dd/MM/yyyy');
    }
  });

  it('writes other targets (dd/MM/yyyy, ISO with the configured offset)', () => {
    expect(one('20211212122234', { to: 'dd/MM/yyyy' }).body).to.deep.equal([{ d: '12/12/2021' }]);
    expect(one('12/12/2021 12:22:34', { to: 'ISO' }).body).to.deep.equal([{ d: '2021-12-12T12:22:34+07:00' }]);
    expect(one('2021-12-12T12:22:34Z', { to: 'ISO', offset: '+00:00' }).body).to.deep.equal([
      { d: '2021-12-12T12:22:34+00:00' },
    ]);
  });

  it('formats outside the compiled set go through date-fns', () => {
    const out = map([{ op: 'date', field: 'd', from: ['do MMMM yyyy'], to: 'EEEE dd/MM/yyyy' }], {
      d: '1st March 2024',
    });
    expect(out).to.deep.equal({ body: { d: 'Friday 01/03/2024' }, errors: [] });
  });

  it('empty values: keep by default, drop, reject', () => {
    expect(one('').body).to.deep.equal([{ d: '' }]);
    expect(one('', { onEmpty: 'drop' }).body).to.deep.equal([{}]);
    expect(one(null, { onEmpty: 'reject' }).errors.map((e) => e.rule)).to.deep.equal(['required']);
  });
});

describe('mapping op: embeddedJson and the post-validation phase', () => {
  it('parses a JSON string field, reports a broken one with its position, stringifies back', () => {
    const parse = [{ op: 'embeddedJson', field: 'loAS', mode: 'parse' }];
    expect(map(parse, { loAS: '[{"level":3}]' }).body).to.deep.equal({ loAS: [{ level: 3 }] });
    const bad = map(parse, { loAS: '[{"level":3' });
    expect(bad.errors).to.have.length(1);
    expect(bad.errors[0]).to.include({ pointer: '/loAS', rule: 'embeddedJson' });
    expect(bad.errors[0].message).to.contain('dòng 1');
    expect(map([{ ...parse[0], onInvalid: 'pass' }], { loAS: 'x' })).to.deep.equal({ body: { loAS: 'x' }, errors: [] });
    expect(map(parse, { loAS: '{"__proto__":{"x":1}}' }).errors[0].message).to.contain('__proto__');
    expect(map([{ op: 'embeddedJson', field: 'data', mode: 'stringify' }], { data: { a: 1 } }).body).to.deep.equal({
      data: '{"a":1}',
    });
  });

  it('reserialize: the schema sees the parsed value, the upstream gets a string again', () => {
    const validators = createValidatorFactory(SCHEMAS);
    const stage = compileBodyStage(
      {
        mapping: [{ op: 'embeddedJson', field: 'data', mode: 'parse', reserialize: true }],
        schema: 'hotich/push.json',
      },
      { ...deps, validators },
      ['routes', 0, 'request'],
    );
    const body = {
      module: 'LTKT',
      maHoSoMCDT: 'H1',
      maDonVi: '00019',
      ngayTiepNhan: '05/07/2024 08:30:00',
      data: '{"hoTen":"A"}',
    };
    expect(stage(body)).to.deep.equal({ body: { ...body, data: '{"hoTen":"A"}' }, errors: [] });
    const broken = stage({ ...body, data: '{"hoTen":' });
    expect(broken.errors.map((e) => `${e.pointer} ${e.rule}`)).to.deep.equal(['/data embeddedJson']);
  });

  it('phase: post runs any op after validation', () => {
    const fn = compileMapping(
      [
        { op: 'constant', values: { x: 1 } },
        { op: 'drop', field: 'x', phase: 'post' },
      ],
      deps,
      ['m'],
    );
    expect(fn({}).body).to.deep.equal({ x: 1 });
    expect(fn.post!({ x: 1 }).body).to.deep.equal({});
  });
});

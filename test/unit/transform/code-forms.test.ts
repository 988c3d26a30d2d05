import { expect } from 'chai';
import { ConfigPathError } from '../../../src/config/config-error.ts';
import { configCodeOf } from '../../../src/errors/config-codes.ts';
import {
  compileCodeForms,
  compileMapping,
  createMappingDeps,
  describeCodeForms,
  loadCatalogs,
  type MappingDeps,
} from '../../../src/transform/index.ts';
import { normalizeCode } from '../../../src/transform/text.ts';
import { thrown } from '../../helpers/rejection.ts';
import { CATALOGS, ethnicityOp } from './helpers.ts';

const catalogs = loadCatalogs(CATALOGS);

/** The shipped DanTocId op: GSO codes and names by default, to MOLISA ids. */
const ethnicity = ethnicityOp();

const profiles = {
  gso: { codeForms: { ethnicity: ['gso', 'name', 'aliases'] } },
  ids: { codeForms: { ethnicity: 'id' } },
  names: { codeForms: { ethnicity: ['name', 'aliases'] } },
  undeclared: {},
};

function deps(senders: readonly string[] | undefined, consumers: Record<string, object> = profiles): MappingDeps {
  return { ...createMappingDeps(catalogs, compileCodeForms(consumers, catalogs)), senders };
}

const mapAs = (fn: ReturnType<typeof compileMapping>, consumer: string | undefined, value: unknown) =>
  fn([{ DanTocId: value }], undefined, consumer);

describe('code lists: lookup keys', () => {
  it('ignore case, NFC, leading zeros and the hyphen/space difference, never diacritics', () => {
    expect(normalizeCode('Xơ-Đăng')).to.equal(normalizeCode('xơ đăng'));
    expect(normalizeCode('Bà Rịa – Vũng Tàu')).to.equal(normalizeCode('Bà Rịa Vũng Tàu'));
    expect(normalizeCode('Khơ-mú'.normalize('NFD'))).to.equal(normalizeCode('KHƠ MÚ'));
    expect(normalizeCode('H’Mông')).to.equal(normalizeCode("H'Mông"));
    expect(normalizeCode('007')).to.equal('7');
    expect(normalizeCode('Lự')).to.not.equal(normalizeCode('Lụ'));
    expect(normalizeCode('Lụ')).to.not.equal(normalizeCode('Lu'));
    expect(normalizeCode('-1')).to.not.equal(normalizeCode('1'));
  });
});

describe('code lists: the shipped catalogues (issue 16.1, 16.5)', () => {
  const eth = catalogs.get('ethnicity')!;
  it('ethnicity: the standard spellings are aliases of the seed-printed names', () => {
    for (const [alias, id] of [
      ['Lự', 70],
      ['Pà Thẻn', 74],
      ['Cống', 76],
      ['Bố Y', 77],
      ['Ơ Đu', 81],
      ['Giẻ Triêng', 55],
    ] as const) {
      expect(eth.lookup('aliases', alias), alias).to.include({ id });
    }
    expect(eth.lookup('name', 'Xơ Đăng')).to.include({ id: 42 });
    expect(eth.lookup('name', 'Bru Vân Kiều')).to.include({ id: 51 });
    expect(eth.lookup('name', 'Lu')).to.equal(undefined);
  });

  it('ID-card issuers: Đắk Lắk, the old tone-mark placement, a dashed Bà Rịa - Vũng Tàu', () => {
    const iss = catalogs.get('id-card-issuers')!;
    expect(iss.lookup('aliases', 'Đắk Lắk')).to.include({ id: 1234 });
    expect(iss.lookup('aliases', 'Tỉnh Đắk Nông')).to.include({ id: 1235 });
    expect(iss.lookup('aliases', 'Hoà Bình')).to.include({ id: 1213 });
    expect(iss.lookup('name', 'Tỉnh Bà Rịa - Vũng Tàu')).to.include({ id: 1238 });
  });

  it('gender: MOLISA ids, population-database digits and names are three columns that never collide', () => {
    const g = catalogs.get('gender')!;
    expect(g.columns).to.deep.equal(['id', 'code', 'name']);
    expect(g.lookup('code', '2')).to.include({ id: 1035 });
  });

  it('molisa-procedures: the eleven national codes of seed 004 §V, the misprints as aliases', () => {
    const p = catalogs.get('molisa-procedures')!;
    expect(p.entries.map((e) => e.code)).to.deep.equal([
      '2.000286',
      '2.000282',
      '2.000477',
      '1.001776',
      '1.001758',
      '1.001753',
      '1.001731',
      '2.000777',
      '1.001739',
      '2.000744',
      '2.000751',
    ]);
    for (const [misprint, code] of [
      ['2.0000286', '2.000286'],
      ['2.0000282', '2.000282'],
      ['2.0000477', '2.000477'],
    ])
      expect(p.lookup('aliases', misprint)).to.include({ code });
    expect(p.lookup('code', '2.0000286')).to.equal(undefined);
  });
});

describe('codelist op: the form is declared per consumer, never guessed (issue 16.1)', () => {
  const fn = compileMapping(ethnicity, deps(['gso', 'ids', 'names']), ['routes', 0, 'request', 'mapping']);

  it('"29" is Khơ-mú (57) from a GSO sender and Kinh (29) from a sender of MOLISA ids', () => {
    expect(mapAs(fn, 'gso', '29').body).to.deep.equal([{ DanTocId: '57' }]);
    expect(mapAs(fn, 'ids', '29').body).to.deep.equal([{ DanTocId: '29' }]);
    expect(mapAs(fn, 'ids', '029').body).to.deep.equal([{ DanTocId: '29' }]);
    expect(mapAs(fn, 'names', 'Kinh').body).to.deep.equal([{ DanTocId: '29' }]);
  });

  it('a value outside the declared form is refused naming the field, the catalogue and whose declaration', () => {
    for (const [who, value] of [
      ['ids', '01'],
      ['ids', 'Kinh'],
      ['ids', '28'],
      ['names', '29'],
      ['gso', '55'],
    ]) {
      const { errors } = mapAs(fn, who, value);
      expect(errors, `${who} ${value}`).to.have.length(1);
      expect(errors[0]).to.include({ pointer: '/0/DanTocId', rule: 'codelist', limit: 'ethnicity' });
      expect(errors[0].message).to.include('"ethnicity"');
    }
    expect(mapAs(fn, 'ids', '01').errors[0].message).to.include('cột id, theo khai báo của hệ thống gửi');
  });

  it('a request with no consumer (a response stage) reads through the route default', () => {
    expect(mapAs(fn, undefined, '29').body).to.deep.equal([{ DanTocId: '57' }]);
  });

  it('a consumer of the route without a profile, where the default misreads ids, fails the load at its codeForms', () => {
    const e = thrown(ConfigPathError, () =>
      compileMapping(ethnicity, deps(['gso', 'undeclared']), ['routes', 0, 'request', 'mapping']),
    );
    expect(e.path).to.deep.equal(['consumers', 'undeclared', 'codeForms']);
    expect(e.rule).to.equal('code-form');
    expect(configCodeOf(e.rule)).to.equal('CFG_CODE_FORM');
    expect(e.message).to.include('"ethnicity"').and.include('gso 29').and.include('column id');
  });

  it('where the default cannot misread another column, an undeclared consumer is read by it', () => {
    const safe = [{ ...ethnicity[0], from: ['name', 'aliases'] }];
    const f = compileMapping(safe, deps(['undeclared']), ['m']);
    expect(mapAs(f, 'undeclared', 'Tày').body).to.deep.equal([{ DanTocId: '30' }]);
    expect(mapAs(f, 'undeclared', '29').errors[0]).to.include({ rule: 'codelist', limit: 'ethnicity' });
    // gender: ids, digits and names never collide, so the shipped default serves everyone
    const gender = [
      {
        op: 'codelist',
        field: 'g',
        catalog: 'gender',
        from: ['id', 'code', 'name', 'aliases'],
        to: 'id',
        unknown: 'reject',
      },
    ];
    expect(() => compileMapping(gender, deps(['undeclared']), ['m'])).to.not.throw();
  });

  it('profiles are checked at load: catalogue, columns, and no value naming two entries', () => {
    const bad = (codeForms: Record<string, unknown>) =>
      thrown(ConfigPathError, () => compileCodeForms({ x: { codeForms } } as never, catalogs));
    expect(bad({ ethnicities: 'id' })).to.include({ rule: 'reference' });
    expect(bad({ ethnicity: 'code' }).path).to.deep.equal(['consumers', 'x', 'codeForms', 'ethnicity']);
    expect(bad({ ethnicity: ['gso', 'iso'] }).path).to.deep.equal(['consumers', 'x', 'codeForms', 'ethnicity', 1]);
    const ambiguous = bad({ ethnicity: ['gso', 'id'] });
    expect(ambiguous.rule).to.equal('ambiguous');
    expect(configCodeOf(ambiguous.rule)).to.equal('CFG_CODE_FORM');
    expect(() => compileCodeForms({ x: { codeForms: { gender: ['id', 'code', 'name'] } } }, catalogs)).to.not.throw();
  });

  it('describeCodeForms: each consumer of a route and the columns its values are read through', () => {
    const readings = describeCodeForms(ethnicity, ['gso', 'ids', 'other'], profiles);
    expect(readings).to.deep.equal([
      {
        fields: ['DanTocId'],
        catalog: 'ethnicity',
        to: 'id',
        defaultColumns: ['gso', 'name', 'aliases'],
        consumers: [
          { consumer: 'gso', columns: ['gso', 'name', 'aliases'], declared: true },
          { consumer: 'ids', columns: ['id'], declared: true },
          { consumer: 'other', columns: ['gso', 'name', 'aliases'], declared: false },
        ],
      },
    ]);
  });
});

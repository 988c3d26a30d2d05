import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'chai';
import { createValidatorFactory } from '../../../src/transform/index.ts';
import { FIXTURES, fixture, SCHEMAS } from './helpers.ts';

/**
 * Data-driven schema cases (KrakenD style): each `test/fixtures/<upstream>/<name>.invalid.json` holds
 * `{name, in, errors: [{pointer, rule}]}` run against `schemas/<upstream>/<name>.json`. The error list must
 * match exactly (pointer and rule), and every message must be Vietnamese text naming the pointer and rule.
 */
interface Case {
  name: string;
  in: unknown;
  errors: { pointer: string; rule: string }[];
}

const factory = createValidatorFactory(SCHEMAS);
const sortKey = (e: { pointer: string; rule: string }) => `${e.pointer} ${e.rule}`;

for (const upstream of ['molisa', 'vneid', 'hotich', 'population', 'dvclt']) {
  for (const file of readdirSync(join(FIXTURES, upstream)).filter((f) => f.endsWith('.invalid.json'))) {
    const schemaFile = `${upstream}/${file.replace('.invalid.json', '.json')}`;
    describe(`schema ${schemaFile}: invalid cases`, () => {
      for (const c of fixture(`${upstream}/${file}`) as Case[]) {
        it(c.name, () => {
          const errors = factory.compile(schemaFile, ['test'])(c.in);
          expect(
            errors
              .map((e) => ({ pointer: e.pointer, rule: e.rule }))
              .sort((a, b) => sortKey(a).localeCompare(sortKey(b))),
          ).to.deep.equal([...c.errors].sort((a, b) => sortKey(a).localeCompare(sortKey(b))));
          for (const e of errors) {
            expect(e.message).to.contain(`(${e.rule})`);
            if (e.pointer !== '') expect(e.message).to.contain(e.pointer);
            expect(e.message).to.match(/^(Trường|Thiếu|Dữ liệu|Cần)/);
          }
        });
      }
    });
  }
}

describe('schema valid samples', () => {
  const valid: [string, unknown][] = [
    ['vneid/qr-lookup.request.json', { qrID: 'abc' }],
    [
      'vneid/qr-lookup.response.json',
      {
        responseCode: '00',
        responseMessage: 'OK',
        data: {
          soDinhDanh: '001099012345',
          hoVaTen: 'Nguyễn Văn An',
          gioiTinh: '1',
          ngayThangNamSinh: '19990101',
          noiThuongTru: 'Hà Nội',
          extra: 'agreed extra field',
        },
      },
    ],
    ['vneid/qr-lookup.response.json', { responseCode: '01', responseMessage: 'QR không đúng', data: null }],
    // Issue 16.2: the fields returned depend on the services the department registered (seed 001 §5.2).
    [
      'vneid/qr-lookup.response.json',
      { responseCode: '200', responseMessage: 'OK', data: { soDinhDanh: '001099012345', hoVaTen: 'Nguyễn Văn An' } },
    ],
    [
      'vneid/qr-lookup.response.json',
      { responseCode: '200', responseMessage: 'OK', data: { noiThuongTru: `Thôn Đông, ${'x'.repeat(102)}` } },
    ],
    [
      'vneid/userinfo.response.json',
      { SoDinhDanh: '001099012345', HoVaTen: 'A', NgayThangNamSinh: '20000229', LoaiTaiKhoan: '1' },
    ],
    ['hotich/status-query.json', { maDinhDanhHoSo: ['H08.37.80-240705-0015'], maTinh: '52', module: 'LTKT' }],
    [
      'hotich/push.json',
      {
        module: 'LTKS',
        maHoSoMCDT: 'H08-1',
        maDonVi: '213',
        data: {},
        ngayTiepNhan: '29/02/2024 23:59:59',
        fileDinhKem: [{ id: 1, duLieuTepDinhKem: 'aGVsbG8=' }],
      },
    ],
    ['population/by-personal-id.request.json', { SoDinhDanh: '001099012345', MaYeuCau: 'x', other: 1 }],
    ['population/verify-citizen.request.json', { soCMND: '012345678' }],
    ['population/verify-citizen.request.json', { soCMND: '012345678901' }],
    ['population/citizen-search.request.json', { hoVaTen: 'A', namSinh: 1990 }],
  ];
  for (const [file, body] of valid) {
    it(`${file} accepts ${JSON.stringify(body).slice(0, 60)}`, () => {
      expect(factory.compile(file, ['test'])(body)).to.deep.equal([]);
    });
  }
});

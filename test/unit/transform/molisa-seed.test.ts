import { expect } from 'chai';
import {
  compileBodyStage,
  compileMapping,
  createMappingDeps,
  createValidatorFactory,
  loadCatalogs,
} from '../../../src/transform/index.ts';
import { CATALOGS, fixture, SCHEMAS, shippedMappings } from './helpers.ts';

/**
 * The seed's own MOLISA examples (seed 004 Appendix 1, made valid JSON in test/fixtures/molisa) through the
 * shipped mappings (config/mappings/molisa.yaml) and then the schemas: mapped they pass, unmapped they fail,
 * so every op in the shipped lists is needed.
 */
const catalogs = loadCatalogs(CATALOGS);
const deps = createMappingDeps(catalogs);
const validators = createValidatorFactory(SCHEMAS);
const shipped = shippedMappings('molisa');

function stage(op: 'DongBoDVC' | 'XuLyHoSo' | 'FileQuyetDinh') {
  const conf = shipped[op].request;
  return {
    map: compileMapping(conf.mapping!, deps, ['mappings', op, 'request', 'mapping']),
    validate: validators.compile(conf.schema!, ['mappings', op, 'request', 'schema']),
    full: compileBodyStage(conf, { ...deps, validators }, ['mappings', op, 'request']),
  };
}

describe('MOLISA seed examples through the shipped mappings', () => {
  for (const op of ['DongBoDVC', 'XuLyHoSo', 'FileQuyetDinh'] as const) {
    it(`${op}: mapped seed example passes its schema`, () => {
      const s = stage(op);
      const { body, errors } = s.map(fixture(`molisa/${op}.seed.json`));
      expect(errors).to.deep.equal([]);
      expect(s.validate(body)).to.deep.equal([]);
      expect(s.full(fixture(`molisa/${op}.seed.json`))).to.deep.equal({ body, errors: [] });
    });
    it(`${op}: unmapped seed example fails its schema`, () => {
      expect(stage(op).validate(fixture(`molisa/${op}.seed.json`))).to.not.deep.equal([]);
    });
  }

  it('DongBoDVC: the mapped records carry the table names, MOLISA ids and the seed date formats', () => {
    const { body } = stage('DongBoDVC').map(fixture('molisa/DongBoDVC.seed.json'));
    const [r0, r1] = body as Record<string, unknown>[];
    expect(Object.keys(r0).filter((k) => k.startsWith('HKTTC_'))).to.deep.equal([]);
    expect(r0).to.include({
      HKTT_MaTinh: '01',
      HKTT_MaThon: 'Tổ dân phố Đại Cát 3',
      DanTocId: '29', // GSO "01" = Kinh = id 29 (seed 004 §VI.2)
      CMND_NoiCap: '1195', // "Hà Nội" (§VI.4)
      NgayThangNamSinh: '12/12/2022',
      SubmittedDate: '12/12/2021 12:22:34',
    });
    expect(r0).to.not.have.property('GioiTinhId'); // "NA": not given, optional field dropped
    expect(r1).to.include({
      GioiTinhId: '1035',
      DanTocId: '30', // "Tày"
      NgayThangNamSinh: '29/02/1952',
      CMND_NgayCap: '30/06/2021',
      CMND_NoiCap: '1048',
      HKTT_MaTinh: '01',
      StatusId: 2,
      SubmittedDate: '01/03/2023 09:15:00', // 02:15Z is 09:15 in Vietnam
    });
  });

  it('DongBoDVC: unmapped, the schema names the HKTTC_ keys and the "NA" gender', () => {
    const rules = stage('DongBoDVC')
      .validate(fixture('molisa/DongBoDVC.seed.json'))
      .map((e) => `${e.pointer} ${e.rule}`);
    expect(rules).to.include.members([
      '/0/HKTTC_MaTinh additionalProperties',
      '/0/HKTTC_ChiTiet additionalProperties',
      '/0/GioiTinhId pattern',
      '/1/NgayThangNamSinh format',
    ]);
  });

  it('XuLyHoSo: PhongBanXuLy becomes DonViXuLy, " UserIdCreated" becomes UseridCreated, dates yyyyMMddHHmmss', () => {
    const { body } = stage('XuLyHoSo').map(fixture('molisa/XuLyHoSo.seed.json'));
    const [r0, r1] = body as Record<string, unknown>[];
    expect(r0).to.include({ DonViXuLy: 'Phòng quản lý tài chính', UseridCreated: '', ThoiDiemXuLy: '20181220221912' });
    expect(r0).to.not.have.any.keys('PhongBanXuLy', ' UserIdCreated', 'DateCreated', 'DateEdited');
    expect(r1).to.include({
      ThoiDiemXuLy: '20181221093000',
      NgayBatDau: '20181220000000',
      NgayKetThucTheoQuyDinh: '20190105170000',
      UseridCreated: 'canbo.lđtbxh',
      DateCreated: '20181221093000',
    });
  });

  it('XuLyHoSo as printed in the seed: the empty required dates are reported as missing, nothing else', () => {
    const { errors } = stage('XuLyHoSo').full(fixture('molisa/XuLyHoSo.seed-verbatim.json'));
    expect(errors.map((e) => e.message)).to.deep.equal([
      'Thiếu trường bắt buộc /0/NgayBatDau (required)',
      'Thiếu trường bắt buộc /0/NgayKetThucTheoQuyDinh (required)',
    ]);
  });

  it('FileQuyetDinh: surrounding spaces trimmed, key case repaired', () => {
    const { body } = stage('FileQuyetDinh').map(fixture('molisa/FileQuyetDinh.seed.json'));
    expect(body).to.deep.equal([
      {
        MaHoSo: '000.00.18.G12-020819-0001',
        HoVaTen: 'Nguyễn Văn An',
        CMND: '122234567890',
        Url: 'https://bttxh.dttt.vn/Files/QD.pdf',
      },
      {
        MaHoSo: '000.00.18.G12-020819-0002',
        HoVaTen: 'Lê Thị C',
        CMND: '001150000123',
        Url: 'https://bttxh.dttt.vn/Files/QD-0002.pdf',
      },
    ]);
  });

  it('DongBoDVC: an unknown ethnicity, an ambiguous gender "0" and 31/02 are FieldErrors naming the record', () => {
    const body = fixture('molisa/DongBoDVC.seed.json') as Record<string, unknown>[];
    body[1].DanTocId = '99';
    body[1].GioiTinhId = '0';
    body[0].NgayThangNamSinh = '31/02/2022';
    const { errors } = stage('DongBoDVC').full(body);
    expect(errors.map((e) => `${e.pointer} ${e.rule}`)).to.deep.equal([
      '/0/NgayThangNamSinh date',
      '/1/GioiTinhId codelist',
      '/1/DanTocId codelist',
    ]);
    expect(errors[0].message).to.equal(
      'Trường /0/NgayThangNamSinh không phải ngày hợp lệ theo định dạng dd/MM/yyyy, dd/MM/yyyy HH:mm:ss, d/M/yyyy, d/M/yyyy H:m:s, yyyyMMddHHmmss, yyyyMMdd, ISO (date)',
    );
  });
});

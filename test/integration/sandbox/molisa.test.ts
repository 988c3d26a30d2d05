import { expect } from 'chai';
import { postJson, start, type Running, type Json } from './helpers.ts';

/** A DongBoDVC record as the gateway should send it after normalisation (seed 004 §IV.3.1 names and layouts). */
const dossier = (over: Record<string, unknown> = {}) => ({
  MaHoSo: '000.00.18.G12-191106-0001',
  MaTTHC: '1.001753',
  TenTTHC: 'Quyết định trợ cấp xã hội hàng tháng',
  HoVaTen: 'Nguyễn Văn Minh',
  NgayThangNamSinh: '14/03/1975',
  GioiTinhId: '1034',
  DanTocId: '29',
  CMND: '099075000101',
  CMND_NgayCap: '12/12/2021',
  MaTinh: '01',
  MaHuyen: '001',
  MaXa: '00019',
  HKTT_MaTinh: '01',
  HKTT_ChiTiet: 'Số 12 ngõ 5 phố Hoa Sữa',
  StatusId: 1,
  SubmittedDate: '12/12/2021 12:22:34',
  ...over,
});

const progress = (over: Record<string, unknown> = {}) => ({
  // Longer than DongBoDVC's 25, within XuLyHoSo's 50.
  MaHoSo: '000.00.18.G12-020819-0001-BOSUNG-02',
  TaiKhoanXuLy: 'canbo01',
  NguoiXuLy: 'Trần Văn A',
  ChucDanh: 'Chuyên viên',
  ThoiDiemXuLy: '20181220221912',
  DonViXuLy: 'Phòng Lao động',
  NoiDungXuLy: 'Thẩm định hồ sơ',
  StatusId: 2,
  NgayBatDau: '20181220080000',
  NgayKetThucTheoQuyDinh: '20190105170000',
  ...over,
});

describe('sandbox: MOLISA social-protection API (seed 004)', () => {
  let run: Running;
  let token: string;
  const op = (name: string) => `${run.url}/molisa/api/v1/Service/${name}`;
  const call = (name: string, body: unknown, key: string | null = token) =>
    postJson(op(name), body, key === null ? {} : { AccessKey: key });

  before(async () => {
    run = await start({ tokenLifetimeSeconds: 600 });
  });
  after(() => run.close());
  beforeEach(async () => {
    const res = await postJson(op('GetToken'), { username: 'sandbox-molisa', password: 'sandbox-molisa-password' });
    token = res.body.token;
  });

  it('GetToken answers error_code 0 and a token for the right account, non-zero otherwise', async () => {
    const good = await postJson(op('GetToken'), { username: 'sandbox-molisa', password: 'sandbox-molisa-password' });
    expect(good.status).to.equal(200);
    expect(good.body).to.include({ error_code: 0 });
    expect(good.body.token).to.be.a('string');
    const bad = await postJson(op('GetToken'), { username: 'sandbox-molisa', password: 'nope' });
    expect(bad.status).to.equal(200);
    expect(bad.body.error_code).to.not.equal(0);
    expect(bad.body.token).to.equal(null);
  });

  it('accepts a valid DongBoDVC batch and keeps what it received', async () => {
    const res = await call('DongBoDVC', [dossier(), dossier({ MaHoSo: 'H2' })]);
    expect(res.status).to.equal(200);
    expect(res.body).to.deep.equal({ error_code: 0, message: 'Đồng bộ thành công 2 hồ sơ' });
    const last = run.sandbox.received('molisa').at(-1) as Json;
    expect(last).to.include({ operation: 'DongBoDVC', client: 'sandbox-molisa' });
    expect(last.body[1].MaHoSo).to.equal('H2');
    expect(JSON.stringify(run.sandbox.received('molisa'))).not.to.contain('sandbox-molisa-password');
    expect(JSON.stringify(run.sandbox.received('molisa'))).not.to.contain(token);
  });

  it('a missing, unknown or expired AccessKey gets a non-zero error_code with HTTP 200', async () => {
    const missing = await call('DongBoDVC', [dossier()], null);
    expect(missing.status).to.equal(200);
    expect(missing.body.error_code).to.equal(2);
    expect(missing.body.message).to.contain('Thiếu token');
    const unknown = await call('DongBoDVC', [dossier()], 'forged');
    expect(unknown.body.error_code).to.equal(2);
    expect(unknown.body.message).to.contain('không hợp lệ');
    run.clock.advance(600_000);
    const expired = await call('FileQuyetDinh', [{ MaHoSo: 'x', HoVaTen: 'y', CMND: 'z', Url: 'https://a/b.pdf' }]);
    expect(expired.body.error_code).to.equal(2);
    expect(expired.body.message).to.contain('hết hạn');
  });

  it('answers 401 on a bad AccessKey when configured so', async () => {
    const strict = await start({ molisa: { authFailureStatus: 401 } });
    try {
      const res = await postJson(`${strict.url}/molisa/api/v1/Service/XuLyHoSo`, [progress()], { AccessKey: 'x' });
      expect(res.status).to.equal(401);
      expect(res.body.error_code).to.equal(2);
    } finally {
      await strict.close();
    }
  });

  const refusedFor = async (name: string, records: unknown[], ...fragments: string[]) => {
    const res = await call(name, records);
    expect(res.status).to.equal(200);
    expect(res.body.error_code, JSON.stringify(res.body)).to.equal(4);
    for (const f of fragments) expect(res.body.message).to.contain(f);
  };

  it('enforces required fields (empty string counts as missing)', async () => {
    const { HoVaTen: _drop, ...noName } = dossier();
    await refusedFor('DongBoDVC', [noName], '[0].HoVaTen: bắt buộc');
    await refusedFor('DongBoDVC', [dossier(), dossier({ CMND: '' })], '[1].CMND: bắt buộc');
    // The seed's own XuLyHoSo example leaves the required NgayBatDau empty.
    await refusedFor('XuLyHoSo', [progress({ NgayBatDau: '' })], '[0].NgayBatDau: bắt buộc');
    const { Url: _u, ...noUrl } = { MaHoSo: 'a', HoVaTen: 'b', CMND: 'c', Url: 'd' };
    await refusedFor('FileQuyetDinh', [noUrl], '[0].Url: bắt buộc');
  });

  it('enforces max lengths per call: MaHoSo 25 in DongBoDVC, 50 in XuLyHoSo', async () => {
    await refusedFor('DongBoDVC', [dossier({ MaHoSo: 'x'.repeat(26) })], 'MaHoSo: dài quá 25');
    expect((await call('DongBoDVC', [dossier({ MaHoSo: 'x'.repeat(25) })])).body.error_code).to.equal(0);
    expect((await call('XuLyHoSo', [progress({ MaHoSo: 'x'.repeat(50) })])).body.error_code).to.equal(0);
    await refusedFor('XuLyHoSo', [progress({ MaHoSo: 'x'.repeat(51) })], 'MaHoSo: dài quá 50');
    await refusedFor('XuLyHoSo', [progress({ NoiDungXuLy: 'đ'.repeat(4001) })], 'NoiDungXuLy: dài quá 4000');
    // Length counts characters, not UTF-8 bytes: 250 Vietnamese letters fit HoVaTen.
    expect((await call('DongBoDVC', [dossier({ HoVaTen: 'Ữ'.repeat(250) })])).body.error_code).to.equal(0);
  });

  it('enforces date layouts and real calendar dates', async () => {
    await refusedFor('DongBoDVC', [dossier({ NgayThangNamSinh: '1975-03-14' })], 'NgayThangNamSinh: sai định dạng');
    await refusedFor('DongBoDVC', [dossier({ NgayThangNamSinh: '31/02/1975' })], 'NgayThangNamSinh: sai định dạng');
    await refusedFor('XuLyHoSo', [progress({ ThoiDiemXuLy: '20/12/2018 22:19:12' })], 'ThoiDiemXuLy: sai định dạng');
    await refusedFor('XuLyHoSo', [progress({ NgayBatDau: '20181220250000' })], 'NgayBatDau: sai định dạng');
    expect((await call('XuLyHoSo', [progress({ DateCreated: '20240229120000' })])).body.error_code).to.equal(0);
  });

  it("rejects the seed examples' dialect drift and code values outside the catalogues", async () => {
    await refusedFor('DongBoDVC', [dossier({ HKTTC_MaTinh: '01' })], 'HKTTC_MaTinh: trường không có trong đặc tả');
    await refusedFor(
      'XuLyHoSo',
      [progress({ PhongBanXuLy: 'x', ' UserIdCreated': 'y' })],
      'PhongBanXuLy',
      ' UserIdCreated',
    );
    await refusedFor('DongBoDVC', [dossier({ GioiTinhId: 'NA' })], 'GioiTinhId: giá trị "NA" không có trong danh mục');
    await refusedFor('DongBoDVC', [dossier({ DanTocId: '01' })], 'DanTocId');
    await refusedFor('DongBoDVC', [dossier({ StatusId: '1' })], 'StatusId: phải là số nguyên');
    await refusedFor('DongBoDVC', [dossier({ MaTinh: 1 })], 'MaTinh: phải là chuỗi');
  });

  it("MaTTHC must be one of the eleven national procedure codes of §V; the seed's misprint is not one", async () => {
    await refusedFor(
      'DongBoDVC',
      [dossier({ MaTTHC: '2.0000286' })],
      'MaTTHC: giá trị "2.0000286" không có trong danh mục',
    );
    await refusedFor('DongBoDVC', [dossier({ MaTTHC: '1.234567' })], 'MaTTHC');
    expect((await call('DongBoDVC', [dossier({ MaTTHC: '2.000286' })])).body.error_code).to.equal(0);
  });

  it("a known citizen's record must carry that citizen's ethnicity and gender ids (a code changed in transit shows)", async () => {
    // 099075000101 is Nguyễn Văn Minh: Kinh (29), male (1034). Khơ-mú's id 57 is what GSO 29 maps to.
    await refusedFor(
      'DongBoDVC',
      [dossier({ DanTocId: '57' })],
      'DanTocId: "57" khác dân tộc của công dân (Kinh, Id 29)',
    );
    await refusedFor('DongBoDVC', [dossier({ GioiTinhId: '1035' })], 'GioiTinhId: "1035" khác giới tính');
    // a citizen the sandbox does not know is not cross-checked; an absent optional code is not either
    expect((await call('DongBoDVC', [dossier({ CMND: '122234567890', DanTocId: '57' })])).body.error_code).to.equal(0);
    expect(
      (await call('DongBoDVC', [dossier({ DanTocId: undefined, GioiTinhId: undefined })])).body.error_code,
    ).to.equal(0);
  });

  it('ignores unknown fields when configured so', async () => {
    const lax = await start({ molisa: { unknownFields: 'ignore' } });
    try {
      const t = (
        await postJson(`${lax.url}/molisa/api/v1/Service/GetToken`, {
          username: 'sandbox-molisa',
          password: 'sandbox-molisa-password',
        })
      ).body.token;
      const res = await postJson(`${lax.url}/molisa/api/v1/Service/DongBoDVC`, [dossier({ Extra: 1 })], {
        AccessKey: t,
      });
      expect(res.body.error_code).to.equal(0);
    } finally {
      await lax.close();
    }
  });

  it('refuses a body that is not a non-empty JSON array, and invalid JSON', async () => {
    expect((await call('DongBoDVC', dossier())).body.error_code).to.equal(3);
    expect((await call('DongBoDVC', [])).body.error_code).to.equal(3);
    const broken = await call('DongBoDVC', '[{"MaHoSo":');
    expect(broken.status).to.equal(400);
    expect(broken.body.error_code).to.equal(3);
  });
});

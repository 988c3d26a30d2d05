import { expect } from 'chai';
import { POPULATION_SERVICES } from '../../../src/sandbox/population.ts';
import { buildPopulation } from '../../../src/sandbox/population-data.ts';
import { platformToken, postJson, start, type Running, type Json } from './helpers.ts';

const MINH = '099075000101';
const AN = '099205000103';
const TAM = '099045000105'; // dead
const HAI = '099079000202'; // missing
const MAI = '099180000201';
const HUY = '099214000303'; // orphan with a guardian

describe('sandbox: C06 population services (seeds 000, 002)', () => {
  let run: Running;
  let tokens: Record<'ndxp' | 'vdxp', string>;
  const call = (platform: 'ndxp' | 'vdxp', op: string, body: Record<string, unknown>) =>
    postJson(
      `${run.url}/${platform}/dancu/1.0/${op}`,
      { maYeuCau: 'req-1', maCanBo: 'cb01', ...body },
      {
        authorization: `Bearer ${tokens[platform]}`,
      },
    );

  before(async () => {
    run = await start();
    tokens = { ndxp: await platformToken(run, 'ndxp'), vdxp: await platformToken(run, 'vdxp') };
  });
  after(() => run.close());

  it('offers the eleven services, with seed 002 platforms: look-ups and household on VDXP, verify on NDXP', async () => {
    expect(new Set(POPULATION_SERVICES.map((s) => s.number))).to.have.property('size', 11);
    const on = (op: string) => POPULATION_SERVICES.find((s) => s.operation === op)!.platform;
    expect(on('xacThucThongTinCongDan')).to.equal('ndxp');
    // Every other service is on VDXP: named by seed 002, or read as its "(3) tra cứu" (issue 16.4).
    for (const s of POPULATION_SERVICES.filter((x) => x.operation !== 'xacThucThongTinCongDan'))
      expect(s.platform, s.operation).to.equal('vdxp');
    // Not carried: 404 from the platform, not a token error; both ways.
    for (const [platform, op] of [
      ['ndxp', 'cungCapThongTinCongDan'],
      ['ndxp', 'xacMinhTinhTrangHonNhan'],
      ['ndxp', 'xacMinhNhanThan'],
      ['vdxp', 'xacThucThongTinCongDan'],
    ] as const) {
      const res = await call(platform, op, { soDinhDanh: MINH });
      expect(res.status, `${platform} ${op}`).to.equal(404);
    }
  });

  it('every service answers a demo citizen on each platform it is offered on, echoing maYeuCau', async () => {
    for (const s of POPULATION_SERVICES) {
      for (const platform of [s.platform]) {
        const body =
          s.operation === 'traCuuThongTinCongDan'
            ? { hoVaTen: 'Nguyễn Văn Minh', namSinh: '1975' }
            : { soDinhDanh: MINH };
        const res = await call(platform, s.operation, body);
        expect(res.status, `${platform} ${s.operation}`).to.equal(200);
        expect(res.body, `${platform} ${s.operation}`).to.include({ maYeuCau: 'req-1', responseCode: '200' });
      }
    }
    const last = run.sandbox.received('vdxp').at(-1) as Json;
    expect(last.client).to.equal('sandbox-vdxp-key');
  });

  it('keeps the ID-number rule: exactly 12 digits, else 400; an unknown number is a 404 result', async () => {
    for (const bad of ['12345', '0990750001010', '09907500010a', 99075000101]) {
      const res = await call('vdxp', 'cungCapThongTinCongDan', { soDinhDanh: bad });
      expect(res.status, String(bad)).to.equal(400);
      expect(res.body.responseCode).to.equal('400');
    }
    const unknown = await call('vdxp', 'cungCapThongTinCongDan', { soDinhDanh: '099000000999' });
    expect(unknown.status).to.equal(200);
    expect(unknown.body).to.include({ responseCode: '404', data: null });
  });

  it('provides citizen information', async () => {
    const res = await call('vdxp', 'cungCapThongTinCongDan', { soDinhDanh: MINH });
    expect(res.body.data).to.include({ hoVaTen: 'Nguyễn Văn Minh', gioiTinh: '1', ngayThangNamSinh: '19750314' });
    expect(res.body.data).not.to.have.property('mucDinhDanh');
  });

  it('verifies kinship (father, mother)', async () => {
    const res = await call('vdxp', 'xacMinhNhanThan', { soDinhDanh: AN });
    expect(res.body.data.cha).to.include({ soDinhDanh: MINH, hoVaTen: 'Nguyễn Văn Minh' });
    expect(res.body.data.me).to.include({ hoVaTen: 'Trần Thị Hương' });
  });

  it('verifies that a citizen exists by ID number or old 9/12-digit card, and whether given details match', async () => {
    const byId = await call('ndxp', 'xacThucThongTinCongDan', { soDinhDanh: MINH });
    expect(byId.body.data).to.deep.equal({ tonTai: true });
    const byCmnd = await call('ndxp', 'xacThucThongTinCongDan', { soCMND: '990000101' });
    expect(byCmnd.body.data.tonTai).to.equal(true);
    const byCard12 = await call('ndxp', 'xacThucThongTinCongDan', { soCMND: MINH });
    expect(byCard12.body.data.tonTai).to.equal(true);
    const nobody = await call('ndxp', 'xacThucThongTinCongDan', { soCMND: '990999999' });
    expect(nobody.body.data.tonTai).to.equal(false);
    const mismatch = await call('ndxp', 'xacThucThongTinCongDan', { soDinhDanh: MINH, hoVaTen: 'Nguyễn Văn Mình' });
    expect(mismatch.body.data).to.deep.equal({ tonTai: true, khopThongTin: false });
    const badCard = await call('ndxp', 'xacThucThongTinCongDan', { soCMND: '1234567' });
    expect(badCard.status).to.equal(400);
    const confirm = await call('vdxp', 'xacNhanSoDinhDanhCMND', { soCMND: '990000101' });
    expect(confirm.body.data).to.include({ tonTai: true, soDinhDanh: MINH, soCMND: '990000101' });
  });

  it('looks a citizen up by name, birth year and parents', async () => {
    const res = await call('vdxp', 'traCuuThongTinCongDan', {
      hoVaTen: '  nguyễn  văn AN ',
      namSinh: '2005',
      hoVaTenCha: 'Nguyễn Văn Minh',
      hoVaTenMe: 'Trần Thị Hương',
    });
    expect(res.body.responseCode).to.equal('200');
    expect(res.body.data).to.have.length(1);
    expect(res.body.data[0].soDinhDanh).to.equal(AN);
    const wrongMother = await call('vdxp', 'traCuuThongTinCongDan', {
      hoVaTen: 'Nguyễn Văn An',
      namSinh: '2005',
      hoVaTenMe: 'Lê Thị Mai',
    });
    expect(wrongMother.body.responseCode).to.equal('404');
    expect((await call('vdxp', 'traCuuThongTinCongDan', { hoVaTen: 'X', namSinh: '05' })).status).to.equal(400);
  });

  it('answers guardian, head of household, household members and current residence', async () => {
    const guardian = await call('vdxp', 'thongTinNguoiGiamHo', { soDinhDanh: HUY });
    expect(guardian.body.data).to.include({ coNguoiGiamHo: true });
    expect(guardian.body.data.nguoiGiamHo.hoVaTen).to.equal('Hoàng Văn Dũng');
    expect((await call('vdxp', 'thongTinNguoiGiamHo', { soDinhDanh: AN })).body.data.coNguoiGiamHo).to.equal(false);

    const head = await call('vdxp', 'thongTinChuHo', { soDinhDanh: AN });
    expect(head.body.data).to.include({ quanHeVoiChuHo: 'Con', maHoGiaDinh: 'HGD-0990001' });
    expect(head.body.data.chuHo.soDinhDanh).to.equal(MINH);

    const household = await call('vdxp', 'thongTinHoGiaDinh', { soDinhDanh: MINH });
    const members = household.body.data.thanhVien.map((m: Json) => m.soDinhDanh);
    expect(members[0]).to.equal(MINH);
    expect(members).to.have.length(4);
    expect(members).not.to.include(TAM); // the dead grandfather is struck off
    const notHead = await call('vdxp', 'thongTinHoGiaDinh', { soDinhDanh: AN });
    expect(notHead.body.responseCode).to.equal('404');
    // A missing person stays in the household, marked as such.
    const mai = await call('vdxp', 'thongTinHoGiaDinh', { soDinhDanh: MAI });
    expect(mai.body.data.thanhVien.find((m: Json) => m.soDinhDanh === HAI).trangThai).to.equal('MAT_TICH');

    const residence = await call('vdxp', 'thongTinNoiOHienTai', { soDinhDanh: AN });
    expect(residence.body.data.noiOHienTai).to.contain('Ký túc xá');
    expect(residence.body.data.noiOHienTai).not.to.equal(residence.body.data.noiThuongTru);
  });

  it('answers blood type and marital status', async () => {
    expect((await call('vdxp', 'thongTinNhomMau', { soDinhDanh: MINH })).body.data.nhomMau).to.equal('O');
    const married = await call('vdxp', 'xacMinhTinhTrangHonNhan', { soDinhDanh: MAI });
    expect(married.body.data.tinhTrangHonNhan).to.deep.equal({ ma: '2', ten: 'Đã kết hôn' });
    expect(married.body.data.voChong.soDinhDanh).to.equal(HAI);
    const widower = await call('vdxp', 'xacMinhTinhTrangHonNhan', { soDinhDanh: TAM });
    expect(widower.body.data.tinhTrangHonNhan.ten).to.equal('Góa');
  });

  it('answers dead and missing status', async () => {
    const dead = await call('vdxp', 'xacMinhTinhTrangChetMatTich', { soDinhDanh: TAM });
    expect(dead.body.data).to.include({ trangThai: 'DA_CHET', ngayChet: '20211103' });
    const missing = await call('vdxp', 'xacMinhTinhTrangChetMatTich', { soDinhDanh: HAI });
    expect(missing.body.data).to.include({ trangThai: 'MAT_TICH', ngayMatTich: '20190415' });
    const alive = await call('vdxp', 'xacMinhTinhTrangChetMatTich', { soDinhDanh: MINH });
    expect(alive.body.data.trangThai).to.equal('CON_SONG');
    expect((await call('vdxp', 'thongTinChuHo', { soDinhDanh: TAM })).body.responseCode).to.equal('404');
    expect((await call('vdxp', 'thongTinNoiOHienTai', { soDinhDanh: TAM })).body.responseCode).to.equal('404');
  });

  it('refuses a body that is not a JSON object', async () => {
    const res = await postJson(`${run.url}/vdxp/dancu/1.0/thongTinNhomMau`, '[1]', {
      authorization: `Bearer ${tokens.vdxp}`,
    });
    expect(res.status).to.equal(400);
    const broken = await postJson(`${run.url}/vdxp/dancu/1.0/thongTinNhomMau`, '{"so', {
      authorization: `Bearer ${tokens.vdxp}`,
    });
    expect(broken.status).to.equal(400);
    expect(broken.body.responseCode).to.equal('400');
  });
});

describe('sandbox: synthetic population', () => {
  const population = buildPopulation(20);

  it('has no real person: every ID is 12 digits with the non-existent province code 099, and unique', () => {
    const ids = population.citizens.map((c) => c.soDinhDanh);
    for (const id of ids) expect(id).to.match(/^099\d{9}$/);
    expect(new Set(ids).size).to.equal(ids.length);
    for (const c of population.citizens) if (c.soCMND) expect(c.soCMND).to.match(/^99\d{7}$/);
  });

  it('ID numbers carry the gender-and-century digit of the birth date', () => {
    for (const c of population.citizens) {
      const century = Number(c.ngayThangNamSinh.slice(0, 4)) >= 2000 ? 2 : 0;
      expect(Number(c.soDinhDanh[3]), c.soDinhDanh).to.equal(century + (c.gioiTinh === '2' ? 1 : 0));
      expect(c.soDinhDanh.slice(4, 6)).to.equal(c.ngayThangNamSinh.slice(2, 4));
    }
  });

  it('includes dead and missing people, and every household head lives in the household', () => {
    const states = new Set(population.citizens.map((c) => c.tinhTrang));
    expect([...states]).to.include.members(['CON_SONG', 'DA_CHET', 'MAT_TICH']);
    for (const h of population.households) {
      const head = population.citizens.find((c) => c.soDinhDanh === h.soDinhDanhChuHo)!;
      expect(head.maHoGiaDinh).to.equal(h.maHoGiaDinh);
      expect(head.quanHeVoiChuHo).to.equal('Chủ hộ');
    }
  });

  it('is deterministic for a seed', () => {
    expect(buildPopulation(5, 42)).to.deep.equal(buildPopulation(5, 42));
  });
});

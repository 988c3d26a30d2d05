import { expect } from 'chai';
import { platformToken, postJson, start, type Running, type Json } from './helpers.ts';

/** A linked-death dossier as one province's one-stop system pushes it (domain.md §4). */
const push = (over: Record<string, unknown> = {}) => ({
  module: 'LTKT',
  maHoSoMCDT: 'H08.37.80-240705-0015',
  maHoSoLT: 'LT-0001',
  maDonVi: '00019',
  data: JSON.stringify({ nguoiChet: { hoTen: 'Nguyễn Văn Tâm', soDinhDanh: '099045000105' } }),
  ngayTiepNhan: '05/07/2024 09:30:00',
  fileDinhKem: [
    {
      id: 1,
      loaiGiayTo: 1,
      tenGiayTo: 'Giấy báo tử',
      tenTepDinhKem: 'giaybaotu.pdf',
      huyGiayTo: 0,
      duLieuTepDinhKem: Buffer.from('%PDF-1.4 demo').toString('base64'),
    },
  ],
  ...over,
});

describe('sandbox: MOJ civil-status software (seed 003)', () => {
  let run: Running;
  let auth: Record<string, string>;
  const url = (version: string, op: string) => `${run.url}/hotich/${version}/${op}`;

  before(async () => {
    run = await start();
    auth = { authorization: `Bearer ${await platformToken(run, 'hotich')}` };
  });
  after(() => run.close());
  beforeEach(() => fetch(`${run.url}/__sandbox/hotich/dossiers`, { method: 'DELETE' }));

  it('refuses calls without a valid token in its own shape (status "0", errorCode 100)', async () => {
    const res = await postJson(url('3.0', 'dangKyHoTich'), push());
    expect(res.status).to.equal(401);
    expect(res.body).to.include({ status: '0', errorCode: '100' });
  });

  it('accepts an NDXP token too (the deck: "Lấy Token NDXP cho phiên làm việc")', async () => {
    const ndxp = await platformToken(run, 'ndxp');
    const res = await postJson(url('3.0', 'dangKyHoTich'), push(), { authorization: `Bearer ${ndxp}` });
    expect(res.body).to.include({ status: '1' });
  });

  it('receives a dossier and keeps it; the status query finds it by maHoSoMCDT or maHoSoLT', async () => {
    const res = await postJson(url('3.0', 'dangKyHoTich'), push(), auth);
    expect(res.status).to.equal(200);
    expect(res.body).to.deep.equal({
      status: '1',
      statusDescription: 'Tiếp nhận hồ sơ thành công',
      errorCode: '0',
      errorDescription: '',
    });
    const last = run.sandbox.received('hotich').at(-1) as Json;
    expect(last.operation).to.equal('dangKyHoTich');
    expect(last.body.maHoSoMCDT).to.equal('H08.37.80-240705-0015');

    for (const id of ['H08.37.80-240705-0015', 'LT-0001']) {
      const q = await postJson(
        url('3.0', 'traTrangThaiHoSo'),
        { maDinhDanhHoSo: [id], maTinh: '01', module: 'LTKT' },
        auth,
      );
      expect(q.body.status).to.equal('1');
      expect(q.body.value).to.have.length(1);
      expect(q.body.value[0]).to.include({ maDonVi: '00019', module: 'LTKT', trangThai: 1 });
    }
  });

  it('a status query with another module than the one pushed returns nothing (seed 003 common error 2)', async () => {
    await postJson(url('3.0', 'dangKyHoTich'), push(), auth);
    const q = await postJson(
      url('3.0', 'traTrangThaiHoSo'),
      { maDinhDanhHoSo: ['H08.37.80-240705-0015'], maTinh: '01', module: 'KT' },
      auth,
    );
    expect(q.body).to.include({ status: '1' });
    expect(q.body.value).to.deep.equal([]);
  });

  it('rejects a maDonVi that is not the registering unit (seed 003 common error 1), on push and query', async () => {
    const res = await postJson(url('3.0', 'dangKyHoTich'), push({ maDonVi: '99999' }), auth);
    expect(res.body).to.include({ status: '0', errorCode: '106' });
    expect(res.body.errorDescription).to.contain('99999');
    const q = await postJson(
      url('3.0', 'traTrangThaiHoSo'),
      { maDinhDanhHoSo: ['H08.37.80-240705-0015'], maTinh: '01', module: 'LTKT', maDonVi: '99999' },
      auth,
    );
    expect(q.body).to.include({ status: '0', errorCode: '106' });
  });

  it('a query for another unit of the same province, or an unknown province, finds nothing or is refused', async () => {
    await postJson(url('3.0', 'dangKyHoTich'), push({ maDonVi: '07219' }), auth);
    const other = await postJson(
      url('3.0', 'traTrangThaiHoSo'),
      { maDinhDanhHoSo: ['H08.37.80-240705-0015'], maTinh: '24', module: 'LTKT', maDonVi: '213' },
      auth,
    );
    expect(other.body.value).to.deep.equal([]);
    const wrongProvince = await postJson(
      url('3.0', 'traTrangThaiHoSo'),
      { maDinhDanhHoSo: ['H08.37.80-240705-0015'], maTinh: '99', module: 'LTKT' },
      auth,
    );
    expect(wrongProvince.body).to.include({ status: '0', errorCode: '108' });
  });

  it('takes only the modules of the API version called', async () => {
    const res = await postJson(url('1.0', 'dangKyHoTich'), push({ module: 'LTKT' }), auth);
    expect(res.body).to.include({ status: '0', errorCode: '500' });
    for (const module of ['KS', 'KT', 'KH', 'HN', 'CMC', 'LH', 'GH', 'TGH']) {
      const ok = await postJson(url('1.0', 'dangKyHoTich'), push({ module, maHoSoMCDT: `X-${module}` }), auth);
      expect(ok.body.status, module).to.equal('1');
    }
    expect((await postJson(url('2.0', 'dangKyHoTich'), push({ module: 'LTKH' }), auth)).body.status).to.equal('1');
    expect((await postJson(url('9.0', 'dangKyHoTich'), push(), auth)).status).to.equal(404);
  });

  it('checks required fields, data as a JSON string, the date layout and base64 attachments', async () => {
    const { maDonVi: _d, ...noUnit } = push();
    expect((await postJson(url('3.0', 'dangKyHoTich'), noUnit, auth)).body).to.include({ errorCode: '200' });
    const objectData = await postJson(url('3.0', 'dangKyHoTich'), push({ data: { a: 1 } }), auth);
    expect(objectData.body).to.include({ status: '0', errorCode: '302' });
    const brokenData = await postJson(url('3.0', 'dangKyHoTich'), push({ data: '{not json' }), auth);
    expect(brokenData.body.errorCode).to.equal('302');
    const isoDate = await postJson(url('3.0', 'dangKyHoTich'), push({ ngayTiepNhan: '2024-07-05T09:30:00' }), auth);
    expect(isoDate.body.errorCode).to.equal('302');
    const badFile = await postJson(
      url('3.0', 'dangKyHoTich'),
      push({ fileDinhKem: [{ tenTepDinhKem: 'a.pdf', duLieuTepDinhKem: 'not base64!' }] }),
      auth,
    );
    expect(badFile.body.errorCode).to.equal('302');
    const broken = await postJson(url('3.0', 'dangKyHoTich'), '{"module":', auth);
    expect(broken.status).to.equal(400);
    expect(broken.body.status).to.equal('0');
  });

  it('the sandbox control moves a dossier on, and the status query shows it', async () => {
    await postJson(url('3.0', 'dangKyHoTich'), push(), auth);
    const moved = await postJson(`${run.url}/__sandbox/hotich/dossiers/LT-0001/trangThai`, {
      module: 'LTKT',
      trangThai: 4,
      ketQuaXuLy: 'Đã đăng ký khai tử, trích lục số 123',
      nguoiXuLy: 'Công chức tư pháp',
    });
    expect(moved.status).to.equal(200);
    const q = await postJson(
      url('3.0', 'traTrangThaiHoSo'),
      { maDinhDanhHoSo: ['H08.37.80-240705-0015', 'UNKNOWN'], maTinh: '01', module: 'LTKT' },
      auth,
    );
    expect(q.body.value).to.have.length(1);
    expect(q.body.value[0]).to.include({ trangThai: 4, ketQuaXuLy: 'Đã đăng ký khai tử, trích lục số 123' });
    expect(q.body.value[0].thoiGianThucHien).to.match(/^\d{2}\/\d{2}\/\d{4} \d{2}:\d{2}:\d{2}$/);
  });

  it('serves small catalogues (danh mục) by POST and GET', async () => {
    const ethnic = await postJson(url('1.0', 'danhMuc'), { loaiDanhMuc: 3 }, auth);
    expect(ethnic.body.status).to.equal('1');
    expect(ethnic.body.value).to.deep.include({ ma: '01', ten: 'Kinh' });
    const res = await fetch(url('3.0', 'danhMuc/5'), { headers: auth });
    expect(((await res.json()) as Json).value.length).to.be.above(0);
    expect((await postJson(url('1.0', 'danhMuc'), { loaiDanhMuc: 9 }, auth)).body.status).to.equal('0');
  });
});

import { expect } from 'chai';
import type { Gateway } from '../../../src/app/gateway.ts';
import type { DvcltDossier } from '../../../src/sandbox/dvclt.ts';
import { request } from '../../helpers/http.ts';
import { startShippedStack, type ShippedStack, type StartedSandbox } from '../../helpers/shipped-stack.ts';

const JSON_TYPE = { 'content-type': 'application/json' };
const MCDT = { 'x-api-key': 'lgsp-demo-mcdt-key-2026', ...JSON_TYPE };
const DVCLT = { 'x-api-key': 'lgsp-demo-dvclt-inbound-2026', ...JSON_TYPE };
const MOLISA_LGSP = { 'x-api-key': 'lgsp-demo-molisa-inbound-2026', ...JSON_TYPE };

/**
 * The flows of issue 16.5 through the shipped config (config/) against the sandbox: linked services
 * (seed 003 connection No. 1, PM DVCLT through VDXP, then connection No. 2 to the civil-status software),
 * MOLISA through VDXP with case A2 back in the province's names, and the civil-status module / API-version
 * guard. The sandbox's systems enforce the seeds' rules themselves; each test also shows one refused.
 */
describe('flows end to end: linked services, MOLISA through VDXP, civil-status versions', () => {
  let stack: ShippedStack | undefined;
  let sandbox: StartedSandbox;
  let gateway: Gateway;
  let gw = '';

  before(async () => {
    stack = await startShippedStack({
      auditPrefix: 'lgsp-flows-audit-',
      // PM DVCLT sends B1 to the province's inbound route on the gateway, with the key the province gave it.
      sandbox: { dvclt: { province: () => ({ url: `${gw}/mcdt/dvclt/dongBoHoSo`, apiKey: DVCLT['x-api-key'] }) } },
    });
    ({ sandbox, gateway, url: gw } = stack);
  });
  after(() => stack?.close());

  const post = (url: string, body: unknown, headers: Record<string, string> = MCDT) =>
    request(url, { method: 'POST', headers, body: JSON.stringify(body) });
  const received = (system: string) =>
    sandbox.sandbox.received(system) as {
      path: string;
      operation: string;
      client: string | null;
      body: unknown;
      response: { status: number; body: unknown };
    }[];
  /** PM DVCLT sends a dossier down (B1): the sandbox plays the national side. */
  const sendDown = async (body: Record<string, unknown>) => {
    const res = await post(`${sandbox.url}/__sandbox/dvclt/dossiers`, body, JSON_TYPE);
    return res.json<{
      delivered: boolean;
      dossier: Record<string, unknown>;
      province: { status: number; body: unknown };
    }>();
  };
  const dvcltDossier = async (maHoSo: string) => {
    const list = await request(`${sandbox.url}/__sandbox/dvclt/dossiers`);
    return list.json<DvcltDossier[]>().find((d) => d.maHoSo === maHoSo);
  };
  const statusUpdate = (maHoSo: string, trangThai: number, extra: Record<string, unknown> = {}) =>
    post(`${gw}/dvclt/capNhatTrangThaiHoSo`, {
      maHoSo,
      trangThai,
      thoiGian: '13/07/2024 09:00:00',
      noiDungXuLy: `Trạng thái ${trangThai}`,
      ...extra,
    });

  it('linked birth registration: PM DVCLT -> one-stop system -> civil status -> result -> status back to PM DVCLT', async () => {
    const maHoSo = '622.99.08-240713-0004'; // the seed's test-script dossier code
    // B1: the dossier comes down through VDXP and the gateway to the one-stop system.
    const b1 = await sendDown({ module: 'LTKS', maHoSo, maDonVi: '07219', data: { hoTenTre: 'Đinh Thị Thu' } });
    expect(b1.delivered, JSON.stringify(b1.province)).to.equal(true);
    const arrived = received('mcdt').at(-1)!;
    expect(arrived.path).to.equal('/tinh/mcdt/api/dvclt/dongBoHoSo');
    expect(arrived.body).to.deep.include({ maHoSo, module: 'LTKS', maToKhai: '01', maDonVi: '07219' });

    // Status 1 (the seed: "Hệ thống MCĐT đã nhận hồ sơ") goes back with the province's VDXP token.
    expect((await statusUpdate(maHoSo, 1, { maDonVi: '07219' })).json()).to.include({ responseCode: '200' });

    // Connection No. 2: the one-stop system pushes the dossier to the civil-status software under API 3.0.
    const push = await post(`${gw}/hotich/3.0/dangKyHoTich`, {
      module: 'LTKS',
      maHoSoMCDT: 'MCDT-24-0001',
      maHoSoLT: maHoSo,
      maDonVi: '07219',
      data: JSON.stringify((arrived.body as { data: unknown }).data),
      ngayTiepNhan: '13/07/2024 08:30:00',
    });
    expect(push.json()).to.include({ status: '1' });
    expect((await statusUpdate(maHoSo, 3)).json()).to.include({ responseCode: '200' });

    // The civil-status officer registers the birth; B5: the one-stop system reads the result.
    const officer = await post(
      `${sandbox.url}/__sandbox/hotich/dossiers/${maHoSo}/trangThai`,
      { module: 'LTKS', trangThai: 4, ketQuaXuLy: 'Giấy khai sinh số 125/2024' },
      JSON_TYPE,
    );
    expect(officer.status).to.equal(200);
    const result = await post(`${gw}/hotich/3.0/traTrangThaiHoSo`, {
      maDinhDanhHoSo: [maHoSo],
      maTinh: '24',
      module: 'LTKS',
    });
    const [value] = result.json<{ value: { trangThai: number; ketQuaXuLy: string }[] }>().value;
    expect(value).to.include({ trangThai: 4, ketQuaXuLy: 'Giấy khai sinh số 125/2024' });

    // The result goes back to PM DVCLT, which now holds the whole sequence.
    const done = await statusUpdate(maHoSo, 4, { ketQua: { soGiayTo: '125/2024', ketQuaXuLy: value.ketQuaXuLy } });
    expect(done.json()).to.include({ responseCode: '200' });
    const held = await dvcltDossier(maHoSo);
    expect(held!.history.map((h) => h.trangThai)).to.deep.equal([1, 3, 4]);
    expect(held!.ketQua).to.deep.include({ soGiayTo: '125/2024' });
    // Every status update reached PM DVCLT with a VDXP token (the sandbox records its owner).
    const updates = received('dvclt').filter((e) => e.path.endsWith('/capNhatTrangThaiHoSo'));
    expect(updates.map((e) => e.client)).to.deep.equal(['sandbox-vdxp-key', 'sandbox-vdxp-key', 'sandbox-vdxp-key']);
  });

  it('PM DVCLT itself refuses a status for a dossier it never sent, and one out of sequence', async () => {
    const never = await statusUpdate('000.00.00.H99-999999-9999', 1);
    expect(never.status).to.equal(404);
    expect(never.json<{ responseMessage: string }>().responseMessage).to.contain('không do PM DVCLT đồng bộ');

    const { dossier } = await sendDown({ module: 'LTKT', maDonVi: '07219' });
    const maHoSo = String(dossier.maHoSo);
    const skipped = await statusUpdate(maHoSo, 3); // eligible before received
    expect(skipped.status).to.equal(409);
    expect(skipped.json<{ responseMessage: string }>().responseMessage).to.contain('chỉ: 1');
    expect((await statusUpdate(maHoSo, 1)).status).to.equal(200);
    expect((await statusUpdate(maHoSo, 1)).status, 'a repeated state is a retry').to.equal(200);
    const early = await statusUpdate(maHoSo, 4, { ketQua: { soGiayTo: 'TL-1' } }); // a result before eligible
    expect(early.status).to.equal(409);
    expect((await dvcltDossier(maHoSo))!.history.map((h) => h.trangThai)).to.deep.equal([1]);
  });

  it('PM DVCLT is reached only through VDXP: without the platform token it refuses', async () => {
    const direct = await post(`${sandbox.url}/vdxp/dvclt/capNhatTrangThaiHoSo`, { maHoSo: 'x' }, JSON_TYPE);
    expect(direct.status).to.equal(401);
  });

  it('a result without its certificate number is refused at the gateway; nothing reaches PM DVCLT', async () => {
    const before = received('dvclt').length;
    const res = await statusUpdate('622.99.08-240713-0004', 4);
    expect(res.status).to.equal(400);
    expect(res.json()).to.include({ code: 'GW_VALIDATION_FAILED' });
    expect(received('dvclt').length).to.equal(before);
  });

  it('B1 is open to PM DVCLT alone, and a dossier whose form contradicts its group never reaches the province', async () => {
    const body = {
      maHoSo: 'X-1',
      module: 'LTKS',
      maToKhai: '02', // the death form for a birth dossier
      maDonVi: '07219',
      ngayNopHoSo: '13/07/2024 08:00:00',
      data: {},
    };
    const before = received('mcdt').length;
    const wrongForm = await post(`${gw}/mcdt/dvclt/dongBoHoSo`, body, DVCLT);
    expect(wrongForm.status).to.equal(400);
    expect(wrongForm.json()).to.include({ responseCode: '400', code: 'GW_VALIDATION_FAILED' });
    const fromProvince = await post(`${gw}/mcdt/dvclt/dongBoHoSo`, { ...body, maToKhai: '01' }, MCDT);
    expect(fromProvince.status).to.equal(403);
    expect(received('mcdt').length).to.equal(before);
  });

  it('civil status: a module sent under a version that does not serve it is refused, naming both', async () => {
    const before = received('hotich').length;
    const dossier = {
      module: 'ltks', // lower case: the code list normalises it before the guard reads it
      maHoSoMCDT: 'MCDT-24-0002',
      maDonVi: '07219',
      data: JSON.stringify({ hoTenTre: 'Lê Văn B' }),
      ngayTiepNhan: '13/07/2024 08:30:00',
    };
    const res = await post(`${gw}/hotich/1.0/dangKyHoTich`, dossier);
    expect(res.status).to.equal(400);
    const body = res.json<{ status: string; errorCode: string; errorDescription: string }>();
    expect(body).to.include({ status: '0', errorCode: 'GW_API_VERSION_MISMATCH' });
    expect(body.errorDescription).to.contain('LTKS').and.to.contain('1.0').and.to.contain('3.0');
    const query = await post(`${gw}/hotich/3.0/traTrangThaiHoSo`, {
      maDinhDanhHoSo: ['X'],
      maTinh: '24',
      module: 'HN',
    });
    expect(query.json()).to.include({ errorCode: 'GW_API_VERSION_MISMATCH' });
    expect(received('hotich').length).to.equal(before);
    // Counted with the other refusals of a body the gateway would not send.
    const metrics = await gateway.metrics.registry.metrics();
    expect(metrics).to.match(/lgsp_validation_rejections_total\{[^}]*route="hotich-push"[^}]*\} 1/);
    expect((await post(`${gw}/hotich/3.0/dangKyHoTich`, dossier)).json()).to.include({ status: '1' });
  });

  it('civil status: the simulated software refuses the same mismatch itself', async () => {
    const token = await request(`${sandbox.url}/hotich/token`, {
      method: 'POST',
      headers: {
        authorization: `Basic ${Buffer.from('sandbox-hotich-key:sandbox-hotich-secret').toString('base64')}`,
        'content-type': 'application/x-www-form-urlencoded',
      },
      body: 'grant_type=client_credentials',
    });
    const bearer = { authorization: `Bearer ${token.json<{ access_token: string }>().access_token}`, ...JSON_TYPE };
    const push = await post(
      `${sandbox.url}/hotich/1.0/dangKyHoTich`,
      {
        module: 'LTKS',
        maHoSoMCDT: 'M-3',
        maDonVi: '07219',
        data: '{}',
        ngayTiepNhan: '13/07/2024 08:30:00',
      },
      bearer,
    );
    expect(push.json()).to.include({ status: '0', errorCode: '500' });
    const query = await post(
      `${sandbox.url}/hotich/3.0/traTrangThaiHoSo`,
      { maDinhDanhHoSo: ['M-3'], maTinh: '24', module: 'HN' },
      bearer,
    );
    expect(query.json()).to.include({ status: '0', errorCode: '500' });
  });

  it("MOLISA through VDXP: GetToken and the sync both carry the province's VDXP token", async () => {
    const res = await post(`${gw}/molisa/api/v1/Service/FileQuyetDinh`, [
      { MaHoSo: '000.00.18.G12-020819-0001', HoVaTen: 'Nguyễn Văn An', CMND: '099075000101', Url: 'https://x/QD.pdf' },
    ]);
    expect(res.json()).to.include({ error_code: 0 });
    // Both went through the sandbox's VDXP, which opens only to a VDXP token.
    const calls = received('molisa').filter((e) => e.response.status === 200);
    expect(calls.map((e) => e.path)).to.include.members([
      '/vdxp/molisa/api/v1/Service/GetToken',
      '/vdxp/molisa/api/v1/Service/FileQuyetDinh',
    ]);
    // The sandbox's VDXP lets nothing through to MOLISA without its own token, GetToken included.
    const direct = await post(
      `${sandbox.url}/vdxp/molisa/api/v1/Service/GetToken`,
      { username: 'sandbox-molisa', password: 'sandbox-molisa-password' },
      JSON_TYPE,
    );
    expect(direct.status).to.equal(401);
  });

  it("MOLISA case A2: a record synced down arrives in the province's own names and ethnicity codes", async () => {
    const res = await post(
      `${gw}/dvc/molisa/DongBoHoSo`,
      [{ MaHoSo: 'A2-100', HoVaTen: 'Lò Văn Páo', DanTocId: '57', HKTT_MaTinh: '14', HKTT_ChiTiet: 'Bản Mé' }],
      MOLISA_LGSP,
    );
    expect(res.json()).to.include({ error_code: 0 });
    const [record] = received('dvc').at(-1)!.body as Record<string, unknown>[];
    expect(record).to.deep.equal({
      MaHoSo: 'A2-100',
      HoVaTen: 'Lò Văn Páo',
      DanTocId: '29', // MOLISA id 57 = Khơ-mú = GSO 29
      HKTTC_MaTinh: '14',
      HKTTC_ChiTiet: 'Bản Mé',
    });
    // The portal itself refuses MOLISA's names and ids: what reached it unmapped before this issue.
    const raw = await post(
      `${sandbox.url}/tinh/dvc/api/molisa/DongBoHoSo`,
      [{ MaHoSo: 'A2-101', DanTocId: '57', HKTT_MaTinh: '14' }],
      JSON_TYPE,
    );
    expect(raw.status).to.equal(400);
    expect(raw.json<{ message: string }>().message).to.contain('HKTT_MaTinh');
  });
});

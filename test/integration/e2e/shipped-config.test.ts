import { readFileSync } from 'node:fs';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { expect } from 'chai';
import type { Gateway } from '../../../src/app/gateway.ts';
import { createLogger } from '../../../src/logging/logger.ts';
import { request } from '../../helpers/http.ts';
import { startShippedStack, type ShippedStack, type StartedSandbox } from '../../helpers/shipped-stack.ts';

const MCDT = { 'x-api-key': 'lgsp-demo-mcdt-key-2026', 'content-type': 'application/json' };
const fixture = (name: string) => readFileSync(new URL(`../../fixtures/molisa/${name}`, import.meta.url));

/**
 * The shipped config (config/) end to end: the gateway against the sandbox of the national systems, each
 * family through the gateway, with the sandbox on its own clock so tokens and QR codes expire on demand.
 */
describe('shipped config end to end against the sandbox', () => {
  let now = Date.now();
  const sandboxClock = { now: () => now };
  // The gateway's own clock runs a little ahead on demand, past the token back-off window (1 s) but well
  // inside its cached token's lifetime: so only the upstream's rejection can tell it the token expired.
  let gatewayOffset = 0;
  const gatewayClock = { now: () => Date.now() + gatewayOffset };
  let stack: ShippedStack | undefined;
  let sandbox: StartedSandbox;
  let gateway: Gateway;
  let gw: string;
  let auditDir: string;
  const logs: string[] = [];

  before(async () => {
    const stream = new PassThrough();
    stream.on('data', (c: Buffer) => logs.push(c.toString()));
    stack = await startShippedStack({
      auditPrefix: 'lgsp-e2e-audit-',
      sandbox: { clock: sandboxClock },
      gateway: { logger: createLogger({ stream }), clock: gatewayClock },
    });
    ({ sandbox, gateway, url: gw, auditDir } = stack);
  });
  after(() => stack?.close());

  const post = (p: string, body: unknown, headers: Record<string, string> = MCDT) =>
    request(`${gw}${p}`, {
      method: 'POST',
      headers,
      body: typeof body === 'string' || Buffer.isBuffer(body) ? body : JSON.stringify(body),
    });
  const received = (system: string) =>
    sandbox.sandbox.received(system) as { body: unknown; response: { status: number; body: unknown } }[];

  it('population services: VDXP household of a head, NDXP dead-or-missing status, with tokens injected', async () => {
    const household = await post('/dancu/1.0/thongTinHoGiaDinh', { soDinhDanh: '099075000101', maCanBo: 'cb-0042' });
    expect(household.status).to.equal(200);
    expect(household.json<{ data: { thanhVien: unknown[] } }>().data.thanhVien).to.have.length.greaterThan(1);
    const dead = await post('/dancu/1.0/xacMinhTinhTrangChetMatTich', {
      soDinhDanh: '099045000105',
      maCanBo: 'cb-0042',
    });
    expect(dead.json<{ data: { trangThai: string } }>().data.trangThai).to.equal('DA_CHET');
    const missing = await post('/dancu/1.0/xacMinhTinhTrangChetMatTich', {
      soDinhDanh: '099079000202',
      maCanBo: 'cb-0042',
    });
    expect(missing.json<{ data: { trangThai: string } }>().data.trangThai).to.equal('MAT_TICH');
  });

  it('population services: an 11-digit ID is refused at the gateway and never reaches the platform', async () => {
    const before = received('vdxp').length;
    const res = await post('/dancu/1.0/thongTinNhomMau', { soDinhDanh: '09907500010', maCanBo: 'cb-0042' });
    expect(res.status).to.equal(400);
    const body = res.json<{ responseCode: string; code: string; errors: { pointer: string; rule: string }[] }>();
    expect(body).to.include({ responseCode: '400', code: 'GW_VALIDATION_FAILED' });
    expect(body.errors[0]).to.include({ pointer: '/soDinhDanh', rule: 'pattern' });
    expect(received('vdxp').length).to.equal(before);
  });

  it("MOLISA: the seed's quirky DongBoDVC payload arrives normalised and is accepted", async () => {
    const res = await post('/molisa/api/v1/Service/DongBoDVC', fixture('DongBoDVC.seed.json'));
    expect(res.json()).to.deep.include({ error_code: 0 });
    const record = (received('molisa').at(-1)!.body as Record<string, unknown>[])[0];
    expect(record).to.have.property('HKTT_MaTinh');
    expect(Object.keys(record).some((k) => k.startsWith('HKTTC_'))).to.equal(false);
    expect(record.DanTocId).to.equal('29'); // GSO "01" (Kinh) -> MOLISA id 29
    expect(record.NgayThangNamSinh).to.match(/^\d{2}\/\d{2}\/\d{4}$/);
  });

  it("MOLISA: XuLyHoSo's PhongBanXuLy and ' UserIdCreated' arrive as DonViXuLy and UseridCreated", async () => {
    const res = await post('/molisa/api/v1/Service/XuLyHoSo', fixture('XuLyHoSo.seed.json'));
    expect(res.json()).to.deep.include({ error_code: 0 });
    const record = (received('molisa').at(-1)!.body as Record<string, unknown>[])[0];
    expect(record).to.have.property('DonViXuLy');
    expect(record).to.have.property('UseridCreated');
    expect(record).not.to.have.property('PhongBanXuLy');
    expect(record.ThoiDiemXuLy).to.match(/^\d{14}$/);
  });

  it('MOLISA: a legacy GetToken is answered by the gateway; the real AccessKey is injected whatever the client sends', async () => {
    const token = await post('/molisa/api/v1/Service/GetToken', { username: 'old-account', password: 'old-password' });
    expect(token.json()).to.deep.include({ error_code: 0 });
    const before = received('molisa').length;
    const res = await post('/molisa/api/v1/Service/FileQuyetDinh', fixture('FileQuyetDinh.seed.json'), {
      ...MCDT,
      accesskey: String(token.json<{ token: string }>().token),
    });
    expect(res.json()).to.deep.include({ error_code: 0 });
    expect(received('molisa').length).to.equal(before + 1); // the compat GetToken never reached MOLISA
  });

  it('MOLISA: a token that expires mid-run is refreshed and the call replayed once', async () => {
    now += 2 * 3600 * 1000; // the sandbox now considers every token it issued expired
    gatewayOffset += 5000;
    try {
      // Another file for the same dossier: the pushes are queued (issue 17), and the same push twice would be
      // answered as a duplicate without reaching MOLISA.
      const records = JSON.parse(fixture('FileQuyetDinh.seed.json').toString()) as { Url: string }[];
      records[0].Url = `${records[0].Url.trim()}?ban=2`;
      const res = await post('/molisa/api/v1/Service/FileQuyetDinh', records);
      expect(res.json()).to.deep.include({ error_code: 0 });
      const population = await post('/dancu/1.0/thongTinNhomMau', { soDinhDanh: '099075000101', maCanBo: 'cb-0042' });
      expect(population.status).to.equal(200);
    } finally {
      now = Date.now();
    }
  });

  it('civil status: push, then a status query with the wrong module is refused at the gateway; a wrong maDonVi is refused', async () => {
    const dossier = {
      module: 'LTKT',
      maHoSoMCDT: 'H08.37.80-240705-0015',
      maDonVi: '07219',
      data: JSON.stringify({ hoTen: 'Nguyễn Văn Tâm' }),
      ngayTiepNhan: '05/07/2024 08:30:00',
    };
    const push = await post('/hotich/3.0/dangKyHoTich', dossier);
    expect(push.json()).to.include({ status: '1' });
    expect(typeof (received('hotich').at(-1)!.body as { data: unknown }).data).to.equal('string');
    const right = await post('/hotich/3.0/traTrangThaiHoSo', {
      maDinhDanhHoSo: [dossier.maHoSoMCDT],
      maTinh: '24',
      module: 'LTKT',
    });
    expect(right.json<{ value: unknown[] }>().value).to.have.length(1);
    // Seed 003 common error 2, named at the gateway: the delivery ledger knows the dossier was pushed as LTKT.
    const wrong = await post('/hotich/3.0/traTrangThaiHoSo', {
      maDinhDanhHoSo: [dossier.maHoSoMCDT],
      maTinh: '24',
      module: 'KT',
    });
    expect(wrong.status).to.equal(400);
    expect(wrong.json()).to.include({ status: '0', errorCode: 'GW_PUSHED_MODULE_MISMATCH' });
    const badUnit = await post('/hotich/3.0/dangKyHoTich', { ...dossier, maDonVi: '99999' });
    expect(badUnit.json()).to.include({ status: '0', errorCode: '106' });
  });

  it('civil status: an unknown module code is refused at the gateway in the civil-status dialect', async () => {
    const res = await post('/hotich/3.0/traTrangThaiHoSo', { maDinhDanhHoSo: ['X'], maTinh: '24', module: 'ZZ' });
    expect(res.status).to.equal(400);
    expect(res.json()).to.include({ status: '0', errorCode: 'GW_VALIDATION_FAILED' });
  });

  it('VNeID: an approved QR code gives the citizen; an expired one says so', async () => {
    const ok = await post('/vneid/dinhdanh/1.0/traCuuThongTinCongDan', { qrID: 'DEMO-QR-APPROVED' });
    expect(ok.json<{ data: { soDinhDanh: string } }>().data.soDinhDanh).to.equal('099075000101');
    const created = await request(`${sandbox.url}/__sandbox/vneid/qr`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ state: 'approved' }),
    });
    const { qrID } = created.json<{ qrID: string }>();
    now += 61_000; // a QR code lives one minute (seed 001 part C)
    try {
      const expired = await post('/vneid/dinhdanh/1.0/traCuuThongTinCongDan', { qrID });
      expect(expired.json()).to.include({ responseCode: '410' });
    } finally {
      now = Date.now();
    }
  });

  it('VNeID SSO: the app exchanges its code without holding the client secret', async () => {
    const auth = await request(
      `${sandbox.url}/vneid/auth?response_type=code&client_id=sandbox-vneid-client&redirect_uri=${encodeURIComponent('http://app/cb')}&state=s1&login_hint=099075000101`,
    );
    const code = new URL(String(auth.headers.location)).searchParams.get('code')!;
    const form = new URLSearchParams({ grant_type: 'authorization_code', code, redirect_uri: 'http://app/cb' });
    const token = await post('/vneid-sso/api/idp/auth/realms/citizen/protocol/openid-connect/token', form.toString(), {
      'x-api-key': MCDT['x-api-key'],
      'content-type': 'application/x-www-form-urlencoded',
    });
    expect(token.status).to.equal(200);
    const accessToken = token.json<{ access_token: string }>().access_token;
    const userinfo = await request(`${gw}/vneid-idp/api/idp/third-party/userinfo`, {
      headers: { 'x-api-key': MCDT['x-api-key'], authorization: `Bearer ${accessToken}` },
    });
    expect(userinfo.json<{ loAS: unknown }>().loAS).to.be.a('string'); // given back as VNeID sent it
  });

  it('inbound: civil-status results and MOLISA case A2 reach the provincial systems, each only from its own caller', async () => {
    const results = await post(
      '/mcdt/hotich/capNhatKetQua',
      { maHoSoMCDT: 'H1', trangThai: 4 },
      {
        'x-api-key': 'lgsp-demo-hotich-inbound-2026',
        'content-type': 'application/json',
      },
    );
    expect(results.json()).to.include({ status: '1' });
    const a2 = await post('/dvc/molisa/DongBoHoSo', [{ MaHoSo: 'A2-1' }], {
      'x-api-key': 'lgsp-demo-molisa-inbound-2026',
      'content-type': 'application/json',
    });
    expect(a2.json()).to.include({ error_code: 0 });
    const forbidden = await post('/dvc/molisa/DongBoHoSo', [], MCDT);
    expect(forbidden.status).to.equal(403);
  });

  it('counts requests by route and token fetches by upstream in the metrics', async () => {
    const text = await gateway.metrics.registry.metrics();
    expect(text).to.match(/lgsp_upstream_token_fetches_total\{upstream="vdxp"\} [1-9]/);
    expect(text).to.match(/lgsp_requests_total\{[^}]*route="molisa-dong-bo-dvc"[^}]*\} [1-9]/);
    expect(text).to.match(/lgsp_validation_rejections_total\{[^}]*route="dancu-thongTinNhomMau"/);
  });

  it('no citizen ID number or secret from this run appears in clear in the log or the audit trail', async () => {
    await gateway.close(1000); // flushes the audit files (close is idempotent; after() calls it again)
    const audit = readAll(auditDir);
    expect(audit.length).to.be.greaterThan(0);
    for (const text of [logs.join(''), audit]) {
      expect(text).not.to.match(/(?<!\d)099\d{9}(?!\d)/);
      for (const secret of [
        'lgsp-demo-mcdt-key-2026',
        'sandbox-ndxp-secret',
        'sandbox-molisa-password',
        'sandbox-vneid-secret',
      ]) {
        expect(text).not.to.contain(secret);
      }
    }
    expect(audit).to.contain('"route":"molisa-dong-bo-dvc"');
  });
});

function readAll(dir: string): string {
  const { readdirSync, statSync } = require_fs();
  let out = '';
  for (const name of readdirSync(dir)) {
    const full = path.join(dir, name);
    out += statSync(full).isDirectory() ? readAll(full) : readFileSync(full, 'utf8');
  }
  return out;
}

function require_fs() {
  return { readdirSync: fsReaddir, statSync: fsStat };
}
import { readdirSync as fsReaddir, statSync as fsStat } from 'node:fs';

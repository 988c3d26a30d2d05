import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { expect } from 'chai';
import { createLogger } from '../../../src/logging/logger.ts';
import { hashSubject } from '../../../src/observability/audit.ts';
import { DEMO_IDS } from '../../../src/sandbox/population-data.ts';
import { request } from '../../helpers/http.ts';
import { until } from '../../helpers/reliability.ts';
import { startShippedStack, type ShippedStack, type StartedSandbox } from '../../helpers/shipped-stack.ts';
import { registerWritten } from '../../helpers/written-registry.ts';

const JSON_HEADERS = { 'content-type': 'application/json' };
const VNEID_INBOUND = { ...JSON_HEADERS, 'x-api-key': 'lgsp-demo-vneid-inbound-2026' };
const SECTOR_DB = { ...JSON_HEADERS, 'x-api-key': 'lgsp-demo-csdlcn-key-2026' };
const MCDT = { ...JSON_HEADERS, 'x-api-key': 'lgsp-demo-mcdt-key-2026' };
const SHIPPED_AUDIT_KEY = 'sandbox-only-audit-hmac-key-0123456789abcdef';

/**
 * Seed 001 part B through the shipped config: the identification system (the sandbox, as NDXP delivers
 * it) asks the provincial sector database for a citizen's documents through the gateway's inbound route
 * (§III, B2–B5), and the sector database sends a changed document back to the identification system
 * through the gateway and NDXP (§IV). Both simulated ends enforce the seed's rules themselves. Also the
 * QR look-up's signed answer and its audit line (issue 16.2, 16.6).
 */
describe('VNeID part B and signed QR answers through the shipped config (issue 16.2, 16.5, 16.6)', function () {
  this.timeout(30_000);
  let stack: ShippedStack | undefined;
  let sandbox: StartedSandbox;
  let gw: string | undefined;
  let auditDir: string;
  const logs: string[] = [];

  before(async () => {
    const stream = new PassThrough();
    stream.on('data', (c: Buffer) => logs.push(c.toString()));
    registerWritten('log of the part B gateway', () => logs.join(''));
    stack = await startShippedStack({
      auditPrefix: 'lgsp-partb-audit-',
      sandbox: { partB: { gatewayUrl: () => gw } },
      gateway: { logger: createLogger({ stream }) },
    });
    ({ sandbox, url: gw, auditDir } = stack);
  });
  after(() => stack?.close());

  const auditText = () =>
    readdirSync(auditDir)
      .map((f) => readFileSync(path.join(auditDir, f), 'utf8'))
      .join('');
  const auditLine = async (requestId: string) => {
    await until(() => auditText().includes(requestId), 'the audit line is written');
    return JSON.parse(
      auditText()
        .split('\n')
        .find((l) => l.includes(requestId))!,
    ) as {
      consumer: string;
      route: string;
      keys: Record<string, string>;
    };
  };
  const received = (system: string) =>
    sandbox.sandbox.received(system) as { body: unknown; client: string | null; response: { body: unknown } }[];
  const control = (p: string, body: unknown) =>
    request(`${sandbox.url}${p}`, { method: 'POST', headers: JSON_HEADERS, body: JSON.stringify(body) });

  it('§III: the identification system asks for a citizen’s documents; the sector database answers through the gateway', async () => {
    const res = await control('/__sandbox/vneid/yeuCauGiayTo', { soDinhDanh: DEMO_IDS.nguyenVanMinh });
    expect(res.status, res.body.toString()).to.equal(200);
    const { status, body } = res.json<{
      status: number;
      body: { responseCode: string; data: { giayTo: unknown[] } };
    }>();
    expect(status).to.equal(200);
    expect(body.responseCode).to.equal('200');
    expect(body.data.giayTo.map((d) => (d as { loaiGiayTo: string }).loaiGiayTo)).to.deep.equal(['GCN_QSDD']);
    // The sector database got the request as the identification system sent it, through the gateway.
    expect(received('csdlcn').at(-1)!.body).to.deep.equal({ soDinhDanh: DEMO_IDS.nguyenVanMinh });
    // B5: the identification system keeps what it received.
    const kept = await request(`${sandbox.url}/__sandbox/vneid/giayTo`);
    expect(kept.json<Record<string, { loaiGiayTo: string }[]>>()[DEMO_IDS.nguyenVanMinh]![0]!.loaiGiayTo).to.equal(
      'GCN_QSDD',
    );
  });

  it('§III B4: a citizen the database holds nothing for gets the reason; a wrong document number too', async () => {
    const none = await control('/__sandbox/vneid/yeuCauGiayTo', { soDinhDanh: DEMO_IDS.leThiMai });
    expect(none.json<{ body: { responseCode: string; responseMessage: string } }>().body).to.include({
      responseCode: '404',
    });
    const wrong = await control('/__sandbox/vneid/yeuCauGiayTo', {
      soDinhDanh: DEMO_IDS.tranThiHuong,
      soGiayTo: 'không-có',
    });
    expect(wrong.json<{ body: { responseCode: string } }>().body.responseCode).to.equal('409');
  });

  it('§III inbound: only the national side’s consumer may call; an 11-digit ID never reaches the database', async () => {
    const route = `${gw}/csdlcn/vneid/traCuuGiayTo`;
    const body = JSON.stringify({ soDinhDanh: DEMO_IDS.nguyenVanMinh });
    const anonymous = await request(route, { method: 'POST', headers: JSON_HEADERS, body });
    expect(anonymous.status).to.equal(401);
    const provincial = await request(route, { method: 'POST', headers: MCDT, body });
    expect(provincial.status).to.equal(403);
    expect(provincial.json()).to.have.property('responseCode'); // the NDXP dialect the national side reads
    const before = received('csdlcn').length;
    const short = await request(route, {
      method: 'POST',
      headers: VNEID_INBOUND,
      body: JSON.stringify({ soDinhDanh: '09907500010' }),
    });
    expect(short.status).to.equal(400);
    expect(received('csdlcn')).to.have.length(before);
    // The request's citizen is in the audit trail as an HMAC only.
    const ok = await request(route, { method: 'POST', headers: VNEID_INBOUND, body });
    expect(ok.status).to.equal(200);
    const line = await auditLine(String(ok.headers['x-request-id']));
    expect(line).to.include({ consumer: 'vneid-ndxp', route: 'vneid-inbound-document-request' });
    expect(line.keys['soDinhDanh#hmac']).to.equal(hashSubject(DEMO_IDS.nguyenVanMinh, Buffer.from(SHIPPED_AUDIT_KEY)));
  });

  it('§IV: a changed document goes from the sector database to the identification system, with the NDXP token', async () => {
    await control('/__sandbox/vneid/yeuCauGiayTo', { soDinhDanh: DEMO_IDS.nguyenVanMinh });
    const res = await control('/__sandbox/csdlcn/giayTo', {
      soDinhDanh: DEMO_IDS.nguyenVanMinh,
      loaiGiayTo: 'GCN_QSDD',
      thayDoi: { soGiayTo: 'CS 05678', ngayCap: '20260102' },
    });
    const sent = res.json<{ sent: boolean; status: number; body: { responseCode: string } }>();
    expect(sent).to.include({ sent: true, status: 200 });
    expect(sent.body.responseCode).to.equal('200');
    const update = received('vneid').at(-1)!;
    expect(update.client, 'the gateway injected an NDXP token').to.be.a('string');
    const kept = await request(`${sandbox.url}/__sandbox/vneid/giayTo`);
    expect(kept.json<Record<string, { soGiayTo: string }[]>>()[DEMO_IDS.nguyenVanMinh]![0]!.soGiayTo).to.equal(
      'CS 05678',
    );
  });

  it('§IV: the identification system refuses an update of a document it never integrated; other callers are refused', async () => {
    const res = await control('/__sandbox/csdlcn/giayTo', {
      soDinhDanh: DEMO_IDS.tranThiHuong,
      loaiGiayTo: 'CCHN_Y',
      thayDoi: { ngayHetHan: '20300601' },
    });
    expect(res.json<{ body: { responseCode: string } }>().body.responseCode).to.equal('404');
    const update = JSON.stringify({
      soDinhDanh: DEMO_IDS.tranThiHuong,
      giayTo: { loaiGiayTo: 'CCHN_Y', soGiayTo: 'x' },
    });
    const fromMcdt = await request(`${gw}/vneid/dinhdanh/1.0/capNhatThongTinGiayTo`, {
      method: 'POST',
      headers: MCDT,
      body: update,
    });
    expect(fromMcdt.status).to.equal(403);
    const noDocument = await request(`${gw}/vneid/dinhdanh/1.0/capNhatThongTinGiayTo`, {
      method: 'POST',
      headers: SECTOR_DB,
      body: JSON.stringify({ soDinhDanh: DEMO_IDS.tranThiHuong }),
    });
    expect(noDocument.status).to.equal(400);
  });

  it('the QR look-up: the sandbox’s signed answer verifies; the audit line holds whose data came back, hashed', async () => {
    const res = await request(`${gw}/vneid/dinhdanh/1.0/traCuuThongTinCongDan`, {
      method: 'POST',
      headers: MCDT,
      body: JSON.stringify({ qrID: 'DEMO-QR-APPROVED' }),
    });
    expect(res.status, res.body.toString()).to.equal(200);
    const body = res.json<{ data: { soDinhDanh: string }; signedData: string }>();
    expect(body.data.soDinhDanh).to.equal(DEMO_IDS.nguyenVanMinh);
    expect(body.signedData.split('.')).to.have.length(3);
    const line = await auditLine(String(res.headers['x-request-id']));
    expect(line.keys).to.deep.equal({
      'answer.soDinhDanh#hmac': hashSubject(DEMO_IDS.nguyenVanMinh, Buffer.from(SHIPPED_AUDIT_KEY)),
    });
    expect(auditText()).to.not.contain(DEMO_IDS.nguyenVanMinh);
  });

  it('a population search by name records whose data came back, hashed, and relays the answer unchanged', async () => {
    const res = await request(`${gw}/dancu/1.0/traCuuThongTinCongDan`, {
      method: 'POST',
      headers: { ...MCDT, 'x-ma-can-bo': 'canbo.tuphap01' },
      body: JSON.stringify({ hoVaTen: 'Nguyễn Văn Minh', namSinh: '1975' }),
    });
    expect(res.status, res.body.toString()).to.equal(200);
    expect(res.body.toString()).to.contain(DEMO_IDS.nguyenVanMinh);
    const line = await auditLine(String(res.headers['x-request-id']));
    expect(line.keys['answer.soDinhDanh#hmac']).to.include(
      hashSubject(DEMO_IDS.nguyenVanMinh, Buffer.from(SHIPPED_AUDIT_KEY)),
    );
  });

  it('the simulated ends enforce the seed themselves: no 11-digit ID, no unknown document type, no update without an NDXP token', async () => {
    const ask = (body: unknown) =>
      request(`${sandbox.url}/tinh/csdlcn/api/vneid/traCuuGiayTo`, {
        method: 'POST',
        headers: JSON_HEADERS,
        body: JSON.stringify(body),
      });
    expect((await ask({ soDinhDanh: '09907500010' })).status).to.equal(400);
    expect((await ask({ soDinhDanh: DEMO_IDS.nguyenVanMinh, loaiGiayTo: 'HO_CHIEU' })).status).to.equal(400);
    const unsigned = await request(`${sandbox.url}/vneid/dinhdanh/1.0/capNhatThongTinGiayTo`, {
      method: 'POST',
      headers: JSON_HEADERS,
      body: JSON.stringify({ soDinhDanh: DEMO_IDS.nguyenVanMinh, giayTo: { loaiGiayTo: 'GCN_QSDD', soGiayTo: 'x' } }),
    });
    expect(unsigned.status).to.equal(401);
  });
});

import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { expect } from 'chai';
import * as soap from 'soap';
import { createGateway, type Gateway } from '../../../src/app/gateway.ts';
import { createLogger } from '../../../src/logging/logger.ts';
import { startSandbox, type Sandbox } from '../../../src/sandbox/index.ts';
import { DEMO_IDS } from '../../../src/sandbox/population-data.ts';
import { wsdlOf } from '../../../src/sandbox/soap.ts';
import { CONSUMER_KEY, CONSUMER_KEY_SHA256 } from '../../helpers/keys.ts';
import { startGateway, type TestGateway } from '../../helpers/gateway.ts';
import { request, startServer, type TestServer } from '../../helpers/http.ts';
import { SHIPPED_CONFIG_DIR, shippedConfigEnv } from '../../helpers/shipped-config.ts';
import { startShippedStack, type ShippedStack, type StartedSandbox } from '../../helpers/shipped-stack.ts';

const MCDT_KEY = 'lgsp-demo-mcdt-key-2026';

/** The gateway's code in a SOAP Fault it wrote (a caller that sent XML reads its errors as SOAP). */
function faultCode(res: { headers: Record<string, unknown>; body: Buffer }): string | undefined {
  expect(res.headers['content-type']).to.match(/^(text\/xml|application\/soap\+xml)/);
  return /<soap:Fault>[\s\S]*<Code>([A-Z_]+)<\/Code>/.exec(res.body.toString())?.[1];
}
const JSON_CALL = { 'x-api-key': MCDT_KEY, 'content-type': 'application/json' };
const root = new URL('../../../', import.meta.url).pathname;

/**
 * Seed 002 §1, "Hình thức kết nối": services (1)–(3) through VDXP, service (4) "xác thực thông tin công
 * dân" through NDXP. Seed 000's eleven services: its service 3 is 002's (4); the others provide information
 * (002's (3), or (2) for the household ones), and 002's (1) is `xacNhanSoDinhDanhCMND`.
 */
const SEED_PLATFORM: Record<string, 'ndxp' | 'vdxp'> = {
  xacThucThongTinCongDan: 'ndxp',
  xacNhanSoDinhDanhCMND: 'vdxp',
  cungCapThongTinCongDan: 'vdxp',
  traCuuThongTinCongDan: 'vdxp',
  thongTinChuHo: 'vdxp',
  thongTinHoGiaDinh: 'vdxp',
  xacMinhNhanThan: 'vdxp',
  thongTinNguoiGiamHo: 'vdxp',
  thongTinNoiOHienTai: 'vdxp',
  thongTinNhomMau: 'vdxp',
  xacMinhTinhTrangHonNhan: 'vdxp',
  xacMinhTinhTrangChetMatTich: 'vdxp',
};

async function startShipped(
  configDir: string,
  sandboxUrl: string,
  auditDir: string,
): Promise<{ gateway: Gateway; url: string }> {
  const gateway = await createGateway({
    configDir,
    env: shippedConfigEnv(sandboxUrl, auditDir),
    watch: false,
    logger: createLogger({ stream: new PassThrough() }),
  });
  return { gateway, url: (await gateway.listen(0, '127.0.0.1')).url };
}

describe('C06 population services through the shipped config (issue 16.4)', () => {
  let gw: ShippedStack;
  let sandbox: StartedSandbox;
  let auditDir: string;

  before(async () => {
    gw = await startShippedStack({ auditPrefix: 'lgsp-population-audit-' });
    ({ sandbox, auditDir } = gw);
  });
  after(() => gw?.close());

  const bodyFor = (op: string) =>
    op === 'traCuuThongTinCongDan'
      ? { maCanBo: 'cb01', hoVaTen: 'Nguyễn Văn Minh', namSinh: '1975' }
      : { maCanBo: 'cb01', soDinhDanh: DEMO_IDS.nguyenVanMinh };

  it('sends each service through the platform seed 002 names, and the sandbox platform answers it', async () => {
    for (const [op, platform] of Object.entries(SEED_PLATFORM)) {
      const other = platform === 'ndxp' ? 'vdxp' : 'ndxp';
      const calls = (p: string) =>
        (sandbox.sandbox.received(p) as { operation: string }[]).filter((r) => r.operation === op).length;
      const before = { [platform]: calls(platform), [other]: calls(other) };
      const res = await request(`${gw.url}/dancu/1.0/${op}`, {
        method: 'POST',
        headers: JSON_CALL,
        body: JSON.stringify(bodyFor(op)),
      });
      expect(res.status, op).to.equal(200);
      expect(res.json(), op).to.include({ responseCode: '200' });
      expect(calls(platform), `${op} on ${platform}`).to.equal(before[platform] + 1);
      expect(calls(other), `${op} not on ${other}`).to.equal(before[other]);
    }
  });

  it('moves a service to the other platform with its one `upstream:` line, and the sandbox refuses it there', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'lgsp-population-config-'));
    try {
      cpSync(SHIPPED_CONFIG_DIR, dir, { recursive: true });
      const file = path.join(dir, 'routes/population.yaml');
      const text = readFileSync(file, 'utf8');
      const block = /(- id: dancu-xacMinhTinhTrangHonNhan\n(?:(?! {2}- id:).*\n)*?) {4}upstream: vdxp\n/;
      expect(text).to.match(block);
      writeFileSync(file, text.replace(block, '$1    upstream: ndxp\n'));
      const moved = await startShipped(dir, sandbox.url, auditDir);
      try {
        const ndxpBefore = sandbox.sandbox.received('ndxp').length;
        const res = await request(`${moved.url}/dancu/1.0/xacMinhTinhTrangHonNhan`, {
          method: 'POST',
          headers: JSON_CALL,
          body: JSON.stringify({ maCanBo: 'cb01', soDinhDanh: DEMO_IDS.nguyenVanMinh }),
        });
        // NDXP does not carry the service (seed 002): the platform's 404, relayed; the call did reach NDXP.
        expect(res.status).to.equal(404);
        const tokenCalls = sandbox.sandbox.received('ndxp').slice(ndxpBefore) as { operation: string }[];
        expect(tokenCalls.map((r) => r.operation)).to.include('token');
      } finally {
        await moved.gateway.close(1000);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a real SOAP client (soap 1.13) calls XacThucThongTinCongDan through the gateway; bytes identical both ways', async () => {
    const client = await soap.createClientAsync(`${sandbox.url}/ndxp/dancu/1.0/xacThucThongTinCongDan?wsdl`, {
      endpoint: `${gw.url}/dancu/1.0/xacThucThongTinCongDan`,
    });
    client.addHttpHeader('x-api-key', MCDT_KEY);
    const [result, rawResponse, , rawRequest] = await client.XacThucThongTinCongDanAsync({
      MaYeuCau: 'soap-1',
      MaCanBo: 'cb-0042',
      SoDinhDanh: DEMO_IDS.nguyenVanMinh,
    });
    expect(result).to.deep.include({ MaYeuCau: 'soap-1', MaKetQua: '200', TonTai: true });
    const seen = sandbox.sandbox.received('ndxp').at(-1) as { body: string; response: { body: string } };
    expect(seen.body).to.equal(rawRequest);
    expect(rawResponse).to.equal(seen.response.body);
  });

  it('SOAP 1.2 (application/soap+xml) to a VDXP service passes too', async () => {
    const client = await soap.createClientAsync(`${sandbox.url}/vdxp/dancu/1.0/xacMinhTinhTrangChetMatTich?wsdl`, {
      endpoint: `${gw.url}/dancu/1.0/xacMinhTinhTrangChetMatTich`,
      forceSoap12Headers: true,
    });
    client.addHttpHeader('x-api-key', MCDT_KEY);
    const [result] = await client.XacMinhTinhTrangChetMatTichAsync({
      MaCanBo: 'cb01',
      SoDinhDanh: DEMO_IDS.nguyenVanTam,
    });
    expect(result).to.deep.include({ MaKetQua: '200', TrangThai: 'DA_CHET' });
    const seen = sandbox.sandbox.received('vdxp').at(-1) as { body: string };
    expect(seen.body).to.include('http://www.w3.org/2003/05/soap-envelope');
  });

  it('a JSON body still meets the schema: a bad ID number is 400 before anything leaves', async () => {
    const before = sandbox.sandbox.received('ndxp').length;
    const res = await request(`${gw.url}/dancu/1.0/xacThucThongTinCongDan`, {
      method: 'POST',
      headers: JSON_CALL,
      body: JSON.stringify({ maCanBo: 'cb01', soDinhDanh: '12345' }),
    });
    expect(res.status).to.equal(400);
    expect(sandbox.sandbox.received('ndxp').length).to.equal(before);
  });
});

describe('XML bodies on a route with a JSON schema: byte-identical, and the label must hold (issue 16.4)', () => {
  const TOKEN = 'capture-upstream-bearer-token-7f3a9c';
  let upstream: TestServer;
  let gw: TestGateway;
  let wsdlDir: string;
  /** What the capturing upstream answers: the envelope, with the injected token echoed back in it. */
  const answerFor = (token: string) =>
    '<?xml version="1.0" encoding="utf-8"?><soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/">' +
    '<soap:Body><XacThucThongTinCongDanResponse xmlns="http://dancuquocgia.bca"><MaYeuCau>x-1</MaYeuCau>' +
    `<MaKetQua>200</MaKetQua><MoTaKetQua>Thành công ${token}</MoTaKetQua><TonTai>true</TonTai>` +
    '</XacThucThongTinCongDanResponse></soap:Body></soap:Envelope>';

  before(async () => {
    upstream = await startServer((req, res) => {
      const token = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1] ?? '';
      res.setHeader('content-type', 'text/xml; charset=utf-8');
      res.end(answerFor(token));
    });
    const credentials = `credentials: [{ type: static, secrets: { tok: "${TOKEN}" }, headers: { Authorization: "Bearer {{tok}}" } }]`;
    gw = await startGateway({
      'gateway.yaml': `version: 1\npaths: { schemas: "${path.join(root, 'schemas')}" }\n`,
      'upstreams.yaml': `upstreams:\n  ndxp: { url: "${upstream.url}", ${credentials} }\nconsumers:\n  mcdt: { apiKeys: [{ sha256: ${CONSUMER_KEY_SHA256} }] }\n`,
      'routes/population.yaml': `routes:
  - { id: soap-ok, methods: [POST], path: /dancu/1.0/xacThucThongTinCongDan, upstream: ndxp, consumers: [mcdt], bodies: [json, xml], request: { schema: population/verify-citizen.request.json } }
  - { id: json-only, methods: [POST], path: /dancu/1.0/jsonOnly, upstream: ndxp, consumers: [mcdt], request: { schema: population/verify-citizen.request.json } }
  - { id: xml-only, methods: [POST], path: /dancu/1.0/xmlOnly, upstream: ndxp, consumers: [mcdt], bodies: [xml], request: { schema: population/verify-citizen.request.json } }
`,
    });
    wsdlDir = mkdtempSync(path.join(tmpdir(), 'lgsp-wsdl-'));
    writeFileSync(
      path.join(wsdlDir, 'dancu.wsdl'),
      wsdlOf('XacThucThongTinCongDan', [['TonTai', 'boolean']], `${gw.url}/dancu/1.0/xacThucThongTinCongDan`),
    );
  });
  after(async () => {
    await gw.close();
    await upstream.close();
    rmSync(wsdlDir, { recursive: true, force: true });
  });

  const post = (p: string, headers: Record<string, string>, body: string | Buffer) =>
    request(`${gw.url}${p}`, { method: 'POST', headers: { 'x-api-key': CONSUMER_KEY, ...headers }, body });

  it("the soap client's bytes reach the upstream unchanged, and its answer comes back with the token masked", async () => {
    const client = await soap.createClientAsync(path.join(wsdlDir, 'dancu.wsdl'));
    client.addHttpHeader('x-api-key', CONSUMER_KEY);
    const [result, rawResponse, , rawRequest] = await client.XacThucThongTinCongDanAsync({
      MaYeuCau: 'x-1',
      SoCMND: '990000101',
      HoVaTen: 'Trần <Thị> & "Hoa"',
    });
    const seen = upstream.requests.at(-1)!;
    expect(seen.body.equals(Buffer.from(rawRequest, 'utf8'))).to.equal(true);
    expect(seen.headers['content-type']).to.match(/^text\/xml/);
    expect(seen.headers.authorization).to.equal(`Bearer ${TOKEN}`);
    expect(rawResponse).to.equal(answerFor('*'.repeat(TOKEN.length)));
    expect(rawResponse).not.to.include(TOKEN);
    expect(result.TonTai).to.equal(true);
  });

  it('refuses a JSON body labelled text/xml (it would skip the schema): 400 GW_BODY_NOT_XML, nothing sent', async () => {
    const count = upstream.requests.length;
    for (const body of ['{"soDinhDanh":"12345"}', '  \r\n{"soCMND":"1"}', '\uFEFF[1]', '"<x/>"']) {
      const res = await post('/dancu/1.0/xacThucThongTinCongDan', { 'content-type': 'text/xml; charset=utf-8' }, body);
      expect(res.status, body).to.equal(400);
      expect(faultCode(res), body).to.equal('GW_BODY_NOT_XML');
    }
    expect(upstream.requests.length).to.equal(count);
  });

  it('refuses a DTD (entity expansion, external entities) and bytes that are not UTF-8', async () => {
    const count = upstream.requests.length;
    const dtd =
      '<?xml version="1.0"?><!doctype lol [<!ENTITY lol "lol">]><soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body>&lol;</soap:Body></soap:Envelope>';
    const res = await post('/dancu/1.0/xacThucThongTinCongDan', { 'content-type': 'application/soap+xml' }, dtd);
    expect(res.status).to.equal(400);
    expect(res.body.toString()).to.match(/DOCTYPE/);
    const latin1 = Buffer.concat([Buffer.from('<a>'), Buffer.from([0xe9, 0xff]), Buffer.from('</a>')]);
    expect((await post('/dancu/1.0/xacThucThongTinCongDan', { 'content-type': 'text/xml' }, latin1)).status).to.equal(
      400,
    );
    expect(upstream.requests.length).to.equal(count);
  });

  it('refuses labels that would hide the bytes from the check: a Content-Encoding, a non-UTF-8 charset (415)', async () => {
    const count = upstream.requests.length;
    const xml = '<a/>';
    const gz = await post(
      '/dancu/1.0/xacThucThongTinCongDan',
      { 'content-type': 'text/xml', 'content-encoding': 'gzip' },
      gzipSync('{"soDinhDanh":"12345"}'), // gzipped JSON: the check could not see it is no XML
    );
    expect(gz.status).to.equal(415);
    expect(faultCode(gz)).to.equal('GW_UNSUPPORTED_BODY_ENCODING');
    const utf16 = await post(
      '/dancu/1.0/xacThucThongTinCongDan',
      { 'content-type': 'text/xml; charset=utf-16le' },
      Buffer.from(xml, 'utf16le'),
    );
    expect(utf16.status).to.equal(415);
    expect(upstream.requests.length).to.equal(count);
  });

  it('takes only what the route declares: XML on a JSON-only route and JSON on an XML-only one are 415', async () => {
    const xml = await post('/dancu/1.0/jsonOnly', { 'content-type': 'text/xml' }, '<a/>');
    expect(xml.status).to.equal(415);
    expect(xml.json<{ detail: string }>().detail).to.include('application/json');
    const json = await post(
      '/dancu/1.0/xmlOnly',
      { 'content-type': 'application/json' },
      '{"soDinhDanh":"001099000001"}',
    );
    expect(json.status).to.equal(415);
    expect(json.json<{ detail: string }>().detail).to.include('text/xml');
    const ok = await post('/dancu/1.0/xmlOnly', { 'content-type': 'application/soap+xml; charset=utf-8' }, '<a/>');
    expect(ok.status).to.equal(200);
  });
});

describe('who asked: the officer identity of a population look-up (issue 16.6)', () => {
  let sandbox: { url: string; sandbox: Sandbox; close(): Promise<void> };
  let gw: { gateway: Gateway; url: string };
  let auditDir: string;
  let closed = false;

  before(async () => {
    sandbox = await startSandbox({ port: 0, host: '127.0.0.1' });
    auditDir = mkdtempSync(path.join(tmpdir(), 'lgsp-officer-audit-'));
    gw = await startShipped(SHIPPED_CONFIG_DIR, sandbox.url, auditDir);
  });
  after(async () => {
    if (!closed) await gw.gateway.close(1000);
    await sandbox.close();
    rmSync(auditDir, { recursive: true, force: true });
  });

  const OP = '/dancu/1.0/cungCapThongTinCongDan';
  const SOAP_OP = '/dancu/1.0/xacThucThongTinCongDan';
  const post = (p: string, headers: Record<string, string>, body: string) =>
    request(`${gw.url}${p}`, { method: 'POST', headers: { 'x-api-key': MCDT_KEY, ...headers }, body });
  const json = (body: Record<string, unknown>, headers: Record<string, string> = {}) =>
    post(
      OP,
      { 'content-type': 'application/json', ...headers },
      JSON.stringify({ soDinhDanh: DEMO_IDS.nguyenVanMinh, ...body }),
    );
  const envelope = (inner: string) =>
    '<?xml version="1.0" encoding="utf-8"?><soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/">' +
    `<soap:Body><XacThucThongTinCongDan xmlns="http://dancuquocgia.bca">${inner}` +
    `<SoDinhDanh>${DEMO_IDS.nguyenVanMinh}</SoDinhDanh></XacThucThongTinCongDan></soap:Body></soap:Envelope>`;
  const soapCall = (inner: string, headers: Record<string, string> = {}) =>
    post(SOAP_OP, { 'content-type': 'text/xml; charset=utf-8', ...headers }, envelope(inner));
  const lastVdxpBody = () => (sandbox.sandbox.received('vdxp').at(-1) as { body: Record<string, unknown> }).body;

  it('a look-up without an officer is refused before it leaves, naming where to put one', async () => {
    const before = sandbox.sandbox.received('vdxp').length;
    const res = await json({});
    expect(res.status).to.equal(400);
    const answer = res.json<{ code: string; responseMessage: string }>();
    expect(answer.code).to.equal('GW_OFFICER_REQUIRED');
    expect(answer.responseMessage).to.include('header X-Ma-Can-Bo').and.include('JSON field maCanBo');
    const soap = await soapCall('');
    expect(soap.status).to.equal(400);
    expect(faultCode(soap)).to.equal('GW_OFFICER_REQUIRED');
    expect(sandbox.sandbox.received('vdxp').length).to.equal(before);
  });

  it('an officer given as a header reaches C06 as maCanBo in the body (the sandbox requires it)', async () => {
    const res = await json({}, { 'x-ma-can-bo': 'cb-0042' });
    expect(res.status, res.body.toString()).to.equal(200);
    expect(lastVdxpBody().maCanBo).to.equal('cb-0042');
    const inBody = await json({ maCanBo: 'cb-0043' });
    expect(inBody.status).to.equal(200);
    expect(lastVdxpBody().maCanBo).to.equal('cb-0043');
  });

  it('refuses an officer the sources disagree on, or that is no account code, without echoing it', async () => {
    const conflict = await json({ maCanBo: 'cb-0042' }, { 'x-ma-can-bo': 'cb-9999' });
    expect(conflict.status).to.equal(400);
    expect(conflict.json<{ code: string }>().code).to.equal('GW_OFFICER_INVALID');
    for (const bad of ['cb 0042', 'a,b', '<x>', 'x'.repeat(65)]) {
      const res = await json({ maCanBo: bad });
      expect(res.status, bad).to.equal(400);
      expect(res.body.toString(), bad).not.to.include(bad);
    }
    expect((await json({ maCanBo: 42 })).status).to.equal(400);
  });

  it('reads MaCanBo from a SOAP envelope, and refuses one that could show another value upstream', async () => {
    const ok = await soapCall('<MaCanBo>cb-0050</MaCanBo>');
    expect(ok.status, ok.body.toString()).to.equal(200);
    for (const inner of [
      '<MaCanBo>cb-0050</MaCanBo><MaCanBo>cb-0051</MaCanBo>',
      '<!-- <MaCanBo>cb-0050</MaCanBo> -->',
      '<MaCanBo><![CDATA[cb-0050]]></MaCanBo>',
      '<MaCanBo>cb&#45;0050</MaCanBo>',
    ]) {
      const res = await soapCall(inner, { 'x-ma-can-bo': 'cb-0050' });
      expect(res.status, inner).to.equal(400);
      expect(faultCode(res), inner).to.equal('GW_OFFICER_INVALID');
    }
  });

  it('records the officer in the audit line: in clear, or as an HMAC when it looks like an ID number', async () => {
    await json({ maCanBo: 'cb-0077' });
    await json({ maCanBo: '001099012345' }); // an officer whose account is their own ID number
    await soapCall('<MaCanBo>cb-0078</MaCanBo>');
    await gw.gateway.close(1000);
    closed = true;
    const lines = readdirSync(auditDir)
      .filter((f) => f.endsWith('.jsonl'))
      .flatMap((f) => readFileSync(path.join(auditDir, f), 'utf8').trim().split('\n'))
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    const byOfficer = (o: string) => lines.filter((l) => l.officer === o);
    expect(byOfficer('cb-0077')).to.have.length(1);
    expect(byOfficer('cb-0077')[0]).to.include({ route: 'dancu-cungCapThongTinCongDan', status: 200 });
    expect(byOfficer('cb-0078')[0]).to.include({ route: 'dancu-xacThucThongTinCongDan', status: 200 });
    const hashed = lines.filter((l) => typeof l['officer#hmac'] === 'string');
    expect(hashed).to.have.length(1);
    // The officer comes last, after the keys, whether in clear or hashed; the time is an ISO instant.
    const order = ['time', 'requestId', 'consumer', 'route', 'upstream', 'method', 'status', 'durationMs', 'keys'];
    for (const [line, last] of [
      [byOfficer('cb-0077')[0], 'officer'],
      [hashed[0], 'officer#hmac'],
    ] as const) {
      expect(Object.keys(line)).to.deep.equal([...order.filter((k) => k in line), last]);
      expect(new Date(line.time as string).toISOString()).to.equal(line.time);
    }
    expect(JSON.stringify(lines)).not.to.include('001099012345');
  });
});

describe('route config: bodies and officer are checked at load (issues 16.4, 16.6)', () => {
  const consumers = `consumers:\n  mcdt: { apiKeys: [{ sha256: ${CONSUMER_KEY_SHA256} }] }\n`;
  const refusal = async (upstream: string, route: string): Promise<string> => {
    try {
      const gw = await startGateway({
        'gateway.yaml': 'version: 1\n',
        'upstreams.yaml': `upstreams:\n  up: ${upstream}\n${consumers}`,
        'routes/r.yaml': `routes:\n  - { id: r, methods: [POST], path: /up/x, upstream: up, consumers: [mcdt], ${route} }\n`,
      });
      await gw.close();
      return '';
    } catch (err) {
      return (err as Error).message;
    }
  };

  it('refuses XML on an upstream whose credentials write into the JSON body', async () => {
    const upstream =
      '{ url: "http://127.0.0.1:9", credentials: [{ type: login-token, tokenUrl: "http://127.0.0.1:9/t", secrets: { username: u, password: p }, inject: { jsonField: AcceptKey } }] }';
    expect(await refusal(upstream, 'bodies: [json, xml]')).to.match(/bodies[\s\S]*XML body/);
  });

  it('refuses an officer field on a route that does not read JSON, and an element without XML bodies', async () => {
    const upstream = '{ url: "http://127.0.0.1:9" }';
    expect(await refusal(upstream, 'officer: { field: maCanBo }')).to.match(/officer/);
    expect(await refusal(upstream, 'officer: { element: MaCanBo }')).to.match(/officer/);
    expect(await refusal(upstream, 'officer: { required: true }')).to.match(/officer/);
  });
});

describe("a SOAP caller reads the gateway's own errors as SOAP Faults (issue 16.4)", () => {
  let gw: ShippedStack;
  let sandbox: StartedSandbox;
  before(async () => {
    gw = await startShippedStack({ auditPrefix: 'lgsp-fault-audit-' });
    sandbox = gw.sandbox;
  });
  after(() => gw?.close());

  it('the soap client gets a Fault it can read when the gateway refuses the call', async () => {
    const client = await soap.createClientAsync(`${sandbox.url}/ndxp/dancu/1.0/xacThucThongTinCongDan?wsdl`, {
      endpoint: `${gw.url}/dancu/1.0/xacThucThongTinCongDan`,
    });
    client.addHttpHeader('x-api-key', MCDT_KEY);
    const failure = await client.XacThucThongTinCongDanAsync({ SoDinhDanh: DEMO_IDS.nguyenVanMinh }).then(
      () => undefined,
      (err: { root?: { Envelope?: { Body?: { Fault?: { faultcode?: string; detail?: unknown } } } } }) => err,
    );
    const fault = failure?.root?.Envelope?.Body?.Fault;
    expect(fault?.faultcode).to.equal('soap:Client');
    expect(JSON.stringify(fault?.detail)).to.include('GW_OFFICER_REQUIRED');
  });

  it('SOAP 1.2 callers get a 1.2 Fault; an unauthenticated caller too, with the hop named', async () => {
    const res = await request(`${gw.url}/dancu/1.0/xacThucThongTinCongDan`, {
      method: 'POST',
      headers: { 'content-type': 'application/soap+xml; charset=utf-8' },
      body: '<a/>',
    });
    expect(res.status).to.equal(401);
    expect(faultCode(res)).to.equal('GW_UNAUTHENTICATED');
    expect(res.body.toString()).to.include('http://www.w3.org/2003/05/soap-envelope').and.include('soap:Sender');
  });
});

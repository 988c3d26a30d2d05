import { expect } from 'chai';
import { CONSUMER_KEY, CONSUMER_KEY_SHA256 } from '../../helpers/keys.ts';
import { startGateway, type TestGateway } from '../../helpers/gateway.ts';
import { request, startServer, type TestServer } from '../../helpers/http.ts';
import { suspendNockDuring } from '../../helpers/reliability.ts';

/**
 * Issue 14.6: on bodies the gateway re-serialises, a number a double cannot carry (1e400, integers beyond
 * 2^53, decimals with more than 17 significant digits) reached the upstream changed (null, rounded), in the
 * body and inside the civil-status `data` string. The capturing upstream records the exact bytes it got.
 */
describe('security: numbers reach the other side exactly as written (issue 14.6)', function () {
  this.timeout(20_000);
  suspendNockDuring(this);
  let up: TestServer;
  let gw: TestGateway;
  let answer = '{}';
  const headers = { 'x-api-key': CONSUMER_KEY, 'content-type': 'application/json' };

  before(async () => {
    up = await startServer((_req, res) => {
      res.setHeader('content-type', 'application/json');
      res.end(answer);
    });
    gw = await startGateway({
      'gateway.yaml': 'version: 1\npaths: { schemas: schemas }\nlogging: { level: warn }\n',
      'schemas/push.json': JSON.stringify({
        type: 'object',
        required: ['maHoSoMCDT', 'data'],
        properties: {
          maHoSoMCDT: { type: 'string' },
          soTien: { type: 'number' },
          data: {
            type: 'object',
            properties: { soDinhDanh: { type: 'string' }, soTien: { type: 'number', minimum: 0 } },
          },
        },
      }),
      'upstreams.yaml': `upstreams:\n  hotich: { url: "${up.url}" }\nconsumers:\n  tinh: { apiKeys: [{ sha256: ${CONSUMER_KEY_SHA256} }] }\n`,
      'routes.yaml': `routes:
  - id: push
    methods: [POST]
    path: /hotich/push
    upstream: hotich
    consumers: [tinh]
    request:
      mapping:
        - { op: embeddedJson, field: data, mode: parse, reserialize: true }
        - { op: rename, fields: { maHoSo: maHoSoMCDT } }
      schema: push.json
  - id: lookup
    methods: [GET]
    path: /lookup
    upstream: hotich
    consumers: [tinh]
    response:
      mapping:
        - { op: rename, fields: { ma: maHoSo } }
`,
    });
  });
  after(async () => {
    await gw?.close();
    await up?.close();
  });

  const post = (body: string) => request(`${gw.url}/hotich/push`, { method: 'POST', headers, body });

  it('1e400, big integers and long decimals in a mapped body are forwarded with their original text', async () => {
    const res = await post(
      '{"maHoSo":"H1","soTien":1e400,"big":12345678901234567890,"neg":-9007199254740993,' +
        '"dec":0.12345678901234567890123,"tiny":1e-400,"plain":1.50,"data":"{}"}',
    );
    expect(res.status, res.body.toString()).to.equal(200);
    expect(up.requests.at(-1)!.body.toString()).to.equal(
      '{"maHoSoMCDT":"H1","soTien":1e400,"big":12345678901234567890,"neg":-9007199254740993,' +
        '"dec":0.12345678901234567890123,"tiny":1e-400,"plain":1.5,"data":"{}"}',
    );
  });

  it('big integers inside the civil-status `data` string are not rounded', async () => {
    const data = '{"soDinhDanh":"001099000001","soTien":123456789012345678901234,"maGiayTo":98765432109876543210}';
    const res = await post(JSON.stringify({ maHoSo: 'H2', data }));
    expect(res.status, res.body.toString()).to.equal(200);
    const forwarded = JSON.parse(up.requests.at(-1)!.body.toString()) as { data: string };
    expect(forwarded.data).to.equal(data);
  });

  it('the schema still judges such numbers (by their nearest double), naming the field', async () => {
    const seen = up.requests.length;
    const res = await post(JSON.stringify({ maHoSo: 'H3', data: '{"soTien":-123456789012345678901234}' }));
    expect(res.status).to.equal(400);
    expect(res.body.toString()).to.contain('/data/soTien');
    const wrongType = await post(JSON.stringify({ maHoSo: 'H3', data: '{"soDinhDanh":12345678901234567890}' }));
    expect(wrongType.status).to.equal(400);
    expect(wrongType.body.toString()).to.contain('/data/soDinhDanh');
    expect(up.requests.length).to.equal(seen);
  });

  it("a mapped answer's numbers reach the caller as the upstream wrote them", async () => {
    answer = '{"ma":"H1","soTien":12345678901234567890,"lai":1e400,"ty":0.1000000000000000000001}';
    const res = await request(`${gw.url}/lookup`, { headers });
    expect(res.status).to.equal(200);
    expect(res.body.toString()).to.equal(
      '{"maHoSo":"H1","soTien":12345678901234567890,"lai":1e400,"ty":0.1000000000000000000001}',
    );
    expect(res.headers['content-length']).to.equal(String(res.body.length));
  });
});

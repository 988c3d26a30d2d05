import { expect } from 'chai';
import { CONSUMER_KEY, CONSUMER_KEY_SHA256 } from '../../helpers/keys.ts';
import { startGateway, type TestGateway } from '../../helpers/gateway.ts';
import { request, startServer, type TestServer } from '../../helpers/http.ts';
import { suspendNockDuring } from '../../helpers/reliability.ts';

/**
 * Issue 14.5: an upstream's answer on a response-mapped route met the mapping's recursion unguarded: 100,000
 * levels of nesting ended in a stack overflow answered 500 GW_INTERNAL. Answers now get the request's guards
 * (limits.jsonDepth, limits.objectKeys, UTF-8) and a fault is a 502 naming the upstream and the rule.
 */
describe('reliability: hostile answers on response-mapped routes (issue 14.5)', function () {
  this.timeout(20_000);
  suspendNockDuring(this);
  let up: TestServer;
  let gw: TestGateway;
  let answer: string | Buffer = '{}';
  const headers = { 'x-api-key': CONSUMER_KEY };

  before(async () => {
    up = await startServer((_req, res) => {
      res.setHeader('content-type', 'application/json');
      res.end(answer);
    });
    gw = await startGateway({
      'gateway.yaml': 'version: 1\nlimits: { jsonDepth: 32, objectKeys: 100 }\nlogging: { level: warn }\n',
      'upstreams.yaml': `upstreams:\n  vdxp: { url: "${up.url}" }\nconsumers:\n  tinh: { apiKeys: [{ sha256: ${CONSUMER_KEY_SHA256} }] }\n`,
      'routes.yaml': `routes:
  - { id: enforced, methods: [GET], path: /enforced, upstream: vdxp, consumers: [tinh], response: { mapping: [{ op: rename, fields: { a: b } }] } }
  - { id: reported, methods: [GET], path: /reported, upstream: vdxp, consumers: [tinh], response: { mode: report, mapping: [{ op: rename, fields: { a: b } }] } }
`,
    });
  });
  after(async () => {
    await gw?.close();
    await up?.close();
  });
  afterEach(async () => {
    expect((await request(`${gw.url}/healthz`)).status, 'the gateway still answers').to.equal(200);
  });

  const get = (path: string) => request(`${gw.url}${path}`, { headers });
  const detail = (body: Buffer) => (JSON.parse(body.toString()) as { detail: string }).detail;

  it('100,000 levels of nesting: 502 GW_UPSTREAM_BAD_RESPONSE naming the upstream and limits.jsonDepth', async () => {
    for (const deep of [
      '['.repeat(100_000) + ']'.repeat(100_000),
      '{"a":'.repeat(100_000) + '1' + '}'.repeat(100_000),
    ]) {
      answer = deep;
      const res = await get('/enforced');
      expect(res.status).to.equal(502);
      expect(res.json()).to.include({ code: 'GW_UPSTREAM_BAD_RESPONSE', hop: 'upstream' });
      expect(detail(res.body)).to.contain('vdxp').and.to.contain('limits.jsonDepth');
    }
    answer = '{"a":' + '['.repeat(31) + ']'.repeat(31) + '}';
    const atLimit = await get('/enforced');
    expect(atLimit.status).to.equal(200);
    expect(atLimit.json()).to.have.property('b');
  });

  it('an object over limits.objectKeys, or bytes that are not UTF-8: 502 naming the rule', async () => {
    answer = `{${Array.from({ length: 101 }, (_, i) => `"k${i}":1`).join(',')}}`;
    let res = await get('/enforced');
    expect(res.status).to.equal(502);
    expect(detail(res.body)).to.contain('vdxp').and.to.contain('limits.objectKeys');
    answer = Buffer.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xff, 0x22, 0x7d]);
    res = await get('/enforced');
    expect(res.status).to.equal(502);
    expect(detail(res.body)).to.contain('UTF-8');
  });

  it('report mode relays such an answer unchanged instead of mapping it', async () => {
    answer = '['.repeat(100_000) + ']'.repeat(100_000);
    const res = await get('/reported');
    expect(res.status).to.equal(200);
    expect(res.body.toString()).to.equal(answer);
  });
});

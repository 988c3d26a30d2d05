import { expect } from 'chai';
import { CONSUMER_KEY, CONSUMER_KEY_SHA256 } from '../../helpers/keys.ts';
import { startGateway, type TestGateway } from '../../helpers/gateway.ts';
import { request, startServer, type TestServer } from '../../helpers/http.ts';

/**
 * date-fns is loaded by the first date format that needs it, when the config is loaded
 * (src/transform/date-format.ts): a gateway whose date ops use only numeric formats runs without it. A
 * reload that brings in a format only date-fns reads (a month by name) must compile it then and map with
 * it at once, and a format date-fns refuses must fail that reload with date-fns's reason, the running
 * config kept.
 */
describe('gateway core: a reload brings in date formats that need date-fns', () => {
  let up: TestServer;
  let gw: TestGateway;
  const routes = (from: string) =>
    'routes:\n' +
    '  - id: hoso\n    methods: [POST]\n    path: /ndxp/hoso\n    upstream: ndxp\n    consumers: [mcdt]\n' +
    `    request: { mapping: [{ op: date, field: ngay, from: [${from}], to: dd/MM/yyyy }] }\n`;
  const post = async (ngay: string) => {
    const before = up.requests.length;
    const reply = await request(`${gw.url}/ndxp/hoso`, {
      method: 'POST',
      headers: { 'x-api-key': CONSUMER_KEY, 'content-type': 'application/json' },
      body: JSON.stringify({ ngay }),
    });
    const sent = up.requests.length > before ? JSON.parse(up.requests.at(-1)!.body.toString()) : undefined;
    return { status: reply.status, sent };
  };

  before(async () => {
    up = await startServer();
    gw = await startGateway({
      'gateway.yaml': 'version: 1\n',
      'upstreams.yaml': `upstreams:\n  ndxp: { url: "${up.url}" }\nconsumers:\n  mcdt: { apiKeys: [{ sha256: ${CONSUMER_KEY_SHA256} }] }\n`,
      'routes.yaml': routes('yyyyMMdd'),
    });
  });
  after(async () => {
    await gw?.close();
    await up?.close();
  });

  it('numeric formats map without date-fns; a reload adding "d MMMM yyyy" maps named months at once', async () => {
    expect(await post('20211212')).to.deep.equal({ status: 200, sent: { ngay: '12/12/2021' } });
    expect((await post('12 December 2021')).status, 'not a format of this config yet').to.equal(400);
    gw.write('routes.yaml', routes("yyyyMMdd, 'd MMMM yyyy'"));
    expect((await gw.gateway.reloader.reload('test')).result).to.equal('success');
    expect(await post('12 December 2021')).to.deep.equal({ status: 200, sent: { ngay: '12/12/2021' } });
    expect(await post('20211213')).to.deep.equal({ status: 200, sent: { ngay: '13/12/2021' } });
  });

  it("a format date-fns refuses (a field written twice) fails the reload with date-fns's reason; the last config keeps serving", async () => {
    gw.write('routes.yaml', routes("'dd/MM/yyyy dd'"));
    const result = await gw.gateway.reloader.reload('test');
    expect(result.result).to.not.equal('success');
    expect(JSON.stringify(result)).to.match(/mustn't contain `dd` and `dd`/);
    expect(await post('12 December 2021')).to.deep.equal({ status: 200, sent: { ngay: '12/12/2021' } });
  });
});

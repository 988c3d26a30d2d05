import { expect } from 'chai';
import { CONSUMER_KEY, CONSUMER_KEY_SHA256 } from '../../helpers/keys.ts';
import { startGateway, type TestGateway } from '../../helpers/gateway.ts';
import { request, startServer, type TestServer } from '../../helpers/http.ts';

/**
 * A reload keeps the compiled validators of schema files that did not change (compiling is most of a
 * reload, and traffic waits for it) and compiles the ones that did: an edited schema applies at once.
 */
describe('gateway core: hot reload of JSON Schema files', () => {
  let up: TestServer;
  let gw: TestGateway;
  const schema = (maxLength: number) =>
    JSON.stringify({ type: 'object', required: ['HoVaTen'], properties: { HoVaTen: { type: 'string', maxLength } } });
  const post = (name: string) =>
    request(`${gw.url}/ndxp/hoso`, {
      method: 'POST',
      headers: { 'x-api-key': CONSUMER_KEY, 'content-type': 'application/json' },
      body: JSON.stringify({ HoVaTen: name }),
    });

  before(async () => {
    up = await startServer();
    gw = await startGateway({
      'gateway.yaml': 'version: 1\npaths: { schemas: schemas }\n',
      'schemas/hoso.json': schema(20),
      'upstreams.yaml': `upstreams:\n  ndxp: { url: "${up.url}" }\nconsumers:\n  mcdt: { apiKeys: [{ sha256: ${CONSUMER_KEY_SHA256} }] }\n`,
      'routes.yaml':
        'routes:\n  - { id: hoso, methods: [POST], path: /ndxp/hoso, upstream: ndxp, consumers: [mcdt], request: { schema: hoso.json } }\n',
    });
  });
  after(async () => {
    await gw?.close();
    await up?.close();
  });

  it('an edited schema file applies after the reload; the old one held until then', async () => {
    expect((await post('Nguyễn Văn An')).status).to.equal(200);
    gw.write('schemas/hoso.json', schema(5));
    expect((await post('Nguyễn Văn An')).status, 'before the reload').to.equal(200);
    const result = await gw.gateway.reloader.reload('test');
    expect(result.result).to.equal('success');
    const rejected = await post('Nguyễn Văn An');
    expect(rejected.status).to.equal(400);
    expect(rejected.body.toString()).to.contain('HoVaTen');
    expect((await post('Lan')).status).to.equal(200);
  });

  it('a route change with the schema unchanged keeps validating with it', async () => {
    gw.write(
      'routes.yaml',
      'routes:\n  - { id: hoso, methods: [POST, PUT], path: /ndxp/hoso, upstream: ndxp, consumers: [mcdt], request: { schema: hoso.json } }\n',
    );
    expect((await gw.gateway.reloader.reload('test')).result).to.equal('success');
    expect((await post('Nguyễn Văn An')).status).to.equal(400);
    expect((await post('Lan')).status).to.equal(200);
  });
});

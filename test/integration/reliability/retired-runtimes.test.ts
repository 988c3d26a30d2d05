import v8 from 'node:v8';
import vm from 'node:vm';
import { expect } from 'chai';
import { CONSUMER_KEY, CONSUMER_KEY_SHA256 } from '../../helpers/keys.ts';
import { startGateway, type TestGateway } from '../../helpers/gateway.ts';
import { request, startServer, type TestServer } from '../../helpers/http.ts';

/**
 * Reloads must not accumulate memory (issue 8, found by the soak): once a runtime is retired and its last
 * request is done, nothing may keep it alive, with or without traffic and whether routes or upstreams
 * changed.
 */
describe('reliability: retired runtimes are released', () => {
  let up: TestServer;
  let gw: TestGateway;
  const upstreams = (n: number) =>
    `upstreams:\n  ndxp: { url: "${up.url}", maxSockets: ${n} }\nconsumers:\n  mcdt: { apiKeys: [{ sha256: ${CONSUMER_KEY_SHA256} }] }\n`;
  const routes = (g: number) =>
    `routes:\n  - { id: r${g}, methods: [GET, POST], path: /ndxp/*, upstream: ndxp, consumers: [mcdt] }\n`;

  before(async () => {
    up = await startServer();
    gw = await startGateway({ 'gateway.yaml': 'version: 1\n', 'u.yaml': upstreams(10), 'r.yaml': routes(0) });
  });
  after(async () => {
    await gw?.close();
    await up?.close();
  });

  it('a runtime replaced by reloads (routes and upstreams changed, requests served) can be collected', async () => {
    v8.setFlagsFromString('--expose-gc');
    const gc = vm.runInNewContext('gc') as () => void;
    const first = new WeakRef(gw.gateway.reloader.current);
    for (let g = 1; g <= 4; g++) {
      for (const method of ['GET', 'POST']) {
        const res = await request(`${gw.url}/ndxp/x`, {
          method,
          headers: { 'x-api-key': CONSUMER_KEY },
          body: method === 'POST' ? 'x' : undefined,
        });
        expect(res.status).to.equal(200);
      }
      gw.write('r.yaml', routes(g));
      if (g % 2 === 0) gw.write('u.yaml', upstreams(10 + g));
      expect((await gw.gateway.reloader.reload('test')).result).to.equal('success');
    }
    // WeakRefs are cleared after the current job: collect, then look in a later macrotask.
    gc();
    await new Promise((r) => setImmediate(r));
    gc();
    await new Promise((r) => setImmediate(r));
    expect(first.deref(), 'the first runtime is still reachable').to.equal(undefined);
  });
});

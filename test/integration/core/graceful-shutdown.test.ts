import type { ServerResponse } from 'node:http';
import { expect } from 'chai';
import { CONSUMER_KEY, CONSUMER_KEY_SHA256 } from '../../helpers/keys.ts';
import { startGateway } from '../../helpers/gateway.ts';
import { request, startServer } from '../../helpers/http.ts';

describe('gateway core: graceful shutdown', () => {
  it('lets an in-flight request finish, refuses new connections, and reports not-ready while draining', async () => {
    let release: (() => void) | undefined;
    let signalArrival: () => void = () => undefined;
    const arrived = new Promise<void>((resolve) => (signalArrival = resolve));
    // The upstream holds the request until the test releases it.
    const upstream = await startServer((_req, res: ServerResponse) => {
      release = () => res.end('{"done":true}');
      signalArrival();
    });
    const gw = await startGateway({
      'gateway.yaml': `version: 1\nupstreams:\n  ndxp: { url: "${upstream.url}" }\nconsumers:\n  mcdt: { apiKeys: [{ sha256: ${CONSUMER_KEY_SHA256} }] }\nroutes:\n  - { id: r, path: /ndxp/*, upstream: ndxp, consumers: [mcdt] }\n`,
    });
    try {
      const inFlight = request(`${gw.url}/ndxp/slow`, { headers: { 'x-api-key': CONSUMER_KEY } });
      await arrived;
      const closing = gw.gateway.close(5000);
      expect(gw.gateway.ready).to.equal(false);
      const refused = await request(`${gw.url}/healthz`).then(
        () => 'answered',
        (err: NodeJS.ErrnoException) => err.code,
      );
      expect(refused).to.equal('ECONNREFUSED');
      release!();
      const res = await inFlight;
      expect(res.status).to.equal(200);
      expect(res.json()).to.deep.equal({ done: true });
      expect(res.headers.connection).to.equal('close');
      await closing;
    } finally {
      await gw.close();
      await upstream.close();
    }
  });
});

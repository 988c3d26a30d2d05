import { expect } from 'chai';
import { CONSUMER_KEY, CONSUMER_KEY_SHA256 } from '../../helpers/keys.ts';
import { startGateway, type TestGateway } from '../../helpers/gateway.ts';
import { rawExchange, startCapturingUpstream, type CapturingUpstream } from '../../helpers/raw-http.ts';
import { suspendNockDuring } from '../../helpers/reliability.ts';

/**
 * The caller's connection is the caller's: `Connection: close` from the caller is honoured on every path
 * (the streamed one used to relay the upstream's keep-alive and leave the socket open), and an upstream
 * that closes its own connection does not close the caller's (Connection is hop-by-hop, RFC 9110 §7.6.1).
 */
describe('core: the caller decides its own connection', function () {
  this.timeout(10_000);
  suspendNockDuring(this);
  let up: CapturingUpstream;
  let gw: TestGateway;
  const KEY = `X-API-Key: ${CONSUMER_KEY}\r\n`;

  before(async () => {
    up = await startCapturingUpstream({
      answer: (req) =>
        req.target.includes('upstream-closes')
          ? 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok'
          : undefined,
    });
    gw = await startGateway({
      'gateway.yaml': 'version: 1\n',
      'upstreams.yaml': `upstreams:\n  up: { url: "${up.url}" }\nconsumers:\n  c: { apiKeys: [{ sha256: ${CONSUMER_KEY_SHA256} }] }\n`,
      'routes.yaml': 'routes:\n  - { id: up, methods: [POST], path: /up/*, upstream: up, consumers: [c] }\n',
    });
  });
  after(async () => {
    await gw?.close();
    await up?.close();
  });

  const chunked = (path: string, connection = '') =>
    `POST ${path} HTTP/1.1\r\nHost: gw\r\n${KEY}${connection}Transfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n`;
  const small = (path: string, connection = '') =>
    `POST ${path} HTTP/1.1\r\nHost: gw\r\n${KEY}${connection}Content-Length: 2\r\n\r\n{}`;

  for (const [name, make] of [
    ['streamed (chunked)', chunked],
    ['managed (small body)', small],
  ] as const) {
    it(`${name}: Connection: close from the caller closes the caller's connection after the answer`, async () => {
      // expect 2: the exchange ends only when the gateway closes the socket (or a second answer came).
      const out = await rawExchange(gw.url, [make('/up/a', 'Connection: close\r\n')], { expect: 2 });
      expect(out.responses).to.have.length(1);
      expect(out.responses[0].status).to.equal(200);
      expect(out.responses[0].headers.connection).to.equal('close');
      expect(out.closed).to.equal(true);
    });

    it(`${name}: an upstream closing its own connection leaves the caller's keep-alive open`, async () => {
      const out = await rawExchange(gw.url, [make('/up/upstream-closes'), make('/up/b')], { expect: 2 });
      expect(out.responses.map((r) => r.status)).to.deep.equal([200, 200]);
      expect(out.responses[0].headers.connection ?? 'keep-alive').to.not.equal('close');
      expect(out.closed).to.equal(false);
    });
  }
});

import { createHash } from 'node:crypto';
import { expect } from 'chai';
import { CONSUMER_KEY, CONSUMER_KEY_SHA256 } from '../../helpers/keys.ts';
import { startGateway, type TestGateway } from '../../helpers/gateway.ts';
import { rawExchange, startCapturingUpstream, type CapturingUpstream } from '../../helpers/raw-http.ts';
import { suspendNockDuring, until } from '../../helpers/reliability.ts';

/**
 * Pool starvation (issue 14.3), scaled down: 300 uploads at 1 byte/s from one consumer once held all 256
 * sockets of an upstream's streamed pool. Here the pool has 4 sockets, a consumer's share is half of it
 * (2), and a streamed body must bring 1000 bytes/s over 300 ms windows. One consumer's slow uploads are
 * admitted up to its share, refused beyond it (429), and cut when they stall (408); another consumer's
 * upload goes through all along.
 */
describe('security: per-consumer share of upstream connections and minimum upload rate', function () {
  this.timeout(15_000);
  suspendNockDuring(this);
  const KEY_B = 'consumer-b-test-key-0123456789abcdef';
  let up: CapturingUpstream;
  const A = `X-API-Key: ${CONSUMER_KEY}\r\n`;
  const B = `X-API-Key: ${KEY_B}\r\n`;

  const start = (upload: string) =>
    startGateway({
      'gateway.yaml': `version: 1\nlimits: { upload: ${upload} }\n`,
      'upstreams.yaml': `upstreams:
  up: { url: "${up.url}", maxSockets: 4, consumerShare: 0.5, errorDialect: molisa }
consumers:
  a: { apiKeys: [{ sha256: ${CONSUMER_KEY_SHA256} }] }
  b: { apiKeys: [{ sha256: ${createHash('sha256').update(KEY_B).digest('hex')} }] }
`,
      'routes.yaml': 'routes:\n  - { id: up, methods: [POST], path: /up/*, upstream: up, consumers: [a, b] }\n',
    });
  const slowHead = (key: string, path: string) =>
    `POST ${path} HTTP/1.1\r\nHost: gw\r\n${key}Transfer-Encoding: chunked\r\n\r\n1\r\nx\r\n`;
  const headsSeen = (path: string) => up.connections.filter((c) => c.raw.includes(`POST ${path.slice(3)} `)).length;
  const shareOf = (gw: TestGateway) => gw.gateway.reloader.current.upstreams.get('up')!.consumerShare;

  before(async () => {
    up = await startCapturingUpstream();
  });
  after(async () => {
    await up.close();
  });

  describe('share (minimum rate off)', () => {
    let gw: TestGateway;
    before(async () => {
      gw = await start('{ minBytesPerSecond: 0 }');
    });
    after(async () => {
      await gw.close();
    });

    it("one consumer's stalled uploads hold at most its share; beyond it 429 in dialect; another consumer goes through", async () => {
      let leave!: () => void;
      const left = new Promise<void>((r) => (leave = r));
      const slow = [0, 1].map((i) =>
        rawExchange(gw.url, [slowHead(A, `/up/share-a${i}`)], { leaveWhen: left, expect: 1 }),
      );
      await until(() => headsSeen('/up/share-a0') + headsSeen('/up/share-a1') === 2, 'both slow uploads upstream');
      expect(shareOf(gw).inFlight().get('a')).to.equal(2);

      const third = await rawExchange(gw.url, [slowHead(A, '/up/share-a2')]);
      expect(third.responses[0]?.status).to.equal(429);
      expect(third.responses[0].headers['retry-after']).to.equal('1');
      const body = third.responses[0].json<{ error_code: number; message: string }>();
      expect(body.error_code).to.equal(429); // molisa dialect
      expect(body.message).to.contain('up');
      expect(headsSeen('/up/share-a2')).to.equal(0);

      const other = await rawExchange(gw.url, [
        `POST /up/share-b HTTP/1.1\r\nHost: gw\r\n${B}Transfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n`,
      ]);
      expect(other.responses[0]?.status).to.equal(200);

      leave();
      await Promise.all(slow);
      await until(() => shareOf(gw).inFlight().size === 0, 'share released when the callers left');
      const again = await rawExchange(gw.url, [
        `POST /up/share-a3 HTTP/1.1\r\nHost: gw\r\n${A}Content-Length: 70000\r\n\r\n${'a'.repeat(70000)}`,
      ]);
      expect(again.responses[0]?.status).to.equal(200);
    });
  });

  describe('minimum upload rate (1000 B/s over 300 ms windows)', () => {
    let gw: TestGateway;
    before(async () => {
      gw = await start('{ minBytesPerSecond: 1000, windowMs: 300 }');
    });
    after(async () => {
      await gw.close();
    });

    for (const framing of ['chunked', 'length'] as const) {
      it(`a stalled ${framing} upload is cut: 408 in dialect, caller connection closed, upstream socket destroyed`, async () => {
        const path = `/up/stall-${framing}`;
        const head =
          framing === 'chunked'
            ? slowHead(A, path)
            : `POST ${path} HTTP/1.1\r\nHost: gw\r\n${A}Content-Length: 100000\r\n\r\n${'x'.repeat(66000)}`;
        const res = await rawExchange(gw.url, [head], { expect: 2 });
        expect(res.responses).to.have.length(1);
        expect(res.responses[0].status).to.equal(408);
        expect(res.responses[0].json<{ error_code: number }>().error_code).to.equal(408);
        expect(res.closed).to.equal(true);
        const carrying = up.connections.find((c) => c.raw.includes(`POST ${path.slice(3)} `))!;
        await carrying.whenClosed;
        expect(up.requests().filter((r) => r.target === path.slice(3))).to.have.length(0);
        await until(() => shareOf(gw).inFlight().size === 0, 'share released');
      });
    }

    it('six stalled uploads of one consumer: two admitted then cut (408), four refused (429); the other consumer is served', async () => {
      const slow = [0, 1, 2, 3, 4, 5].map((i) => rawExchange(gw.url, [slowHead(A, `/up/flood${i}`)], { expect: 1 }));
      const other = await rawExchange(gw.url, [
        `POST /up/flood-b HTTP/1.1\r\nHost: gw\r\n${B}Transfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n`,
      ]);
      expect(other.responses[0]?.status).to.equal(200);
      const statuses = (await Promise.all(slow)).map((r) => r.responses[0]?.status).sort();
      expect(statuses).to.deep.equal([408, 408, 429, 429, 429, 429]);
      await until(() => shareOf(gw).inFlight().size === 0, 'share released');
    });

    it('a body that keeps the rate is not cut', async () => {
      // Several parts, each written once the previous one was flushed.
      const path = '/up/steady';
      const part = 'y'.repeat(2000);
      const before = up.bytes();
      const parts = [`POST ${path} HTTP/1.1\r\nHost: gw\r\n${A}Transfer-Encoding: chunked\r\n\r\n`];
      for (let i = 0; i < 4; i++) parts.push(`${part.length.toString(16)}\r\n${part}\r\n`);
      parts.push('0\r\n\r\n');
      const res = await rawExchange(gw.url, parts);
      expect(res.responses[0]?.status).to.equal(200);
      expect(up.bytes() - before).to.be.greaterThan(8000);
    });
  });
});

import { createHash } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect } from 'chai';
import { CONSUMER_KEY, CONSUMER_KEY_SHA256 } from '../../helpers/keys.ts';
import { startGateway, type TestGateway } from '../../helpers/gateway.ts';
import { until } from '../../helpers/reliability.ts';

/**
 * A large answer to a GET (the managed client, undici) relayed to a caller that stops reading: the gateway
 * stops reading from the upstream too (the upstream's writes report back-pressure) instead of holding the
 * whole answer in memory, and everything arrives intact once the caller reads again.
 */
describe('gateway core: back-pressure on answers relayed by the managed client', function () {
  this.timeout(20_000);
  const CHUNK = 64 * 1024;
  // 64 MB: several times what the kernel may buffer on the two loopback connections (autotuned to ~10 MB)
  const CHUNKS = 1024;
  let upstream: http.Server;
  let gw: TestGateway;
  let blocked = 0;
  let written = 0;
  const expected = createHash('sha256');
  const patterns = Array.from({ length: 7 }, (_, i) => Buffer.alloc(CHUNK, 0x41 + i));
  const chunks = Array.from({ length: CHUNKS }, (_, i) => patterns[i % 7]);
  for (const c of chunks) expected.update(c);

  before(async () => {
    upstream = http.createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(CHUNK * CHUNKS) });
      let i = 0;
      const pump = () => {
        while (i < CHUNKS) {
          written = i + 1;
          if (!res.write(chunks[i++])) {
            blocked++;
            res.once('drain', pump);
            return;
          }
        }
        res.end();
      };
      pump();
    });
    await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`;
    gw = await startGateway({
      'gateway.yaml': 'version: 1\n',
      'upstreams.yaml': `upstreams:\n  big: { url: "${url}" }\nconsumers:\n  mcdt: { apiKeys: [{ sha256: ${CONSUMER_KEY_SHA256} }] }\n`,
      'routes.yaml': 'routes:\n  - { id: big, methods: [GET], path: /big/*, upstream: big, consumers: [mcdt] }\n',
    });
  });
  after(async () => {
    await gw?.close();
    await new Promise((resolve) => upstream?.close(resolve));
  });

  it('a caller that pauses holds the upstream back; resumed, it gets all 64 MB byte-identical', async () => {
    const res = await new Promise<http.IncomingMessage>((resolve, reject) => {
      const req = http.get(`${gw.url}/big/file`, { headers: { 'x-api-key': CONSUMER_KEY }, agent: false }, resolve);
      req.on('error', reject);
    });
    expect(res.statusCode).to.equal(200);
    res.pause();
    // Nobody reads: the buffers fill up to the upstream, whose writes then report back-pressure.
    await until(() => blocked > 0, 'the upstream sees back-pressure');
    // Give the gateway many event-loop turns to read on: without back-pressure it would take the whole
    // answer into memory and the upstream would finish writing (64 MB over loopback: a few hundred turns).
    for (let turn = 0; turn < 5000; turn++) await new Promise((resolve) => setImmediate(resolve));
    expect(written, 'chunks the upstream could write while the caller was paused').to.be.below(CHUNKS / 2);
    const hash = createHash('sha256');
    let bytes = 0;
    res.on('data', (c: Buffer) => {
      hash.update(c);
      bytes += c.length;
    });
    res.resume();
    await new Promise((resolve) => res.once('end', resolve));
    expect(bytes).to.equal(CHUNK * CHUNKS);
    expect(hash.digest('hex')).to.equal(expected.digest('hex'));
    expect(res.complete).to.equal(true);
  });
});

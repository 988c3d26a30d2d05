import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect } from 'chai';
import { createSecretMasker } from '../../../../src/logging/secret-masker.ts';
import { adapt } from '../../../../src/pipeline/stages/adapt.ts';
import { credentials } from '../../../../src/pipeline/stages/credentials.ts';
import { reserveStream, send } from '../../../../src/pipeline/stages/send.ts';
import { createUpstreamAgent, createUpstreamPool } from '../../../../src/upstream/upstream-agent.ts';
import { matchedFixture } from './exchange-fixture.ts';

interface Received {
  method?: string;
  url?: string;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

describe('pipeline stage: send', () => {
  let server: http.Server;
  let url: URL;
  const received: Received[] = [];

  before(async () => {
    server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        received.push({ method: req.method, url: req.url, headers: req.headers, body: Buffer.concat(chunks) });
        res.end('ok');
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = new URL(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
  });
  after(() => server.close());
  beforeEach(() => (received.length = 0));

  function target(fixture: ReturnType<typeof matchedFixture>) {
    Object.assign(fixture.route.upstream, {
      url,
      basePath: '',
      agent: createUpstreamAgent(url, { maxSockets: 4 }),
      dispatcher: createUpstreamPool(url, { maxSockets: 4, connectTimeoutMs: 1000 }),
      connectTimeoutMs: 1000,
    });
    return fixture;
  }

  it('sends the adapted JSON as UTF-8 JSON with the injected credentials, to the upstream path', async () => {
    const fixture = target(
      matchedFixture({
        url: '/molisa/api/v1/Service/DongBoDVC?page=2',
        headers: { 'content-type': 'application/json' },
        request: (body) => ({ body: { mapped: body }, errors: [] }),
      }),
    );
    const { ex } = fixture;
    ex.body = Buffer.from('{"a":1}');
    adapt(ex);
    credentials(ex);
    const answer = await send(ex);
    answer.discard();
    expect(answer.statusCode).to.equal(200);
    expect(received[0]).to.include({ method: 'POST', url: '/api/v1/Service/DongBoDVC?page=2' });
    expect(JSON.parse(String(received[0].body))).to.deep.equal({ mapped: { a: 1 } });
    expect(received[0].headers['content-type']).to.match(/^application\/json/);
    expect(received[0].headers.authorization).to.equal('Bearer cached');
    expect(typeof ex.cancel).to.equal('function');
  });

  it('a pass body goes byte for byte; answers come compressed unless something must read them', async () => {
    const { ex } = target(matchedFixture({ headers: { 'accept-encoding': 'gzip' } }));
    ex.body = Buffer.from([0, 1, 2, 255]);
    adapt(ex);
    (await send(ex)).discard();
    expect([...received[0].body]).to.deep.equal([0, 1, 2, 255]);
    expect(received[0].headers['accept-encoding']).to.equal('gzip');
  });

  it('asks for an uncompressed answer when injected secrets must be searched in it, or a stage reads it', async () => {
    const masked = target(
      matchedFixture({ credentials: { relayMasker: () => createSecretMasker(['platform-token-0123456789']) } }),
    );
    adapt(masked.ex);
    (await send(masked.ex)).discard();
    expect(received[0].headers['accept-encoding']).to.equal('identity');
    expect(masked.ex.masker).to.not.equal(undefined);

    const mapped = target(
      matchedFixture({ response: { run: (body) => ({ body, errors: [] }), mode: 'enforce' }, method: 'GET' }),
    );
    adapt(mapped.ex);
    (await send(mapped.ex)).discard();
    expect(received[1].headers['accept-encoding']).to.equal('identity');
  });

  it("a streamed body first takes the consumer's share of the upstream's connections", () => {
    const fixture = matchedFixture();
    const taken: string[] = [];
    const release = () => {};
    (fixture.route.upstream as { consumerShare: unknown }).consumerShare = {
      acquire: (id: string) => (taken.push(id), release),
    };
    reserveStream(fixture.ex);
    expect(taken).to.deep.equal(['tinh-a']);
    expect(fixture.ex.release).to.equal(release);
  });
});

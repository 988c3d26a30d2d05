import { createHmac, generateKeyPairSync } from 'node:crypto';
import { once } from 'node:events';
import { createConnection } from 'node:net';
import { expect } from 'chai';
import { exportJWK, SignJWT } from 'jose';
import { systemClock } from '../../../src/config/types.ts';
import { createLogger } from '../../../src/logging/logger.ts';
import { defaultFactories } from '../../../src/app/default-factories.ts';
import { CONSUMER_KEY, CONSUMER_KEY_SHA256 } from '../../helpers/keys.ts';
import { startGateway, type TestGateway } from '../../helpers/gateway.ts';
import { request, startServer, type TestServer } from '../../helpers/http.ts';
import { suspendNockDuring } from '../../helpers/reliability.ts';
import { withTestSchemas } from '../../helpers/test-schemas.ts';

/**
 * Hostile input, fixed corpus (issue 8): what a province's auditors will try. Every case must end in a
 * 4xx (never a 500, never a hang) or, where the input is legal, in exactly what was sent reaching the
 * upstream. After each case the gateway still answers.
 */
const ID12 = '001099000001';

describe('reliability: hostile input corpus', function () {
  this.timeout(15_000);
  suspendNockDuring(this);
  let up: TestServer;
  let gw: TestGateway;
  const auth = { 'x-api-key': CONSUMER_KEY };
  const json = { ...auth, 'content-type': 'application/json' };

  before(async () => {
    up = await startServer();
    const logger = createLogger({ silent: true });
    gw = await startGateway(
      {
        'gateway.yaml':
          'version: 1\nlimits: { bodyBytes: 1048576, jsonDepth: 32 }\nauth: { tokens: { enabled: true } }\n',
        'upstreams.yaml': `upstreams:\n  up: { url: "${up.url}/base" }\nconsumers:\n  mcdt: { apiKeys: [{ sha256: ${CONSUMER_KEY_SHA256} }], clientSecrets: [{ sha256: ${CONSUMER_KEY_SHA256} }] }\n`,
        'routes.yaml': `routes:
  - { id: any, methods: [POST], path: /any, upstream: up, consumers: [mcdt], request: { schema: any.json } }
  - { id: checked, methods: [POST], path: /checked, upstream: up, consumers: [mcdt], request: { schema: dongbo.request.json } }
  - { id: rewrite, methods: [GET], path: /rw/:id, upstream: up, upstreamPath: /svc/:id/data, consumers: [mcdt] }
  - { id: pass, methods: [GET, POST], path: /up/*, upstream: up, consumers: [mcdt] }
`,
      },
      {
        factories: withTestSchemas(
          defaultFactories({ configDir: '/nonexistent', env: {}, logger, clock: systemClock }),
        ),
      },
    );
  });
  after(async () => {
    await gw?.close();
    await up?.close();
  });
  afterEach(async () => {
    expect((await request(`${gw.url}/healthz`)).status, 'the gateway still answers').to.equal(200);
  });

  const post = (path: string, body: string | Buffer, headers: Record<string, string> = json) =>
    request(`${gw.url}${path}`, { method: 'POST', headers, body });

  /** Sends raw bytes on a fresh socket and returns everything the gateway answered before closing. */
  async function raw(bytes: string | Buffer, halfClose = true): Promise<string> {
    const socket = createConnection(Number(new URL(gw.url).port), '127.0.0.1');
    await once(socket, 'connect');
    const chunks: Buffer[] = [];
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.on('error', () => undefined);
    if (halfClose) socket.end(bytes);
    else socket.write(bytes); // the last request says Connection: close
    await once(socket, 'close');
    return Buffer.concat(chunks).toString('latin1');
  }

  describe('JSON bodies', () => {
    it(`nesting at the limit passes; one deeper, and 100 000 deep, are 400 (limits.jsonDepth)`, async () => {
      const nest = (n: number) => '['.repeat(n) + ']'.repeat(n);
      expect((await post('/any', nest(32))).status).to.equal(200);
      const seen = up.requests.length;
      for (const n of [33, 100_000]) {
        const res = await post('/any', nest(n));
        expect(res.status, `depth ${n}`).to.equal(400);
        expect(res.json()).to.include({ code: 'GW_BAD_REQUEST' });
      }
      const objects = '{"a":'.repeat(50_000) + '1' + '}'.repeat(50_000);
      expect((await post('/any', objects)).status).to.equal(400);
      expect(up.requests.length).to.equal(seen);
    });

    it('a huge array within the byte limit is forwarded intact; over it, 413 (limits.bodyBytes)', async () => {
      const big = `[${Array(200_000).fill(0).join(',')}]`;
      const res = await post('/any', big);
      expect(res.status).to.equal(200);
      expect(JSON.parse(up.requests.at(-1)!.body.toString())).to.have.length(200_000);
      const tooBig = `[${Array(600_000).fill(0).join(',')}]`;
      expect((await post('/any', tooBig)).status).to.equal(413);
    });

    it('__proto__ and constructor keys pollute nothing; what reaches the upstream is the data sent', async () => {
      const body = '{"__proto__":{"polluted":"yes"},"constructor":{"prototype":{"polluted":"yes"}},"a":1}';
      const res = await post('/any', body);
      expect(res.status).to.be.oneOf([200, 400]);
      expect(({} as Record<string, unknown>).polluted).to.equal(undefined);
      expect((Object.prototype as Record<string, unknown>).polluted).to.equal(undefined);
      if (res.status === 200) expect(JSON.parse(up.requests.at(-1)!.body.toString())).to.deep.equal(JSON.parse(body));
      const records = `[{"MaHoSo":"H1","HoVaTen":"A","CMND":"${ID12}","__proto__":{"isAdmin":true}}]`;
      expect((await post('/checked', records)).status).to.equal(400); // additionalProperties: false
    });

    it('invalid UTF-8 is refused (400 GW_MALFORMED_JSON), never forwarded with U+FFFD in place', async () => {
      const seen = up.requests.length;
      for (const bad of [
        Buffer.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xff, 0xfe, 0x22, 0x7d]), // {"a":"\xff\xfe"}
        Buffer.concat([Buffer.from('{"HoVaTen":"Nguy'), Buffer.from([0xc3]), Buffer.from('n"}')]), // truncated sequence
        Buffer.concat([Buffer.from('{"a":"'), Buffer.from([0xed, 0xa0, 0x80]), Buffer.from('"}')]), // UTF-16 surrogate as UTF-8
        Buffer.concat([Buffer.from('{"a":"'), Buffer.from([0xc0, 0xaf]), Buffer.from('"}')]), // overlong "/"
      ]) {
        const res = await post('/any', bad);
        expect(res.status).to.equal(400);
        expect(res.json()).to.include({ code: 'GW_MALFORMED_JSON' });
      }
      expect(up.requests.length).to.equal(seen);
    });

    it('duplicate keys: the value checked is the value forwarded, once', async () => {
      const smuggled = `[{"MaHoSo":"H1","HoVaTen":"A","CMND":"${ID12}","CMND":"not-an-id"}]`;
      expect((await post('/checked', smuggled)).status).to.equal(400);
      const reversed = `[{"MaHoSo":"H1","HoVaTen":"A","CMND":"not-an-id","CMND":"${ID12}"}]`;
      expect((await post('/checked', reversed)).status).to.equal(200);
      const forwarded = up.requests.at(-1)!.body.toString();
      expect(forwarded.match(/CMND/g)).to.have.length(1);
      expect(JSON.parse(forwarded)[0].CMND).to.equal(ID12);
    });

    it('numbers a double cannot carry (beyond 2^53, 1e400, long decimals) reach the upstream as written', async () => {
      // Issue 14.6 replaced the refusal of integers beyond 2^53: such numbers are carried as their source text.
      for (const n of [
        '12345678901234567890',
        '9007199254740993',
        '-9007199254740993',
        '1e400',
        '0.12345678901234567891',
      ]) {
        const res = await post('/any', `{"SoDinhDanh":${n}}`);
        expect(res.status, n).to.equal(200);
        expect(up.requests.at(-1)!.body.toString(), n).to.equal(`{"SoDinhDanh":${n}}`);
      }
      for (const ok of [
        '{"SoDinhDanh":"12345678901234567890"}',
        '{"x":9007199254740991}',
        '{"f":1.2345678901234567890e5}',
      ]) {
        expect((await post('/any', ok)).status, ok).to.equal(200);
        expect(JSON.parse(up.requests.at(-1)!.body.toString())).to.deep.equal(JSON.parse(ok));
      }
    });

    /** A POST to /any with a chunked body, each chunk its own frame (so each its own read on the gateway). */
    const chunked = (chunks: Buffer[]) =>
      raw(
        Buffer.concat([
          Buffer.from(
            `POST /any HTTP/1.1\r\nHost: x\r\nX-Api-Key: ${CONSUMER_KEY}\r\nContent-Type: application/json\r\n` +
              'Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n',
          ),
          ...chunks.flatMap((c) => [Buffer.from(`${c.length.toString(16)}\r\n`), c, Buffer.from('\r\n')]),
          Buffer.from('0\r\n\r\n'),
        ]),
        false, // Connection: close: the gateway closes after its answer
      );

    it('a chunked body split inside a multi-byte character reaches the upstream whole and unaltered', async () => {
      const text = '{"HoVaTen":"Nguyễn Văn An","DiaChi":"Tổ dân phố Đại Cát 3"}';
      const bytes = Buffer.from(text);
      const at = bytes.indexOf(Buffer.from('ễ')); // three bytes: cut after the first and after the second
      const answer = await chunked([bytes.subarray(0, at + 1), bytes.subarray(at + 1, at + 2), bytes.subarray(at + 2)]);
      expect(answer).to.match(/^HTTP\/1\.1 200 /);
      expect(up.requests.at(-1)!.body.equals(bytes)).to.equal(true);
    });

    it('a body of exactly limits.bodyBytes passes, one byte over is 413, with Content-Length or chunked', async () => {
      const limit = 1048576;
      const ofLength = (n: number) => Buffer.from(`{"a":"${'x'.repeat(n - 8)}"}`);
      const seen = up.requests.length;
      const exact = ofLength(limit);
      expect((await post('/any', exact)).status).to.equal(200);
      expect(up.requests.at(-1)!.body.equals(exact)).to.equal(true);
      expect((await post('/any', ofLength(limit + 1))).status).to.equal(413);
      // Chunked: no declared length, so the count while reading decides (in 64 KB chunks).
      const inChunks = (b: Buffer) =>
        Array.from({ length: Math.ceil(b.length / 65536) }, (_, i) => b.subarray(i * 65536, (i + 1) * 65536));
      expect(await chunked(inChunks(exact))).to.match(/^HTTP\/1\.1 200 /);
      expect(up.requests.at(-1)!.body.equals(exact)).to.equal(true);
      expect(await chunked(inChunks(ofLength(limit + 1)))).to.match(/^HTTP\/1\.1 413 /);
      expect(up.requests.length).to.equal(seen + 2);
    });

    it('wrong content types and empty or truncated bodies are 4xx', async () => {
      expect((await post('/any', '{"a":1}', { ...auth, 'content-type': 'text/plain' })).status).to.equal(415);
      expect((await post('/any', '{"a":', json)).status).to.equal(400);
      expect((await post('/checked', '', json)).status).to.equal(400);
    });
  });

  describe('request smuggling and header abuse (raw bytes)', () => {
    const head = (lines: string[]) => `${lines.join('\r\n')}\r\n\r\n`;

    it('Content-Length and Transfer-Encoding together -> 400, nothing reaches the upstream', async () => {
      const seen = up.requests.length;
      const answer = await raw(
        head([
          'POST /up/x HTTP/1.1',
          'Host: gw',
          `X-API-Key: ${CONSUMER_KEY}`,
          'Content-Length: 4',
          'Transfer-Encoding: chunked',
        ]) + '0\r\n\r\nGET /up/smuggled HTTP/1.1\r\nHost: gw\r\n\r\n',
      );
      expect(answer).to.match(/^HTTP\/1\.1 400/);
      expect(up.requests.length).to.equal(seen);
    });

    for (const [name, lines] of Object.entries({
      'two different Content-Length headers': ['Content-Length: 4', 'Content-Length: 40'],
      'Transfer-Encoding with an obs-fold': ['Transfer-Encoding: identity,', ' chunked'],
      'Transfer-Encoding not ending in chunked': ['Transfer-Encoding: chunked, identity'],
      'obs-fold in a forwarded header': ['X-Custom: a', ' Injected: b'],
      'bare LF inside a header line': ['X-Custom: a\nInjected: b'],
      'space before the colon': ['Transfer-Encoding : chunked'],
    })) {
      it(`${name} -> 400 and nothing forwarded`, async () => {
        const seen = up.requests.length;
        const answer = await raw(
          head(['POST /up/x HTTP/1.1', 'Host: gw', `X-API-Key: ${CONSUMER_KEY}`, ...lines]) + '0\r\n\r\n',
        );
        expect(answer).to.match(/^HTTP\/1\.1 400/);
        expect(up.requests.length).to.equal(seen);
      });
    }

    it('a pipelined second request is a request of its own: it must authenticate', async () => {
      const answer = await raw(
        head(['POST /up/one HTTP/1.1', 'Host: gw', `X-API-Key: ${CONSUMER_KEY}`, 'Content-Length: 0']) +
          head(['GET /up/two HTTP/1.1', 'Host: gw', 'Connection: close']),
        false,
      );
      expect(answer.match(/HTTP\/1\.1 \d{3}/g)).to.deep.equal(['HTTP/1.1 200', 'HTTP/1.1 401']);
    });

    it('headers over 16 KB -> 431', async () => {
      const res = await request(`${gw.url}/up/x`, { headers: { ...auth, 'x-big': 'a'.repeat(20 * 1024) } });
      expect(res.status).to.equal(431);
    });

    it('CR/LF encoded into a path parameter is refused (encoded ASCII, issue 13.2): no header injection', async () => {
      const seen = up.requests.length;
      const res = await request(`${gw.url}/rw/1%0d%0aX-Injected:%20yes`, { headers: auth });
      expect(res.status).to.equal(400);
      expect(res.json()).to.include({ code: 'GW_PATH_NOT_ALLOWED' });
      expect(up.requests.length).to.equal(seen);
    });
  });

  describe('path traversal against rewrites', () => {
    for (const p of [
      '/rw/..',
      '/rw/%2e%2e',
      '/rw/.%2e',
      '/rw/a%2f..%2f..%2fadmin',
      '/rw/a%5c..%5cadmin',
      '/rw/a%00b',
      '/up/a/../../admin/status',
      '/up/a/..%2f..%2fadmin',
      '/up/..\\admin',
    ]) {
      it(`${p} -> 400 before routing`, async () => {
        const seen = up.requests.length;
        const res = await request(`${gw.url}${p}`, { headers: auth });
        expect(res.status).to.equal(400);
        expect(up.requests.length).to.equal(seen);
      });
    }

    it('a double-encoded slash is refused (a server that decodes twice would split the segment, issue 13.2)', async () => {
      const seen = up.requests.length;
      const res = await request(`${gw.url}/rw/a%252f..%252fadmin`, { headers: auth });
      expect(res.status).to.equal(400);
      expect(res.json()).to.include({ code: 'GW_PATH_NOT_ALLOWED' });
      expect(up.requests.length).to.equal(seen);
    });
  });

  describe('forged JWTs against the gateway token issuer', () => {
    let good: string;
    let kid: string;
    let publicJwk: Record<string, unknown>;
    before(async () => {
      const res = await request(`${gw.url}/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: `grant_type=client_credentials&client_id=mcdt&client_secret=${CONSUMER_KEY}`,
      });
      expect(res.status).to.equal(200);
      good = res.json<{ access_token: string }>().access_token;
      const jwks = (await request(`${gw.url}/.well-known/jwks.json`)).json<{ keys: Record<string, unknown>[] }>();
      publicJwk = jwks.keys[0];
      kid = String(publicJwk.kid);
    });

    const claims = () => {
      const [, payload] = good.split('.');
      return JSON.parse(Buffer.from(payload, 'base64url').toString()) as Record<string, unknown>;
    };
    const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
    const call = (jwt: string) => request(`${gw.url}/up/jwt`, { headers: { authorization: `Bearer ${jwt}` } });

    it('the genuine token works (control)', async () => {
      expect((await call(good)).status).to.equal(200);
    });

    it('alg none -> 401', async () => {
      for (const alg of ['none', 'None', 'NONE']) {
        const forged = `${b64({ alg, kid, typ: 'at+jwt' })}.${b64(claims())}.`;
        expect((await call(forged)).status, alg).to.equal(401);
      }
    });

    it('a token signed by another key under the genuine kid -> 401', async () => {
      const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
      const forged = await new SignJWT(claims())
        .setProtectedHeader({ alg: 'ES256', kid, typ: 'at+jwt' })
        .sign(privateKey);
      expect((await call(forged)).status).to.equal(401);
      const otherKid = await new SignJWT(claims())
        .setProtectedHeader({ alg: 'ES256', kid: 'someone-elses', typ: 'at+jwt' })
        .sign(privateKey);
      expect((await call(otherKid)).status).to.equal(401);
    });

    it('HS256 signed with the public key (as JWK JSON, and as the x coordinate) -> 401', async () => {
      for (const secret of [JSON.stringify(publicJwk), String(publicJwk.x)]) {
        const input = `${b64({ alg: 'HS256', kid, typ: 'at+jwt' })}.${b64(claims())}`;
        const sig = createHmac('sha256', secret).update(input).digest('base64url');
        expect((await call(`${input}.${sig}`)).status).to.equal(401);
      }
    });

    it('a genuine token with its payload changed, or its signature stripped -> 401', async () => {
      const [h, , s] = good.split('.');
      expect((await call(`${h}.${b64({ ...claims(), sub: 'admin' })}.${s}`)).status).to.equal(401);
      expect((await call(`${h}.${good.split('.')[1]}.`)).status).to.equal(401);
      const jwk = await exportJWK(generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).publicKey);
      const embedded = `${b64({ alg: 'ES256', kid, jwk, typ: 'at+jwt' })}.${good.split('.')[1]}.${s}`;
      expect((await call(embedded)).status).to.equal(401);
    });
  });

  describe('after the corpus', () => {
    it('no 500 anywhere in this corpus', () => {
      const statuses = gw.logs.filter((l) => l.message === 'access').map((l) => String(l.status));
      expect(statuses.filter((s) => s.startsWith('500'))).to.deep.equal([]);
      expect(gw.logs.filter((l) => l.level === 'error')).to.deep.equal([]);
    });
  });
});

import { brotliCompressSync, deflateRawSync, deflateSync, gzipSync } from 'node:zlib';
import { expect } from 'chai';
import { CONSUMER_KEY, CONSUMER_KEY_SHA256 } from '../../helpers/keys.ts';
import { startGateway, type TestGateway } from '../../helpers/gateway.ts';
import { request, startServer, type TestServer } from '../../helpers/http.ts';
import { suspendNockDuring } from '../../helpers/reliability.ts';

/**
 * Issue 14.6, second half: a body the gateway parses and writes again as plain UTF-8 JSON kept the caller's
 * `charset=utf-16le` or `Content-Encoding: gzip` label, so the upstream was told to decode UTF-8 bytes as
 * something else. The capturing upstream records exactly the bytes and headers it received.
 */
describe('security: charset and Content-Encoding of re-serialised bodies (issue 14.6)', function () {
  this.timeout(20_000);
  suspendNockDuring(this);
  let up: TestServer;
  let gw: TestGateway;
  let answer: { body: Buffer; headers: Record<string, string> } = { body: Buffer.from('{}'), headers: {} };
  const auth = { 'x-api-key': CONSUMER_KEY };
  const limit = 1024 * 1024;
  const name = 'Nguyễn Văn An';
  const json = JSON.stringify({ HoVaTen: name, MaHoSo: 'H1' });

  before(async () => {
    up = await startServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json', ...answer.headers });
      res.end(answer.body);
    });
    gw = await startGateway({
      'gateway.yaml': `version: 1\nlimits: { bodyBytes: ${limit} }\nlogging: { level: warn }\n`,
      'upstreams.yaml': `upstreams:\n  up: { url: "${up.url}" }\nconsumers:\n  tinh: { apiKeys: [{ sha256: ${CONSUMER_KEY_SHA256} }] }\n`,
      'routes.yaml': `routes:
  - { id: answer, methods: [GET], path: /answer, upstream: up, consumers: [tinh], response: { mapping: [{ op: rename, fields: { a: b } }] } }
  - { id: mapped, methods: [POST], path: /mapped, upstream: up, consumers: [tinh], request: { mapping: [{ op: trim }] }, response: { mapping: [{ op: rename, fields: { a: b } }] } }
  - { id: pass, methods: [POST], path: /pass, upstream: up, consumers: [tinh] }
`,
    });
  });
  after(async () => {
    await gw?.close();
    await up?.close();
  });

  const post = (path: string, body: Buffer | string, headers: Record<string, string>) =>
    request(`${gw.url}${path}`, { method: 'POST', headers: { ...auth, ...headers }, body });

  /** What the upstream got: plain UTF-8 JSON, labelled as such, with no Content-Encoding. */
  const expectPlainUtf8 = () => {
    const got = up.requests.at(-1)!;
    expect(got.body.toString('utf8')).to.equal(json);
    expect(got.headers['content-encoding']).to.equal(undefined);
    expect(got.headers['content-length']).to.equal(String(got.body.length));
    const type = String(got.headers['content-type']);
    expect(type.startsWith('application/json'), type).to.equal(true);
    expect(type).to.not.match(/utf-16|latin|iso-8859/i);
  };

  it('gzip, deflate (zlib or raw) and br bodies are decoded, and leave without Content-Encoding', async () => {
    for (const [coding, bytes] of [
      ['gzip', gzipSync(json)],
      ['x-gzip', gzipSync(json)],
      ['deflate', deflateSync(json)],
      ['deflate', deflateRawSync(json)],
      ['br', brotliCompressSync(json)],
      ['identity', Buffer.from(json)],
    ] as const) {
      const res = await post('/mapped', bytes, { 'content-type': 'application/json', 'content-encoding': coding });
      expect(res.status, `${coding}: ${res.body.toString()}`).to.equal(200);
      expectPlainUtf8();
    }
  });

  it('utf-16le / utf-16be / utf-16 (BOM) bodies are decoded; the charset sent on says utf-8', async () => {
    const le = Buffer.from(json, 'utf16le');
    const be = Buffer.from(le).swap16();
    for (const [charset, bytes] of [
      ['utf-16le', le],
      ['UTF-16BE', be],
      ['"utf-16"', Buffer.concat([Buffer.from([0xff, 0xfe]), le])],
      ['utf-16', Buffer.concat([Buffer.from([0xfe, 0xff]), be])],
    ] as const) {
      const res = await post('/mapped', bytes, { 'content-type': `application/json; charset=${charset}` });
      expect(res.status, `${charset}: ${res.body.toString()}`).to.equal(200);
      expectPlainUtf8();
      expect(up.requests.at(-1)!.headers['content-type']).to.equal('application/json; charset=utf-8');
    }
    // gzip of UTF-16: both labels honoured, both gone.
    const res = await post('/mapped', gzipSync(le), {
      'content-type': 'application/json; charset=utf-16le',
      'content-encoding': 'gzip',
    });
    expect(res.status).to.equal(200);
    expectPlainUtf8();
  });

  it('other codings and charsets are refused naming the header (415), nothing forwarded', async () => {
    const seen = up.requests.length;
    for (const [headers, header] of [
      [{ 'content-type': 'application/json', 'content-encoding': 'compress' }, 'Content-Encoding'],
      [{ 'content-type': 'application/json', 'content-encoding': 'gzip, gzip' }, 'Content-Encoding'],
      [{ 'content-type': 'application/json; charset=iso-8859-1' }, 'Content-Type'],
      [{ 'content-type': 'application/json; charset=windows-1258' }, 'Content-Type'],
    ] as const) {
      const res = await post('/mapped', json, headers);
      expect(res.status, JSON.stringify(headers)).to.equal(415);
      expect(res.json()).to.include({ code: 'GW_UNSUPPORTED_BODY_ENCODING' });
      expect(res.json<{ detail: string }>().detail).to.contain(header);
    }
    expect(up.requests.length).to.equal(seen);
  });

  it('a zip bomb stops at limits.bodyBytes (413); corrupt data and unpaired surrogates are 400', async () => {
    const seen = up.requests.length;
    const bomb = gzipSync(Buffer.alloc(16 * limit, 0x20)); // 16 MiB of spaces in ~16 KB
    expect(bomb.length).to.be.below(limit);
    const before = process.memoryUsage().rss;
    let res = await post('/mapped', bomb, { 'content-type': 'application/json', 'content-encoding': 'gzip' });
    expect(res.status).to.equal(413);
    expect(process.memoryUsage().rss - before).to.be.below(32 * limit);
    res = await post('/mapped', Buffer.from('not gzip at all'), {
      'content-type': 'application/json',
      'content-encoding': 'gzip',
    });
    expect(res.status).to.equal(400);
    expect(res.json<{ detail: string }>().detail).to.contain('Content-Encoding');
    const lone = Buffer.from([0x7b, 0x00, 0x22, 0x00, 0x00, 0xd8, 0x22, 0x00, 0x3a, 0x00, 0x31, 0x00, 0x7d, 0x00]);
    res = await post('/mapped', lone, { 'content-type': 'application/json; charset=utf-16le' });
    expect(res.status).to.equal(400);
    expect(up.requests.length).to.equal(seen);
  });

  it('a route that does not parse bodies forwards them byte for byte, labels included', async () => {
    const bytes = gzipSync(json);
    const res = await post('/pass', bytes, { 'content-type': 'application/json', 'content-encoding': 'gzip' });
    expect(res.status).to.equal(200);
    const got = up.requests.at(-1)!;
    expect(got.body.equals(bytes)).to.equal(true);
    expect(got.headers['content-encoding']).to.equal('gzip');
  });

  it('a mapped answer sent gzip or utf-16 anyway is decoded, and leaves as plain UTF-8 with headers to match', async () => {
    const body = JSON.stringify({ a: name });
    for (const [headers, bytes] of [
      [{ 'content-encoding': 'gzip', etag: '"v1"', 'content-md5': 'x' }, gzipSync(body)],
      [{ 'content-type': 'application/json; charset=utf-16le' }, Buffer.from(body, 'utf16le')],
    ] as const) {
      answer = { body: bytes, headers };
      const res = await request(`${gw.url}/answer`, { headers: auth });
      expect(res.status, res.body.toString()).to.equal(200);
      expect(res.body.toString('utf8')).to.equal(JSON.stringify({ b: name }));
      expect(res.headers['content-encoding']).to.equal(undefined);
      expect(res.headers['content-md5']).to.equal(undefined);
      expect(res.headers['content-length']).to.equal(String(res.body.length));
      expect(String(res.headers['content-type'])).to.not.contain('utf-16');
      if (res.headers.etag !== undefined) expect(res.headers.etag).to.equal('W/"v1"');
    }
    answer = { body: Buffer.from(body), headers: { 'content-encoding': 'compress' } };
    const res = await request(`${gw.url}/answer`, { headers: auth });
    expect(res.status).to.equal(502);
    expect(res.json<{ detail: string }>().detail).to.contain('Content-Encoding');
  });
});

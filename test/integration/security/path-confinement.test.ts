import { once } from 'node:events';
import { createConnection } from 'node:net';
import { expect } from 'chai';
import fc from 'fast-check';
import { CONSUMER_KEY, CONSUMER_KEY_SHA256 } from '../../helpers/keys.ts';
import { startGateway, type TestGateway } from '../../helpers/gateway.ts';
import { suspendNockDuring } from '../../helpers/reliability.ts';
import { startServer, type TestServer } from '../../helpers/http.ts';
import { confinementViolation } from '../../helpers/reference-normaliser.ts';

/**
 * Issue 13.2 through the real server: shipped-style civil-status routes (`:version` parameters, a `*`
 * catalog tail, a rewrite), a capturing upstream that records the request-target it parsed, and requests
 * written byte for byte on raw sockets (no client normalises the path on the way). A refused path gets a
 * 400 in the route's dialect and reaches no upstream; a forwarded one resolves under the route's base.
 */
const SECRET_TOKEN = 'national-token-path-test-9f8e7d';

const ROUTES = `routes:
  - { id: hotich-push, methods: [POST], path: /hotich/:version/dangKyHoTich, upstream: hotich, consumers: [mcdt] }
  - { id: hotich-catalogs, methods: [GET, POST], path: /hotich/:version/danhMuc/*, upstream: hotich, consumers: [mcdt] }
  - { id: inbound, methods: [GET, POST], path: /mcdt/hotich/:op, upstream: hotich, upstreamPath: /api/hotich/:op, consumers: [mcdt] }
  - { id: catalog-admin, methods: [GET], path: /hotich/:version/danhMuc/quanTri, upstream: hotich, consumers: [moj] }
`;

/** The request-target a raw request line carries, and what came back. */
interface RawReply {
  status: number;
  headers: string;
  body: string;
}

describe('security: path confinement (issue 13.2)', function () {
  this.timeout(30_000);
  // nock (activated by unit tests earlier in a full run) would intercept, and decompress, these requests.
  suspendNockDuring(this);
  let up: TestServer;
  let gw: TestGateway;

  before(async () => {
    up = await startServer();
    gw = await startGateway({
      'gateway.yaml': 'version: 1\n',
      'upstreams.yaml': `upstreams:
  hotich:
    url: "${up.url}/hotich"
    errorDialect: hotich
    credentials: [{ type: static, headers: { Authorization: "Bearer ${SECRET_TOKEN}" } }]
consumers:
  mcdt: { apiKeys: [{ sha256: ${CONSUMER_KEY_SHA256} }] }
  moj: {}
`,
      'routes.yaml': ROUTES,
    });
  });
  after(async () => {
    await gw?.close();
    await up?.close();
  });

  /** One request written as is on a fresh socket (`Connection: close`), the answer read to the end. */
  async function raw(method: string, target: string, extra = '', body = ''): Promise<RawReply> {
    const socket = createConnection(Number(new URL(gw.url).port), '127.0.0.1');
    await once(socket, 'connect');
    const chunks: Buffer[] = [];
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.on('error', () => undefined);
    socket.write(
      Buffer.concat([
        Buffer.from(`${method} `),
        Buffer.from(target, 'latin1'),
        Buffer.from(` HTTP/1.1\r\nHost: gw\r\nX-API-Key: ${CONSUMER_KEY}\r\nConnection: close\r\n${extra}\r\n${body}`),
      ]),
    );
    // Read until the answer is whole (Content-Length) or the socket closes: a relayed answer may keep the
    // connection alive.
    await new Promise<void>((resolve) => {
      const check = () => {
        const text = Buffer.concat(chunks).toString('latin1');
        const split = text.indexOf('\r\n\r\n');
        const length = /content-length: (\d+)/i.exec(text.slice(0, split));
        if (split !== -1 && length && Buffer.concat(chunks).length >= split + 4 + Number(length[1])) resolve();
      };
      socket.on('data', check);
      socket.once('close', () => resolve());
    });
    socket.destroy();
    const text = Buffer.concat(chunks).toString('utf8');
    const split = text.indexOf('\r\n\r\n');
    return { status: Number(text.slice(9, 12)), headers: text.slice(0, split), body: text.slice(split + 4) };
  }

  const ATTACKS = [
    '/hotich/3.0/danhMuc/..;/dangKyHoTich',
    '/hotich/3.0/danhMuc/..;/..;/..;/admin',
    '/hotich/..;/danhMuc/x',
    '/hotich/3.0/danhMuc/x/..;jsessionid=1/..;/dangKyHoTich',
    '/hotich/3.0/danhMuc/%c0%ae%c0%ae/dangKyHoTich',
    '/hotich/3.0/danhMuc/%e0%80%ae%e0%80%ae/dangKyHoTich',
    '/hotich/3.0/danhMuc/%u002e%u002e/dangKyHoTich',
    '/hotich/3.0/danhMuc/%EF%BC%8E%EF%BC%8E/dangKyHoTich',
    '/hotich/3.0/danhMuc/%252e%252e/dangKyHoTich',
    '/hotich/3.0/danhMuc/%2e%2e%3b/dangKyHoTich',
    '/hotich/3.0/danhMuc/..%5cdangKyHoTich',
    '/hotich/3.0/danhMuc/..\\dangKyHoTich',
    '/hotich/3.0/danhMuc/.. ./dangKyHoTich'.replace(' ', '%20'),
    '/hotich/3.0/danhMuc/.../dangKyHoTich',
    '/hotich/3.0/danhMuc/%ef%bc%8f..%ef%bc%8fdangKyHoTich',
    '/hotich/3.0/danhMuc//..//dangKyHoTich',
    '/hotich/3.0/danhMuc/x#/../../dangKyHoTich',
    '/mcdt/hotich/..;',
    '/mcdt/hotich/%2e%2e',
    '/hotich/3.0/danhMuc/x?a=%zz',
    '/hotich/3.0/danhMuc/x?a=\\..\\',
  ];

  for (const target of ATTACKS) {
    it(`GET ${target} -> 400 GW_PATH_NOT_ALLOWED in the hotich dialect, nothing forwarded`, async () => {
      const seen = up.requests.length;
      const res = await raw('GET', target);
      expect(res.status, res.body).to.equal(400);
      expect(res.headers).to.match(/content-type: application\/json/i);
      expect(res.headers).to.match(/cache-control: no-store/i);
      const body = JSON.parse(res.body) as Record<string, string>;
      expect(body).to.include({ status: '0', errorCode: 'GW_PATH_NOT_ALLOWED' });
      expect(body.statusDescription).to.match(/^Đường dẫn không được phép: đoạn thứ \d|chuỗi truy vấn|bắt đầu/);
      expect(res.body).not.to.contain(SECRET_TOKEN);
      expect(up.requests.length, 'nothing reached the upstream').to.equal(seen);
    });
  }

  it('the push endpoint is not reachable through the catalog tail on the streamed path either (chunked POST)', async () => {
    const seen = up.requests.length;
    const res = await raw(
      'POST',
      '/hotich/3.0/danhMuc/..;/dangKyHoTich',
      'Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n',
      '2\r\n{}\r\n0\r\n\r\n',
    );
    expect(res.status).to.equal(400);
    expect(JSON.parse(res.body)).to.include({ errorCode: 'GW_PATH_NOT_ALLOWED' });
    expect(up.requests.length).to.equal(seen);
  });

  it('a case variant of another route of the same upstream is refused (IIS folds case), the route itself is 403', async () => {
    const seen = up.requests.length;
    for (const target of [
      '/hotich/3.0/danhMuc/QUANTRI',
      '/hotich/3.0/danhMuc/quantri',
      '/hotich/3.0/DanhMuc/quanTri',
    ]) {
      const res = await raw('GET', target);
      if (target.includes('DanhMuc')) {
        expect(res.status, target).to.equal(404); // no route matches case-sensitively: nothing forwarded
        continue;
      }
      expect(res.status, target).to.equal(400);
      expect(JSON.parse(res.body)).to.include({ errorCode: 'GW_PATH_NOT_ALLOWED' });
    }
    expect((await raw('GET', '/hotich/3.0/danhMuc/quanTri')).status).to.equal(403);
    expect(up.requests.length).to.equal(seen);
    expect((await raw('GET', '/hotich/3.0/danhMuc/quanTri-khac')).status).to.equal(200);
  });

  it('ordinary paths reach the upstream byte for byte: version, catalog, Vietnamese letters, query', async () => {
    const target = '/hotich/3.0/danhMuc/quoc-Tich_2~x/Nguy%E1%BB%85n?maTinh=01&ten=Nguy%E1%BB%85n+V%C4%83n&f[a]=1';
    const res = await raw('GET', target);
    expect(res.status, res.headers + res.body).to.equal(200);
    expect(up.requests.at(-1)!.url).to.equal(target);
    expect(up.requests.at(-1)!.headers.authorization).to.equal(`Bearer ${SECRET_TOKEN}`);
  });

  it('a path-like query stays a query on both upstream clients (buffered GET, streamed chunked POST)', async () => {
    const query = '?next=/../../dangKyHoTich&x=..%2F..%2Fadmin;a=1';
    const get = await raw('GET', `/hotich/3.0/danhMuc/quocTich${query}`);
    expect(get.status).to.equal(200);
    expect(up.requests.at(-1)!.url).to.equal(`/hotich/3.0/danhMuc/quocTich${query}`);
    const post = await raw(
      'POST',
      `/mcdt/hotich/capNhatKetQua${query}`,
      'Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n',
      '2\r\n{}\r\n0\r\n\r\n',
    );
    expect(post.status).to.equal(200);
    expect(up.requests.at(-1)!.url).to.equal(`/hotich/api/hotich/capNhatKetQua${query}`);
    expect(confinementViolation('/hotich/:version/danhMuc/*', up.requests.at(-2)!.url)).to.equal(undefined);
    expect(confinementViolation('/hotich/api/hotich/:op', up.requests.at(-1)!.url)).to.equal(undefined);
  });

  it('generated hostile paths: each is refused with nothing forwarded, or resolves under the route base', async () => {
    const tokens = [
      '..',
      '.',
      ';',
      '..;',
      '%2e',
      '%252e',
      '%c0%ae',
      '%u002e',
      '%EF%BC%8E',
      '%5c',
      '\\',
      '%2f',
      ' ',
      '%20',
      'a',
      'B',
      '3.0',
      'danhMuc',
      'dangKyHoTich',
      '%E1%BB%87',
      '-',
      '~',
    ];
    const ordinary = fc.constantFrom('3.0', 'quocTich', 'Nguy%E1%BB%85n', 'a-b_c~d', '2');
    const mixed = fc.array(fc.constantFrom(...tokens), { minLength: 1, maxLength: 3 }).map((t) => t.join(''));
    const segment = fc.oneof({ arbitrary: mixed, weight: 3 }, { arbitrary: ordinary, weight: 2 });
    const path = fc
      .tuple(segment, fc.constantFrom('/danhMuc/', '/dangKyHoTich', '/'), fc.array(segment, { maxLength: 4 }))
      .map(([v, mid, rest]) => `/hotich/${v}${mid}${rest.join('/')}`.replace(/ /g, '%20'));
    let forwarded = 0;
    await fc.assert(
      fc.asyncProperty(path, async (target) => {
        const seen = up.requests.length;
        const res = await raw('GET', target);
        if (up.requests.length === seen) {
          expect(res.status, target).to.be.oneOf([400, 404, 405]);
          return;
        }
        forwarded++;
        const url = up.requests.at(-1)!.url;
        const shape = /^\/hotich\/[^/]+\/danhMuc\//.test(target)
          ? '/hotich/:version/danhMuc/*'
          : '/hotich/:v/dangKyHoTich';
        expect(confinementViolation(shape, url), target).to.equal(undefined);
      }),
      { numRuns: 300, seed: 1302 },
    );
    expect(forwarded, 'some generated paths are ordinary and forwarded').to.be.greaterThan(5);
  });
});

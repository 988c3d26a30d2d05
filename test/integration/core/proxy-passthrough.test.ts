import { randomBytes } from 'node:crypto';
import { expect } from 'chai';
import { ADMIN_KEY_SHA256, CONSUMER_KEY, CONSUMER_KEY_SHA256 } from '../../helpers/keys.ts';
import { startGateway, type TestGateway } from '../../helpers/gateway.ts';
import { request, sha256, startServer, type TestServer } from '../../helpers/http.ts';

describe('gateway core: streaming pass-through', () => {
  let up1: TestServer;
  let up2: TestServer;
  let gw: TestGateway;
  const auth = { 'x-api-key': CONSUMER_KEY };

  before(async () => {
    up1 = await startServer();
    up2 = await startServer((_req, res, body) => {
      // Answers with a large binary body to prove responses stream back byte-identical too.
      res.setHeader('content-type', 'application/octet-stream');
      res.end(Buffer.concat([body, body]));
    });
    gw = await startGateway({
      'gateway.yaml': `version: 1\nlimits: { bodyBytes: 8388608 }\nadmin: { apiKeys: [{ sha256: ${ADMIN_KEY_SHA256} }] }\n`,
      'upstreams.yaml': `upstreams:\n  ndxp: { url: "${up1.url}/lgsp" }\n  vdxp: { url: "${up2.url}" }\nconsumers:\n  mcdt: { apiKeys: [{ sha256: ${CONSUMER_KEY_SHA256} }] }\n  portal: { apiKeys: [{ sha256: "${'0'.repeat(64)}" }] }\n`,
      'routes/platforms.yaml': `routes:
  - { id: ndxp-all, methods: [GET, POST, PUT, DELETE], path: /ndxp/*, upstream: ndxp, consumers: [mcdt] }
  - { id: vdxp-echo, methods: [POST], path: /vdxp/echo/:id, upstream: vdxp, upstreamPath: /double/:id, consumers: [mcdt] }
  - { id: ndxp-portal-only, methods: [GET], path: /ndxp-portal/x, upstream: ndxp, consumers: [portal] }
`,
    });
  });
  after(async () => {
    await gw.close();
    await up1.close();
    await up2.close();
  });

  for (const method of ['GET', 'POST', 'PUT']) {
    for (const size of [0, 2048, 5 * 1024 * 1024]) {
      if (method === 'GET' && size > 0) continue;
      it(`${method} with a ${size}-byte body arrives byte-identical`, async () => {
        const body = randomBytes(size);
        const res = await request(`${gw.url}/ndxp/svc/1.0/op?x=1`, {
          method,
          headers: { ...auth, 'content-type': 'application/octet-stream', 'content-length': String(size) },
          body,
        });
        expect(res.status).to.equal(200);
        const got = res.json<{ url: string; length: number; sha256: string }>();
        expect(got.url).to.equal('/lgsp/svc/1.0/op?x=1');
        expect(got.length).to.equal(size);
        expect(got.sha256).to.equal(sha256(body));
        // Buffered (managed client) and streamed (5 MB: http-proxy-middleware) answers both carry the id
        // the upstream was sent.
        expect(res.headers['x-request-id']).to.match(/^[A-Za-z0-9_-]{16}$/);
        expect(up1.requests.at(-1)!.headers['x-request-id']).to.equal(res.headers['x-request-id']);
      });
    }
  }

  it('streams a chunked SOAP body byte-identical', async () => {
    const soap =
      '<?xml version="1.0" encoding="utf-8"?><soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/">' +
      '<soap:Body><XacThucThongTinCongDan xmlns="http://dancuquocgia.bca"><SoDinhDanh>001099000001</SoDinhDanh>' +
      '</XacThucThongTinCongDan></soap:Body></soap:Envelope>';
    const chunks = [soap.slice(0, 50), soap.slice(50, 120), soap.slice(120)];
    const res = await request(`${gw.url}/ndxp/soap`, {
      method: 'POST',
      headers: { ...auth, 'content-type': 'text/xml; charset=utf-8' },
      body: chunks,
    });
    expect(res.status).to.equal(200);
    expect(res.json<{ sha256: string }>().sha256).to.equal(sha256(soap));
    const seen = up1.requests.at(-1)!;
    expect(res.headers['x-request-id']).to.be.a('string').and.equal(seen.headers['x-request-id']);
    expect(seen.headers['content-type']).to.equal('text/xml; charset=utf-8');
  });

  it('streams a 5 MB response back byte-identical through a path rewrite', async () => {
    const body = randomBytes(2.5 * 1024 * 1024);
    const res = await request(`${gw.url}/vdxp/echo/42`, { method: 'POST', headers: auth, body });
    expect(res.status).to.equal(200);
    expect(up2.requests.at(-1)!.url).to.equal('/double/42');
    expect(sha256(res.body)).to.equal(sha256(Buffer.concat([body, body])));
  });

  it('sets forwarding headers, propagates the request id and drops hop-by-hop headers and the API key', async () => {
    const res = await request(`${gw.url}/ndxp/h`, {
      headers: {
        ...auth,
        'x-request-id': 'mcdt-req-123',
        'x-forwarded-for': '10.0.0.7',
        connection: 'keep-alive, x-private-hop',
        'x-private-hop': 'secret',
        'keep-alive': 'timeout=5',
        'proxy-authorization': 'Basic abc',
        'x-custom': 'kept',
      },
    });
    expect(res.status).to.equal(200);
    expect(res.headers['x-request-id']).to.equal('mcdt-req-123');
    const seen = up1.requests.at(-1)!.headers;
    expect(seen['x-request-id']).to.equal('mcdt-req-123');
    // The peer is no trusted proxy: its X-Forwarded-For is its own claim, dropped (issue 13.3).
    expect(seen['x-forwarded-for']).to.equal('127.0.0.1');
    expect(seen['x-forwarded-proto']).to.equal('http');
    expect(seen['x-forwarded-host']).to.match(/^127\.0\.0\.1:\d+$/);
    expect(seen['x-custom']).to.equal('kept');
    for (const h of ['x-api-key', 'x-private-hop', 'keep-alive', 'proxy-authorization'])
      expect(seen).not.to.have.property(h);
  });

  it('generates a request id when the caller sends none or an unusable one', async () => {
    const res = await request(`${gw.url}/ndxp/id`, { headers: { ...auth, 'x-request-id': 'bad id with spaces' } });
    expect(res.headers['x-request-id']).to.match(/^[A-Za-z0-9_-]{16}$/);
    expect(up1.requests.at(-1)!.headers['x-request-id']).to.equal(res.headers['x-request-id']);
  });

  it('passes the upstream 4xx/5xx through unchanged', async () => {
    const failing = await startServer((_req, res) => {
      res.statusCode = 503;
      res.setHeader('content-type', 'text/plain');
      res.end('upstream maintenance');
    });
    gw.write(
      'upstreams.yaml',
      `upstreams:\n  ndxp: { url: "${failing.url}" }\n  vdxp: { url: "${up2.url}" }\nconsumers:\n  mcdt: { apiKeys: [{ sha256: ${CONSUMER_KEY_SHA256} }] }\n  portal: { apiKeys: [{ sha256: "${'0'.repeat(64)}" }] }\n`,
    );
    expect((await gw.gateway.reloader.reload('test')).result).to.equal('success');
    try {
      const res = await request(`${gw.url}/ndxp/down`, { headers: auth });
      expect(res.status).to.equal(503);
      expect(res.body.toString()).to.equal('upstream maintenance');
    } finally {
      gw.write(
        'upstreams.yaml',
        `upstreams:\n  ndxp: { url: "${up1.url}/lgsp" }\n  vdxp: { url: "${up2.url}" }\nconsumers:\n  mcdt: { apiKeys: [{ sha256: ${CONSUMER_KEY_SHA256} }] }\n  portal: { apiKeys: [{ sha256: "${'0'.repeat(64)}" }] }\n`,
      );
      await gw.gateway.reloader.reload('test');
      await failing.close();
    }
  });

  it('answers 404 for an unknown path and 405 with Allow for a method the route does not take', async () => {
    const notFound = await request(`${gw.url}/nowhere/x`, { headers: auth });
    expect(notFound.status).to.equal(404);
    expect(notFound.json()).to.include({ code: 'GW_ROUTE_NOT_FOUND' });
    const wrongMethod = await request(`${gw.url}/vdxp/echo/1`, { method: 'GET', headers: auth });
    expect(wrongMethod.status).to.equal(405);
    expect(wrongMethod.headers.allow).to.equal('POST');
  });

  it('answers 413 when the body is over the limit, declared or chunked, before the upstream sees it all', async () => {
    const before = up1.requests.length;
    const declared = await request(`${gw.url}/ndxp/big`, {
      method: 'POST',
      headers: { ...auth, 'content-length': String(9 * 1024 * 1024) },
      body: Buffer.alloc(9 * 1024 * 1024),
    });
    expect(declared.status).to.equal(413);
    expect(declared.json()).to.include({ code: 'GW_PAYLOAD_TOO_LARGE' });
    const chunk = Buffer.alloc(1024 * 1024);
    const chunked = await request(`${gw.url}/ndxp/big`, {
      method: 'POST',
      headers: auth,
      body: Array(9).fill(chunk),
    }).catch((err: Error) => ({ status: 0, error: err }));
    if (chunked.status !== 0) expect(chunked.status).to.equal(413);
    expect(up1.requests.length).to.equal(before);
  });

  it('fails closed: 401 without a key, 401 with a wrong key, 403 for a consumer the route does not list', async () => {
    expect((await request(`${gw.url}/ndxp/a`)).status).to.equal(401);
    const wrong = await request(`${gw.url}/ndxp/a`, { headers: { 'x-api-key': 'nope' } });
    expect(wrong.status).to.equal(401);
    expect(wrong.headers['www-authenticate']).to.contain('X-API-Key');
    const forbidden = await request(`${gw.url}/ndxp-portal/x`, { headers: auth });
    expect(forbidden.status).to.equal(403);
    expect(forbidden.json()).to.include({ code: 'GW_FORBIDDEN' });
  });

  it('rejects path traversal and encoded slashes before routing', async () => {
    for (const p of ['/ndxp/a/../../admin/status', '/ndxp/a%2F..%2Fb', '/ndxp/%2e%2e/x']) {
      const res = await request(`${gw.url}${p}`, { headers: auth });
      expect(res.status, p).to.equal(400);
    }
  });

  it('writes one masked access-log line per request', async () => {
    await request(`${gw.url}/ndxp/citizen/001099000001?token=abc&soDienThoai=0912345678`, { headers: auth });
    const line = gw.logs.filter((l) => l.message === 'access').at(-1)!;
    expect(line).to.include({ route: 'ndxp-all', consumer: 'mcdt', upstream: 'ndxp', method: 'GET', status: 200 });
    expect(line.path).to.equal('/ndxp/citizen/[ID12]?token=[REDACTED]&soDienThoai=[PHONE]');
    expect(line).to.have.property('durationMs');
    expect(line).to.have.property('upstreamMs');
    expect(JSON.stringify(gw.logs)).not.to.contain('001099000001');
    expect(JSON.stringify(gw.logs)).not.to.contain(CONSUMER_KEY);
  });
});

describe('gateway core: HEAD', () => {
  it('answers HEAD on a GET route with the upstream Content-Length and no body', async () => {
    const up = await startServer((_req, res) => {
      res.setHeader('content-type', 'application/json');
      res.setHeader('content-length', '17');
      res.end();
    });
    const gw = await startGateway({
      'g.yaml': `version: 1\nupstreams:\n  ndxp: { url: "${up.url}" }\nconsumers:\n  mcdt: { apiKeys: [{ sha256: ${CONSUMER_KEY_SHA256} }] }\nroutes:\n  - { id: r, path: /ndxp/*, upstream: ndxp, consumers: [mcdt] }\n`,
    });
    try {
      const res = await request(`${gw.url}/ndxp/x`, { method: 'HEAD', headers: { 'x-api-key': CONSUMER_KEY } });
      expect(res.status).to.equal(200);
      expect(res.headers['content-length']).to.equal('17');
      expect(res.body.length).to.equal(0);
      expect(up.requests[0].method).to.equal('HEAD');
    } finally {
      await gw.close();
      await up.close();
    }
  });
});

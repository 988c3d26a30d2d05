import { readFileSync, rmSync } from 'node:fs';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import path from 'node:path';
import { expect } from 'chai';
import { CONSUMER_KEY, CONSUMER_KEY_SHA256 } from '../../helpers/keys.ts';
import { startGateway, type TestGateway } from '../../helpers/gateway.ts';
import { request } from '../../helpers/http.ts';
import { hasOpenssl, makeTestPki } from '../../helpers/pki.ts';

/**
 * A national platform over HTTPS with a private CA that requires a client certificate (mutual TLS): the
 * gateway's managed client (empty and small bodies) and its streaming path (large bodies) both present the
 * certificate of `upstreams.<id>.tls` and trust only the configured CA.
 */
describe('gateway core: HTTPS upstream with a private CA and mutual TLS', function () {
  let pki = '';
  let upstream: https.Server;
  let gw: TestGateway;
  const seen: { path: string; clientCn: string | undefined; bytes: number }[] = [];

  before(async function () {
    if (!hasOpenssl()) this.skip(); // certificates cannot be made without the openssl CLI
    pki = makeTestPki(['lgsp-gateway']);
    upstream = https.createServer(
      {
        key: readFileSync(path.join(pki, 'server.key')),
        cert: readFileSync(path.join(pki, 'server.pem')),
        ca: readFileSync(path.join(pki, 'ca.pem')),
        requestCert: true,
        rejectUnauthorized: true,
      },
      (req, res) => {
        let bytes = 0;
        req.on('data', (c: Buffer) => (bytes += c.length));
        req.on('end', () => {
          const peer = (req.socket as TLSSocket).getPeerCertificate();
          seen.push({ path: req.url ?? '', clientCn: String(peer?.subject?.CN), bytes });
          res.writeHead(200, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ ok: true, bytes }));
        });
      },
    );
    await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
    const url = `https://127.0.0.1:${(upstream.address() as AddressInfo).port}`;
    gw = await startGateway({
      'gateway.yaml': 'version: 1\n',
      'upstreams.yaml':
        `upstreams:\n` +
        `  ndxp: { url: "${url}", tls: { ca: ${pki}/ca.pem, cert: ${pki}/lgsp-gateway.pem, key: ${pki}/lgsp-gateway.key } }\n` +
        `  untrusted: { url: "${url}" }\n` +
        `consumers:\n  mcdt: { apiKeys: [{ sha256: ${CONSUMER_KEY_SHA256} }] }\n`,
      'routes.yaml':
        'routes:\n' +
        '  - { id: r, methods: [GET, POST], path: /ndxp/*, upstream: ndxp, consumers: [mcdt] }\n' +
        '  - { id: u, methods: [GET], path: /untrusted/*, upstream: untrusted, consumers: [mcdt] }\n',
    });
  });
  after(async () => {
    await gw?.close();
    await new Promise((resolve) => upstream?.close(resolve));
    if (pki) rmSync(pki, { recursive: true, force: true });
  });

  it('GET and a small POST (managed client) present the client certificate', async () => {
    const get = await request(`${gw.url}/ndxp/a`, { headers: { 'x-api-key': CONSUMER_KEY } });
    expect(get.status, get.body.toString()).to.equal(200);
    const post = await request(`${gw.url}/ndxp/b`, {
      method: 'POST',
      headers: { 'x-api-key': CONSUMER_KEY, 'content-type': 'application/json' },
      body: '{"x":1}',
    });
    expect(post.status).to.equal(200);
    expect(JSON.parse(post.body.toString())).to.deep.equal({ ok: true, bytes: 7 });
    expect(seen.filter((s) => s.path === '/a' || s.path === '/b').map((s) => s.clientCn)).to.deep.equal([
      'lgsp-gateway',
      'lgsp-gateway',
    ]);
  });

  it('a large body (streamed through http-proxy-middleware) presents it too', async () => {
    const big = Buffer.alloc(200 * 1024, 0x61);
    const res = await request(`${gw.url}/ndxp/big`, {
      method: 'POST',
      headers: { 'x-api-key': CONSUMER_KEY, 'content-type': 'application/octet-stream' },
      body: big,
    });
    expect(res.status).to.equal(200);
    expect(seen.find((s) => s.path === '/big')).to.deep.equal({
      path: '/big',
      clientCn: 'lgsp-gateway',
      bytes: big.length,
    });
  });

  it('an upstream whose certificate the gateway cannot verify gets 502 GW_UPSTREAM_TLS, nothing sent', async () => {
    const before = seen.length;
    const res = await request(`${gw.url}/untrusted/x`, { headers: { 'x-api-key': CONSUMER_KEY } });
    expect(res.status).to.equal(502);
    expect(res.body.toString()).to.contain('GW_UPSTREAM_TLS').and.contain('untrusted');
    expect(seen.length).to.equal(before);
  });
});

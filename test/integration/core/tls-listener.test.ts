import { readFileSync, rmSync } from 'node:fs';
import https from 'node:https';
import path from 'node:path';
import { expect } from 'chai';
import { CONSUMER_KEY, CONSUMER_KEY_SHA256 } from '../../helpers/keys.ts';
import { startGateway, type TestGateway } from '../../helpers/gateway.ts';
import { startServer, type TestServer } from '../../helpers/http.ts';
import { hasOpenssl, makeTestPki } from '../../helpers/pki.ts';

/** One HTTPS request trusting the test CA, optionally presenting a client certificate. */
function get(url: string, pki: string, client?: string, headers: Record<string, string> = {}) {
  return new Promise<{ status: number; body: string }>((resolve, reject) => {
    const req = https.request(url, {
      ca: readFileSync(path.join(pki, 'ca.pem')),
      cert: client ? readFileSync(path.join(pki, `${client}.pem`)) : undefined,
      key: client ? readFileSync(path.join(pki, `${client}.key`)) : undefined,
      headers,
      agent: false,
    });
    req.on('error', reject);
    req.on('response', (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.end();
  });
}

describe('gateway core: its own TLS listener and client certificates', function () {
  let pki = '';
  let up: TestServer;
  let gw: TestGateway;

  before(async function () {
    if (!hasOpenssl()) this.skip(); // certificates cannot be made without the openssl CLI
    pki = makeTestPki(['mcdt-client', 'stranger']);
    up = await startServer();
    gw = await startGateway({
      'gateway.yaml': `version: 1\nlisten:\n  tls: { cert: ${pki}/server.pem, key: ${pki}/server.key, ca: ${pki}/ca.pem, clientCertificates: request }\n`,
      'upstreams.yaml': `upstreams:\n  ndxp: { url: "${up.url}" }\nconsumers:\n  mcdt: { mtlsSubject: mcdt-client, apiKeys: [{ sha256: ${CONSUMER_KEY_SHA256} }] }\n`,
      'routes.yaml': 'routes:\n  - { id: r, path: /ndxp/*, upstream: ndxp, consumers: [mcdt] }\n',
    });
  });
  after(async () => {
    await gw?.close();
    await up?.close();
    if (pki) rmSync(pki, { recursive: true, force: true });
  });

  it('serves HTTPS and tells the upstream the caller came over https', async () => {
    expect(gw.url).to.match(/^https:\/\//);
    const res = await get(`${gw.url}/ndxp/x`, pki, 'mcdt-client', { 'x-api-key': CONSUMER_KEY });
    expect(res.status).to.equal(200);
    expect(up.requests.at(-1)!.headers['x-forwarded-proto']).to.equal('https');
  });

  it('identifies a consumer by its client certificate subject, with no key', async () => {
    const res = await get(`${gw.url}/ndxp/by-cert`, pki, 'mcdt-client');
    expect(res.status).to.equal(200);
    const access = gw.logs.filter((l) => l.message === 'access').at(-1);
    expect(access).to.include({ consumer: 'mcdt', status: 200 });
  });

  it('a consumer bound to a certificate must present it, even with its API key', async () => {
    const res = await get(`${gw.url}/ndxp/x`, pki, undefined, { 'x-api-key': CONSUMER_KEY });
    expect(res.status).to.equal(403);
    expect(res.body).to.contain('GW_CLIENT_CERT_MISMATCH');
  });

  it('refuses a certificate whose subject is no consumer, and no credential at all', async () => {
    expect((await get(`${gw.url}/ndxp/x`, pki, 'stranger')).status).to.equal(401);
    expect((await get(`${gw.url}/ndxp/x`, pki)).status).to.equal(401);
  });
});

import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect } from 'chai';
import { CONSUMER_KEY, CONSUMER_KEY_SHA256 } from '../../helpers/keys.ts';
import { startGateway, type TestGateway } from '../../helpers/gateway.ts';
import { freePort, request, startServer, type TestServer } from '../../helpers/http.ts';
import { until } from '../../helpers/reliability.ts';
import { registerSecret } from '../../helpers/written-registry.ts';

/**
 * Fault matrix, token side (issue 8): the token endpoint of an upstream refuses, stalls, answers HTML,
 * answers 200 without a token, or a failure code. The caller gets 502 GW_TOKEN_ENDPOINT_FAILED (hop
 * token-endpoint) naming "the token endpoint of <upstream>", the service never sees a request without a
 * token, and once the endpoint is healthy again the next request goes through.
 */
type Mode =
  'ok' | 'stall' | 'html' | 'no-token' | 'status-401' | 'status-500' | 'login-failure-code' | 'reset' | 'crlf-token';

describe('reliability: token endpoint fault matrix', function () {
  this.timeout(10_000);
  let mode: Mode = 'ok';
  let issued = 0;
  let tokenServer: http.Server;
  let tokenUrl: string;
  let service: TestServer;
  let gw: TestGateway;
  const auth = { 'x-api-key': CONSUMER_KEY };

  before(async () => {
    for (const secret of ['cs-test-secret-value', 'molisa-password-secret']) registerSecret(secret);
    tokenServer = http.createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        const json = (status: number, body: unknown) => {
          res.writeHead(status, { 'content-type': 'application/json' });
          res.end(JSON.stringify(body));
        };
        switch (mode) {
          case 'stall':
            return; // never answers: the strategy's timeoutMs must fire
          case 'reset':
            return req.socket.destroy();
          case 'html':
            res.writeHead(200, { 'content-type': 'text/html' });
            return res.end('<html><body>Service Unavailable</body></html>');
          case 'no-token':
            return json(
              200,
              req.url?.includes('GetToken') ? { error_code: 0, message: 'ok' } : { token_type: 'Bearer' },
            );
          case 'status-401':
            return json(401, { error: 'invalid_client' });
          case 'status-500':
            return json(500, { error: 'server_error' });
          case 'crlf-token':
            // Header injection through a credential value: the token must never become a second header.
            return req.url?.includes('GetToken')
              ? json(200, { error_code: 0, token: 'abc\r\nX-Injected: 1' })
              : json(200, { access_token: 'abc\r\nX-Injected: 1', expires_in: 3600 });
          case 'login-failure-code':
            return json(200, { error_code: 1, message: 'Sai mật khẩu', token: null });
          default:
            issued++;
            registerSecret(`ndxp-token-${issued}`);
            registerSecret(`molisa-token-${issued}`);
            return req.url?.includes('GetToken')
              ? json(200, { error_code: 0, message: 'ok', token: `molisa-token-${issued}` })
              : json(200, { access_token: `ndxp-token-${issued}`, token_type: 'Bearer', expires_in: 3600 });
        }
      });
    });
    await new Promise<void>((r) => tokenServer.listen(0, '127.0.0.1', r));
    tokenUrl = `http://127.0.0.1:${(tokenServer.address() as AddressInfo).port}`;
    service = await startServer();
    const refused = await freePort();
    const common = 'timeoutMs: 200, minRetryIntervalMs: 0';
    gw = await startGateway({
      'gateway.yaml': 'version: 1\n',
      'upstreams.yaml': `upstreams:
  ndxp:
    url: "${service.url}/ndxp"
    errorDialect: problem+json
    credentials:
      - { type: oauth2-client-credentials, tokenUrl: "${tokenUrl}/token", consumerKey: ck-test, consumerSecret: cs-test-secret-value, ${common} }
  molisa:
    url: "${service.url}/molisa"
    errorDialect: molisa
    credentials:
      - type: login-token
        tokenUrl: "${tokenUrl}/api/v1/Service/GetToken"
        secrets: { username: molisa-user, password: molisa-password-secret }
        success: { path: error_code, in: [0, "0"] }
        inject: { header: AccessKey }
        timeoutMs: 200
        minRetryIntervalMs: 0
  ndxpdown:
    url: "${service.url}/down"
    errorDialect: ndxp
    credentials:
      - { type: oauth2-client-credentials, tokenUrl: "http://127.0.0.1:${refused}/token", consumerKey: ck, consumerSecret: cs-secret, ${common} }
consumers:
  mcdt: { apiKeys: [{ sha256: ${CONSUMER_KEY_SHA256} }] }
`,
      'routes.yaml': `routes:
  - { id: ndxp, methods: [GET, POST], path: /ndxp/*, upstream: ndxp, consumers: [mcdt] }
  - { id: molisa, methods: [GET, POST], path: /molisa/*, upstream: molisa, consumers: [mcdt] }
  - { id: ndxpdown, methods: [GET, POST], path: /ndxpdown/*, upstream: ndxpdown, consumers: [mcdt] }
`,
    });
  });
  after(async () => {
    await gw?.close();
    await service?.close();
    tokenServer?.closeAllConnections();
    await new Promise((r) => tokenServer?.close(r));
  });

  const forget = (upstream: string) => gw.gateway.reloader.current.upstreams.get(upstream)!.credentials.invalidate();

  /** Every request the service received carried the token the token endpoint issued. */
  function expectEveryServiceRequestHadAToken() {
    for (const r of service.requests) {
      if (r.url.startsWith('/ndxp')) expect(r.headers.authorization).to.match(/^Bearer ndxp-token-\d+$/);
      else if (r.url.startsWith('/molisa')) expect(r.headers.accesskey).to.match(/^molisa-token-\d+$/);
      else expect.fail(`a request reached the service without a token: ${r.url}`);
    }
  }

  const cases: { mode: Mode; upstreams: string[]; reason: RegExp }[] = [
    { mode: 'stall', upstreams: ['ndxp', 'molisa'], reason: /200 ms/ },
    { mode: 'reset', upstreams: ['ndxp', 'molisa'], reason: /ECONNRESET|socket hang up/i },
    { mode: 'html', upstreams: ['ndxp', 'molisa'], reason: /JSON|HTML|html/ },
    { mode: 'no-token', upstreams: ['ndxp', 'molisa'], reason: /token/ },
    { mode: 'status-401', upstreams: ['ndxp', 'molisa'], reason: /401/ },
    { mode: 'status-500', upstreams: ['ndxp', 'molisa'], reason: /500/ },
    { mode: 'login-failure-code', upstreams: ['molisa'], reason: /Sai mật khẩu/ },
    { mode: 'crlf-token', upstreams: ['ndxp', 'molisa'], reason: /token/ },
  ];

  for (const c of cases) {
    for (const upstream of c.upstreams) {
      for (const method of ['GET', 'POST']) {
        it(`${upstream} ${method}: token endpoint ${c.mode} -> 502 GW_TOKEN_ENDPOINT_FAILED, nothing reaches the service, then recovers`, async () => {
          forget(upstream);
          const seen = service.requests.length;
          mode = c.mode;
          const res = await request(`${gw.url}/${upstream}/svc`, {
            method,
            headers: { ...auth, 'content-type': 'application/json' },
            body: method === 'POST' ? '[{"MaHoSo":"H52-1"}]' : undefined,
          });
          expect(res.status, res.body.toString()).to.equal(502);
          const text = res.body.toString();
          expect(text).to.contain('GW_TOKEN_ENDPOINT_FAILED');
          expect(text).to.contain(`điểm cấp token của ${upstream}`);
          if (upstream === 'ndxp') expect(res.json()).to.include({ hop: 'token-endpoint', status: 502 });
          else expect(res.json()).to.include({ error_code: 502 });
          expect(JSON.parse(text).detail ?? JSON.parse(text).message).to.match(c.reason);
          expect(service.requests.length, 'no request reached the service').to.equal(seen);
          expect(service.requests.some((r) => r.headers['x-injected'] !== undefined)).to.equal(false);
          // Secrets never appear in what the caller is told.
          for (const secret of ['cs-test-secret-value', 'molisa-password-secret']) expect(text).not.to.contain(secret);

          mode = 'ok';
          const ok = await request(`${gw.url}/${upstream}/svc`, {
            method,
            headers: { ...auth, 'content-type': 'application/json' },
            body: method === 'POST' ? '[{"MaHoSo":"H52-1"}]' : undefined,
          });
          expect(ok.status, ok.body.toString()).to.equal(200);
          expect(service.requests.length).to.equal(seen + 1);
          expectEveryServiceRequestHadAToken();
          await until(() => gw.gateway.reloader.current.inFlight === 0, 'in-flight back to 0');
        });
      }
    }
  }

  it('token endpoint refusing connections -> 502 naming the token endpoint of the upstream (ndxp dialect)', async () => {
    const seen = service.requests.length;
    const res = await request(`${gw.url}/ndxpdown/svc`, { headers: auth });
    expect(res.status).to.equal(502);
    const body = res.json<{ responseCode: string; responseMessage: string }>();
    expect(body.responseCode).to.equal('502');
    expect(body.responseMessage)
      .to.contain('điểm cấp token của ndxpdown')
      .and.match(/ECONNREFUSED/);
    expect(service.requests.length).to.equal(seen);
    expect((await request(`${gw.url}/ndxp/svc`, { headers: auth })).status).to.equal(200);
  });

  it('logs no secret and no issued token', () => {
    const all = JSON.stringify(gw.logs);
    for (const secret of ['cs-test-secret-value', 'molisa-password-secret', 'ndxp-token-', 'molisa-token-'])
      expect(all).not.to.contain(secret);
  });
});

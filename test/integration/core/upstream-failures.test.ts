import { expect } from 'chai';
import { CONSUMER_KEY, CONSUMER_KEY_SHA256 } from '../../helpers/keys.ts';
import { startGateway, type TestGateway } from '../../helpers/gateway.ts';
import { freePort, request, startServer, type TestServer } from '../../helpers/http.ts';

/** What each dialect's body says about the failing hop. */
const dialectChecks: Record<string, (body: Record<string, unknown>, status: number) => void> = {
  'problem+json': (b, status) => {
    expect(b.status).to.equal(status);
    expect(b.upstream).to.equal('nat');
  },
  molisa: (b, status) => {
    expect(b.error_code).to.equal(status);
    expect(b.message).to.contain('nat');
  },
  ndxp: (b, status) => {
    expect(b.responseCode).to.equal(String(status));
    expect(b.responseMessage).to.contain('nat');
  },
  hotich: (b) => {
    expect(b.status).to.equal('0');
    expect(b.errorDescription).to.contain('nat');
  },
};

describe('gateway core: upstream failures in every dialect', () => {
  let stalling: TestServer;
  let gw: TestGateway;
  let refusedPort: number;

  before(async () => {
    refusedPort = await freePort();
    // Accepts the request and never answers: the response timeout must fire.
    stalling = await startServer(() => undefined);
    const upstreams = Object.keys(dialectChecks)
      .map(
        (d, i) =>
          `  refused${i}: { url: "http://127.0.0.1:${refusedPort}", errorDialect: "${d}" }\n  stalled${i}: { url: "${stalling.url}", errorDialect: "${d}", timeouts: { responseMs: 150 } }\n`,
      )
      .join('');
    const routes = Object.keys(dialectChecks)
      .map(
        (_d, i) =>
          `  - { id: r${i}, methods: [GET, POST], path: /refused${i}/*, upstream: refused${i}, consumers: [mcdt] }\n  - { id: s${i}, methods: [GET, POST], path: /stalled${i}/*, upstream: stalled${i}, consumers: [mcdt] }\n`,
      )
      .join('');
    gw = await startGateway({
      'gateway.yaml': 'version: 1\n',
      'upstreams.yaml': `upstreams:\n${upstreams}consumers:\n  mcdt: { apiKeys: [{ sha256: ${CONSUMER_KEY_SHA256} }] }\n`,
      'routes.yaml': `routes:\n${routes}`,
    });
  });
  after(async () => {
    await gw.close();
    await stalling.close();
  });

  Object.entries(dialectChecks).forEach(([dialect, check], i) => {
    const failures = [
      { route: 'refused', what: 'connection refused', status: 502, code: 'GW_UPSTREAM_CONNECT_FAILED' },
      { route: 'stalled', what: 'no answer within the timeout', status: 504, code: 'GW_UPSTREAM_TIMEOUT' },
    ];
    for (const method of ['GET', 'POST']) {
      for (const { route, what, status, code } of failures) {
        it(`${dialect}: ${what} -> ${status} naming the upstream (${method})`, async () => {
          const res = await request(`${gw.url}/${route}${i}/x`, {
            method,
            headers: { 'x-api-key': CONSUMER_KEY },
            body: method === 'POST' ? 'payload' : undefined,
          });
          expect(res.status).to.equal(status);
          const body = JSON.parse(res.body.toString().replaceAll(`${route}${i}`, 'nat'));
          expect(JSON.stringify(body)).to.contain(code);
          expect(body.requestId).to.equal(res.headers['x-request-id']);
          check(body, status);
        });
      }
    }
  });

  it('keeps serving after the failures', async () => {
    const res = await request(`${gw.url}/healthz`);
    expect(res.status).to.equal(200);
  });
});

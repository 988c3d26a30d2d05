import { expect } from 'chai';
import { ADMIN_KEY, ADMIN_KEY_SHA256, CONSUMER_KEY, CONSUMER_KEY_SHA256 } from '../../helpers/keys.ts';
import { startGateway, type TestGateway } from '../../helpers/gateway.ts';
import { request, startServer, type TestServer } from '../../helpers/http.ts';
import { hasRedisServer, startRedis, type RedisProcess } from '../../helpers/redis.ts';
import { until } from '../../helpers/reliability.ts';

/**
 * Issue 14.8: Redis, the shared rate-limit store, goes down while the gateway serves. Rate-limited calls
 * fail closed (503, `onStoreError: deny`), and now /readyz and /admin/status say why, the metrics show it,
 * and the log holds one warning per interval with a count instead of one per refused call. When Redis
 * comes back the gateway is ready again by itself. Skipped when redis-server is not installed.
 */
describe('rate limits: Redis outage seen by readiness, admin status, metrics and a collapsed warning', function () {
  this.timeout(20_000);
  let redis: RedisProcess | undefined;
  let upstream: TestServer;
  let gw: TestGateway;
  const auth = { 'x-api-key': CONSUMER_KEY };
  const storeState = () => gw.gateway.reloader.current.consumers.rateLimitStore?.()?.state;

  before(async function () {
    if (!hasRedisServer()) this.skip();
    redis = await startRedis();
    upstream = await startServer((_req, res) => res.end('{}'));
    gw = await startGateway({
      'gateway.yaml':
        'version: 1\n' +
        `admin:\n  apiKeys: [{ sha256: ${ADMIN_KEY_SHA256} }]\n` +
        `rateLimits:\n  store: redis\n  redis: { url: "${redis.url}", keyPrefix: "outage-${Date.now()}" }\n  onStoreError: deny\n`,
      'upstreams.yaml':
        `upstreams:\n  up: { url: "${upstream.url}", errorDialect: ndxp }\n` +
        `consumers:\n  mcdt: { apiKeys: [{ sha256: ${CONSUMER_KEY_SHA256} }], rateLimit: { requests: 1000, windowSeconds: 60 } }\n`,
      'routes.yaml':
        'routes:\n  - { id: limited, methods: [GET], path: /limited/*, upstream: up, consumers: [mcdt] }\n',
    });
  });
  after(async () => {
    await gw?.close();
    await upstream?.close();
    await redis?.stop();
  });

  it('reports the store down, refuses in dialect, collapses the warnings, and recovers when Redis is back', async () => {
    await until(() => storeState() === 'up', 'the first connection to Redis');
    expect((await request(`${gw.url}/limited/x`, { headers: auth })).status).to.equal(200);
    let ready = await request(`${gw.url}/readyz`);
    expect(ready.status).to.equal(200);
    expect(ready.json()).to.include({ status: 'ready', rateLimitStore: 'up' });

    await redis!.stop();
    const calls = 25;
    for (let i = 0; i < calls; i++) {
      const res = await request(`${gw.url}/limited/x`, { headers: auth });
      expect(res.status, res.body.toString()).to.equal(503);
      expect(res.json()).to.include({ responseCode: '503' });
      expect(res.body.toString()).to.contain('GW_SERVICE_UNAVAILABLE');
    }
    expect(storeState()).to.equal('down');
    ready = await request(`${gw.url}/readyz`);
    expect(ready.status, 'a shared store down takes no replica out: they all share it').to.equal(200);
    expect(ready.json()).to.include({ status: 'ready', rateLimitStore: 'down' });
    expect(ready.body.toString(), 'the public page names no address').to.not.contain('127.0.0.1');

    const status = await request(`${gw.url}/admin/status`, { headers: { 'x-admin-key': ADMIN_KEY } });
    expect(status.status).to.equal(200);
    const store = status.json().rateLimitStore as Record<string, unknown>;
    expect(store).to.include({ store: 'redis', state: 'down', onStoreError: 'deny' });
    expect(store.failedChecks).to.be.at.least(calls);
    expect(String(store.lastError)).to.not.contain('redis://');

    const metrics = await gw.gateway.metrics.registry.metrics();
    expect(metrics).to.match(/^lgsp_rate_limit_store_up 0$/m);
    const errors = /^lgsp_rate_limit_store_errors_total\{route="limited"\} (\d+)$/m.exec(metrics);
    expect(Number(errors?.[1])).to.equal(calls);

    const warnings = () => gw.logs.filter((l) => l.message === 'rate limit store unavailable');
    expect(warnings(), 'one warning for the whole burst, not one per call').to.have.length(1);
    expect(warnings()[0]).to.include({ level: 'warn', onStoreError: 'deny' });

    redis = await startRedis(redis!.port);
    await until(() => storeState() === 'up', 'ioredis reconnects', 40_000);
    expect((await request(`${gw.url}/limited/x`, { headers: auth })).status).to.equal(200);
    ready = await request(`${gw.url}/readyz`);
    expect(ready.status).to.equal(200);
    expect(ready.json()).to.include({ rateLimitStore: 'up' });
    const back = gw.logs.find((l) => l.message === 'rate limit store reachable again');
    expect(back, 'the recovery is logged with what the outage cost').to.include({ failedChecks: calls });
    // The occurrences held back are written once, when the outage ends: the counts add up.
    const total = warnings().reduce((n, l) => n + Number(l.repeated), 0);
    expect(total).to.be.at.least(calls);
    expect(warnings().length).to.be.at.most(2);
  });
});

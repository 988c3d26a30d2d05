import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { Ajv } from 'ajv';
import { createAdminGuard } from '../../../src/auth/admin-guard.ts';
import { genKey } from '../../../src/auth/api-keys.ts';
import { Type } from 'typebox';
import {
  AdminSchema,
  AuditSchema,
  AuthSchema,
  ConsumerSchema,
  MetricsSchema,
  RateLimitsSchema,
  RouteAuditSchema,
  RouteRateLimitSchema,
  StringMap,
} from '../../../src/config/consumers-schema.ts';
import { createMetrics, OBSERVATION_BATCH, statusClass } from '../../../src/observability/metrics.ts';
import { GatewayError } from '../../../src/errors/gateway-error.ts';
import { fakeRequest, makeConfig } from './helpers.ts';

export const METRIC_NAMES = [
  'lgsp_requests_total',
  'lgsp_request_duration_seconds',
  'lgsp_upstream_duration_seconds',
  'lgsp_upstream_token_fetches_total',
  'lgsp_upstream_token_failures_total',
  'lgsp_validation_rejections_total',
  'lgsp_config_reloads_total',
  'lgsp_in_flight_requests',
  'lgsp_auth_failures_total',
  'lgsp_rate_limited_total',
  'lgsp_tokens_issued_total',
];

describe('metrics', () => {
  it('registers every metric in a registry of its own', async () => {
    const a = createMetrics({ defaultMetrics: false });
    const b = createMetrics({ defaultMetrics: false });
    a.requests.inc({ route: 'r', consumer: 'c', upstream: 'u', status_class: statusClass(204) });
    const text = await a.registry.metrics();
    for (const name of METRIC_NAMES) expect(text, name).to.contain(`# TYPE ${name} `);
    expect(text).to.contain('lgsp_requests_total{route="r",consumer="c",upstream="u",status_class="2xx"} 1');
    expect(await b.registry.metrics()).to.not.contain('status_class="2xx"');
    expect(statusClass(99)).to.equal('other');
  });

  it('calls counted through the tallies read as inc() would have written them, at every scrape', async () => {
    const tallied = createMetrics({ defaultMetrics: false });
    const direct = createMetrics({ defaultMetrics: false });
    const calls: [string, string, string, string][] = [
      ['r1', 'c', 'u', '2xx'],
      ['r2', '(anonymous)', '(none)', '4xx'],
      ['r1', 'c', 'u', '2xx'],
      ['a\nb', 'c', 'u', '2xx'], // names holding the tallies' separator share a key with the next
      ['a', 'b\nc', 'u', '2xx'],
      ['r1', 'c', 'u', '5xx'],
      // The same series again and again (the remembered one), then one that differs in a single label each,
      // a colliding name right after the series it collides with, and equal names built at run time.
      ['r1', 'c', 'u', '5xx'],
      ['r1', 'c', 'u', '5xx'],
      ['r1', 'c', 'u', '4xx'],
      ['r1', 'c', 'v', '4xx'],
      ['r1', 'd', 'v', '4xx'],
      ['r3', 'd', 'v', '4xx'],
      ['a\nb', 'c', 'u', '2xx'],
      ['a', 'b\nc', 'u', '2xx'],
      ['a', 'b\nc', 'u', '2xx'],
      [['r', '1'].join(''), 'c', 'u', `${2}xx`],
    ];
    const moves: [string, number][] = [
      ['r1', 1],
      ['r2', 1],
      ['r1', 1],
      ['r1', -1],
      ['r2', -1],
    ];
    const text = async (m: ReturnType<typeof createMetrics>) =>
      (await m.registry.metrics())
        .split('\n')
        .filter((l) => l.startsWith('lgsp_requests_total') || l.startsWith('lgsp_in_flight_requests'))
        .sort()
        .join('\n');
    for (let round = 0; round < 2; round++) {
      for (const [route, consumer, upstream, status] of calls) {
        tallied.countRequest(route, consumer, upstream, status);
        direct.requests.inc({ route, consumer, upstream, status_class: status });
      }
      for (const [route, delta] of moves) {
        tallied.moveInFlight(route, delta);
        direct.inFlight.inc({ route }, delta);
      }
      expect(await text(tallied)).to.equal(await text(direct));
    }
    expect(await text(tallied)).to.contain(
      'lgsp_requests_total{route="r1",consumer="c",upstream="u",status_class="2xx"} 6',
    );
    expect(await text(tallied)).to.contain(
      'lgsp_requests_total{route="r1",consumer="c",upstream="u",status_class="5xx"} 6',
    );
    expect(await text(tallied)).to.contain('lgsp_in_flight_requests{route="r1"} 2');
    expect(await text(tallied)).to.contain('lgsp_in_flight_requests{route="r2"} 0');
  });

  it('durations observed through the queues read as observe() would have written them, at every scrape', async () => {
    const queued = createMetrics({ defaultMetrics: false });
    const direct = createMetrics({ defaultMetrics: false });
    const text = async (m: ReturnType<typeof createMetrics>) =>
      (await m.registry.metrics())
        .split('\n')
        .filter((l) => l.startsWith('lgsp_request_duration_seconds') || l.startsWith('lgsp_upstream_duration_seconds'))
        .join('\n');
    // Values on and around the bucket bounds, tiny and huge, fractions whose sum depends on the order of
    // the additions; series that alternate, repeat past a queue's length, and hold the queues' separator.
    const values = [0.005, 0.0050000001, 0.1 + 0.2, 1e-9, 0, 60, 60.5, 1e6, 0.3, 2.5, 0.024999, 1 / 3];
    const series: [string, string, string][] = [
      ['r1', 'u', '2xx'],
      ['r1', 'u', '2xx'],
      ['r2', '(none)', '4xx'],
      ['a\nb', 'u', '2xx'],
      ['a', 'b\nu', '2xx'],
      ['r1', 'u', '5xx'],
    ];
    for (let round = 0; round < 3; round++) {
      // Round 1 passes a queue's length in one series between two scrapes (a full queue is handed over).
      const calls = round === 1 ? OBSERVATION_BATCH * 2 + 5 : 40;
      for (let i = 0; i < calls; i++) {
        const [route, upstream, status] = series[round === 1 ? 0 : i % series.length];
        const seconds = values[(i * 7 + round) % values.length];
        queued.observeDuration(route, upstream, status, seconds);
        direct.duration.observe({ route, upstream, status_class: status }, seconds);
        if (i % 3 === 0) {
          queued.observeUpstreamDuration(route, upstream, seconds / 2);
          direct.upstreamDuration.observe({ route, upstream }, seconds / 2);
        }
      }
      expect(await text(queued)).to.equal(await text(direct));
    }
    // A series first seen before another fills its queue is still listed first.
    queued.observeDuration('late', 'u', '2xx', 0.2);
    direct.duration.observe({ route: 'late', upstream: 'u', status_class: '2xx' }, 0.2);
    for (let i = 0; i < OBSERVATION_BATCH; i++) {
      queued.observeDuration('later', 'u', '2xx', i / 100);
      direct.duration.observe({ route: 'later', upstream: 'u', status_class: '2xx' }, i / 100);
    }
    expect(await text(queued)).to.equal(await text(direct));
    expect(await text(queued)).to.contain(
      'lgsp_request_duration_seconds_count{route="r1",upstream="u",status_class="2xx"}',
    );
    expect((await queued.duration.get()).values).to.deep.equal((await direct.duration.get()).values);
    // A value observe() refuses throws at once, as it did, and leaves the series as it was.
    expect(() => queued.observeDuration('r1', 'u', '2xx', Number.NaN)).to.throw(TypeError);
    expect(() => direct.duration.observe({ route: 'r1', upstream: 'u', status_class: '2xx' }, Number.NaN)).to.throw(
      TypeError,
    );
    expect(await text(queued)).to.equal(await text(direct));
  });

  it('adds process metrics to its own registry when asked', async () => {
    const m = createMetrics({ defaultMetrics: true });
    expect(await m.registry.metrics()).to.contain('lgsp_process_cpu_user_seconds_total');
  });

  it('the Grafana dashboard queries only metrics that exist', () => {
    const dashboard = readFileSync(new URL('../../../docs/grafana-dashboard.json', import.meta.url), 'utf8');
    const used = new Set(dashboard.match(/lgsp_[a-z_]+/g));
    expect(used.size).to.be.greaterThan(5);
    const known = (n: string) =>
      METRIC_NAMES.some((m) => n === m || n === `${m}_bucket` || n === `${m}_count` || n === `${m}_sum`);
    for (const name of used) expect(known(name), name).to.equal(true);
  });
});

describe('admin guard', () => {
  const admin = genKey();
  const consumerKey = genKey();
  const config = makeConfig({
    admin: { apiKeys: [{ sha256: admin.sha256 }], listen: { port: 9091, host: '127.0.0.1' } },
    consumers: { mcdt: { apiKeys: [{ sha256: consumerKey.sha256 }] } },
  });
  const status = (guard: (req: never) => void, headers: Record<string, string>) => {
    try {
      guard(fakeRequest(headers) as never);
      return 200;
    } catch (err) {
      expect(err).to.be.instanceOf(GatewayError);
      expect((err as GatewayError).headers['WWW-Authenticate']).to.contain('X-Admin-Key');
      return (err as GatewayError).status;
    }
  };

  it('on the main listener requires an admin key; a consumer key does not open it', () => {
    const guard = createAdminGuard(config, { env: {} });
    expect(status(guard, { 'X-Admin-Key': admin.key })).to.equal(200);
    expect(status(guard, {})).to.equal(401);
    expect(status(guard, { 'X-Admin-Key': consumerKey.key })).to.equal(401);
    expect(status(guard, { 'X-API-Key': admin.key })).to.equal(401);
  });

  it('with no admin key configured, the main listener refuses everyone', () => {
    const guard = createAdminGuard(makeConfig(), { env: {} });
    expect(status(guard, { 'X-Admin-Key': admin.key })).to.equal(401);
  });

  it('on a loopback admin listener needs no key, unless requireKey or a non-loopback host', () => {
    expect(status(createAdminGuard(config, { listener: 'admin', env: {} }), {})).to.equal(200);
    const strict = makeConfig({
      admin: { apiKeys: [{ sha256: admin.sha256 }], listen: { port: 1, host: '127.0.0.1', requireKey: true } },
    });
    expect(status(createAdminGuard(strict, { listener: 'admin', env: {} }), {})).to.equal(401);
    const exposed = makeConfig({
      admin: { apiKeys: [{ sha256: admin.sha256 }], listen: { port: 1, host: '0.0.0.0' } },
    });
    expect(status(createAdminGuard(exposed, { listener: 'admin', env: {} }), {})).to.equal(401);
    expect(status(createAdminGuard(exposed, { listener: 'admin', env: {} }), { 'X-Admin-Key': admin.key })).to.equal(
      200,
    );
  });
});

describe('config schema fragments', () => {
  // The consumer-side sections as the whole config schema composes them (src/config/config-schema.ts).
  const schema = Type.Object(
    {
      auth: AuthSchema,
      rateLimits: RateLimitsSchema,
      audit: AuditSchema,
      metrics: MetricsSchema,
      admin: AdminSchema,
      consumers: Type.Optional(StringMap(ConsumerSchema)),
      routes: Type.Optional(
        Type.Array(
          Type.Object(
            {
              id: Type.String(),
              rateLimit: Type.Optional(RouteRateLimitSchema),
              audit: Type.Optional(RouteAuditSchema),
            },
            { additionalProperties: false },
          ),
        ),
      ),
    },
    { additionalProperties: false },
  );
  const validate = new Ajv({ useDefaults: true, allErrors: true, strict: false }).compile(schema);

  it('fills defaults', () => {
    // eslint-disable-next-line @typescript-eslint/no-explicit-any -- ajv fills defaults into an untyped tree
    const config: Record<string, any> = {
      consumers: { mcdt: { apiKeys: [] } },
      routes: [{ id: 'r', rateLimit: { requests: 1, windowSeconds: 1 } }],
    };
    expect(validate(config), JSON.stringify(validate.errors)).to.equal(true);
    expect(config.auth.tokens).to.include({
      enabled: true,
      algorithm: 'ES256',
      ttlSeconds: 300,
      issuer: 'lgsp-gateway',
    });
    expect(config.rateLimits).to.include({ store: 'memory', onStoreError: 'deny' });
    expect(config.audit).to.include({ enabled: true, output: 'file', retentionDays: 365 });
    expect(config.audit.subjectFields).to.include('soDinhDanh');
    expect(config.metrics).to.include({ path: '/metrics', public: false });
    expect(config.routes[0].rateLimit.scope).to.equal('consumer');
  });

  it('accepts a full example', () => {
    const config = {
      auth: {
        trustedProxies: ['10.0.0.0/8'],
        tokens: {
          ttlSeconds: 600,
          signingKeys: [
            { kid: 'k1', privateKey: { file: '/k.pem' } },
            { kid: 'k0', publicKey: { env: 'OLD' } },
          ],
        },
      },
      rateLimits: {
        store: 'redis',
        redis: { url: { env: 'REDIS_URL' } },
        onStoreError: 'memory',
        defaultConsumer: { requests: 600, windowSeconds: 60 },
      },
      audit: { hmacKey: { env: 'AUDIT_HMAC_KEY' }, output: 'stdout' },
      admin: { apiKeys: [{ sha256: 'a'.repeat(64) }], listen: { port: 9091 } },
      consumers: {
        mcdt: {
          name: 'x',
          apiKeys: [{ sha256: 'b'.repeat(64), label: '2025-07' }, { env: 'MCDT_KEY' }],
          clientSecrets: [{ file: '/s' }],
          ipAllow: ['10.1.0.0/16'],
          mtlsSubject: 'mcdt',
          rateLimit: { requests: 10, windowSeconds: 1, burst: { requests: 50, windowSeconds: 60 } },
        },
      },
      routes: [{ id: 'r', rateLimit: { requests: 5, windowSeconds: 1, scope: 'route' }, audit: { keys: false } }],
    };
    expect(validate(config), JSON.stringify(validate.errors)).to.equal(true);
  });

  it('rejects unknown keys, HMAC algorithms, redis without url and keys with two sources', () => {
    const bad = [
      { auth: { tokens: { algorithm: 'HS256' } } },
      { auth: { tokens: { algorithm: 'none' } } },
      { auth: { tokens: { bogus: 1 } } },
      { rateLimits: { store: 'redis' } },
      { consumers: { a: { apiKeys: [{ sha256: 'a'.repeat(64), env: 'X' }] } } },
      { consumers: { a: { apiKeys: [{ sha256: 'xyz' }] } } },
      { consumers: { a: { apiKeys: [], rateLimit: { requests: 0, windowSeconds: 1 } } } },
      { audit: { output: 'syslog' } },
    ];
    for (const config of bad) expect(validate(config), JSON.stringify(config)).to.equal(false);
  });
});

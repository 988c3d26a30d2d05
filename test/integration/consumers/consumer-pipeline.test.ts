import { expect } from 'chai';
import { once } from 'node:events';
import type { Server } from 'node:http';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import express, { type NextFunction, type Request, type Response } from 'express';
import { createLocalJWKSet, jwtVerify } from 'jose';
import { authorize } from '../../../src/policy/authorize.ts';
import { createAdminGuard } from '../../../src/auth/admin-guard.ts';
import { createAuditTrail, hashSubject } from '../../../src/observability/audit.ts';
import { createAuthenticator } from '../../../src/auth/authenticator.ts';
import { createMetrics, statusClass } from '../../../src/observability/metrics.ts';
import { createRateLimiter } from '../../../src/policy/rate-limiter.ts';
import { createTokenIssuer } from '../../../src/auth/token-issuer.ts';
import { genKey } from '../../../src/auth/api-keys.ts';
import type { GatewayConfig, RouteConfig } from '../../../src/config/types.ts';
import { GatewayError } from '../../../src/errors/gateway-error.ts';
import { fakeClock, makeConfig, memoryLogger } from '../../unit/consumers/helpers.ts';

const ID12 = '001099012345';

/** Parsed JSON body of a response (test-only: shape asserted by the caller). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
async function body(res: globalThis.Response): Promise<any> {
  return res.json();
}

/** A small app wiring the consumer pieces the way the request pipeline will. */
async function startApp(config: GatewayConfig, env: Record<string, string>) {
  const clock = fakeClock(Date.now());
  const logger = memoryLogger();
  const metrics = createMetrics({ defaultMetrics: false });
  const issuer = await createTokenIssuer(config, { clock, logger, env, metrics });
  const auth = createAuthenticator(config, { clock, tokenIssuer: issuer, env, metrics });
  const limiter = createRateLimiter(config, { logger, metrics });
  const audit = createAuditTrail(config, { logger, env });
  const adminGuard = createAdminGuard(config, { env });

  const app = express();
  app.use(issuer.router());
  app.get('/metrics', async (req, res, next) => {
    try {
      adminGuard(req);
      res.type(metrics.registry.contentType).send(await metrics.registry.metrics());
    } catch (err) {
      next(err);
    }
  });
  for (const route of config.routes) {
    app.post(route.path, express.json(), async (req: Request, res: Response, next: NextFunction) => {
      const started = Date.now();
      let consumer: string | undefined;
      metrics.inFlight.inc({ route: route.id });
      res.on('finish', () => {
        metrics.inFlight.dec({ route: route.id });
        metrics.requests.inc({
          route: route.id,
          consumer: consumer ?? '',
          upstream: route.upstream,
          status_class: statusClass(res.statusCode),
        });
        audit.record({
          time: new Date().toISOString(),
          requestId: String(req.headers['x-request-id'] ?? 'none'),
          consumer,
          route: route.id,
          upstream: route.upstream,
          method: req.method,
          status: res.statusCode,
          durationMs: Date.now() - started,
          keys: audit.extractKeys(req.body, route),
        });
      });
      try {
        const identity = await auth.authenticate(req);
        consumer = identity.id;
        authorize(route, identity, req);
        res.set(await limiter.consume(identity.id, route.id));
        res.json({ error_code: 0, via: identity.via });
      } catch (err) {
        next(err);
      }
    });
  }
  app.use((err: unknown, _req: Request, res: Response, _next: NextFunction) => {
    const e = err instanceof GatewayError ? err : new GatewayError('GW_INTERNAL', { requestId: '-' });
    res.status(e.status).set(e.headers).json({ code: e.code, message: e.message });
  });

  const server: Server = app.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  return {
    base,
    issuer,
    audit,
    clock,
    async close() {
      server.close();
      await once(server, 'close');
      await limiter.close();
      await audit.close();
    },
  };
}

describe('consumer pipeline over HTTP', () => {
  const mcdtKey = genKey();
  const mcdtSecret = genKey();
  const farKey = genKey();
  const adminKey = genKey();
  const auditDir = mkdtempSync(join(tmpdir(), 'lgsp-int-audit-'));
  const routes = [
    {
      id: 'molisa-dongbo',
      methods: ['POST'],
      path: '/molisa/DongBoDVC',
      upstream: 'molisa',
      consumers: ['mcdt', 'far'],
    },
    { id: 'c06', methods: ['POST'], path: '/c06/xacthuc', upstream: 'ndxp', consumers: ['far'] },
    { id: 'closed', methods: ['POST'], path: '/closed', upstream: 'ndxp', consumers: [] },
  ] as unknown as RouteConfig[];
  const config = makeConfig({
    admin: { apiKeys: [{ sha256: adminKey.sha256 }] },
    consumers: {
      mcdt: {
        name: 'Hệ thống một cửa',
        apiKeys: [{ env: 'MCDT_KEY' }],
        clientSecrets: [{ sha256: mcdtSecret.sha256 }],
        rateLimit: { requests: 5, windowSeconds: 60 },
      },
      far: { apiKeys: [{ sha256: farKey.sha256 }], ipAllow: ['10.0.0.0/8'] },
    },
    routes,
    auth: {
      tokens: {
        enabled: true,
        issuer: 'lgsp-int',
        audience: 'lgsp-int',
        ttlSeconds: 300,
        algorithm: 'ES256',
        clockToleranceSeconds: 5,
      },
    },
    audit: { enabled: true, output: 'file', dir: auditDir, hmacKey: { env: 'AUDIT_KEY' } },
  });
  const env = { MCDT_KEY: mcdtKey.key, AUDIT_KEY: 'audit-key-'.repeat(4) };
  let app: Awaited<ReturnType<typeof startApp>>;
  before(async () => {
    app = await startApp(config, env);
  });
  after(async () => {
    await app?.close();
  });

  const call = (path: string, headers: Record<string, string>, body: unknown = [{ MaHoSo: 'H52-1', CMND: ID12 }]) =>
    fetch(app.base + path, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify(body),
    });

  const token = async (init: { headers?: Record<string, string>; form: Record<string, string> }) =>
    fetch(`${app.base}/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...init.headers },
      body: new URLSearchParams(init.form).toString(),
    });

  it('401 with WWW-Authenticate without credentials, 403 on a route not granted, 403 on a closed route', async () => {
    const none = await call('/molisa/DongBoDVC', {});
    expect(none.status).to.equal(401);
    expect(none.headers.get('www-authenticate')).to.contain('ApiKey header="X-API-Key"');
    expect((await call('/c06/xacthuc', { 'X-API-Key': mcdtKey.key })).status).to.equal(403);
    expect((await call('/closed', { 'X-API-Key': mcdtKey.key })).status).to.equal(403);
  });

  it('403 GW_IP_NOT_ALLOWED for a consumer outside its allow-list', async () => {
    const res = await call('/molisa/DongBoDVC', { 'X-API-Key': farKey.key });
    expect(res.status).to.equal(403);
    expect((await body(res)).code).to.equal('GW_IP_NOT_ALLOWED');
  });

  it('issues a token by HTTP Basic and by form, usable as Bearer and verifiable with the public JWKS', async () => {
    const basic = await token({
      headers: { authorization: `Basic ${Buffer.from(`mcdt:${mcdtSecret.key}`).toString('base64')}` },
      form: { grant_type: 'client_credentials' },
    });
    expect(basic.status).to.equal(200);
    expect(basic.headers.get('cache-control')).to.equal('no-store');
    const issued = await body(basic);
    expect(issued).to.include({ token_type: 'Bearer', expires_in: 300 });

    const form = await token({
      form: { grant_type: 'client_credentials', client_id: 'mcdt', client_secret: mcdtSecret.key },
    });
    expect(form.status).to.equal(200);

    const ok = await call('/molisa/DongBoDVC', { authorization: `Bearer ${issued.access_token}` });
    expect(ok.status).to.equal(200);
    expect((await body(ok)).via).to.equal('jwt');

    const jwks = await body(await fetch(`${app.base}/.well-known/jwks.json`));
    const { payload, protectedHeader } = await jwtVerify(issued.access_token, createLocalJWKSet(jwks), {
      issuer: 'lgsp-int',
      audience: 'lgsp-int',
    });
    expect(payload.sub).to.equal('mcdt');
    expect(protectedHeader.alg).to.equal('ES256');
    expect(protectedHeader.kid).to.be.a('string').and.equal(jwks.keys[0].kid);
  });

  it('refuses bad client credentials per RFC 6749 §5.2', async () => {
    const wrong = await token({ form: { grant_type: 'client_credentials', client_id: 'mcdt', client_secret: 'nope' } });
    expect(wrong.status).to.equal(401);
    expect(await body(wrong)).to.include({ error: 'invalid_client' });
    const noSecrets = await token({
      form: { grant_type: 'client_credentials', client_id: 'far', client_secret: farKey.key },
    });
    expect(noSecrets.status).to.equal(401);
    const grant = await token({ form: { grant_type: 'password', client_id: 'mcdt', client_secret: mcdtSecret.key } });
    expect(await body(grant)).to.include({ error: 'unsupported_grant_type' });
    const both = await token({
      headers: { authorization: `Basic ${Buffer.from(`mcdt:${mcdtSecret.key}`).toString('base64')}` },
      form: { grant_type: 'client_credentials', client_secret: mcdtSecret.key },
    });
    expect(both.status).to.equal(400);
    const bearer = await call('/molisa/DongBoDVC', { authorization: 'Bearer not.a.token' });
    expect(bearer.status).to.equal(401);
    expect(bearer.headers.get('www-authenticate')).to.contain('error="invalid_token"');
  });

  it('keeps tokens signed before a key rotation valid, and publishes both keys', async () => {
    const get = async () =>
      (
        await body(
          await token({ form: { grant_type: 'client_credentials', client_id: 'mcdt', client_secret: mcdtSecret.key } }),
        )
      ).access_token as string;
    const before = await get();
    await app.issuer.rotate();
    const after = await get();
    const jwks = await body(await fetch(`${app.base}/.well-known/jwks.json`));
    expect(jwks.keys).to.have.length(2);
    expect((await call('/molisa/DongBoDVC', { authorization: `Bearer ${before}` })).status).to.equal(200);
    expect((await call('/molisa/DongBoDVC', { authorization: `Bearer ${after}` })).status).to.equal(200);
  });

  it('sends RateLimit headers and answers 429 with Retry-After once the budget is spent', async () => {
    // Five requests per minute for mcdt; earlier tests spent some of them.
    let last: globalThis.Response | undefined;
    for (let i = 0; i < 6; i++) {
      last = await call('/molisa/DongBoDVC', { 'X-API-Key': mcdtKey.key });
      if (last.status === 429) break;
      expect(last.headers.get('ratelimit-limit')).to.equal('5');
      expect(last.headers.get('ratelimit-policy')).to.equal('5;w=60');
    }
    expect(last!.status).to.equal(429);
    expect(Number(last!.headers.get('retry-after'))).to.be.within(1, 60);
    expect(last!.headers.get('ratelimit-remaining')).to.equal('0');
    expect((await body(last!)).code).to.equal('GW_RATE_LIMITED');
  });

  it('serves /metrics only with the admin key, with every metric name', async () => {
    expect((await fetch(`${app.base}/metrics`)).status).to.equal(401);
    expect((await fetch(`${app.base}/metrics`, { headers: { 'X-API-Key': mcdtKey.key } })).status).to.equal(401);
    const res = await fetch(`${app.base}/metrics`, { headers: { 'X-Admin-Key': adminKey.key } });
    const text = await res.text();
    for (const name of [
      'lgsp_requests_total',
      'lgsp_request_duration_seconds',
      'lgsp_in_flight_requests',
      'lgsp_auth_failures_total',
      'lgsp_tokens_issued_total',
      'lgsp_rate_limited_total',
    ]) {
      expect(text).to.contain(`# TYPE ${name}`);
    }
    expect(text).to.match(
      /lgsp_requests_total\{route="molisa-dongbo",consumer="mcdt",upstream="molisa",status_class="2xx"\} \d+/,
    );
    expect(text).to.match(/lgsp_tokens_issued_total\{consumer="mcdt"\} [1-9]/);
    expect(text).to.match(/lgsp_auth_failures_total\{reason="missing"\} [1-9]/);
  });

  it('has written one audit line per exchange, with the hash and never the ID', async () => {
    await app.close();
    const files = readdirSync(auditDir).filter((f) => f.endsWith('.jsonl'));
    const text = files.map((f) => readFileSync(join(auditDir, f), 'utf8')).join('');
    expect(text).to.not.contain(ID12);
    const lines = text
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    const ok = lines.find((l) => l.status === 200 && l.consumer === 'mcdt');
    expect(ok).to.include({ route: 'molisa-dongbo', upstream: 'molisa', method: 'POST' });
    expect(ok.keys).to.deep.equal({ MaHoSo: 'H52-1', 'CMND#hmac': hashSubject(ID12, Buffer.from(env.AUDIT_KEY)) });
    expect(lines.filter((l) => l.status === 401).length).to.be.greaterThan(0);
    app = undefined as never;
  });
});

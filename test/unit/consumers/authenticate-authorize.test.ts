import { expect } from 'chai';
import { createAuthenticator } from '../../../src/auth/authenticator.ts';
import { authorize } from '../../../src/policy/authorize.ts';
import { genKey } from '../../../src/auth/api-keys.ts';
import type { ConsumerIdentity } from '../../../src/auth/identity.ts';
import type { TokenIssuer } from '../../../src/auth/token-issuer.ts';
import { GatewayError } from '../../../src/errors/gateway-error.ts';
import { ConfigPathError } from '../../../src/config/config-error.ts';
import { fakeClock, fakeRequest, makeConfig } from './helpers.ts';
import { rejection as rejectionOf } from '../../helpers/rejection.ts';

const rejection = (attempt: Promise<unknown> | (() => unknown)) => rejectionOf(GatewayError, attempt);

describe('authenticator', () => {
  const mcdt = genKey();
  const mcdtNew = genKey();
  const portal = genKey();
  const config = makeConfig({
    consumers: {
      mcdt: { name: 'Một cửa', apiKeys: [{ sha256: mcdt.sha256 }, { sha256: mcdtNew.sha256, label: 'rotation' }] },
      portal: { apiKeys: [{ sha256: portal.sha256 }], ipAllow: ['10.1.0.0/16', '2001:db8::/32'] },
      hotich: { apiKeys: [], mtlsSubject: 'hotich.tinh.gov.vn' },
    },
    auth: { trustedProxies: ['192.0.2.10'] },
  });
  const clock = fakeClock();
  const stubIssuer = {
    verify: async (jwt: string): Promise<ConsumerIdentity> => {
      if (jwt === 'good.token.sig') return { id: 'portal', via: 'jwt' };
      throw new Error('bad');
    },
  } as TokenIssuer;
  const auth = createAuthenticator(config, { clock, tokenIssuer: stubIssuer, env: {} });

  it('identifies a consumer by any of its keys (rotation)', async () => {
    expect(await auth.authenticate(fakeRequest({ 'X-API-Key': mcdt.key }))).to.include({ id: 'mcdt', via: 'api-key' });
    expect(await auth.authenticate(fakeRequest({ 'X-API-Key': mcdtNew.key }))).to.include({
      id: 'mcdt',
      name: 'Một cửa',
    });
    expect(await auth.authenticate(fakeRequest({ 'X-API-Key': portal.key }))).to.include({ id: 'portal' });
  });

  it('answers 401 with WWW-Authenticate for a missing, wrong or repeated key', async () => {
    for (const headers of [
      {},
      { 'X-API-Key': 'lgsp_wrong' },
      { 'X-API-Key': [mcdt.key, mcdt.key] },
      { 'X-API-Key': '' },
    ]) {
      const err = await rejection(auth.authenticate(fakeRequest(headers as Record<string, string | string[]>)));
      expect(err.code).to.equal('GW_UNAUTHENTICATED');
      expect(err.status).to.equal(401);
      expect(err.headers['WWW-Authenticate']).to.match(/^ApiKey header="X-API-Key", Bearer realm="lgsp-gateway"/);
      expect(err.message).to.not.contain(mcdt.key);
    }
  });

  it('identify settles an API key without a promise (a wrong one throws the same 401) and agrees with authenticate', async () => {
    const who = auth.identify!(fakeRequest({ 'X-API-Key': mcdt.key }));
    expect(who).to.not.be.instanceOf(Promise);
    expect(who).to.deep.equal(await auth.authenticate(fakeRequest({ 'X-API-Key': mcdt.key })));
    let thrown: unknown;
    try {
      auth.identify!(fakeRequest({ 'X-API-Key': 'lgsp_wrong' }));
    } catch (err) {
      thrown = err;
    }
    const rejected = await rejection(auth.authenticate(fakeRequest({ 'X-API-Key': 'lgsp_wrong' })));
    expect(thrown).to.be.instanceOf(GatewayError);
    expect((thrown as GatewayError).code).to.equal(rejected.code);
    expect((thrown as GatewayError).headers).to.deep.equal(rejected.headers);
    expect(auth.identify!(fakeRequest({ authorization: 'Bearer good.token.sig' }))).to.be.instanceOf(Promise);
  });

  it('does not fall back to another credential when the presented one is wrong', async () => {
    const err = await rejection(
      auth.authenticate(fakeRequest({ 'X-API-Key': 'nope', authorization: 'Bearer good.token.sig' })),
    );
    expect(err.code).to.equal('GW_UNAUTHENTICATED');
  });

  it('accepts a Bearer token through the issuer and rejects a bad one with error="invalid_token"', async () => {
    expect(await auth.authenticate(fakeRequest({ authorization: 'Bearer good.token.sig' }))).to.include({
      id: 'portal',
      via: 'jwt',
    });
    const err = await rejection(auth.authenticate(fakeRequest({ authorization: 'Bearer bad.token.sig' })));
    expect(err.headers['WWW-Authenticate']).to.contain('error="invalid_token"');
    const basic = await rejection(auth.authenticate(fakeRequest({ authorization: 'Basic YTpi' })));
    expect(basic.headers['WWW-Authenticate']).to.contain('error="invalid_request"');
  });

  it('identifies by a verified client certificate, never by an unverified one', async () => {
    const ok = await auth.authenticate(fakeRequest({}, { authorized: true, cn: 'hotich.tinh.gov.vn' }));
    expect(ok).to.include({ id: 'hotich', via: 'mtls' });
    await rejection(auth.authenticate(fakeRequest({}, { authorized: false, cn: 'hotich.tinh.gov.vn' })));
    await rejection(auth.authenticate(fakeRequest({}, { authorized: true, cn: 'other' })));
  });

  it('refuses two consumers with the same certificate subject', () => {
    const bad = makeConfig({
      consumers: { a: { apiKeys: [], mtlsSubject: 'x' }, b: { apiKeys: [], mtlsSubject: 'x' } },
    });
    expect(() => createAuthenticator(bad, { clock, env: {} })).to.throw(ConfigPathError);
  });

  describe('authorize', () => {
    const route = { id: 'molisa-sync', consumers: ['mcdt', 'portal', 'hotich'] };

    it('lets a listed consumer through', async () => {
      const id = await auth.authenticate(fakeRequest({ 'X-API-Key': mcdt.key }));
      expect(() => authorize(route, id, fakeRequest())).to.not.throw();
    });

    it('answers 403 for a consumer not listed, and for a route with no list (fail closed)', async () => {
      const req = fakeRequest({ 'X-API-Key': mcdt.key });
      const id = await auth.authenticate(req);
      const err = await rejection(() => authorize({ id: 'c06', consumers: ['portal'] }, id, req));
      expect(err).to.include({ code: 'GW_FORBIDDEN', status: 403 });
      expect((await rejection(() => authorize({ id: 'open', consumers: [] }, id, req))).status).to.equal(403);
      expect((await rejection(() => authorize({ id: 'open' } as never, id, req))).status).to.equal(403);
    });

    it('applies the IP allow-list (IPv4, IPv4-mapped IPv6, IPv6)', async () => {
      for (const [address, allowed] of [
        ['10.1.2.3', true],
        ['::ffff:10.1.200.1', true],
        ['2001:db8::5', true],
        ['10.2.0.1', false],
        ['::ffff:10.2.0.1', false],
        ['2001:db9::1', false],
      ] as const) {
        const req = fakeRequest({ 'X-API-Key': portal.key }, { remoteAddress: address });
        const id = await auth.authenticate(req);
        if (allowed) expect(() => authorize(route, id, req), address).to.not.throw();
        else {
          const err = await rejection(() => authorize(route, id, req));
          expect(err.code, address).to.equal('GW_IP_NOT_ALLOWED');
          expect(err.status).to.equal(403);
        }
      }
    });

    it('reads X-Forwarded-For only from a trusted proxy, from the right', async () => {
      const viaProxy = fakeRequest(
        { 'X-API-Key': portal.key, 'X-Forwarded-For': '10.9.9.9, 10.1.0.7' },
        { remoteAddress: '192.0.2.10' },
      );
      const id = await auth.authenticate(viaProxy);
      expect(id.clientIp).to.equal('10.1.0.7');
      expect(() => authorize(route, id, viaProxy)).to.not.throw();

      // A forged header from the left does not help, and an untrusted peer's header is ignored.
      const forged = fakeRequest(
        { 'X-API-Key': portal.key, 'X-Forwarded-For': '10.1.0.7, 172.16.0.1' },
        { remoteAddress: '192.0.2.10' },
      );
      expect((await auth.authenticate(forged)).clientIp).to.equal('172.16.0.1');
      const direct = fakeRequest(
        { 'X-API-Key': portal.key, 'X-Forwarded-For': '10.1.0.7' },
        { remoteAddress: '172.16.0.1' },
      );
      const directId = await auth.authenticate(direct);
      expect(directId.clientIp).to.equal('172.16.0.1');
      expect((await rejection(() => authorize(route, directId, direct))).code).to.equal('GW_IP_NOT_ALLOWED');
    });

    it('requires the configured client certificate even when a key authenticated the call', async () => {
      const key = genKey();
      const cfg = makeConfig({ consumers: { hotich: { apiKeys: [{ sha256: key.sha256 }], mtlsSubject: 'hotich' } } });
      const a = createAuthenticator(cfg, { clock, env: {} });
      const plain = fakeRequest({ 'X-API-Key': key.key });
      const plainId = await a.authenticate(plain);
      const err = await rejection(() => authorize({ id: 'r', consumers: ['hotich'] }, plainId, plain));
      expect(err).to.include({ code: 'GW_CLIENT_CERT_MISMATCH', status: 403 });
      const wrongCert = fakeRequest({ 'X-API-Key': key.key }, { authorized: true, cn: 'someone-else' });
      expect(
        (await rejection(() => authorize({ id: 'r', consumers: ['hotich'] }, plainId, wrongCert))).status,
      ).to.equal(403);
      const tls = fakeRequest({ 'X-API-Key': key.key }, { authorized: true, cn: 'hotich' });
      expect(() => authorize({ id: 'r', consumers: ['hotich'] }, plainId, tls)).to.not.throw();
    });
  });
});

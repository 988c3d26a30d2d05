import { expect } from 'chai';
import nock from 'nock';
import { ConfigPathError } from '../../../src/config/config-error.ts';
import { GatewayError } from '../../../src/errors/gateway-error.ts';
import { buildChain, call, onlyNock } from './helpers.ts';
import { rejection, thrown } from '../../helpers/rejection.ts';

// Seed 004: MOLISA reached "qua nền tảng VDXP": the province's VDXP token on every call, MOLISA's AccessKey
// from its GetToken, which is itself a service on VDXP and needs the platform token too.
const vdxp = {
  type: 'oauth2-client-credentials',
  tokenUrl: 'http://vdxp.test/token',
  consumerKey: 'province-vdxp-key',
  consumerSecret: 'province-vdxp-secret',
};
const molisa = (options: Record<string, unknown> = {}) => ({
  type: 'login-token',
  tokenUrl: 'http://vdxp.test/molisa/api/v1/Service/GetToken',
  secrets: { username: 'molisa-user', password: 'molisa-pass' },
  success: { path: 'error_code', in: [0, '0'] },
  inject: { header: 'AccessKey' },
  withEarlierCredentials: true,
  ...options,
});

describe('credentials: a platform token chained before a login (MOLISA through VDXP)', () => {
  onlyNock();

  it("GetToken carries the platform's Bearer token; the service call carries both", async () => {
    const platform = nock('http://vdxp.test')
      .post('/token')
      .reply(200, { access_token: 'vdxp-tok', token_type: 'Bearer', expires_in: 3600 });
    const login = nock('http://vdxp.test')
      .post('/molisa/api/v1/Service/GetToken', { username: 'molisa-user', password: 'molisa-pass' })
      .matchHeader('authorization', 'Bearer vdxp-tok')
      .reply(200, { error_code: 0, token: 'molisa-tok' });
    const { chain } = buildChain([vdxp, molisa()]);
    const c = call();
    await chain.apply(c);
    expect(c.headers).to.include({ authorization: 'Bearer vdxp-tok', accesskey: 'molisa-tok' });
    expect(platform.isDone() && login.isDone()).to.equal(true);
  });

  it('without withEarlierCredentials the login goes without the platform token (and the platform refuses it)', async () => {
    nock('http://vdxp.test').post('/token').reply(200, { access_token: 'vdxp-tok', expires_in: 3600 });
    // The platform answers 401 to a call that carries no token of its own.
    const refused = nock('http://vdxp.test', { badheaders: ['authorization'] })
      .post('/molisa/api/v1/Service/GetToken')
      .reply(401, { message: 'no token' });
    const { chain } = buildChain([vdxp, molisa({ withEarlierCredentials: false })]);
    const err = await rejection(GatewayError, chain.apply(call()));
    expect(err.code).to.equal('GW_TOKEN_ENDPOINT_FAILED');
    expect(refused.isDone()).to.equal(true);
  });

  it('a platform that refuses its token on the way to the login makes the next try fetch a new one', async () => {
    const { chain, clock } = buildChain([vdxp, molisa({ lifetimeSeconds: 60 })]);
    nock('http://vdxp.test').post('/token').reply(200, { access_token: 'stale', expires_in: 3600 });
    nock('http://vdxp.test').post('/molisa/api/v1/Service/GetToken').reply(200, { error_code: 0, token: 'm1' });
    await chain.apply(call());
    clock.advance(61_000); // the AccessKey expired; the platform has revoked its token meanwhile
    nock('http://vdxp.test').post('/molisa/api/v1/Service/GetToken').reply(401, { message: 'invalid_token' });
    expect((await rejection(GatewayError, chain.apply(call()))).code).to.equal('GW_TOKEN_ENDPOINT_FAILED');
    clock.advance(5_000); // past the back-off between token calls
    nock('http://vdxp.test').post('/token').reply(200, { access_token: 'fresh', expires_in: 3600 });
    nock('http://vdxp.test')
      .post('/molisa/api/v1/Service/GetToken')
      .matchHeader('authorization', 'Bearer fresh')
      .reply(200, { error_code: 0, token: 'molisa-tok' });
    const c = call();
    await chain.apply(c);
    expect(c.headers).to.include({ authorization: 'Bearer fresh', accesskey: 'molisa-tok' });
  });

  it('withEarlierCredentials on the first entry is a config error at its path', () => {
    const err = thrown(ConfigPathError, () => buildChain([molisa()]));
    expect(err.path).to.deep.equal(['upstreams', 'molisa', 'credentials', 0, 'withEarlierCredentials']);
  });

  it('a config error too when an earlier entry writes into the body (a token call carries headers only)', () => {
    const intoBody = { ...molisa({ withEarlierCredentials: false }), inject: { jsonField: 'AcceptKey' } };
    const err = thrown(ConfigPathError, () => buildChain([intoBody, molisa()]));
    expect(err.path).to.deep.equal(['upstreams', 'molisa', 'credentials', 1, 'withEarlierCredentials']);
    expect(err.message).to.contain('carries only headers');
  });
});

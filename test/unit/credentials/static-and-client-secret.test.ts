import { expect } from 'chai';
import { GatewayError } from '../../../src/errors/gateway-error.ts';
import { buildChain, call } from './helpers.ts';

describe('credentials: static', () => {
  it('builds API-key, base64 JSON lgspaccesstoken and Basic headers from secrets', async () => {
    const { chain } = buildChain(
      [
        {
          type: 'static',
          secrets: {
            accessKey: { env: 'LGSP_ACCESS_KEY' },
            secretKey: 'sk-inline-value',
            user: 'svc',
            pass: 'pw-basic',
          },
          headers: { 'X-API-Key': '{{accessKey}}', 'X-App': 'motcua' },
          base64Json: {
            lgspaccesstoken: {
              AccessKey: '{{accessKey}}',
              SecretKey: '{{secretKey}}',
              AppName: 'motcua',
              PartnerCode: '000.00.00.H52',
              PartnerCodeCus: '000.00.00.H52',
            },
          },
          basic: { username: '{{user}}', password: '{{pass}}', header: 'Proxy-Authorization' },
        },
      ],
      { env: { LGSP_ACCESS_KEY: 'ak-from-env' } },
    );
    const c = call({ headers: { 'X-Api-Key': 'caller key' } });
    await chain.apply(c);
    expect(c.headers['x-api-key']).to.equal('ak-from-env');
    expect(c.headers['X-Api-Key']).to.equal(undefined);
    expect(c.headers['x-app']).to.equal('motcua');
    expect(JSON.parse(Buffer.from(String(c.headers.lgspaccesstoken), 'base64').toString('utf8'))).to.deep.equal({
      AccessKey: 'ak-from-env',
      SecretKey: 'sk-inline-value',
      AppName: 'motcua',
      PartnerCode: '000.00.00.H52',
      PartnerCodeCus: '000.00.00.H52',
    });
    expect(c.headers['proxy-authorization']).to.equal(`Basic ${Buffer.from('svc:pw-basic').toString('base64')}`);
    expect(chain.isTokenRejected(401, undefined)).to.equal(false);
    const described = JSON.stringify(chain.describe());
    for (const secret of ['ak-from-env', 'sk-inline-value', 'pw-basic']) expect(described).to.not.contain(secret);
    expect(chain.describe().secrets['0.static.secretKey']).to.equal('set');
  });

  it('rejects a placeholder that names no secret, at its option path', () => {
    expect(() => buildChain([{ type: 'static', secrets: { a: 'x' }, headers: { 'X-Key': '{{b}}' } }]))
      .to.throw('{{b}} names no secret of this strategy (known: a)')
      .with.property('path')
      .that.deep.equals(['upstreams', 'molisa', 'credentials', 0, 'headers', 'X-Key']);
  });

  it('rejects a static strategy with nothing to send', () => {
    expect(() => buildChain([{ type: 'static', secrets: { a: 'x' } }])).to.throw(/at least one of headers/);
  });
});

describe('credentials: client-secret', () => {
  it('adds client_id/client_secret to the VNeID token form, overwriting what the app sent', async () => {
    const { chain } = buildChain(
      [{ type: 'client-secret', clientId: { env: 'VNEID_CLIENT_ID' }, clientSecret: { env: 'VNEID_CLIENT_SECRET' } }],
      { env: { VNEID_CLIENT_ID: 'so-ldtbxh-52', VNEID_CLIENT_SECRET: 'c06-private-secret' } },
    );
    expect(chain.bodyNeed).to.equal('form');
    const form = new URLSearchParams({
      grant_type: 'authorization_code',
      code: 'abc',
      client_secret: 'guess',
      client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
      client_assertion: 'other-client-jwt',
    });
    const c = call({
      headers: { 'content-type': 'application/x-www-form-urlencoded', Authorization: 'Basic b3RoZXI6Y2xpZW50' },
      form,
    });
    await chain.apply(c);
    // One client authentication per request (RFC 6749 §2.3), and it is the gateway's.
    expect(c.headers).to.not.have.property('Authorization');
    expect(Object.fromEntries(form)).to.deep.equal({
      grant_type: 'authorization_code',
      code: 'abc',
      client_secret: 'c06-private-secret',
      client_id: 'so-ldtbxh-52',
    });
    expect(JSON.stringify(chain.describe())).to.not.contain('c06-private-secret');
  });

  it('fails the request when there is no form body to carry the secret', async () => {
    const { chain } = buildChain([{ type: 'client-secret', clientId: 'id', clientSecret: 'secret' }]);
    try {
      await chain.apply(call());
      expect.fail('apply should throw');
    } catch (err) {
      expect(err).to.be.instanceOf(GatewayError);
      expect((err as GatewayError).code).to.equal('GW_BAD_REQUEST');
    }
  });

  it('clientAuth: basic sends RFC 6749 Basic credentials, still reading the form to check the grant', async () => {
    const { chain } = buildChain([
      { type: 'client-secret', clientId: 'app:1', clientSecret: 's/p', clientAuth: 'basic' },
    ]);
    // The grant type is in the form: it is read in every mode (issue 13.4).
    expect(chain.bodyNeed).to.equal('form');
    const form = new URLSearchParams({ grant_type: 'refresh_token', refresh_token: 'r', client_secret: 'guess' });
    const c = call({ form });
    await chain.apply(c);
    expect(c.headers.authorization).to.equal(`Basic ${Buffer.from('app%3A1:s%2Fp').toString('base64')}`);
    expect(form.has('client_secret')).to.equal(false);
  });
});

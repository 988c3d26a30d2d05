import { expect } from 'chai';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import nock from 'nock';
import { ConfigPathError } from '../../../src/config/config-error.ts';
import { credentialStrategies } from '../../../src/credentials/index.ts';
import { buildChain, call, onlyNock } from './helpers.ts';
import { thrown } from '../../helpers/rejection.ts';

const P = ['upstreams', 'molisa', 'credentials'];

const configError = (fn: () => unknown) => thrown(ConfigPathError, fn);

describe('credentials: chain and registry', () => {
  onlyNock();

  it('registers the four strategies, each a {schema, create} pair', () => {
    expect(Object.keys(credentialStrategies).sort()).to.deep.equal([
      'client-secret',
      'login-token',
      'oauth2-client-credentials',
      'static',
    ]);
    for (const plugin of Object.values(credentialStrategies)) {
      expect(plugin.schema).to.have.property('additionalProperties', false);
      expect(plugin.create).to.be.a('function');
    }
  });

  it('an empty list is a no-op chain', async () => {
    const { chain } = buildChain([]);
    const c = call({ headers: { authorization: 'Bearer caller' } });
    await chain.apply(c);
    expect(c.headers).to.deep.equal({ authorization: 'Bearer caller' });
    expect(chain.bodyNeed).to.equal(undefined);
    expect(chain.isTokenRejected(401, undefined)).to.equal(false);
    expect(chain.describe()).to.deep.equal({ strategy: 'none', secrets: {} });
  });

  it('unknown type: error at .type listing the known types', () => {
    const err = configError(() => buildChain([{ type: 'static', headers: { a: 'b' } }, { type: 'kerberos' }]));
    expect(err.path).to.deep.equal([...P, 1, 'type']);
    expect(err.message).to.contain('unknown credential strategy "kerberos"');
    expect(err.message).to.contain('oauth2-client-credentials, login-token, static, client-secret');
  });

  it('schema violations point at the exact option path', () => {
    const base = { type: 'oauth2-client-credentials', tokenUrl: 'https://t/x', consumerKey: 'k', consumerSecret: 's' };
    let err = configError(() => buildChain([{ ...base, clientAuth: 'header' }]));
    expect(err.path).to.deep.equal([...P, 0, 'clientAuth']);
    expect(err.rule).to.equal('enum');
    err = configError(() => buildChain([{ ...base, consumerSecret: undefined }]));
    expect(err.path).to.deep.equal([...P, 0, 'consumerSecret']);
    expect(err.rule).to.equal('required');
    err = configError(() => buildChain([{ ...base, tokenURL: 'typo' }]));
    expect(err.path).to.deep.equal([...P, 0, 'tokenURL']);
    expect(err.rule).to.equal('additionalProperties');
    err = configError(() => buildChain([{ ...base, consumerKey: { env: 5 } }]));
    expect(err.path).to.deep.equal([...P, 0, 'consumerKey', 'env']);
    err = configError(() =>
      buildChain([{ ...base, tokenRejected: { when: [{ path: 'error_code', notIn: [0] }, { messageMatches: 'x' }] } }]),
    );
    expect(err.path).to.deep.equal([...P, 0, 'tokenRejected', 'when', 1]);
    err = configError(() =>
      buildChain([{ ...base, tokenRejected: { when: [{ messagePath: 'm', messageMatches: '(' }] } }]),
    );
    expect(err.path).to.deep.equal([...P, 0, 'tokenRejected', 'when', 0, 'messageMatches']);
  });

  it('a missing secret names itself, its env var and its path', () => {
    const err = configError(() =>
      buildChain(
        [
          {
            type: 'oauth2-client-credentials',
            tokenUrl: 'https://t/x',
            consumerKey: { env: 'UPSTREAM_NDXP_CONSUMER_KEY' },
            consumerSecret: { env: 'UPSTREAM_NDXP_CONSUMER_SECRET' },
          },
        ],
        { env: { UPSTREAM_NDXP_CONSUMER_KEY: 'k' } },
      ),
    );
    expect(err.rule).to.equal('secret');
    expect(err.path).to.deep.equal([...P, 0, 'consumerSecret']);
    expect(err.message).to.equal(
      'secret consumerSecret is not set (env UPSTREAM_NDXP_CONSUMER_SECRET / file named by UPSTREAM_NDXP_CONSUMER_SECRET_FILE)',
    );
    const empty = configError(() => buildChain([{ type: 'client-secret', clientId: 'id', clientSecret: '' }]));
    expect(empty.message).to.contain('secret clientSecret is not set');
  });

  it('reads secrets from files: { file } and VAR_FILE, without the trailing newline', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'creds-'));
    writeFileSync(join(dir, 'user'), 'file-user\n');
    writeFileSync(join(dir, 'pass'), 'file-pass\r\n');
    nock('http://molisa.test')
      .post('/GetToken', { username: 'file-user', password: 'file-pass' })
      .reply(200, { error_code: 0, token: 't' });
    const { chain } = buildChain(
      [
        {
          type: 'login-token',
          tokenUrl: 'http://molisa.test/GetToken',
          secrets: { username: { file: join(dir, 'user') }, password: { env: 'MOLISA_PASSWORD' } },
          inject: { header: 'AccessKey' },
        },
      ],
      { env: { MOLISA_PASSWORD_FILE: join(dir, 'pass') } },
    );
    const c = call();
    await chain.apply(c);
    expect(c.headers.accesskey).to.equal('t');
    const missing = configError(() =>
      buildChain([{ type: 'static', secrets: { k: { file: join(dir, 'nope') } }, headers: { k: '{{k}}' } }]),
    );
    expect(missing.path).to.deep.equal([...P, 0, 'secrets', 'k']);
    expect(missing.message).to.match(/secret k is not set \(file .*nope: ENOENT\)/);
  });

  it('composes in order: platform token then provincial access header; any member signals rejection', async () => {
    nock('https://ndxp.test').post('/token').reply(200, { access_token: 'platform', expires_in: 3600 });
    const { chain } = buildChain([
      { type: 'oauth2-client-credentials', tokenUrl: 'https://ndxp.test/token', consumerKey: 'k', consumerSecret: 's' },
      { type: 'static', secrets: { ak: 'prov-access' }, headers: { 'X-Province-Key': '{{ak}}' } },
    ]);
    const c = call();
    await chain.apply(c);
    expect(c.headers.authorization).to.equal('Bearer platform');
    expect(c.headers['x-province-key']).to.equal('prov-access');
    expect(chain.strategies).to.have.length(2);
    expect(chain.isTokenRejected(401, {})).to.equal(true);
    const status = chain.describe();
    expect(status.strategy).to.equal('oauth2-client-credentials+static');
    expect(status.validUntil).to.be.a('string');
    expect(Object.keys(status.secrets)).to.include('1.static.ak');
  });

  it('refuses a chain needing both a JSON and a form body', () => {
    const err = configError(() =>
      buildChain([
        {
          type: 'login-token',
          tokenUrl: 'http://m/t',
          secrets: { username: 'u', password: 'p' },
          inject: { jsonField: 'AcceptKey' },
        },
        { type: 'client-secret', clientId: 'i', clientSecret: 's' },
      ]),
    );
    expect(err.rule).to.equal('bodyNeed');
  });
});

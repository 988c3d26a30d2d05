import { expect } from 'chai';
import nock from 'nock';
import { GatewayError } from '../../../src/errors/gateway-error.ts';
import { buildChain, call, onlyNock } from './helpers.ts';
import { rejection } from '../../helpers/rejection.ts';

const USER = 'molisa-province-52';
const PASS = 'Pa55-molisa-word';

// MOLISA GetToken, seed 004 Appendix 1 §1: {username, password} -> {error_code, message, token}; token in AccessKey.
const molisa = (options: Record<string, unknown> = {}) => ({
  type: 'login-token',
  tokenUrl: 'http://molisa.test/api/v1/Service/GetToken',
  secrets: { username: USER, password: PASS },
  success: { path: 'error_code', in: [0, '0'] },
  inject: { header: 'AccessKey' },
  tokenRejected: { when: [{ path: 'error_code', notIn: [0, '0'], messagePath: 'message', messageMatches: 'token' }] },
  ...options,
});

const failure = (p: Promise<unknown>) => rejection(GatewayError, p);

describe('credentials: login-token', () => {
  onlyNock();

  it('MOLISA: posts {username, password} as JSON and injects AccessKey: <token>', async () => {
    const scope = nock('http://molisa.test')
      .post('/api/v1/Service/GetToken', { username: USER, password: PASS })
      .matchHeader('content-type', 'application/json')
      .reply(200, { error_code: 0, message: 'Thành công', token: 'molisa-tok' });
    const { chain } = buildChain([molisa()]);
    const c = call({ headers: { accesskey: 'whatever the legacy client sent' } });
    await chain.apply(c);
    expect(c.headers.accesskey).to.equal('molisa-tok');
    expect(scope.isDone()).to.equal(true);
  });

  it('accepts error_code "0" as a string (domain.md §4)', async () => {
    nock('http://molisa.test').post('/api/v1/Service/GetToken').reply(200, { error_code: '0', token: 'str-zero' });
    const { chain } = buildChain([molisa()]);
    const c = call();
    await chain.apply(c);
    expect(c.headers.accesskey).to.equal('str-zero');
  });

  it('fails with the upstream message when error_code is not 0, without leaking the password', async () => {
    nock('http://molisa.test')
      .post('/api/v1/Service/GetToken')
      .reply(200, { error_code: 1, message: `Sai mật khẩu ${PASS} cho tài khoản` });
    const { chain } = buildChain([molisa()]);
    const err = await failure(chain.apply(call()));
    expect(err.code).to.equal('GW_TOKEN_ENDPOINT_FAILED');
    expect(err.params.reason).to.equal('error_code 1: Sai mật khẩu [REDACTED] cho tài khoản');
    expect(err.message).to.not.contain(PASS);
  });

  it('fails when the success field is missing, when the token is missing, on HTTP 500 and on HTML', async () => {
    const { chain, clock } = buildChain([molisa()]);
    nock('http://molisa.test').post('/api/v1/Service/GetToken').reply(200, { token: 'x' });
    expect((await failure(chain.apply(call()))).params.reason).to.equal('error_code missing');
    clock.advance(1000);
    nock('http://molisa.test').post('/api/v1/Service/GetToken').reply(200, { error_code: 0, message: 'ok' });
    expect((await failure(chain.apply(call()))).params.reason).to.equal('answer has no token at token');
    clock.advance(1000);
    nock('http://molisa.test')
      .post('/api/v1/Service/GetToken')
      .reply(500, { error_code: 500, message: 'Lỗi hệ thống' });
    expect((await failure(chain.apply(call()))).params.reason).to.equal('HTTP 500: Lỗi hệ thống');
    clock.advance(1000);
    nock('http://molisa.test')
      .post('/api/v1/Service/GetToken')
      .reply(200, '<!DOCTYPE html><html><body>IIS error</body></html>', { 'content-type': 'text/html; charset=utf-8' });
    expect((await failure(chain.apply(call()))).params.reason).to.equal(
      'HTTP 200 answered non-JSON (text/html): IIS error',
    );
  });

  it('reads the token and lifetime from configured dot paths; status == "1" success (civil status)', async () => {
    let issued = 0;
    nock('https://hotich.test')
      .post('/api/auth/token', { tenDangNhap: 'hotich-user', matKhau: 'hotich-pass', maTinh: '52' })
      .times(2)
      .reply(200, () => ({ status: '1', value: { accessToken: `ht-${++issued}`, expiresIn: '600' } }));
    const { chain, clock } = buildChain(
      [
        {
          type: 'login-token',
          tokenUrl: 'https://hotich.test/api/auth/token',
          secrets: { user: { env: 'HT_USER' }, pass: { env: 'HT_PASS' } },
          body: { tenDangNhap: '{{user}}', matKhau: '{{pass}}', maTinh: '52' },
          success: { path: 'status', in: ['1'] },
          messagePath: 'statusDescription',
          tokenPath: 'value.accessToken',
          lifetimePath: 'value.expiresIn',
          refreshSkewSeconds: 30,
        },
      ],
      { env: { HT_USER: 'hotich-user', HT_PASS: 'hotich-pass' } },
    );
    const c = call();
    await chain.apply(c);
    expect(c.headers.authorization).to.equal('Bearer ht-1');
    clock.advance(569_000);
    await chain.apply(c);
    expect(c.headers.authorization).to.equal('Bearer ht-1');
    clock.advance(2000);
    await chain.apply(c);
    expect(c.headers.authorization).to.equal('Bearer ht-2');
  });

  it('uses lifetimeSeconds when the answer carries no lifetime, and sends extra templated headers', async () => {
    let issued = 0;
    nock('http://molisa.test')
      .post('/api/v1/Service/GetToken')
      .matchHeader('x-app-key', 'app-key-from-secret')
      .times(2)
      .reply(200, () => ({ error_code: 0, token: `t-${++issued}` }));
    const { chain, clock } = buildChain([
      molisa({
        secrets: { username: USER, password: PASS, appKey: 'app-key-from-secret' },
        headers: { 'X-App-Key': '{{appKey}}' },
        lifetimeSeconds: 120,
        refreshSkewSeconds: 0,
      }),
    ]);
    await chain.apply(call());
    clock.advance(119_999);
    await chain.apply(call());
    expect(issued).to.equal(1);
    clock.advance(1);
    await chain.apply(call());
    expect(issued).to.equal(2);
  });

  it('signals a MOLISA "token expired" 200 answer as rejected, but not a business error', () => {
    const { chain } = buildChain([molisa()]);
    expect(chain.isTokenRejected(200, { error_code: 401, message: 'Token không hợp lệ hoặc đã hết hạn' })).to.equal(
      true,
    );
    expect(chain.isTokenRejected(200, JSON.stringify({ error_code: '1', message: 'TOKEN het han' }))).to.equal(true);
    expect(chain.isTokenRejected(200, Buffer.from('{"error_code":2,"message":"Token expired"}'))).to.equal(true);
    expect(chain.isTokenRejected(200, { error_code: 0, message: 'Thành công, token ok' })).to.equal(false);
    expect(chain.isTokenRejected(200, { error_code: 5, message: 'Thiếu trường MaHoSo' })).to.equal(false);
    expect(chain.isTokenRejected(200, 'not json')).to.equal(false);
    expect(chain.isTokenRejected(401, undefined)).to.equal(true);
  });

  it('makes exactly one GetToken call for 500 concurrent first requests', async () => {
    let requests = 0;
    nock('http://molisa.test')
      .post('/api/v1/Service/GetToken')
      .times(500)
      .reply(200, () => {
        requests++;
        return { error_code: 0, token: 'one' };
      });
    const { chain } = buildChain([molisa()]);
    const calls = Array.from({ length: 500 }, () => call());
    await Promise.all(calls.map((c) => chain.apply(c)));
    expect(requests).to.equal(1);
    expect(new Set(calls.map((c) => c.headers.accesskey))).to.deep.equal(new Set(['one']));
  });

  it('fails after timeoutMs on a slow GetToken, then backs off for minRetryIntervalMs', async () => {
    const slow = nock('http://molisa.test')
      .post('/api/v1/Service/GetToken')
      .delay(300)
      .reply(200, { error_code: 0, token: 'late' });
    const { chain, clock } = buildChain([molisa({ timeoutMs: 15, minRetryIntervalMs: 5000 })]);
    expect((await failure(chain.apply(call()))).params.reason).to.equal('no answer within 15 ms');
    expect(slow.isDone()).to.equal(true);
    const fresh = nock('http://molisa.test')
      .post('/api/v1/Service/GetToken')
      .reply(200, { error_code: 0, token: 'now' });
    clock.advance(4999);
    expect((await failure(chain.apply(call()))).params.reason).to.equal('no answer within 15 ms');
    expect(fresh.isDone()).to.equal(false);
    clock.advance(1);
    const c = call();
    await chain.apply(c);
    expect(c.headers.accesskey).to.equal('now');
  });

  it('AcceptKey in the JSON body: declares bodyNeed json, sets the field on an object or every record', async () => {
    nock('http://molisa.test').post('/api/v1/Service/GetToken').reply(200, { error_code: 0, token: 'in-body' });
    const { chain } = buildChain([molisa({ inject: { jsonField: 'AcceptKey' } })]);
    expect(chain.bodyNeed).to.equal('json');
    expect(chain.strategies[0].bodyNeed).to.equal('json');
    const single = call({ json: { MaHoSo: 'H1', AcceptKey: 'client value' } });
    await chain.apply(single);
    expect(single.json).to.deep.equal({ MaHoSo: 'H1', AcceptKey: 'in-body' });
    expect(single.headers.accesskey).to.equal(undefined);
    const records = call({ json: [{ MaHoSo: 'H1' }, { MaHoSo: 'H2' }] });
    await chain.apply(records);
    expect(records.json).to.deep.equal([
      { MaHoSo: 'H1', AcceptKey: 'in-body' },
      { MaHoSo: 'H2', AcceptKey: 'in-body' },
    ]);
    const err = await failure(chain.apply(call({ json: 'a string' })));
    expect(err.code).to.equal('GW_BAD_REQUEST');
  });

  it('describe() reports secrets as set and the last error, never values', async () => {
    nock('http://molisa.test')
      .post('/api/v1/Service/GetToken')
      .reply(200, { error_code: 3, message: `bad ${USER}/${PASS}` });
    const { chain, log } = buildChain([molisa()]);
    await failure(chain.apply(call()));
    const status = chain.describe();
    expect(status.strategy).to.equal('login-token');
    expect(status.secrets).to.deep.equal({ '0.login-token.username': 'set', '0.login-token.password': 'set' });
    expect(status.lastError).to.contain('error_code 3');
    expect(JSON.stringify(status)).to.not.contain(PASS);
    expect(JSON.stringify(status)).to.not.contain(USER);
    expect(log.text()).to.not.contain(PASS);
    expect(log.text()).to.contain('credentials.token_failed');
  });
});

import { expect } from 'chai';
import { createSandbox, DEFAULT_CREDENTIALS, SandboxInProductionError } from '../../../src/sandbox/index.ts';
import { basic, platformToken, postForm, postJson, start, type Running, type Json } from './helpers.ts';

const NDXP_CLIENT: [key: string, secret: string] = ['sandbox-ndxp-key', 'sandbox-ndxp-secret'];

/** Asks the NDXP token endpoint of `run` for `grant_type`, as `client` by HTTP Basic (no client auth without). */
const askNdxpToken = (run: Running, client?: [key: string, secret: string], grantType = 'client_credentials') =>
  postForm(`${run.url}/ndxp/token`, { grant_type: grantType }, client ? { authorization: basic(...client) } : {});

describe('sandbox: platform token endpoints (OAuth2 client credentials)', () => {
  let run: Running;
  before(async () => {
    run = await start({ tokenLifetimeSeconds: 300 });
  });
  after(() => run.close());

  const service = (platform: string, op: string) => `${run.url}/${platform}/dancu/1.0/${op}`;
  const someone = { soDinhDanh: '099075000101' };

  it('issues a Bearer token for HTTP Basic client authentication', async () => {
    const res = await askNdxpToken(run, NDXP_CLIENT);
    expect(res.status).to.equal(200);
    expect(res.body).to.include({ token_type: 'Bearer', expires_in: 300 });
    expect(res.body.access_token).to.be.a('string').with.length.above(20);
    expect(res.headers.get('cache-control')).to.equal('no-store');
  });

  it('accepts client_id/client_secret in the form body too', async () => {
    const res = await postForm(`${run.url}/vdxp/token`, {
      grant_type: 'client_credentials',
      client_id: 'sandbox-vdxp-key',
      client_secret: 'sandbox-vdxp-secret',
    });
    expect(res.status).to.equal(200);
  });

  it('answers 401 invalid_client for a wrong secret, another platform key, or no client auth', async () => {
    for (const client of [
      ['sandbox-ndxp-key', 'wrong'],
      ['sandbox-vdxp-key', 'sandbox-vdxp-secret'], // VDXP key presented to NDXP
    ] as const) {
      const res = await askNdxpToken(run, [...client]);
      expect(res.status).to.equal(401);
      expect(res.body).to.include({ error: 'invalid_client' });
      expect(res.headers.get('www-authenticate')).to.match(/^Basic/);
    }
    const none = await askNdxpToken(run);
    expect(none.status).to.equal(401);
    expect(none.body.error).to.equal('invalid_client');
  });

  it('refuses another grant type', async () => {
    const res = await askNdxpToken(run, NDXP_CLIENT, 'password');
    expect(res.status).to.equal(400);
    expect(res.body.error).to.equal('unsupported_grant_type');
  });

  it('services reject a missing or unknown Bearer token with 401', async () => {
    const missing = await postJson(service('ndxp', 'xacThucThongTinCongDan'), someone);
    expect(missing.status).to.equal(401);
    expect(missing.body.error).to.equal('invalid_token');
    expect(missing.headers.get('www-authenticate')).to.match(/^Bearer/);
    const unknown = await postJson(service('ndxp', 'xacThucThongTinCongDan'), someone, {
      authorization: 'Bearer not-a-token',
    });
    expect(unknown.status).to.equal(401);
  });

  it('tokens expire on the injected clock', async () => {
    const token = await platformToken(run, 'ndxp');
    const call = () =>
      postJson(service('ndxp', 'xacThucThongTinCongDan'), someone, { authorization: `Bearer ${token}` });
    expect((await call()).status).to.equal(200);
    run.clock.advance(299_999);
    expect((await call()).status).to.equal(200);
    run.clock.advance(1);
    const expired = await call();
    expect(expired.status).to.equal(401);
    expect(expired.body.error_description).to.contain('hết hạn');
  });

  it('a token of one platform does not open the other platform', async () => {
    const ndxp = await platformToken(run, 'ndxp');
    const vdxp = await platformToken(run, 'vdxp');
    const onVdxp = await postJson(service('vdxp', 'cungCapThongTinCongDan'), someone, {
      authorization: `Bearer ${ndxp}`,
    });
    expect(onVdxp.status).to.equal(401);
    const ok = await postJson(service('vdxp', 'cungCapThongTinCongDan'), someone, { authorization: `Bearer ${vdxp}` });
    expect(ok.status).to.equal(200);
  });

  it('records token calls without the secret, and clears on DELETE', async () => {
    await postForm(`${run.url}/ndxp/token`, {
      grant_type: 'client_credentials',
      client_id: 'sandbox-ndxp-key',
      client_secret: 'sandbox-ndxp-secret',
    });
    const listed = (await (await fetch(`${run.url}/__sandbox/ndxp/received`)).json()) as Json[];
    const last = listed[listed.length - 1];
    expect(last).to.include({ operation: 'token', client: 'sandbox-ndxp-key' });
    expect(JSON.stringify(listed)).not.to.contain('sandbox-ndxp-secret');
    expect(last.response.body.access_token).to.equal('[REDACTED]');
    expect(run.sandbox.received('ndxp')).to.have.length(listed.length);
    const cleared = await fetch(`${run.url}/__sandbox/ndxp/received`, { method: 'DELETE' });
    expect(((await cleared.json()) as Json).cleared).to.equal(listed.length);
    expect(run.sandbox.received('ndxp')).to.deep.equal([]);
    expect((await fetch(`${run.url}/__sandbox/nope/received`)).status).to.equal(404);
  });

  it('GET /__sandbox/ lists the systems, credentials and demo data', async () => {
    const index = (await (await fetch(`${run.url}/__sandbox/`)).json()) as Json;
    expect(Object.keys(index.systems)).to.have.members(['ndxp', 'vdxp', 'molisa', 'hotich', 'vneid', 'dvclt']);
    expect(index.systems.ndxp.credentials).to.deep.equal(DEFAULT_CREDENTIALS.ndxp);
    expect(index.demoCitizens.map((c: Json) => c.tinhTrang)).to.include.members(['DA_CHET', 'MAT_TICH']);
  });
});

describe('sandbox: never in production', () => {
  it('createSandbox throws when the config environment is production', () => {
    expect(() => createSandbox({ environment: 'production' })).to.throw(SandboxInProductionError);
    expect(() => createSandbox({ environment: ' Production ' })).to.throw(SandboxInProductionError);
    expect(() => createSandbox({ environment: 'test' })).not.to.throw();
  });

  it('createSandbox throws when NODE_ENV=production', () => {
    const before = process.env.NODE_ENV;
    process.env.NODE_ENV = 'production';
    try {
      expect(() => createSandbox({ environment: 'test' })).to.throw(SandboxInProductionError, /NODE_ENV/);
    } finally {
      if (before === undefined) delete process.env.NODE_ENV;
      else process.env.NODE_ENV = before;
    }
  });

  it('credentials can be overridden per system', async () => {
    const run = await start({ credentials: { ndxp: { consumerKey: 'k', consumerSecret: 's' } } });
    try {
      const ok = await askNdxpToken(run, ['k', 's']);
      expect(ok.status).to.equal(200);
      const old = await askNdxpToken(run, NDXP_CLIENT);
      expect(old.status).to.equal(401);
      expect(run.sandbox.credentials.vdxp).to.deep.equal(DEFAULT_CREDENTIALS.vdxp);
    } finally {
      await run.close();
    }
  });
});

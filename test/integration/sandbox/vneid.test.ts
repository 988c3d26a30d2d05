import { expect } from 'chai';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import { platformToken, postForm, postJson, start, type Running, type Json } from './helpers.ts';

const TOKEN_PATH = '/vneid/api/idp/auth/realms/citizen/protocol/openid-connect/token';
const USERINFO_PATH = '/vneid/api/idp/third-party/userinfo';

describe('sandbox: VNeID QR look-up (seed 001 part C)', () => {
  let run: Running;
  let auth: Record<string, string>;
  const lookup = (qrID: unknown, headers = auth) =>
    postJson(`${run.url}/vneid/dinhdanh/1.0/traCuuThongTinCongDan`, { qrID }, headers);
  const newQr = async (body: Record<string, unknown>) => {
    const res = await postJson(`${run.url}/__sandbox/vneid/qr`, body);
    expect(res.status, JSON.stringify(res.body)).to.equal(201);
    return res.body.qrID as string;
  };

  before(async () => {
    run = await start();
    auth = { authorization: `Bearer ${await platformToken(run, 'ndxp')}` };
  });
  after(() => run.close());

  it('an approved QR returns the citizen data in the seed shape, signed as a JWS verifiable with the JWKS', async () => {
    const res = await lookup('DEMO-QR-APPROVED');
    expect(res.status).to.equal(200);
    expect(res.body).to.include({ responseCode: '200' });
    const data = res.body.data;
    expect(data).to.have.all.keys('soDinhDanh', 'hoVaTen', 'gioiTinh', 'ngayThangNamSinh', 'noiThuongTru');
    expect(data.soDinhDanh).to.match(/^\d{12}$/);
    expect(data.gioiTinh).to.match(/^\d$/);
    expect(data.ngayThangNamSinh).to.match(/^\d{8}$/);
    expect(data.hoVaTen.length).to.be.at.most(100);
    expect(data).to.include({ soDinhDanh: '099075000101', hoVaTen: 'Nguyễn Văn Minh', ngayThangNamSinh: '19750314' });

    const jwks = createRemoteJWKSet(new URL(`${run.url}/vneid/.well-known/jwks.json`));
    const { payload, protectedHeader } = await jwtVerify(res.body.signedData, jwks, {
      currentDate: new Date(run.clock.now()),
    });
    expect(protectedHeader.alg).to.equal('ES256');
    expect(payload).to.include(data);
    expect(payload.jti).to.equal('DEMO-QR-APPROVED');

    // A tampered payload fails verification.
    const [h, p, s] = (res.body.signedData as string).split('.');
    const forged = Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(p, 'base64url').toString()), hoVaTen: 'X' }));
    let failed = false;
    try {
      await jwtVerify(`${h}.${forged.toString('base64url')}.${s}`, jwks);
    } catch {
      failed = true;
    }
    expect(failed).to.equal(true);
  });

  it('pending consent, then approval by the citizen, returns the data', async () => {
    const qrID = await newQr({ soDinhDanh: '099180000201', state: 'pending' });
    const pending = await lookup(qrID);
    expect(pending.body).to.include({ responseCode: '202', data: null });
    const consent = await postJson(`${run.url}/__sandbox/vneid/qr/${qrID}/consent`, { state: 'approved' });
    expect(consent.status).to.equal(200);
    const approved = await lookup(qrID);
    expect(approved.body.responseCode).to.equal('200');
    expect(approved.body.data.hoVaTen).to.equal('Lê Thị Mai');
  });

  it('a refused or unknown QR returns no data', async () => {
    const refused = await lookup(await newQr({ state: 'refused' }));
    expect(refused.body).to.include({ responseCode: '403', data: null });
    expect((await lookup('DEMO-QR-REFUSED')).body.responseCode).to.equal('403');
    expect((await lookup('DEMO-QR-PENDING')).body.responseCode).to.equal('202');
    const unknown = await lookup('QR-NO-SUCH-CODE');
    expect(unknown.body).to.include({ responseCode: '404', data: null });
    expect((await lookup(undefined)).status).to.equal(400);
  });

  it('a QR code expires one minute after it was made (injected clock)', async () => {
    const qrID = await newQr({ soDinhDanh: '099199000401' });
    run.clock.advance(59_999);
    expect((await lookup(qrID)).body.responseCode).to.equal('200');
    run.clock.advance(1);
    const expired = await lookup(qrID);
    expect(expired.body).to.include({ responseCode: '410', data: null });
    expect((await lookup('DEMO-QR-EXPIRED')).body.responseCode).to.equal('410');
    // The fixed demo codes used by the README do not expire.
    expect((await lookup('DEMO-QR-APPROVED')).body.responseCode).to.equal('200');
  });

  it('needs an NDXP Bearer token', async () => {
    expect((await lookup('DEMO-QR-APPROVED', {})).status).to.equal(401);
    const vdxp = { authorization: `Bearer ${await platformToken(run, 'vdxp')}` };
    const res = await lookup('DEMO-QR-APPROVED', vdxp);
    expect(res.status).to.equal(401);
    expect(res.body.data).to.equal(null);
  });

  it('will not make a QR code for a dead or missing citizen', async () => {
    for (const id of ['099045000105', '099079000202', '099000000000']) {
      const res = await postJson(`${run.url}/__sandbox/vneid/qr`, { soDinhDanh: id });
      expect(res.status, id).to.equal(400);
    }
    expect((await postJson(`${run.url}/__sandbox/vneid/qr`, { state: 'maybe' })).status).to.equal(400);
  });
});

describe('sandbox: VNeID SSO (seed 001 part A)', () => {
  let run: Running;
  const redirectUri = 'https://motcua.example.test/callback';

  before(async () => {
    run = await start({ tokenLifetimeSeconds: 900 });
  });
  after(() => run.close());

  /** Runs the authorization step for a citizen and returns the code from the redirect. */
  const authorize = async (loginHint: string) => {
    const q = new URLSearchParams({
      response_type: 'code',
      client_id: 'sandbox-vneid-client',
      redirect_uri: redirectUri,
      state: 'st-1',
      nonce: 'n-1',
      login_hint: loginHint,
    });
    const res = await fetch(`${run.url}/vneid/auth?${q}`, { redirect: 'manual' });
    expect(res.status).to.equal(302);
    const location = new URL(res.headers.get('location')!);
    expect(location.origin + location.pathname).to.equal(redirectUri);
    expect(location.searchParams.get('state')).to.equal('st-1');
    return location.searchParams.get('code')!;
  };
  const exchange = (code: string, over: Record<string, string> = {}) =>
    postForm(`${run.url}${TOKEN_PATH}`, {
      grant_type: 'authorization_code',
      code,
      redirect_uri: redirectUri,
      client_id: 'sandbox-vneid-client',
      client_secret: 'sandbox-vneid-secret',
      ...over,
    });

  it('token endpoint requires the right client_id and client_secret in the form body', async () => {
    const code = await authorize('099075000101');
    const wrong = await exchange(code, { client_secret: 'nope' });
    expect(wrong.status).to.equal(401);
    expect(wrong.body.error).to.equal('invalid_client');
    const basicOnly = await postForm(
      `${run.url}${TOKEN_PATH}`,
      { grant_type: 'authorization_code', code, redirect_uri: redirectUri },
      { authorization: `Basic ${Buffer.from('sandbox-vneid-client:sandbox-vneid-secret').toString('base64')}` },
    );
    expect(basicOnly.status).to.equal(401);
  });

  it('code → tokens → userinfo with loAS as a JSON string; codes are single-use', async () => {
    const code = await authorize('099075000101');
    const tokens = await exchange(code);
    expect(tokens.status).to.equal(200);
    expect(tokens.body).to.include({ token_type: 'Bearer', expires_in: 900 });

    const jwks = createRemoteJWKSet(new URL(`${run.url}/vneid/.well-known/jwks.json`));
    const { payload } = await jwtVerify(tokens.body.id_token, jwks, {
      audience: 'sandbox-vneid-client',
      currentDate: new Date(run.clock.now()),
    });
    expect(payload).to.include({ sub: '099075000101', nonce: 'n-1' });

    const info = await fetch(`${run.url}${USERINFO_PATH}`, {
      headers: { authorization: `Bearer ${tokens.body.access_token}` },
    });
    expect(info.status).to.equal(200);
    const body = (await info.json()) as Json;
    expect(body).to.include({
      SoDinhDanh: '099075000101',
      HoVaTen: 'Nguyễn Văn Minh',
      NgayThangNamSinh: '19750314',
      LoaiTaiKhoan: '1',
    });
    expect(body.loAS).to.be.a('string');
    const loAS = JSON.parse(body.loAS);
    expect(loAS).to.be.an('array').with.length(4);
    expect(loAS[0].level).to.equal(3); // level-2 account
    expect(loAS.map((x: Json) => Object.keys(x.claim)[0])).to.deep.equal([
      'SoDinhDanh',
      'HoVaTen',
      'NgayThangNamSinh',
      'LoaiTaiKhoan',
    ]);

    const again = await exchange(code);
    expect(again.status).to.equal(400);
    expect(again.body.error).to.equal('invalid_grant');
  });

  it('a level-1 account gets loAS level 2; codes expire; userinfo needs a valid token', async () => {
    const tokens = await exchange(await authorize('099199000401'));
    const info = (await (
      await fetch(`${run.url}${USERINFO_PATH}`, { headers: { authorization: `Bearer ${tokens.body.access_token}` } })
    ).json()) as Json;
    expect(JSON.parse(info.loAS)[0].level).to.equal(2);

    const late = await authorize('099075000101');
    run.clock.advance(60_000);
    expect((await exchange(late)).body.error).to.equal('invalid_grant');

    expect((await fetch(`${run.url}${USERINFO_PATH}`)).status).to.equal(401);
    run.clock.advance(900_000);
    const expired = await fetch(`${run.url}${USERINFO_PATH}`, {
      headers: { authorization: `Bearer ${tokens.body.access_token}` },
    });
    expect(expired.status).to.equal(401);
  });

  it('logout revokes the session tokens and can redirect back', async () => {
    const tokens = await exchange(await authorize('099180000201'));
    const q = new URLSearchParams({
      id_token_hint: tokens.body.id_token,
      post_logout_redirect_uri: 'https://motcua.example.test/bye',
      state: 's2',
    });
    const out = await fetch(`${run.url}/vneid/api/idp/sso/logout?${q}`, { redirect: 'manual' });
    expect(out.status).to.equal(302);
    expect(out.headers.get('location')).to.equal('https://motcua.example.test/bye?state=s2');
    const after = await fetch(`${run.url}${USERINFO_PATH}`, {
      headers: { authorization: `Bearer ${tokens.body.access_token}` },
    });
    expect(after.status).to.equal(401);
    const bad = await postJson(`${run.url}/vneid/api/idp/sso/logout`, { id_token_hint: 'a.b.c' });
    expect(bad.status).to.equal(400);
  });

  it('publishes an OIDC discovery document pointing at the seed paths', async () => {
    const doc = (await (await fetch(`${run.url}/vneid/.well-known/openid-configuration`)).json()) as Json;
    expect(doc.token_endpoint).to.equal(`${run.url}${TOKEN_PATH}`);
    expect(doc.userinfo_endpoint).to.equal(`${run.url}${USERINFO_PATH}`);
    expect(doc.end_session_endpoint).to.equal(`${run.url}/vneid/api/idp/sso/logout`);
  });
});

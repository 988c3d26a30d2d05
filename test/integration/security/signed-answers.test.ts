import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { expect } from 'chai';
import { SignJWT, base64url } from 'jose';
import { CONSUMER_KEY, CONSUMER_KEY_SHA256 } from '../../helpers/keys.ts';
import { startGateway, type TestGateway } from '../../helpers/gateway.ts';
import { request, startServer, type TestServer } from '../../helpers/http.ts';
import { suspendNockDuring, until } from '../../helpers/reliability.ts';
import { hashSubject } from '../../../src/observability/audit.ts';

const SCHEMAS = new URL('../../../schemas', import.meta.url).pathname;
const QR_PATH = '/dinhdanh/1.0/traCuuThongTinCongDan';

interface TestKey {
  kid: string;
  privateKey: KeyObject;
  publicKey: KeyObject;
  jwk: Record<string, unknown>;
}

function ecKey(kid: string): TestKey {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  return { kid, privateKey, publicKey, jwk: { ...publicKey.export({ format: 'jwk' }), kid, alg: 'ES256', use: 'sig' } };
}

/** A compact JWS of `claims` the way the identification system signs (seed 001 B10), with options to misbehave. */
async function sign(key: TestKey, claims: Record<string, unknown>, kid = key.kid): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT(claims)
    .setProtectedHeader({ alg: 'ES256', kid, typ: 'JWT' })
    .setIssuedAt(now)
    .sign(key.privateKey);
}

const citizen = {
  soDinhDanh: '079300001234',
  hoVaTen: 'Trần Thị Hương',
  gioiTinh: '2',
  ngayThangNamSinh: '19880412',
  noiThuongTru: 'Số 5, phường Bến Nghé, Quận 1, Thành phố Hồ Chí Minh',
};

/**
 * Issue 16.2: the identification system signs what it returns (seed 001 part C, B10; §V.2 JWS/JWK). The
 * gateway checks the JWS against the keys configured for the national side and relays the verified claims;
 * what does not verify is 502 GW_UPSTREAM_SIGNATURE_INVALID naming the upstream. A fake identification
 * system on loopback signs (or forges) each answer and serves its JWKS, counting fetches.
 */
describe('security: signed answers of the identification system (issue 16.2)', function () {
  this.timeout(20_000);
  suspendNockDuring(this);
  const keyA = ecKey('vneid-a');
  const keyB = ecKey('vneid-b');
  const attacker = ecKey('vneid-a'); // same kid as the trusted key, another key pair
  let up: TestServer;
  let gw: TestGateway;
  let answer: unknown = {};
  const jwks: Record<string, { keys: Record<string, unknown>[] }> = {
    '/rotating/jwks.json': { keys: [keyA.jwk] },
    '/steady/jwks.json': { keys: [keyA.jwk] },
  };
  const fetches = (path: string) => up.requests.filter((r) => r.method === 'GET' && r.url === path).length;

  before(async () => {
    up = await startServer((req, res) => {
      res.setHeader('content-type', 'application/json');
      if (req.method === 'GET' && jwks[req.url ?? '']) return void res.end(JSON.stringify(jwks[req.url!]));
      res.end(typeof answer === 'string' ? answer : JSON.stringify(answer));
    });
    const pem = keyA.publicKey.export({ format: 'pem', type: 'spki' }).toString();
    gw = await startGateway({
      'gateway.yaml': `version: 1\npaths: { schemas: ${SCHEMAS} }\nlogging: { level: warn }\n`,
      'signing.pem': pem,
      'upstreams.yaml': `upstreams:
  vneid:
    url: "${up.url}"
    answerSignature: { jwksUrl: "${up.url}/rotating/jwks.json", algorithms: [ES256], jwksCooldownSeconds: 0 }
  steady:
    url: "${up.url}"
    answerSignature: { jwksUrl: "${up.url}/steady/jwks.json", algorithms: [ES256], jwksCooldownSeconds: 3600 }
  pem:
    url: "${up.url}"
    answerSignature: { keys: [{ file: signing.pem }], algorithms: [ES256, RS256] }
consumers:
  mcdt: { apiKeys: [{ sha256: ${CONSUMER_KEY_SHA256} }] }
`,
      'routes.yaml': `routes:
  - id: qr
    methods: [POST]
    path: /vneid${QR_PATH}
    upstream: vneid
    consumers: [mcdt]
    request: { schema: vneid/qr-lookup.request.json }
    response: { schema: vneid/qr-lookup.response.json, mode: enforce, signature: { jws: signedData, payload: data } }
    audit: { answerSubjectFields: [soDinhDanh] }
  - id: qr-steady
    methods: [POST]
    path: /steady${QR_PATH}
    upstream: steady
    consumers: [mcdt]
    response: { signature: { jws: signedData, payload: data } }
  - id: qr-pem
    methods: [POST]
    path: /pem${QR_PATH}
    upstream: pem
    consumers: [mcdt]
    response: { mode: report, schema: vneid/qr-lookup.response.json, signature: { jws: data, payload: data } }
  - id: plain-lookup
    methods: [POST]
    path: /plain/lookup
    upstream: pem
    consumers: [mcdt]
    audit: { answerSubjectFields: [soDinhDanh] }
`,
    });
  });
  after(async () => {
    await gw?.close();
    await up?.close();
  });

  const lookup = (prefix = '/vneid') =>
    request(`${gw.url}${prefix}${QR_PATH}`, {
      method: 'POST',
      headers: { 'x-api-key': CONSUMER_KEY, 'content-type': 'application/json' },
      body: JSON.stringify({ qrID: 'QR-1' }),
    });
  const signedAnswer = async (data: Record<string, unknown>, key = keyA, kid?: string) => ({
    responseCode: '200',
    responseMessage: 'Thành công',
    data,
    signedData: await sign(key, { ...data, jti: 'QR-1' }, kid),
  });
  /** Everything the gateway's audit trail holds so far. */
  const auditText = () => {
    const dir = path.join(gw.dir, 'audit-trail');
    return readdirSync(dir)
      .map((f) => readFileSync(path.join(dir, f), 'utf8'))
      .join('');
  };
  const refused = (res: Awaited<ReturnType<typeof lookup>>, code = 'GW_UPSTREAM_SIGNATURE_INVALID') => {
    expect(res.status, res.body.toString()).to.equal(502);
    const problem = res.json<{ code: string; hop: string; detail: string }>();
    expect(problem).to.include({ code, hop: 'upstream' });
    return problem.detail;
  };

  it('a valid signature passes: the caller gets the verified claims as data, and the JWS to archive', async () => {
    answer = await signedAnswer(citizen);
    const res = await lookup();
    expect(res.status, res.body.toString()).to.equal(200);
    const body = res.json<{ data: Record<string, unknown>; signedData: string }>();
    expect(body.data).to.deep.equal(citizen); // the JWT envelope (jti, iat) is not citizen data
    expect(body.signedData).to.equal((answer as { signedData: string }).signedData);
  });

  it('an answer with two of the five fields, and an address of 113 characters, passes (seed 001 §5.2)', async () => {
    answer = await signedAnswer({ soDinhDanh: citizen.soDinhDanh, hoVaTen: citizen.hoVaTen });
    expect((await lookup()).status).to.equal(200);
    const address = `Thôn Đông, ${'x'.repeat(102)}`;
    expect(address).to.have.length(113);
    answer = await signedAnswer({ ...citizen, noiThuongTru: address });
    const res = await lookup();
    expect(res.status, res.body.toString()).to.equal(200);
    expect(res.json<{ data: { noiThuongTru: string } }>().data.noiThuongTru).to.equal(address);
  });

  it('a wrong-typed field, even signed, is refused: 502 naming the upstream and the rule', async () => {
    answer = await signedAnswer({ ...citizen, gioiTinh: 2 });
    const res = await lookup();
    expect(res.status).to.equal(502);
    const problem = res.json<{ code: string; detail: string; errors: { pointer: string; rule: string }[] }>();
    expect(problem.code).to.equal('GW_UPSTREAM_BAD_RESPONSE');
    expect(problem.detail).to.contain('vneid');
    expect(problem.errors).to.deep.include.members([{ ...problem.errors[0], pointer: '/data/gioiTinh', rule: 'type' }]);
  });

  it('a tampered payload is refused, and so is an unsigned plain copy that differs from the signed one', async () => {
    const good = await signedAnswer(citizen);
    const [h, , s] = good.signedData.split('.');
    const forged = base64url.encode(JSON.stringify({ ...citizen, soDinhDanh: '079300009999' }));
    answer = { ...good, signedData: `${h}.${forged}.${s}` };
    expect(refused(await lookup()))
      .to.contain('vneid')
      .and.contain('chữ ký không khớp');
    answer = { ...good, data: { ...citizen, hoVaTen: 'Người Khác' } };
    expect(refused(await lookup())).to.contain('khác dữ liệu đã ký');
  });

  it('data without a signature is refused; an answer without data ("QR not correct") passes unsigned', async () => {
    answer = { responseCode: '200', responseMessage: 'Thành công', data: citizen };
    expect(refused(await lookup())).to.contain('không có chữ ký số');
    answer = { responseCode: '404', responseMessage: 'Mã QR không chính xác', data: null };
    const res = await lookup();
    expect(res.status).to.equal(200);
    expect(res.json()).to.deep.equal(answer);
  });

  it('a key the national side does not hold (same kid, other key pair) is refused', async () => {
    answer = await signedAnswer(citizen, attacker);
    refused(await lookup());
  });

  it('alg none, and HS256 keyed with the public key (alg confusion), are refused', async () => {
    const payload = base64url.encode(JSON.stringify(citizen));
    const none = `${base64url.encode(JSON.stringify({ alg: 'none', kid: keyA.kid }))}.${payload}.`;
    answer = { responseCode: '200', responseMessage: 'OK', data: citizen, signedData: none };
    refused(await lookup());
    for (const secret of [
      new TextEncoder().encode(keyA.publicKey.export({ format: 'pem', type: 'spki' }).toString()),
      new TextEncoder().encode(JSON.stringify(keyA.jwk)),
    ]) {
      const hs = await new SignJWT(citizen).setProtectedHeader({ alg: 'HS256', kid: keyA.kid }).sign(secret);
      answer = { responseCode: '200', responseMessage: 'OK', data: citizen, signedData: hs };
      expect(refused(await lookup()))
        .to.contain('HS256')
        .and.contain('không được phép');
    }
  });

  it('an expired signature (exp), or one not yet valid (nbf), is refused', async () => {
    const now = Math.floor(Date.now() / 1000);
    const expired = await new SignJWT(citizen)
      .setProtectedHeader({ alg: 'ES256', kid: keyA.kid })
      .setIssuedAt(now - 7200)
      .setExpirationTime(now - 3600)
      .sign(keyA.privateKey);
    answer = { responseCode: '200', responseMessage: 'OK', data: citizen, signedData: expired };
    expect(refused(await lookup())).to.contain('hết hạn');
    const early = await new SignJWT(citizen)
      .setProtectedHeader({ alg: 'ES256', kid: keyA.kid })
      .setNotBefore(now + 3600)
      .sign(keyA.privateKey);
    answer = { responseCode: '200', responseMessage: 'OK', data: citizen, signedData: early };
    expect(refused(await lookup())).to.contain('nbf');
  });

  it('JWKS rotation: a new kid is fetched once, then served from the cache', async () => {
    answer = await signedAnswer(citizen, keyA);
    expect((await lookup()).status).to.equal(200);
    const before = fetches('/rotating/jwks.json');
    expect(before).to.be.at.least(1);
    jwks['/rotating/jwks.json'] = { keys: [keyA.jwk, keyB.jwk] };
    answer = await signedAnswer(citizen, keyB);
    for (let i = 0; i < 3; i++) expect((await lookup()).status).to.equal(200);
    expect(fetches('/rotating/jwks.json')).to.equal(before + 1);
  });

  it('a reload that leaves the upstream unchanged keeps its cached JWKS (no refetch)', async () => {
    answer = await signedAnswer(citizen, keyA);
    expect((await lookup('/steady')).status).to.equal(200);
    const before = fetches('/steady/jwks.json');
    gw.write('routes-extra.yaml', 'routes: []\n');
    expect((await gw.gateway.reloader.reload('test', true)).result).to.equal('success');
    expect((await lookup('/steady')).status).to.equal(200);
    expect(fetches('/steady/jwks.json')).to.equal(before);
  });

  it('an unknown kid refetches the JWKS at most once per cooldown, whatever the number of answers', async () => {
    answer = await signedAnswer(citizen, keyA);
    expect((await lookup('/steady')).status).to.equal(200);
    const before = fetches('/steady/jwks.json');
    answer = await signedAnswer(citizen, attacker, 'forged-kid');
    for (let i = 0; i < 5; i++) expect(refused(await lookup('/steady'))).to.contain('kid');
    expect(fetches('/steady/jwks.json')).to.equal(before);
  });

  it('a PEM key (no kid) verifies a JWS that names a kid; data itself may be the JWS', async () => {
    answer = { responseCode: '200', responseMessage: 'OK', data: await sign(keyA, citizen) };
    const res = await lookup('/pem');
    expect(res.status, res.body.toString()).to.equal(200);
    expect(res.json<{ data: unknown }>().data).to.deep.equal(citizen);
    answer = { responseCode: '200', responseMessage: 'OK', data: await sign(keyB, citizen) };
    refused(await lookup('/pem')); // report mode relaxes the schema, never the signature
  });

  it('audits whose data came back: the returned soDinhDanh as an HMAC under answer.soDinhDanh#hmac, never in clear (issue 16.6)', async () => {
    answer = await signedAnswer(citizen);
    const res = await lookup();
    expect(res.status).to.equal(200);
    const requestId = String(res.headers['x-request-id']);
    await until(() => auditText().includes(requestId), 'the audit line is written');
    const line = auditText()
      .split('\n')
      .filter((l) => l.includes(requestId))
      .map((l) => JSON.parse(l) as { keys: Record<string, string> })[0]!;
    expect(line.keys).to.deep.equal({
      'answer.soDinhDanh#hmac': hashSubject(citizen.soDinhDanh, Buffer.from('test-audit-hmac-key-0123456789abcdef')),
    });
    expect(auditText()).to.not.contain(citizen.soDinhDanh);
    // A route that lists no answerSubjectFields records none.
    answer = await signedAnswer(citizen);
    const steady = await lookup('/steady');
    const steadyId = String(steady.headers['x-request-id']);
    await until(() => auditText().includes(steadyId), 'the audit line is written');
    expect(
      auditText()
        .split('\n')
        .find((l) => l.includes(steadyId)),
    ).to.not.contain('answer.');
  });

  it('a route that maps nothing still audits whose data came back, and relays the answer byte for byte', async () => {
    const bytes = `{ "responseCode":"200",  "data": [ {"soDinhDanh": "${citizen.soDinhDanh}"} ] }`;
    answer = bytes;
    const res = await request(`${gw.url}/plain/lookup`, {
      method: 'POST',
      headers: { 'x-api-key': CONSUMER_KEY, 'content-type': 'application/json' },
      body: '{}',
    });
    expect(res.status).to.equal(200);
    expect(res.body.toString()).to.equal(bytes);
    const requestId = String(res.headers['x-request-id']);
    await until(() => auditText().includes(requestId), 'the audit line is written');
    const line = JSON.parse(
      auditText()
        .split('\n')
        .find((l) => l.includes(requestId))!,
    ) as { keys: Record<string, string> };
    expect(line.keys['answer.soDinhDanh#hmac']).to.equal(
      hashSubject(citizen.soDinhDanh, Buffer.from('test-audit-hmac-key-0123456789abcdef')),
    );
  });

  it('an unreachable JWKS is a 502 naming the hop, never an unchecked answer', async () => {
    jwks['/rotating/jwks.json'] = { keys: [keyA.jwk] };
    answer = await signedAnswer(citizen, ecKey('never-published'));
    const saved = jwks['/rotating/jwks.json'];
    delete jwks['/rotating/jwks.json']; // the fake answers the JWKS path with the QR answer: no "keys"
    refused(await lookup(), 'GW_UPSTREAM_SIGNING_KEYS_UNAVAILABLE');
    jwks['/rotating/jwks.json'] = saved;
  });
});

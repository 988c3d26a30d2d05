import { readdirSync, readFileSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { expect } from 'chai';
import { hashSubject } from '../../../src/observability/audit.ts';
import { CONSUMER_KEY, CONSUMER_KEY_SHA256 } from '../../helpers/keys.ts';
import { startGateway, type TestGateway } from '../../helpers/gateway.ts';
import { request, startServer, type TestServer } from '../../helpers/http.ts';
import { until } from '../../helpers/reliability.ts';
import { findLeaks, registerSecret } from '../../helpers/written-registry.ts';

/**
 * Issue 14.7: no caller-supplied value reaches the log, the audit trail or an error answer with a 12-digit
 * run in clear, in any encoding, and secret query parameters are masked. Each case sends what an attacker
 * (or a careless provincial system) would, then reads every byte the gateway wrote.
 */
const HMAC = 'test-audit-hmac-key-0123456789abcdef';
const CITIZEN = '001099012345';
const OTHER_CITIZEN = '079204000111';

describe('security: ID numbers and secrets in output', function () {
  this.timeout(10_000);
  let upstream: TestServer;
  let gw: TestGateway;
  const auth = { 'x-api-key': CONSUMER_KEY, 'content-type': 'application/json' };
  const auditDir = () => path.join(gw.dir, 'audit-trail');
  const auditText = () =>
    readdirSync(auditDir())
      .map((f) => readFileSync(path.join(auditDir(), f), 'utf8'))
      .join('');
  const logText = () => gw.logs.map((l) => JSON.stringify(l)).join('\n');
  const held: http.ServerResponse[] = [];

  before(async () => {
    upstream = await startServer((req, res) => {
      // Holds its answer until the caller has left (the access line of an aborted exchange).
      if (req.url?.includes('/hang/')) {
        held.push(res);
        return;
      }
      res.setHeader('content-type', 'application/json');
      res.end('{"error_code":0}');
    });
    gw = await startGateway({
      'gateway.yaml': 'version: 1\n',
      'upstreams.yaml':
        `upstreams:\n  up: { url: "${upstream.url}", errorDialect: molisa }\n` +
        `consumers:\n  mcdt: { apiKeys: [{ sha256: ${CONSUMER_KEY_SHA256} }] }\n`,
      'routes.yaml':
        'routes:\n' +
        '  - { id: json, methods: [POST], path: /json/*, upstream: up, consumers: [mcdt], request: { mapping: [{ op: drop, fields: [unused] }] } }\n' +
        '  - { id: pass, methods: [GET], path: /pass/*, upstream: up, consumers: [mcdt] }\n',
    });
  });
  after(async () => {
    for (const res of held) res.destroy();
    await gw?.close();
    await upstream?.close();
  });

  it("replaces a caller's request id holding an ID number (plain or inside), keeps a plain one", async () => {
    for (const id of [CITIZEN, `req-${CITIZEN}-1`, `${CITIZEN.slice(0, 9)}x`]) {
      const before = upstream.requests.length;
      const res = await request(`${gw.url}/pass/x`, { headers: { ...auth, 'x-request-id': id } });
      expect(res.status).to.equal(200);
      const given = String(res.headers['x-request-id']);
      expect(given)
        .to.not.equal(id)
        .and.not.match(/[0-9]{9}/);
      expect(upstream.requests[before]!.headers['x-request-id']).to.equal(given);
    }
    const plain = await request(`${gw.url}/pass/x`, { headers: { ...auth, 'x-request-id': 'mcdt-2025-07-01-0042' } });
    expect(plain.headers['x-request-id']).to.equal('mcdt-2025-07-01-0042');
    await until(() => auditText().includes('mcdt-2025-07-01-0042'), 'the audit lines are written');
    expect(auditText()).to.not.contain(CITIZEN);
  });

  it('hashes dossier codes that hold an ID number (MaHoSo, maDinhDanhHoSo), keeps ordinary ones', async () => {
    const body = [
      { MaHoSo: CITIZEN, maDinhDanhHoSo: `HS-${OTHER_CITIZEN}-01`, soDinhDanh: CITIZEN },
      { MaHoSo: 'H52.21-250701-0001' },
    ];
    const res = await request(`${gw.url}/json/x`, {
      method: 'POST',
      headers: { ...auth, 'x-request-id': 'dossier-case' },
      body: JSON.stringify(body),
    });
    expect(res.status).to.equal(200);
    await until(() => auditText().includes('dossier-case'), 'the audit line is written');
    const line = JSON.parse(
      auditText()
        .split('\n')
        .find((l) => l.includes('dossier-case'))!,
    );
    expect(line.keys).to.deep.equal({
      'MaHoSo#hmac': hashSubject(CITIZEN, Buffer.from(HMAC)),
      'maDinhDanhHoSo#hmac': hashSubject(`HS-${OTHER_CITIZEN}-01`, Buffer.from(HMAC)),
      'soDinhDanh#hmac': hashSubject(CITIZEN, Buffer.from(HMAC)),
      MaHoSo: 'H52.21-250701-0001',
    });
    expect(auditText()).to.not.match(/[0-9]{12}/);
  });

  it('masks ID numbers in paths however encoded, in the access log and in the error answer', async () => {
    const paths = [
      `/pass/${CITIZEN}`,
      '/pass/%30%30%31%30%39%39%30%31%32%33%34%35',
      `/pass/0010%399%3001%32345`,
      `/pass/%2530${CITIZEN.slice(1)}`,
      `/nowhere/${CITIZEN}`,
      `/nowhere/%30${CITIZEN.slice(1)}`,
      // An encoded byte before the number: its hex digits must not hide the ID as a 14-digit run.
      `/pass/x%20${CITIZEN}`,
      `/pass/x%2520${CITIZEN}`,
      `/nowhere/a%2D${CITIZEN}%2Db`,
    ];
    for (const p of paths) {
      const res = await request(`${gw.url}${p}`, { headers: auth });
      expect(res.body.toString()).to.not.contain(CITIZEN);
      expect(findLeaks([{ label: `answer to ${p}`, read: () => res.body.toString() }], new Set())).to.deep.equal([]);
    }
    await until(() => gw.logs.filter((l) => l.message === 'access').length >= 12, 'access lines written');
    const findings = findLeaks([{ label: 'log', read: logText }], new Set());
    expect(findings, JSON.stringify(findings)).to.deep.equal([]);
    expect(logText()).to.contain('/pass/[ID12]');
    expect(logText()).to.not.contain(CITIZEN);
    expect(logText()).to.contain('/pass/x%20[ID12]');
  });

  it('writes the access line of a caller that left before its answer: aborted, in order, the ID in its path masked', async () => {
    const requestId = 'hang-aborted-0001';
    const caller = http.request(`${gw.url}/pass/hang/${CITIZEN}?so=0912345678`, {
      headers: { ...auth, 'x-request-id': requestId },
    });
    caller.on('error', () => undefined);
    caller.end();
    await until(() => held.length > 0, 'the upstream holds the call');
    caller.destroy();
    await until(() => gw.logs.some((l) => l.requestId === requestId), 'the access line is written');
    const line = gw.logs.find((l) => l.requestId === requestId)!;
    expect(line).to.include({
      level: 'info',
      message: 'access',
      route: 'pass',
      method: 'GET',
      status: '200 (aborted)',
    });
    expect(line.path).to.equal('/pass/hang/[ID12]?so=[PHONE]');
    expect(Object.keys(line)).to.deep.equal([
      'level',
      'message',
      'requestId',
      'route',
      'consumer',
      'upstream',
      'method',
      'path',
      'status',
      'bytes',
      'durationMs',
      'timestamp',
    ]);
    expect(JSON.stringify(line)).to.not.contain(CITIZEN);
  });

  it('masks secret query parameters (matkhau, password, sig, token, secret, key, access_token, encoded names)', async () => {
    const secrets: Record<string, string> = {
      matkhau: 'mk-value-1a2b3c4d',
      password: 'pw-value-1a2b3c4d',
      sig: 'sig-value-1a2b3c4d',
      token: 'tok-value-1a2b3c4d',
      secret: 'sec-value-1a2b3c4d',
      key: 'key-value-1a2b3c4d',
      access_token: 'at-value-1a2b3c4d',
      'X-Amz-Signature': 'amz-value-1a2b3c4d',
      'pass%77ord': 'enc-value-1a2b3c4d',
      clientSecret: 'cs-value-1a2b3c4d',
    };
    for (const value of Object.values(secrets)) registerSecret(value);
    const query = Object.entries(secrets)
      .map(([k, v]) => `${k}=${encodeURIComponent(v)}`)
      .join('&');
    const res = await request(`${gw.url}/pass/q?${query}&page=2`, {
      headers: { ...auth, 'x-request-id': 'query-case' },
    });
    expect(res.status).to.equal(200);
    await until(() => logText().includes('query-case'), 'the access line is written');
    const line = gw.logs.find((l) => l.requestId === 'query-case' && l.message === 'access')!;
    expect(String(line.path)).to.contain('matkhau=[REDACTED]').and.contain('page=2');
    const findings = findLeaks([{ label: 'log', read: logText }], new Set(Object.values(secrets)));
    expect(findings, JSON.stringify(findings)).to.deep.equal([]);
  });

  it('the audit writer leaves only its daily files: no side file of hashes', () => {
    expect(readdirSync(auditDir()).every((f) => /^audit-\d{4}-\d{2}-\d{2}\.jsonl$/.test(f))).to.equal(true);
  });
});

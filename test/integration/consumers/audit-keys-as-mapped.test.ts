import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { expect } from 'chai';
import { hashSubject } from '../../../src/observability/audit.ts';
import { startGateway, type TestGateway } from '../../helpers/gateway.ts';
import { CONSUMER_KEY, CONSUMER_KEY_SHA256 } from '../../helpers/keys.ts';
import { request, startServer, type TestServer } from '../../helpers/http.ts';
import { registerSecret } from '../../helpers/written-registry.ts';

/**
 * Issue 19: the audit reads a call's business keys as soon as its body is mapped (the `onBody` hook), not
 * at close from a body gone cold. What a credential writes into the body afterwards (a login token injected
 * as a JSON field, MOLISA's AcceptKey) is the platform's secret, not the caller's business key: it never
 * reaches the audit line, even when the field it is written to is named like an audit field.
 */
describe('audit keys are read from the body as mapped, before credentials write into it (issue 19)', () => {
  const TOKEN = 'tok-9f8e7d6c5b4a39281706f5e4d3c2b1a0';
  registerSecret(TOKEN);
  let upstream: TestServer;
  let gw: TestGateway;
  const HMAC_KEY = 'test-audit-hmac-key-0123456789abcdef';

  before(async () => {
    upstream = await startServer((req, res) => {
      res.setHeader('content-type', 'application/json');
      res.end(req.url === '/token' ? JSON.stringify({ token: TOKEN }) : '{"error_code":0}');
    });
    gw = await startGateway({
      'gateway.yaml': 'version: 1\n',
      'upstreams.yaml':
        `upstreams:\n  up:\n    url: ${upstream.url}\n    credentials:\n` +
        `      - { type: login-token, tokenUrl: "${upstream.url}/token", secrets: { username: u, password: p }, ` +
        // The token goes into each record's dossier field (and CMND): what the upstream gets.
        `inject: { jsonField: MaHoSo } }\n` +
        `      - { type: login-token, tokenUrl: "${upstream.url}/token", secrets: { username: u, password: p }, ` +
        `inject: { jsonField: CMND } }\n` +
        `consumers:\n  mcdt: { apiKeys: [{ sha256: ${CONSUMER_KEY_SHA256} }] }\n`,
      'routes/r.yaml': 'routes:\n  - { id: r, methods: [POST], path: /up/x, upstream: up, consumers: [mcdt] }\n',
    });
  });
  after(async () => {
    await gw?.close();
    await upstream?.close();
  });

  it("records the caller's codes and IDs; the token written over them goes upstream, never into the trail", async () => {
    const body = [
      { MaHoSo: 'H-0001', CMND: '001099012345' },
      { MaHoSo: 'H-0002', CMND: '079204000111' },
    ];
    const res = await request(`${gw.url}/up/x`, {
      method: 'POST',
      headers: { 'x-api-key': CONSUMER_KEY, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    expect(res.status).to.equal(200);
    const sent = JSON.parse(upstream.requests.at(-1)!.body.toString()) as Record<string, string>[];
    expect(sent.map((r) => [r.MaHoSo, r.CMND])).to.deep.equal([
      [TOKEN, TOKEN],
      [TOKEN, TOKEN],
    ]);
    await gw.gateway.audit.close();
    const dir = path.join(gw.dir, 'audit-trail');
    const text = readdirSync(dir)
      .map((f) => readFileSync(path.join(dir, f), 'utf8'))
      .join('');
    expect(text).not.to.include(TOKEN);
    const line = JSON.parse(text.trim().split('\n').at(-1)!) as { keys: Record<string, unknown> };
    expect(line.keys).to.deep.equal({
      MaHoSo: ['H-0001', 'H-0002'],
      'CMND#hmac': ['001099012345', '079204000111'].map((id) => hashSubject(id, Buffer.from(HMAC_KEY))),
    });
  });
});

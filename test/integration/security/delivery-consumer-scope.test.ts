import { expect } from 'chai';
import { CONSUMER_KEY, CONSUMER_KEY_SHA256 } from '../../helpers/keys.ts';
import { startGateway, type TestGateway } from '../../helpers/gateway.ts';
import { request, startServer, type TestServer } from '../../helpers/http.ts';
import { MemoryDeliveryStore } from '../../helpers/memory-delivery-store.ts';
import { registerSecret } from '../../helpers/written-registry.ts';

/**
 * Penetration test of durable delivery (issue 17) by a hostile consumer that knows another consumer's
 * dossier codes (`MaHoSo` is printed on the citizen's receipt). The business key's duplicate, order and
 * ledger scope is the consumer's own: another consumer's push of the same key can neither be answered
 * as a duplicate of the attacker's (and never sent), nor held back behind an attacker's push that never
 * delivers, nor read back through the ledger-module guard (which module another system pushed with).
 */
const KEY = 'b'.repeat(64);
registerSecret(KEY);
const ROGUE_KEY = 'rogue-test-key-0123456789abcdef';
const ROGUE_KEY_SHA256 = '80db606df9420a2ce89e7b0121a3a1be499abf8a1a9bf956392cab4388c4083e';
registerSecret(ROGUE_KEY);

function config(upstreamUrl: string) {
  return {
    'gateway.yaml': `version: 1
limits: { bodyBytes: 4096 }
delivery:
  encryptionKey: "${KEY}"
  worker: { leaseMs: 5000, idleMs: 60000 }
  circuit: { failures: 1000, coolDownMs: 200 }
upstreams:
  up:
    url: "${upstreamUrl}"
    errorDialect: molisa
    timeouts: { connectMs: 500, responseMs: 1000 }
    delivery:
      accepted: { statuses: [2xx], json: [{ path: error_code, in: [0, "0"] }] }
consumers:
  mcdt: { apiKeys: [{ sha256: ${CONSUMER_KEY_SHA256} }] }
  rogue: { apiKeys: [{ sha256: ${ROGUE_KEY_SHA256} }], rateLimit: { requests: 2, windowSeconds: 60 } }
routes:
  - id: push
    methods: [POST]
    path: /up/push
    upstream: up
    consumers: [mcdt, rogue]
    request: { mapping: [{ op: drop, fields: [unused] }] }
    delivery:
      mode: queued
      businessKey: MaHoSo
      group: dossier
      operationField: module
      retry: { initialMs: 60000, maxMs: 60000, maxAttempts: 100 }
  - id: status
    methods: [POST]
    path: /up/status
    upstream: up
    consumers: [mcdt, rogue]
    request: { mapping: [{ op: drop, fields: [unused] }] }
    guards: [{ type: ledger-module, group: dossier, dossierField: MaHoSo, moduleField: module }]
`,
  };
}

describe('delivery: a hostile consumer and another consumer’s business keys (issue 17, penetration test)', function () {
  this.timeout(20000);
  let upstream: TestServer;
  let gw: TestGateway;
  let store: MemoryDeliveryStore;
  const received: Record<string, unknown>[] = [];
  const heads: Record<string, unknown>[] = [];

  beforeEach(async () => {
    received.length = 0;
    heads.length = 0;
    // The national side: a push marked `poison` makes it fail (5xx, retried for as long as the route allows).
    upstream = await startServer((req, res, body) => {
      const parsed = JSON.parse(body.toString('utf8')) as Record<string, unknown>;
      res.setHeader('content-type', 'application/json');
      if (parsed.poison) {
        res.statusCode = 500;
        return void res.end(JSON.stringify({ error_code: 500 }));
      }
      received.push(parsed);
      heads.push(req.headers);
      res.end(JSON.stringify({ error_code: 0, message: 'ok' }));
    });
    store = new MemoryDeliveryStore();
    gw = await startGateway(config(upstream.url), { openDeliveryStore: async () => store });
  });
  afterEach(async () => {
    await gw?.close();
    await upstream.close();
  });

  const call = (key: string, path: string, body: unknown, extra: Record<string, string> = {}) =>
    request(`${gw.url}${path}`, {
      method: 'POST',
      headers: { ...extra, 'x-api-key': key, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });

  it('the same push sent first by another consumer is not a duplicate: the owner’s push is delivered, and learns no foreign tracking id', async () => {
    const dossier = { MaHoSo: 'H52.21-250701-0001', module: 'KS', TrangThai: 2 };
    const rogue = await call(ROGUE_KEY, '/up/push', dossier);
    expect(rogue.status).to.equal(200);
    const mine = await call(CONSUMER_KEY, '/up/push', dossier);
    expect(mine.status, 'delivered now, not answered as a duplicate of the rogue push').to.equal(200);
    expect(mine.json()).to.deep.equal({ error_code: 0, message: 'ok' });
    expect(mine.headers['x-lgsp-delivery-id']).to.not.equal(rogue.headers['x-lgsp-delivery-id']);
    expect(received).to.have.length(2);
  });

  it('a push that never delivers, sent by another consumer under the same key, does not hold back the owner’s push', async () => {
    const rogue = await call(ROGUE_KEY, '/up/push', { MaHoSo: 'H52.21-250701-0002', module: 'KS', poison: true });
    expect(rogue.status).to.equal(202);
    const mine = await call(CONSUMER_KEY, '/up/push', { MaHoSo: 'H52.21-250701-0002', module: 'KS', TrangThai: 1 });
    expect(mine.status, 'sent at once, not queued behind the rogue push for the route’s maximum age').to.equal(200);
    expect(received.map((r) => r.TrangThai)).to.deep.equal([1]);
  });

  it('the ledger-module guard reads the caller’s own pushes only: another consumer learns nothing of the module', async () => {
    const pushed = await call(CONSUMER_KEY, '/up/push', { MaHoSo: 'H52.21-250701-0003', module: 'LTKT' });
    expect(pushed.status).to.equal(200);
    const own = await call(CONSUMER_KEY, '/up/status', { MaHoSo: 'H52.21-250701-0003', module: 'KT' });
    expect(own.status, 'the owner is still guarded').to.equal(400);
    expect(own.body.toString()).to.include('GW_PUSHED_MODULE_MISMATCH');
    const probe = await call(ROGUE_KEY, '/up/status', { MaHoSo: 'H52.21-250701-0003', module: 'KT' });
    expect(probe.status, 'no answer that names the owner’s module').to.equal(200);
    expect(probe.body.toString()).to.not.include('LTKT');
  });

  it('what a consumer can make the gateway store is bounded by its rate limit and the body limit: nothing stored past them', async () => {
    for (const n of [1, 2]) {
      const res = await call(ROGUE_KEY, '/up/push', { MaHoSo: `H52.21-250701-010${n}`, module: 'KS', poison: true });
      expect(res.status).to.equal(202);
    }
    const limited = await call(ROGUE_KEY, '/up/push', { MaHoSo: 'H52.21-250701-0103', module: 'KS', poison: true });
    expect(limited.status).to.equal(429);
    const big = await call(CONSUMER_KEY, '/up/push', {
      MaHoSo: 'H52.21-250701-0104',
      module: 'KS',
      x: 'x'.repeat(5000),
    });
    expect(big.status).to.equal(413);
    expect(store.rows.size, 'only the two pushes within the limits are stored').to.equal(2);
  });

  it('a caller cannot seal its own delivery id, coding or gateway key into a stored push: each attempt carries the gateway’s', async () => {
    const res = await call(
      CONSUMER_KEY,
      '/up/push',
      { MaHoSo: 'H52.21-250701-0201', module: 'KS' },
      { 'x-lgsp-delivery-id': 'forged-id', 'accept-encoding': 'gzip' },
    );
    expect(res.status).to.equal(200);
    const [row] = [...store.rows.values()];
    expect(heads).to.have.length(1);
    expect(heads[0]).to.include({ 'x-lgsp-delivery-id': row.id, 'accept-encoding': 'identity' });
    expect(heads[0]).to.not.have.property('x-api-key');
  });
});

import { createHash } from 'node:crypto';
import { expect } from 'chai';
import { ConfigError } from '../../../src/config/config-error.ts';
import { CONSUMER_KEY, CONSUMER_KEY_SHA256 } from '../../helpers/keys.ts';
import { startGateway, type TestGateway } from '../../helpers/gateway.ts';
import { request, startServer, type TestServer } from '../../helpers/http.ts';
import { MemoryDeliveryStore } from '../../helpers/memory-delivery-store.ts';
import { until } from '../../helpers/reliability.ts';
import { registerSecret } from '../../helpers/written-registry.ts';

/**
 * Issue 17, queued mode end to end against a misbehaving upstream on loopback: the push is stored before
 * the caller is answered; an accepting upstream's real answer is relayed; a down or failing upstream
 * gets the push later (202 + tracking id now); a refusal is relayed and buried; the same push twice is
 * delivered once; a changed payload after the first; order per business key; retries with backoff,
 * the dead letter with one log line, the circuit.
 */
const KEY = 'a'.repeat(64);
registerSecret(KEY);
const auth = { 'x-api-key': CONSUMER_KEY, 'content-type': 'application/json' };
/** A citizen ID in the payload: must never reach a log line, the store in clear, or an answer it was not in. */
const CMND = '001099012345';

type Behaviour = (body: Record<string, unknown>[]) => { status: number; body: unknown } | 'reset';

function config(
  upstreamUrl: string,
  extra: { route?: string; upstream?: string; top?: string; delivery?: string; consumers?: string } = {},
) {
  return {
    'gateway.yaml': `version: 1
delivery:
  encryptionKey: "${KEY}"
  worker: { leaseMs: 5000, idleMs: 60000 }
  circuit: ${extra.top ?? '{ failures: 50, coolDownMs: 200 }'}
${extra.delivery ?? ''}
upstreams:
  up:
    url: "${upstreamUrl}"
    errorDialect: molisa
    timeouts: { connectMs: 500, responseMs: 1000 }
    delivery:
      accepted: { statuses: [2xx], json: [{ path: error_code, in: [0, "0"] }] }
      refused: { statuses: [4xx], json: [{ path: error_code, in: [4] }] }
${extra.upstream ?? ''}
consumers:
  mcdt: { apiKeys: [{ sha256: ${CONSUMER_KEY_SHA256} }] }
${extra.consumers ?? ''}
routes:
  - id: push
    methods: [POST]
    path: /up/push
    upstream: up
    consumers: [mcdt${extra.consumers ? ', other' : ''}]
    request: { mapping: [{ op: drop, fields: [unused] }] }
    delivery:
      mode: queued
      businessKey: MaHoSo
      group: dossier
      retry: { initialMs: 20, maxMs: 40, maxAttempts: 6 }
${extra.route ?? ''}
`,
  };
}

describe('delivery: queued pushes (issue 17)', function () {
  this.timeout(20000);
  let upstream: TestServer;
  let gw: TestGateway;
  let store: MemoryDeliveryStore;
  let behaviour: Behaviour;
  const received: { id: string; body: Record<string, unknown>[]; text: string }[] = [];

  async function start(extra: Parameters<typeof config>[1] = {}) {
    store = new MemoryDeliveryStore();
    gw = await startGateway(config(upstream.url, extra), { openDeliveryStore: async () => store });
  }

  /** When set, the upstream's answer as exact text (numbers JSON cannot round-trip through a double). */
  let upstreamText: string | undefined;

  beforeEach(async () => {
    received.length = 0;
    upstreamText = undefined;
    behaviour = () => ({ status: 200, body: { error_code: 0, message: 'ok' } });
    upstream = await startServer((req, res, body) => {
      const parsed = JSON.parse(body.toString('utf8')) as Record<string, unknown>[];
      const outcome = behaviour(parsed);
      if (outcome === 'reset') return void req.socket.destroy();
      received.push({ id: String(req.headers['x-lgsp-delivery-id']), body: parsed, text: body.toString('utf8') });
      res.setHeader('content-type', 'application/json');
      res.statusCode = outcome.status;
      res.end(upstreamText ?? JSON.stringify(outcome.body));
    });
  });
  afterEach(async () => {
    await gw?.close();
    await upstream.close();
  });

  const push = (record: Record<string, unknown>) =>
    request(`${gw.url}/up/push`, { method: 'POST', headers: auth, body: JSON.stringify([record]) });
  const rows = () => [...store.rows.values()];

  it('an accepting upstream: the caller gets its real answer; the row is delivered; the attempt carries X-LGSP-Delivery-Id', async () => {
    await start();
    const reply = await push({ MaHoSo: 'HS-1', CMND });
    expect(reply.status).to.equal(200);
    expect(reply.json()).to.deep.equal({ error_code: 0, message: 'ok' });
    expect(received).to.have.length(1);
    const [row] = rows();
    expect(row.state).to.equal('delivered');
    expect(received[0].id).to.equal(row.id);
    // Nothing in clear at rest: the business key is an HMAC, the payload sealed.
    expect(row.orderKey).to.not.include('HS-1');
    expect(row.sealed!.includes(Buffer.from(CMND))).to.equal(false);
    expect(row.sealed!.includes(Buffer.from('HS-1'))).to.equal(false);
  });

  it('down, then recovered: 202 "accepted for delivery" in the route dialect (never error_code 0), then delivered by the worker', async () => {
    await start();
    behaviour = () => 'reset';
    const reply = await push({ MaHoSo: 'HS-2', CMND });
    expect(reply.status).to.equal(202);
    const body = reply.json();
    expect(body.code).to.equal('GW_DELIVERY_ACCEPTED');
    expect(body.error_code).to.equal(202);
    expect(body.trackingId).to.be.a('string').with.length.greaterThan(15);
    expect(reply.headers['x-lgsp-delivery-id']).to.equal(body.trackingId);
    expect(JSON.stringify(body)).to.not.include(CMND);
    const id = body.trackingId as string;
    expect(store.rows.get(id)!.state, 'stored, not delivered').to.be.oneOf(['queued', 'in_flight']);
    behaviour = () => ({ status: 200, body: { error_code: 0, message: 'ok' } });
    await until(() => store.rows.get(id)?.state === 'delivered', 'the worker delivered the push');
    expect(received.map((r) => r.id)).to.deep.equal([id]);
    expect(received[0].body[0].CMND).to.equal(CMND);
    expect(store.rows.get(id)!.attempts).to.be.greaterThan(1);
  });

  it('HTTP 200 with a failure code (MOLISA error_code 5) is not accepted: retried with backoff until accepted', async () => {
    await start();
    let failures = 3;
    behaviour = () =>
      failures-- > 0
        ? { status: 200, body: { error_code: 5, message: 'busy' } }
        : { status: 200, body: { error_code: 0 } };
    const reply = await push({ MaHoSo: 'HS-3' });
    expect(reply.status).to.equal(202);
    const id = reply.json().trackingId as string;
    await until(() => store.rows.get(id)?.state === 'delivered', 'delivered after three failures');
    expect(received).to.have.length(4);
    expect(new Set(received.map((r) => r.id))).to.deep.equal(new Set([id]));
    expect(store.rows.get(id)!.attempts).to.equal(4);
  });

  it('a definite refusal (4xx, or a configured refusal code) is relayed to the caller and buried, never retried', async () => {
    await start();
    behaviour = () => ({ status: 200, body: { error_code: 4, message: 'invalid records' } });
    const reply = await push({ MaHoSo: 'HS-4' });
    expect(reply.status).to.equal(200);
    expect(reply.json()).to.deep.equal({ error_code: 4, message: 'invalid records' });
    expect(rows()[0].state).to.equal('dead');
    behaviour = () => ({ status: 422, body: { error_code: 9 } });
    const second = await push({ MaHoSo: 'HS-4b' });
    expect(second.status).to.equal(422);
    expect(rows().filter((r) => r.state === 'dead')).to.have.length(2);
    expect(received).to.have.length(2);
  });

  it('the same push twice is delivered once; the second caller gets the first tracking id and its state', async () => {
    await start();
    const first = await push({ MaHoSo: 'HS-5', CMND });
    expect(first.status).to.equal(200);
    const again = await push({ MaHoSo: 'HS-5', CMND });
    expect(again.status).to.equal(202);
    const body = again.json();
    expect(body.code).to.equal('GW_DELIVERY_DUPLICATE');
    expect(body.trackingId).to.equal(rows()[0].id);
    expect(body.deliveryState).to.equal('delivered');
    expect(received).to.have.length(1);
  });

  it('order per business key: a changed payload waits behind the first and is delivered after it', async () => {
    await start();
    behaviour = () => 'reset';
    const first = await push({ MaHoSo: 'HS-6', StatusId: 1 });
    const second = await push({ MaHoSo: 'HS-6', StatusId: 2 });
    const other = await push({ MaHoSo: 'HS-7', StatusId: 1 });
    for (const r of [first, second, other]) expect(r.status).to.equal(202);
    const ids = [first, second].map((r) => r.json().trackingId as string);
    expect(store.rows.get(ids[1])!.attempts, 'the second is never tried before the first').to.equal(0);
    behaviour = () => ({ status: 200, body: { error_code: 0 } });
    await until(() => rows().every((r) => r.state === 'delivered'), 'all delivered');
    const hs6 = received.filter((r) => r.body[0].MaHoSo === 'HS-6').map((r) => r.body[0].StatusId);
    expect(hs6).to.deep.equal([1, 2]);
  });

  it('dead letter after maxAttempts: ONE clear error line with tracking id, route, upstream, attempts, last error; no citizen data', async () => {
    await start();
    behaviour = () => ({ status: 503, body: { error_code: 503 } });
    const reply = await push({ MaHoSo: 'HS-8', CMND });
    const id = reply.json().trackingId as string;
    await until(() => store.rows.get(id)?.state === 'dead', 'the push died');
    expect(received).to.have.length(6);
    const dead = gw.logs.filter((l) => l.message === 'delivery dead: moved to the dead letter, not retried again');
    expect(dead).to.have.length(1);
    expect(dead[0]).to.include({
      deliveryId: id,
      route: 'push',
      upstream: 'up',
      attempts: 6,
      lastError: 'HTTP 503 error_code=503',
    });
    const allLogs = JSON.stringify(gw.logs);
    expect(allLogs).to.not.include(CMND);
    expect(allLogs).to.not.include('HS-8');
  });

  it('the circuit opens after N failures in a row (no upstream call then), and one push probes it after the cool-down', async () => {
    await start({ top: '{ failures: 2, coolDownMs: 300 }' });
    behaviour = () => ({ status: 503, body: {} });
    const a = await push({ MaHoSo: 'C-1' });
    const b = await push({ MaHoSo: 'C-2' });
    await until(() => gw.gateway.delivery!.circuits().up === 'open', 'two failures opened the circuit');
    await until(() => rows().every((r) => r.state !== 'in_flight'), 'the attempts under way ended');
    const before = received.length;
    const c = await push({ MaHoSo: 'C-3' });
    expect(c.status).to.equal(202);
    expect(received.length, 'an open circuit: stored, answered, not sent').to.equal(before);
    behaviour = () => ({ status: 200, body: { error_code: 0 } });
    await until(() => rows().every((r) => r.state === 'delivered'), 'delivered after the probe closed the circuit');
    expect(gw.gateway.delivery!.circuits().up).to.equal('closed');
    for (const r of [a, b]) expect(r.status).to.equal(202);
  });

  it('a reload that removes the route: its pushes stay queued (reported once), and go when the route is back', async () => {
    await start();
    behaviour = () => 'reset';
    const reply = await push({ MaHoSo: 'HS-R' });
    const id = reply.json().trackingId as string;
    const original = config(upstream.url)['gateway.yaml'];
    gw.write('gateway.yaml', original.replace(/routes:[\s\S]*$/, 'routes: []\n'));
    expect((await gw.gateway.reloader.reload('test')).result).to.equal('success');
    await until(
      () => gw.logs.some((l) => l.message === 'delivery: route no longer loaded; its queued pushes wait for it'),
      'the missing route reported',
    );
    await until(() => store.rows.get(id)!.state === 'queued', 'an attempt under way ended');
    behaviour = () => ({ status: 200, body: { error_code: 0 } });
    expect(received).to.have.length(0);
    gw.write('gateway.yaml', original);
    expect((await gw.gateway.reloader.reload('test')).result).to.equal('success');
    await until(() => store.rows.get(id)?.state === 'delivered', 'delivered once the route is back');
    expect(received.map((r) => r.id)).to.deep.equal([id]);
  });

  it('direct mode with a business key: sent once, the upstream’s real answer relayed (even a 503), recorded in the ledger', async () => {
    await start({
      route: `  - id: direct-push
    methods: [POST]
    path: /up/direct
    upstream: up
    upstreamPath: /push
    consumers: [mcdt]
    request: { mapping: [{ op: drop, fields: [unused] }] }
    delivery: { mode: direct, businessKey: MaHoSo, group: dossier }`,
    });
    const send = (record: Record<string, unknown>) =>
      request(`${gw.url}/up/direct`, { method: 'POST', headers: auth, body: JSON.stringify([record]) });
    const ok = await send({ MaHoSo: 'D-1' });
    expect(ok.status).to.equal(200);
    behaviour = () => ({ status: 503, body: { error_code: 503, message: 'down' } });
    const down = await send({ MaHoSo: 'D-2' });
    expect(down.status).to.equal(503);
    expect(down.json()).to.deep.equal({ error_code: 503, message: 'down' });
    behaviour = () => 'reset';
    const cut = await send({ MaHoSo: 'D-3' });
    expect(cut.status).to.equal(502);
    expect(cut.json().code).to.equal('GW_UPSTREAM_RESET');
    const states = rows().map((r) => [r.mode, r.state, r.lastError]);
    expect(states).to.deep.equal([
      ['direct', 'delivered', null],
      ['direct', 'failed', 'HTTP 503 error_code=503'],
      ['direct', 'failed', 'GW_UPSTREAM_RESET'],
    ]);
    await until(() => received.length === 2, 'nothing retried');
    expect(
      rows().every((r) => r.sealed === null),
      'a direct push keeps no payload',
    ).to.equal(true);
  });

  it("one consumer's backlog is bounded (maxPendingPerConsumer): past it 429, nothing stored; another consumer still queues", async () => {
    const otherKey = 'other-consumer-key-0123456789';
    registerSecret(otherKey);
    const otherSha = createHash('sha256').update(otherKey).digest('hex');
    await start({
      delivery: '  maxPendingPerConsumer: 2',
      consumers: `  other: { apiKeys: [{ sha256: ${otherSha} }] }`,
    });
    behaviour = () => 'reset';
    for (const n of [1, 2]) expect((await push({ MaHoSo: `HS-CAP-${n}`, CMND })).status).to.equal(202);
    const refused = await push({ MaHoSo: 'HS-CAP-3', CMND });
    expect(refused.status).to.equal(429);
    expect(refused.json()).to.include({ code: 'GW_DELIVERY_BACKLOG_FULL' });
    expect(rows(), 'nothing stored past the cap').to.have.length(2);
    const other = await request(`${gw.url}/up/push`, {
      method: 'POST',
      headers: { ...auth, 'x-api-key': otherKey },
      body: JSON.stringify([{ MaHoSo: 'HS-CAP-1', CMND }]),
    });
    expect(other.status, 'another consumer has its own backlog').to.equal(202);
    expect(rows()).to.have.length(3);
  });

  it("an accepted push's answer goes through the response stage as on the direct path: numbers kept exact, the guard applied", async () => {
    await start({
      route: `  - id: mapped
    methods: [POST]
    path: /up/mapped
    upstream: up
    consumers: [mcdt]
    request: { mapping: [{ op: drop, fields: [unused] }] }
    response: { mapping: [{ op: drop, fields: [internal] }] }
    delivery: { mode: queued, businessKey: MaHoSo, group: mapped }
`,
    });
    const send = (record: Record<string, unknown>) =>
      request(`${gw.url}/up/mapped`, { method: 'POST', headers: auth, body: JSON.stringify([record]) });
    // A 64-bit id a double cannot hold: JSON.parse alone would answer 12345678901234567000.
    upstreamText = '{"error_code":0,"internal":"x","id":12345678901234567890}';
    const reply = await send({ MaHoSo: 'HS-MAP-1', CMND });
    expect(reply.status, reply.body.toString()).to.equal(200);
    expect(reply.body.toString()).to.equal('{"error_code":0,"id":12345678901234567890}');
    // Nested past limits.jsonDepth: refused by the byte guard, 502 naming the upstream (enforce mode).
    upstreamText = `{"error_code":0,"deep":${'['.repeat(200)}${']'.repeat(200)}}`;
    const deep = await send({ MaHoSo: 'HS-MAP-2', CMND });
    expect(deep.status, deep.body.toString()).to.equal(502);
    expect(deep.json()).to.include({ code: 'GW_UPSTREAM_BAD_RESPONSE' });
  });

  it('a credential that writes into the JSON body: each attempt keeps the sealed numbers exact', async () => {
    const tokens = await startServer((_req, res) => {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ error_code: 0, token: 'tok-in-body' }));
    });
    try {
      await start({
        upstream: `  tok:
    url: "${upstream.url}"
    errorDialect: molisa
    timeouts: { connectMs: 500, responseMs: 1000 }
    delivery: { accepted: { statuses: [2xx], json: [{ path: error_code, in: [0, "0"] }] } }
    credentials:
      - type: login-token
        tokenUrl: "${tokens.url}/token"
        body: { username: u, password: p }
        inject: { jsonField: AcceptKey }
`,
        route: `  - id: tokened
    methods: [POST]
    path: /up/tokened
    upstream: tok
    consumers: [mcdt]
    request: { mapping: [{ op: drop, fields: [unused] }] }
    delivery: { mode: queued, businessKey: MaHoSo, group: tokened }
`,
      });
      behaviour = () => 'reset';
      const reply = await request(`${gw.url}/up/tokened`, {
        method: 'POST',
        headers: auth,
        body: '[{"MaHoSo":"HS-EXACT-1","SoTien":12345678901234567890}]',
      });
      expect(reply.status, reply.body.toString()).to.equal(202);
      behaviour = () => ({ status: 200, body: { error_code: 0, message: 'ok' } });
      const id = reply.json().trackingId as string;
      await until(() => store.rows.get(id)?.state === 'delivered', 'delivered by the worker');
      const sent = received.find((r) => r.id === id)!;
      expect(sent.body[0].AcceptKey).to.equal('tok-in-body');
      // JSON.parse and stringify again would send 12345678901234567000.
      expect(sent.text).to.include('"SoTien":12345678901234567890');
    } finally {
      await tokens.close();
    }
  });

  it('a store that cannot be written: 503 GW_DELIVERY_UNAVAILABLE in the route dialect, and nothing is sent', async () => {
    await start();
    await store.close();
    const reply = await push({ MaHoSo: 'HS-U', CMND });
    expect(reply.status).to.equal(503);
    expect(reply.json()).to.include({ code: 'GW_DELIVERY_UNAVAILABLE', error_code: 503 });
    expect(received).to.have.length(0);
    expect(JSON.stringify(gw.logs)).to.not.include(CMND);
  });

  it('acceptedAnswer: the admin’s compatibility answer replaces the 202 notice, with the tracking id', async () => {
    await start({
      route: '      acceptedAnswer: { status: 200, body: { error_code: 0, message: "Đã nhận, mã {trackingId}" } }',
    });
    behaviour = () => 'reset';
    const reply = await push({ MaHoSo: 'HS-9' });
    expect(reply.status).to.equal(200);
    const id = rows()[0].id;
    expect(reply.json()).to.deep.equal({ error_code: 0, message: `Đã nhận, mã ${id}` });
  });

  it('an audit line per attempt, with the tracking id and outcome, and no payload', async () => {
    await start();
    behaviour = () => ({ status: 200, body: { error_code: 0 } });
    await push({ MaHoSo: 'HS-10', CMND });
    await gw.gateway.audit.close();
    const { readdirSync, readFileSync } = await import('node:fs');
    const dir = `${gw.dir}/audit-trail`;
    const lines = readdirSync(dir)
      .flatMap((f) => readFileSync(`${dir}/${f}`, 'utf8').split('\n'))
      .filter(Boolean)
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    const attempts = lines.filter((l) => l.delivery !== undefined);
    expect(attempts).to.have.length(1);
    expect(attempts[0]).to.include({ requestId: rows()[0].id, route: 'push', upstream: 'up', status: 200 });
    expect(attempts[0].delivery).to.deep.equal({ attempt: 1, outcome: 'delivered' });
    expect(JSON.stringify(attempts)).to.not.include(CMND);
  });
});

describe('delivery: config checks at load (issue 17)', () => {
  const base = (route: string, top = `delivery: { encryptionKey: "${KEY}" }\n`) => ({
    'gateway.yaml': `version: 1\n${top}upstreams:\n  up: { url: "http://127.0.0.1:9" }\nconsumers:\n  mcdt: { apiKeys: [{ sha256: ${CONSUMER_KEY_SHA256} }] }\nroutes:\n${route}`,
  });
  const refusal = async (files: Record<string, string>) => {
    try {
      const gw = await startGateway(files, { openDeliveryStore: async () => new MemoryDeliveryStore() });
      await gw.close();
    } catch (err) {
      expect(err).to.be.instanceOf(ConfigError);
      return (err as Error).message;
    }
    throw new Error('the config was accepted');
  };

  it('queued on a pass-through route (a body that may stream) is an error naming the route', async () => {
    const message = await refusal(
      base(
        '  - { id: streamy, methods: [POST], path: /up/x, upstream: up, consumers: [mcdt], delivery: { mode: queued } }\n',
      ),
    );
    expect(message).to.match(/streamy cannot queue/);
    expect(message).to.match(/routes\[0\]\.delivery\.mode|routes\.0\.delivery\.mode/);
  });

  it('a route with delivery and no delivery.encryptionKey is an error', async () => {
    const message = await refusal(
      base(
        '  - { id: q, methods: [POST], path: /up/x, upstream: up, consumers: [mcdt], request: { mapping: [{ op: drop, fields: [u] }] }, delivery: { mode: queued } }\n',
        '',
      ),
    );
    expect(message).to.match(/encryptionKey/);
  });

  it('a claim shorter than an attempt (connect + response timeout, replayed once) is an error naming leaseMs', async () => {
    const message = await refusal(
      base(
        '  - { id: q, methods: [POST], path: /up/x, upstream: up, consumers: [mcdt], request: { mapping: [{ op: drop, fields: [u] }] }, delivery: { mode: queued } }\n',
        `delivery: { encryptionKey: "${KEY}", worker: { leaseMs: 60000 } }\n`,
      ),
    );
    expect(message).to.match(/delivery\.worker\.leaseMs/);
    expect(message).to.match(/70000 ms/);
  });

  it('a business key the request schema does not have is an error naming it', async () => {
    const message = await refusal(
      base(
        '  - { id: q, methods: [POST], path: /up/x, upstream: up, consumers: [mcdt], request: { schema: molisa/DongBoDVC.json }, delivery: { mode: queued, businessKey: MaHS } }\n',
        `delivery: { encryptionKey: "${KEY}" }\npaths: { schemas: "${new URL('../../../schemas', import.meta.url).pathname}" }\n`,
      ),
    );
    expect(message).to.match(/business key MaHS: the request schema has no field "MaHS"/);
  });

  it('a weak encryption key (a passphrase) is refused', async () => {
    const message = await refusal(
      base(
        '  - { id: q, methods: [POST], path: /up/x, upstream: up, consumers: [mcdt], request: { mapping: [{ op: drop, fields: [u] }] }, delivery: { mode: queued } }\n',
        'delivery: { encryptionKey: "correct horse battery staple" }\n',
      ),
    );
    expect(message).to.match(/32 bytes/);
  });
});

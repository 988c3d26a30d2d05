import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { expect } from 'chai';
import { startGateway, type TestGateway } from '../../helpers/gateway.ts';
import { request } from '../../helpers/http.ts';
import { ADMIN_KEY, ADMIN_KEY_SHA256, CONSUMER_KEY_SHA256 } from '../../helpers/keys.ts';
import { createMemoryDeliveryStore, withOverrides } from '../../helpers/ops-delivery-store.ts';
import type { DeliveryStore } from '../../../src/delivery/store.ts';

const CITIZEN = '001099012345';
// Recent rows: the gateway sweeps payloads older than delivery.retentionDays (7) at start.
const T0 = Date.now() - 3_600_000;

/** A config with one labelled admin key, and the admin listener asking for it too. */
const files = {
  'gateway.yaml': `version: 1\nadmin: { apiKeys: [{ sha256: ${ADMIN_KEY_SHA256}, label: ops-hanh }], listen: { port: 0, requireKey: true } }\n`,
  'upstreams.yaml': `upstreams:\n  molisa: { url: "http://127.0.0.1:9" }\nconsumers:\n  mcdt: { apiKeys: [{ sha256: ${CONSUMER_KEY_SHA256} }] }\n`,
  'routes.yaml':
    'routes:\n  - { id: molisa-sync, methods: [POST], path: /molisa/*, upstream: molisa, consumers: [mcdt] }\n',
};

function fill(store: ReturnType<typeof createMemoryDeliveryStore>): void {
  // Sealed payloads hold the citizen ID in clear here (a test store does not seal): no page may show them.
  const sealed = Buffer.from(`{"soDinhDanh":"${CITIZEN}"}`);
  store.put({ id: 'd-queued', state: 'queued', routeId: 'molisa-sync', upstreamId: 'molisa', createdAt: T0, sealed });
  store.put({
    id: 'd-dead',
    state: 'dead',
    routeId: 'molisa-sync',
    upstreamId: 'molisa',
    createdAt: T0 + 1000,
    sealed,
    orderKey: 'hmac-of-MaHoSo',
    lastStatus: 503,
    lastError: 'HTTP 503',
    attempts: 8,
  });
  store.put({
    id: 'd-delivered',
    state: 'delivered',
    routeId: 'hotich-push',
    upstreamId: 'hotich',
    createdAt: T0 + 2000,
    sealed,
  });
  store.put({ id: 'd-erased', state: 'dead', upstreamId: 'hotich', createdAt: T0 + 3000, sealed: null });
}

describe('/admin/deliveries: the delivery queue and ledger for operators (issue 17)', function () {
  this.timeout(10_000);
  let gw: TestGateway;
  let admin: string;
  let store: ReturnType<typeof createMemoryDeliveryStore>;
  const key = { 'x-admin-key': ADMIN_KEY };

  before(async () => {
    store = createMemoryDeliveryStore();
    fill(store);
    gw = await startGateway(files, { deliveries: store });
    admin = (await gw.gateway.listenAdmin(0, '127.0.0.1')).url;
  });
  after(async () => {
    await gw?.close();
  });

  it('refuses every delivery page without the admin key, on both listeners, and with a consumer key', async () => {
    for (const base of [gw.url, admin]) {
      for (const [method, p] of [
        ['GET', '/admin/deliveries'],
        ['GET', '/admin/deliveries/d-dead'],
        ['POST', '/admin/deliveries/d-dead/retry'],
        ['POST', '/admin/deliveries/d-dead/drop'],
      ]) {
        const res = await request(`${base}${p}`, { method });
        expect(res.status, `${method} ${base}${p}`).to.equal(401);
        const withConsumerKey = await request(`${base}${p}`, {
          method,
          headers: { 'x-admin-key': 'consumer-test-key-0123456789abcdef' },
        });
        expect(withConsumerKey.status).to.equal(401);
      }
    }
    expect(store.rows.get('d-dead')!.state).to.equal('dead');
  });

  it('lists newest first with filters and pages, and never a payload or a clear business key', async () => {
    const all = await request(`${admin}/admin/deliveries`, { headers: key });
    expect(all.status).to.equal(200);
    const body = all.json<{ deliveries: Record<string, unknown>[]; next: string | null }>();
    expect(body.deliveries.map((d) => d.id)).to.deep.equal(['d-erased', 'd-delivered', 'd-dead', 'd-queued']);
    expect(body.next).to.equal(null);
    expect(all.body.toString()).to.not.include(CITIZEN);
    expect(all.body.toString()).to.not.include('sealed');
    const dead = body.deliveries.find((d) => d.id === 'd-dead')!;
    expect(dead).to.include({
      state: 'dead',
      businessKeyHmac: 'hmac-of-MaHoSo',
      payload: 'held',
      attempts: 8,
      lastError: 'HTTP 503',
    });
    expect(body.deliveries.find((d) => d.id === 'd-erased')!.payload).to.equal('erased');

    const filtered = await request(`${admin}/admin/deliveries?state=dead&upstream=molisa`, { headers: key });
    expect(filtered.json<{ deliveries: { id: string }[] }>().deliveries.map((d) => d.id)).to.deep.equal(['d-dead']);
    const byRoute = await request(`${admin}/admin/deliveries?route=hotich-push`, { headers: key });
    expect(byRoute.json<{ deliveries: { id: string }[] }>().deliveries.map((d) => d.id)).to.deep.equal(['d-delivered']);

    const seen: string[] = [];
    let next: string | null = null;
    for (let page = 0; page < 10; page++) {
      const res = await request(`${admin}/admin/deliveries?limit=3${next ? `&before=${next}` : ''}`, { headers: key });
      const got = res.json<{ deliveries: { id: string }[]; next: string | null }>();
      seen.push(...got.deliveries.map((d) => d.id));
      next = got.next;
      if (!next) break;
    }
    expect(seen).to.deep.equal(['d-erased', 'd-delivered', 'd-dead', 'd-queued']);
  });

  it('bounds and checks the filters: 400 naming the filter, nothing asked of the store', async () => {
    const before = store.calls.list ?? 0;
    for (const q of [
      'limit=501',
      'limit=0',
      'limit=-1',
      'limit=1e9',
      'state=lost',
      `route=${encodeURIComponent('a b')}`,
      'before=..%2f',
    ]) {
      const res = await request(`${admin}/admin/deliveries?${q}`, { headers: key });
      expect(res.status, q).to.equal(400);
      expect(res.json<{ code: string }>().code).to.equal('GW_BAD_REQUEST');
    }
    const ok = await request(`${admin}/admin/deliveries?limit=500`, { headers: key });
    expect(ok.status).to.equal(200);
    expect(store.calls.list).to.equal(before + 1);
  });

  it('shows one delivery; 404 for an unknown id, and an id that is an ID number is not echoed', async () => {
    const res = await request(`${admin}/admin/deliveries/d-dead`, { headers: key });
    expect(res.status).to.equal(200);
    expect(res.json()).to.include({ id: 'd-dead', route: 'molisa-sync', upstream: 'molisa' });
    expect(res.body.toString()).to.not.include(CITIZEN);
    const unknown = await request(`${admin}/admin/deliveries/nope`, { headers: key });
    expect(unknown.status).to.equal(404);
    expect(unknown.json<{ code: string; detail: string }>().code).to.equal('GW_DELIVERY_NOT_FOUND');
    expect(unknown.body.toString()).to.include('nope');
    for (const id of [`${CITIZEN}.x`, `x~${CITIZEN}`]) {
      const odd = await request(`${admin}/admin/deliveries/${id}`, { headers: key });
      expect(odd.status).to.equal(404);
      expect(odd.body.toString()).to.not.include(CITIZEN);
    }
  });

  it('retries a dead delivery and drops a queued one; refuses other states with 409 and unknown ids with 404', async () => {
    const retried = await request(`${admin}/admin/deliveries/d-dead/retry`, { method: 'POST', headers: key });
    expect(retried.status).to.equal(200);
    expect(retried.json<{ delivery: { state: string } }>().delivery.state).to.equal('queued');
    expect(store.rows.get('d-dead')!.state).to.equal('queued');

    const dropped = await request(`${gw.url}/admin/deliveries/d-queued/drop`, { method: 'POST', headers: key });
    expect(dropped.status).to.equal(200);
    expect(dropped.json<{ delivery: { state: string; payload: string } }>().delivery).to.include({
      state: 'dropped',
      payload: 'erased',
    });

    const again = await request(`${admin}/admin/deliveries/d-queued/drop`, { method: 'POST', headers: key });
    expect(again.status).to.equal(409);
    expect(again.json<{ code: string; detail: string }>().code).to.equal('GW_DELIVERY_CONFLICT');
    const delivered = await request(`${admin}/admin/deliveries/d-delivered/retry`, { method: 'POST', headers: key });
    expect(delivered.status).to.equal(409);
    const erased = await request(`${admin}/admin/deliveries/d-erased/retry`, { method: 'POST', headers: key });
    expect(erased.status).to.equal(409);
    expect(store.rows.get('d-erased')!.state).to.equal('dead');
    const unknown = await request(`${admin}/admin/deliveries/missing/retry`, { method: 'POST', headers: key });
    expect(unknown.status).to.equal(404);
    const get = await request(`${admin}/admin/deliveries/d-dead/retry`, { headers: key });
    expect(get.status).to.equal(404);
  });

  it('writes an audit line per operator action naming the admin key label, refused actions included', async () => {
    await gw.gateway.close(1000); // flushes the audit trail
    const dir = path.join(gw.dir, 'audit-trail');
    const lines = readdirSync(dir)
      .flatMap((f) => readFileSync(path.join(dir, f), 'utf8').split('\n'))
      .filter((l) => l.includes('admin:deliveries'))
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines.map((l) => [l.route, (l.keys as { delivery: string }).delivery, l.status])).to.deep.equal([
      ['admin:deliveries.retry', 'd-dead', 200],
      ['admin:deliveries.drop', 'd-queued', 200],
      ['admin:deliveries.drop', 'd-queued', 409],
      ['admin:deliveries.retry', 'd-delivered', 409],
      ['admin:deliveries.retry', 'd-erased', 409],
      ['admin:deliveries.retry', 'missing', 404],
    ]);
    for (const l of lines) expect(l.consumer).to.equal('admin:ops-hanh');
  });
});

describe('/admin/deliveries without a delivery store', function () {
  this.timeout(10_000);
  let gw: TestGateway;
  after(async () => {
    await gw?.close();
  });

  it('answers 503 GW_DELIVERY_STORE_UNAVAILABLE; a failing store is a 503 that names no host', async () => {
    gw = await startGateway(files);
    const res = await request(`${gw.url}/admin/deliveries`, { headers: { 'x-admin-key': ADMIN_KEY } });
    expect(res.status).to.equal(503);
    expect(res.json<{ code: string }>().code).to.equal('GW_DELIVERY_STORE_UNAVAILABLE');
    await gw.close();

    const broken = createMemoryDeliveryStore();
    const failing: DeliveryStore = withOverrides(broken, {
      list: () => Promise.reject(new Error('connect ECONNREFUSED db.internal:5432')),
    });
    gw = await startGateway(files, { deliveries: failing });
    const down = await request(`${gw.url}/admin/deliveries`, { headers: { 'x-admin-key': ADMIN_KEY } });
    expect(down.status).to.equal(503);
    expect(down.body.toString()).to.not.include('db.internal');
    expect(gw.logs.some((l) => JSON.stringify(l).includes('delivery store failed'))).to.equal(true);
  });
});

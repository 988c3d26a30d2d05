import { expect } from 'chai';
import { startGateway, type TestGateway } from '../../helpers/gateway.ts';
import { request } from '../../helpers/http.ts';
import { ADMIN_KEY, ADMIN_KEY_SHA256 } from '../../helpers/keys.ts';
import { createMemoryDeliveryStore, withOverrides } from '../../helpers/ops-delivery-store.ts';
import { DELIVERY_COUNTS_CACHE_MS, deliveryHooks } from '../../../src/observability/metrics.ts';
import type { DeliveryStore } from '../../../src/delivery/store.ts';

const T0 = Date.UTC(2026, 10, 2, 3, 0, 0);

/** The value of one sample line of a Prometheus text page, or undefined when absent. */
function sample(page: string, name: string): number | undefined {
  const line = page.split('\n').find((l) => l.startsWith(`${name} `));
  return line === undefined ? undefined : Number(line.slice(name.length + 1));
}

describe('delivery metrics: store counts at scrape time, cached; counters the engine bumps (issue 17)', function () {
  this.timeout(10_000);
  let gw: TestGateway;
  let now = T0;
  let failing = false;
  const memory = createMemoryDeliveryStore();
  const store: DeliveryStore = withOverrides(memory, {
    counts: () => (failing ? Promise.reject(new Error('connection terminated')) : memory.counts()),
  });
  const scrape = async () => {
    const res = await request(`${gw.url}/metrics`, { headers: { 'x-admin-key': ADMIN_KEY } });
    expect(res.status).to.equal(200);
    return res.body.toString();
  };

  before(async () => {
    memory.put({ id: 'q1', state: 'queued', createdAt: T0 - 90_000 });
    memory.put({ id: 'q2', state: 'queued', createdAt: T0 - 10_000 });
    memory.put({ id: 'f1', state: 'in_flight', createdAt: T0 - 5_000 });
    memory.put({ id: 'd1', state: 'dead', createdAt: T0 - 500_000 });
    memory.put({ id: 'ok', state: 'delivered', createdAt: T0 - 900_000 });
    gw = await startGateway(
      {
        'gateway.yaml': `version: 1\nadmin: { apiKeys: [{ sha256: ${ADMIN_KEY_SHA256} }] }\nmetrics: { defaultMetrics: false }\n`,
        'upstreams.yaml': 'upstreams:\n  molisa: { url: "http://127.0.0.1:9" }\n',
        'routes.yaml': 'routes: []\n',
      },
      { deliveries: store, clock: { now: () => now } },
    );
  });
  after(async () => {
    await gw?.close();
  });

  it('shows lgsp_deliveries per state and the age of the oldest pending delivery', async () => {
    const page = await scrape();
    expect(sample(page, 'lgsp_deliveries{state="queued"}')).to.equal(2);
    expect(sample(page, 'lgsp_deliveries{state="in_flight"}')).to.equal(1);
    expect(sample(page, 'lgsp_deliveries{state="dead"}')).to.equal(1);
    expect(sample(page, 'lgsp_deliveries{state="delivered"}')).to.equal(1);
    expect(sample(page, 'lgsp_deliveries{state="dropped"}')).to.equal(0);
    expect(sample(page, 'lgsp_delivery_oldest_pending_seconds')).to.equal(90);
    expect(sample(page, 'lgsp_delivery_store_up')).to.equal(1);
  });

  it('asks the store once per cache window however often it is scraped', async () => {
    const before = memory.calls.counts;
    await Promise.all([scrape(), scrape(), scrape()]);
    await scrape();
    expect(memory.calls.counts).to.equal(before, 'within the window: no query');
    memory.put({ id: 'q3', state: 'queued', createdAt: T0 });
    now += DELIVERY_COUNTS_CACHE_MS;
    const pages = await Promise.all([scrape(), scrape()]);
    expect(memory.calls.counts).to.equal(before + 1, 'one query for two concurrent scrapes');
    for (const page of pages) expect(sample(page, 'lgsp_deliveries{state="queued"}')).to.equal(3);
    expect(sample(pages[0], 'lgsp_delivery_oldest_pending_seconds')).to.equal(95);
  });

  it('a failing store keeps the last counts and says lgsp_delivery_store_up 0; the scrape still answers', async () => {
    failing = true;
    now += DELIVERY_COUNTS_CACHE_MS;
    const page = await scrape();
    expect(sample(page, 'lgsp_delivery_store_up')).to.equal(0);
    expect(sample(page, 'lgsp_deliveries{state="queued"}')).to.equal(3);
    expect(page).to.not.include('connection terminated');
    failing = false;
    now += DELIVERY_COUNTS_CACHE_MS;
    expect(sample(await scrape(), 'lgsp_delivery_store_up')).to.equal(1);
  });

  it('counts what the engine reports through deliveryHooks, per upstream', async () => {
    const hooks = deliveryHooks(gw.gateway.metrics);
    hooks.delivered('molisa');
    hooks.delivered('molisa');
    hooks.attemptFailed('hotich');
    hooks.dead('hotich');
    // The engine's attempt lines by outcome: retry = a failed attempt; dead and refused = failed and dead.
    hooks.attempt('molisa', 'delivered');
    hooks.attempt('hotich', 'retry');
    hooks.attempt('hotich', 'dead');
    hooks.attempt('hotich', 'refused');
    const page = await scrape();
    expect(sample(page, 'lgsp_deliveries_delivered_total{upstream="molisa"}')).to.equal(3);
    expect(sample(page, 'lgsp_delivery_attempts_failed_total{upstream="hotich"}')).to.equal(4);
    expect(sample(page, 'lgsp_deliveries_dead_total{upstream="hotich"}')).to.equal(3);
  });
});

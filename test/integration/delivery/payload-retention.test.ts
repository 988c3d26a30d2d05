import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { ConfigError } from '../../../src/config/config-error.ts';
import { startPayloadRetention } from '../../../src/delivery/retention.ts';
import { openSqliteDeliveryStore } from '../../../src/delivery/sqlite-store.ts';
import type { DeliveryStore } from '../../../src/delivery/store.ts';
import { createLogger } from '../../../src/logging/logger.ts';
import { newDelivery, T0 } from '../../helpers/deliveries.ts';
import { startGateway } from '../../helpers/gateway.ts';

const DAY = 24 * 60 * 60_000;

/** One delivery per state the retention meets, each last updated at T0 (and one delivered later). */
async function fill(store: DeliveryStore) {
  const ids: Record<string, string> = {};
  const queued = newDelivery({ orderKey: null, createdAt: T0 - 10 });
  await store.enqueue(queued);
  ids.queued = queued.id;
  for (const state of ['delivered', 'dead'] as const) {
    const d = newDelivery({ orderKey: null, createdAt: T0 - 5 });
    expect((await store.enqueue(d, { owner: 'w', leaseMs: 60_000, now: T0 - 4 })).kind).to.equal('claimed');
    const done =
      state === 'delivered'
        ? await store.complete(d.id, 'w', { at: T0, status: 200, error: null })
        : await store.bury(d.id, 'w', { at: T0, status: 500, error: 'HTTP 500' });
    expect(done).to.equal(true);
    ids[state] = d.id;
  }
  const dropped = newDelivery({ orderKey: null, createdAt: T0 - 3 });
  await store.enqueue(dropped);
  await store.drop(dropped.id, T0);
  ids.dropped = dropped.id;
  const recent = newDelivery({ orderKey: null, createdAt: T0 + 2 * DAY - 5 });
  await store.enqueue(recent, { owner: 'w', leaseMs: 60_000, now: T0 + 2 * DAY - 4 });
  await store.complete(recent.id, 'w', { at: T0 + 2 * DAY, status: 200, error: null });
  ids.recent = recent.id;
  return ids;
}

describe('payload retention: sealed payloads erased after delivery.retentionDays (issue 17)', function () {
  this.timeout(10_000);
  let dir: string;
  let store: DeliveryStore;
  const logger = createLogger({ silent: true });
  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'lgsp-retention-'));
    store = openSqliteDeliveryStore({ path: path.join(dir, 'deliveries.db') });
  });
  afterEach(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('erases delivered, dead and dropped payloads once past retention, never a queued one; rows stay', async () => {
    const ids = await fill(store);
    let now = T0 + 7 * DAY - 1;
    const held = async () =>
      Object.fromEntries(
        await Promise.all(
          Object.entries(ids).map(async ([k, id]) => [k, ((await store.get(id))!.sealed?.length ?? 0) > 0]),
        ),
      );
    const retention = startPayloadRetention({
      store,
      clock: { now: () => now },
      logger,
      retentionDays: () => 7,
      intervalMs: 3_600_000,
    });
    try {
      expect(await retention.sweep()).to.equal(0);
      expect(await held()).to.deep.equal({ queued: true, delivered: true, dead: true, dropped: false, recent: true });
      now = T0 + 7 * DAY + 1;
      expect(await retention.sweep()).to.equal(2); // delivered and dead (dropped was erased when dropped)
      expect(await held()).to.deep.equal({ queued: true, delivered: false, dead: false, dropped: false, recent: true });
      expect((await store.get(ids.delivered))!.state).to.equal('delivered');
      expect(await store.retry(ids.queued, now)).to.equal(true);
      now = T0 + 9 * DAY + 1;
      expect(await retention.sweep()).to.equal(1);
      expect((await held()).recent).to.equal(false);
    } finally {
      await retention.stop();
    }
  });

  it('sweeps at start and on its timer, reading retentionDays at each sweep; a failing store is logged, not thrown', async () => {
    const cutoffs: number[] = [];
    let fail = false;
    const watched = {
      erasePayloads: (before: number) => {
        cutoffs.push(before);
        return fail ? Promise.reject(new Error('database is locked')) : Promise.resolve(0);
      },
    };
    let days = 7;
    const lines: string[] = [];
    const swept: ((n: number) => void)[] = [];
    const nextSweep = () => new Promise<number>((resolve) => swept.push(resolve));
    const first = nextSweep();
    const retention = startPayloadRetention({
      store: watched,
      clock: { now: () => T0 },
      logger: { ...logger, warn: (m: string) => void lines.push(m) } as never,
      retentionDays: () => days,
      intervalMs: 5,
      onSweep: (n) => swept.shift()?.(n),
    });
    try {
      await first;
      expect(cutoffs[0]).to.equal(T0 - 7 * DAY);
      days = 0;
      fail = true;
      expect(await nextSweep()).to.equal(0);
      expect(cutoffs.at(-1)).to.equal(T0);
      expect(lines).to.deep.equal(['delivery payload retention: the store failed; next sweep will retry']);
    } finally {
      await retention.stop();
    }
    const count = cutoffs.length;
    await Promise.resolve();
    expect(cutoffs.length).to.equal(count);
  });

  it('the gateway sweeps its store with delivery.retentionDays from the config; a bad value is a config error', async () => {
    const cutoffs: number[] = [];
    let seen!: () => void;
    const swept = new Promise<void>((resolve) => (seen = resolve));
    const watched: DeliveryStore = {
      ...store,
      erasePayloads: (before) => {
        cutoffs.push(before);
        seen();
        return Promise.resolve(0);
      },
    };
    const files = { 'gateway.yaml': 'version: 1\ndelivery: { retentionDays: 2 }\n', 'routes.yaml': 'routes: []\n' };
    const gw = await startGateway(files, { deliveries: watched, clock: { now: () => T0 } });
    try {
      await swept;
      expect(cutoffs[0]).to.equal(T0 - 2 * DAY);
    } finally {
      await gw.close();
    }
    try {
      await startGateway({ ...files, 'gateway.yaml': 'version: 1\ndelivery: { retentionDays: -1 }\n' });
      expect.fail('loaded');
    } catch (err) {
      expect(err).to.be.instanceOf(ConfigError);
      expect((err as Error).message).to.include('delivery.retentionDays');
    }
  });
});

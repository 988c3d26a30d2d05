import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { openPostgresDeliveryStore } from '../../../src/delivery/postgres-store.ts';
import { openSqliteDeliveryStore } from '../../../src/delivery/sqlite-store.ts';
import type { DeliveryStore, NewDelivery } from '../../../src/delivery/store.ts';
import { newDelivery, T0 } from '../../helpers/deliveries.ts';
import { useFreshSchema, usePostgres } from '../../helpers/postgres.ts';

/**
 * The delivery store's contract (src/delivery/store.ts), written once and run against every engine
 * (the describe blocks at the end: SQLite and PostgreSQL). `open()` opens one more store instance on the same
 * file or database: two instances are two processes' views, two connection pools that race each other.
 */
export interface StoreUnderTest {
  open(): Promise<DeliveryStore>;
}

const MINUTE = 60_000;
const DAY = 24 * 60 * MINUTE;

const ids = (list: readonly { readonly id: string }[]) => list.map((d) => d.id);
const claimOptions = (owner: string, over: { leaseMs?: number; limit?: number; upstreamIds?: string[] } = {}) => ({
  owner,
  leaseMs: over.leaseMs ?? MINUTE,
  limit: over.limit ?? 100,
  ...(over.upstreamIds ? { upstreamIds: over.upstreamIds } : {}),
});
const outcome = (at: number, status: number | null = 200, error: string | null = null) => ({ at, status, error });

/** The contract suite against the engine `setup` gives (called inside the engine's describe block). */
export function deliveryStoreContract(setup: () => StoreUnderTest): void {
  let opened: DeliveryStore[] = [];
  let store: DeliveryStore;
  const open = async () => {
    const s = await setup().open();
    opened.push(s);
    return s;
  };

  beforeEach(async () => {
    opened = [];
    store = await open();
  });
  afterEach(async () => {
    for (const s of opened) await s.close();
  });

  describe('enqueue', () => {
    it('stores a delivery durably: a second store instance on the same storage reads it back whole', async () => {
      const d = newDelivery({ sealed: randomBytes(300) });
      const result = await store.enqueue(d);
      expect(result.kind).to.equal('queued');
      const other = await open();
      const read = await other.get(d.id);
      expect(read).to.deep.include({
        id: d.id,
        mode: 'queued',
        routeId: d.routeId,
        upstreamId: 'molisa',
        consumerId: 'mcdt',
        orderKey: d.orderKey,
        routeGroup: 'molisa',
        payloadHash: 'hash-a',
        operation: 'DongBoDVC',
        createdAt: T0,
        expiresAt: T0 + DAY,
        state: 'queued',
        attempts: 0,
        nextAttemptAt: T0,
        leaseUntil: null,
        leaseOwner: null,
        updatedAt: T0,
        lastStatus: null,
        lastError: null,
        deliveredAt: null,
      });
      expect(Buffer.compare(read!.sealed!, d.sealed)).to.equal(0);
      expect(result.delivery).to.deep.equal(read);
    });

    it('keeps an operation, an order key and a consumer that are null or unusual as they are', async () => {
      const d = newDelivery({ orderKey: null, operation: null, consumerId: "o'brien; DROP TABLE deliveries" });
      await store.enqueue(d);
      expect(await store.get(d.id)).to.deep.include({ orderKey: null, operation: null, consumerId: d.consumerId });
      expect(await store.get('no-such-id')).to.equal(undefined);
    });

    it('claims at once when asked and nothing of its key is pending: in flight, attempt 1, leased to the owner', async () => {
      const d = newDelivery();
      const result = await store.enqueue(d, { owner: 'gw-1', leaseMs: 30_000, now: T0 + 5 });
      expect(result.kind).to.equal('claimed');
      expect(result.delivery).to.deep.include({
        state: 'in_flight',
        attempts: 1,
        leaseOwner: 'gw-1',
        leaseUntil: T0 + 5 + 30_000,
        nextAttemptAt: T0 + 5,
      });
      // Claimed by its enqueuer: no other worker gets it while the lease holds.
      expect(await (await open()).claimDue(T0 + 10, claimOptions('gw-2'))).to.deep.equal([]);
    });

    it('returns queued, not claimed, when an earlier delivery of the same key is still pending', async () => {
      const first = newDelivery({ payloadHash: 'hash-1' });
      const second = newDelivery({ payloadHash: 'hash-2', operation: 'XuLyHoSo' });
      expect((await store.enqueue(first)).kind).to.equal('queued');
      const result = await store.enqueue(second, { owner: 'gw-1', leaseMs: MINUTE, now: T0 });
      expect(result.kind).to.equal('queued');
      expect(result.delivery).to.deep.include({ state: 'queued', attempts: 0, leaseOwner: null });
      // ...also when the earlier one is in flight
      const third = newDelivery({ payloadHash: 'hash-3', orderKey: 'key-hs-002' });
      await store.enqueue(third, { owner: 'gw-1', leaseMs: MINUTE, now: T0 });
      const fourth = newDelivery({ payloadHash: 'hash-4', orderKey: 'key-hs-002' });
      expect((await store.enqueue(fourth, { owner: 'gw-1', leaseMs: MINUTE, now: T0 })).kind).to.equal('queued');
    });

    it('claims at once when the earlier deliveries of its key are finished (delivered, dead, dropped)', async () => {
      const first = newDelivery({ payloadHash: 'hash-1' });
      await store.enqueue(first, { owner: 'gw-1', leaseMs: MINUTE, now: T0 });
      await store.complete(first.id, 'gw-1', outcome(T0 + 1));
      const second = newDelivery({ payloadHash: 'hash-2' });
      expect((await store.enqueue(second, { owner: 'gw-1', leaseMs: MINUTE, now: T0 + 2 })).kind).to.equal('claimed');
    });
  });

  describe('duplicates', () => {
    it('the same key and payload hash while queued, in flight or delivered is a duplicate: nothing stored', async () => {
      const first = newDelivery();
      await store.enqueue(first);
      const again = await (await open()).enqueue(newDelivery(), { owner: 'gw-1', leaseMs: MINUTE, now: T0 });
      expect(again.kind).to.equal('duplicate');
      expect(again.delivery.id).to.equal(first.id);
      expect((await store.counts()).queued).to.equal(1);

      const [claimed] = await store.claimDue(T0, claimOptions('gw-1'));
      expect(claimed.id).to.equal(first.id);
      expect((await store.enqueue(newDelivery())).kind).to.equal('duplicate');
      await store.complete(first.id, 'gw-1', outcome(T0 + 1));
      const afterDelivery = await store.enqueue(newDelivery());
      expect(afterDelivery.kind).to.equal('duplicate');
      expect(afterDelivery.delivery).to.deep.include({ id: first.id, state: 'delivered' });
      expect((await store.list({ limit: 10 })).length).to.equal(1);
    });

    it('a changed payload for the same key is a new delivery, delivered after the earlier one', async () => {
      const first = newDelivery({ payloadHash: 'hash-a' });
      const changed = newDelivery({ payloadHash: 'hash-b', createdAt: T0 + 1 });
      await store.enqueue(first);
      expect((await store.enqueue(changed)).kind).to.equal('queued');
      expect(ids(await store.claimDue(T0 + 10, claimOptions('gw-1')))).to.deep.equal([first.id]);
      await store.complete(first.id, 'gw-1', outcome(T0 + 11));
      expect(ids(await store.claimDue(T0 + 12, claimOptions('gw-1')))).to.deep.equal([changed.id]);
    });

    it('a push with no order key is never a duplicate', async () => {
      const a = newDelivery({ orderKey: null });
      const b = newDelivery({ orderKey: null });
      expect((await store.enqueue(a)).kind).to.equal('queued');
      expect((await store.enqueue(b)).kind).to.equal('queued');
      expect((await store.counts()).queued).to.equal(2);
      // ...nor ordered: both are claimable together
      expect(ids(await store.claimDue(T0, claimOptions('gw-1')))).to.have.members([a.id, b.id]);
    });

    it('the same payload after a dead, dropped or failed one is stored again (it was never accepted)', async () => {
      const first = newDelivery();
      await store.enqueue(first, { owner: 'gw-1', leaseMs: MINUTE, now: T0 });
      await store.bury(first.id, 'gw-1', outcome(T0 + 1, 400, 'HTTP 400'));
      const second = newDelivery();
      expect((await store.enqueue(second)).kind).to.equal('queued');
      expect(await store.drop(second.id, T0 + 2)).to.equal(true);
      const direct = newDelivery({ mode: 'direct' });
      await store.record(direct, { ...outcome(T0 + 3, 503, 'HTTP 503'), state: 'failed' });
      expect((await store.enqueue(newDelivery())).kind).to.equal('queued');
    });

    it('the same key and hash in another route group is another delivery', async () => {
      await store.enqueue(newDelivery());
      expect((await store.enqueue(newDelivery({ routeGroup: 'hotich' }))).kind).to.equal('queued');
    });
  });

  describe('claimDue', () => {
    it('claims due queued deliveries oldest first, up to the limit, as in flight with a lease', async () => {
      const a = newDelivery({ orderKey: 'k-a' });
      const b = newDelivery({ orderKey: 'k-b', createdAt: T0 + 1 });
      const c = newDelivery({ orderKey: 'k-c', createdAt: T0 + 2 });
      for (const d of [a, b, c]) await store.enqueue(d);
      const claimed = await store.claimDue(T0 + 100, claimOptions('gw-1', { leaseMs: 5000, limit: 2 }));
      expect(ids(claimed)).to.deep.equal([a.id, b.id]);
      for (const d of claimed)
        expect(d).to.deep.include({
          state: 'in_flight',
          attempts: 1,
          leaseOwner: 'gw-1',
          leaseUntil: T0 + 100 + 5000,
          updatedAt: T0 + 100,
        });
      expect(ids(await store.claimDue(T0 + 100, claimOptions('gw-2')))).to.deep.equal([c.id]);
      expect(await store.claimDue(T0 + 100, claimOptions('gw-2'))).to.deep.equal([]);
    });

    it('does not claim before nextAttemptAt', async () => {
      const d = newDelivery();
      await store.enqueue(d, { owner: 'gw-1', leaseMs: MINUTE, now: T0 });
      expect(
        await store.reschedule(d.id, 'gw-1', { ...outcome(T0 + 1, 503, 'HTTP 503'), nextAttemptAt: T0 + 10_000 }),
      ).to.equal(true);
      expect(await store.claimDue(T0 + 9_999, claimOptions('gw-1'))).to.deep.equal([]);
      expect(ids(await store.claimDue(T0 + 10_000, claimOptions('gw-1')))).to.deep.equal([d.id]);
    });

    it('claims only the upstreams named (a worker skips upstreams whose circuit is open)', async () => {
      const molisa = newDelivery({ orderKey: 'k-1' });
      const hotich = newDelivery({ orderKey: 'k-2', upstreamId: 'hotich', routeGroup: 'hotich' });
      await store.enqueue(molisa);
      await store.enqueue(hotich);
      expect(await store.claimDue(T0, claimOptions('gw-1', { upstreamIds: [] }))).to.deep.equal([]);
      expect(await store.claimDue(T0, claimOptions('gw-1', { upstreamIds: ['vdxp'] }))).to.deep.equal([]);
      expect(ids(await store.claimDue(T0, claimOptions('gw-1', { upstreamIds: ['hotich', 'vdxp'] })))).to.deep.equal([
        hotich.id,
      ]);
      expect(ids(await store.claimDue(T0, claimOptions('gw-1')))).to.deep.equal([molisa.id]);
    });

    it('a limit of 0 claims nothing', async () => {
      await store.enqueue(newDelivery());
      expect(await store.claimDue(T0, claimOptions('gw-1', { limit: 0 }))).to.deep.equal([]);
    });
  });

  describe('order per (routeGroup, orderKey)', () => {
    it('claims no delivery while an earlier one of its key is queued or in flight', async () => {
      const a1 = newDelivery({ payloadHash: 'h1', operation: 'DongBoDVC' });
      const a2 = newDelivery({ payloadHash: 'h2', operation: 'XuLyHoSo' });
      const a3 = newDelivery({ payloadHash: 'h3', operation: 'FileQuyetDinh' });
      const other = newDelivery({ orderKey: 'key-other' });
      const elsewhere = newDelivery({ routeGroup: 'hotich', upstreamId: 'hotich', payloadHash: 'h2' });
      for (const d of [a1, a2, a3, other, elsewhere]) await store.enqueue(d);

      expect(ids(await store.claimDue(T0, claimOptions('gw-1')))).to.deep.equal([a1.id, other.id, elsewhere.id]);
      // a1 in flight: a2 waits, also for another worker
      expect(await (await open()).claimDue(T0 + 1, claimOptions('gw-2'))).to.deep.equal([]);
      // a1 retried later: still the head, a2 still waits
      await store.reschedule(a1.id, 'gw-1', { ...outcome(T0 + 2, 503, 'HTTP 503'), nextAttemptAt: T0 + 1000 });
      expect(await store.claimDue(T0 + 3, claimOptions('gw-1'))).to.deep.equal([]);
      expect(ids(await store.claimDue(T0 + 1000, claimOptions('gw-1')))).to.deep.equal([a1.id]);
      await store.complete(a1.id, 'gw-1', outcome(T0 + 1001));
      expect(ids(await store.claimDue(T0 + 1002, claimOptions('gw-1')))).to.deep.equal([a2.id]);
      // a dead letter does not hold its key back: the next one goes
      await store.bury(a2.id, 'gw-1', outcome(T0 + 1003, 400, 'HTTP 400'));
      expect(ids(await store.claimDue(T0 + 1004, claimOptions('gw-1')))).to.deep.equal([a3.id]);
    });

    it('follows the order of enqueue, not of createdAt, within one key', async () => {
      // Two gateways' clocks may disagree by a few milliseconds: the store's own order counts.
      const first = newDelivery({ payloadHash: 'h1', createdAt: T0 + 50 });
      const second = newDelivery({ payloadHash: 'h2', createdAt: T0 });
      await store.enqueue(first);
      await store.enqueue(second);
      expect(ids(await store.claimDue(T0 + 100, claimOptions('gw-1')))).to.deep.equal([first.id]);
    });
  });

  describe('leases', () => {
    it('an expired lease (a crashed worker) makes the delivery claimable again, and the old owner loses it', async () => {
      const d = newDelivery();
      await store.enqueue(d, { owner: 'gw-crashed', leaseMs: 1000, now: T0 });
      const other = await open();
      expect(await other.claimDue(T0 + 999, claimOptions('gw-2'))).to.deep.equal([]);
      const [again] = await other.claimDue(T0 + 1000, claimOptions('gw-2', { leaseMs: 1000 }));
      expect(again).to.deep.include({ id: d.id, state: 'in_flight', attempts: 2, leaseOwner: 'gw-2' });
      expect(again.leaseUntil).to.equal(T0 + 2000);

      // The crashed worker comes back and reports: refused, whatever it reports.
      expect(await store.complete(d.id, 'gw-crashed', outcome(T0 + 1001))).to.equal(false);
      expect(
        await store.reschedule(d.id, 'gw-crashed', { ...outcome(T0 + 1001, 503, 'HTTP 503'), nextAttemptAt: T0 }),
      ).to.equal(false);
      expect(await store.bury(d.id, 'gw-crashed', outcome(T0 + 1001, 400, 'HTTP 400'))).to.equal(false);
      expect(await store.get(d.id)).to.deep.include({ state: 'in_flight', leaseOwner: 'gw-2', attempts: 2 });
      expect(await other.complete(d.id, 'gw-2', outcome(T0 + 1500))).to.equal(true);
    });

    it('takes over expired claims and due queued deliveries in one claim, oldest first, up to the limit', async () => {
      const [a, b, c, d] = ['k-a', 'k-b', 'k-c', 'k-d'].map((orderKey) => newDelivery({ orderKey }));
      await store.enqueue(a);
      await store.enqueue(b, { owner: 'gw-crashed', leaseMs: 1000, now: T0 });
      await store.enqueue(c);
      await store.enqueue(d, { owner: 'gw-crashed', leaseMs: 1000, now: T0 });
      expect(ids(await store.claimDue(T0 + 1000, claimOptions('gw-2', { limit: 3 })))).to.deep.equal([
        a.id,
        b.id,
        c.id,
      ]);
      expect(ids(await store.claimDue(T0 + 1000, claimOptions('gw-2', { limit: 3 })))).to.deep.equal([d.id]);
    });

    it('complete, reschedule and bury refuse an owner that never held the delivery, or one not in flight', async () => {
      const d = newDelivery();
      await store.enqueue(d);
      expect(await store.complete(d.id, 'gw-1', outcome(T0))).to.equal(false);
      await store.claimDue(T0, claimOptions('gw-1'));
      expect(await store.complete(d.id, 'gw-intruder', outcome(T0))).to.equal(false);
      expect(await store.bury(d.id, 'gw-intruder', outcome(T0))).to.equal(false);
      expect(await store.complete('no-such-id', 'gw-1', outcome(T0))).to.equal(false);
      expect(await store.complete(d.id, 'gw-1', outcome(T0 + 1))).to.equal(true);
      // done once: a second report is refused
      expect(await store.complete(d.id, 'gw-1', outcome(T0 + 2))).to.equal(false);
      expect(await store.bury(d.id, 'gw-1', outcome(T0 + 2))).to.equal(false);
    });

    it('records each outcome: delivered, rescheduled with the failure, buried', async () => {
      const [a, b, c] = [
        newDelivery({ orderKey: 'k-a' }),
        newDelivery({ orderKey: 'k-b' }),
        newDelivery({ orderKey: 'k-c' }),
      ];
      for (const d of [a, b, c]) await store.enqueue(d, { owner: 'gw-1', leaseMs: MINUTE, now: T0 });
      expect(await store.complete(a.id, 'gw-1', outcome(T0 + 10, 200))).to.equal(true);
      expect(
        await store.reschedule(b.id, 'gw-1', {
          ...outcome(T0 + 20, null, 'GW_UPSTREAM_TIMEOUT'),
          nextAttemptAt: T0 + 5000,
        }),
      ).to.equal(true);
      expect(await store.bury(c.id, 'gw-1', outcome(T0 + 30, 400, 'error_code 5'))).to.equal(true);
      expect(await store.get(a.id)).to.deep.include({
        state: 'delivered',
        deliveredAt: T0 + 10,
        updatedAt: T0 + 10,
        lastStatus: 200,
        lastError: null,
        leaseOwner: null,
        leaseUntil: null,
      });
      expect(await store.get(b.id)).to.deep.include({
        state: 'queued',
        nextAttemptAt: T0 + 5000,
        lastStatus: null,
        lastError: 'GW_UPSTREAM_TIMEOUT',
        leaseOwner: null,
        leaseUntil: null,
        attempts: 1,
      });
      expect(await store.get(c.id)).to.deep.include({ state: 'dead', lastStatus: 400, lastError: 'error_code 5' });
    });
  });

  describe('operators: retry and drop', () => {
    it('retry makes a dead delivery due now; drop gives up a queued or dead one and erases its payload', async () => {
      const dead = newDelivery({ orderKey: 'k-dead' });
      const queued = newDelivery({ orderKey: 'k-queued', upstreamId: 'hotich' });
      const flying = newDelivery({ orderKey: 'k-flying' });
      await store.enqueue(dead, { owner: 'gw-1', leaseMs: MINUTE, now: T0 });
      await store.bury(dead.id, 'gw-1', outcome(T0 + 1, 503, 'HTTP 503'));
      await store.enqueue(queued);
      await store.enqueue(flying, { owner: 'gw-1', leaseMs: MINUTE, now: T0 });

      const ops = await open(); // the CLI, another process
      expect(await ops.retry(dead.id, T0 + 100)).to.equal(true);
      expect(await store.get(dead.id)).to.deep.include({
        state: 'queued',
        nextAttemptAt: T0 + 100,
        updatedAt: T0 + 100,
        // a fresh lifetime as long as its first (one dead of age would die again unsent); attempts kept
        expiresAt: T0 + 100 + DAY,
        attempts: 1,
      });
      expect(ids(await store.claimDue(T0 + 100, claimOptions('gw-1', { upstreamIds: ['molisa'] })))).to.deep.equal([
        dead.id,
      ]);

      expect(await ops.retry(flying.id, T0 + 100)).to.equal(false);
      expect(await ops.drop(flying.id, T0 + 100)).to.equal(false);
      expect(await ops.retry('no-such-id', T0 + 100)).to.equal(false);
      expect(await ops.drop('no-such-id', T0 + 100)).to.equal(false);

      // a queued one: due now, its lifetime unchanged
      expect(await ops.retry(queued.id, T0 + 150)).to.equal(true);
      expect(await store.get(queued.id)).to.deep.include({
        state: 'queued',
        nextAttemptAt: T0 + 150,
        expiresAt: T0 + DAY,
      });
      expect(await ops.drop(queued.id, T0 + 200)).to.equal(true);
      expect(await store.get(queued.id)).to.deep.include({ state: 'dropped', sealed: null, updatedAt: T0 + 200 });
      expect(await ops.retry(queued.id, T0 + 300)).to.equal(false);
      expect(await ops.drop(queued.id, T0 + 300)).to.equal(false);

      await store.bury(dead.id, 'gw-1', outcome(T0 + 400, 503, 'HTTP 503'));
      expect(await ops.drop(dead.id, T0 + 500)).to.equal(true);
      expect((await store.get(dead.id))!.sealed).to.equal(null);
    });

    it('retry of a delivered delivery is refused (it would be sent twice)', async () => {
      const d = newDelivery();
      await store.enqueue(d, { owner: 'gw-1', leaseMs: MINUTE, now: T0 });
      await store.complete(d.id, 'gw-1', outcome(T0 + 1));
      expect(await store.retry(d.id, T0 + 2)).to.equal(false);
      expect(await store.drop(d.id, T0 + 2)).to.equal(false);
    });

    it('retry of a dead delivery whose payload was erased is refused: there is nothing left to send', async () => {
      const d = newDelivery();
      await store.enqueue(d, { owner: 'gw-1', leaseMs: MINUTE, now: T0 });
      await store.bury(d.id, 'gw-1', outcome(T0 + 1, 503, 'HTTP 503'));
      expect(await store.erasePayloads(T0 + 2)).to.equal(1);
      expect(await store.retry(d.id, T0 + 3)).to.equal(false);
    });
  });

  describe('the ledger', () => {
    it("counts one consumer's pending deliveries (queued and in flight), not its delivered, dead or dropped ones", async () => {
      expect(await store.pendingOf('mcdt')).to.equal(0);
      await store.enqueue(newDelivery({ consumerId: 'mcdt', orderKey: 'p-1' }));
      await store.enqueue(newDelivery({ consumerId: 'mcdt', orderKey: 'p-2' }), {
        owner: 'gw-1',
        leaseMs: MINUTE,
        now: T0,
      });
      const done = newDelivery({ consumerId: 'mcdt', orderKey: 'p-3' });
      await store.enqueue(done, { owner: 'gw-1', leaseMs: MINUTE, now: T0 });
      await store.complete(done.id, 'gw-1', outcome(T0));
      const dropped = newDelivery({ consumerId: 'mcdt', orderKey: 'p-4' });
      await store.enqueue(dropped);
      await store.drop(dropped.id, T0);
      await store.enqueue(newDelivery({ consumerId: 'dvc', orderKey: 'p-5' }));
      expect(await store.pendingOf('mcdt')).to.equal(2);
      expect(await store.pendingOf('dvc')).to.equal(1);
      expect(await store.pendingOf('nobody')).to.equal(0);
    });

    it('counts deliveries per state and the oldest pending one', async () => {
      expect(await store.counts()).to.deep.equal({
        queued: 0,
        inFlight: 0,
        delivered: 0,
        dead: 0,
        dropped: 0,
        failed: 0,
        oldestPendingAt: null,
      });
      const old = newDelivery({ orderKey: 'k-1', createdAt: T0 - 5000 });
      await store.enqueue(old, { owner: 'gw-1', leaseMs: MINUTE, now: T0 });
      await store.enqueue(newDelivery({ orderKey: 'k-2', createdAt: T0 - 100 }));
      await store.enqueue(newDelivery({ orderKey: 'k-3' }));
      const done = newDelivery({ orderKey: 'k-4', createdAt: T0 - 9000 });
      await store.enqueue(done, { owner: 'gw-1', leaseMs: MINUTE, now: T0 });
      await store.complete(done.id, 'gw-1', outcome(T0));
      const buried = newDelivery({ orderKey: 'k-5' });
      await store.enqueue(buried, { owner: 'gw-1', leaseMs: MINUTE, now: T0 });
      await store.bury(buried.id, 'gw-1', outcome(T0, 400, 'HTTP 400'));
      const dropped = newDelivery({ orderKey: 'k-6' });
      await store.enqueue(dropped);
      await store.drop(dropped.id, T0);
      await store.record(newDelivery({ mode: 'direct', orderKey: 'k-7' }), {
        ...outcome(T0, 502, 'HTTP 502'),
        state: 'failed',
      });
      await store.record(newDelivery({ mode: 'direct', orderKey: 'k-8' }), { ...outcome(T0), state: 'delivered' });
      expect(await (await open()).counts()).to.deep.equal({
        queued: 2,
        inFlight: 1,
        delivered: 2,
        dead: 1,
        dropped: 1,
        failed: 1,
        oldestPendingAt: T0 - 5000,
      });
    });

    it('records direct pushes: delivered or failed, no payload kept, found by latest()', async () => {
      const d = newDelivery({ mode: 'direct', operation: 'nopHoSo' });
      await store.record(d, { ...outcome(T0 + 7, 200), state: 'delivered' });
      expect(await store.get(d.id)).to.deep.include({
        mode: 'direct',
        state: 'delivered',
        sealed: null,
        attempts: 1,
        deliveredAt: T0 + 7,
        lastStatus: 200,
        updatedAt: T0 + 7,
      });
      expect((await store.latest('molisa', d.orderKey!))!.id).to.equal(d.id);
      const failed = newDelivery({ mode: 'direct', orderKey: 'k-failed' });
      await store.record(failed, { ...outcome(T0 + 8, null, 'GW_UPSTREAM_UNREACHABLE'), state: 'failed' });
      expect(await store.get(failed.id)).to.deep.include({ state: 'failed', deliveredAt: null, lastStatus: null });
    });

    it('latest() gives the newest row of a (routeGroup, orderKey), in any state', async () => {
      const first = newDelivery({ payloadHash: 'h1', operation: 'DongBoDVC' });
      const second = newDelivery({ payloadHash: 'h2', operation: 'XuLyHoSo' });
      await store.enqueue(first);
      expect((await store.latest('molisa', first.orderKey!))!.id).to.equal(first.id);
      await store.enqueue(second);
      const other = await open();
      expect(await other.latest('molisa', first.orderKey!)).to.deep.include({ id: second.id, operation: 'XuLyHoSo' });
      expect(await other.latest('hotich', first.orderKey!)).to.equal(undefined);
      expect(await other.latest('molisa', 'no-such-key')).to.equal(undefined);
      await store.drop(second.id, T0 + 1);
      expect(await other.latest('molisa', first.orderKey!)).to.deep.include({ id: second.id, state: 'dropped' });
    });

    it('lists newest first, filtered by state, route and upstream, paged by id', async () => {
      const made: NewDelivery[] = [];
      for (let i = 0; i < 7; i++) {
        const d = newDelivery({
          orderKey: `k-${i}`,
          routeId: i % 2 ? 'molisa-xulyhoso' : 'molisa-dongbodvc',
          upstreamId: i < 5 ? 'molisa' : 'hotich',
          createdAt: T0 + i,
        });
        made.push(d);
        await store.enqueue(d);
      }
      await store.drop(made[3].id, T0 + 10);
      const all = await store.list({ limit: 100 });
      expect(ids(all)).to.deep.equal(ids(made).reverse());
      const page1 = await store.list({ limit: 3 });
      expect(ids(page1)).to.deep.equal([made[6].id, made[5].id, made[4].id]);
      const page2 = await store.list({ limit: 3, before: page1.at(-1)!.id });
      expect(ids(page2)).to.deep.equal([made[3].id, made[2].id, made[1].id]);
      expect(ids(await store.list({ limit: 3, before: made[0].id }))).to.deep.equal([]);
      expect(ids(await store.list({ limit: 3, before: 'no-such-id' }))).to.deep.equal([]);
      expect(ids(await store.list({ limit: 10, state: 'dropped' }))).to.deep.equal([made[3].id]);
      expect(ids(await store.list({ limit: 10, routeId: 'molisa-xulyhoso' }))).to.deep.equal([
        made[5].id,
        made[3].id,
        made[1].id,
      ]);
      expect(ids(await store.list({ limit: 10, upstreamId: 'hotich' }))).to.deep.equal([made[6].id, made[5].id]);
      expect(
        ids(await store.list({ limit: 10, upstreamId: 'molisa', state: 'queued', routeId: 'molisa-xulyhoso' })),
      ).to.deep.equal([made[1].id]);
      expect(await store.list({ limit: 0 })).to.deep.equal([]);
    });

    it('reconciliation counts what the national side never accepted, per upstream, UTC month and state', async () => {
      const oct = Date.UTC(2026, 9, 31, 23, 59, 59, 999);
      const nov = Date.UTC(2026, 10, 1, 0, 0, 0, 0);
      const add = async (upstreamId: string, createdAt: number, end: 'queued' | 'dead' | 'delivered' | 'failed') => {
        const d = newDelivery({ orderKey: null, upstreamId, createdAt });
        if (end === 'failed') return store.record(d, { ...outcome(createdAt, 503, 'HTTP 503'), state: 'failed' });
        if (end === 'queued') return void (await store.enqueue(d));
        await store.enqueue(d, { owner: 'gw-1', leaseMs: MINUTE, now: createdAt });
        if (end === 'dead') await store.bury(d.id, 'gw-1', outcome(createdAt + 1, 503, 'HTTP 503'));
        else await store.complete(d.id, 'gw-1', outcome(createdAt + 1));
      };
      await add('molisa', oct, 'dead');
      await add('molisa', oct, 'dead');
      await add('molisa', oct, 'delivered');
      await add('molisa', nov, 'queued');
      await add('molisa', nov, 'failed');
      await add('hotich', nov, 'dead');
      await add('hotich', nov, 'delivered');
      const rows = await store.reconciliation();
      expect(rows).to.have.deep.members([
        { upstreamId: 'molisa', month: '2026-10', state: 'dead', count: 2 },
        { upstreamId: 'molisa', month: '2026-11', state: 'queued', count: 1 },
        { upstreamId: 'molisa', month: '2026-11', state: 'failed', count: 1 },
        { upstreamId: 'hotich', month: '2026-11', state: 'dead', count: 1 },
      ]);
      expect(rows).to.have.length(4);
      expect(await store.reconciliation({ since: nov })).to.have.deep.members([
        { upstreamId: 'molisa', month: '2026-11', state: 'queued', count: 1 },
        { upstreamId: 'molisa', month: '2026-11', state: 'failed', count: 1 },
        { upstreamId: 'hotich', month: '2026-11', state: 'dead', count: 1 },
      ]);
    });

    it('erasePayloads erases the payloads of finished rows past retention and keeps the rows as ledger', async () => {
      const delivered = newDelivery({ orderKey: 'k-1' });
      const dead = newDelivery({ orderKey: 'k-2' });
      const recent = newDelivery({ orderKey: 'k-3' });
      const queued = newDelivery({ orderKey: 'k-4' });
      const flying = newDelivery({ orderKey: 'k-5' });
      for (const d of [delivered, dead, recent, flying])
        await store.enqueue(d, { owner: 'gw-1', leaseMs: DAY, now: T0 });
      await store.enqueue(queued);
      await store.complete(delivered.id, 'gw-1', outcome(T0 + 10));
      await store.bury(dead.id, 'gw-1', outcome(T0 + 20, 400, 'HTTP 400'));
      await store.complete(recent.id, 'gw-1', outcome(T0 + 1000));

      expect(await store.erasePayloads(T0 + 500)).to.equal(2);
      for (const d of [delivered, dead]) expect((await store.get(d.id))!.sealed).to.equal(null);
      for (const d of [recent, queued, flying]) expect((await store.get(d.id))!.sealed).to.not.equal(null);
      expect(await store.get(delivered.id)).to.deep.include({ state: 'delivered', payloadHash: 'hash-a' });
      expect(await store.erasePayloads(T0 + 500)).to.equal(0);
      expect(await store.erasePayloads(T0 + 2 * DAY)).to.equal(1);
      // still duplicates: the ledger row decides, not the payload
      expect((await store.enqueue(newDelivery({ orderKey: 'k-1' }))).kind).to.equal('duplicate');
    });
  });

  describe('concurrency (two store instances)', () => {
    it('never hands one delivery to two claimers at once (many rounds)', async function () {
      this.timeout(60_000);
      const other = await open();
      for (let round = 0; round < 25; round++) {
        const now = T0 + round * DAY;
        const made = Array.from({ length: 12 }, (_, i) =>
          newDelivery({ orderKey: i % 3 ? null : `round-${round}-${i}`, createdAt: now }),
        );
        for (const d of made) await store.enqueue(d);
        const seen: string[] = [];
        for (let pass = 0; pass < 20 && seen.length < made.length; pass++) {
          const [x, y] = await Promise.all([
            // leases outlive the test: nothing of an earlier round comes back
            store.claimDue(now, claimOptions('gw-x', { limit: 4, leaseMs: 100 * DAY })),
            other.claimDue(now, claimOptions('gw-y', { limit: 4, leaseMs: 100 * DAY })),
          ]);
          seen.push(...ids(x), ...ids(y));
        }
        expect(new Set(seen).size, `round ${round}: claimed twice`).to.equal(seen.length);
        expect(seen).to.have.members(ids(made));
      }
    });

    it('keeps the order of one key with two claimers racing', async function () {
      this.timeout(60_000);
      const other = await open();
      const keys = ['k-a', 'k-b', 'k-c'];
      const made = new Map<string, NewDelivery[]>(keys.map((k) => [k, []]));
      for (let i = 0; i < 6; i++)
        for (const key of keys) {
          const d = newDelivery({ orderKey: key, payloadHash: `h-${i}` });
          made.get(key)!.push(d);
          await store.enqueue(d);
        }
      const delivered = new Map<string, string[]>(keys.map((k) => [k, []]));
      for (let step = 0; step < 30; step++) {
        const now = T0 + step;
        const [x, y] = await Promise.all([
          store.claimDue(now, claimOptions('gw-x', { limit: 10 })),
          other.claimDue(now, claimOptions('gw-y', { limit: 10 })),
        ]);
        const claimed = [...x.map((d) => ['gw-x', d] as const), ...y.map((d) => ['gw-y', d] as const)];
        const perKey = new Map<string, number>();
        for (const [, d] of claimed) perKey.set(d.orderKey!, (perKey.get(d.orderKey!) ?? 0) + 1);
        for (const [key, n] of perKey) expect(n, `two deliveries of ${key} in flight at step ${step}`).to.equal(1);
        for (const [owner, d] of claimed) {
          delivered.get(d.orderKey!)!.push(d.id);
          expect(await (owner === 'gw-x' ? store : other).complete(d.id, owner, outcome(now))).to.equal(true);
        }
        if (claimed.length === 0) break;
      }
      for (const key of keys) expect(delivered.get(key)).to.deep.equal(ids(made.get(key)!));
    });

    it('enqueues racing on one key and payload store it once', async () => {
      const other = await open();
      for (let round = 0; round < 10; round++) {
        const key = `race-${round}`;
        const results = await Promise.all([
          store.enqueue(newDelivery({ orderKey: key })),
          other.enqueue(newDelivery({ orderKey: key })),
          store.enqueue(newDelivery({ orderKey: key }), { owner: 'gw-x', leaseMs: MINUTE, now: T0 }),
          other.enqueue(newDelivery({ orderKey: key }), { owner: 'gw-y', leaseMs: MINUTE, now: T0 }),
        ]);
        const stored = results.filter((r) => r.kind !== 'duplicate');
        expect(stored, `round ${round}`).to.have.length(1);
        for (const r of results) expect(r.delivery.id).to.equal(stored[0].delivery.id);
      }
    });
  });
}

describe('delivery store contract: SQLite (node:sqlite)', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'lgsp-dstore-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));
  deliveryStoreContract(() => ({
    open: async () => openSqliteDeliveryStore({ path: path.join(dir, 'data', 'deliveries.db') }),
  }));
});

describe('delivery store contract: PostgreSQL (postgres.js, FOR UPDATE SKIP LOCKED)', () => {
  const server = usePostgres();
  // A schema of its own per test (dropped after it): the tests never see each other's rows.
  const schema = useFreshSchema(server, 'lgsp_test');
  deliveryStoreContract(() => ({
    open: () => openPostgresDeliveryStore({ url: server().url, schema: schema(), poolMax: 4 }),
  }));
});

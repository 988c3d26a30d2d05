import type {
  AttemptOutcome,
  ClaimNow,
  Delivery,
  DeliveryCounts,
  DeliveryFilter,
  DeliveryStore,
  EnqueueResult,
  NewDelivery,
  ReconciliationRow,
} from '../../src/delivery/store.ts';

type Row = { -readonly [K in keyof Delivery]: Delivery[K] };

const PENDING = new Set(['queued', 'in_flight']);

/**
 * The delivery store contract (src/delivery/store.ts) in memory, for tests of what reads and operates the
 * store (admin pages, CLI formatting, metrics, the ledger guard). Not crash safe and single-process: the
 * real stores (SQLite, PostgreSQL) pass the contract suite; this one keeps only the semantics the operations
 * need. `calls` counts each method, so a test can see a scrape did not hit the store twice.
 */
export function createMemoryDeliveryStore(): DeliveryStore & {
  readonly rows: Map<string, Row>;
  readonly calls: Record<string, number>;
  /** Test set-up: a row as it stands after some history, written directly. */
  put(row: Partial<Delivery> & Pick<Delivery, 'id'>): Delivery;
} {
  const rows = new Map<string, Row>();
  const calls: Record<string, number> = {};
  const count = (name: string) => (calls[name] = (calls[name] ?? 0) + 1);
  const byAge = (a: Row, b: Row) => a.createdAt - b.createdAt || a.id.localeCompare(b.id);
  const newest = () => [...rows.values()].sort((a, b) => byAge(b, a));
  const fromNew = (d: NewDelivery): Row => ({
    ...d,
    state: 'queued',
    attempts: 0,
    nextAttemptAt: d.createdAt,
    leaseUntil: null,
    leaseOwner: null,
    updatedAt: d.createdAt,
    lastStatus: null,
    lastError: null,
    deliveredAt: null,
  });
  const earlierPending = (r: Row) =>
    r.orderKey !== null &&
    [...rows.values()].some(
      (o) =>
        o !== r &&
        o.routeGroup === r.routeGroup &&
        o.orderKey === r.orderKey &&
        PENDING.has(o.state) &&
        byAge(o, r) < 0,
    );
  const owned = (id: string, owner: string) => {
    const r = rows.get(id);
    return r && r.state === 'in_flight' && r.leaseOwner === owner ? r : undefined;
  };
  const finish = (r: Row, outcome: AttemptOutcome) => {
    r.lastStatus = outcome.status;
    r.lastError = outcome.error;
    r.updatedAt = outcome.at;
    r.leaseOwner = null;
    r.leaseUntil = null;
  };
  const copy = (r: Row): Delivery => ({ ...r });

  return {
    kind: 'sqlite',
    rows,
    calls,
    put(partial) {
      const base = fromNew({
        id: partial.id,
        mode: 'queued',
        routeId: 'route',
        upstreamId: 'upstream',
        consumerId: 'consumer',
        orderKey: null,
        routeGroup: partial.upstreamId ?? 'upstream',
        payloadHash: 'hash',
        operation: null,
        sealed: Buffer.from('sealed'),
        createdAt: 0,
        expiresAt: (partial.createdAt ?? 0) + 7 * 86_400_000,
      });
      const row = { ...base, ...partial } as Row;
      rows.set(row.id, row);
      return copy(row);
    },
    async enqueue(d, claim?: ClaimNow & { now: number }): Promise<EnqueueResult> {
      count('enqueue');
      if (d.orderKey !== null) {
        const same = [...rows.values()].find(
          (o) =>
            o.routeGroup === d.routeGroup &&
            o.orderKey === d.orderKey &&
            o.payloadHash === d.payloadHash &&
            (PENDING.has(o.state) || o.state === 'delivered'),
        );
        if (same) return { kind: 'duplicate', delivery: copy(same) };
      }
      const row = fromNew(d);
      rows.set(row.id, row);
      if (claim && !earlierPending(row)) {
        Object.assign(row, {
          state: 'in_flight',
          attempts: 1,
          leaseOwner: claim.owner,
          leaseUntil: claim.now + claim.leaseMs,
          updatedAt: claim.now,
        });
        return { kind: 'claimed', delivery: copy(row) };
      }
      return { kind: 'queued', delivery: copy(row) };
    },
    async record(d, outcome) {
      count('record');
      const row = fromNew({ ...d, sealed: Buffer.alloc(0) });
      Object.assign(row, { state: outcome.state, attempts: 1 });
      finish(row, outcome);
      if (outcome.state === 'delivered') row.deliveredAt = outcome.at;
      rows.set(row.id, row);
    },
    async claimDue(now, options) {
      count('claimDue');
      const due = [...rows.values()]
        .filter(
          (r) =>
            ((r.state === 'queued' && r.nextAttemptAt <= now) ||
              (r.state === 'in_flight' && (r.leaseUntil ?? 0) <= now)) &&
            (!options.upstreamIds || options.upstreamIds.includes(r.upstreamId)) &&
            !earlierPending(r),
        )
        .sort(byAge)
        .slice(0, options.limit);
      for (const r of due)
        Object.assign(r, {
          state: 'in_flight',
          attempts: r.attempts + 1,
          leaseOwner: options.owner,
          leaseUntil: now + options.leaseMs,
          updatedAt: now,
        });
      return due.map(copy);
    },
    async complete(id, owner, outcome) {
      const r = owned(id, owner);
      if (!r) return false;
      finish(r, outcome);
      r.state = 'delivered';
      r.deliveredAt = outcome.at;
      return true;
    },
    async reschedule(id, owner, outcome) {
      const r = owned(id, owner);
      if (!r) return false;
      finish(r, outcome);
      r.state = 'queued';
      r.nextAttemptAt = outcome.nextAttemptAt;
      return true;
    },
    async bury(id, owner, outcome) {
      const r = owned(id, owner);
      if (!r) return false;
      finish(r, outcome);
      r.state = 'dead';
      return true;
    },
    async get(id) {
      count('get');
      const r = rows.get(id);
      return r && copy(r);
    },
    async list(filter: DeliveryFilter) {
      count('list');
      let all = newest().filter(
        (r) =>
          (filter.state === undefined || r.state === filter.state) &&
          (filter.routeId === undefined || r.routeId === filter.routeId) &&
          (filter.upstreamId === undefined || r.upstreamId === filter.upstreamId),
      );
      if (filter.before !== undefined) {
        const pivot = rows.get(filter.before);
        all = pivot ? all.filter((r) => byAge(r, pivot) < 0) : [];
      }
      return all.slice(0, filter.limit).map(copy);
    },
    async retry(id, now) {
      count('retry');
      const r = rows.get(id);
      if (!r || (r.state !== 'dead' && r.state !== 'queued') || r.sealed === null) return false;
      Object.assign(r, { state: 'queued', nextAttemptAt: now, updatedAt: now });
      return true;
    },
    async drop(id, now) {
      count('drop');
      const r = rows.get(id);
      if (!r || (r.state !== 'dead' && r.state !== 'queued')) return false;
      Object.assign(r, { state: 'dropped', sealed: null, updatedAt: now });
      return true;
    },
    async counts(): Promise<DeliveryCounts> {
      count('counts');
      const all = [...rows.values()];
      const n = (s: string) => all.filter((r) => r.state === s).length;
      const pending = all.filter((r) => PENDING.has(r.state)).map((r) => r.createdAt);
      return {
        queued: n('queued'),
        inFlight: n('in_flight'),
        delivered: n('delivered'),
        dead: n('dead'),
        dropped: n('dropped'),
        failed: n('failed'),
        oldestPendingAt: pending.length === 0 ? null : Math.min(...pending),
      };
    },
    async latest(routeGroup, orderKey) {
      count('latest');
      const r = newest().find((o) => o.routeGroup === routeGroup && o.orderKey === orderKey);
      return r && copy(r);
    },
    async reconciliation(options = {}): Promise<ReconciliationRow[]> {
      count('reconciliation');
      const groups = new Map<string, ReconciliationRow>();
      for (const r of rows.values()) {
        if (r.state === 'delivered') continue;
        if (options.since !== undefined && r.createdAt < options.since) continue;
        const month = new Date(r.createdAt).toISOString().slice(0, 7);
        const key = `${r.upstreamId}\u0000${month}\u0000${r.state}`;
        const g = groups.get(key);
        groups.set(key, { upstreamId: r.upstreamId, month, state: r.state, count: (g?.count ?? 0) + 1 });
      }
      return [...groups.values()].sort(
        (a, b) =>
          a.upstreamId.localeCompare(b.upstreamId) || a.month.localeCompare(b.month) || a.state.localeCompare(b.state),
      );
    },
    async erasePayloads(before) {
      count('erasePayloads');
      let n = 0;
      for (const r of rows.values())
        if (
          (r.state === 'delivered' || r.state === 'dead' || r.state === 'dropped') &&
          r.updatedAt < before &&
          r.sealed
        ) {
          r.sealed = null;
          n++;
        }
      return n;
    },
    async close() {},
  };
}

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
import {
  DUPLICATE_STATES,
  enqueuedRow,
  FINISHED_STATES,
  PENDING_STATES,
  recordedRow,
  toCounts,
} from '../../src/delivery/store-rows.ts';

/**
 * An in-memory DeliveryStore for the engine's tests, honest to the contract of src/delivery/store.ts:
 * duplicates by (routeGroup, orderKey, payloadHash) among queued, in-flight and delivered rows; a row is
 * claimable only when no row of its (routeGroup, orderKey) enqueued earlier (the store's own insertion
 * order) is queued or in flight; a claim holds until its lease expires; an outcome call returns false when
 * the row is no longer in flight or another owner took it over. Not durable: the crash test uses the real
 * SQLite store.
 */
export class MemoryDeliveryStore implements DeliveryStore {
  readonly kind = 'sqlite' as const;
  readonly rows = new Map<string, Delivery>();
  /** The enqueue order (an insertion sequence, as the real stores keep): ids by position. */
  readonly #seq = new Map<string, number>();
  #next = 0;
  #closed = false;

  async enqueue(row: NewDelivery, claim?: ClaimNow & { readonly now: number }): Promise<EnqueueResult> {
    this.#open();
    if (row.orderKey !== null) {
      for (const existing of this.rows.values()) {
        if (
          existing.routeGroup === row.routeGroup &&
          existing.orderKey === row.orderKey &&
          existing.payloadHash === row.payloadHash &&
          DUPLICATE_STATES.includes(existing.state)
        ) {
          return { kind: 'duplicate', delivery: existing };
        }
      }
    }
    // The same row as the real stores write (store-rows.ts), the sealed bytes copied as a database would.
    const stored: Delivery = enqueuedRow(
      { ...row, sealed: Buffer.from(row.sealed) },
      claim?.now ?? row.createdAt,
      claim && !this.#blocked(row) ? claim : undefined,
    );
    this.rows.set(row.id, stored);
    this.#seq.set(row.id, this.#next++);
    return { kind: stored.state === 'in_flight' ? 'claimed' : 'queued', delivery: stored };
  }

  async record(row: NewDelivery, outcome: AttemptOutcome & { readonly state: 'delivered' | 'failed' }): Promise<void> {
    this.#open();
    this.#seq.set(row.id, this.#next++);
    this.rows.set(row.id, recordedRow(row, outcome));
  }

  async claimDue(
    now: number,
    options: { owner: string; leaseMs: number; limit: number; upstreamIds?: readonly string[] },
  ): Promise<Delivery[]> {
    this.#open();
    const due = [...this.rows.values()]
      .filter((d) => !options.upstreamIds || options.upstreamIds.includes(d.upstreamId))
      .filter(
        (d) =>
          (d.state === 'queued' && d.nextAttemptAt <= now) ||
          (d.state === 'in_flight' && d.leaseUntil !== null && d.leaseUntil <= now),
      )
      .filter((d) => !this.#blocked(d))
      .sort(this.#byOrder)
      .slice(0, options.limit);
    return due.map((d) => this.#claim(d, options.owner, options.leaseMs, now));
  }

  async complete(id: string, owner: string, outcome: AttemptOutcome): Promise<boolean> {
    return this.#settle(id, owner, outcome, { state: 'delivered', deliveredAt: outcome.at });
  }

  async reschedule(id: string, owner: string, outcome: AttemptOutcome & { nextAttemptAt: number }): Promise<boolean> {
    return this.#settle(id, owner, outcome, { state: 'queued', nextAttemptAt: outcome.nextAttemptAt });
  }

  async bury(id: string, owner: string, outcome: AttemptOutcome): Promise<boolean> {
    return this.#settle(id, owner, outcome, { state: 'dead' });
  }

  async get(id: string): Promise<Delivery | undefined> {
    return this.rows.get(id);
  }

  async list(filter: DeliveryFilter): Promise<Delivery[]> {
    let rows = [...this.rows.values()].sort(this.#byOrder).reverse();
    if (filter.state) rows = rows.filter((d) => d.state === filter.state);
    if (filter.routeId) rows = rows.filter((d) => d.routeId === filter.routeId);
    if (filter.upstreamId) rows = rows.filter((d) => d.upstreamId === filter.upstreamId);
    if (filter.before) {
      const at = rows.findIndex((d) => d.id === filter.before);
      rows = at === -1 ? [] : rows.slice(at + 1);
    }
    return rows.slice(0, filter.limit);
  }

  async retry(id: string, now: number): Promise<boolean> {
    const d = this.rows.get(id);
    if (!d || (d.state !== 'dead' && d.state !== 'queued') || d.sealed === null) return false;
    // A dead one gets a fresh lifetime as long as its first (one that died of age would die again unsent).
    const expiresAt = d.state === 'dead' ? now + (d.expiresAt - d.createdAt) : d.expiresAt;
    this.rows.set(id, { ...d, state: 'queued', nextAttemptAt: now, updatedAt: now, expiresAt });
    return true;
  }

  async drop(id: string, now: number): Promise<boolean> {
    const d = this.rows.get(id);
    if (!d || (d.state !== 'dead' && d.state !== 'queued')) return false;
    this.rows.set(id, { ...d, state: 'dropped', sealed: null, updatedAt: now });
    return true;
  }

  async pendingOf(consumerId: string): Promise<number> {
    return [...this.rows.values()].filter((d) => d.consumerId === consumerId && PENDING_STATES.includes(d.state))
      .length;
  }

  async counts(): Promise<DeliveryCounts> {
    const rows = [...this.rows.values()];
    const n = new Map<string, number>();
    for (const d of rows) n.set(d.state, (n.get(d.state) ?? 0) + 1);
    const pending = rows.filter((d) => PENDING_STATES.includes(d.state)).map((d) => d.createdAt);
    return toCounts(
      [...n].map(([state, count]) => ({ state, n: count })),
      pending.length === 0 ? null : Math.min(...pending),
    );
  }

  async latest(routeGroup: string, orderKey: string): Promise<Delivery | undefined> {
    return [...this.rows.values()]
      .filter((d) => d.routeGroup === routeGroup && d.orderKey === orderKey)
      .sort(this.#byOrder)
      .at(-1);
  }

  async reconciliation(): Promise<ReconciliationRow[]> {
    return [];
  }

  async erasePayloads(before: number): Promise<number> {
    let n = 0;
    for (const d of this.rows.values()) {
      if (FINISHED_STATES.includes(d.state) && d.updatedAt < before && d.sealed !== null) {
        this.rows.set(d.id, { ...d, sealed: null });
        n++;
      }
    }
    return n;
  }

  async close(): Promise<void> {
    this.#closed = true;
  }

  /** An earlier row of the same (routeGroup, orderKey) is still queued or in flight (a row not stored yet: any). */
  #blocked(d: Pick<Delivery, 'id' | 'routeGroup' | 'orderKey'>): boolean {
    if (d.orderKey === null) return false;
    for (const other of this.rows.values()) {
      if (other.id === d.id || other.routeGroup !== d.routeGroup || other.orderKey !== d.orderKey) continue;
      if (!PENDING_STATES.includes(other.state)) continue;
      if (!this.#seq.has(d.id) || this.#byOrder(other, d) < 0) return true;
    }
    return false;
  }

  #claim(d: Delivery, owner: string, leaseMs: number, now: number): Delivery {
    const claimed: Delivery = {
      ...d,
      state: 'in_flight',
      attempts: d.attempts + 1,
      leaseOwner: owner,
      leaseUntil: now + leaseMs,
      updatedAt: now,
    };
    this.rows.set(d.id, claimed);
    return claimed;
  }

  #settle(id: string, owner: string, outcome: AttemptOutcome, change: Partial<Delivery>): boolean {
    this.#open();
    const d = this.rows.get(id);
    if (!d || d.state !== 'in_flight' || d.leaseOwner !== owner) return false;
    this.rows.set(id, {
      ...d,
      ...change,
      leaseOwner: null,
      leaseUntil: null,
      updatedAt: outcome.at,
      lastStatus: outcome.status,
      lastError: outcome.error,
    });
    return true;
  }

  readonly #byOrder = (a: Pick<Delivery, 'id'>, b: Pick<Delivery, 'id'>): number =>
    this.#seq.get(a.id)! - this.#seq.get(b.id)!;

  #open(): void {
    if (this.#closed) throw new Error('store closed');
  }
}

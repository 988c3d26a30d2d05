import type { Delivery, DeliveryCounts, DeliveryState } from './store.ts';

/**
 * What the SQLite and the PostgreSQL store share: the column list and the mapping of one row to a
 * `Delivery`. Both engines use the same snake_case columns, so a row read by either maps the same way.
 */

/** The states that hold a business key's sequence back: a later delivery of the key waits for these. */
export const PENDING_STATES: readonly DeliveryState[] = ['queued', 'in_flight'];

/** The states a duplicate is found among: a push already queued, in flight or delivered is not stored again. */
export const DUPLICATE_STATES: readonly DeliveryState[] = ['queued', 'in_flight', 'delivered'];

/** The states whose payload `erasePayloads` erases once past retention (the engine is done with them). */
export const FINISHED_STATES: readonly DeliveryState[] = ['delivered', 'dead', 'dropped'];

/** The columns every read selects, in `rowToDelivery`'s terms. */
export const COLUMNS =
  'id, mode, route_id, upstream_id, consumer_id, order_key, route_group, payload_hash, operation, sealed, ' +
  'created_at, expires_at, state, attempts, next_attempt_at, lease_until, lease_owner, updated_at, ' +
  'last_status, last_error, delivered_at';

/** `'a', 'b'` for an SQL `IN (…)` of constant states (never of caller input). */
export const stateList = (states: readonly DeliveryState[]): string => states.map((s) => `'${s}'`).join(', ');

type Row = Record<string, unknown>;

/** A number column (PostgreSQL `bigint` arrives as a string, SQLite `INTEGER` as a number). */
const num = (value: unknown): number => Number(value);
const numOrNull = (value: unknown): number | null => (value === null || value === undefined ? null : Number(value));
const strOrNull = (value: unknown): string | null => (value === null || value === undefined ? null : String(value));

/** One row as the contract's `Delivery` (a BLOB/bytea as a Buffer, null once erased). */
export function rowToDelivery(row: Row): Delivery {
  const sealed = row.sealed as Uint8Array | null;
  return {
    id: String(row.id),
    mode: row.mode as Delivery['mode'],
    routeId: String(row.route_id),
    upstreamId: String(row.upstream_id),
    consumerId: String(row.consumer_id),
    orderKey: strOrNull(row.order_key),
    routeGroup: String(row.route_group),
    payloadHash: String(row.payload_hash),
    operation: strOrNull(row.operation),
    sealed: sealed === null || sealed === undefined ? null : Buffer.from(sealed),
    createdAt: num(row.created_at),
    expiresAt: num(row.expires_at),
    state: row.state as DeliveryState,
    attempts: num(row.attempts),
    nextAttemptAt: num(row.next_attempt_at),
    leaseUntil: numOrNull(row.lease_until),
    leaseOwner: strOrNull(row.lease_owner),
    updatedAt: num(row.updated_at),
    lastStatus: numOrNull(row.last_status),
    lastError: strOrNull(row.last_error),
    deliveredAt: numOrNull(row.delivered_at),
  };
}

/** Counts from `(state, n)` rows and the oldest pending createdAt. */
export function toCounts(rows: readonly { state: unknown; n: unknown }[], oldest: unknown): DeliveryCounts {
  const by = new Map(rows.map((r) => [String(r.state), Number(r.n)]));
  return {
    queued: by.get('queued') ?? 0,
    inFlight: by.get('in_flight') ?? 0,
    delivered: by.get('delivered') ?? 0,
    dead: by.get('dead') ?? 0,
    dropped: by.get('dropped') ?? 0,
    failed: by.get('failed') ?? 0,
    oldestPendingAt: numOrNull(oldest),
  };
}

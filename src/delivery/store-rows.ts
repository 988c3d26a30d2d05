import type {
  AttemptOutcome,
  ClaimNow,
  Delivery,
  DeliveryCounts,
  DeliveryState,
  NewDelivery,
  ReconciliationRow,
} from './store.ts';

/**
 * What the SQLite and the PostgreSQL store share: the column list, the mapping of one row to a
 * `Delivery` and back, and what a new row holds beyond the `NewDelivery` it stores. Both engines use the
 * same snake_case columns, so a row read by either maps the same way.
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

/**
 * `INSERT INTO table (COLUMNS) VALUES (…) RETURNING COLUMNS`, the values written as `placeholder(1)`,
 * `placeholder(2)`, … (`?` for SQLite, `$n` for PostgreSQL), in the order of `rowValues`.
 */
export function insertStatement(table: string, placeholder: (position: number) => string): string {
  const values = COLUMNS.split(', ').map((_, i) => placeholder(i + 1));
  return `INSERT INTO ${table} (${COLUMNS}) VALUES (${values.join(', ')}) RETURNING ${COLUMNS}`;
}

/** A delivery's column values in the order of `COLUMNS` (what `insertStatement` binds). */
export function rowValues(d: Delivery): (string | number | Buffer | null)[] {
  return [
    d.id,
    d.mode,
    d.routeId,
    d.upstreamId,
    d.consumerId,
    d.orderKey,
    d.routeGroup,
    d.payloadHash,
    d.operation,
    d.sealed,
    d.createdAt,
    d.expiresAt,
    d.state,
    d.attempts,
    d.nextAttemptAt,
    d.leaseUntil,
    d.leaseOwner,
    d.updatedAt,
    d.lastStatus,
    d.lastError,
    d.deliveredAt,
  ];
}

/** What `enqueue` stores: claimed by `claim.owner` at `now` when given one (the key waits for no earlier row), else queued. */
export function enqueuedRow(delivery: NewDelivery, now: number, claim: ClaimNow | undefined): Delivery {
  return {
    ...delivery,
    state: claim ? 'in_flight' : 'queued',
    attempts: claim ? 1 : 0,
    nextAttemptAt: now,
    leaseUntil: claim ? now + claim.leaseMs : null,
    leaseOwner: claim ? claim.owner : null,
    updatedAt: now,
    lastStatus: null,
    lastError: null,
    deliveredAt: null,
  };
}

/** What `record` stores: a direct push, answered already, so nothing of it is kept to send again. */
export function recordedRow(
  delivery: NewDelivery,
  outcome: AttemptOutcome & { readonly state: 'delivered' | 'failed' },
): Delivery {
  return {
    ...delivery,
    sealed: null,
    state: outcome.state,
    attempts: 1,
    nextAttemptAt: outcome.at,
    leaseUntil: null,
    leaseOwner: null,
    updatedAt: outcome.at,
    lastStatus: outcome.status,
    lastError: outcome.error,
    deliveredAt: outcome.state === 'delivered' ? outcome.at : null,
  };
}

/** Refuses a ledger whose schema a newer gateway wrote (`known`: the migrations this one has). */
export function assertKnownSchema(version: number, known: number): void {
  if (version > known)
    throw new Error(
      `the delivery store was written by a newer lgsp-gateway (schema ${version}, this one knows ${known})`,
    );
}

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

/** One `(upstream_id, month, state, n)` row of the reconciliation query. */
export function toReconciliationRow(row: Row): ReconciliationRow {
  return {
    upstreamId: String(row.upstream_id),
    month: String(row.month),
    state: row.state as ReconciliationRow['state'],
    count: Number(row.n),
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

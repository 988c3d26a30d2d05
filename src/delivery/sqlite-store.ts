import { closeSync, mkdirSync, openSync } from 'node:fs';
import path from 'node:path';
import { DatabaseSync, type SQLInputValue, type StatementSync } from 'node:sqlite';
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
} from './store.ts';
import {
  assertKnownSchema,
  COLUMNS,
  DUPLICATE_STATES,
  enqueuedRow,
  FINISHED_STATES,
  insertStatement,
  PENDING_STATES,
  recordedRow,
  rowToDelivery,
  rowValues,
  stateList,
  toCounts,
  toReconciliationRow,
} from './store-rows.ts';

/**
 * The embedded delivery store: one SQLite file through `node:sqlite` (ships with Node 24: `npm start`
 * needs nothing). The gateway and the CLI (`lgsp-gateway deliveries …`) may open the same file at once.
 *
 * - Durable before it resolves: WAL with `synchronous=FULL` fsyncs the log at every commit, so an enqueue
 *   whose promise resolved survives a `kill -9` and a power cut (NORMAL would only survive the former).
 * - Every write is one `BEGIN IMMEDIATE` transaction: SQLite takes the one write lock at BEGIN, so a
 *   read-then-write (duplicate check then insert, candidates then claim) can never interleave with another
 *   process's, and a busy lock is waited for (`busy_timeout`) instead of failing at the upgrade (a
 *   deferred transaction that reads and then writes gets SQLITE_BUSY without waiting in WAL mode).
 * - Enqueue order is the table's `seq` (AUTOINCREMENT: never reused, strictly increasing in commit order,
 *   as writes are serialised), which is what "earlier" means for the order of a business key.
 *
 * The API is synchronous underneath (DatabaseSync): each call blocks the event loop for one short
 * statement, or up to `busyTimeoutMs` while another process holds the write lock.
 */

export interface SqliteStoreOptions {
  /** The database file (created with its directory, mode 0600). */
  readonly path: string;
  /** How long a write waits for another process's write lock before failing (SQLITE_BUSY). */
  readonly busyTimeoutMs?: number;
}

/** The schema, one entry per version (`PRAGMA user_version`): applied in order at open, never edited. */
const MIGRATIONS: readonly string[] = [
  `CREATE TABLE deliveries (
     seq INTEGER PRIMARY KEY AUTOINCREMENT,
     id TEXT NOT NULL UNIQUE,
     mode TEXT NOT NULL,
     route_id TEXT NOT NULL,
     upstream_id TEXT NOT NULL,
     consumer_id TEXT NOT NULL,
     order_key TEXT,
     route_group TEXT NOT NULL,
     payload_hash TEXT NOT NULL,
     operation TEXT,
     sealed BLOB,
     created_at INTEGER NOT NULL,
     expires_at INTEGER NOT NULL,
     state TEXT NOT NULL,
     attempts INTEGER NOT NULL DEFAULT 0,
     next_attempt_at INTEGER NOT NULL,
     lease_until INTEGER,
     lease_owner TEXT,
     updated_at INTEGER NOT NULL,
     last_status INTEGER,
     last_error TEXT,
     delivered_at INTEGER
   );
   -- the business key's sequence: ordering, duplicates, latest()
   CREATE INDEX deliveries_key ON deliveries (route_group, order_key, seq);
   -- the claim's walks, in enqueue order: queued work, and claims whose lease may have run out
   CREATE INDEX deliveries_queued_seq ON deliveries (seq) WHERE state = 'queued';
   CREATE INDEX deliveries_in_flight_seq ON deliveries (seq) WHERE state = 'in_flight';
   CREATE INDEX deliveries_state_updated ON deliveries (state, updated_at);
   CREATE INDEX deliveries_created ON deliveries (created_at);`,
  // counts() without counting: the ledger grows by every push (millions of rows in a year) and the
  // metrics ask for the counts at every scrape, on the event loop (DatabaseSync). Kept by triggers in the
  // writing transaction; writes are serialised anyway, so one counter row per state costs no contention.
  `CREATE TABLE delivery_counts (state TEXT PRIMARY KEY, n INTEGER NOT NULL) WITHOUT ROWID;
   INSERT INTO delivery_counts (state, n) SELECT state, count(*) FROM deliveries GROUP BY state;
   CREATE TRIGGER deliveries_counted_insert AFTER INSERT ON deliveries BEGIN
     INSERT INTO delivery_counts (state, n) VALUES (NEW.state, 1) ON CONFLICT (state) DO UPDATE SET n = n + 1;
   END;
   CREATE TRIGGER deliveries_counted_update AFTER UPDATE OF state ON deliveries WHEN OLD.state <> NEW.state BEGIN
     UPDATE delivery_counts SET n = n - 1 WHERE state = OLD.state;
     INSERT INTO delivery_counts (state, n) VALUES (NEW.state, 1) ON CONFLICT (state) DO UPDATE SET n = n + 1;
   END;
   CREATE TRIGGER deliveries_counted_delete AFTER DELETE ON deliveries BEGIN
     UPDATE delivery_counts SET n = n - 1 WHERE state = OLD.state;
   END;`,
];

const DEFAULT_BUSY_TIMEOUT_MS = 5000;

/** Opens (creating and migrating when needed) the SQLite delivery store at `options.path`. */
export function openSqliteDeliveryStore(options: SqliteStoreOptions): DeliveryStore {
  const file = path.resolve(options.path);
  mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  // Created here with 0600 so the sealed payloads and the ledger are the gateway user's alone; SQLite
  // gives its -wal and -shm files the database file's mode.
  closeSync(openSync(file, 'a', 0o600));
  const db = new DatabaseSync(file, { timeout: options.busyTimeoutMs ?? DEFAULT_BUSY_TIMEOUT_MS });
  try {
    db.exec('PRAGMA journal_mode = WAL');
    db.exec('PRAGMA synchronous = FULL');
    migrate(db);
  } catch (err) {
    db.close();
    throw err;
  }
  return new SqliteDeliveryStore(db);
}

function migrate(db: DatabaseSync): void {
  immediate(db, () => {
    const version = Number((db.prepare('PRAGMA user_version').get() as { user_version: number }).user_version);
    assertKnownSchema(version, MIGRATIONS.length);
    for (let v = version; v < MIGRATIONS.length; v++) db.exec(MIGRATIONS[v]);
    if (version !== MIGRATIONS.length) db.exec(`PRAGMA user_version = ${MIGRATIONS.length}`);
  });
}

/** Runs `fn` in one BEGIN IMMEDIATE transaction (the write lock taken at once, waited for up to the busy timeout). */
function immediate<T>(db: DatabaseSync, fn: () => T): T {
  db.exec('BEGIN IMMEDIATE');
  try {
    const result = fn();
    db.exec('COMMIT');
    return result;
  } catch (err) {
    if (db.isTransaction) db.exec('ROLLBACK');
    throw err;
  }
}

type Row = Record<string, SQLInputValue>;

class SqliteDeliveryStore implements DeliveryStore {
  readonly kind = 'sqlite' as const;
  readonly #db: DatabaseSync;
  readonly #statements = new Map<string, StatementSync>();
  #closed = false;

  constructor(db: DatabaseSync) {
    this.#db = db;
  }

  /** A statement prepared once per store. */
  #sql(text: string): StatementSync {
    let statement = this.#statements.get(text);
    if (!statement) {
      if (this.#closed) throw new Error('the delivery store is closed');
      statement = this.#db.prepare(text);
      this.#statements.set(text, statement);
    }
    return statement;
  }

  #one(text: string, ...params: SQLInputValue[]): Delivery | undefined {
    const row = this.#sql(text).get(...params) as Row | undefined;
    return row ? rowToDelivery(row) : undefined;
  }

  #all(text: string, ...params: SQLInputValue[]): Delivery[] {
    return (this.#sql(text).all(...params) as Row[]).map(rowToDelivery);
  }

  #insert(row: Delivery): Delivery {
    return this.#one(
      insertStatement('deliveries', () => '?'),
      ...rowValues(row),
    )!;
  }

  async enqueue(delivery: NewDelivery, claim?: ClaimNow & { readonly now: number }): Promise<EnqueueResult> {
    return immediate(this.#db, (): EnqueueResult => {
      if (delivery.orderKey !== null) {
        const existing = this.#one(
          `SELECT ${COLUMNS} FROM deliveries
            WHERE route_group = ? AND order_key = ? AND payload_hash = ? AND state IN (${stateList(DUPLICATE_STATES)})
            ORDER BY seq DESC LIMIT 1`,
          delivery.routeGroup,
          delivery.orderKey,
          delivery.payloadHash,
        );
        if (existing) return { kind: 'duplicate', delivery: existing };
      }
      const now = claim?.now ?? delivery.createdAt;
      const waits =
        delivery.orderKey !== null &&
        this.#sql(
          `SELECT 1 FROM deliveries WHERE route_group = ? AND order_key = ? AND state IN (${stateList(PENDING_STATES)}) LIMIT 1`,
        ).get(delivery.routeGroup, delivery.orderKey) !== undefined;
      const stored = this.#insert(enqueuedRow(delivery, now, waits ? undefined : claim));
      return { kind: stored.state === 'in_flight' ? 'claimed' : 'queued', delivery: stored };
    });
  }

  async record(
    delivery: NewDelivery,
    outcome: AttemptOutcome & { readonly state: 'delivered' | 'failed' },
  ): Promise<void> {
    immediate(this.#db, () => this.#insert(recordedRow(delivery, outcome)));
  }

  async claimDue(
    now: number,
    options: { owner: string; leaseMs: number; limit: number; upstreamIds?: readonly string[] },
  ): Promise<Delivery[]> {
    if (options.limit <= 0 || options.upstreamIds?.length === 0) return [];
    const upstreams = options.upstreamIds ? [...new Set(options.upstreamIds)] : [];
    const upstreamFilter = upstreams.length ? `AND d.upstream_id IN (${upstreams.map(() => '?').join(', ')})` : '';
    // The candidates are the heads of their keys' sequences (no earlier queued or in-flight delivery of the
    // same (route_group, order_key)), so two deliveries of one key are never in flight together.
    const head = `(d.order_key IS NULL OR NOT EXISTS (
        SELECT 1 FROM deliveries e
         WHERE e.route_group = d.route_group AND e.order_key = d.order_key AND e.seq < d.seq
           AND e.state IN (${stateList(PENDING_STATES)})))`;
    // Each branch walks its state's rows in enqueue order and stops at the limit: after an outage, with a
    // backlog of 20,000 due deliveries, a claim reads a few dozen rows (0.4 ms) instead of checking and
    // sorting them all (240 ms with one range index per branch).
    const rows = immediate(this.#db, () =>
      // One statement under the write lock.
      this.#sql(
        `UPDATE deliveries
            SET state = 'in_flight', attempts = attempts + 1, lease_owner = ?, lease_until = ?, updated_at = ?
          WHERE seq IN (
            SELECT seq FROM (
              SELECT d.seq FROM deliveries d INDEXED BY deliveries_queued_seq
               WHERE d.state = 'queued' AND d.next_attempt_at <= ? ${upstreamFilter} AND ${head}
               ORDER BY d.seq LIMIT ?)
            UNION ALL
            SELECT seq FROM (
              SELECT d.seq FROM deliveries d INDEXED BY deliveries_in_flight_seq
               WHERE d.state = 'in_flight' AND d.lease_until <= ? ${upstreamFilter} AND ${head}
               ORDER BY d.seq LIMIT ?)
            ORDER BY seq LIMIT ?)
          RETURNING ${COLUMNS}, seq`,
      ).all(
        options.owner,
        now + options.leaseMs,
        now,
        now,
        ...upstreams,
        options.limit,
        now,
        ...upstreams,
        options.limit,
        options.limit,
      ),
    ) as Row[];
    // RETURNING gives no order: in enqueue order, as they were picked.
    return rows.sort((a, b) => Number(a.seq) - Number(b.seq)).map(rowToDelivery);
  }

  /** An attempt's end, written only while `owner` still holds the claim (its lease not taken over). */
  #finish(id: string, owner: string, set: string, params: SQLInputValue[]): boolean {
    const result = immediate(this.#db, () =>
      this.#sql(
        `UPDATE deliveries SET ${set}, lease_owner = NULL, lease_until = NULL
          WHERE id = ? AND state = 'in_flight' AND lease_owner = ?`,
      ).run(...params, id, owner),
    );
    return Number(result.changes) === 1;
  }

  async complete(id: string, owner: string, outcome: AttemptOutcome): Promise<boolean> {
    return this.#finish(
      id,
      owner,
      `state = 'delivered', delivered_at = ?, updated_at = ?, last_status = ?, last_error = ?`,
      [outcome.at, outcome.at, outcome.status, outcome.error],
    );
  }

  async reschedule(
    id: string,
    owner: string,
    outcome: AttemptOutcome & { readonly nextAttemptAt: number },
  ): Promise<boolean> {
    return this.#finish(
      id,
      owner,
      `state = 'queued', next_attempt_at = ?, updated_at = ?, last_status = ?, last_error = ?`,
      [outcome.nextAttemptAt, outcome.at, outcome.status, outcome.error],
    );
  }

  async bury(id: string, owner: string, outcome: AttemptOutcome): Promise<boolean> {
    return this.#finish(id, owner, `state = 'dead', updated_at = ?, last_status = ?, last_error = ?`, [
      outcome.at,
      outcome.status,
      outcome.error,
    ]);
  }

  async get(id: string): Promise<Delivery | undefined> {
    return this.#one(`SELECT ${COLUMNS} FROM deliveries WHERE id = ?`, id);
  }

  async list(filter: DeliveryFilter): Promise<Delivery[]> {
    const where: string[] = [];
    const params: SQLInputValue[] = [];
    const add = (condition: string, value: SQLInputValue) => {
      where.push(condition);
      params.push(value);
    };
    if (filter.state !== undefined) add('state = ?', filter.state);
    if (filter.routeId !== undefined) add('route_id = ?', filter.routeId);
    if (filter.upstreamId !== undefined) add('upstream_id = ?', filter.upstreamId);
    // An unknown `before` id pages to nothing rather than starting again from the newest.
    if (filter.before !== undefined) add('seq < coalesce((SELECT seq FROM deliveries WHERE id = ?), 0)', filter.before);
    const clause = where.length ? `WHERE ${where.join(' AND ')}` : '';
    return this.#all(
      `SELECT ${COLUMNS} FROM deliveries ${clause} ORDER BY seq DESC LIMIT ?`,
      ...params,
      Math.max(0, filter.limit),
    );
  }

  async retry(id: string, now: number): Promise<boolean> {
    const result = immediate(this.#db, () =>
      this.#sql(
        `UPDATE deliveries
            SET expires_at = CASE WHEN state = 'dead' THEN ? + (expires_at - created_at) ELSE expires_at END,
                state = 'queued', next_attempt_at = ?, updated_at = ?
          WHERE id = ? AND state IN ('dead', 'queued') AND sealed IS NOT NULL`,
      ).run(now, now, now, id),
    );
    return Number(result.changes) === 1;
  }

  async drop(id: string, now: number): Promise<boolean> {
    const result = immediate(this.#db, () =>
      this.#sql(
        `UPDATE deliveries SET state = 'dropped', sealed = NULL, updated_at = ?
          WHERE id = ? AND state IN ('dead', 'queued')`,
      ).run(now, id),
    );
    return Number(result.changes) === 1;
  }

  async counts(): Promise<DeliveryCounts> {
    const rows = this.#sql('SELECT state, n FROM delivery_counts').all() as {
      state: string;
      n: number;
    }[];
    const oldest = this.#sql(
      `SELECT min(created_at) AS oldest FROM deliveries WHERE state IN (${stateList(PENDING_STATES)})`,
    ).get() as { oldest: number | null };
    return toCounts(rows, oldest.oldest);
  }

  async pendingOf(consumerId: string): Promise<number> {
    // One count per state, each served by that state's partial index (pending rows only).
    const row = this.#sql(
      `SELECT (SELECT count(*) FROM deliveries WHERE state = 'queued' AND consumer_id = ?)
            + (SELECT count(*) FROM deliveries WHERE state = 'in_flight' AND consumer_id = ?) AS n`,
    ).get(consumerId, consumerId) as { n: number };
    return Number(row.n);
  }

  async latest(routeGroup: string, orderKey: string): Promise<Delivery | undefined> {
    return this.#one(
      `SELECT ${COLUMNS} FROM deliveries WHERE route_group = ? AND order_key = ? ORDER BY seq DESC LIMIT 1`,
      routeGroup,
      orderKey,
    );
  }

  async reconciliation(options?: { readonly since?: number }): Promise<ReconciliationRow[]> {
    const rows = this.#sql(
      `SELECT upstream_id, strftime('%Y-%m', created_at / 1000, 'unixepoch') AS month, state, count(*) AS n
         FROM deliveries
        WHERE state <> 'delivered' AND created_at >= ?
        GROUP BY upstream_id, month, state
        ORDER BY upstream_id, month, state`,
    ).all(options?.since ?? Number.MIN_SAFE_INTEGER) as Row[];
    return rows.map(toReconciliationRow);
  }

  async erasePayloads(before: number): Promise<number> {
    const result = immediate(this.#db, () =>
      this.#sql(
        `UPDATE deliveries SET sealed = NULL
          WHERE state IN (${stateList(FINISHED_STATES)}) AND updated_at < ? AND sealed IS NOT NULL`,
      ).run(before),
    );
    return Number(result.changes);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#statements.clear();
    this.#db.close();
  }
}

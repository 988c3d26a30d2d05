import postgres from 'postgres';
import { describePostgresUrl } from './postgres-url.ts';
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
 * The shared delivery store: PostgreSQL, for several gateway replicas working one queue (the database
 * engine provinces already operate). Through `postgres` (porsager; no dependencies of its own).
 *
 * - Durable before it resolves: every write is a committed transaction, the session running with
 *   `synchronous_commit = on` whatever the server's default.
 * - Replicas share the queue: `claimDue` picks with `FOR UPDATE SKIP LOCKED` and updates in the same
 *   statement, so a row one replica is claiming is skipped by the others, never waited for nor taken twice.
 * - Enqueue order is the table's `seq` (an identity column). Enqueues of one (route_group, order_key) are
 *   serialised by a transaction-scoped advisory lock on that key, so within a key `seq` order is commit
 *   order (a later `seq` of a key is never visible before an earlier one) and the duplicate check cannot
 *   race (two replicas receiving the same push at once store it once).
 *
 * Ordering under concurrent claims: we claim only the head of each key's sequence inside the locked query
 * (a candidate qualifies only when NOT EXISTS an earlier queued or in-flight row of its key), rather than
 * taking an advisory lock per key in the claim. Why this is enough: when two replicas claim at once, the
 * head row is locked by the one that picks it; the other skips it (SKIP LOCKED) and, in its own snapshot,
 * still sees that head as queued (or already in flight), so the row after it fails NOT EXISTS and is not a
 * candidate either. A stale snapshot can only err on the safe side: an earlier row of a key becomes pending
 * again only by an operator's retry of a dead letter (which the contract does not make block its key) or by
 * an insert, and the enqueue lock above keeps inserts of a key in `seq` order. A per-key advisory lock in
 * the claim would need one lock call per candidate row, could not be combined with LIMIT and SKIP LOCKED in
 * one statement, and would serialise claimers on hot keys; the head-only rule costs one indexed probe per
 * candidate (index on (route_group, order_key, seq)).
 *
 * Tables live in their own schema (`delivery.store.schema`, default `lgsp_delivery`), created at open by
 * an idempotent migration under an advisory lock (replicas starting together migrate once).
 */

export interface PostgresStoreOptions {
  /** `postgres://user:password@host:port/database?sslmode=…`: a secret, never logged or shown. */
  readonly url: string;
  /** The schema holding the tables (created when missing): `[a-z_][a-z0-9_]*`. */
  readonly schema: string;
  /** Connections of this process's pool. */
  readonly poolMax: number;
  /** Seconds to wait for a connection before a call fails. */
  readonly connectTimeoutSeconds?: number;
  /**
   * At open, how long to keep trying while the database is not up yet (refused, starting up): compose and
   * Kubernetes may start the gateway first. Default 0: one try.
   */
  readonly startupWaitMs?: number;
}

const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

/** The schema, one entry per version (table `schema_version`): applied in order at open, never edited. */
const migrations = (t: string): readonly string[] => [
  `CREATE TABLE ${t} (
     seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
     id text NOT NULL UNIQUE,
     mode text NOT NULL,
     route_id text NOT NULL,
     upstream_id text NOT NULL,
     consumer_id text NOT NULL,
     order_key text,
     route_group text NOT NULL,
     payload_hash text NOT NULL,
     operation text,
     sealed bytea,
     created_at bigint NOT NULL,
     expires_at bigint NOT NULL,
     state text NOT NULL,
     attempts integer NOT NULL DEFAULT 0,
     next_attempt_at bigint NOT NULL,
     lease_until bigint,
     lease_owner text,
     updated_at bigint NOT NULL,
     last_status integer,
     last_error text,
     delivered_at bigint
   );
   CREATE INDEX deliveries_key ON ${t} (route_group, order_key, seq);
   CREATE INDEX deliveries_queued_seq ON ${t} (seq) WHERE state = 'queued';
   CREATE INDEX deliveries_in_flight_seq ON ${t} (seq) WHERE state = 'in_flight';
   CREATE INDEX deliveries_state_updated ON ${t} (state, updated_at);
   CREATE INDEX deliveries_created ON ${t} (created_at);`,
];

/** An error's message with the URL's password (and the URL itself) taken out. */
function scrub(err: unknown, url: string): string {
  let text = err instanceof Error ? err.message : String(err);
  const code = (err as { code?: unknown })?.code;
  let password = '';
  try {
    password = decodeURIComponent(new URL(url).password);
  } catch {
    // an unreadable URL: only the URL itself is scrubbed
  }
  for (const secret of [url, password]) if (secret.length > 0) text = text.split(secret).join('***');
  return typeof code === 'string' && !text.includes(code) ? `${code}: ${text}` : text;
}

/** Opens the PostgreSQL delivery store, creating or migrating its schema. */
export async function openPostgresDeliveryStore(options: PostgresStoreOptions): Promise<DeliveryStore> {
  if (!SCHEMA_NAME.test(options.schema))
    throw new Error(`delivery.store.schema must match ${SCHEMA_NAME.source}: a PostgreSQL schema name`);
  const where = describePostgresUrl(options.url);
  if (!/^postgres(ql)?:\/\//.test(options.url) || where === '(an unreadable URL)')
    throw new Error('delivery.store.url must be a postgres:// or postgresql:// URL');
  let sql: postgres.Sql;
  try {
    sql = postgres(options.url, {
      max: options.poolMax,
      connect_timeout: options.connectTimeoutSeconds ?? 10,
      idle_timeout: 60,
      // CREATE … IF NOT EXISTS answers with notices: nothing to print on the console.
      onnotice: () => {},
      connection: { application_name: 'lgsp-gateway', synchronous_commit: 'on' },
    });
  } catch (err) {
    throw new Error(`the delivery store at ${where} could not be configured: ${scrub(err, options.url)}`);
  }
  const giveUpAt = Date.now() + (options.startupWaitMs ?? 0);
  for (let wait = 250; ; wait = Math.min(wait * 2, 2000)) {
    try {
      await migrate(sql, options.schema);
      return new PostgresDeliveryStore(sql, options.schema);
    } catch (err) {
      if (!notUpYet(err) || Date.now() + wait > giveUpAt) {
        await sql.end({ timeout: 1 }).catch(() => {});
        throw new Error(`the delivery store at ${where} could not be opened: ${scrub(err, options.url)}`);
      }
      await new Promise((resolve) => setTimeout(resolve, wait));
    }
  }
}

/** A database that is not up yet (worth another try at start), as opposed to one that refuses us. */
function notUpYet(err: unknown): boolean {
  const code = (err as { code?: unknown })?.code;
  // 57P03 cannot_connect_now: "the database system is starting up"
  return ['ECONNREFUSED', 'ECONNRESET', 'EAI_AGAIN', 'ENOTFOUND', 'CONNECT_TIMEOUT', '57P03'].includes(String(code));
}

async function migrate(sql: postgres.Sql, schema: string): Promise<void> {
  const table = `"${schema}".deliveries`;
  const all = migrations(table);
  await sql.begin(async (tx) => {
    // Replicas starting together: one migrates, the others wait and find it done.
    await tx.unsafe(`SELECT pg_advisory_xact_lock(hashtextextended($1, 0))`, [`lgsp-delivery-migrate:${schema}`]);
    // Up to date: no DDL at all, so a database user with only USAGE and row privileges can run the gateway.
    const [found] = await tx.unsafe(`SELECT to_regclass($1) IS NOT NULL AS present`, [`"${schema}".schema_version`]);
    if (!found.present) {
      await tx.unsafe(`CREATE SCHEMA IF NOT EXISTS "${schema}"`);
      await tx.unsafe(`CREATE TABLE "${schema}".schema_version (version integer NOT NULL)`);
    }
    const [row] = await tx.unsafe(`SELECT max(version) AS version FROM "${schema}".schema_version`);
    const version = Number(row?.version ?? 0);
    assertKnownSchema(version, all.length);
    for (let v = version; v < all.length; v++) await tx.unsafe(all[v]);
    if (version !== all.length) {
      await tx.unsafe(`DELETE FROM "${schema}".schema_version`);
      await tx.unsafe(`INSERT INTO "${schema}".schema_version (version) VALUES ($1)`, [all.length]);
    }
  });
}

type Row = Record<string, unknown>;
type Param = string | number | Buffer | null | readonly string[];
/** Rows, and `count`: the rows an UPDATE changed. */
type Query = (text: string, params?: Param[]) => Promise<Row[] & { count: number }>;

class PostgresDeliveryStore implements DeliveryStore {
  readonly kind = 'postgres' as const;
  readonly #sql: postgres.Sql;
  readonly #t: string;
  readonly #schema: string;
  #closed = false;

  constructor(sql: postgres.Sql, schema: string) {
    this.#sql = sql;
    this.#schema = schema;
    this.#t = `"${schema}".deliveries`;
  }

  #query(runner: postgres.Sql | postgres.TransactionSql = this.#sql): Query {
    return async (text, params = []) => {
      if (this.#closed) throw new Error('the delivery store is closed');
      return (await runner.unsafe(text, params as never[])) as unknown as Row[] & { count: number };
    };
  }

  async #one(text: string, params: Param[]): Promise<Delivery | undefined> {
    const [row] = await this.#query()(text, params);
    return row ? rowToDelivery(row) : undefined;
  }

  async #insert(query: Query, row: Delivery): Promise<Delivery> {
    const [stored] = await query(
      insertStatement(this.#t, (n) => `$${n}`),
      rowValues(row),
    );
    return rowToDelivery(stored);
  }

  async enqueue(delivery: NewDelivery, claim?: ClaimNow & { readonly now: number }): Promise<EnqueueResult> {
    if (this.#closed) throw new Error('the delivery store is closed');
    return (await this.#sql.begin(async (tx) => {
      const query = this.#query(tx);
      if (delivery.orderKey !== null) {
        // One enqueue of a key at a time, across replicas (see the header: order and duplicates).
        await query(`SELECT pg_advisory_xact_lock(hashtextextended($1, 0))`, [
          `lgsp-delivery:${this.#schema}:${delivery.routeGroup}\u001f${delivery.orderKey}`,
        ]);
        const [existing] = await query(
          `SELECT ${COLUMNS} FROM ${this.#t}
            WHERE route_group = $1 AND order_key = $2 AND payload_hash = $3
              AND state IN (${stateList(DUPLICATE_STATES)})
            ORDER BY seq DESC LIMIT 1`,
          [delivery.routeGroup, delivery.orderKey, delivery.payloadHash],
        );
        if (existing) return { kind: 'duplicate', delivery: rowToDelivery(existing) } as const;
      }
      const waits =
        delivery.orderKey !== null &&
        (
          await query(
            `SELECT 1 FROM ${this.#t}
              WHERE route_group = $1 AND order_key = $2 AND state IN (${stateList(PENDING_STATES)}) LIMIT 1`,
            [delivery.routeGroup, delivery.orderKey],
          )
        ).length > 0;
      const now = claim?.now ?? delivery.createdAt;
      const stored = await this.#insert(query, enqueuedRow(delivery, now, waits ? undefined : claim));
      return { kind: stored.state === 'in_flight' ? 'claimed' : 'queued', delivery: stored } as const;
    })) as EnqueueResult;
  }

  async record(
    delivery: NewDelivery,
    outcome: AttemptOutcome & { readonly state: 'delivered' | 'failed' },
  ): Promise<void> {
    await this.#insert(this.#query(), recordedRow(delivery, outcome));
  }

  async claimDue(
    now: number,
    options: { owner: string; leaseMs: number; limit: number; upstreamIds?: readonly string[] },
  ): Promise<Delivery[]> {
    if (options.limit <= 0 || options.upstreamIds?.length === 0) return [];
    const params: Param[] = [now, options.owner, now + options.leaseMs, options.limit];
    let upstreamFilter = '';
    if (options.upstreamIds) {
      params.push([...new Set(options.upstreamIds)]);
      upstreamFilter = 'AND d.upstream_id = ANY($5::text[])';
    }
    const head = `(d.order_key IS NULL OR NOT EXISTS (
        SELECT 1 FROM ${this.#t} e
         WHERE e.route_group = d.route_group AND e.order_key = d.order_key AND e.seq < d.seq
           AND e.state IN (${stateList(PENDING_STATES)})))`;
    // One statement, its own transaction: pick the heads of their keys' sequences that are due, lock them
    // (skipping rows another replica is claiming), and lease them (see the header for why this keeps order).
    // Queued rows and expired claims are walked apart, each along its partial index in enqueue order, so a
    // claim stops at the limit: one condition with OR made the planner walk the primary key through the
    // whole ledger (220 ms over 200,000 delivered rows; a few rows now).
    const rows = await this.#query()(
      `WITH queued AS (
         SELECT d.seq FROM ${this.#t} d
          WHERE d.state = 'queued' AND d.next_attempt_at <= $1 ${upstreamFilter} AND ${head}
          ORDER BY d.seq LIMIT $4
          FOR UPDATE SKIP LOCKED),
       expired AS (
         SELECT d.seq FROM ${this.#t} d
          WHERE d.state = 'in_flight' AND d.lease_until <= $1 ${upstreamFilter} AND ${head}
          ORDER BY d.seq LIMIT $4
          FOR UPDATE SKIP LOCKED),
       picked AS (
         SELECT seq FROM queued UNION ALL SELECT seq FROM expired ORDER BY seq LIMIT $4)
       UPDATE ${this.#t} AS u
          SET state = 'in_flight', attempts = u.attempts + 1, lease_owner = $2, lease_until = $3, updated_at = $1
         FROM picked
        WHERE u.seq = picked.seq
       RETURNING ${COLUMNS.split(', ')
         .map((c) => `u.${c}`)
         .join(', ')}, u.seq`,
      params,
    );
    return rows.sort((a, b) => Number(a.seq) - Number(b.seq)).map(rowToDelivery);
  }

  /** An attempt's end, written only while `owner` still holds the claim (its lease not taken over). */
  async #finish(id: string, owner: string, set: string, params: Param[]): Promise<boolean> {
    const n = params.length;
    const rows = await this.#query()(
      `UPDATE ${this.#t} SET ${set}, lease_owner = NULL, lease_until = NULL
        WHERE id = $${n + 1} AND state = 'in_flight' AND lease_owner = $${n + 2}
        RETURNING 1 AS done`,
      [...params, id, owner],
    );
    return rows.length === 1;
  }

  async complete(id: string, owner: string, outcome: AttemptOutcome): Promise<boolean> {
    return this.#finish(
      id,
      owner,
      `state = 'delivered', delivered_at = $1, updated_at = $1, last_status = $2, last_error = $3`,
      [outcome.at, outcome.status, outcome.error],
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
      `state = 'queued', next_attempt_at = $1, updated_at = $2, last_status = $3, last_error = $4`,
      [outcome.nextAttemptAt, outcome.at, outcome.status, outcome.error],
    );
  }

  async bury(id: string, owner: string, outcome: AttemptOutcome): Promise<boolean> {
    return this.#finish(id, owner, `state = 'dead', updated_at = $1, last_status = $2, last_error = $3`, [
      outcome.at,
      outcome.status,
      outcome.error,
    ]);
  }

  async get(id: string): Promise<Delivery | undefined> {
    return this.#one(`SELECT ${COLUMNS} FROM ${this.#t} WHERE id = $1`, [id]);
  }

  async list(filter: DeliveryFilter): Promise<Delivery[]> {
    const where: string[] = [];
    const params: Param[] = [];
    const add = (condition: (p: string) => string, value: Param) => {
      params.push(value);
      where.push(condition(`$${params.length}`));
    };
    if (filter.state !== undefined) add((p) => `state = ${p}`, filter.state);
    if (filter.routeId !== undefined) add((p) => `route_id = ${p}`, filter.routeId);
    if (filter.upstreamId !== undefined) add((p) => `upstream_id = ${p}`, filter.upstreamId);
    // An unknown `before` id pages to nothing rather than starting again from the newest.
    if (filter.before !== undefined)
      add((p) => `seq < coalesce((SELECT seq FROM ${this.#t} WHERE id = ${p}), 0)`, filter.before);
    params.push(Math.max(0, filter.limit));
    const clause = where.length ? `WHERE ${where.join(' AND ')}` : '';
    const rows = await this.#query()(
      `SELECT ${COLUMNS} FROM ${this.#t} ${clause} ORDER BY seq DESC LIMIT $${params.length}`,
      params,
    );
    return rows.map(rowToDelivery);
  }

  async retry(id: string, now: number): Promise<boolean> {
    const rows = await this.#query()(
      `UPDATE ${this.#t}
          SET expires_at = CASE WHEN state = 'dead' THEN $1 + (expires_at - created_at) ELSE expires_at END,
              state = 'queued', next_attempt_at = $1, updated_at = $1
        WHERE id = $2 AND state IN ('dead', 'queued') AND sealed IS NOT NULL
        RETURNING 1 AS done`,
      [now, id],
    );
    return rows.length === 1;
  }

  async drop(id: string, now: number): Promise<boolean> {
    const rows = await this.#query()(
      `UPDATE ${this.#t} SET state = 'dropped', sealed = NULL, updated_at = $1
        WHERE id = $2 AND state IN ('dead', 'queued')
        RETURNING 1 AS done`,
      [now, id],
    );
    return rows.length === 1;
  }

  async counts(): Promise<DeliveryCounts> {
    const query = this.#query();
    const [rows, [oldest]] = await Promise.all([
      query(`SELECT state, count(*) AS n FROM ${this.#t} GROUP BY state`),
      query(`SELECT min(created_at) AS oldest FROM ${this.#t} WHERE state IN (${stateList(PENDING_STATES)})`),
    ]);
    return toCounts(rows as unknown as { state: unknown; n: unknown }[], oldest?.oldest ?? null);
  }

  async pendingOf(consumerId: string): Promise<number> {
    // One count per state, each served by that state's partial index (pending rows only).
    const [row] = await this.#query()(
      `SELECT (SELECT count(*) FROM ${this.#t} WHERE state = 'queued' AND consumer_id = $1)
            + (SELECT count(*) FROM ${this.#t} WHERE state = 'in_flight' AND consumer_id = $1) AS n`,
      [consumerId],
    );
    return Number(row?.n ?? 0);
  }

  async latest(routeGroup: string, orderKey: string): Promise<Delivery | undefined> {
    return this.#one(
      `SELECT ${COLUMNS} FROM ${this.#t} WHERE route_group = $1 AND order_key = $2 ORDER BY seq DESC LIMIT 1`,
      [routeGroup, orderKey],
    );
  }

  async reconciliation(options?: { readonly since?: number }): Promise<ReconciliationRow[]> {
    const rows = await this.#query()(
      `SELECT upstream_id, to_char(to_timestamp(created_at / 1000.0) AT TIME ZONE 'UTC', 'YYYY-MM') AS month,
              state, count(*) AS n
         FROM ${this.#t}
        WHERE state <> 'delivered' AND created_at >= $1
        GROUP BY 1, 2, 3
        ORDER BY 1, 2, 3`,
      [options?.since ?? Number.MIN_SAFE_INTEGER],
    );
    return rows.map(toReconciliationRow);
  }

  async erasePayloads(before: number): Promise<number> {
    const rows = await this.#query()(
      `UPDATE ${this.#t} SET sealed = NULL
        WHERE state IN (${stateList(FINISHED_STATES)}) AND updated_at < $1 AND sealed IS NOT NULL`,
      [before],
    );
    return rows.count;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#sql.end({ timeout: 5 });
  }
}

/**
 * The delivery store: the durable queue of one-way pushes and the exchange ledger (issue 17).
 *
 * One contract, two engines: SQLite through `node:sqlite` (embedded, the default: `npm start` needs
 * nothing) and PostgreSQL (several replicas share one queue; work is claimed with
 * `FOR UPDATE SKIP LOCKED`). Both pass the same contract suite (test/integration/delivery/store-contract).
 *
 * The store never sees a payload in clear: `sealed` is the request as the engine encrypted it
 * (AES-256-GCM under `delivery.encryptionKey`), and business keys arrive as keyed HMACs. It keeps no
 * citizen identifier and no secret, so its rows may be listed on an admin page as they are.
 *
 * Times are milliseconds since the epoch, passed in by the caller (the engine's clock): the store reads
 * no clock of its own, so tests drive time.
 */

/** Where a delivery stands. `failed`: a direct-mode push the upstream did not accept (ledger only, never retried). */
export type DeliveryState = 'queued' | 'in_flight' | 'delivered' | 'dead' | 'dropped' | 'failed';

/** Delivery mode of the push the row records. */
export type DeliveryMode = 'queued' | 'direct';

export interface NewDelivery {
  /** Tracking id given to the caller (the engine makes it: unguessable, URL-safe). */
  readonly id: string;
  readonly mode: DeliveryMode;
  readonly routeId: string;
  readonly upstreamId: string;
  readonly consumerId: string;
  /**
   * HMAC of the consumer and the route's business key (e.g. `MaHoSo`), or null when the route names none. Deliveries of one
   * (routeGroup, orderKey) are delivered in the order they were enqueued; it is also the ledger's look-up key.
   */
  readonly orderKey: string | null;
  /**
   * The ordering and idempotency scope of `orderKey`: routes that push the same business object share one
   * group (a dossier's `XuLyHoSo` waits for its `DongBoDVC`). Defaults to the upstream's id.
   */
  readonly routeGroup: string;
  /** SHA-256 (base64url) of what is delivered (method, path, body): the idempotency fingerprint. */
  readonly payloadHash: string;
  /** The call within the group (MOLISA's operation, the civil-status module), for the ledger and reports. */
  readonly operation: string | null;
  /** The request as the engine sealed it; erased (null) once delivered and past retention, or dropped. */
  readonly sealed: Buffer;
  readonly createdAt: number;
  /** After this the delivery is dead, whatever its attempts. */
  readonly expiresAt: number;
}

export interface Delivery extends Omit<NewDelivery, 'sealed'> {
  readonly state: DeliveryState;
  /** Attempts started (a claim counts one). */
  readonly attempts: number;
  /** When a queued delivery is next due. */
  readonly nextAttemptAt: number;
  /** While `in_flight`: the claim holds until then; an expired claim (a crashed worker) is claimable again. */
  readonly leaseUntil: number | null;
  readonly leaseOwner: string | null;
  readonly updatedAt: number;
  /** The last answer's HTTP status (null: no answer, e.g. a refused connection). */
  readonly lastStatus: number | null;
  /** The last failure as a coded, citizen-data-free line (`GW_UPSTREAM_TIMEOUT`, `HTTP 503`, `error_code 5`). */
  readonly lastError: string | null;
  readonly deliveredAt: number | null;
  /** Null once erased. */
  readonly sealed: Buffer | null;
}

/** The first attempt made at once by the process that enqueued (the caller waits for its answer). */
export interface ClaimNow {
  readonly owner: string;
  readonly leaseMs: number;
}

export type EnqueueResult =
  /** Stored and claimed by `claim.owner` (state in_flight, attempts 1): send it now. */
  | { readonly kind: 'claimed'; readonly delivery: Delivery }
  /** Stored as queued: an earlier delivery of its (routeGroup, orderKey) is not delivered yet, or no claim was asked. */
  | { readonly kind: 'queued'; readonly delivery: Delivery }
  /**
   * The same (routeGroup, orderKey, payloadHash) is already queued, in flight or delivered: nothing stored;
   * `delivery` is the existing one. (A changed payload for the same key is a new delivery, ordered after.)
   * Rows with no orderKey are never duplicates.
   */
  | { readonly kind: 'duplicate'; readonly delivery: Delivery };

/**
 * The end of one attempt, reported by the lease owner. Every call returns false if the lease was lost: the
 * delivery is no longer in flight, or another owner claimed it since. (A lease that ran out but that no one
 * took over is still the owner's: refusing its report would only send an accepted push again.)
 */
export interface AttemptOutcome {
  readonly at: number;
  readonly status: number | null;
  readonly error: string | null;
}

export interface DeliveryFilter {
  readonly state?: DeliveryState;
  readonly routeId?: string;
  readonly upstreamId?: string;
  /** Newest first; rows created before this id's row (paging). */
  readonly before?: string;
  readonly limit: number;
}

export interface DeliveryCounts {
  readonly queued: number;
  readonly inFlight: number;
  readonly delivered: number;
  readonly dead: number;
  readonly dropped: number;
  readonly failed: number;
  /** createdAt of the oldest queued or in-flight delivery, or null. */
  readonly oldestPendingAt: number | null;
}

/** One row of the reconciliation view: pushes the national side never accepted, per upstream and month. */
export interface ReconciliationRow {
  readonly upstreamId: string;
  /** `YYYY-MM` (UTC) of createdAt. */
  readonly month: string;
  readonly state: DeliveryState;
  readonly count: number;
}

export interface DeliveryStore {
  readonly kind: 'sqlite' | 'postgres';
  /** Stores a new delivery durably (committed; SQLite synchronous=FULL) before resolving. */
  enqueue(delivery: NewDelivery, claim?: ClaimNow & { readonly now: number }): Promise<EnqueueResult>;
  /** Records a direct-mode push in the ledger (state `delivered` or `failed`; no payload kept: `sealed` null). */
  record(delivery: NewDelivery, outcome: AttemptOutcome & { readonly state: 'delivered' | 'failed' }): Promise<void>;
  /**
   * Claims up to `limit` due deliveries for `owner`: queued with nextAttemptAt <= now, or in_flight whose
   * lease expired — and none with a queued or in-flight delivery of the same (routeGroup, orderKey) enqueued
   * earlier. "Earlier" is the store's own enqueue order (an insertion sequence), not (createdAt, id): two
   * replicas' clocks may disagree by milliseconds, and a random id breaks no tie in the caller's order.
   * Returned oldest first. Each becomes in_flight, attempts + 1, leaseUntil = now + leaseMs. Atomic
   * across processes sharing the store: one delivery is never claimed twice while its lease holds.
   * `upstreamIds` limits the claim (a worker skips upstreams whose circuit is open).
   */
  claimDue(
    now: number,
    options: {
      readonly owner: string;
      readonly leaseMs: number;
      readonly limit: number;
      readonly upstreamIds?: readonly string[];
    },
  ): Promise<Delivery[]>;
  /** The upstream accepted: delivered. */
  complete(id: string, owner: string, outcome: AttemptOutcome): Promise<boolean>;
  /** Not accepted, will retry: back to queued, due at `nextAttemptAt`. */
  reschedule(id: string, owner: string, outcome: AttemptOutcome & { readonly nextAttemptAt: number }): Promise<boolean>;
  /** Not accepted and out of attempts or age (or refused for good, e.g. a 4xx): dead letter. */
  bury(id: string, owner: string, outcome: AttemptOutcome): Promise<boolean>;

  get(id: string): Promise<Delivery | undefined>;
  list(filter: DeliveryFilter): Promise<Delivery[]>;
  /**
   * Operator: a dead (or queued) delivery due again now. False if it is in another state, unknown, or its
   * payload was erased (nothing left to send). A dead one gets a fresh lifetime as long as its first
   * (expiresAt = now + (expiresAt - createdAt)): one that died of age would otherwise die again unsent.
   * `attempts` is history and is kept: the engine compares it with its maximum after a failed attempt.
   */
  retry(id: string, now: number): Promise<boolean>;
  /** Operator: a queued or dead delivery given up: dropped, payload erased. */
  drop(id: string, now: number): Promise<boolean>;
  counts(): Promise<DeliveryCounts>;
  /**
   * Queued and in-flight deliveries of one consumer (`delivery.maxPendingPerConsumer`): read from the
   * pending rows only, never the whole ledger.
   */
  pendingOf(consumerId: string): Promise<number>;
  /** The newest ledger row of (routeGroup, orderKey), any state: the civil-status module guard reads it. */
  latest(routeGroup: string, orderKey: string): Promise<Delivery | undefined>;
  /** Pushes not accepted (queued, in_flight, dead, dropped, failed), counted per upstream, month and state. */
  reconciliation(options?: { readonly since?: number }): Promise<ReconciliationRow[]>;
  /** Erases payloads of delivered, dead, dropped rows last updated before `before`; rows stay as ledger. */
  erasePayloads(before: number): Promise<number>;
  close(): Promise<void>;
}

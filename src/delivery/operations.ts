import type { Delivery, DeliveryFilter, DeliveryState } from './store.ts';

/**
 * What the operator sees of the delivery store, one shape for `lgsp-gateway deliveries` and
 * `/admin/deliveries`: every field of a row but the sealed payload (only whether it is still held), the
 * business key only as the HMAC the store holds, times as ISO-8601 UTC.
 */

export const DELIVERY_STATES: readonly DeliveryState[] = [
  'queued',
  'in_flight',
  'delivered',
  'dead',
  'dropped',
  'failed',
];

/** Rows per page when none is asked, and the most one page may hold (a listing never reads the whole ledger). */
export const DEFAULT_LIST_LIMIT = 50;
export const MAX_LIST_LIMIT = 500;

/** Tracking ids are the engine's (URL-safe random); anything else is refused before the store is asked. */
const DELIVERY_ID = /^[A-Za-z0-9_-]{1,64}$/;
/** Route and upstream ids as the config allows them (and nothing that could be a citizen ID in a log). */
const CONFIG_ID = /^[A-Za-z0-9_.:-]{1,100}$/;

export function isDeliveryId(id: string): boolean {
  return DELIVERY_ID.test(id);
}

export interface DeliveryView {
  readonly id: string;
  readonly state: DeliveryState;
  readonly mode: Delivery['mode'];
  readonly route: string;
  readonly upstream: string;
  readonly consumer: string;
  readonly group: string;
  readonly operation: string | null;
  /** The HMAC of the business key (e.g. `maHoSoMCDT`): compare with the audit trail's, never the clear value. */
  readonly businessKeyHmac: string | null;
  readonly payloadHash: string;
  /** `held` while the sealed request is kept, `erased` once delivered + retention, or dropped. */
  readonly payload: 'held' | 'erased';
  readonly attempts: number;
  readonly lastStatus: number | null;
  readonly lastError: string | null;
  readonly createdAt: string;
  readonly updatedAt: string;
  readonly nextAttemptAt: string | null;
  readonly expiresAt: string;
  readonly deliveredAt: string | null;
  readonly leaseOwner: string | null;
  readonly leaseUntil: string | null;
}

const iso = (ms: number) => new Date(ms).toISOString();
const isoOrNull = (ms: number | null) => (ms === null ? null : iso(ms));

/** A row as the operator sees it. */
export function describeDelivery(d: Delivery): DeliveryView {
  return {
    id: d.id,
    state: d.state,
    mode: d.mode,
    route: d.routeId,
    upstream: d.upstreamId,
    consumer: d.consumerId,
    group: d.routeGroup,
    operation: d.operation,
    businessKeyHmac: d.orderKey,
    payloadHash: d.payloadHash,
    payload: holdsPayload(d) ? 'held' : 'erased',
    attempts: d.attempts,
    lastStatus: d.lastStatus,
    lastError: d.lastError,
    createdAt: iso(d.createdAt),
    updatedAt: iso(d.updatedAt),
    nextAttemptAt: d.state === 'queued' ? iso(d.nextAttemptAt) : null,
    expiresAt: iso(d.expiresAt),
    deliveredAt: isoOrNull(d.deliveredAt),
    leaseOwner: d.leaseOwner,
    leaseUntil: isoOrNull(d.leaseUntil),
  };
}

/** The filters of a listing as text (query string, command-line options); absent ones are undefined. */
export interface ListQuery {
  readonly state?: string;
  readonly route?: string;
  readonly upstream?: string;
  readonly limit?: string;
  readonly before?: string;
}

/** Checks a listing's filters: a store filter, or the one-line reason it is refused (names the option). */
export function parseListQuery(query: ListQuery): { filter: DeliveryFilter } | { error: string } {
  const { state, route, upstream, limit, before } = query;
  if (state !== undefined && !DELIVERY_STATES.includes(state as DeliveryState))
    return { error: `state must be one of ${DELIVERY_STATES.join(', ')}` };
  if (route !== undefined && !CONFIG_ID.test(route)) return { error: 'route is not a route id' };
  if (upstream !== undefined && !CONFIG_ID.test(upstream)) return { error: 'upstream is not an upstream id' };
  if (before !== undefined && !isDeliveryId(before)) return { error: 'before is not a delivery id' };
  let rows = DEFAULT_LIST_LIMIT;
  if (limit !== undefined) {
    if (!/^[0-9]{1,6}$/.test(limit) || Number(limit) < 1 || Number(limit) > MAX_LIST_LIMIT)
      return { error: `limit must be 1..${MAX_LIST_LIMIT}` };
    rows = Number(limit);
  }
  return {
    filter: {
      ...(state !== undefined ? { state: state as DeliveryState } : {}),
      ...(route !== undefined ? { routeId: route } : {}),
      ...(upstream !== undefined ? { upstreamId: upstream } : {}),
      ...(before !== undefined ? { before } : {}),
      limit: rows,
    },
  };
}

/** The id to pass as `before` for the next page, or null when this page was the last. */
export function nextPage(rows: readonly Delivery[], limit: number): string | null {
  return rows.length === limit && rows.length > 0 ? rows[rows.length - 1].id : null;
}

/** Whether the row still holds its sealed request (a direct-mode ledger row holds an empty one). */
export function holdsPayload(d: Delivery): boolean {
  return d.sealed !== null && d.sealed.length > 0;
}

/**
 * Why an operator action cannot be done on an existing row, or undefined when it can: retry and drop take
 * queued or dead deliveries, and a retry needs the payload (not yet erased).
 */
export function refusedAction(action: 'retry' | 'drop', d: Delivery): string | undefined {
  if (d.state !== 'queued' && d.state !== 'dead')
    return `delivery ${d.id} is ${d.state}: ${action} takes only queued or dead deliveries`;
  if (action === 'retry' && !holdsPayload(d)) return `delivery ${d.id} has no payload left (erased): cannot retry`;
  return undefined;
}

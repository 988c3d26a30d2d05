import type { Delivery, DeliveryStore } from '../../src/delivery/store.ts';
import { MemoryDeliveryStore } from './memory-delivery-store.ts';

const METHODS = [
  'enqueue',
  'record',
  'claimDue',
  'complete',
  'reschedule',
  'bury',
  'get',
  'list',
  'retry',
  'drop',
  'counts',
  'pendingOf',
  'latest',
  'reconciliation',
  'erasePayloads',
  'close',
] as const;
// Every method of the contract is listed (a new one added to store.ts and not here fails to compile).
const everyMethod: [Exclude<keyof DeliveryStore, 'kind' | (typeof METHODS)[number]>] extends [never] ? true : never =
  true;
void everyMethod;

/**
 * The in-memory store (memory-delivery-store.ts) as the operations' tests use it: `put` writes a row as it
 * stands after some history, and `calls` counts each method called (a scrape must not query twice).
 */
export class OpsMemoryStore extends MemoryDeliveryStore {
  readonly calls: Record<string, number> = {};

  /** Test set-up: a row written directly (fields not given: a fresh queued row of route/upstream "molisa"). */
  put(row: Partial<Delivery> & Pick<Delivery, 'id'>): Delivery {
    const createdAt = row.createdAt ?? 0;
    const full: Delivery = {
      mode: 'queued',
      routeId: 'route',
      upstreamId: 'upstream',
      consumerId: 'consumer',
      orderKey: null,
      routeGroup: row.upstreamId ?? 'upstream',
      payloadHash: 'hash',
      operation: null,
      sealed: Buffer.from('sealed'),
      createdAt,
      expiresAt: createdAt + 7 * 86_400_000,
      state: 'queued',
      attempts: 0,
      nextAttemptAt: createdAt,
      leaseUntil: null,
      leaseOwner: null,
      updatedAt: createdAt,
      lastStatus: null,
      lastError: null,
      deliveredAt: null,
      ...row,
    };
    this.rows.set(full.id, full);
    return full;
  }

  static {
    for (const name of METHODS) {
      const inherited = MemoryDeliveryStore.prototype[name] as (...args: unknown[]) => unknown;
      Object.defineProperty(OpsMemoryStore.prototype, name, {
        value: function (this: OpsMemoryStore, ...args: unknown[]) {
          this.calls[name] = (this.calls[name] ?? 0) + 1;
          return inherited.apply(this, args);
        },
        writable: true,
        configurable: true,
      });
    }
  }
}

export function createMemoryDeliveryStore(): OpsMemoryStore {
  return new OpsMemoryStore();
}

/** A plain store delegating to `store`, with some methods replaced (a failing count, a ledger that is down). */
export function withOverrides(store: DeliveryStore, overrides: Partial<DeliveryStore>): DeliveryStore {
  const out: Record<string, unknown> = { kind: store.kind };
  for (const name of METHODS) out[name] = overrides[name] ?? (store[name] as (...a: unknown[]) => unknown).bind(store);
  return out as unknown as DeliveryStore;
}

import type { DeliveryStore } from '../delivery/store.ts';

/**
 * Opens the delivery store the gateway of `configDir` uses (its `delivery.store` settings), for the
 * offline commands (`deliveries`, `report reconciliation`).
 */
export async function openConfiguredStore(configDir: string): Promise<DeliveryStore> {
  throw new Error(`${configDir}: this build has no delivery store to open (delivery.store)`);
}

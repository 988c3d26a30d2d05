import path from 'node:path';
import { loadConfig } from '../config/load-config.ts';
import { openDeliveryStore } from '../delivery/open-store.ts';
import type { DeliveryStore } from '../delivery/store.ts';
import { gatewayLoadOptions } from '../app/default-factories.ts';

/**
 * Opens the delivery store the gateway of `configDir` uses (its `delivery.store`: the same file, or the
 * same PostgreSQL schema), for the offline commands (`deliveries`, `report reconciliation`). The config is
 * loaded and checked as the gateway loads it; an invalid one is refused with its first fault.
 */
export async function openConfiguredStore(
  configDir: string,
  env: Readonly<Record<string, string | undefined>> = process.env,
): Promise<DeliveryStore> {
  const dir = path.resolve(configDir);
  const { config } = loadConfig(dir, gatewayLoadOptions(env));
  return openDeliveryStore(config.delivery.store, { configDir: dir, env });
}

import path from 'node:path';
import type { DeliveryStoreConfig } from '../config/delivery-store-schema.ts';
import type { Env } from '../config/interpolate.ts';
import { resolveSecret } from '../config/secrets.ts';
import { describePostgresUrl } from './postgres-url.ts';
import { openSqliteDeliveryStore } from './sqlite-store.ts';
import type { DeliveryStore } from './store.ts';

export interface OpenDeliveryStoreDeps {
  /** The config directory: a relative SQLite `path` is resolved from it (as `audit.dir` is). */
  readonly configDir: string;
  /** Where `{ env }` secrets (the PostgreSQL URL) are read; default process.env. */
  readonly env?: Env;
}

/**
 * Opens the delivery store `delivery.store` names (the gateway at start; the `deliveries` CLI for one
 * command): SQLite by default, PostgreSQL when several replicas share the queue. Creates or migrates the
 * schema. A missing URL secret is a ConfigPathError at `delivery.store.url`; a store that cannot be opened
 * rejects with a message naming it as `describeDeliveryStore` does (never the URL's credentials).
 */
export async function openDeliveryStore(
  store: DeliveryStoreConfig,
  deps: OpenDeliveryStoreDeps,
): Promise<DeliveryStore> {
  if (store.kind === 'sqlite')
    return openSqliteDeliveryStore({ path: sqlitePath(store, deps.configDir), busyTimeoutMs: store.busyTimeoutMs });
  // The schema makes `url` required for postgres; the guard keeps the type checker and a hand-made config honest.
  if (store.url === undefined) throw new Error('delivery.store.url is required when delivery.store.kind is postgres');
  const url = resolveUrl(store.url, deps);
  // Loaded only for a PostgreSQL store: the client package is ~11 MB resident (issue 19, RSS at rest).
  const { openPostgresDeliveryStore } = await import('./postgres-store.ts');
  return openPostgresDeliveryStore({
    url,
    schema: store.schema,
    poolMax: store.pool.max,
    connectTimeoutSeconds: Math.ceil(store.pool.connectTimeoutMs / 1000),
    // The database may come up after the gateway (compose, Kubernetes): wait for it as long as for a connection.
    startupWaitMs: store.pool.connectTimeoutMs,
  });
}

/**
 * The store in words, for logs, `/admin/status` and the CLI: `sqlite /var/lib/…/deliveries.db` or
 * `postgres db.example:5432/lgsp (schema lgsp_delivery)`. Never the URL's user or password.
 */
export function describeDeliveryStore(store: DeliveryStoreConfig, deps: OpenDeliveryStoreDeps): string {
  if (store.kind === 'sqlite') return `sqlite ${sqlitePath(store, deps.configDir)}`;
  let where = '(no URL)';
  try {
    if (store.url !== undefined) where = describePostgresUrl(resolveUrl(store.url, deps));
  } catch {
    where = '(URL not set)';
  }
  return `postgres ${where} (schema ${store.schema})`;
}

/** The URL secret: `{ env: X }` (or X_FILE), `{ file }` relative to the config directory, or a string. */
const resolveUrl = (ref: NonNullable<DeliveryStoreConfig['url']>, deps: OpenDeliveryStoreDeps) => {
  const at =
    typeof ref === 'object'
      ? ['delivery', 'store', 'url', 'env' in ref ? 'env' : 'file']
      : ['delivery', 'store', 'url'];
  const name = typeof ref === 'object' && 'env' in ref ? ref.env : 'delivery.store.url';
  return resolveSecret(ref, name, at, { env: deps.env ?? process.env, configDir: deps.configDir });
};

const sqlitePath = (store: DeliveryStoreConfig, configDir: string) => path.resolve(configDir, store.path);

import type { Static } from 'typebox';
import { Type } from '../plugin/schema-type.ts';
import { SecretRefSchema } from './consumers-schema.ts';

/**
 * `delivery.store`: where the durable delivery queue and the exchange ledger live (issue 17). One flat
 * shape for both engines, as `rateLimits.store` is (ajv fills no defaults inside a oneOf):
 *
 *   store: { kind: sqlite, path: ../data/deliveries.db }                    # the default: embedded, one file
 *   store: { kind: postgres, url: { env: LGSP_DELIVERY_DATABASE_URL } }     # several replicas share one queue
 *
 * Start-only (src/config/start-only.ts): the store is opened at start, and moving the queue under
 * deliveries in flight would strand them.
 */
export const DeliveryStoreSchema = Type.Object(
  {
    kind: Type.Enum(['sqlite', 'postgres'], { default: 'sqlite' }),
    /** sqlite: the database file, relative to the config directory; created with its directory (0600). */
    path: Type.String({ minLength: 1, default: 'data/deliveries.db' }),
    /** sqlite: how long a write waits while another process (the CLI, a second gateway) holds the lock. */
    busyTimeoutMs: Type.Integer({ minimum: 0, maximum: 600_000, default: 5000 }),
    /** postgres: `postgres://user:password@host:5432/db?sslmode=verify-full` — a secret (`{ env }`, `{ file }`). */
    url: Type.Optional(SecretRefSchema),
    /** postgres: the schema holding the tables, created at open when missing. */
    schema: Type.String({ pattern: '^[a-z_][a-z0-9_]{0,62}$', default: 'lgsp_delivery' }),
    /**
     * postgres: this process's connection pool; `connectTimeoutMs` is also how long the gateway waits at
     * start for a database that refuses connections or is starting up.
     */
    pool: Type.Object(
      {
        max: Type.Integer({ minimum: 1, maximum: 200, default: 10 }),
        connectTimeoutMs: Type.Integer({ minimum: 100, maximum: 600_000, default: 10_000 }),
      },
      { additionalProperties: false, default: {} },
    ),
  },
  {
    additionalProperties: false,
    default: {},
    if: { properties: { kind: { const: 'postgres' } }, required: ['kind'] },
    then: { required: ['url'] },
  },
);
export type DeliveryStoreConfig = Static<typeof DeliveryStoreSchema>;

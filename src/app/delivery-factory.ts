import type { Env } from '../config/interpolate.ts';
import { ConfigError, ConfigPathError, formatPath } from '../config/config-error.ts';
import { resolveSecretRef } from '../config/secrets.ts';
import type { Clock, GatewayConfig } from '../config/types.ts';
import { DeliveryEngine } from '../delivery/engine.ts';
import { openDeliveryStore } from '../delivery/open-store.ts';
import { createSealer, parseKey } from '../delivery/seal.ts';
import type { DeliveryStore } from '../delivery/store.ts';
import type { Logger } from '../logging/logger.ts';
import type { AuditTrail } from '../observability/audit.ts';
import type { DeliveryMetricsHooks } from '../observability/metrics.ts';
import type { Runtime } from '../runtime/runtime.ts';

/** Opens the configured delivery store (`delivery.store`; SQLite by default). */
export type DeliveryStoreOpener = (config: GatewayConfig, configDir: string) => Promise<DeliveryStore>;

export interface DeliveryEngineDeps {
  readonly config: GatewayConfig;
  readonly configDir: string;
  readonly env: Env;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly audit: AuditTrail;
  readonly current: () => Runtime;
  readonly openStore?: DeliveryStoreOpener;
  /** The delivery counters each attempt bumps (observability/metrics.ts deliveryHooks). */
  readonly metrics?: DeliveryMetricsHooks;
}

/**
 * The delivery engine of a gateway whose config has `delivery.encryptionKey` (every route with `delivery:`
 * needs it; the runtime build refuses one without), with its store opened. Undefined when there is none.
 * `delivery` is start-only: the key and the store are the process's.
 */
export async function createDeliveryEngine(deps: DeliveryEngineDeps): Promise<DeliveryEngine | undefined> {
  try {
    return await buildEngine(deps);
  } catch (err) {
    if (!(err instanceof ConfigPathError)) throw err;
    throw new ConfigError([{ path: formatPath(err.path), rule: err.rule, message: err.message }]);
  }
}

async function buildEngine(deps: DeliveryEngineDeps): Promise<DeliveryEngine | undefined> {
  const { config } = deps;
  const settings = config.delivery;
  if (settings.encryptionKey === undefined) return undefined;
  const key = (ref: Parameters<typeof resolveSecretRef>[0], path: (string | number)[]) => {
    const parsed = parseKey(resolveSecretRef(ref, path, deps.env));
    if (!parsed)
      throw new ConfigPathError(
        path,
        'key-strength',
        'a delivery key is 32 bytes: 64 hex digits or base64 (openssl rand -hex 32)',
      );
    return parsed;
  };
  const sealer = createSealer(
    key(settings.encryptionKey, ['delivery', 'encryptionKey']),
    settings.previousKeys.map((ref, i) => key(ref, ['delivery', 'previousKeys', i])),
  );
  const store = deps.openStore
    ? await deps.openStore(config, deps.configDir)
    : await openDeliveryStore(settings.store, { configDir: deps.configDir, env: deps.env });
  const { clock, audit } = deps;
  return new DeliveryEngine({
    store,
    sealer,
    clock,
    logger: deps.logger,
    resolveRoute: (id) => deps.current().routeList.find((route) => route.id === id),
    deliveryRoutes: () => deps.current().routeList.filter((route) => route.delivery !== undefined),
    worker: settings.worker,
    circuit: settings.circuit,
    maxPendingPerConsumer: settings.maxPendingPerConsumer,
    audit: (line) => {
      audit.record({
        time: new Date(clock.now()).toISOString(),
        requestId: line.deliveryId,
        consumer: line.consumer,
        route: line.route,
        upstream: line.upstream,
        method: line.method,
        status: line.status,
        durationMs: line.durationMs,
        delivery: { attempt: line.attempt, outcome: line.outcome },
      });
      deps.metrics?.attempt(line.upstream, line.outcome);
    },
  });
}

import type { Env } from '../config/interpolate.ts';
import type { LoadOptions } from '../config/load-config.ts';
import type { Clock } from '../config/types.ts';
import { consumerConfigSchema, type GatewayMetrics } from '../consumers/index.ts';
import { createCredentialChain, createTokenCache, type TokenCache } from '../credentials/index.ts';
import { errorDialects } from '../errors/dialects/index.ts';
import type { Logger } from '../logging/logger.ts';
import { buildTlsOptions } from '../upstream/tls.ts';
import { createRuntimeConsumers } from './consumers-factory.ts';
import type { RuntimeFactories } from './runtime.ts';

export interface FactoryDeps {
  readonly configDir: string;
  readonly env: Env;
  readonly logger: Logger;
  readonly clock: Clock;
  readonly metrics?: GatewayMetrics;
  /** Shared across reloads so an unchanged credential set keeps its token. */
  readonly tokenCache?: TokenCache;
}

/** How the gateway loads its config: the env, the dialect names, the consumer schema extensions. */
export function gatewayLoadOptions(env: Env): LoadOptions {
  return { env, dialects: Object.keys(errorDialects), schemaExtensions: consumerConfigSchema };
}

/** The factories the gateway is built with: the one place that wires the pluggable modules together. */
export function defaultFactories(deps: FactoryDeps): RuntimeFactories & { tokenCache: TokenCache } {
  const tokenCache = deps.tokenCache ?? createTokenCache();
  return {
    tokenCache,
    createCredentials: (refs, strategyDeps, path) =>
      createCredentialChain(refs, { ...strategyDeps, tokenCache, env: deps.env, configDir: deps.configDir }, path),
    createConsumers: (config, previous) =>
      createRuntimeConsumers(
        config,
        { clock: deps.clock, logger: deps.logger, env: deps.env, metrics: deps.metrics },
        previous as never,
      ),
    tlsOptions: (upstream, path) => buildTlsOptions(upstream.tls, path, deps.logger),
  };
}

import { createApiKeyAuthenticator } from '../consumers-builtin.ts';
import type { Env } from '../config/interpolate.ts';
import { createCredentialChain, createTokenCache, type TokenCache } from '../credentials/index.ts';
import type { Logger } from '../logging/logger.ts';
import { buildTlsOptions } from '../upstream/tls.ts';
import type { RuntimeFactories } from './runtime.ts';

export interface FactoryDeps {
  readonly configDir: string;
  readonly env: Env;
  readonly logger: Logger;
  /** Shared across reloads so an unchanged credential set keeps its token. */
  readonly tokenCache?: TokenCache;
}

/** The factories the gateway is built with: the one place that wires the pluggable modules together. */
export function defaultFactories(deps: FactoryDeps): RuntimeFactories & { tokenCache: TokenCache } {
  const tokenCache = deps.tokenCache ?? createTokenCache();
  return {
    tokenCache,
    createCredentials: (refs, strategyDeps, path) =>
      createCredentialChain(refs, { ...strategyDeps, tokenCache, env: deps.env, configDir: deps.configDir }, path),
    createAuthenticator: (config) => createApiKeyAuthenticator(config),
    tlsOptions: (upstream, path) => buildTlsOptions(upstream.tls, path, deps.logger),
  };
}

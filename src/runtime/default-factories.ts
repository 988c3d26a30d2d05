import { createApiKeyAuthenticator } from '../consumers-builtin.ts';
import { ConfigPathError } from '../config/config-error.ts';
import type { PluginRef } from '../config/types.ts';
import type { CredentialChainLike } from '../pipeline/contracts.ts';
import type { RuntimeFactories } from './runtime.ts';

const noCredentials: CredentialChainLike = {
  apply: async () => undefined,
  isTokenRejected: () => false,
  invalidate: () => undefined,
  describe: () => ({ strategies: [] }),
};

/** The factories the gateway is built with: one place that wires the pluggable modules together. */
export function defaultFactories(): RuntimeFactories {
  return {
    createCredentials(refs: readonly PluginRef[], _deps, path) {
      if (refs.length > 0)
        throw new ConfigPathError(path, 'unsupported', 'credential strategies are not available in this build');
      return noCredentials;
    },
    createAuthenticator: (config) => createApiKeyAuthenticator(config),
  };
}

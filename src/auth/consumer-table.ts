import type { BlockList } from 'node:net';
import type { GatewayConfig } from '../config/types.ts';
import { ConfigPathError } from '../config/config-error.ts';
import { buildAddressList } from './addresses.ts';
import type { Env } from '../config/interpolate.ts';
import { resolveKeyDigests } from './api-keys.ts';

/** What the gateway precomputes about one consumer when a config loads (no clear-text secret in it). */
export interface ConsumerEntry {
  readonly id: string;
  readonly name?: string;
  readonly apiKeyDigests: readonly Buffer[];
  readonly secretDigests: readonly Buffer[];
  readonly ipAllow?: BlockList;
  readonly mtlsSubject?: string;
}

/** Precomputed consumer lookups of one config. */
export interface ConsumerTable {
  readonly byId: ReadonlyMap<string, ConsumerEntry>;
  /** Every API key digest with its owner, flat, for one full constant-time pass per request. */
  readonly apiKeyDigests: readonly Buffer[];
  readonly apiKeyOwners: readonly string[];
  readonly trustedProxies?: BlockList;
}

/** Builds the consumer table; throws ConfigPathError for a bad key, CIDR or duplicate key. */
export function buildConsumerTable(config: GatewayConfig, env: Env): ConsumerTable {
  const byId = new Map<string, ConsumerEntry>();
  const apiKeyDigests: Buffer[] = [];
  const apiKeyOwners: string[] = [];
  const seen = new Map<string, string>();
  for (const [id, consumer] of Object.entries(config.consumers ?? {})) {
    const path = ['consumers', id];
    const keys = resolveKeyDigests(consumer.apiKeys, [...path, 'apiKeys'], env, config.environment !== 'production');
    keys.forEach((digest, i) => {
      const hex = digest.toString('hex');
      const owner = seen.get(hex);
      // One key, two owners: a call would be attributed to whichever came first. Refuse instead.
      if (owner !== undefined) {
        throw new ConfigPathError([...path, 'apiKeys', i], 'unique', `the same key is already given to ${owner}`);
      }
      seen.set(hex, id);
      apiKeyDigests.push(digest);
      apiKeyOwners.push(id);
    });
    byId.set(id, {
      id,
      name: consumer.name,
      apiKeyDigests: keys,
      secretDigests: resolveKeyDigests(
        consumer.clientSecrets,
        [...path, 'clientSecrets'],
        env,
        config.environment !== 'production',
      ),
      ipAllow: consumer.ipAllow ? buildAddressList(consumer.ipAllow, [...path, 'ipAllow']) : undefined,
      mtlsSubject: consumer.mtlsSubject,
    });
  }
  const proxies = config.auth.trustedProxies;
  return {
    byId,
    apiKeyDigests,
    apiKeyOwners,
    trustedProxies: proxies && proxies.length > 0 ? buildAddressList(proxies, ['auth', 'trustedProxies']) : undefined,
  };
}

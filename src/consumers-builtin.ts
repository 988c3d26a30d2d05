import { createHash, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import { ConfigPathError } from './config/config-error.ts';
import type { ApiKeyRef, GatewayConfig } from './config/types.ts';
import { GatewayError } from './errors/gateway-error.ts';
import type { AuthenticatorLike, ConsumerIdentity } from './pipeline/contracts.ts';

/** SHA-256 digest of a key: what the config stores, so the key itself is never kept in clear. */
export function keyDigest(key: string): Buffer {
  return createHash('sha256').update(key, 'utf8').digest();
}

/** Resolves an ApiKeyRef to its digest (from the hash, or by hashing the env var / file content). */
export function resolveKeyDigest(ref: ApiKeyRef, path: (string | number)[], env = process.env): Buffer {
  if (ref.sha256) return Buffer.from(ref.sha256, 'hex');
  if (ref.env) {
    const value = env[ref.env];
    if (!value) throw new ConfigPathError(path, 'secret', `API key variable ${ref.env} is not set`);
    return keyDigest(value);
  }
  try {
    return keyDigest(readFileSync(ref.file as string, 'utf8').trim());
  } catch {
    throw new ConfigPathError(path, 'secret', `API key file ${ref.file} cannot be read`);
  }
}

/**
 * X-API-Key authentication against SHA-256 digests. The presented key is hashed once, then compared
 * with every configured digest by timingSafeEqual (no early exit), so timing reveals nothing about
 * which bytes matched.
 */
export function createApiKeyAuthenticator(config: GatewayConfig): AuthenticatorLike {
  const entries: { digest: Buffer; consumer: ConsumerIdentity }[] = [];
  for (const [id, consumer] of Object.entries(config.consumers)) {
    consumer.apiKeys.forEach((ref, i) => {
      entries.push({
        digest: resolveKeyDigest(ref, ['consumers', id, 'apiKeys', i]),
        consumer: { id, name: consumer.name, via: 'api-key' },
      });
    });
  }
  return {
    async authenticate(req: IncomingMessage): Promise<ConsumerIdentity> {
      const key = req.headers['x-api-key'];
      if (typeof key !== 'string' || key.length === 0) {
        throw new GatewayError(
          'GW_UNAUTHENTICATED',
          { reason: 'thiếu khóa X-API-Key' },
          { headers: { 'www-authenticate': 'ApiKey header="X-API-Key"' } },
        );
      }
      const digest = keyDigest(key);
      let found: ConsumerIdentity | undefined;
      for (const entry of entries) if (timingSafeEqual(entry.digest, digest) && !found) found = entry.consumer;
      if (!found) {
        throw new GatewayError(
          'GW_UNAUTHENTICATED',
          { reason: 'khóa X-API-Key không hợp lệ' },
          { headers: { 'www-authenticate': 'ApiKey header="X-API-Key"' } },
        );
      }
      return found;
    },
  };
}

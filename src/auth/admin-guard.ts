import type { IncomingMessage } from 'node:http';
import type { GatewayConfig } from '../config/types.ts';
import { GatewayError } from '../errors/gateway-error.ts';
import type { Env } from '../config/interpolate.ts';
import { matchDigest, resolveKeyDigests } from './api-keys.ts';

const LOOPBACK = new Set(['127.0.0.1', '::1', 'localhost']);

/** Where the guarded admin routes are mounted: the public listener, or the separate `admin.listen` one. */
export type AdminListener = 'main' | 'admin';

/**
 * Builds the guard of `/admin/*` (and `/metrics` unless public). On the main listener an admin key in
 * `X-Admin-Key` is always required (consumer keys never open admin routes). On the separate admin
 * listener the key is required unless it is bound to loopback and `admin.listen.requireKey` is not true:
 * reaching 127.0.0.1 already means being on the host. Returns who passed, for the audit line of an
 * operator action: the matched key's `label`, else `admin.apiKeys[i]`, or `loopback` when no key is asked.
 */
export function createAdminGuard(
  config: GatewayConfig,
  options: { listener?: AdminListener; env?: Env } = {},
): (req: IncomingMessage) => string {
  const digests = resolveKeyDigests(
    config.admin?.apiKeys,
    ['admin', 'apiKeys'],
    options.env ?? process.env,
    config.environment !== 'production',
  );
  const labels = (config.admin?.apiKeys ?? []).map((ref) => ref.label);
  const listen = config.admin?.listen;
  const onAdminListener = options.listener === 'admin';
  const keyRequired = !onAdminListener || listen?.requireKey === true || !LOOPBACK.has(listen?.host ?? '127.0.0.1');
  const challenge = { 'WWW-Authenticate': 'ApiKey header="X-Admin-Key"' };
  return (req) => {
    if (!keyRequired) return 'loopback';
    const key = req.headers['x-admin-key'];
    if (typeof key !== 'string' || key === '') {
      throw new GatewayError('GW_UNAUTHENTICATED', { reason: 'thiếu X-Admin-Key' }, { headers: challenge });
    }
    const index = digests.length === 0 ? -1 : matchDigest(key.trim(), digests);
    if (index === -1) {
      throw new GatewayError('GW_UNAUTHENTICATED', { reason: 'khóa quản trị không hợp lệ' }, { headers: challenge });
    }
    return labels[index] ?? `admin.apiKeys[${index}]`;
  };
}

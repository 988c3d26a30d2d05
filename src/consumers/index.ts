/**
 * Consumers of the gateway (issue 5): who may call, with which credential, how often, and the trail
 * of what they exchanged. Each concern lives in its own file; this one only re-exports.
 */
export type { ConsumerIdentity } from './identity.ts';
export { type Authenticator, createAuthenticator, peerCommonName } from './authenticator.ts';
export { authorize } from './authorize.ts';
export { createTokenIssuer, type IssuerKeyState, type TokenIssuer } from './token-issuer.ts';
export { createRateLimiter, type RateLimiter, type RateLimitStoreStatus, type RedisClient } from './rate-limiter.ts';
export {
  type AuditEntry,
  type AuditTrail,
  createAuditTrail,
  extractAuditKeys,
  type ExtractOptions,
  hashSubject,
} from './audit.ts';
export { addDefaultMetrics, createMetrics, type GatewayMetrics, statusClass } from './metrics.ts';
export { type AdminListener, createAdminGuard } from './admin-guard.ts';
export { genKey, matchDigest, resolveKeyDigests, sha256 } from './api-keys.ts';
export { runGenKey } from './gen-key.ts';
export { runReport } from './report.ts';
export { ALLOWED_ALGORITHMS } from '../config/consumers-schema.ts';

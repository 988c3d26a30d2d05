import type { IncomingMessage } from 'node:http';
import type { TLSSocket } from 'node:tls';
import { ConfigPathError } from '../config/config-error.ts';
import type { Clock, GatewayConfig } from '../config/types.ts';
import { GatewayError } from '../errors/gateway-error.ts';
import { clientAddress } from './addresses.ts';
import type { Env } from '../config/interpolate.ts';
import { matchDigest } from './api-keys.ts';
import { buildConsumerTable, type ConsumerEntry } from './consumer-table.ts';
import type { ConsumerIdentity } from './identity.ts';
import type { GatewayMetrics } from '../observability/metrics.ts';
import type { TokenIssuer } from './token-issuer.ts';

export interface Authenticator {
  /** Establishes who calls; throws GW_UNAUTHENTICATED (401, with WWW-Authenticate) when it cannot. */
  authenticate(req: IncomingMessage): Promise<ConsumerIdentity>;
  /**
   * The same check without a promise where none is needed: an API key or a client certificate is settled
   * at once (the consumer, or GW_UNAUTHENTICATED thrown); only a bearer token, verified asynchronously,
   * gives a promise. The pipeline's authenticate stage uses it when present.
   */
  identify?(req: IncomingMessage): ConsumerIdentity | Promise<ConsumerIdentity>;
}

/** Every challenge the gateway accepts, sent with each 401 (RFC 9110 §11.6.1 allows several). */
const CHALLENGE = 'ApiKey header="X-API-Key", Bearer realm="lgsp-gateway"';
const MAX_TOKEN_LENGTH = 8192;

/** The CN of a verified client certificate on the gateway's own TLS listener, else undefined. */
export function peerCommonName(req: IncomingMessage): string | undefined {
  const socket = req.socket as Partial<TLSSocket> | undefined;
  if (!socket || socket.authorized !== true || typeof socket.getPeerCertificate !== 'function') return undefined;
  const cn = socket.getPeerCertificate()?.subject?.CN;
  return typeof cn === 'string' && cn !== '' ? cn : undefined;
}

/**
 * Builds the authenticator of one config: key digests, address lists and certificate subjects are
 * computed here, once, so a request costs one SHA-256 and a constant-time pass over the digests.
 * Precedence: X-API-Key, then `Authorization: Bearer`, then a verified client certificate. A credential
 * that is present but wrong is a 401 even if another one would have worked: no silent fallback.
 */
export function createAuthenticator(
  config: GatewayConfig,
  deps: { clock: Clock; tokenIssuer?: TokenIssuer; env?: Env; metrics?: GatewayMetrics },
): Authenticator {
  const table = buildConsumerTable(config, deps.env ?? process.env);
  const byCertSubject = new Map<string, ConsumerEntry>();
  for (const entry of table.byId.values()) {
    if (entry.mtlsSubject === undefined) continue;
    const other = byCertSubject.get(entry.mtlsSubject);
    if (other) {
      throw new ConfigPathError(['consumers', entry.id, 'mtlsSubject'], 'unique', `also used by ${other.id}`);
    }
    byCertSubject.set(entry.mtlsSubject, entry);
  }

  const fail = (reason: string, metricReason: string, bearerError?: string): never => {
    deps.metrics?.authFailures.inc({ reason: metricReason });
    const headers = {
      'WWW-Authenticate': bearerError ? `${CHALLENGE}, error="${bearerError}"` : CHALLENGE,
    };
    throw new GatewayError('GW_UNAUTHENTICATED', { reason }, { headers });
  };

  const identityOf = (entry: ConsumerEntry, via: ConsumerIdentity['via'], req: IncomingMessage): ConsumerIdentity => ({
    id: entry.id,
    name: entry.name,
    via,
    clientIp: clientAddress(req, table.trustedProxies),
    ipAllow: entry.ipAllow,
    mtlsSubject: entry.mtlsSubject,
  });

  const verifyBearer = async (token: string, req: IncomingMessage): Promise<ConsumerIdentity> => {
    if (!deps.tokenIssuer) return fail('cổng không cấp token', 'invalid-token', 'invalid_token');
    let subject: string;
    try {
      subject = (await deps.tokenIssuer.verify(token)).id;
    } catch {
      return fail('token không hợp lệ hoặc đã hết hạn', 'invalid-token', 'invalid_token');
    }
    const entry = table.byId.get(subject);
    if (!entry) return fail('token không hợp lệ hoặc đã hết hạn', 'invalid-token', 'invalid_token');
    return identityOf(entry, 'jwt', req);
  };

  const identify = (req: IncomingMessage): ConsumerIdentity | Promise<ConsumerIdentity> => {
    const apiKey = req.headers['x-api-key'];
    if (apiKey !== undefined) {
      if (typeof apiKey !== 'string') return fail('X-API-Key gửi nhiều lần', 'malformed');
      const index = matchDigest(apiKey.trim(), table.apiKeyDigests);
      if (index === -1) return fail('khóa API không hợp lệ', 'invalid-api-key');
      return identityOf(table.byId.get(table.apiKeyOwners[index])!, 'api-key', req);
    }

    const authorization = req.headers.authorization;
    if (authorization !== undefined) {
      const match = /^Bearer[ ]+([A-Za-z0-9._~+/-]+=*)\s*$/i.exec(authorization);
      if (!match || match[1].length > MAX_TOKEN_LENGTH) {
        return fail('tiêu đề Authorization phải là Bearer <token>', 'malformed', 'invalid_request');
      }
      return verifyBearer(match[1], req);
    }

    const cn = peerCommonName(req);
    const byCert = cn === undefined ? undefined : byCertSubject.get(cn);
    if (byCert) return identityOf(byCert, 'mtls', req);
    return fail('thiếu X-API-Key hoặc Authorization: Bearer', 'missing');
  };

  return {
    // As a promise: a refusal rejects it, never throws.
    authenticate: async (req) => identify(req),
    identify,
  };
}

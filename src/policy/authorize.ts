import type { IncomingMessage } from 'node:http';
import { GatewayError } from '../errors/gateway-error.ts';
import { addressIn } from '../auth/addresses.ts';
import { peerCommonName } from '../auth/authenticator.ts';
import type { ConsumerIdentity } from '../auth/identity.ts';

/**
 * Decides whether an authenticated consumer may use a route; throws 403 when not. The per-consumer
 * checks (address allow-list, client certificate) travel on the identity, precomputed by the
 * authenticator, so this stays a pure function of (route, identity, socket).
 * A route without a consumer list is closed to everyone (fail closed, domain.md §3).
 */
export function authorize(
  route: { readonly id: string; readonly consumers?: readonly string[] },
  consumer: ConsumerIdentity,
  req: IncomingMessage,
): void {
  const allowed = route.consumers ?? [];
  if (!allowed.includes(consumer.id)) {
    throw new GatewayError('GW_FORBIDDEN', { consumer: consumer.id, route: route.id });
  }
  if (consumer.ipAllow && !addressIn(consumer.ipAllow, consumer.clientIp)) {
    throw new GatewayError('GW_IP_NOT_ALLOWED', { consumer: consumer.id, ip: consumer.clientIp ?? 'không rõ' });
  }
  if (consumer.mtlsSubject !== undefined && peerCommonName(req) !== consumer.mtlsSubject) {
    throw new GatewayError('GW_CLIENT_CERT_MISMATCH', {
      consumer: consumer.id,
      expected: `CN=${consumer.mtlsSubject}`,
    });
  }
}

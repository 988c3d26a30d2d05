import type { ConsumerIdentity } from '../../auth/identity.ts';
import type { Exchange } from '../exchange.ts';

/**
 * Establishes who calls (API key, bearer token, client certificate): the consumer, or a promise of it
 * when it must wait (a bearer token); GW_UNAUTHENTICATED thrown or rejected. The runner awaits only a
 * promise, and hands the consumer to authorize.
 */
export function authenticate(ex: Exchange): ConsumerIdentity | Promise<ConsumerIdentity> {
  const { authenticator } = ex.runtime.consumers;
  return authenticator.identify ? authenticator.identify(ex.req) : authenticator.authenticate(ex.req);
}

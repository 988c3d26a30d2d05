import type { ConsumerIdentity } from '../../auth/identity.ts';
import type { Exchange } from '../exchange.ts';

/**
 * Establishes who calls (API key, bearer token, client certificate): the promise settles with the
 * consumer, or fails with GW_UNAUTHENTICATED. The runner awaits it and hands the consumer to authorize.
 */
export function authenticate(ex: Exchange): Promise<ConsumerIdentity> {
  return ex.runtime.consumers.authenticator.authenticate(ex.req);
}

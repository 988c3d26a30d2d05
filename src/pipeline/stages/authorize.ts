import type { ConsumerIdentity } from '../../auth/identity.ts';
import type { Exchange } from '../exchange.ts';

/**
 * Records the consumer, checks it may use the route (consumer list, addresses, client certificate), then
 * asks the observers to admit the exchange (the audit trail refuses with GW_AUDIT_UNAVAILABLE when it
 * cannot record it): nothing is read or sent for a caller that fails here.
 */
export function authorize(ex: Exchange, consumer: ConsumerIdentity): void {
  ex.consumer = consumer;
  ex.record.consumer = consumer.id;
  ex.runtime.consumers.authorize(ex.route, consumer, ex.req);
  ex.ctx.hooks?.admit?.(ex.route);
}

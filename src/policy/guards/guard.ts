import type { Logger } from '../../logging/logger.ts';

/**
 * Request guards: checks a route runs on the mapped request body after `adapt` and before credentials are
 * injected or anything leaves, which need I/O (a mapping op is synchronous and pure, so a check that reads
 * the delivery ledger cannot be one). Each is a plug-in (`{ schema, create }`), listed under a route's
 * `guards:` and built at load by the one plug-in loader; a guard refuses by throwing a GatewayError.
 */

/** What a guard knows of the pushes the gateway made: the delivery ledger, looked up by a clear business key. */
export interface PushLedger {
  /**
   * The newest push `consumerId` made under `businessKey` (e.g. a dossier code) in `group`; the ledger itself
   * holds only the HMAC of (consumer, key), which this computes. Undefined when that consumer pushed nothing
   * under that key (another consumer's pushes are not its business: DeliveryEngine.orderKey).
   */
  latestPush(
    group: string,
    consumerId: string,
    businessKey: string,
  ): Promise<{ readonly operation: string | null; readonly state: string } | undefined>;
}

export interface GuardDeps {
  /** The gateway's ledger; undefined when no delivery store is configured (then ledger guards pass). */
  readonly ledger: () => PushLedger | undefined;
  readonly logger: Logger;
}

/** A built guard, given the mapped body and the calling consumer: resolves when the call may go on; rejects (GatewayError) to refuse it. */
export type RequestGuard = (body: unknown, consumerId: string) => Promise<void>;

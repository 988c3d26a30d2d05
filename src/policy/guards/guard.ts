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
   * The newest push recorded for `businessKey` (e.g. a dossier code) in `group`; the ledger itself holds
   * only the key's HMAC, which this computes. Undefined when the gateway pushed nothing under that key.
   */
  latestPush(
    group: string,
    businessKey: string,
  ): Promise<{ readonly operation: string | null; readonly state: string } | undefined>;
}

export interface GuardDeps {
  /** The gateway's ledger; undefined when no delivery store is configured (then ledger guards pass). */
  readonly ledger: () => PushLedger | undefined;
  readonly logger: Logger;
}

/** A built guard: resolves when the call may go on; rejects (GatewayError) to refuse it. */
export type RequestGuard = (body: unknown) => Promise<void>;

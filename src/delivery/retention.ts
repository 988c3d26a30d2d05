import type { Clock } from '../config/types.ts';
import type { Logger } from '../logging/logger.ts';
import type { DeliveryStore } from './store.ts';

const DAY_MS = 24 * 60 * 60_000;

/** How often the gateway erases payloads past retention: hourly (retention is counted in days). */
export const RETENTION_SWEEP_MS = 60 * 60_000;

export interface PayloadRetention {
  /** Erases now the payloads past retention; resolves with how many (0 when the store failed: logged). */
  sweep(): Promise<number>;
  /** Stops the timer; resolves once a sweep under way is done (before the store is closed). */
  stop(): Promise<void>;
}

/**
 * Citizen data at rest only until delivered plus `delivery.retentionDays` (issue 17): a timer erases the
 * sealed payloads of delivered, dead and dropped deliveries last updated longer ago than that (the rows
 * stay, without payload, as the ledger). A dead delivery past retention can no longer be retried. One
 * sweep at start, then every `intervalMs`; a sweep never overlaps the previous one. `retentionDays` is read
 * at each sweep from the running config. `onSweep` reports each sweep's count (tests await it).
 */
export function startPayloadRetention(options: {
  readonly store: Pick<DeliveryStore, 'erasePayloads'>;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly retentionDays: () => number;
  readonly intervalMs?: number;
  readonly onSweep?: (erased: number) => void;
}): PayloadRetention {
  let running: Promise<number> | undefined;
  const sweep = (): Promise<number> => {
    running ??= (async () => {
      const days = options.retentionDays();
      try {
        const erased = await options.store.erasePayloads(options.clock.now() - days * DAY_MS);
        if (erased > 0) options.logger.info('delivery payloads erased past retention', { erased, retentionDays: days });
        return erased;
      } catch (err) {
        options.logger.warn('delivery payload retention: the store failed; next sweep will retry', {
          error: (err as Error)?.message,
        });
        return 0;
      } finally {
        running = undefined;
      }
    })().then((erased) => {
      options.onSweep?.(erased);
      return erased;
    });
    return running;
  };
  const timer = setInterval(() => void sweep(), options.intervalMs ?? RETENTION_SWEEP_MS);
  timer.unref();
  void sweep();
  return {
    sweep,
    async stop() {
      clearInterval(timer);
      await running;
    },
  };
}

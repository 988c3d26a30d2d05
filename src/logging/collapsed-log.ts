import type { Logger } from './logger.ts';

/**
 * A log line that repeats (one per refused call while a store is down, one per lost audit batch) written
 * at most once per `intervalMs`: the first occurrence is logged at once, later ones are counted and the
 * count is written with the next line (`repeated`: occurrences since the previous line). A flood of
 * identical warnings would fill the log volume and hide the one line an admin needs.
 */
export interface CollapsedLog {
  /** Logs now, or counts when a line was logged less than `intervalMs` ago. */
  report(fields?: Record<string, unknown>): void;
  /** Occurrences counted but not yet written (written with the next report, or by `settle`). */
  readonly pending: number;
  /** Writes the pending count now (on recovery), with the given fields. */
  settle(fields?: Record<string, unknown>): void;
}

export function createCollapsedLog(
  logger: Logger,
  level: 'warn' | 'error',
  message: string,
  options: { intervalMs: number; now?: () => number },
): CollapsedLog {
  const now = options.now ?? Date.now;
  let last = -Infinity;
  let pending = 0;
  return {
    report(fields = {}) {
      const t = now();
      if (t - last < options.intervalMs) {
        pending++;
        return;
      }
      logger[level](message, { ...fields, repeated: pending + 1 });
      pending = 0;
      last = t;
    },
    get pending() {
      return pending;
    },
    settle(fields = {}) {
      if (pending > 0) logger[level](message, { ...fields, repeated: pending });
      pending = 0;
      last = -Infinity;
    },
  };
}

import type { Clock } from '../config/types.ts';

/** One request a simulated system received, and what it answered. */
export interface ReceivedEntry {
  /** ISO time from the sandbox clock. */
  readonly at: string;
  readonly method: string;
  readonly path: string;
  /** Operation name inside the system (`DongBoDVC`, `dangKyHoTich`, `xacMinhNhanThan`...). */
  readonly operation: string;
  /** Who the presented credential belongs to, when it was valid; null when no valid credential. */
  readonly client: string | null;
  readonly body: unknown;
  readonly response: { readonly status: number; readonly body: unknown };
  /** `X-LGSP-Delivery-Id` of a queued push's attempt, when the gateway sent one. */
  readonly deliveryId?: string | null;
}

const MAX_ENTRIES_PER_SYSTEM = 1000;

/**
 * What each simulated system received, newest last, for newcomers (`GET /__sandbox/<system>/received`)
 * and tests. Secrets are never stored: the entries hold the body and the credential's owner, not headers.
 */
export class ReceivedLog {
  readonly #clock: Clock;
  readonly #bySystem = new Map<string, ReceivedEntry[]>();

  constructor(clock: Clock) {
    this.#clock = clock;
  }

  /** Appends one entry for a system, dropping the oldest beyond 1000. */
  record(system: string, entry: Omit<ReceivedEntry, 'at'>): void {
    const list = this.#bySystem.get(system) ?? [];
    list.push({ at: new Date(this.#clock.now()).toISOString(), ...entry });
    if (list.length > MAX_ENTRIES_PER_SYSTEM) list.splice(0, list.length - MAX_ENTRIES_PER_SYSTEM);
    this.#bySystem.set(system, list);
  }

  /** A copy of what one system received (empty for an unknown system). */
  list(system: string): ReceivedEntry[] {
    return [...(this.#bySystem.get(system) ?? [])];
  }

  /** Forgets what one system received; returns how many entries were dropped. */
  clear(system: string): number {
    const n = this.#bySystem.get(system)?.length ?? 0;
    this.#bySystem.delete(system);
    return n;
  }
}

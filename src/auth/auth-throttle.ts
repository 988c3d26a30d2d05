import { isIP } from 'node:net';
import type { Clock, TokenThrottleConfig } from '../config/types.ts';

interface Entry {
  failures: number;
  windowStart: number;
}

/**
 * Counts failures per key in a fixed window that starts at the key's first failure; once `max` is
 * reached the key is locked until the window ends. Memory is bounded: past `maxEntries` keys, expired
 * entries go first, then the least recently failed (a Map keeps insertion order; a failure re-inserts).
 */
export class FailureCounter {
  readonly #entries = new Map<string, Entry>();
  readonly #clock: Clock;
  maxEntries: number;

  constructor(clock: Clock, maxEntries: number) {
    this.#clock = clock;
    this.maxEntries = maxEntries;
  }

  get size(): number {
    return this.#entries.size;
  }

  /** Seconds until `key` may try again (0: not locked). */
  lockedFor(key: string, max: number, windowMs: number): number {
    const entry = this.#entries.get(key);
    if (!entry) return 0;
    const left = entry.windowStart + windowMs - this.#clock.now();
    if (left <= 0) {
      this.#entries.delete(key);
      return 0;
    }
    return entry.failures >= max ? Math.ceil(left / 1000) : 0;
  }

  recordFailure(key: string, windowMs: number): void {
    const now = this.#clock.now();
    let entry = this.#entries.get(key);
    if (entry && now - entry.windowStart >= windowMs) entry = undefined;
    this.#entries.delete(key);
    this.#entries.set(key, { failures: (entry?.failures ?? 0) + 1, windowStart: entry?.windowStart ?? now });
    // The first key is the least recently failed (expired ones are among them): O(1) per failure, so a
    // flood of new addresses costs no scan.
    for (const oldest of this.#entries.keys()) {
      if (this.#entries.size <= this.maxEntries) break;
      this.#entries.delete(oldest);
    }
  }
}

/** The three tables of `/token`: configured clients, unknown client ids, caller addresses. */
export interface TokenThrottleState {
  readonly clients: FailureCounter;
  readonly unknownClients: FailureCounter;
  readonly addresses: FailureCounter;
}

/** New tables, or the previous issuer's (kept across a reload, so a reload does not unlock anyone). */
export function tokenThrottleState(
  clock: Clock,
  limits: TokenThrottleConfig,
  previous: TokenThrottleState | undefined,
): TokenThrottleState {
  const state = previous ?? {
    clients: new FailureCounter(clock, limits.maxTracked),
    unknownClients: new FailureCounter(clock, limits.maxTracked),
    addresses: new FailureCounter(clock, limits.maxTracked),
  };
  for (const table of [state.clients, state.unknownClients, state.addresses]) table.maxEntries = limits.maxTracked;
  return state;
}

/**
 * The throttle key of a caller address: an IPv4 address as is, an IPv6 address by its /64, since one
 * subscriber routinely holds a whole /64 and could otherwise rotate through 2^64 addresses.
 */
export function addressKey(address: string): string {
  const bare = address.split('%')[0]; // zone id
  if (isIP(bare) !== 6) return bare;
  let text = bare.toLowerCase();
  const dotted = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text);
  if (dotted) {
    const [a, b, c, d] = dotted.slice(1).map(Number);
    text = `${text.slice(0, dotted.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head, tail] = text.split('::');
  const left = head ? head.split(':') : [];
  const right = tail === undefined ? [] : tail ? tail.split(':') : [];
  const groups = tail === undefined ? left : [...left, ...Array(8 - left.length - right.length).fill('0'), ...right];
  return `${groups
    .slice(0, 4)
    .map((g) => g.replace(/^0+(?=.)/, ''))
    .join(':')}::/64`;
}

import NodeCache from 'node-cache';
import type { GatewayError } from '../errors/gateway-error.ts';

/** A token obtained from an upstream's token endpoint. Times are epoch ms of the injected clock. */
export interface CachedToken {
  readonly token: string;
  readonly obtainedAt: number;
  readonly expiresAt: number;
}

/** The last failed token call for a key: later calls within the back-off window fail fast with it. */
export interface TokenFailure {
  readonly at: number;
  readonly error: GatewayError;
}

/**
 * Refreshes caused by an upstream refusing the token (not by expiry), per key: how many in a row brought a
 * token that was refused as well, and which token the last one brought (issue 13.6).
 */
export interface RejectionState {
  /** Consecutive rejection refreshes whose new token was refused too: each doubles the wait before the next. */
  readonly streak: number;
  /** The token the last rejection refresh obtained; undefined while that refresh is under way. */
  readonly token?: string;
}

/**
 * Tokens per upstream and credential set, shared by every chain built from successive configs (a hot
 * reload with the same credentials keeps its tokens). Also holds the pending fetch per key (single
 * flight) and the last failure per key (back-off), which must be shared the same way.
 */
export interface TokenCache {
  get(key: string): CachedToken | undefined;
  /** `housekeepingTtlSeconds`: when node-cache may drop the entry (real time); freshness is the caller's. */
  set(key: string, token: CachedToken, housekeepingTtlSeconds: number): void;
  delete(key: string): void;
  /** Joins the pending fetch for `key`, or starts one with `start`. */
  singleFlight(key: string, start: () => Promise<CachedToken>): Promise<CachedToken>;
  getFailure(key: string): TokenFailure | undefined;
  setFailure(key: string, failure: TokenFailure): void;
  clearFailure(key: string): void;
  getRejection(key: string): RejectionState | undefined;
  setRejection(key: string, state: RejectionState | undefined): void;
  keys(): string[];
  /** Empties the cache and stops node-cache. */
  close(): void;
}

/** Builds a TokenCache backed by node-cache (no background timer: expiry is checked on read). */
export function createTokenCache(): TokenCache {
  // useClones false: entries are frozen values; checkperiod 0: no interval timer keeping the process up.
  const cache = new NodeCache({ useClones: false, checkperiod: 0 });
  const pending = new Map<string, Promise<CachedToken>>();
  const failures = new Map<string, TokenFailure>();
  const rejections = new Map<string, RejectionState>();
  return {
    get: (key) => cache.get<CachedToken>(key),
    set: (key, token, ttl) => void cache.set(key, Object.freeze({ ...token }), Math.max(1, Math.ceil(ttl))),
    delete: (key) => void cache.del(key),
    singleFlight(key, start) {
      const running = pending.get(key);
      if (running) return running;
      const flight = start().finally(() => pending.delete(key));
      pending.set(key, flight);
      return flight;
    },
    getFailure: (key) => failures.get(key),
    setFailure: (key, failure) => void failures.set(key, failure),
    clearFailure: (key) => void failures.delete(key),
    getRejection: (key) => rejections.get(key),
    setRejection: (key, state) => void (state ? rejections.set(key, state) : rejections.delete(key)),
    keys: () => cache.keys(),
    close() {
      cache.flushAll();
      cache.close();
      failures.clear();
      rejections.clear();
    },
  };
}

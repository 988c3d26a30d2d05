import { GatewayError } from '../errors/gateway-error.ts';
import type { Clock } from '../config/types.ts';
import type { Logger } from '../logging/logger.ts';
import type { CachedToken, TokenCache } from './token-cache.ts';

/** A token just obtained and how long the endpoint says it lives. */
export interface FetchedToken {
  token: string;
  lifetimeSeconds: number;
}

export interface TokenSourceOptions {
  /** Cache key: upstream id, strategy and a digest of the credential set. */
  key: string;
  upstreamId: string;
  strategy: string;
  refreshSkewSeconds: number;
  /** Back-off: at most one token call per key in this window while the endpoint fails. */
  minRetryIntervalMs: number;
  /** Calls the token endpoint; throws GatewayError GW_TOKEN_ENDPOINT_FAILED. */
  fetchToken(): Promise<FetchedToken>;
}

export interface TokenSourceDeps {
  clock: Clock;
  logger: Logger;
  tokenCache: TokenCache;
  /** Told of every token call and whether it succeeded (metrics). */
  onTokenCall?: (upstreamId: string, ok: boolean) => void;
}

/** The caching, refreshing, single-flight and back-off logic shared by every token strategy. */
export interface TokenSource {
  /** A token valid now: cached, or fetched once for every concurrent caller. */
  get(): Promise<string>;
  /** The cached token when it is fresh (not yet due for refresh), without waiting; otherwise undefined. */
  peek(): string | undefined;
  invalidate(): void;
  status(): { validUntil?: string; lastRefresh?: string; lastError?: string };
}

/** Builds the token source of one strategy instance; state lives in the shared TokenCache. */
export function createTokenSource(options: TokenSourceOptions, deps: TokenSourceDeps): TokenSource {
  const { key, minRetryIntervalMs } = options;
  const { clock, logger, tokenCache } = deps;

  // Refresh `skew` before expiry; for a token living less than twice the skew, refresh at half its life
  // instead of on every request.
  const skewFor = (token: CachedToken): number =>
    Math.min(options.refreshSkewSeconds * 1000, (token.expiresAt - token.obtainedAt) / 2);
  const isUsable = (token: CachedToken | undefined, now: number): token is CachedToken =>
    token !== undefined && now < token.expiresAt;

  const fetchAndStore = (): Promise<CachedToken> =>
    tokenCache.singleFlight(key, async () => {
      try {
        const fetched = await options.fetchToken();
        // A token is sent in a header (or a JSON field): one with CR/LF or other control characters would
        // inject headers, and Node refuses it at send time (a 500 on every call until expiry). Refuse it
        // here, as a fault of the token endpoint, and cache nothing.
        if (!PRINTABLE_TOKEN.test(fetched.token)) {
          throw tokenEndpointFailed(options.upstreamId, 'token holds characters not allowed in a header');
        }
        const now = clock.now();
        const entry: CachedToken = {
          token: fetched.token,
          obtainedAt: now,
          expiresAt: now + fetched.lifetimeSeconds * 1000,
        };
        // node-cache drops the entry (real time) a minute after the token's own end: housekeeping only.
        tokenCache.set(key, entry, fetched.lifetimeSeconds + 60);
        tokenCache.clearFailure(key);
        deps.onTokenCall?.(options.upstreamId, true);
        logger.info('upstream token obtained', {
          event: 'credentials.token_obtained',
          upstream: options.upstreamId,
          strategy: options.strategy,
          validUntil: new Date(entry.expiresAt).toISOString(),
        });
        return entry;
      } catch (err) {
        const error =
          err instanceof GatewayError
            ? err
            : new GatewayError(
                'GW_TOKEN_ENDPOINT_FAILED',
                { upstream: options.upstreamId, reason: 'internal error' },
                { cause: err },
              );
        tokenCache.setFailure(key, { at: clock.now(), error });
        deps.onTokenCall?.(options.upstreamId, false);
        logger.warn('upstream token call failed', {
          event: 'credentials.token_failed',
          upstream: options.upstreamId,
          strategy: options.strategy,
          reason: error.params.reason,
        });
        throw error;
      }
    });

  return {
    async get() {
      const now = clock.now();
      const cached = tokenCache.get(key);
      if (cached && now < cached.expiresAt - skewFor(cached)) return cached.token;
      const failure = tokenCache.getFailure(key);
      if (failure && now - failure.at < minRetryIntervalMs) {
        // Back-off window: no call to a failing endpoint; a token still alive is better than an error.
        if (isUsable(cached, now)) return cached.token;
        throw failure.error;
      }
      try {
        return (await fetchAndStore()).token;
      } catch (err) {
        // The early refresh failed but the old token has not expired yet: keep serving with it.
        if (isUsable(cached, clock.now())) return cached.token;
        throw err;
      }
    },
    peek() {
      const cached = tokenCache.get(key);
      return cached && clock.now() < cached.expiresAt - skewFor(cached) ? cached.token : undefined;
    },
    invalidate() {
      const cached = tokenCache.get(key);
      if (!cached) return;
      // A token obtained within the back-off window is already the answer to an earlier rejection:
      // concurrent requests that carried the old token must not each throw the new one away.
      if (clock.now() - cached.obtainedAt < minRetryIntervalMs) return;
      tokenCache.delete(key);
    },
    status() {
      const cached = tokenCache.get(key);
      const failure = tokenCache.getFailure(key);
      return {
        ...(cached
          ? {
              validUntil: new Date(cached.expiresAt).toISOString(),
              lastRefresh: new Date(cached.obtainedAt).toISOString(),
            }
          : {}),
        ...(failure ? { lastError: failure.error.message } : {}),
      };
    },
  };
}

/** Visible ASCII, inner spaces allowed: what RFC 6750 b64token, JWTs and opaque tokens are made of. */
const PRINTABLE_TOKEN = /^[\x21-\x7e](?:[\x20-\x7e]*[\x21-\x7e])?$/;

/** The GW_TOKEN_ENDPOINT_FAILED error for an upstream, with a reason already scrubbed of secrets. */
export function tokenEndpointFailed(upstream: string, reason: string, cause?: unknown): GatewayError {
  return new GatewayError('GW_TOKEN_ENDPOINT_FAILED', { upstream, reason }, cause === undefined ? {} : { cause });
}

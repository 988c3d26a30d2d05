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
  /**
   * At most one token call per key in this window for any reason but expiry: while the endpoint fails,
   * and when the upstream refuses the token (doubling while refreshed tokens are refused too).
   */
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
  /**
   * The upstream refused `rejected` (the token the refused call carried; undefined when unknown): drop it so
   * the next call fetches a new one, unless the rules against refresh storms say to keep it.
   */
  invalidate(rejected?: string): void;
  /** The token handed out now, and the one before for 5 minutes after it was replaced: masked in answers. */
  recentTokens(): readonly string[];
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

  // The last two tokens handed out: a call sent with the previous one may still be answering, and a
  // token replaced after a refusal may still be valid. The previous one is masked in answers for
  // PREVIOUS_TOKEN_MASKED_MS after it was replaced, then dropped (each masked value costs a scan).
  let recent: string[] = [];
  let previousUntil = 0;
  const handOut = (token: string): string => {
    if (recent[recent.length - 1] !== token) {
      recent = [...recent.slice(-1), token];
      previousUntil = clock.now() + PREVIOUS_TOKEN_MASKED_MS;
    }
    return token;
  };

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
        // A refresh caused by a refusal remembers the token it brought (refused too = the streak grows); a
        // refresh for expiry or a first fetch starts afresh.
        const rejection = tokenCache.getRejection(key);
        if (rejection && rejection.token === undefined)
          tokenCache.setRejection(key, { streak: rejection.streak, token: entry.token });
        else tokenCache.setRejection(key, undefined);
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
      if (cached && now < cached.expiresAt - skewFor(cached)) return handOut(cached.token);
      const failure = tokenCache.getFailure(key);
      if (failure && now - failure.at < minRetryIntervalMs) {
        // Back-off window: no call to a failing endpoint; a token still alive is better than an error.
        if (isUsable(cached, now)) return handOut(cached.token);
        throw failure.error;
      }
      try {
        return handOut((await fetchAndStore()).token);
      } catch (err) {
        // The early refresh failed but the old token has not expired yet: keep serving with it.
        if (isUsable(cached, clock.now())) return handOut(cached.token);
        throw err;
      }
    },
    peek() {
      const cached = tokenCache.get(key);
      return cached && clock.now() < cached.expiresAt - skewFor(cached) ? handOut(cached.token) : undefined;
    },
    invalidate(rejected) {
      const cached = tokenCache.get(key);
      if (!cached) return;
      // A newer token already replaced the refused one (a slow call answering late): nothing to refresh.
      if (rejected !== undefined && rejected !== cached.token) return;
      // Issue 13.6: a path that answers 401 to every token must not turn each call into a national token
      // call. A token younger than the interval is the answer to an earlier refusal and is kept; when the
      // token a refusal brought is refused as well, the refusal is not about the token, and the interval
      // doubles (up to MAX_REJECTION_BACKOFF) until a token is obtained for another reason (expiry).
      const rejection = tokenCache.getRejection(key);
      const brokeAgain = rejection?.token !== undefined && rejection.token === cached.token;
      const streak = Math.min((rejection?.streak ?? 0) + (brokeAgain ? 1 : 0), MAX_REJECTION_DOUBLINGS);
      const interval = Math.min(
        minRetryIntervalMs * 2 ** streak,
        Math.max(minRetryIntervalMs, MAX_REJECTION_BACKOFF_MS),
      );
      if (clock.now() - cached.obtainedAt < interval) return;
      tokenCache.setRejection(key, { streak });
      tokenCache.delete(key);
      logger.info('upstream refused the token: a new one will be fetched', {
        event: 'credentials.token_refused',
        upstream: options.upstreamId,
        strategy: options.strategy,
        streak,
      });
    },
    recentTokens() {
      if (recent.length > 1 && clock.now() > previousUntil) recent = recent.slice(-1);
      return recent;
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

/** How long a replaced token is still masked in relayed answers: longer than any call it was sent with. */
const PREVIOUS_TOKEN_MASKED_MS = 5 * 60_000;

/** Doublings of minRetryIntervalMs while refreshed tokens keep being refused (1 s -> at most 256 s). */
const MAX_REJECTION_DOUBLINGS = 8;
/** ...and never longer than this, whatever minRetryIntervalMs is (unless it is longer itself). */
const MAX_REJECTION_BACKOFF_MS = 5 * 60_000;

/** Visible ASCII, inner spaces allowed: what RFC 6750 b64token, JWTs and opaque tokens are made of. */
const PRINTABLE_TOKEN = /^[\x21-\x7e](?:[\x20-\x7e]*[\x21-\x7e])?$/;

/** The GW_TOKEN_ENDPOINT_FAILED error for an upstream, with a reason already scrubbed of secrets. */
export function tokenEndpointFailed(upstream: string, reason: string, cause?: unknown): GatewayError {
  return new GatewayError('GW_TOKEN_ENDPOINT_FAILED', { upstream, reason }, cause === undefined ? {} : { cause });
}

import type https from 'node:https';
import type { Clock } from '../config/types.ts';
import type { Logger } from '../logging/logger.ts';
import type { SecretMasker } from '../logging/secret-masker.ts';
import type { TokenCache } from './token-cache.ts';

/** The outgoing request as credential strategies see it, before it leaves for the upstream. */
export interface OutgoingCall {
  method: string;
  /** Outgoing headers, lower-case names; strategies set/overwrite. */
  headers: Record<string, string | string[] | undefined>;
  /** Parsed JSON body when the route buffers it (strategies may set a field). */
  json?: unknown;
  /** Parsed form body when the route buffers it. */
  form?: URLSearchParams;
  /** The query string sent upstream (`?a=b`, or empty), for strategies that must check it. */
  query?: string;
}

/** What /admin shows about one strategy: never a secret value, only whether each secret is set. */
export interface CredentialStatus {
  strategy: string;
  validUntil?: string;
  lastRefresh?: string;
  lastError?: string;
  secrets: Record<string, 'set' | 'missing'>;
}

/** One credential scheme toward one upstream, built from validated YAML options. */
export interface CredentialStrategy {
  /** The route must buffer+parse the body for this strategy. */
  readonly bodyNeed?: 'json' | 'form';
  /** Adds the credentials to the call; throws GatewayError GW_TOKEN_ENDPOINT_FAILED. */
  apply(call: OutgoingCall): Promise<void>;
  /**
   * Adds the credentials without waiting when it can (a fresh cached token, fixed headers) and returns
   * true; false means "call apply()". Saves the promises of apply() on nearly every request.
   */
  applyCached?(call: OutgoingCall): boolean;
  /** True when the upstream's answer says the injected token was refused (401 or a configured signal). */
  isTokenRejected(status: number, body: unknown): boolean;
  /** True when isTokenRejected looks at answer bodies (a `tokenRejected.when` signal), so they must be read. */
  readonly inspectsBody?: boolean;
  /**
   * The upstream refused the credentials `call` carried (when known): drop the cached token so the next
   * apply() fetches a new one, within the limits against refresh storms (token-source.ts).
   */
  invalidate(call?: OutgoingCall): void;
  /**
   * The secret values this strategy sends the upstream now (tokens recently injected, static keys, client
   * secret): masked in every answer relayed to the caller. Absent or empty: nothing to mask.
   */
  secretValues?(): readonly string[];
  describe(): CredentialStatus;
  close?(): void;
}

/**
 * An upstream's credentials as the request path uses them: its strategies applied in order
 * (createCredentialChain), with the masker of what they inject.
 */
export interface CredentialChain extends Omit<CredentialStrategy, 'describe' | 'secretValues'> {
  /** Masks the injected secrets in relayed answers; undefined when this upstream gets none. */
  relayMasker?(): SecretMasker | undefined;
  describe?(): CredentialStatus;
}

/** What a credential chain needs from the gateway. */
export interface CredentialDeps {
  upstreamId: string;
  logger: Logger;
  clock: Clock;
  tokenCache: TokenCache;
  /** TLS options toward the upstream (src/upstream/tls.ts); token calls to https URLs use them too. */
  tls?: https.AgentOptions;
  /** Environment for `{ env: NAME }` secrets; defaults to process.env. */
  env?: Readonly<Record<string, string | undefined>>;
  /** Directory relative `{ file: PATH }` secrets are resolved from; defaults to the process's cwd. */
  configDir?: string;
  /** Told of every token call and whether it succeeded (the token fetch metrics). */
  onTokenCall?: (upstreamId: string, ok: boolean) => void;
}

/** What each strategy factory receives: the chain's deps plus the config path of its own options. */
export interface StrategyDeps extends CredentialDeps {
  path: readonly (string | number)[];
  /**
   * The entries before this one in the upstream's `credentials:` list, applied in order: for a token call
   * that passes the same platform as the service calls (MOLISA's GetToken through VDXP, seed 004).
   * Undefined for the first entry.
   */
  earlier?: Pick<CredentialStrategy, 'apply' | 'invalidate'> & {
    /** One of them writes into the body: a token call, which carries only headers, cannot take it. */
    readonly writesBody: boolean;
  };
}

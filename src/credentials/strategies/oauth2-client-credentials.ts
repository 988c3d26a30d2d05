import type { Static } from 'typebox';
import { Type } from '../../plugin/schema-type.ts';
import { SecretRefSchema, StringMap } from '../../config/consumers-schema.ts';
import { definePlugin } from '../../plugin/plugin.ts';
import {
  basicCredentials,
  headerNameSchema,
  injectedToken,
  requestTokenAnswer,
  secretSource,
  setHeader,
  toSeconds,
  tokenCacheKey,
  tokenTimingSchemaProperties,
} from '../common.ts';
import { resolveSecret, scrubSecrets } from '../../config/secrets.ts';
import { compileTokenRejected, TokenRejectedSchema } from '../token-rejection.ts';
import { createTokenSource, tokenEndpointFailed, type FetchedToken } from '../token-source.ts';
import type { CredentialStrategy, StrategyDeps } from '../types.ts';

/**
 * OAuth 2.0 client credentials (RFC 6749 §4.4), as API-manager platforms run it: NDXP, VDXP and many
 * provincial LGSPs (domain.md §2.1, §4). The consumer-key/consumer-secret pair differs per environment
 * (seed 003, "consumer-key / consumer-secret (thử nghiệm)" vs "(chính thức)").
 */
const OAuth2ClientCredentialsSchema = Type.Object(
  {
    tokenUrl: Type.String({ pattern: '^https?://' }),
    consumerKey: SecretRefSchema,
    consumerSecret: SecretRefSchema,
    /**
     * `basic` (default): HTTP Basic with key and secret each form-urlencoded first (RFC 6749 §2.3.1);
     * `basic-raw`: HTTP Basic of `key:secret` as is, for servers that do not decode; `body`:
     * client_id/client_secret in the form.
     */
    clientAuth: Type.Enum(['basic', 'basic-raw', 'body'], { default: 'basic' }),
    scope: Type.Optional(Type.String()),
    /** Extra form fields of the token call (non-secret), e.g. `{ audience: ... }`. */
    extraParams: StringMap(Type.String(), { default: {} }),
    /** Lifetime when the answer has no `expires_in`. */
    defaultLifetimeSeconds: Type.Integer({ minimum: 1, default: 300 }),
    /** Header carrying the token. */
    header: Type.String({ ...headerNameSchema, default: 'Authorization' }),
    /** Scheme before the token; empty string for the bare token. */
    scheme: Type.String({ default: 'Bearer' }),
    tokenRejected: TokenRejectedSchema,
    ...tokenTimingSchemaProperties,
  },
  { additionalProperties: false },
);
export type OAuth2ClientCredentialsOptions = Static<typeof OAuth2ClientCredentialsSchema>;

export const oauth2ClientCredentials = definePlugin(
  OAuth2ClientCredentialsSchema,
  (options, deps: StrategyDeps): CredentialStrategy => {
    const source = secretSource(deps);
    const consumerKey = resolveSecret(options.consumerKey, 'consumerKey', [...deps.path, 'consumerKey'], source);
    const consumerSecret = resolveSecret(
      options.consumerSecret,
      'consumerSecret',
      [...deps.path, 'consumerSecret'],
      source,
    );
    const clientAuth = options.clientAuth;
    const basic = basicCredentials(consumerKey, consumerSecret, clientAuth === 'basic-raw' ? 'raw' : 'form', deps.path);
    // Anything quoted back from the endpoint is scrubbed of the secret and of the Basic header built from it.
    const scrub = (text: string): string => scrubSecrets(text, [consumerSecret, basic]);
    const header = options.header.toLowerCase();
    const scheme = options.scheme;
    const defaultLifetime = options.defaultLifetimeSeconds;
    const isTokenRejected = compileTokenRejected(options.tokenRejected, [...deps.path, 'tokenRejected']);

    const form = new URLSearchParams({ grant_type: 'client_credentials' });
    if (options.scope) form.set('scope', options.scope);
    for (const [name, value] of Object.entries(options.extraParams)) form.set(name, value);
    const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded' };
    if (clientAuth !== 'body') headers.authorization = `Basic ${basic}`;
    else {
      form.set('client_id', consumerKey);
      form.set('client_secret', consumerSecret);
    }
    const body = form.toString();

    const fetchToken = async (): Promise<FetchedToken> => {
      const res = await requestTokenAnswer(
        { url: options.tokenUrl, method: 'POST', headers, body, timeoutMs: options.timeoutMs, tls: deps.tls },
        deps.upstreamId,
        scrub,
      );
      const answer = (res.json ?? {}) as Record<string, unknown>;
      if (res.status < 200 || res.status > 299) {
        // RFC 6749 §5.2 error answer: `error` and `error_description`; API managers also use `message`.
        const said = [answer.error, answer.error_description ?? answer.message].filter((v) => typeof v === 'string');
        throw tokenEndpointFailed(
          deps.upstreamId,
          scrub(`HTTP ${res.status}${said.length ? `: ${said.join(': ')}` : ''}`),
        );
      }
      const token = answer.access_token;
      if (typeof token !== 'string' || token === '') {
        throw tokenEndpointFailed(deps.upstreamId, `HTTP ${res.status} answer has no access_token`);
      }
      return { token, lifetimeSeconds: toSeconds(answer.expires_in) ?? defaultLifetime };
    };

    const tokens = createTokenSource(
      {
        key: tokenCacheKey(deps.upstreamId, 'oauth2-client-credentials', [options, consumerKey, consumerSecret]),
        upstreamId: deps.upstreamId,
        strategy: 'oauth2-client-credentials',
        refreshSkewSeconds: options.refreshSkewSeconds,
        minRetryIntervalMs: options.minRetryIntervalMs,
        fetchToken,
      },
      deps,
    );

    return {
      async apply(call) {
        const token = await tokens.get();
        setHeader(call.headers, header, scheme ? `${scheme} ${token}` : token);
      },
      applyCached(call) {
        const token = tokens.peek();
        if (token === undefined) return false;
        setHeader(call.headers, header, scheme ? `${scheme} ${token}` : token);
        return true;
      },
      isTokenRejected,
      inspectsBody: isTokenRejected.inspectsBody,
      invalidate: (call) => tokens.invalidate(call && injectedToken(call.headers[header], scheme)),
      secretValues: () => tokens.recentTokens(),
      describe: () => ({
        strategy: 'oauth2-client-credentials',
        ...tokens.status(),
        secrets: { consumerKey: 'set', consumerSecret: 'set' },
      }),
    };
  },
);

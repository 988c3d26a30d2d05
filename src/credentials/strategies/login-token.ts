import type { SecretRef } from '../../config/types.ts';
import { GatewayError } from '../../errors/gateway-error.ts';
import type { Plugin } from '../../plugin/plugin.ts';
import {
  headerNameSchema,
  injectedToken,
  parseJsonAnswer,
  secretSource,
  setHeader,
  toSeconds,
  tokenCacheKey,
  tokenTimingSchemaProperties,
  type TokenTimingOptions,
} from '../common.ts';
import { getPath, setPath } from '../json-path.ts';
import { compileJsonTemplate, compileTemplate, resolveSecretMap, scrubSecrets, secretRefSchema } from '../secrets.ts';
import { sendTokenRequest } from '../token-http.ts';
import { compileTokenRejected, tokenRejectedSchema, type TokenRejectedOptions } from '../token-rejection.ts';
import { createTokenSource, tokenEndpointFailed, type FetchedToken } from '../token-source.ts';
import type { CredentialStrategy, OutgoingCall, StrategyDeps } from '../types.ts';

/**
 * A JSON login that answers a token: MOLISA `GetToken` (`{username, password}` -> `{error_code, message,
 * token}`, error_code 0 = success, token then sent in header `AccessKey`; seed 004 Appendix 1 §1), the
 * civil-status software's token call (seed 003, "Lấy thông tin token") and JSON-login LGSPs (domain.md §4).
 */
export interface LoginTokenOptions extends TokenTimingOptions {
  tokenUrl: string;
  /** Default POST. */
  method?: 'POST' | 'PUT' | 'GET';
  /** Named secrets used as `{{name}}` in `body` and `headers`. */
  secrets?: Record<string, SecretRef>;
  /** JSON body template. Default `{ username: '{{username}}', password: '{{password}}' }` (MOLISA). */
  body?: unknown;
  /** Extra headers of the token call (templates). */
  headers?: Record<string, string>;
  /** Success condition on the answer; without it, success = HTTP 2xx with a token. */
  success?: { path: string; in: (string | number | boolean)[] };
  /** Dot path of the token in the answer. Default `token`. */
  tokenPath?: string;
  /** Dot path of the upstream's message, quoted in errors. Default `message`. */
  messagePath?: string;
  /** Dot path of a lifetime in seconds in the answer (number or numeric string). */
  lifetimePath?: string;
  /** Lifetime when the answer has none. Default 1800. */
  lifetimeSeconds?: number;
  /** Where the token goes. Default `{ header: Authorization, scheme: Bearer }`. */
  inject?: { header?: string; scheme?: string; jsonField?: string };
  tokenRejected?: TokenRejectedOptions;
}

// MOLISA's GetToken states no lifetime (seed 004): half an hour, with the 401/error_code signal as backstop.
export const DEFAULT_LOGIN_LIFETIME_SECONDS = 1800;

const scalar = { type: ['string', 'number', 'boolean'] };
const dotPath = { type: 'string', minLength: 1, pattern: '^[^.]+(\\.[^.]+)*$' };

export const loginToken: Plugin<LoginTokenOptions, StrategyDeps, CredentialStrategy> = {
  schema: {
    type: 'object',
    additionalProperties: false,
    required: ['tokenUrl'],
    properties: {
      tokenUrl: { type: 'string', pattern: '^https?://' },
      method: { enum: ['POST', 'PUT', 'GET'] },
      secrets: { type: 'object', additionalProperties: secretRefSchema },
      body: {},
      headers: { type: 'object', additionalProperties: { type: 'string' } },
      success: {
        type: 'object',
        additionalProperties: false,
        required: ['path', 'in'],
        properties: { path: dotPath, in: { type: 'array', items: scalar, minItems: 1 } },
      },
      tokenPath: dotPath,
      messagePath: dotPath,
      lifetimePath: dotPath,
      lifetimeSeconds: { type: 'integer', minimum: 1 },
      inject: {
        type: 'object',
        additionalProperties: false,
        minProperties: 1,
        properties: { header: headerNameSchema, scheme: { type: 'string' }, jsonField: dotPath },
        dependencies: { scheme: ['header'] },
      },
      tokenRejected: tokenRejectedSchema,
      ...tokenTimingSchemaProperties,
    },
  },

  create(options, deps) {
    const secrets = resolveSecretMap(options.secrets, [...deps.path, 'secrets'], secretSource(deps));
    const method = options.method ?? 'POST';
    const bodyTemplate = options.body ?? { username: '{{username}}', password: '{{password}}' };
    const body =
      method === 'GET' ? undefined : JSON.stringify(compileJsonTemplate(bodyTemplate, secrets, [...deps.path, 'body']));
    const headers: Record<string, string> = method === 'GET' ? {} : { 'content-type': 'application/json' };
    for (const [name, value] of Object.entries(options.headers ?? {})) {
      headers[name.toLowerCase()] = compileTemplate(value, secrets, [...deps.path, 'headers', name]);
    }
    const scrub = (text: string): string => scrubSecrets(text, secrets.values());
    const tokenPath = options.tokenPath ?? 'token';
    const messagePath = options.messagePath ?? 'message';
    const inject = options.inject ?? { header: 'authorization', scheme: 'Bearer' };
    const injectToken = (call: OutgoingCall, token: string) => {
      if (inject.header) setHeader(call.headers, inject.header, inject.scheme ? `${inject.scheme} ${token}` : token);
      if (inject.jsonField) injectJsonField(call, inject.jsonField, token);
    };
    const isTokenRejected = compileTokenRejected(options.tokenRejected, [...deps.path, 'tokenRejected']);

    const upstreamSaid = (answer: unknown): string => {
      const message = getPath(answer, messagePath);
      return typeof message === 'string' || typeof message === 'number' ? `: ${message}` : '';
    };

    const fetchToken = async (): Promise<FetchedToken> => {
      let res;
      try {
        res = await sendTokenRequest({
          url: options.tokenUrl,
          method,
          headers,
          body,
          timeoutMs: options.timeoutMs,
          tls: deps.tls,
        });
      } catch (err) {
        throw tokenEndpointFailed(deps.upstreamId, scrub((err as Error).message), err);
      }
      const parsed = parseJsonAnswer(res, scrub);
      if (!parsed.ok) throw tokenEndpointFailed(deps.upstreamId, parsed.reason);
      const answer = parsed.json;
      if (res.status < 200 || res.status > 299) {
        throw tokenEndpointFailed(deps.upstreamId, scrub(`HTTP ${res.status}${upstreamSaid(answer)}`));
      }
      if (options.success) {
        const code = getPath(answer, options.success.path);
        if (!options.success.in.includes(code as string)) {
          const shown = code === undefined ? 'missing' : JSON.stringify(code);
          throw tokenEndpointFailed(deps.upstreamId, scrub(`${options.success.path} ${shown}${upstreamSaid(answer)}`));
        }
      }
      const token = getPath(answer, tokenPath);
      if (typeof token !== 'string' || token === '') {
        throw tokenEndpointFailed(deps.upstreamId, `answer has no token at ${tokenPath}`);
      }
      const lifetime =
        options.lifetimePath === undefined ? undefined : toSeconds(getPath(answer, options.lifetimePath));
      return { token, lifetimeSeconds: lifetime ?? options.lifetimeSeconds ?? DEFAULT_LOGIN_LIFETIME_SECONDS };
    };

    const tokens = createTokenSource(
      {
        key: tokenCacheKey(deps.upstreamId, 'login-token', [options, [...secrets]]),
        upstreamId: deps.upstreamId,
        strategy: 'login-token',
        refreshSkewSeconds: options.refreshSkewSeconds,
        minRetryIntervalMs: options.minRetryIntervalMs,
        fetchToken,
      },
      deps,
    );

    return {
      ...(inject.jsonField ? { bodyNeed: 'json' as const } : {}),
      async apply(call) {
        injectToken(call, await tokens.get());
      },
      applyCached(call) {
        const token = tokens.peek();
        if (token === undefined) return false;
        injectToken(call, token);
        return true;
      },
      isTokenRejected,
      inspectsBody: isTokenRejected.inspectsBody,
      invalidate: (call) =>
        tokens.invalidate(
          call && inject.header ? injectedToken(call.headers[inject.header.toLowerCase()], inject.scheme) : undefined,
        ),
      secretValues: () => tokens.recentTokens(),
      describe: () => ({
        strategy: 'login-token',
        ...tokens.status(),
        secrets: Object.fromEntries([...secrets.keys()].map((name) => [name, 'set' as const])),
      }),
    };
  },
};

/**
 * Some provinces' MOLISA links carry the token as `AcceptKey` in the JSON body (domain.md §4). MOLISA
 * bodies are arrays of records (seed 004 §IV), so for an array every record gets the field.
 */
function injectJsonField(call: { json?: unknown }, field: string, token: string): void {
  const body = call.json;
  const isRecord = (v: unknown): v is Record<string, unknown> =>
    v !== null && typeof v === 'object' && !Array.isArray(v);
  if (isRecord(body)) setPath(body, field, token);
  else if (Array.isArray(body) && body.every(isRecord)) for (const record of body) setPath(record, field, token);
  else {
    throw new GatewayError('GW_BAD_REQUEST', {
      reason: `dữ liệu gửi lên phải là đối tượng JSON hoặc mảng đối tượng để gắn trường ${field}`,
    });
  }
}

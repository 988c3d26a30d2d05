import type { Static } from 'typebox';
import { Type } from '../../plugin/schema-type.ts';
import { SecretRefSchema, StringMap } from '../../config/consumers-schema.ts';
import { ConfigPathError } from '../../config/config-error.ts';
import { GatewayError } from '../../errors/gateway-error.ts';
import { definePlugin } from '../../plugin/plugin.ts';
import {
  headerNameSchema,
  injectedToken,
  requestTokenAnswer,
  secretSource,
  setHeader,
  toSeconds,
  tokenCacheKey,
  tokenTimingSchemaProperties,
} from '../common.ts';
import { getPath, setPath } from '../json-path.ts';
import { compileJsonTemplate, compileTemplate, resolveSecretMap, scrubSecrets } from '../../config/secrets.ts';
import { compileTokenRejected, TokenRejectedSchema } from '../token-rejection.ts';
import { createTokenSource, tokenEndpointFailed, type FetchedToken } from '../token-source.ts';
import type { CredentialStrategy, OutgoingCall, StrategyDeps } from '../types.ts';

const scalar = Type.Unsafe<string | number | boolean>({ type: ['string', 'number', 'boolean'] });
const dotPath = (options: Record<string, unknown> = {}) =>
  Type.String({ minLength: 1, pattern: '^[^.]+(\\.[^.]+)*$', ...options });

const LoginTokenSchema = Type.Object(
  {
    tokenUrl: Type.String({ pattern: '^https?://' }),
    method: Type.Enum(['POST', 'PUT', 'GET'], { default: 'POST' }),
    /** Named secrets used as `{{name}}` in `body` and `headers`. */
    secrets: Type.Optional(StringMap(SecretRefSchema)),
    /** JSON body template (MOLISA's GetToken by default). */
    body: Type.Unknown({ default: { username: '{{username}}', password: '{{password}}' } }),
    /** Extra headers of the token call (templates). */
    headers: StringMap(Type.String(), { default: {} }),
    /** Success condition on the answer; without it, success = HTTP 2xx with a token. */
    success: Type.Optional(
      Type.Object({ path: dotPath(), in: Type.Array(scalar, { minItems: 1 }) }, { additionalProperties: false }),
    ),
    /** Dot path of the token in the answer. */
    tokenPath: dotPath({ default: 'token' }),
    /** Dot path of the upstream's message, quoted in errors. */
    messagePath: dotPath({ default: 'message' }),
    /** Dot path of a lifetime in seconds in the answer (number or numeric string). */
    lifetimePath: Type.Optional(dotPath()),
    /** Lifetime when the answer has none: MOLISA's GetToken states none (seed 004), so half an hour, with the 401/error_code signal as backstop. */
    lifetimeSeconds: Type.Integer({ minimum: 1, default: 1800 }),
    /** Where the token goes; given, only what it names (`{ jsonField }` alone sets no header). */
    inject: Type.Object(
      {
        header: Type.Optional(headerNameSchema),
        scheme: Type.Optional(Type.String()),
        jsonField: Type.Optional(dotPath()),
      },
      {
        additionalProperties: false,
        minProperties: 1,
        dependencies: { scheme: ['header'] },
        default: { header: 'authorization', scheme: 'Bearer' },
      },
    ),
    tokenRejected: TokenRejectedSchema,
    /**
     * The token call carries the credentials of the entries before this one in `credentials:` (a platform
     * token): the login is a service on the same platform as the calls (MOLISA through VDXP, seed 004).
     */
    withEarlierCredentials: Type.Boolean({ default: false }),
    ...tokenTimingSchemaProperties,
  },
  { additionalProperties: false },
);
export type LoginTokenOptions = Static<typeof LoginTokenSchema>;

/**
 * A JSON login that answers a token: MOLISA `GetToken` (`{username, password}` -> `{error_code, message,
 * token}`, error_code 0 = success, token then sent in header `AccessKey`; seed 004 Appendix 1 §1), the
 * civil-status software's token call (seed 003, "Lấy thông tin token") and JSON-login LGSPs (domain.md §4).
 */
export const loginToken = definePlugin(LoginTokenSchema, (options, deps: StrategyDeps): CredentialStrategy => {
  const secrets = resolveSecretMap(options.secrets, [...deps.path, 'secrets'], secretSource(deps));
  const method = options.method;
  const bodyTemplate = options.body;
  const body =
    method === 'GET' ? undefined : JSON.stringify(compileJsonTemplate(bodyTemplate, secrets, [...deps.path, 'body']));
  const headers: Record<string, string> = method === 'GET' ? {} : { 'content-type': 'application/json' };
  for (const [name, value] of Object.entries(options.headers)) {
    headers[name.toLowerCase()] = compileTemplate(value, secrets, [...deps.path, 'headers', name]);
  }
  const scrub = (text: string): string => scrubSecrets(text, secrets.values());
  const tokenPath = options.tokenPath;
  const messagePath = options.messagePath;
  const inject = options.inject;
  const injectToken = (call: OutgoingCall, token: string) => {
    if (inject.header) setHeader(call.headers, inject.header, inject.scheme ? `${inject.scheme} ${token}` : token);
    if (inject.jsonField) injectJsonField(call, inject.jsonField, token);
  };
  const isTokenRejected = compileTokenRejected(options.tokenRejected, [...deps.path, 'tokenRejected']);

  const upstreamSaid = (answer: unknown): string => {
    const message = getPath(answer, messagePath);
    return typeof message === 'string' || typeof message === 'number' ? `: ${message}` : '';
  };

  const earlier = options.withEarlierCredentials ? deps.earlier : undefined;
  if (options.withEarlierCredentials && (!earlier || earlier.writesBody)) {
    throw new ConfigPathError(
      [...deps.path, 'withEarlierCredentials'],
      'order',
      earlier
        ? 'an entry before this one writes into the body; the token call carries only headers'
        : 'withEarlierCredentials needs an entry before this one in credentials: (the platform token)',
    );
  }
  /** The token call's headers: this strategy's own, with the platform's credentials when it passes one. */
  const tokenCallHeaders = async (): Promise<{ headers: Record<string, string>; call?: OutgoingCall }> => {
    if (!earlier) return { headers };
    const call: OutgoingCall = { method, headers: { ...headers } };
    await earlier.apply(call);
    const out: Record<string, string> = {};
    for (const [name, value] of Object.entries(call.headers)) if (typeof value === 'string') out[name] = value;
    return { headers: out, call };
  };

  const fetchToken = async (): Promise<FetchedToken> => {
    const sent = await tokenCallHeaders();
    const res = await requestTokenAnswer(
      { url: options.tokenUrl, method, headers: sent.headers, body, timeoutMs: options.timeoutMs, tls: deps.tls },
      deps.upstreamId,
      scrub,
    );
    const answer = res.json;
    // The platform refused its own token on the way to the login: the next try fetches a new one.
    if (res.status === 401 && earlier) earlier.invalidate(sent.call);
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
    const lifetime = options.lifetimePath === undefined ? undefined : toSeconds(getPath(answer, options.lifetimePath));
    return { token, lifetimeSeconds: lifetime ?? options.lifetimeSeconds };
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
});

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

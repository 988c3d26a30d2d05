import type { Static } from 'typebox';
import { Type } from '../../plugin/schema-type.ts';
import { SecretRefSchema, StringMap } from '../../config/consumers-schema.ts';
import { ConfigPathError } from '../../config/config-error.ts';
import { definePlugin } from '../../plugin/plugin.ts';
import { headerNameSchema, secretSource, setHeader } from '../common.ts';
import { compileJsonTemplate, compileTemplate, resolveSecretMap } from '../../config/secrets.ts';
import type { CredentialStrategy, StrategyDeps } from '../types.ts';

/**
 * Fixed headers built from secrets: API keys, HTTP Basic, and the `lgspaccesstoken` header some provincial
 * platforms want, base64 of a JSON `{AccessKey, SecretKey, AppName, PartnerCode, PartnerCodeCus}`
 * (domain.md §4). Values are rendered once at create time; `{{name}}` names a secret of `secrets`.
 */
const StaticSchema = Type.Object(
  {
    secrets: Type.Optional(StringMap(SecretRefSchema)),
    /** Header name -> template, e.g. `X-API-Key: '{{apiKey}}'`. */
    headers: Type.Optional(StringMap(Type.String(), { propertyNames: headerNameSchema })),
    /** Header name -> JSON template; the header value is base64 of the rendered JSON. */
    base64Json: Type.Optional(
      StringMap(Type.Record(Type.String(), Type.Unknown()), { propertyNames: headerNameSchema }),
    ),
    /** HTTP Basic, in the Authorization header unless `header` names another. */
    basic: Type.Optional(
      Type.Object(
        {
          username: Type.String(),
          password: Type.String(),
          header: Type.String({ ...headerNameSchema, default: 'authorization' }),
        },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false },
);
export type StaticOptions = Static<typeof StaticSchema>;

export const staticCredentials = definePlugin(StaticSchema, (options, deps: StrategyDeps): CredentialStrategy => {
  const secrets = resolveSecretMap(options.secrets, [...deps.path, 'secrets'], secretSource(deps));
  const headers = new Map<string, string>();
  for (const [name, template] of Object.entries(options.headers ?? {})) {
    headers.set(name, compileTemplate(template, secrets, [...deps.path, 'headers', name]));
  }
  for (const [name, template] of Object.entries(options.base64Json ?? {})) {
    const json = compileJsonTemplate(template, secrets, [...deps.path, 'base64Json', name]);
    headers.set(name, Buffer.from(JSON.stringify(json), 'utf8').toString('base64'));
  }
  if (options.basic) {
    const path = [...deps.path, 'basic'];
    const username = compileTemplate(options.basic.username, secrets, [...path, 'username']);
    const password = compileTemplate(options.basic.password, secrets, [...path, 'password']);
    // RFC 7617: the user-id cannot contain a colon.
    if (username.includes(':'))
      throw new ConfigPathError([...path, 'username'], 'basic', 'a Basic user name cannot contain ":"');
    headers.set(options.basic.header, `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`);
  }
  if (headers.size === 0) {
    throw new ConfigPathError(
      deps.path,
      'static',
      'a static strategy needs at least one of headers, base64Json, basic',
    );
  }
  // What reaches the upstream: every header value, and each secret inside it (a base64 JSON header holds
  // AccessKey/SecretKey, which an upstream may quote decoded).
  const sent = Object.freeze([...headers.values(), ...secrets.values()]);
  return {
    secretValues: () => sent,
    async apply(call) {
      for (const [name, value] of headers) setHeader(call.headers, name, value);
    },
    applyCached(call) {
      for (const [name, value] of headers) setHeader(call.headers, name, value);
      return true;
    },
    // A fixed key refused by the upstream stays refused: nothing to refresh, no replay.
    isTokenRejected: () => false,
    invalidate: () => {},
    describe: () => ({
      strategy: 'static',
      secrets: Object.fromEntries([...secrets.keys()].map((name) => [name, 'set' as const])),
    }),
  };
});

import type { SecretRef } from '../../config/types.ts';
import { ConfigPathError } from '../../config/config-error.ts';
import type { Plugin } from '../../plugin/plugin.ts';
import { headerNameSchema, secretSource, setHeader } from '../common.ts';
import { compileJsonTemplate, compileTemplate, resolveSecretMap, secretRefSchema } from '../secrets.ts';
import type { CredentialStrategy, StrategyDeps } from '../types.ts';

/**
 * Fixed headers built from secrets: API keys, HTTP Basic, and the `lgspaccesstoken` header some provincial
 * platforms want, base64 of a JSON `{AccessKey, SecretKey, AppName, PartnerCode, PartnerCodeCus}`
 * (domain.md §4). Values are rendered once at create time; `{{name}}` names a secret of `secrets`.
 */
export interface StaticOptions {
  secrets?: Record<string, SecretRef>;
  /** Header name -> template, e.g. `X-API-Key: '{{apiKey}}'`. */
  headers?: Record<string, string>;
  /** Header name -> JSON template; the header value is base64 of the rendered JSON. */
  base64Json?: Record<string, unknown>;
  /** HTTP Basic; header defaults to Authorization. */
  basic?: { username: string; password: string; header?: string };
}

export const staticCredentials: Plugin<StaticOptions, StrategyDeps, CredentialStrategy> = {
  schema: {
    type: 'object',
    additionalProperties: false,
    properties: {
      secrets: { type: 'object', additionalProperties: secretRefSchema },
      headers: { type: 'object', propertyNames: headerNameSchema, additionalProperties: { type: 'string' } },
      base64Json: { type: 'object', propertyNames: headerNameSchema, additionalProperties: { type: 'object' } },
      basic: {
        type: 'object',
        additionalProperties: false,
        required: ['username', 'password'],
        properties: { username: { type: 'string' }, password: { type: 'string' }, header: headerNameSchema },
      },
    },
  },

  create(options, deps) {
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
      headers.set(
        options.basic.header ?? 'authorization',
        `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`,
      );
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
  },
};
